/*
 * cli_info.c -- see cli_info.h.
 */
#include "cluster-tools/cli_info.h"

#include "cluster-tools/cli_check.h"
#include "cluster-tools/cli_client.h"
#include "cluster-tools/cli_topo.h"
#include "common/mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The proxy counts commands, not a rate: its ops/s is the difference of
 * two samples at least this far apart. */
#define INFO_RATE_WINDOW_MS 1000

#define ROW_FMT "%-21s %-5s %-8s %-8s %9s %9s %9s %-15s %6s %9s %9s %8s\n"

struct node_row {
    const char *addr; /* points into the topo */
    int shard;
    const char *role;
    const char *state;
    bool ok;
    char why[CLI_ERR_MAX];
    long long keys, used, maxmemory, hits, misses, evicted, expired, ops;
    char policy[32];
};

struct proxy_sample {
    long long at_ms;
    long long commands, hits, misses, clients, loader_connected;
    char loader[NET_ADDR_MAX];
};

static void
human_bytes(long long n, char *buf, size_t len)
{
    static const char units[] = "BKMGT";
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) - 1) {
        v /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%lldB", n);
    } else {
        snprintf(buf, len, "%.2f%c", v, units[u]);
    }
}

static void
ratio(long long hits, long long misses, char *buf, size_t len)
{
    if (hits + misses == 0) {
        snprintf(buf, len, "-");
    } else {
        snprintf(buf, len, "%.1f", 100.0 * (double)hits / (double)(hits + misses));
    }
}

static long long
field(const char *info, const char *name)
{
    long long v;
    return client_info_ll(info, name, &v) ? v : 0;
}

static void
read_node(struct node_row *row)
{
    struct cli_err err;
    redisContext *c = client_connect_addr(row->addr, &err);
    char *info = c != NULL ? client_info(c, "all", &err) : NULL;
    redisReply *r = info != NULL ? client_expect(c, REDIS_REPLY_INTEGER, &err, "DBSIZE") : NULL;

    row->ok = r != NULL;
    if (!row->ok) {
        snprintf(row->why, sizeof(row->why), "%s", err.msg);
    } else {
        row->keys = r->integer;
        row->used = field(info, "used_memory");
        row->maxmemory = field(info, "maxmemory");
        row->hits = field(info, "keyspace_hits");
        row->misses = field(info, "keyspace_misses");
        row->evicted = field(info, "evicted_keys");
        row->expired = field(info, "expired_keys");
        row->ops = field(info, "instantaneous_ops_per_sec");
        if (!client_info_str(info, "maxmemory_policy", row->policy, sizeof(row->policy))) {
            snprintf(row->policy, sizeof(row->policy), "?");
        }
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    mem_free(info);
    if (c != NULL) {
        redisFree(c);
    }
}

static const char *
role_of(const struct topo *t, int member)
{
    if (t->mode == TOPO_REPLICATED) {
        return "replica";
    }
    return member == 0 ? "primary" : "replica";
}

/* One row per member, shard by shard; returns how many did not answer. */
static int
read_rows(const struct topo *t, struct node_row *rows)
{
    int k = 0, failed = 0;

    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        for (int j = 0; j < s->nmembers; j++, k++) {
            memset(&rows[k], 0, sizeof(rows[k]));
            rows[k].addr = s->members[j].addr;
            rows[k].shard = s->id;
            rows[k].role = role_of(t, j);
            rows[k].state = s->members[j].state;
            read_node(&rows[k]);
            failed += !rows[k].ok;
        }
    }
    return failed;
}

/* The proxy's own sections only: INFO all and INFO loader also ask every
 * node, and fail while one is unreachable -- when the table matters most. */
static int
sample_proxy(redisContext *c, struct proxy_sample *p, struct cli_err *err)
{
    struct cli_err ignored;
    char *stats = client_info(c, "stats", err);
    char *clients = stats != NULL ? client_info(c, "clients", err) : NULL;
    char *loader = clients != NULL ? client_info(c, "loader", &ignored) : NULL;

    if (clients == NULL) {
        mem_free(stats);
        return SC_ERR;
    }
    p->at_ms = cli_now_ms();
    p->commands = field(stats, "total_commands_processed");
    p->hits = field(stats, "keyspace_hits");
    p->misses = field(stats, "keyspace_misses");
    p->clients = field(clients, "connected_clients");
    p->loader_connected = loader != NULL ? field(loader, "loader_connected") : -1;
    if (loader == NULL || !client_info_str(loader, "loader", p->loader, sizeof(p->loader))) {
        p->loader[0] = '\0';
    }
    mem_free(stats);
    mem_free(clients);
    mem_free(loader);
    return SC_OK;
}

static void
print_node(const struct node_row *r)
{
    char sh[16], keys[24], used[16], maxm[16], hit[16], ev[24], ex[24], ops[24];

    snprintf(sh, sizeof(sh), "%d", r->shard);
    if (!r->ok) {
        printf(ROW_FMT, r->addr, sh, r->role, "no-reply", "-", "-", "-", "-", "-", "-", "-", "-");
        printf("    %s\n", r->why);
        return;
    }
    snprintf(keys, sizeof(keys), "%lld", r->keys);
    human_bytes(r->used, used, sizeof(used));
    if (r->maxmemory > 0) {
        human_bytes(r->maxmemory, maxm, sizeof(maxm));
    } else {
        snprintf(maxm, sizeof(maxm), "none");
    }
    ratio(r->hits, r->misses, hit, sizeof(hit));
    snprintf(ev, sizeof(ev), "%lld", r->evicted);
    snprintf(ex, sizeof(ex), "%lld", r->expired);
    snprintf(ops, sizeof(ops), "%lld", r->ops);
    printf(ROW_FMT, r->addr, sh, r->role, r->state[0] != '\0' ? r->state : "-", keys, used, maxm,
           r->policy, hit, ev, ex, ops);
}

