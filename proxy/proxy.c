/*
 * proxy.c -- see proxy.h.
 */
#include "proxy/proxy.h"

#include "common/buf.h"
#include "common/fdlimit.h"
#include "common/http.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/reply.h"
#include "common/resp.h"
#include "common/sbuf.h"
#include "common/util.h"
#include "proxy/back.h"
#include "proxy/acl.h"
#include "proxy/cmdtab.h"
#include "proxy/latstats.h"
#include "proxy/front.h"
#include "proxy/health.h"
#include "proxy/loader_client.h"
#include "proxy/migrate.h"
#include "proxy/msg.h"
#include "proxy/readthru.h"
#include "proxy/router.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define PROXY_CRON_HZ 10

struct proxy proxy;

static struct listener listener;
static struct listener tls_listener;
static struct http_server metrics;
static const struct stats_desc metric_desc[] = {PROXY_METRICS(STATS_DESC)};

long long
proxy_now_us(void)
{
    return (long long)(ev_now(proxy.loop) * 1000000.0);
}

long long
proxy_now_ms(void)
{
    return proxy_now_us() / 1000;
}

/* Memory the proxy itself holds (INFO memory of the nodes is theirs:
 * "Node figures" has each node's used_memory).  Free pooled buffers are
 * spare memory, as in the node. */
static size_t
used_memory(void)
{
    size_t used = mem_used() - buf_pool_bytes();

    proxy.peak_memory = MAX(proxy.peak_memory, used);
    return used;
}

/* ---- options ---- */

static const struct conf_enum modes[] = {
    {"central", MODE_CENTRAL}, {"partitioned", MODE_PARTITIONED}, {"replicated", MODE_REPLICATED},
    {NULL, 0},
};

static const struct conf_enum loglevels[] = {
    {"debug", LL_DEBUG},     {"verbose", LL_VERBOSE}, {"notice", LL_NOTICE},
    {"warning", LL_WARNING}, {"nothing", LL_NOTHING}, {NULL, 0},
};

static void
append_line(char ***list, int *n, const char *line)
{
    *list = mem_realloc(*list, (size_t)(*n + 1) * sizeof(char *));
    (*list)[(*n)++] = mem_strdup(line);
}

static void
free_lines(char ***list, int *n)
{
    for (int i = 0; i < *n; i++) {
        mem_free((*list)[i]);
    }
    mem_free(*list);
    *list = NULL;
    *n = 0;
}

static int
set_node(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    (void)o;
    for (int i = 0; i < argc; i++) {
        char host[NET_ADDR_MAX];
        int port;
        if (!net_parse_hostport(argv[i], host, sizeof(host), &port) || port == 0) {
            snprintf(err, errlen, "'%s' is not HOST:PORT", argv[i]);
            return SC_ERR;
        }
        append_line(&proxy.rcfg.nodes, &proxy.rcfg.nnodes, argv[i]);
    }
    if (argc == 0) {
        snprintf(err, errlen, "node takes HOST:PORT");
        return SC_ERR;
    }
    return SC_OK;
}

static size_t
get_lines(char **list, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", list[i]);
    }
    return MIN(used, len - 1);
}

static size_t
get_node(const struct conf_option *o, char *buf, size_t len)
{
    (void)o;
    return get_lines(proxy.rcfg.nodes, proxy.rcfg.nnodes, buf, len);
}

static int
set_shard(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    struct sbuf line;

    (void)o;
    if (argc < 2) {
        snprintf(err, errlen, "shard takes SLOTS PRIMARY [REPLICA...]");
        return SC_ERR;
    }
    sbuf_init(&line);
    for (int i = 0; i < argc; i++) {
        sbuf_printf(&line, "%s%s", i > 0 ? " " : "", argv[i]);
    }
    append_line(&proxy.rcfg.shards, &proxy.rcfg.nshards, line.data);
    sbuf_free(&line);
    return SC_OK;
}

static size_t
get_shard(const struct conf_option *o, char *buf, size_t len)
{
    (void)o;
    return get_lines(proxy.rcfg.shards, proxy.rcfg.nshards, buf, len);
}

