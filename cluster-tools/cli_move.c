/*
 * cli_move.c -- see cli_move.h.
 */
#include "cluster-tools/cli_move.h"

#include "cluster-tools/cli_check.h"
#include "cluster-tools/cli_client.h"
#include "cluster-tools/cli_plan.h"
#include "cluster-tools/cli_topo.h"
#include "common/mem.h"
#include "common/sbuf.h"

#include <stdio.h>
#include <string.h>

#define MOVE_POLL_MS 200      /* PROXY MIGRATIONS this often */
#define MOVE_PROGRESS_MS 1000 /* a progress line at most this often */

struct mover {
    redisContext *c;
    struct topo t; /* the proxy's map, re-read after every move */
};

static void
mover_close(struct mover *mv)
{
    topo_free(&mv->t);
    if (mv->c != NULL) {
        redisFree(mv->c);
    }
}

static int
mover_open(struct mover *mv, const char *host, int port, struct cli_err *err)
{
    topo_init(&mv->t);
    mv->c = client_connect(host, port, err);
    if (mv->c == NULL || client_topology(mv->c, &mv->t, err) != SC_OK) {
        return SC_ERR;
    }
    if (mv->t.mode != TOPO_PARTITIONED) {
        return cli_fail(err,
                        "the proxy at %s:%d runs mode %s: slots move between shards only in mode "
                        "partitioned",
                        host, port, topo_mode_name(mv->t.mode));
    }
    return SC_OK;
}

/* The fields of PROXY MIGRATIONS we follow. */
struct move_status {
    char state[32]; /* copying, done, failed */
    long long copied, deleted;
    char error[512];
};

static int
read_status(redisContext *c, struct move_status *st, struct cli_err *err)
{
    redisReply *r = client_expect(c, REDIS_REPLY_STRING, err, "PROXY MIGRATIONS");

    if (r == NULL) {
        return cli_wrap(err, "lost track of the move (PROXY MIGRATIONS says how it ends)");
    }
    if (!client_info_str(r->str, "state", st->state, sizeof(st->state))) {
        st->state[0] = '\0';
    }
    if (!client_info_ll(r->str, "keys_copied", &st->copied)) {
        st->copied = 0;
    }
    if (!client_info_ll(r->str, "keys_deleted", &st->deleted)) {
        st->deleted = 0;
    }
    if (!client_info_str(r->str, "error", st->error, sizeof(st->error))) {
        st->error[0] = '\0';
    }
    freeReplyObject(r);
    return SC_OK;
}

/* Polls until the move running on the proxy ends; prints its progress. */
static int
wait_move(redisContext *c, const char *what, struct cli_err *err)
{
    long long start = cli_now_ms(), last_print = start, last_copied = -1;
    struct move_status st;

    for (;;) {
        if (read_status(c, &st, err) != SC_OK) {
            return SC_ERR;
        }
        if (strcmp(st.state, "done") == 0) {
            printf("    done in %.1f s: %lld keys copied, %lld deleted from the source\n",
                   (double)(cli_now_ms() - start) / 1000.0, st.copied, st.deleted);
            return SC_OK;
        }
        if (strcmp(st.state, "failed") == 0) {
            return cli_fail(err, "%s failed: %s", what,
                            st.error[0] != '\0' ? st.error : "(the proxy gave no reason)");
        }
        if (st.copied != last_copied && cli_now_ms() - last_print >= MOVE_PROGRESS_MS) {
            printf("    %s: %lld keys copied\n", st.state[0] != '\0' ? st.state : "moving",
                   st.copied);
            fflush(stdout);
            last_print = cli_now_ms();
            last_copied = st.copied;
        }
        cli_sleep_ms(MOVE_POLL_MS);
    }
}

/* One PROXY MIGRATE of `slots` to the shard made of addrs[0..n), waited
 * for; then the map is read again. */
static int
migrate(struct mover *mv, const struct slots *slots, const char *const *addrs, int n,
        struct cli_err *err)
{
    struct sbuf spec, what;
    const char **argv = mem_calloc((size_t)n + 3, sizeof(*argv));
    int rc = SC_ERR;

