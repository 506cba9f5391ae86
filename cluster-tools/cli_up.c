/*
 * cli_up.c -- see cli_up.h.
 */
#include "cluster-tools/cli_up.h"

#include "cluster-tools/cli_check.h"
#include "cluster-tools/cli_client.h"
#include "cluster-tools/cli_proc.h"
#include "cluster-tools/cli_topo.h"
#include "common/mem.h"
#include "common/sbuf.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UP_STATE "slotcache-up.pids"
#define UP_NODES_MAX 3
#define UP_READY_MS 60000   /* a server that does not answer in a minute is broken */
#define UP_INITDB_MS 120000 /* initdb --no-sync takes seconds; slow disks more */
#define UP_PG_START_S "60"  /* pg_ctl -w -t */
#define UP_LOAD_MS 600000   /* data/load of the largest --rows */
#define UP_STOP_MS 15000    /* SIGTERM, then SIGKILL */
#define UP_PORTS_CLOSE_MS 5000
#define UP_POLL_MS 50
#define UP_PG_DIR "postgres" /* the cluster, in the run directory; removed by down */

/* Shared, as-is, with the compose files of docker/. */
#define UP_NODE_CONF "docker/config/node.conf"
#define UP_PROXY_CONF "docker/config/proxy.conf"
#define UP_LOADER_CONF "docker/config/loader.conf"

/* PostgreSQL settings of the throwaway cluster: it holds sample data that
 * data/load recreates, so durability is traded for speed.  No Unix socket:
 * its path would have to fit 107 bytes, and everyone connects over TCP. */
static const char pg_settings[] = "\n# slotcache-cli up\n"
                                  "listen_addresses = '127.0.0.1'\n"
                                  "unix_socket_directories = ''\n"
                                  "fsync = off\n"
                                  "synchronous_commit = off\n"
                                  "full_page_writes = off\n";

struct up {
    const struct up_options *o;
    int mode;
    int nnodes;
    char self[PATH_MAX];   /* this executable */
    char bindir[PATH_MAX]; /* where the servers are: beside it */
    char root[PATH_MAX];   /* the source tree: docker/config, data/load */
    char dir[PATH_MAX];    /* the run directory */
    char pgbin[PATH_MAX];  /* PostgreSQL's server programs */
    int port, node_port[UP_NODES_MAX], node_metrics[UP_NODES_MAX], proxy_metrics, loader_port,
        loader_metrics, pg_port;
    long long kepid; /* a row that exists: koi:<kepid> */
    char failed_log[PATH_MAX];
};

/* A line of the state file: "role pid port starttime [port2]" (port2: a
 * second port the process listens on, its /metrics). */
struct entry {
    char role[32];
    pid_t pid;
    int port, port2;
    unsigned long long start;
};

/* ---- paths ---- */

static int
join(char *out, size_t len, const char *a, const char *b, struct cli_err *err)
{
    if ((size_t)snprintf(out, len, "%s/%s", a, b) >= len) {
        return cli_fail(err, "path too long: %s/%s", a, b);
    }
    return SC_OK;
}

static bool
is_root_dir(const char *d)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", d, UP_PROXY_CONF);
    if (access(p, R_OK) != 0) {
        return false;
    }
    snprintf(p, sizeof(p), "%s/data/load", d);
    return access(p, X_OK) == 0;
}

/* The source tree: SLOTCACHE_ROOT, or the first directory above this
 * executable that has docker/config and data/load (bin/ is one level
 * down, build/asan/bin three). */
static int
find_root(struct up *u, struct cli_err *err)
{
    const char *env = getenv("SLOTCACHE_ROOT");

    if (env != NULL && env[0] != '\0') {
        if (!is_root_dir(env)) {
            return cli_fail(err, "SLOTCACHE_ROOT=%s has no %s and data/load", env, UP_PROXY_CONF);
        }
        snprintf(u->root, sizeof(u->root), "%s", env);
        return SC_OK;
    }
    snprintf(u->root, sizeof(u->root), "%s", u->bindir);
    for (int up = 0; up < 5; up++) {
        char *slash = strrchr(u->root, '/');
        if (slash == NULL || slash == u->root) {
            break;
        }
        *slash = '\0';
        if (is_root_dir(u->root)) {
            return SC_OK;
        }
    }
    return cli_fail(err,
                    "cannot find the slotcache source tree (docker/config, data/load) above %s; "
                    "set SLOTCACHE_ROOT",
                    u->bindir);
}