static int
set_user(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    char line[1400];

    (void)o;
    if (acl_check_line(argc, argv, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    if ((size_t)snprintf(line, sizeof(line), "%s %s %s", argv[0], argv[1], argv[2]) >=
        sizeof(line)) {
        snprintf(err, errlen, "user line too long");
        return SC_ERR;
    }
    append_line(&proxy.users, &proxy.nusers, line);
    return SC_OK;
}

/* Names and roles only: CONFIG GET and --help never show a password. */
static size_t
get_user(const struct conf_option *o, char *buf, size_t len)
{
    size_t used = 0;

    (void)o;
    buf[0] = '\0';
    for (int i = 0; i < proxy.nusers && used < len; i++) {
        char name[256], role[32];
        if (sscanf(proxy.users[i], "%255s %31s", name, role) == 2) {
            used += (size_t)snprintf(buf + used, len - used, "%s%s %s", i > 0 ? ", " : "", name,
                                     role);
        }
    }
    return MIN(used, len - 1);
}

static int
set_quorum(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    long long n;

    (void)o;
    if (argc != 1) {
        snprintf(err, errlen, "write-quorum takes all, majority or a number");
        return SC_ERR;
    }
    if (strcasecmp(argv[0], "all") == 0) {
        proxy.opt.write_quorum = PROXY_QUORUM_ALL;
    } else if (strcasecmp(argv[0], "majority") == 0) {
        proxy.opt.write_quorum = PROXY_QUORUM_MAJORITY;
    } else if (util_str2ll(argv[0], strlen(argv[0]), &n) && n >= 1) {
        proxy.opt.write_quorum = n;
    } else {
        snprintf(err, errlen, "write-quorum takes all, majority or a number >= 1");
        return SC_ERR;
    }
    return SC_OK;
}

static size_t
get_quorum(const struct conf_option *o, char *buf, size_t len)
{
    (void)o;
    long long q = proxy.opt.write_quorum;
    int n = q == PROXY_QUORUM_ALL        ? snprintf(buf, len, "all")
            : q == PROXY_QUORUM_MAJORITY ? snprintf(buf, len, "majority")
                                         : snprintf(buf, len, "%lld", q);
    return n < 0 ? 0 : MIN((size_t)n, len - 1);
}

const struct conf_option proxy_options[] = {
    CONF_INT_OPT("port", &proxy.opt.port, "7000", 0, 65535, 0, NULL,
                 "TCP port clients connect to (0: none if tls-port is set, else pick a free one)"),
    CONF_INT_OPT("tls-port", &proxy.opt.tls_port, "0", 0, 65535, 0, NULL,
                 "TLS port clients connect to (0: none)"),
    TLS_CONF_OPTIONS(proxy.opt.tls),
    TLS_CONF_CLIENT_OPTIONS(proxy.opt.tls),
    CONF_BOOL_OPT("tls-nodes", &proxy.opt.tls_nodes, "no", 0, NULL,
                  "connect to the nodes over TLS, verifying them by tls-ca-cert-file/dir and "
                  "presenting tls-client-cert-file (or tls-cert-file)"),
    CONF_STR_OPT("bind", &proxy.opt.bind, "127.0.0.1", 0, NULL,
                 "addresses to listen on, separated by spaces"),
    CONF_ENUM_OPT("mode", &proxy.rcfg.mode, "central", modes, 0, NULL,
                  "central, partitioned or replicated"),
    CONF_CUSTOM_OPT("node", NULL, set_node, get_node, 0, NULL,
                    "HOST:PORT of a node (central: one; replicated: each replica)"),
    CONF_CUSTOM_OPT("shard", NULL, set_shard, get_shard, 0, NULL,
                    "partitioned: SLOTS PRIMARY [REPLICA...], SLOTS like 0-5460 or 0-100,200-300"),
    CONF_STR_OPT("requirepass", &proxy.opt.requirepass, "", 0, NULL,
                 "password of the default user (empty: none)"),
    CONF_CUSTOM_OPT("user", NULL, set_user, get_user, 0, NULL,
                    "NAME ROLE PASSWORD: a client login; ROLE readonly, readwrite or admin, "
                    "PASSWORD nopass for none (repeat the line for more users)"),
    CONF_STR_OPT("node-password", &proxy.opt.node_password, "", 0, NULL,
                 "password the proxy AUTHs to nodes with (empty: none)"),
    CONF_INT_OPT("node-timeout", &proxy.opt.node_timeout_ms, "1000", 10, INT_MAX, 0, NULL,
                 "ms a node may take to answer before it is marked down"),
    CONF_INT_OPT("health-interval", &proxy.opt.health_interval_ms, "500", 10, INT_MAX, 0, NULL,
                 "ms between health checks (PING) of every node"),
    CONF_CUSTOM_OPT("write-quorum", "all", set_quorum, get_quorum, 0, NULL,
                    "replicas that must acknowledge a write: all, majority or N"),
    CONF_INT_OPT("read-retries", &proxy.opt.read_retries, "2", 0, 16, 0, NULL,
                 "times a read that failed with its node is retried on another replica"),
    CONF_STR_OPT("loader", &loader_opts.addr, "", 0, NULL,
                 "HOST:PORT of slotcache-loader: misses of its routes are read from the database"),
    CONF_STR_OPT("loader-secret", &loader_opts.secret, "", 0, NULL,
                 "shared secret the loader requires (empty: none)"),
    CONF_INT_OPT("loader-timeout", &loader_opts.timeout_ms, "2000", 10, INT_MAX, 0, NULL,
                 "ms a load may take before the client gets an error"),
    CONF_INT_OPT("loader-ping-interval", &loader_opts.ping_ms, "2000", 10, INT_MAX, 0, NULL,
                 "ms between Pings of the loader (liveness and its routes)"),
    CONF_INT_OPT("negative-cache-ttl", &readthru_opts.negative_ttl_ms, "5000", 0, INT_MAX, 0,
                 NULL, "ms a key the database has no row for answers nil without a query"),
    CONF_INT_OPT("metrics-port", &proxy.opt.metrics_port, "0", 0, 65535, 0, NULL,
                 "HTTP port serving Prometheus /metrics (0: off)"),
    CONF_STR_OPT("metrics-bind", &proxy.opt.metrics_bind, "127.0.0.1", 0, NULL,
                 "address of the metrics port"),
    CONF_INT_OPT("maxclients", &proxy.opt.maxclients, "10000", 1, INT_MAX, 0, NULL,
                 "connections beyond this get -ERR max number of clients reached"),
    CONF_INT_OPT("timeout", &proxy.opt.timeout, "0", 0, INT_MAX, 0, NULL,
                 "close clients idle this many seconds (0: never)"),
    CONF_INT_OPT("tcp-backlog", &proxy.opt.tcp_backlog, "511", 0, INT_MAX, 0, NULL,
                 "listen() backlog"),
    CONF_INT_OPT("tcp-keepalive", &proxy.opt.tcp_keepalive, "300", 0, INT_MAX, 0, NULL,
                 "TCP keepalive interval in seconds (0: off)"),
    CONF_MEM_RANGE_OPT("proto-max-bulk-len", &proxy.opt.proto_max_bulk_len, "512mb", 1 << 20, 0,
                       NULL, "largest bulk string a client may send"),
    CONF_MEM_RANGE_OPT("client-query-buffer-limit", &proxy.opt.query_buffer_limit, "1gb",
                       1 << 20, 0, NULL, "close a client whose unprocessed input exceeds this"),
    OBUF_LIMIT_OPT(proxy.opt.obuf, OBUF_DEFAULT, 0,
                   "normal <hard> <soft> <soft-seconds>: close clients that do not read their "
                   "replies (0: no limit)"),
    CONF_STR_OPT("logfile", &proxy.opt.logfile, "", 0, NULL, "log file (empty: stderr)"),
    CONF_ENUM_OPT("loglevel", &proxy.opt.loglevel, "notice", loglevels, 0, NULL,
                  "debug, verbose, notice or warning"),
    CONF_STR_OPT("pidfile", &proxy.opt.pidfile, "", 0, NULL, "write the pid here"),
    CONF_END,
};

static struct router *
build_router(char *err, size_t errlen)
{
    return router_build(&proxy.rcfg, err, errlen);
}

static struct acl_table *
build_users(char *err, size_t errlen)
{
    return acl_build(proxy.users, proxy.nusers, proxy.opt.requirepass, err, errlen);
}

/* New users for everyone: a connection keeps its login if its user is still
 * there, and is closed if not (redis's ACL DELUSER does the same). */
static void
install_users(struct acl_table *t)
{
    struct acl_table *old = acl_install(t);

    for (struct conn *k = proxy.conns.all; k != NULL; k = k->next) {
        front_user_changed(front_of(k));
    }
    acl_free(old);
}

void
proxy_configure(int argc, char **argv)
{
    char err[1024];

    conf_defaults(proxy_options);
    if (conf_load_args(proxy_options, argc, argv, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "slotcache-proxy: %s\n", err);
        exit(1);
    }
    if (argc > 0 && strncmp(argv[0], "--", 2) != 0) {
        char *abs = realpath(argv[0], NULL);
        proxy.config_file = mem_strdup(abs != NULL ? abs : argv[0]);
        free(abs);
    }
}

void
proxy_config_free(void)
{
    free_lines(&proxy.rcfg.nodes, &proxy.rcfg.nnodes);
    free_lines(&proxy.rcfg.shards, &proxy.rcfg.nshards);
    free_lines(&proxy.users, &proxy.nusers);
    conf_free(proxy_options);
}

int
proxy_reload(char *err, size_t errlen)
{
    struct router_config saved = proxy.rcfg;
    char **saved_users = proxy.users;
    int saved_nusers = proxy.nusers;

    if (proxy.config_file == NULL) {
        snprintf(err, errlen, "the proxy was started without a config file");
        return SC_ERR;
    }
    proxy.rcfg.nodes = proxy.rcfg.shards = NULL;
    proxy.rcfg.nnodes = proxy.rcfg.nshards = 0;
    proxy.users = NULL;
    proxy.nusers = 0;
    struct router *r = NULL;
    struct acl_table *users = NULL;
    if (conf_load_file(proxy_options, proxy.config_file, err, errlen) == SC_OK &&
        (users = build_users(err, errlen)) != NULL) {
        r = build_router(err, errlen);
    }
    if (r == NULL) {
        free_lines(&proxy.rcfg.nodes, &proxy.rcfg.nnodes);
        free_lines(&proxy.rcfg.shards, &proxy.rcfg.nshards);
        free_lines(&proxy.users, &proxy.nusers);
        proxy.rcfg = saved;
        proxy.users = saved_users;
        proxy.nusers = saved_nusers;
        acl_free(users);
        log_warn("config reload failed, keeping the running shard map and users: %s", err);
        return SC_ERR;
    }
    free_lines(&saved.nodes, &saved.nnodes);
    free_lines(&saved.shards, &saved.nshards);
    free_lines(&saved_users, &saved_nusers);
    install_users(users);
    router_install(r);
    proxy.stats[STAT_config_reloads]++;
    log_notice("config reloaded: mode %s, %d shard(s)", modes[r->mode].name, r->nshards);
    return SC_OK;
}

void
proxy_config_topology_changed(void)
{
    struct sbuf line;

    free_lines(&proxy.rcfg.nodes, &proxy.rcfg.nnodes);
    free_lines(&proxy.rcfg.shards, &proxy.rcfg.nshards);
    proxy.rcfg.mode = router->mode;
    sbuf_init(&line);
    for (int i = 0; i < router->nshards; i++) {
        sbuf_reset(&line);
        router_shard_line(router->shards[i], &line);
        append_line(&proxy.rcfg.shards, &proxy.rcfg.nshards, line.data != NULL ? line.data : "");
    }
    sbuf_free(&line);
}

/* ---- node authentication ---- */

static void
auth_done(struct msg *m)
{
    if (!(m->flags & MSG_FAILED) && (m->flags & MSG_ERROR) && m->member != NULL) {
        char why[200];
        snprintf(why, sizeof(why), "AUTH refused: %.*s", (int)MIN(m->rsp.len, 120) - 2,
                 m->rsp.p + 1);
        back_fail(m->member->conn, why);
    }
}

void
proxy_auth_node(struct back *b)
{
    const char *pw = proxy.opt.node_password;
    struct bufq *out = front_out();
    struct msg *m = msg_get();

    resp_add_array(out, 2);
    resp_add_bulk(out, "AUTH", 4);
    resp_add_bulk(out, pw, strlen(pw));
    m->req = front_take_out();
    m->on_done = auth_done;
    back_send_first(b, m);
    msg_put(&m);
}

/* ---- listeners, loop hooks ---- */

/* A connection beyond maxclients, or one accepted when descriptors ran
 * out (the listener's on_full): redis's error, then closed. */
static void
refuse_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    (void)peer;
    listener_refuse(fd, tls, "-" ERR_MAXCLIENTS "\r\n");
    proxy.stats[STAT_rejected_connections]++;
}

/* A connection on either port; tls is the TLS port's context or NULL. */
static void
on_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    if (proxy.conns.n >= (uint64_t)proxy.opt.maxclients) {
        refuse_connection(fd, peer, tls);
        return;
    }
    proxy.stats[STAT_total_connections_received]++;
    front_create(fd, tls != NULL ? tls_create(tls, fd) : NULL, peer);
}