    sbuf_init(&spec);
    sbuf_init(&what);
    slots_format(slots, &spec);
    sbuf_printf(&what, "moving %d slots to", slots_count(slots));
    for (int i = 0; i < n; i++) {
        sbuf_printf(&what, " %s", addrs[i]);
    }
    printf("%s: %s\n", what.data, spec.data);
    fflush(stdout);
    argv[0] = "PROXY";
    argv[1] = "MIGRATE";
    argv[2] = spec.data;
    for (int i = 0; i < n; i++) {
        argv[3 + i] = addrs[i];
    }
    redisReply *r = redisCommandArgv(mv->c, n + 3, argv, NULL);
    if (r == NULL) {
        cli_fail(err, "PROXY MIGRATE: connection to the proxy lost: %s", mv->c->errstr);
    } else if (r->type == REDIS_REPLY_ERROR) {
        cli_fail(err, "the proxy refused the move: %s", r->str);
    } else if (wait_move(mv->c, what.data, err) == SC_OK) {
        rc = client_topology(mv->c, &mv->t, err);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    mem_free(argv);
    sbuf_free(&spec);
    sbuf_free(&what);
    return rc;
}

/* The addresses of shard i, for PROXY MIGRATE; mem_free the array. */
static const char **
shard_addrs(const struct topo *t, int i)
{
    const struct topo_shard *s = &t->shards[i];
    const char **addrs = mem_calloc((size_t)s->nmembers + 1, sizeof(*addrs));

    for (int j = 0; j < s->nmembers; j++) {
        addrs[j] = s->members[j].addr;
    }
    return addrs;
}

/* After the moves: the proxy keeps its new map across restarts. */
static int
finish(struct mover *mv)
{
    struct cli_err err;
    redisReply *r = client_call(mv->c, &err, "PROXY CONFIG-REWRITE");

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        printf("[WARN] the proxy did not rewrite its config file (%s): a restart would bring "
               "back the old map\n",
               r != NULL ? r->str : err.msg);
    } else {
        printf("the proxy rewrote its config file with the new map\n");
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    check_print_map(&mv->t, NULL);
    return CLI_EXIT_OK;
}

/* A node to bring in: reachable, and empty (the keys it holds would be
 * stale copies nobody owns). */
static int
check_new_node(const struct topo *t, const char *addr, struct cli_err *err)
{
    int si, mi;
    struct cli_err ignored;

    if (topo_find(t, addr, &si, &mi, &ignored) == SC_OK) {
        return cli_fail(err, "node %s is already in shard %d", addr, t->shards[si].id);
    }
    redisContext *c = client_connect_addr(addr, err);
    if (c == NULL) {
        return SC_ERR;
    }
    redisReply *r = client_expect(c, REDIS_REPLY_INTEGER, err, "DBSIZE");
    int rc = r == NULL ? SC_ERR : SC_OK;
    if (r != NULL && r->integer != 0) {
        rc = cli_fail(err, "node %s holds %lld keys; a new node must be empty (FLUSHALL it)", addr,
                      r->integer);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);
    return rc;
}

static int
reshard(struct mover *mv, const char *from, const char *to, long long nslots, struct cli_err *err)
{
    int fi, ti = -1, mi;
    struct slots none, out;
    const char *to_new[1] = {to};

    if (topo_find(&mv->t, from, &fi, &mi, err) != SC_OK) {
        return SC_ERR;
    }
    if (topo_find(&mv->t, to, &ti, &mi, err) != SC_OK) {
        if (strchr(to, ':') == NULL || check_new_node(&mv->t, to, err) != SC_OK) {
            return SC_ERR;
        }
        ti = -1; /* a new shard of its own */
    }
    if (ti == fi) {
        return cli_fail(err, "%s and %s are in the same shard (%d)", from, to, mv->t.shards[fi].id);
    }
    int have = slots_count(&mv->t.shards[fi].slots);
    if (nslots > have) {
        return cli_fail(err, "shard %d (%s) owns %d slots, fewer than --slots %lld",
                        mv->t.shards[fi].id, from, have, nslots);
    }
    slots_clear(&none);
    plan_reshard(&mv->t.shards[fi].slots, ti >= 0 ? &mv->t.shards[ti].slots : &none, (int)nslots,
                 &out);
    if (ti < 0) {
        return migrate(mv, &out, to_new, 1, err);
    }
    const char **addrs = shard_addrs(&mv->t, ti);
    int rc = migrate(mv, &out, addrs, mv->t.shards[ti].nmembers, err);
    mem_free(addrs);
    return rc;
}

int
move_reshard(const char *host, int port, const char *from, const char *to, long long nslots,
             struct cli_err *err)
{
    struct mover mv = {NULL};
    int rc = CLI_EXIT_FAIL;