static int
find_self(struct up *u, struct cli_err *err)
{
    ssize_t n = readlink("/proc/self/exe", u->self, sizeof(u->self) - 1);

    if (n <= 0) {
        return cli_fail(err, "cannot find this program's path: %s", strerror(errno));
    }
    u->self[n] = '\0';
    snprintf(u->bindir, sizeof(u->bindir), "%s", u->self);
    *strrchr(u->bindir, '/') = '\0';
    return find_root(u, err);
}

/* The run directory, created and made absolute. */
static int
set_dir(struct up *u, const char *dir, struct cli_err *err)
{
    char want[PATH_MAX];

    if (dir == NULL) {
        if (join(want, sizeof(want), u->root, "run", err) != SC_OK) {
            return SC_ERR;
        }
    } else {
        snprintf(want, sizeof(want), "%s", dir);
    }
    if (mkdir(want, 0755) != 0 && errno != EEXIST) {
        return cli_fail(err, "cannot create the run directory %s: %s", want, strerror(errno));
    }
    if (realpath(want, u->dir) == NULL) {
        return cli_fail(err, "%s: %s", want, strerror(errno));
    }
    return SC_OK;
}

/* ---- the state file ---- */

static int
record(const struct up *u, const char *role, pid_t pid, int port, int port2, struct cli_err *err)
{
    char path[PATH_MAX];

    if (join(path, sizeof(path), u->dir, UP_STATE, err) != SC_OK) {
        return SC_ERR;
    }
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f, "%s %d %d %llu %d\n", role, (int)pid, port, proc_start_time(pid), port2);
    if (fclose(f) != 0) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    return SC_OK;
}

/* The entries of dir's state file (mem_free *out); *n = 0 if there is
 * none. */
static int
read_state(const char *dir, struct entry **out, int *n, struct cli_err *err)
{
    char path[PATH_MAX], line[256];

    *out = NULL;
    *n = 0;
    if (join(path, sizeof(path), dir, UP_STATE, err) != SC_OK) {
        return SC_ERR;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT ? SC_OK : cli_fail(err, "%s: %s", path, strerror(errno));
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct entry e = {.port2 = 0};
        int pid;
        if (sscanf(line, "%31s %d %d %llu %d", e.role, &pid, &e.port, &e.start, &e.port2) < 4) {
            continue;
        }
        e.pid = pid;
        *out = mem_realloc(*out, (size_t)(*n + 1) * sizeof(**out));
        (*out)[(*n)++] = e;
    }
    fclose(f);
    return SC_OK;
}

/* ---- stopping ---- */

static bool
is_postgres(const struct entry *e)
{
    return strcmp(e->role, "postgres") == 0;
}

static int
count_alive(const struct entry *es, int n)
{
    int alive = 0;

    for (int i = 0; i < n; i++) {
        alive += proc_alive(es[i].pid, es[i].start);
    }
    return alive;
}

/* Signals every live entry, newest first (the proxy before its nodes);
 * PostgreSQL's fast shutdown is SIGINT (its SIGTERM waits for clients). */
static void
signal_all(const struct entry *es, int n, bool hard)
{
    for (int i = n - 1; i >= 0; i--) {
        if (proc_alive(es[i].pid, es[i].start)) {
            int sig = hard ? SIGKILL : is_postgres(&es[i]) ? SIGINT : SIGTERM;
            kill(es[i].pid, sig);
        }
    }
}

static bool
wait_gone(const struct entry *es, int n, long long ms)
{
    long long deadline = cli_now_ms() + ms;

    while (count_alive(es, n) > 0) {
        if (cli_now_ms() > deadline) {
            return false;
        }
        cli_sleep_ms(UP_POLL_MS);
    }
    return true;
}

static int
ports_still_open(const struct entry *es, int n, struct sbuf *open_list)
{
    long long deadline = cli_now_ms() + UP_PORTS_CLOSE_MS;
    int open;

    do {
        open = 0;
        sbuf_reset(open_list);
        for (int i = 0; i < n; i++) {
            int ports[] = {es[i].port, es[i].port2};
            for (size_t j = 0; j < ARRAY_LEN(ports); j++) {
                if (ports[j] > 0 && proc_port_open(ports[j])) {
                    sbuf_printf(open_list, " %d (%s)", ports[j], es[i].role);
                    open++;
                }
            }
        }
        if (open > 0) {
            cli_sleep_ms(UP_POLL_MS);
        }
    } while (open > 0 && cli_now_ms() < deadline);
    return open;
}

