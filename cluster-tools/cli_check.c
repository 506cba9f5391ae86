/*
 * cli_check.c -- see cli_check.h.
 */
#include "cluster-tools/cli_check.h"

#include "cluster-tools/cli_client.h"
#include "common/mem.h"
#include "common/sbuf.h"

#include <stdio.h>
#include <string.h>

/* Members of a shard may differ by the writes in flight between them:
 * compare a few times before calling a difference real. */
#define CHECK_KEYCOUNT_TRIES 5
#define CHECK_KEYCOUNT_PAUSE_MS 200

/* What one member answered. */
struct probe {
    bool ok;
    long long keys;
    char why[CLI_ERR_MAX];
};

struct report {
    int problems;
    int warnings;
};

static void finding(struct report *rep, const char *level, const char *fmt, ...) SC_PRINTF(3, 4);

/* Prints "[OK] ...", "[WARN] ..." or "[ERR] ..." and counts it. */
static void
finding(struct report *rep, const char *level, const char *fmt, ...)
{
    va_list ap;

    rep->problems += strcmp(level, "ERR") == 0;
    rep->warnings += strcmp(level, "WARN") == 0;
    printf("[%s] ", level);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void
check_print_map(const struct topo *t, const long long *keys)
{
    struct sbuf spec;
    int k = 0;

    sbuf_init(&spec);
    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        sbuf_reset(&spec);
        slots_format(&s->slots, &spec);
        printf("shard %d: %d slots: %s\n", s->id, slots_count(&s->slots),
               spec.len > 0 ? spec.data : "(none)");
        for (int j = 0; j < s->nmembers; j++, k++) {
            const char *state = s->members[j].state[0] != '\0' ? s->members[j].state : "-";
            if (keys != NULL && keys[k] >= 0) {
                printf("    %-22s %-8s %lld key(s)\n", s->members[j].addr, state, keys[k]);
            } else {
                printf("    %-22s %s\n", s->members[j].addr, state);
            }
        }
    }
    sbuf_free(&spec);
}

/* PING and DBSIZE on one node. */
static void
probe_member(const char *addr, struct probe *p)
{
    struct cli_err err;
    redisContext *c = client_connect_addr(addr, &err);

    p->ok = false;
    p->keys = -1;
    if (c == NULL) {
        snprintf(p->why, sizeof(p->why), "%s", err.msg);
        return;
    }
    redisReply *r = client_expect(c, REDIS_REPLY_STATUS, &err, "PING");
    if (r != NULL) {
        freeReplyObject(r);
        r = client_expect(c, REDIS_REPLY_INTEGER, &err, "DBSIZE");
    }
    if (r == NULL) {
        snprintf(p->why, sizeof(p->why), "%s", err.msg);
    } else {
        p->ok = true;
        p->keys = r->integer;
        freeReplyObject(r);
    }
    redisFree(c);
}

static void
probe_all(const struct topo *t, struct probe *probes)
{
    int k = 0;

    for (int i = 0; i < t->nshards; i++) {
        for (int j = 0; j < t->shards[i].nmembers; j++) {
            probe_member(t->shards[i].members[j].addr, &probes[k++]);
        }
    }
}

static void
check_slots(const struct topo *t, struct report *rep)
{
    struct slots missing, twice;
    struct sbuf spec;

    sbuf_init(&spec);
    topo_coverage(t, &missing, &twice);
    if (slots_count(&missing) > 0) {
        slots_format(&missing, &spec);
        finding(rep, "ERR", "%d slot(s) are owned by no shard: %s", slots_count(&missing),
                spec.data);
    }
    if (slots_count(&twice) > 0) {
        sbuf_reset(&spec);
        slots_format(&twice, &spec);
        finding(rep, "ERR", "%d slot(s) are owned by more than one shard: %s", slots_count(&twice),
                spec.data);
    }
    if (slots_count(&missing) == 0 && slots_count(&twice) == 0) {
        finding(rep, "OK", "all %d slots are owned, each by one shard", SLOT_COUNT);
    }
    sbuf_free(&spec);
}

static void
check_nodes(const struct topo *t, const struct probe *probes, struct report *rep)
{
    int k = 0, bad = rep->problems;
    bool from_proxy = false;

    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        if (s->nmembers == 0) {
            finding(rep, "ERR", "shard %d has no nodes", s->id);
        }
        if (slots_count(&s->slots) == 0) {
            finding(rep, "WARN", "shard %d owns no slots", s->id);
        }
        for (int j = 0; j < s->nmembers; j++, k++) {
            const struct topo_member *m = &s->members[j];
            from_proxy = m->state[0] != '\0';
            if (!probes[k].ok) {
                finding(rep, "ERR", "node %s (shard %d) does not answer: %s", m->addr, s->id,
                        probes[k].why);
            } else if (m->state[0] != '\0' && strcmp(m->state, "up") != 0) {
                finding(rep, "ERR", "node %s (shard %d) is %s according to the proxy", m->addr,
                        s->id, m->state);
            }
        }
    }
    if (rep->problems == bad) {
        finding(rep, "OK", "all %d node(s) answer PING%s", k,
                from_proxy ? " and are up according to the proxy" : "");
    }
}