/* The proxy's row: the topology as its clients see it. */
static void
print_proxy_row(const char *addr, const struct topo *t, const struct node_row *rows, int n,
                const struct proxy_sample *p, long long ops)
{
    long long keys = 0, used = 0, maxm = 0, ev = 0, ex = 0;
    const char *policy = NULL;
    char k[24], u[16], m[16], hit[16], e1[24], e2[24], o[24];
    int row = 0;

    for (int i = 0; i < t->nshards; i++) {
        long long shard_keys = 0; /* members hold the same keys: count them once */
        for (int j = 0; j < t->shards[i].nmembers; j++, row++) {
            shard_keys = rows[row].ok ? MAX(shard_keys, rows[row].keys) : shard_keys;
        }
        keys += shard_keys;
    }
    for (int i = 0; i < n; i++) {
        if (!rows[i].ok) {
            continue;
        }
        used += rows[i].used;
        maxm += rows[i].maxmemory;
        ev += rows[i].evicted;
        ex += rows[i].expired;
        policy = policy == NULL || strcmp(policy, rows[i].policy) == 0 ? rows[i].policy : "mixed";
    }
    snprintf(k, sizeof(k), "%lld", keys);
    human_bytes(used, u, sizeof(u));
    if (maxm > 0) {
        human_bytes(maxm, m, sizeof(m));
    } else {
        snprintf(m, sizeof(m), "none");
    }
    ratio(p->hits, p->misses, hit, sizeof(hit));
    snprintf(e1, sizeof(e1), "%lld", ev);
    snprintf(e2, sizeof(e2), "%lld", ex);
    snprintf(o, sizeof(o), "%lld", ops);
    printf(ROW_FMT, addr, "all", "proxy", "up", k, u, m, policy != NULL ? policy : "-", hit, e1, e2,
           o);
}

struct frame_state {
    redisContext *c;
    struct proxy_sample prev;
    bool have_prev;
};

/* One table; returns an exit status. */
static int
frame(const struct info_options *o, struct frame_state *fs, struct cli_err *err)
{
    struct proxy_sample now;
    struct topo t;
    char addr[NET_ADDR_MAX + 8];

    topo_init(&t);
    if (sample_proxy(fs->c, &now, err) != SC_OK || client_topology(fs->c, &t, err) != SC_OK) {
        topo_free(&t);
        return CLI_EXIT_FAIL;
    }
    int n = topo_node_count(&t);
    struct node_row *rows = mem_calloc((size_t)(n > 0 ? n : 1), sizeof(*rows));
    int failed = read_rows(&t, rows);
    if (!fs->have_prev) {
        /* No earlier sample to measure the proxy's rate against: take one
         * now and a second when the window has passed. */
        fs->prev = now;
        long long left = now.at_ms + INFO_RATE_WINDOW_MS - cli_now_ms();
        cli_sleep_ms(left > 0 ? left : 0);
        if (sample_proxy(fs->c, &now, err) != SC_OK) {
            mem_free(rows);
            topo_free(&t);
            return CLI_EXIT_FAIL;
        }
    }
    long long dt = MAX(now.at_ms - fs->prev.at_ms, 1);
    long long ops = (now.commands - fs->prev.commands) * 1000 / dt;
    fs->prev = now;
    fs->have_prev = true;

    snprintf(addr, sizeof(addr), "%s:%d", o->host, o->port);
    printf("proxy %s: mode %s, %d shard(s), %d node(s), %lld client(s), loader %s\n", addr,
           topo_mode_name(t.mode), t.nshards, n, now.clients,
           now.loader_connected < 0   ? "unknown"
           : now.loader[0] == '\0'    ? "none"
           : now.loader_connected > 0 ? "connected"
                                      : "not connected");
    printf(ROW_FMT, "NODE", "SHARD", "ROLE", "STATE", "KEYS", "USED", "MAXMEMORY", "POLICY", "HIT%",
           "EVICTED", "EXPIRED", "OPS/S");
    for (int i = 0; i < n; i++) {
        print_node(&rows[i]);
    }
    print_proxy_row(addr, &t, rows, n, &now, ops);
    fflush(stdout);
    mem_free(rows);
    topo_free(&t);
    return failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int
info_run(const struct info_options *o, struct cli_err *err)
{
    struct frame_state fs = {.have_prev = false};
    bool tty = isatty(STDOUT_FILENO);
    int rc = CLI_EXIT_OK;

    err->msg[0] = '\0'; /* set only by failures that end the command */
    fs.c = client_connect(o->host, o->port, err);
    if (fs.c == NULL) {
        return CLI_EXIT_FAIL;
    }
    for (long long i = 0; o->watch_s == 0 ? i < 1 : o->count == 0 || i < o->count; i++) {
        if (i > 0) {
            cli_sleep_ms(o->watch_s * 1000);
        }
        if (o->watch_s > 0) {
            time_t now = time(NULL);
            char when[32];
            strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
            printf("%s--- %s, every %llds (Ctrl-C stops)\n", tty ? "\033[H\033[2J" : "", when,
                   o->watch_s);
        }
        rc = frame(o, &fs, err);
        if (rc != CLI_EXIT_OK && err->msg[0] != '\0') {
            break;
        }
    }
    redisFree(fs.c);
    return rc;
}