/* Stops what dir's state file records, then removes the database and the
 * state file.  quiet: no "stopped" lines (the cleanup of a failed up). */
static int
stop_dir(const char *dir, bool quiet, struct cli_err *err)
{
    struct entry *es;
    int n;
    char path[PATH_MAX];

    if (read_state(dir, &es, &n, err) != SC_OK) {
        return SC_ERR;
    }
    signal_all(es, n, false);
    if (!wait_gone(es, n, UP_STOP_MS)) {
        signal_all(es, n, true);
        wait_gone(es, n, UP_STOP_MS);
    }
    int alive = count_alive(es, n);
    for (int i = n - 1; i >= 0 && !quiet; i--) {
        printf("stopped %-9s pid %-7d port %d\n", es[i].role, (int)es[i].pid, es[i].port);
    }
    struct sbuf open_list;
    sbuf_init(&open_list);
    int open = alive == 0 ? ports_still_open(es, n, &open_list) : 0;
    if (open > 0) {
        fprintf(stderr,
                "slotcache-cli: warning: port(s)%s still accept connections: not ours "
                "any more\n",
                open_list.data);
    }
    sbuf_free(&open_list);
    mem_free(es);
    if (alive > 0) {
        return cli_fail(err, "%d process(es) recorded in %s/%s would not stop", alive, dir,
                        UP_STATE);
    }
    if (join(path, sizeof(path), dir, UP_PG_DIR, err) != SC_OK || proc_rmtree(path, err) != SC_OK ||
        join(path, sizeof(path), dir, UP_STATE, err) != SC_OK) {
        return SC_ERR;
    }
    unlink(path);
    return SC_OK;
}

/* ---- preflight ---- */

static int
check_not_up(const struct up *u, struct cli_err *err)
{
    struct entry *es;
    int n;

    if (read_state(u->dir, &es, &n, err) != SC_OK) {
        return SC_ERR;
    }
    int alive = count_alive(es, n);
    mem_free(es);
    if (alive > 0) {
        return cli_fail(err,
                        "slotcache is already up in %s (%d process(es)); "
                        "'slotcache-cli down --dir %s' stops it",
                        u->dir, alive, u->dir);
    }
    /* Nothing left of an earlier run but its records: start afresh. */
    return stop_dir(u->dir, true, err);
}

static void
plan_ports(struct up *u)
{
    u->port = (int)u->o->port;
    for (int i = 0; i < u->nnodes; i++) {
        u->node_port[i] = u->port + UP_NODE_OFFSET + i;
        u->node_metrics[i] = u->port + UP_NODE_METRICS_OFFSET + i;
    }
    u->proxy_metrics = u->port + UP_PROXY_METRICS_OFFSET;
    u->loader_port = u->port + UP_LOADER_OFFSET;
    u->loader_metrics = u->port + UP_LOADER_METRICS_OFFSET;
    u->pg_port = u->port + UP_POSTGRES_OFFSET;
}

static void
port_check(struct sbuf *taken, int port, const char *what)
{
    if (!proc_port_free(port)) {
        sbuf_printf(taken, "%s%d (%s)", taken->len > 0 ? ", " : "", port, what);
    }
}

static int
check_ports(const struct up *u, struct cli_err *err)
{
    struct sbuf taken;
    char what[32];

    sbuf_init(&taken);
    port_check(&taken, u->port, "proxy");
    for (int i = 0; i < u->nnodes; i++) {
        snprintf(what, sizeof(what), "node %d", i + 1);
        port_check(&taken, u->node_port[i], what);
        snprintf(what, sizeof(what), "node %d metrics", i + 1);
        port_check(&taken, u->node_metrics[i], what);
    }
    port_check(&taken, u->proxy_metrics, "proxy metrics");
    port_check(&taken, u->loader_port, "loader");
    port_check(&taken, u->loader_metrics, "loader metrics");
    port_check(&taken, u->pg_port, "PostgreSQL");
    int rc = SC_OK;
    if (taken.len > 0) {
        rc = cli_fail(err,
                      "port(s) already in use on 127.0.0.1: %s. Stop what holds them, or "
                      "choose other ports with --port N (the proxy's; the others follow)",
                      taken.data);
    }
    sbuf_free(&taken);
    return rc;
}