    if (mover_open(&mv, host, port, err) == SC_OK && reshard(&mv, from, to, nslots, err) == SC_OK) {
        rc = finish(&mv);
    }
    mover_close(&mv);
    return rc;
}

static int
add_node(struct mover *mv, const char *const *addrs, int n, struct cli_err *err)
{
    for (int i = 0; i < n; i++) {
        if (check_new_node(&mv->t, addrs[i], err) != SC_OK) {
            return SC_ERR;
        }
    }
    /* The plan is made on the map as it is now; each move changes only the
     * source's slots and the new shard's, so it stays valid. */
    int ns = mv->t.nshards;
    struct slots *have = mem_calloc((size_t)ns, sizeof(*have));
    struct slots *give = mem_calloc((size_t)ns, sizeof(*give));
    int rc = SC_OK;
    for (int i = 0; i < ns; i++) {
        have[i] = mv->t.shards[i].slots;
    }
    plan_add(have, ns, give);
    for (int i = 0; i < ns && rc == SC_OK; i++) {
        if (slots_count(&give[i]) > 0) {
            rc = migrate(mv, &give[i], addrs, n, err);
        }
    }
    mem_free(have);
    mem_free(give);
    return rc;
}

int
move_add_node(const char *host, int port, const char *const *addrs, int n, struct cli_err *err)
{
    struct mover mv = {NULL};
    int rc = CLI_EXIT_FAIL;

    if (mover_open(&mv, host, port, err) == SC_OK && add_node(&mv, addrs, n, err) == SC_OK) {
        rc = finish(&mv);
    }
    mover_close(&mv);
    return rc;
}

/* The members of the shards other than `skip`, whose slots plan_remove
 * fills: copies, because the map is re-read after every move. */
struct target {
    char addrs[TOPO_MEMBERS_MAX][NET_ADDR_MAX];
    const char *argv[TOPO_MEMBERS_MAX];
    int n;
};

static void
target_of(const struct topo_shard *s, struct target *tg)
{
    tg->n = s->nmembers;
    for (int j = 0; j < s->nmembers; j++) {
        snprintf(tg->addrs[j], sizeof(tg->addrs[j]), "%s", s->members[j].addr);
        tg->argv[j] = tg->addrs[j];
    }
}

static int
del_node(struct mover *mv, const char *addr, struct cli_err *err)
{
    int si, mi;

    if (topo_find(&mv->t, addr, &si, &mi, err) != SC_OK) {
        return SC_ERR;
    }
    const struct topo_shard *leaving = &mv->t.shards[si];
    if (leaving->nmembers > 1) {
        return cli_fail(err,
                        "%s is one of %d nodes of shard %d; del-node removes a whole shard. To "
                        "drop one replica, remove it from the proxy's config and run PROXY RELOAD",
                        addr, leaving->nmembers, leaving->id);
    }
    int n = mv->t.nshards - 1;
    if (n == 0) {
        return cli_fail(err, "%s is the only shard: its slots have nowhere to go", addr);
    }
    struct slots *have = mem_calloc((size_t)n, sizeof(*have));
    struct slots *get = mem_calloc((size_t)n, sizeof(*get));
    struct target *tg = mem_calloc((size_t)n, sizeof(*tg));
    for (int i = 0, k = 0; i < mv->t.nshards; i++) {
        if (i != si) {
            have[k] = mv->t.shards[i].slots;
            target_of(&mv->t.shards[i], &tg[k++]);
        }
    }
    plan_remove(&leaving->slots, have, n, get);
    int rc = SC_OK;
    for (int k = 0; k < n && rc == SC_OK; k++) {
        if (slots_count(&get[k]) > 0) {
            rc = migrate(mv, &get[k], tg[k].argv, tg[k].n, err);
        }
    }
    if (rc == SC_OK && topo_find(&mv->t, addr, &si, &mi, err) == SC_OK) {
        printf("[WARN] the proxy still lists %s (shard %d, %d slots)\n", addr, mv->t.shards[si].id,
               slots_count(&mv->t.shards[si].slots));
    }
    mem_free(have);
    mem_free(get);
    mem_free(tg);
    return rc;
}

int
move_del_node(const char *host, int port, const char *addr, struct cli_err *err)
{
    struct mover mv = {NULL};
    int rc = CLI_EXIT_FAIL;

    if (mover_open(&mv, host, port, err) == SC_OK && del_node(&mv, addr, err) == SC_OK) {
        rc = finish(&mv);
    }
    mover_close(&mv);
    return rc;
}