/* The TLS contexts: clients' (tls-port) and nodes' (tls-nodes). */
static int
setup_tls(char *err, size_t errlen)
{
    if (proxy.opt.tls_port > 0) {
        proxy.tls_server = tls_ctx_create(&proxy.opt.tls, TLS_SERVER, err, errlen);
        if (proxy.tls_server == NULL) {
            return SC_ERR;
        }
    }
    if (proxy.opt.tls_nodes) {
        proxy.tls_client = tls_ctx_create(&proxy.opt.tls, TLS_CLIENT, err, errlen);
        if (proxy.tls_client == NULL) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static void
on_cron(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    long long now_us = proxy_now_us();
    for (struct member *m = router_members(); m != NULL; m = m->next) {
        back_check_timeout(m->conn, now_us, proxy.opt.node_timeout_ms);
    }
    loader_client_cron();
    readthru_cron();
    stats_rate_sample(&proxy.ops_rate, proxy.stats[STAT_total_commands_processed], now_us / 1000);
    used_memory(); /* samples the peak */
    if (proxy.opt.timeout > 0) {
        for (struct conn *k = proxy.conns.all; k != NULL; k = k->next) {
            struct front *c = front_of(k);
            if (now_us / 1000 - c->conn.last_io_ms > proxy.opt.timeout * 1000 && c->qhead == NULL) {
                front_close_async(c);
            }
        }
    }
    listener_resume(&listener);
    listener_resume(&tls_listener);
}

static void
on_before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    if (proxy.reload_asap) {
        char err[512];
        proxy.reload_asap = false;
        proxy_reload(err, sizeof(err));
    }
    back_flush_all();
    loader_client_flush();
    bool closing = proxy.conns.to_close != NULL;
    front_flush_all();
    if (closing) {
        listener_resume(&listener);
        listener_resume(&tls_listener);
    }
    if (proxy.shutdown_asap) {
        ev_break(loop, EVBREAK_ALL);
    }
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    if (w->signum == SIGHUP) {
        log_notice("Received SIGHUP, reloading the config");
        proxy.reload_asap = true;
        return;
    }
    log_warn("Received %s scheduling shutdown...", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    proxy_shutdown();
}

void
proxy_shutdown(void)
{
    proxy.shutdown_asap = true;
}

static bool
metrics_page(const char *path, struct sbuf *body, const char **type)
{
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4";
        proxy_metrics(body);
        return true;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/info") == 0) {
        proxy_info(body, "all");
        return true;
    }
    return false;
}

/* Makes the open-file limit fit maxclients plus the proxy's own
 * descriptors: redis's reserve, a connection per node and one to the
 * loader.  Lowers maxclients when the limit cannot be raised. */
static int
fit_open_files(void)
{
    struct fdlimit_result r;
    int reserved = FDLIMIT_RESERVED + 1;

    for (struct member *m = router_members(); m != NULL; m = m->next) {
        reserved++;
    }
    fdlimit_fit(proxy.opt.maxclients, reserved, &r);
    fdlimit_report(&r);
    if (r.status == FDLIMIT_TOO_LOW) {
        return SC_ERR;
    }
    proxy.opt.maxclients = r.maxclients;
    return SC_OK;
}

int
proxy_setup(void)
{
    char err[1024];
    uint8_t r[20];

    if (log_setup(proxy.opt.logfile, proxy.opt.loglevel, 'P') != SC_OK) {
        fprintf(stderr, "slotcache-proxy: can't open the log file %s: %s\n", proxy.opt.logfile,
                strerror(errno));
        return SC_ERR;
    }
    proxy.loop = EV_DEFAULT;
    proxy.conns.loop = proxy.loop;
    ev_now_update(proxy.loop);
    proxy.start_ms = proxy_now_ms();
    if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
        return SC_ERR;
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        snprintf(proxy.run_id + i * 2, 3, "%02x", r[i]);
    }
    srandom((unsigned)(r[0] | r[1] << 8 | r[2] << 16) ^ (unsigned)getpid());
    if (setup_tls(err, sizeof(err)) != SC_OK) {
        log_warn("Failed to configure TLS: %s", err);
        return SC_ERR;
    }
    cmdtab_setup();
    msg_setup();
    front_setup();
    readthru_setup();
    struct acl_table *users = build_users(err, sizeof(err));
    if (users == NULL) {
        fprintf(stderr, "slotcache-proxy: %s\n", err);
        return SC_ERR;
    }
    acl_free(acl_install(users));
    struct router *rt = build_router(err, sizeof(err));
    if (rt == NULL) {
        fprintf(stderr, "slotcache-proxy: %s\n", err);
        log_warn("bad topology: %s", err);
        return SC_ERR;
    }
    router_install(rt);
    if (fit_open_files() != SC_OK) {
        return SC_ERR;
    }
    if (listener_open_ports(&listener, &tls_listener, proxy.loop, proxy.opt.bind,
                            (int)proxy.opt.port, (int)proxy.opt.tls_port, proxy.tls_server,
                            (int)proxy.opt.tcp_backlog, on_connection, err, sizeof(err)) != SC_OK) {
        log_warn("Could not create the listening socket: %s", err);
        return SC_ERR;
    }
    listener.on_full = tls_listener.on_full = refuse_connection;
    proxy.bound_port = listener.port;
    metrics.fd = -1;
    if (proxy.opt.metrics_port > 0 &&
        http_listen(&metrics, proxy.loop, proxy.opt.metrics_bind, (int)proxy.opt.metrics_port,
                    metrics_page, err, sizeof(err)) != SC_OK) {
        log_warn("Could not open the metrics port: %s", err);
        return SC_ERR;
    }
    if (proxy.opt.pidfile[0] != '\0') {
        FILE *f = fopen(proxy.opt.pidfile, "w");
        if (f != NULL) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    if (loader_client_setup(proxy.loop) != SC_OK) {
        log_warn("loader address '%s' is not HOST:PORT", loader_opts.addr);
        return SC_ERR;
    }
    health_setup();
    ev_timer_init(&proxy.cron, on_cron, 1.0 / PROXY_CRON_HZ, 1.0 / PROXY_CRON_HZ);
    ev_timer_start(proxy.loop, &proxy.cron);
    ev_prepare_init(&proxy.before_sleep, on_before_sleep);
    ev_prepare_start(proxy.loop, &proxy.before_sleep);
    ev_signal_init(&proxy.sig_term, on_signal, SIGTERM);
    ev_signal_start(proxy.loop, &proxy.sig_term);
    ev_signal_init(&proxy.sig_int, on_signal, SIGINT);
    ev_signal_start(proxy.loop, &proxy.sig_int);
    ev_signal_init(&proxy.sig_hup, on_signal, SIGHUP);
    ev_signal_start(proxy.loop, &proxy.sig_hup);
    log_notice("slotcache-proxy (mode %s, %d shard(s)%s) ready", modes[rt->mode].name,
               rt->nshards, proxy.opt.tls_nodes ? ", TLS to nodes" : "");
    if (listener.n > 0) {
        log_notice("Ready to accept connections tcp port=%d", proxy.bound_port);
    }
    if (tls_listener.n > 0) {
        log_notice("Ready to accept connections tls port=%d", tls_listener.port);
    }
    return SC_OK;
}

void
proxy_run(void)
{
    ev_run(proxy.loop, 0);
}

void
proxy_teardown(void)
{
    log_notice("slotcache-proxy is now ready to exit, bye bye...");
    proxy.tearing_down = true;
    while (proxy.conns.all != NULL) {
        front_free(front_of(proxy.conns.all));
    }
    proxy.conns.pending_write = proxy.conns.to_close = NULL;
    listener_close(&listener);
    listener_close(&tls_listener);
    http_close(&metrics);
    health_teardown();
    ev_timer_stop(proxy.loop, &proxy.cron);
    ev_prepare_stop(proxy.loop, &proxy.before_sleep);
    ev_signal_stop(proxy.loop, &proxy.sig_term);
    ev_signal_stop(proxy.loop, &proxy.sig_int);
    ev_signal_stop(proxy.loop, &proxy.sig_hup);
    loader_client_teardown();
    migrate_teardown();
    router_teardown();
    readthru_teardown();
    msg_teardown();
    cmdtab_teardown();
    if (proxy.opt.pidfile[0] != '\0') {
        unlink(proxy.opt.pidfile);
    }
    proxy_config_free();
    acl_teardown();
    bufq_clear(front_out());
    tls_ctx_destroy(&proxy.tls_server);
    tls_ctx_destroy(&proxy.tls_client);
    buf_pool_drain();
    mem_free(proxy.config_file);
    log_teardown();
}

/* ---- INFO and metrics ---- */

static void
info_memory(struct sbuf *s)
{
    char h[32];
    size_t used = used_memory();

    stats_info_section(s, "Memory");
    stats_info_u64(s, "used_memory", used);
    stats_human_bytes(h, sizeof(h), used);
    stats_info_str(s, "used_memory_human", h);
    stats_info_u64(s, "used_memory_rss", mem_rss());
    stats_info_u64(s, "used_memory_peak", proxy.peak_memory);
    stats_info_str(s, "mem_allocator", mem_allocator_name());
}

static void
info_nodes(struct sbuf *s)
{
    stats_info_section(s, "Nodes");
    for (int i = 0; i < router->nshards; i++) {
        const struct shard *sh = router->shards[i];
        for (int j = 0; j < sh->nmembers; j++) {
            const struct member *m = sh->members[j];
            sbuf_printf(s,
                        "node%d_%d:addr=%s,shard=%d,slots=%s,status=%s,requests=%" PRIu64
                        ",errors=%" PRIu64 ",failures=%" PRIu64 ",avg_latency_us=%" PRIu64
                        ",resyncs=%" PRIu64 ",pending=%u%s%s\r\n",
                        i, j, m->addr, sh->id, sh->slots, member_state_name(m->state), m->requests,
                        m->errors, m->failures,
                        m->latency_n > 0 ? m->latency_us_sum / m->latency_n : 0, m->resyncs,
                        m->conn->nq, m->state == MEMBER_DOWN ? ",down_reason=" : "",
                        m->state == MEMBER_DOWN ? m->down_reason : "");
        }
    }
}

void
proxy_info(struct sbuf *s, const char *section)
{
    bool all = strcasecmp(section, "all") == 0 || strcasecmp(section, "everything") == 0 ||
               strcasecmp(section, "default") == 0;
    long long up = (proxy_now_ms() - proxy.start_ms) / 1000;

    if (all || strcasecmp(section, "server") == 0 || strcasecmp(section, "proxy") == 0) {
        stats_info_section(s, "Server");
        stats_info_str(s, "redis_version", "7.0.0");
        stats_info_str(s, "slotcache_proxy", "0.1.0");
        stats_info_str(s, "redis_mode", "cluster");
        stats_info_str(s, "proxy_mode", modes[router->mode].name);
        stats_info_i64(s, "shards", router->nshards);
        stats_info_i64(s, "process_id", getpid());
        stats_info_str(s, "run_id", proxy.run_id);
        stats_info_i64(s, "tcp_port", proxy.bound_port);
        stats_info_i64(s, "uptime_in_seconds", up);
        stats_info_str(s, "config_file", proxy.config_file != NULL ? proxy.config_file : "");
    }
    if (all || strcasecmp(section, "clients") == 0) {
        stats_info_section(s, "Clients");
        stats_info_u64(s, "connected_clients", proxy.conns.n);
        stats_info_i64(s, "maxclients", proxy.opt.maxclients);
        stats_info_u64(s, "client_recent_max_output_buffer", front_max_output());
        stats_info_u64(s, "messages_in_flight", msg_in_use());
    }
    if (all || strcasecmp(section, "memory") == 0) {
        info_memory(s);
    }
    if (all || strcasecmp(section, "stats") == 0) {
        stats_info_section(s, "Stats");
        stats_info_render(s, metric_desc, proxy.stats, PROXY_METRIC_COUNT);
        stats_info_u64(s, "instantaneous_ops_per_sec", stats_rate_mean(&proxy.ops_rate));
    }
    if (all || strcasecmp(section, "replication") == 0) {
        stats_info_section(s, "Replication");
        stats_info_str(s, "role", "master");
        stats_info_i64(s, "connected_slaves", 0);
    }
    if (all || strcasecmp(section, "cluster") == 0) {
        stats_info_section(s, "Cluster");
        stats_info_i64(s, "cluster_enabled", 1);
    }
    if (all || strcasecmp(section, "loader") == 0) {
        stats_info_section(s, "Loader");
        stats_info_str(s, "loader", loader_enabled() ? loader_opts.addr : "");
        stats_info_i64(s, "loader_connected", loader_connected());
        stats_info_i64(s, "loader_routes", loader_route_count());
        stats_info_i64(s, "loader_breaker_open", loader_breaker_open());
        stats_info_u64(s, "loads_in_flight", readthru_in_flight());
        stats_info_u64(s, "negative_cache_entries", readthru_negative_entries());
        uint64_t done = proxy.stats[STAT_loads_found] + proxy.stats[STAT_loads_not_found] +
                        proxy.stats[STAT_load_errors];
        stats_info_u64(s, "load_latency_avg_us",
                       done > 0 ? proxy.stats[STAT_load_latency_us_total] / done : 0);
    }
    if (all || strcasecmp(section, "nodes") == 0) {
        info_nodes(s);
    }
    /* As redis: not in the default sections. */
    if (strcasecmp(section, "all") == 0 || strcasecmp(section, "everything") == 0 ||
        strcasecmp(section, "latencystats") == 0) {
        stats_info_section(s, "Latencystats");
        latstats_info(s);
    }
}

void
proxy_reset_stats(void)
{
    memset(proxy.stats, 0, sizeof(proxy.stats));
    memset(&proxy.ops_rate, 0, sizeof(proxy.ops_rate));
    for (struct member *m = router_members(); m != NULL; m = m->next) {
        m->requests = m->errors = m->failures = m->latency_us_sum = m->latency_n = 0;
    }
    latstats_reset();
}

static double
node_up(const struct member *m)
{
    return m->state == MEMBER_UP;
}

static double
node_requests(const struct member *m)
{
    return (double)m->requests;
}

static double
node_errors(const struct member *m)
{
    return (double)m->errors;
}

static double
node_failures(const struct member *m)
{
    return (double)m->failures;
}

static double
node_latency(const struct member *m)
{
    return m->latency_n > 0 ? (double)m->latency_us_sum / (double)m->latency_n / 1e6 : 0.0;
}

/* The per-node metrics, each one family with a sample per node. */
static const struct {
    const char *name;
    enum stats_kind kind;
    const char *help;
    double (*value)(const struct member *m);
} node_metrics[] = {
    {"node_up", STATS_GAUGE, "1 if the node serves reads", node_up},
    {"node_requests_total", STATS_COUNTER, "requests sent to the node", node_requests},
    {"node_errors_total", STATS_COUNTER, "error replies from the node", node_errors},
    {"node_failures_total", STATS_COUNTER, "requests failed because the node was unavailable",
     node_failures},
    {"node_latency_seconds_avg", STATS_GAUGE, "mean reply latency", node_latency},
};

void
proxy_metrics(struct sbuf *s)
{
    static const char p[] = "slotcache_proxy";
    char labels[NET_ADDR_MAX + 64];

    stats_prom_render(s, p, metric_desc, proxy.stats, PROXY_METRIC_COUNT, NULL);
    stats_prom_sample(s, p, "connected_clients", STATS_GAUGE, "client connections open", NULL,
                      (double)proxy.conns.n);
    stats_prom_sample(s, p, "instantaneous_ops_per_sec", STATS_GAUGE,
                      "requests a second, over the last 1.6 s", NULL,
                      (double)stats_rate_mean(&proxy.ops_rate));
    latstats_metrics(s);
    for (size_t k = 0; k < ARRAY_LEN(node_metrics); k++) {
        stats_prom_head(s, p, node_metrics[k].name, node_metrics[k].kind, node_metrics[k].help);
        for (int i = 0; i < router->nshards; i++) {
            const struct shard *sh = router->shards[i];
            for (int j = 0; j < sh->nmembers; j++) {
                snprintf(labels, sizeof(labels), "node=\"%s\",shard=\"%d\"", sh->members[j]->addr,
                         sh->id);
                stats_prom_value(s, p, node_metrics[k].name, labels,
                                 node_metrics[k].value(sh->members[j]));
            }
        }
    }
}