static int
check_binaries(const struct up *u, struct cli_err *err)
{
    static const char *const progs[] = {"slotcache-node", "slotcache-proxy", "slotcache-loader"};
    char path[PATH_MAX];

    for (size_t i = 0; i < ARRAY_LEN(progs); i++) {
        if (join(path, sizeof(path), u->bindir, progs[i], err) != SC_OK) {
            return SC_ERR;
        }
        if (access(path, X_OK) != 0) {
            return cli_fail(err, "%s is missing: build it first (make)", path);
        }
    }
    return SC_OK;
}

/* The newest /usr/lib/postgresql/N/bin with initdb and pg_ctl (Debian
 * keeps them off PATH). */
static int
find_pgbin(struct up *u, struct cli_err *err)
{
    DIR *d = opendir("/usr/lib/postgresql");
    long best = -1;
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        char p[PATH_MAX];
        long v = strtol(de->d_name, NULL, 10);
        snprintf(p, sizeof(p), "/usr/lib/postgresql/%s/bin/initdb", de->d_name);
        if (v > best && access(p, X_OK) == 0) {
            best = v;
            snprintf(u->pgbin, sizeof(u->pgbin), "/usr/lib/postgresql/%s/bin", de->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    if (best < 0) {
        return cli_fail(err, "PostgreSQL's server programs are not in /usr/lib/postgresql/*/bin "
                             "(package postgresql: scripts/deps.sh)");
    }
    return SC_OK;
}

/* ---- running things ---- */

/* Runs argv to its end with output in log; SC_ERR unless it exits 0. */
static int
run(struct up *u, const char *const *argv, const char *log, const char *const *env,
    bool as_postgres, long long timeout_ms, struct cli_err *err)
{
    struct proc_spawn sp = {argv, log, u->dir, env, as_postgres};
    int status;

    pid_t pid = proc_spawn(&sp, err);
    if (pid < 0) {
        return SC_ERR;
    }
    snprintf(u->failed_log, sizeof(u->failed_log), "%s", log);
    if (proc_wait_exit(pid, timeout_ms, &status, err) != SC_OK) {
        return cli_wrap(err, "%s", argv[0]);
    }
    if (status != 0) {
        return cli_fail(err, "%s failed (exit status %d)", argv[0], status);
    }
    u->failed_log[0] = '\0';
    return SC_OK;
}

typedef bool ready_fn(const struct up *u, int port);

/* Polls until ready(port) or the process exits or time runs out. */
static int
wait_ready(struct up *u, pid_t pid, const char *what, int port, ready_fn *ready, const char *log,
           struct cli_err *err)
{
    long long deadline = cli_now_ms() + UP_READY_MS;
    int status;

    snprintf(u->failed_log, sizeof(u->failed_log), "%s", log);
    while (!ready(u, port)) {
        if (proc_exited(pid, &status)) {
            return cli_fail(err, "%s exited (status %d) before it answered on port %d", what,
                            status, port);
        }
        if (proc_interrupted) {
            return cli_fail(err, "interrupted while waiting for %s", what);
        }
        if (cli_now_ms() > deadline) {
            return cli_fail(err, "%s did not answer on port %d within %d s", what, port,
                            UP_READY_MS / 1000);
        }
        cli_sleep_ms(UP_POLL_MS);
    }
    u->failed_log[0] = '\0';
    return SC_OK;
}

static bool
answers_ping(const struct up *u, int port)
{
    struct cli_err err;
    redisContext *c = client_connect("127.0.0.1", port, &err);

    (void)u;
    if (c == NULL) {
        return false;
    }
    redisReply *r = client_expect(c, REDIS_REPLY_STATUS, &err, "PING");
    bool ok = r != NULL;
    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

static bool
accepts(const struct up *u, int port)
{
    (void)u;
    return proc_port_open(port);
}

/* One of our servers: every one takes its config file, --port and --bind;
 * each adds its metrics port, and loader and proxy the one address they use. */
struct server {
    const char *role; /* in the state file; its log is role.log */
    const char *prog; /* in bindir */
    const char *conf;
    int port, metrics_port; /* metrics_port 0: none */
    const char *flag;       /* "--postgres", "--loader"; NULL: none */
    const char *value;
    ready_fn *ready;
};

/* Starts s, records it, and waits until it answers. */
static int
start_server(struct up *u, const struct server *s, struct cli_err *err)
{
    char prog[PATH_MAX], log[PATH_MAX], name[64], port[16], mport[16], what[96];
    const char *argv[16];
    int n = 0;

    snprintf(name, sizeof(name), "%s.log", s->role);
    if (join(prog, sizeof(prog), u->bindir, s->prog, err) != SC_OK ||
        join(log, sizeof(log), u->dir, name, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(mport, sizeof(mport), "%d", s->metrics_port);
    argv[n++] = prog;
    argv[n++] = s->conf;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    if (s->metrics_port > 0) {
        argv[n++] = "--metrics-port";
        argv[n++] = mport;
        argv[n++] = "--metrics-bind";
        argv[n++] = "127.0.0.1";
    }
    if (s->flag != NULL) {
        argv[n++] = s->flag;
        argv[n++] = s->value;
    }
    argv[n] = NULL;
    struct proc_spawn sp = {argv, log, u->dir, NULL, false};
    pid_t pid = proc_spawn(&sp, err);
    if (pid < 0 || record(u, s->role, pid, s->port, s->metrics_port, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(what, sizeof(what), "%s (%s)", s->prog, s->role);
    return wait_ready(u, pid, what, s->port, s->ready, log, err);
}

/* ---- PostgreSQL ---- */

/* The cluster directory, fresh, owned by postgres when we are root; the
 * log beside it, which pg_ctl opens as postgres. */
static int
pg_prepare(struct up *u, bool as_pg, char *pgdir, char *log, struct cli_err *err)
{
    uid_t uid;
    gid_t gid;

    if (join(pgdir, PATH_MAX, u->dir, UP_PG_DIR, err) != SC_OK ||
        join(log, PATH_MAX, u->dir, "postgres.log", err) != SC_OK ||
        proc_rmtree(pgdir, err) != SC_OK) {
        return SC_ERR;
    }
    if (mkdir(pgdir, 0700) != 0) {
        return cli_fail(err, "cannot create %s: %s", pgdir, strerror(errno));
    }
    FILE *f = fopen(log, "a");
    if (f == NULL) {
        return cli_fail(err, "cannot create %s: %s", log, strerror(errno));
    }
    fclose(f);
    if (as_pg && (proc_postgres_user(&uid, &gid, err) != SC_OK || chown(pgdir, uid, gid) != 0 ||
                  chown(log, uid, gid) != 0)) {
        return err->msg[0] != '\0' ? SC_ERR : cli_fail(err, "chown: %s", strerror(errno));
    }
    return SC_OK;
}

static int
pg_configure(const char *pgdir, int port, struct cli_err *err)
{
    char path[PATH_MAX];

    if (join(path, sizeof(path), pgdir, "data/postgresql.conf", err) != SC_OK) {
        return SC_ERR;
    }
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f, "%sport = %d\n", pg_settings, port);
    if (fclose(f) != 0) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    return SC_OK;
}

static pid_t
pg_postmaster_pid(const char *pgdir)
{
    char path[PATH_MAX];
    struct cli_err err;
    int pid = -1;

    if (join(path, sizeof(path), pgdir, "data/postmaster.pid", &err) != SC_OK) {
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%d", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid;
}

static int
pg_start(struct up *u, struct cli_err *err)
{
    char pgdir[PATH_MAX], log[PATH_MAX], data[PATH_MAX + 8], prog[PATH_MAX + 16];
    bool as_pg = geteuid() == 0;

    if (find_pgbin(u, err) != SC_OK || pg_prepare(u, as_pg, pgdir, log, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(data, sizeof(data), "%s/data", pgdir);
    snprintf(prog, sizeof(prog), "%s/initdb", u->pgbin);
    const char *initdb[] = {prog,       "-D", data,   "-A",        "trust",      "-U",
                            "postgres", "-E", "UTF8", "--no-sync", "--locale=C", NULL};
    if (run(u, initdb, log, NULL, as_pg, UP_INITDB_MS, err) != SC_OK) {
        if (as_pg) {
            return cli_wrap(err,
                            "initdb in %s as user postgres (PostgreSQL refuses root), who must "
                            "be able to enter it and every directory above it: chmod o+x them, "
                            "or choose --dir elsewhere",
                            pgdir);
        }
        return cli_wrap(err, "initdb in %s", pgdir);
    }
    if (pg_configure(pgdir, u->pg_port, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(prog, sizeof(prog), "%s/pg_ctl", u->pgbin);
    const char *pg_ctl[] = {prog, "-D", data, "-l", log, "-w", "-t", UP_PG_START_S, "start", NULL};
    int rc = run(u, pg_ctl, log, NULL, as_pg, UP_READY_MS * 2, err);
    /* Record the postmaster even if pg_ctl gave up waiting: it may run. */
    pid_t pid = pg_postmaster_pid(pgdir);
    if (pid > 0 && record(u, "postgres", pid, u->pg_port, 0, err) != SC_OK) {
        return SC_ERR;
    }
    if (rc != SC_OK) {
        snprintf(u->failed_log, sizeof(u->failed_log), "%s", log);
        return cli_wrap(err, "starting PostgreSQL");
    }
    return SC_OK;
}

/* data/load with libpq's variables aimed at our cluster. */
static int
pg_load(struct up *u, struct cli_err *err)
{
    char prog[PATH_MAX], log[PATH_MAX], rows[24], pgport[32];
    const char *env[] = {"PGHOST=127.0.0.1", pgport, "PGUSER=postgres", "PGDATABASE=postgres",
                         NULL};

    snprintf(pgport, sizeof(pgport), "PGPORT=%d", u->pg_port);
    snprintf(rows, sizeof(rows), "%lld", u->o->rows);
    if (join(prog, sizeof(prog), u->root, "data/load", err) != SC_OK ||
        join(log, sizeof(log), u->dir, "load.log", err) != SC_OK) {
        return SC_ERR;
    }
    const char *load[] = {prog, "--rows", rows, NULL};
    if (run(u, load, log, env, false, UP_LOAD_MS, err) != SC_OK) {
        return cli_wrap(err, "loading the sample data");
    }
    return SC_OK;
}

/* The kepid of row 0, which exists: data/load --print-key 0. */
static int
example_key(struct up *u, struct cli_err *err)
{
    char prog[PATH_MAX], out[PATH_MAX];

    if (join(prog, sizeof(prog), u->root, "data/load", err) != SC_OK ||
        join(out, sizeof(out), u->dir, "example-key.txt", err) != SC_OK) {
        return SC_ERR;
    }
    unlink(out);
    const char *argv[] = {prog, "--print-key", "0", NULL};
    if (run(u, argv, out, NULL, false, UP_READY_MS, err) != SC_OK) {
        return cli_wrap(err, "finding a sample key");
    }
    FILE *f = fopen(out, "r");
    if (f == NULL || fscanf(f, "%lld", &u->kepid) != 1) {
        if (f != NULL) {
            fclose(f);
        }
        return cli_fail(err, "data/load --print-key 0 printed no key (see %s)", out);
    }
    fclose(f);
    return SC_OK;
}

/* ---- the servers ---- */

static int
start_nodes(struct up *u, struct cli_err *err)
{
    char conf[PATH_MAX], role[16];

    if (join(conf, sizeof(conf), u->root, UP_NODE_CONF, err) != SC_OK) {
        return SC_ERR;
    }
    for (int i = 0; i < u->nnodes; i++) {
        snprintf(role, sizeof(role), "node%d", i + 1);
        struct server s = {role,         "slotcache-node", conf, u->node_port[i],
                           u->node_metrics[i], NULL,     NULL, answers_ping};
        if (start_server(u, &s, err) != SC_OK) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
start_loader(struct up *u, struct cli_err *err)
{
    char conf[PATH_MAX], pg[128];

    if (join(conf, sizeof(conf), u->root, UP_LOADER_CONF, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(pg, sizeof(pg), "host=127.0.0.1 port=%d user=postgres dbname=postgres", u->pg_port);
    struct server s = {"loader",          "slotcache-loader", conf, u->loader_port,
                       u->loader_metrics, "--postgres",       pg,   accepts};
    return start_server(u, &s, err);
}

/* The proxy's config: docker/config/proxy.conf plus the shard map. */
static int
write_proxy_conf(const struct up *u, const char *path, struct cli_err *err)
{
    char base[PATH_MAX], addrs[UP_NODES_MAX][NET_ADDR_MAX];
    const char *argv[UP_NODES_MAX];
    struct topo t;
    struct sbuf text;
    int rc = SC_ERR;

    for (int i = 0; i < u->nnodes; i++) {
        snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d", u->node_port[i]);
        argv[i] = addrs[i];
    }
    topo_init(&t);
    sbuf_init(&text);
    if (join(base, sizeof(base), u->root, UP_PROXY_CONF, err) == SC_OK &&
        topo_create(&t, u->mode, argv, u->nnodes, 0, err) == SC_OK &&
        topo_config_text(&t, base, &text, err) == SC_OK) {
        FILE *f = fopen(path, "w");
        if (f == NULL || fwrite(text.data, 1, text.len, f) != text.len) {
            cli_fail(err, "cannot write %s: %s", path, strerror(errno));
        } else {
            rc = SC_OK;
        }
        if (f != NULL && fclose(f) != 0 && rc == SC_OK) {
            rc = cli_fail(err, "cannot write %s: %s", path, strerror(errno));
        }
    }
    sbuf_free(&text);
    topo_free(&t);
    return rc;
}

static int
start_proxy(struct up *u, struct cli_err *err)
{
    char conf[PATH_MAX], loader[32];

    if (join(conf, sizeof(conf), u->dir, "proxy.conf", err) != SC_OK ||
        write_proxy_conf(u, conf, err) != SC_OK) {
        return SC_ERR;
    }
    snprintf(loader, sizeof(loader), "127.0.0.1:%d", u->loader_port);
    struct server s = {"proxy",          "slotcache-proxy", conf,   u->port,
                       u->proxy_metrics, "--loader",        loader, answers_ping};
    return start_server(u, &s, err);
}

/* The end-to-end proof: a key nobody wrote reads through the proxy, the
 * loader and PostgreSQL. */
static int
read_example(struct up *u, struct cli_err *err)
{
    long long deadline = cli_now_ms() + UP_READY_MS;
    char last[256] = "no reply";

    for (;;) {
        redisContext *c = client_connect("127.0.0.1", u->port, err);
        redisReply *r = c != NULL ? client_call(c, err, "GET koi:%lld", u->kepid) : NULL;
        bool ok = r != NULL && r->type == REDIS_REPLY_STRING;
        if (r != NULL) {
            snprintf(last, sizeof(last), "%s", r->type == REDIS_REPLY_ERROR ? r->str : "nil");
            freeReplyObject(r);
        }
        if (c != NULL) {
            redisFree(c);
        }
        if (ok) {
            return SC_OK;
        }
        if (proc_interrupted || cli_now_ms() > deadline) {
            join(u->failed_log, sizeof(u->failed_log), u->dir, "loader.log", err);
            return cli_fail(err, "GET koi:%lld through the proxy did not return the row (%s)",
                            u->kepid, last);
        }
        cli_sleep_ms(UP_POLL_MS * 4);
    }
}

/* ---- up ---- */

/* How to run this cli again, as the user typed it when it is under the
 * current directory. */
static const char *
self_name(const struct up *u, char *buf, size_t len)
{
    char cwd[PATH_MAX];
    size_t n;

    if (getcwd(cwd, sizeof(cwd)) != NULL && (n = strlen(cwd)) > 0 &&
        strncmp(u->self, cwd, n) == 0 && u->self[n] == '/') {
        snprintf(buf, len, "%s", u->self + n + 1);
        return buf;
    }
    return u->self;
}

static void
print_summary(const struct up *u)
{
    char self[PATH_MAX];
    const char *cli = self_name(u, self, sizeof(self));

    printf("\nslotcache is up: %s, %d node(s), run directory %s\n", topo_mode_name(u->mode),
           u->nnodes, u->dir);
    printf("  proxy       127.0.0.1:%-5d  metrics http://127.0.0.1:%d/metrics\n", u->port,
           u->proxy_metrics);
    for (int i = 0; i < u->nnodes; i++) {
        unsigned lo = 0, hi = SLOT_COUNT - 1;
        if (u->mode == TOPO_PARTITIONED) {
            slots_even_part(i, u->nnodes, &lo, &hi);
        }
        printf("  node %d      127.0.0.1:%-5d  metrics http://127.0.0.1:%d/metrics  %s, slots %u-%u\n",
               i + 1, u->node_port[i], u->node_metrics[i],
               u->mode == TOPO_REPLICATED ? "replica" : "primary", lo, hi);
    }
    printf("  loader      127.0.0.1:%-5d  metrics http://127.0.0.1:%d/metrics\n", u->loader_port,
           u->loader_metrics);
    printf("  postgres    127.0.0.1:%-5d  %lld rows in table koi "
           "(psql -h 127.0.0.1 -p %d -U postgres)\n",
           u->pg_port, u->o->rows, u->pg_port);
    printf("\nPoint redis-cli at the proxy; koi:<kepid> is read through from PostgreSQL:\n");
    printf("  redis-cli -p %d GET koi:%lld\n", u->port, u->kepid);
    printf("  %s check --port %d\n", cli, u->port);
    printf("  %s info --port %d\n", cli, u->port);
    printf("Stop it with: %s down%s%s\n", cli, u->o->dir != NULL ? " --dir " : "",
           u->o->dir != NULL ? u->dir : "  (or make down)");
}

static int
up_steps(struct up *u, struct cli_err *err)
{
    printf("starting PostgreSQL on 127.0.0.1:%d ...\n", u->pg_port);
    if (pg_start(u, err) != SC_OK) {
        return SC_ERR;
    }
    printf("loading %lld sample rows (data/load) ...\n", u->o->rows);
    if (pg_load(u, err) != SC_OK || example_key(u, err) != SC_OK) {
        return SC_ERR;
    }
    printf("starting %d node(s), the loader and the proxy ...\n", u->nnodes);
    if (start_nodes(u, err) != SC_OK || start_loader(u, err) != SC_OK ||
        start_proxy(u, err) != SC_OK) {
        return SC_ERR;
    }
    return read_example(u, err);
}

static int
up_prepare(struct up *u, const struct up_options *o, struct cli_err *err)
{
    memset(u, 0, sizeof(*u));
    u->o = o;
    u->mode = topo_mode_parse(o->topology);
    if (u->mode < 0) {
        return cli_fail(err, "unknown topology '%s' (central, partitioned or replicated)",
                        o->topology);
    }
    u->nnodes = u->mode == TOPO_CENTRAL ? 1 : UP_NODES_MAX;
    plan_ports(u);
    if (find_self(u, err) != SC_OK || check_binaries(u, err) != SC_OK ||
        set_dir(u, o->dir, err) != SC_OK || check_not_up(u, err) != SC_OK) {
        return SC_ERR;
    }
    return check_ports(u, err);
}

int
up_run(const struct up_options *o, struct cli_err *err)
{
    struct up *u = mem_calloc(1, sizeof(*u));

    if (up_prepare(u, o, err) != SC_OK) {
        mem_free(u);
        return CLI_EXIT_FAIL;
    }
    proc_catch_signals();
    if (up_steps(u, err) != SC_OK) {
        struct cli_err ignored;
        if (u->failed_log[0] != '\0') {
            proc_print_log_tail(u->failed_log);
        }
        fprintf(stderr, "slotcache-cli: up failed; stopping what it started\n");
        stop_dir(u->dir, true, &ignored);
        mem_free(u);
        return CLI_EXIT_FAIL;
    }
    print_summary(u);
    mem_free(u);
    return CLI_EXIT_OK;
}

/* ---- down ---- */

int
down_run(const char *dir, struct cli_err *err)
{
    struct up *u = mem_calloc(1, sizeof(*u));
    int rc = CLI_EXIT_FAIL;
    struct stat st;
    char state[PATH_MAX];

    if (dir == NULL && find_self(u, err) != SC_OK) {
        goto done;
    }
    if (dir == NULL) {
        if (join(u->dir, sizeof(u->dir), u->root, "run", err) != SC_OK) {
            goto done;
        }
    } else {
        snprintf(u->dir, sizeof(u->dir), "%s", dir);
    }
    if (stat(u->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_fail(err, "%s is not a run directory of slotcache-cli up", u->dir);
        goto done;
    }
    if (join(state, sizeof(state), u->dir, UP_STATE, err) != SC_OK) {
        goto done;
    }
    if (access(state, F_OK) != 0) {
        printf("nothing to stop: %s has no %s\n", u->dir, UP_STATE);
        rc = CLI_EXIT_OK;
        goto done;
    }
    proc_catch_signals();
    rc = stop_dir(u->dir, false, err) == SC_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
done:
    mem_free(u);
    return rc;
}