static bool
counts_agree(const struct probe *p, int n)
{
    for (int j = 1; j < n; j++) {
        if (p[j].ok && p[0].ok && p[j].keys != p[0].keys) {
            return false;
        }
    }
    return true;
}

/* Re-reads the key counts of shard s (its probes start at p) until they
 * agree or the tries run out. */
static bool
settle_counts(const struct topo_shard *s, struct probe *p)
{
    for (int tries = 1; !counts_agree(p, s->nmembers); tries++) {
        if (tries == CHECK_KEYCOUNT_TRIES) {
            return false;
        }
        cli_sleep_ms(CHECK_KEYCOUNT_PAUSE_MS);
        for (int j = 0; j < s->nmembers; j++) {
            probe_member(s->members[j].addr, &p[j]);
        }
    }
    return true;
}

static void
check_replicas(const struct topo *t, struct probe *probes, struct report *rep)
{
    int k = 0, shards_with_replicas = 0, bad = rep->problems;

    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        struct probe *p = &probes[k];
        k += s->nmembers;
        if (s->nmembers < 2) {
            continue;
        }
        shards_with_replicas++;
        if (settle_counts(s, p)) {
            continue;
        }
        struct sbuf list;
        sbuf_init(&list);
        for (int j = 0; j < s->nmembers; j++) {
            sbuf_printf(&list, "%s%s=%lld", j > 0 ? ", " : "", s->members[j].addr, p[j].keys);
        }
        finding(rep, "ERR", "shard %d: replicas disagree on key counts: %s", s->id, list.data);
        sbuf_free(&list);
    }
    if (shards_with_replicas > 0 && rep->problems == bad) {
        finding(rep, "OK", "replicas agree on key counts");
    }
}

/* A move in progress is worth knowing about, but it is not a fault. */
static void
check_migration(redisContext *c, struct report *rep)
{
    struct cli_err err;
    char state[32], slots[256];
    redisReply *r = client_call(c, &err, "PROXY MIGRATIONS");

    if (r == NULL) {
        return;
    }
    if (r->type == REDIS_REPLY_STRING && client_info_str(r->str, "state", state, sizeof(state)) &&
        strcmp(state, "copying") == 0) {
        if (!client_info_str(r->str, "slots", slots, sizeof(slots))) {
            slots[0] = '\0';
        }
        finding(rep, "WARN", "a move is running (slots %s): the map is about to change", slots);
    }
    freeReplyObject(r);
}

/* The checks common to both sources of the map; returns the exit status. */
static int
check_map(const struct topo *t, redisContext *proxy_conn)
{
    struct report rep = {0, 0};
    int n = topo_node_count(t);
    struct probe *probes = mem_calloc((size_t)(n > 0 ? n : 1), sizeof(*probes));
    long long *keys = mem_calloc((size_t)(n > 0 ? n : 1), sizeof(*keys));

    probe_all(t, probes);
    for (int k = 0; k < n; k++) {
        keys[k] = probes[k].keys;
    }
    check_print_map(t, keys);
    check_slots(t, &rep);
    check_nodes(t, probes, &rep);
    check_replicas(t, probes, &rep);
    if (proxy_conn != NULL) {
        check_migration(proxy_conn, &rep);
    }
    if (rep.problems == 0) {
        printf("all is well (%d shard(s), %d node(s))\n", t->nshards, n);
    } else {
        printf("%d problem(s) found\n", rep.problems);
    }
    mem_free(probes);
    mem_free(keys);
    return rep.problems == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int
check_proxy(const char *host, int port, struct cli_err *err)
{
    struct topo t;
    redisContext *c = client_connect(host, port, err);

    if (c == NULL) {
        return CLI_EXIT_FAIL;
    }
    topo_init(&t);
    if (client_topology(c, &t, err) != SC_OK) {
        redisFree(c);
        return CLI_EXIT_FAIL;
    }
    printf("proxy %s:%d, mode %s, %d shard(s)\n", host, port, topo_mode_name(t.mode), t.nshards);
    int rc = check_map(&t, c);
    topo_free(&t);
    redisFree(c);
    return rc;
}

int
check_config(const char *path, struct cli_err *err)
{
    struct topo t;

    topo_init(&t);
    if (topo_load_config(&t, path, err) != SC_OK) {
        return CLI_EXIT_FAIL;
    }
    if (t.nshards == 0) {
        topo_free(&t);
        cli_fail(err, "%s has no node or shard lines", path);
        return CLI_EXIT_FAIL;
    }
    printf("config %s, mode %s, %d shard(s)\n", path, topo_mode_name(t.mode), t.nshards);
    int rc = check_map(&t, NULL);
    topo_free(&t);
    return rc;
}
