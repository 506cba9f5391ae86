/*
 * multikey.c -- see multikey.h.
 */
#include "proxy/multikey.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/reply.h"
#include "common/sbuf.h"
#include "common/slot.h"
#include "common/util.h"
#include "proxy/back.h"
#include "proxy/cmdtab.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/loader_client.h"
#include "proxy/migrate.h"
#include "proxy/proxy.h"
#include "proxy/readthru.h"
#include "proxy/resync.h"
#include "proxy/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MULTIKEY_MEMBERS_MAX (ROUTER_SHARDS_MAX * 4)

/* ---- fragments ---- */

/* Merge state of a parent, by kind. */
struct merge {
    int kind;             /* enum pcmd_route, or MERGE_REPLICATE */
    uint32_t nvals;       /* MGET keys / KEYS elements */
    struct seg *vals;     /* MGET: one per key; KEYS: concatenated elements */
    uint32_t cap;
    struct seg error;     /* the first error a fragment returned */
    struct seg picked;    /* replicate / randomkey: the reply chosen */
    int up_sent;          /* replicate: fragments sent to UP members */
    int needed;           /* replicate: successes needed */
    int scan_shard;       /* SCAN: which shard this page came from */
    int scan_member;      /* SCAN: which member of it (cursors are per node) */
    char *section;        /* INFO */
    struct sbuf info;     /* INFO: the nodes' figures gathered */
    uint64_t keys, expires;
    uint32_t loading; /* MGET: keys being read through */
};

#define MERGE_REPLICATE 100

static struct merge *
merge_of(struct msg *parent, int kind)
{
    struct merge *mg = mem_calloc(1, sizeof(*mg));
    mg->kind = kind;
    sbuf_init(&mg->info);
    parent->merge = mg;
    return mg;
}

static void
merge_free(struct msg *parent)
{
    struct merge *mg = parent->merge;

    if (mg == NULL) {
        return;
    }
    for (uint32_t i = 0; i < mg->cap; i++) {
        seg_release(&mg->vals[i]);
    }
    mem_free(mg->vals);
    seg_release(&mg->error);
    seg_release(&mg->picked);
    mem_free(mg->section);
    sbuf_free(&mg->info);
    mem_free(mg);
    parent->merge = NULL;
}

static void frag_done(struct msg *f);

/* A fragment of parent with request bytes req (taking its reference). */
static struct msg *
frag_new(struct msg *parent, struct seg req)
{
    struct msg *f = msg_get();

    f->parent = msg_ref(parent);
    f->on_done = frag_done;
    f->req = req;
    f->flags = parent->flags & MSG_WRITE;
    f->nreplies = parent->nreplies;
    parent->nfrag++;
    return f;
}

/* Routes fragment f to shard s (replicating a write) and drops the
 * creator's reference. */
static void
frag_route(struct msg *f, struct shard *s)
{
    front_route_shard(f, s);
    msg_put(&f);
}

static void
frag_to_member(struct msg *f, struct member *mb)
{
    f->shard = mb->shard;
    back_send(mb->conn, f);
    msg_put(&f);
}

static struct seg
ref_seg(const struct seg *s)
{
    struct seg r = *s;
    if (r.b != NULL) {
        buf_ref(r.b);
    }
    return r;
}

/* ---- finishing a parent ---- */

static void
finish(struct msg *parent, struct seg reply)
{
    merge_free(parent);
    msg_complete(parent, reply);
}

static void
finish_out(struct msg *parent)
{
    finish(parent, front_take_out());
}

static bool
take_error(struct merge *mg, struct msg *f)
{
    if (!(f->flags & MSG_ERROR)) {
        return false;
    }
    if (mg->error.len == 0) {
        mg->error = ref_seg(&f->rsp);
    }
    return true;
}

static void
finish_mget(struct msg *parent, struct merge *mg)
{
    struct bufq *out = front_out();

    resp_add_array(out, mg->nvals);
    for (uint32_t i = 0; i < mg->nvals; i++) {
        resp_add_raw(out, mg->vals[i].p, mg->vals[i].len);
    }
    finish_out(parent);
}

static void
finish_sum(struct msg *parent)
{
    resp_add_int(front_out(), parent->sum);
    finish_out(parent);
}

static void
finish_scan(struct msg *parent, struct merge *mg)
{
    const struct seg *r = &mg->picked;
    struct resp_reply rr;
    char cursor[UTIL_LL_STR_SIZE + 1];
    unsigned long long next;

    /* "*2\r\n$<n>\r\n<cursor>\r\n*<k>\r\n..." from the node */
    const char *p = r->p + 4;
    resp_reply_reset(&rr);
    if (r->len < 4 || memcmp(r->p, "*2\r\n", 4) != 0 ||
        resp_reply_parse(&rr, p, r->len - 4) != RESP_OK || p[0] != '$') {
        finish(parent, seg_const("-ERR slotcache-proxy: bad SCAN reply from a node\r\n", 51));
        return;
    }
    const char *cr = memchr(p, '\r', rr.pos);
    const char *num = cr + 2;
    size_t numlen = rr.pos - (size_t)(num - p) - 2;
    if (!util_str2ull(num, numlen, &next)) {
        finish(parent, seg_const("-ERR slotcache-proxy: bad SCAN cursor from a node\r\n", 51));
        return;
    }
    /* The proxy's cursor: (node cursor * SHARD_MEMBERS_MAX + member) * shards
     * + shard.  A node's cursor 0 moves on to the next shard; after the last
     * shard the scan is over. */
    unsigned long long n = (unsigned long long)router->nshards, out_cursor;
    if (next == 0) {
        out_cursor = (unsigned long long)mg->scan_shard + 1 < n ? (unsigned long long)mg->scan_shard + 1 : 0;
    } else {
        out_cursor = (next * SHARD_MEMBERS_MAX + (unsigned long long)mg->scan_member) * n +
                     (unsigned long long)mg->scan_shard;
    }
    size_t clen = util_ull2str(cursor, out_cursor);
    struct bufq *out = front_out();
    resp_add_array(out, 2);
    resp_add_bulk(out, cursor, clen);
    resp_add_raw(out, p + rr.pos, r->len - 4 - rr.pos);
    finish_out(parent);
}

static void finish_info(struct msg *parent, struct merge *mg);

/* ---- MGET read-through ---- */

struct fill {
    struct msg *parent;
    uint32_t index;
};

static void
fill_loaded(void *ctx, const struct seg *reply)
{
    struct fill *fl = ctx;
    struct msg *parent = fl->parent;
    struct merge *mg = parent->merge;

    seg_release(&mg->vals[fl->index]);
    mg->vals[fl->index] = ref_seg(reply);
    mem_free(fl);
    if (--mg->loading == 0) {
        finish_mget(parent, mg);
    }
    msg_put(&parent);
}

struct mget_keys {
    struct merge *mg;
    struct msg *parent;
};

/* Each nil value of a routed key is read through; the reply waits for all. */
static void
count_and_fill(void *ctx, size_t i, const char *p, size_t n)
{
    struct mget_keys *mk = ctx;
    struct merge *mg = mk->mg;
    const char *key;
    size_t klen;

    if (i == 0 || i - 1 >= mg->nvals || !resp_bulk_value(p, n, &key, &klen)) {
        return; /* the command name */
    }
    const struct seg *v = &mg->vals[i - 1];
    bool nil = v->len == 5 && memcmp(v->p, "$-1\r\n", 5) == 0;
    proxy.stats[nil ? STAT_keyspace_misses : STAT_keyspace_hits]++;
    if (nil && loader_may_route(key, klen)) {
        struct fill *fl = mem_alloc(sizeof(*fl));
        fl->parent = msg_ref(mk->parent);
        fl->index = (uint32_t)(i - 1);
        mg->loading++;
        readthru_key(key, klen, true, fill_loaded, fl);
    }
}

/* Starts the loads an MGET's misses need; true if the reply must wait. */
static bool
mget_read_through(struct msg *parent, struct merge *mg)
{
    struct mget_keys mk = {mg, parent};

    /* The request is multibulk (the client's or re-encoded): walk its words
     * as an array of bulks. */
    mg->loading = 1; /* held until every load is started */
    resp_array_each(parent->req.p, parent->req.len, count_and_fill, &mk);
    return --mg->loading > 0;
}

/* Every fragment has answered (or, for a replicated write, enough have). */
static void
finish_parent(struct msg *parent)
{
    struct merge *mg = parent->merge;

    if (mg->kind != MERGE_REPLICATE && mg->error.len > 0) {
        struct seg e = mg->error;
        mg->error = seg_const(NULL, 0);
        finish(parent, e);
        return;
    }
    switch (mg->kind) {
    case ROUTE_MGET:
        if (!mget_read_through(parent, mg)) {
            finish_mget(parent, mg);
        }
        break;
    case ROUTE_MSET:
    case ROUTE_ALL_OK:
        finish(parent, seg_const("+OK\r\n", 5));
        break;
    case ROUTE_KEYS_SUM:
    case ROUTE_ALL_SUM:
        finish_sum(parent);
        break;
    case ROUTE_ALL_CONCAT:
        finish_mget(parent, mg);
        break;
    case ROUTE_SCAN:
        finish_scan(parent, mg);
        break;
    case ROUTE_RANDOMKEY:
        if (mg->picked.len == 0) {
            finish(parent, seg_const("$-1\r\n", 5));
        } else {
            struct seg r = mg->picked;
            mg->picked = seg_const(NULL, 0);
            finish(parent, r);
        }
        break;
    case ROUTE_INFO:
        finish_info(parent, mg);
        break;
    default:
        break;
    }
}

struct place_ctx {
    struct merge *mg;
    const uint32_t *idx; /* MGET: original key index of each element */
    uint32_t nidx;       /* MGET: keys the fragment asked for */
    uint32_t placed;
    bool bad;            /* MGET: more elements than keys */
    struct buf *b;       /* the buffer the elements are in */
};

static void
place_value(void *ctx, size_t i, const char *p, size_t n)
{
    struct place_ctx *pc = ctx;
    struct merge *mg = pc->mg;
    struct seg e = {pc->b, p, (uint32_t)n};

    if (pc->idx != NULL && i >= pc->nidx) {
        pc->bad = true; /* a node answering more values than it was asked */
        return;
    }
    uint32_t at = pc->idx != NULL ? pc->idx[i] : mg->nvals++;
    pc->placed++;
    if (at >= mg->cap) {
        uint32_t cap = MAX(mg->cap * 2, at + 16);
        mg->vals = mem_realloc(mg->vals, cap * sizeof(*mg->vals));
        memset(mg->vals + mg->cap, 0, (cap - mg->cap) * sizeof(*mg->vals));
        mg->cap = cap;
    }
    seg_release(&mg->vals[at]);
    mg->vals[at] = ref_seg(&e);
}

static long long
int_reply(const struct seg *r)
{
    long long v = 0;
    if (r->len >= 4 && r->p[0] == ':') {
        util_str2ll(r->p + 1, r->len - 3, &v);
    }
    return v;
}

static void replicate_frag_done(struct msg *f, struct msg *parent, struct merge *mg);
static void info_gather(struct merge *mg, struct msg *f);

static void
frag_done(struct msg *f)
{
    struct msg *parent = f->parent;
    struct merge *mg = parent->merge;

    if (proxy.tearing_down) {
        merge_free(parent);
        mem_free(f->ctx);
        f->ctx = NULL;
        /* Answer the parent once, so that its owner lets go of what it
         * holds for it: a read-through store keeps its load's state until
         * store_done (clients' messages are no longer waited for). */
        if (!(parent->flags & MSG_DONE)) {
            msg_fail(parent, "ERR slotcache-proxy: the proxy is shutting down");
        }
        return;
    }
    if ((f->flags & MSG_FAILED) && !(f->flags & MSG_WRITE) && f->shard != NULL &&
        f->nretry < proxy.opt.read_retries) {
        struct member *alt = router_read_member(f->shard, f->member);
        if (alt != NULL) {
            f->nretry++;
            f->flags &= (uint16_t) ~(MSG_DONE | MSG_FAILED | MSG_ERROR | MSG_NIL);
            seg_release(&f->rsp);
            proxy.stats[STAT_read_retries]++;
            back_send(alt->conn, f);
            return;
        }
    }
    parent->ndone++;
    if (mg == NULL) {
        return; /* the parent was already answered (quorum) */
    }
    if (mg->kind == MERGE_REPLICATE) {
        replicate_frag_done(f, parent, mg);
        return;
    }
    if (mg->kind == ROUTE_INFO) {
        /* A node that cannot answer is a line of the reply, not its end:
         * INFO is where one looks to find which node that is. */
        info_gather(mg, f);
    } else if (!take_error(mg, f)) {
        struct place_ctx pc = {mg, f->ctx, (uint32_t)f->sum, 0, false, f->rsp.b};
        switch (mg->kind) {
        case ROUTE_MGET:
        case ROUTE_ALL_CONCAT:
            /* An MGET part must answer exactly one value per key it sent. */
            if ((resp_array_each(f->rsp.p, f->rsp.len, place_value, &pc) != SC_OK || pc.bad ||
                 (pc.idx != NULL && pc.placed != pc.nidx)) &&
                mg->error.len == 0) {
                mg->error = seg_const("-ERR slotcache-proxy: bad reply from a node\r\n", 46);
            }
            break;
        case ROUTE_KEYS_SUM:
        case ROUTE_ALL_SUM:
            parent->sum += int_reply(&f->rsp);
            break;
        case ROUTE_SCAN:
            mg->picked = ref_seg(&f->rsp);
            break;
        case ROUTE_RANDOMKEY:
            /* Reservoir sampling: each shard that has keys is equally likely. */
            if (!(f->flags & MSG_NIL) && random() % (long)++mg->nvals == 0) {
                seg_release(&mg->picked);
                mg->picked = ref_seg(&f->rsp);
            }
            break;
        default:
            break;
        }
    }
    mem_free(f->ctx);
    f->ctx = NULL;
    if (parent->ndone == parent->nfrag) {
        finish_parent(parent);
    }
}

/* ---- replicated writes ---- */

static void
replicate_frag_done(struct msg *f, struct msg *parent, struct merge *mg)
{
    bool counts = f->member != NULL && f->member->state == MEMBER_UP && !(f->flags & MSG_SHADOW);

    if (!(f->flags & MSG_FAILED) && counts) {
        parent->nok++;
        if (mg->picked.len == 0) {
            mg->picked = ref_seg(&f->rsp);
        }
    }
    bool all_done = parent->ndone == parent->nfrag;
    bool enough = (int)parent->nok >= mg->needed && mg->needed > 0;
    if (proxy.opt.write_quorum == PROXY_QUORUM_ALL) {
        enough = all_done && parent->nok > 0;
    }
    if (enough) {
        struct seg r = mg->picked;
        mg->picked = seg_const(NULL, 0);
        finish(parent, r);
        return;
    }
    if (all_done) {
        char text[256];
        snprintf(text, sizeof(text),
                 "ERR slotcache-proxy: write reached %u of the %d nodes its quorum needs", parent->nok,
                 mg->needed > 0 ? mg->needed : 1);
        proxy.stats[STAT_quorum_failures]++;
        merge_free(parent);
        msg_fail(parent, text);
    }
}

void
multikey_replicate(struct msg *m, struct shard *s, struct member **shadow, int nshadow)
{
    struct member *to[SHARD_MEMBERS_MAX];
    int n = router_write_members(s, to), up = 0;

    for (int i = 0; i < n; i++) {
        up += to[i]->state == MEMBER_UP;
    }
    if (up == 0) {
        char desc[300], text[400];
        router_shard_desc(s, desc, sizeof(desc));
        snprintf(text, sizeof(text), "CLUSTERDOWN slotcache-proxy: %s has no node available", desc);
        proxy.stats[STAT_node_failures]++;
        msg_fail(m, text);
        return;
    }
    struct merge *mg = merge_of(m, MERGE_REPLICATE);
    mg->up_sent = up;
    mg->needed = router_quorum(s, up);
    proxy.stats[STAT_fanout_requests]++;
    for (int i = 0; i < n; i++) {
        if (to[i]->state == MEMBER_SYNCING) {
            resync_note_write(to[i], &m->req);
        }
        frag_to_member(frag_new(m, ref_seg(&m->req)), to[i]);
    }
    for (int i = 0; i < nshadow; i++) {
        resync_note_write(shadow[i], &m->req);
        struct msg *f = frag_new(m, ref_seg(&m->req));
        f->flags |= MSG_SHADOW;
        frag_to_member(f, shadow[i]);
    }
}

/* ---- splitting by shard ---- */

/* Keys of the request grouped by shard: per shard, the argument positions. */
struct groups {
    int nshards_used;
    int *count;   /* per shard index */
    int **pos;    /* per shard index: argument positions */
};

/* Group index of a key: its shard, and apart from the others the keys of
 * slots being moved (their writes also go to the move's target). */
static int
group_of(unsigned slot)
{
    return router->slot_shard[slot] * 2 + (migrate_moving(slot) ? 1 : 0);
}

static void
groups_build(struct groups *g, struct front *c, int first, int step)
{
    int n = router->nshards * 2;

    g->count = mem_calloc((size_t)n, sizeof(int));
    g->pos = mem_calloc((size_t)n, sizeof(int *));
    g->nshards_used = 0;
    for (int i = first; i < c->conn.argc; i += step) {
        int sh = group_of(slot_of(c->conn.argv[i].data, c->conn.argv[i].len));
        if (g->pos[sh] == NULL) {
            g->pos[sh] = mem_alloc((size_t)(c->conn.argc / step + 1) * sizeof(int));
            g->nshards_used++;
        }
        g->pos[sh][g->count[sh]++] = i;
    }
}

static void
groups_free(struct groups *g)
{
    for (int i = 0; i < router->nshards * 2; i++) {
        mem_free(g->pos[i]);
    }
    mem_free(g->pos);
    mem_free(g->count);
}

/* Sends one fragment per shard with that shard's keys (and values). */
static void
split(struct front *c, struct msg *m, const char *name, int step, bool index_keys)
{
    struct groups g;
    size_t namelen = strlen(name);

    groups_build(&g, c, 1, step);
    for (int sh = 0; sh < router->nshards * 2; sh++) {
        if (g.count[sh] == 0) {
            continue;
        }
        struct bufq *out = front_out();
        resp_add_array(out, (size_t)(1 + g.count[sh] * step));
        resp_add_bulk(out, name, namelen);
        uint32_t *idx = index_keys ? mem_alloc((size_t)g.count[sh] * sizeof(uint32_t)) : NULL;
        for (int k = 0; k < g.count[sh]; k++) {
            int p = g.pos[sh][k];
            for (int j = 0; j < step; j++) {
                resp_add_bulk(out, c->conn.argv[p + j].data, c->conn.argv[p + j].len);
            }
            if (idx != NULL) {
                idx[k] = (uint32_t)((p - 1) / step);
            }
        }
        struct msg *f = frag_new(m, front_take_out());
        f->ctx = idx;
        f->sum = g.count[sh]; /* how many values its reply must carry */
        int first = g.pos[sh][0];
        f->slot = (int32_t)slot_of(c->conn.argv[first].data, c->conn.argv[first].len);
        frag_route(f, router->shards[sh / 2]);
    }
    groups_free(&g);
}

/* Whether every key is in one group (one shard, all moving or none); the
 * request then goes whole, with *slot one of its keys' slots. */
static bool
one_shard(struct front *c, int step, struct shard **only, int32_t *slot)
{
    int sh = -1;
    for (int i = 1; i < c->conn.argc; i += step) {
        unsigned sl = slot_of(c->conn.argv[i].data, c->conn.argv[i].len);
        int s = group_of(sl);
        if (sh >= 0 && s != sh) {
            return false;
        }
        sh = s;
        *slot = (int32_t)sl;
    }
    *only = router->shards[sh < 0 ? 0 : sh / 2];
    return true;
}

static void
split_keys(struct front *c, struct msg *m, const struct pcmd *cmd)
{
    int step = cmd->route == ROUTE_MSET ? 2 : 1;
    struct shard *only;

    if (cmd->route == ROUTE_MSET && (c->conn.argc - 1) % 2 != 0) {
        reply_arity(front_out(), cmd->name);
        front_answer(m);
        return;
    }
    int32_t slot = -1;
    if (one_shard(c, step, &only, &slot) && !(cmd->route == ROUTE_MGET && loader_enabled())) {
        /* Every key in one shard: forward the request as the client sent it.
         * (With a loader, MGET takes the merge path, which fills misses.) */
        m->slot = slot;
        front_route_shard(m, only);
        return;
    }
    struct merge *mg = merge_of(m, cmd->route);
    if (cmd->route == ROUTE_MGET) {
        mg->nvals = (uint32_t)(c->conn.argc - 1);
        mg->cap = mg->nvals;
        mg->vals = mem_calloc(mg->cap, sizeof(*mg->vals));
    }
    proxy.stats[STAT_split_requests]++;
    /* Fragments answered at once (a shard down) must not finish the parent
     * before every fragment exists: hold one extra fragment open. */
    m->nfrag++;
    split(c, m, cmd->name, step, cmd->route == ROUTE_MGET);
    m->nfrag--;
    if (m->ndone == m->nfrag) {
        finish_parent(m);
    }
}

/* ---- every shard / every node ---- */

static void
all_shards(struct msg *m, int kind, struct seg req)
{
    merge_of(m, kind);
    proxy.stats[STAT_fanout_requests]++;
    m->nfrag++;
    for (int sh = 0; sh < router->nshards; sh++) {
        frag_route(frag_new(m, ref_seg(&req)), router->shards[sh]);
    }
    m->nfrag--;
    seg_release(&req);
    if (m->ndone == m->nfrag) {
        finish_parent(m);
    }
}

static void
all_nodes(struct msg *m)
{
    struct member *all[MULTIKEY_MEMBERS_MAX];
    int n = router_all_members(all, MULTIKEY_MEMBERS_MAX);

    merge_of(m, ROUTE_ALL_OK);
    proxy.stats[STAT_fanout_requests]++;
    m->nfrag++;
    for (int i = 0; i < n; i++) {
        if (all[i]->state != MEMBER_DOWN) {
            frag_to_member(frag_new(m, ref_seg(&m->req)), all[i]);
        }
    }
    m->nfrag--;
    if (m->ndone == m->nfrag) {
        finish_parent(m);
    }
}

/* SCAN: one shard at a time, and within a shard one member, since a node's
 * cursor means nothing to another node.  If that member is down the scan of
 * the shard restarts on another one (SCAN may return duplicates, never
 * miss a key). */
static void
scan(struct front *c, struct msg *m)
{
    unsigned long long cursor;
    char num[UTIL_LL_STR_SIZE];

    if (!util_str2ull(c->conn.argv[1].data, c->conn.argv[1].len, &cursor)) {
        front_answer_error(m, "ERR invalid cursor");
        return;
    }
    unsigned long long n = (unsigned long long)router->nshards;
    int shard = (int)(cursor % n);
    unsigned long long rest = cursor / n;
    int member = (int)(rest % SHARD_MEMBERS_MAX);
    unsigned long long node_cursor = rest / SHARD_MEMBERS_MAX;
    struct shard *s = router->shards[shard];
    struct member *mb = member < s->nmembers && s->members[member]->state == MEMBER_UP
                            ? s->members[member]
                            : router_read_member(s, NULL);
    if (mb == NULL) {
        char desc[300], text[400];
        router_shard_desc(s, desc, sizeof(desc));
        snprintf(text, sizeof(text), "CLUSTERDOWN slotcache-proxy: %s has no node available", desc);
        front_answer_error(m, text);
        return;
    }
    if (mb != s->members[member]) {
        node_cursor = 0;
        for (member = 0; s->members[member] != mb; member++) {
        }
    }
    struct bufq *out = front_out();
    resp_add_array(out, (size_t)c->conn.argc);
    resp_add_bulk(out, c->conn.argv[0].data, c->conn.argv[0].len);
    resp_add_bulk(out, num, util_ull2str(num, node_cursor));
    for (int i = 2; i < c->conn.argc; i++) {
        resp_add_bulk(out, c->conn.argv[i].data, c->conn.argv[i].len);
    }
    struct merge *mg = merge_of(m, ROUTE_SCAN);
    mg->scan_shard = shard;
    mg->scan_member = member;
    m->nfrag++;
    frag_to_member(frag_new(m, front_take_out()), mb);
    m->nfrag--;
    if (m->ndone == m->nfrag) {
        finish_parent(m);
    }
}

/* ---- INFO ---- */

/* Sections answered from the proxy's own figures alone. */
static bool
proxy_only_section(const char *s)
{
    static const char *const local[] = {"server",  "clients",     "memory",  "stats",
                                         "proxy",   "nodes",       "replication", "cluster",
                                         "loader",  "latencystats"};
    for (size_t i = 0; i < ARRAY_LEN(local); i++) {
        if (strcasecmp(s, local[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool
info_field(const struct seg *r, const char *name, char *val, size_t len)
{
    size_t n = strlen(name);
    const char *p = r->p, *end = r->p + r->len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) {
            eol = end;
        }
        if ((size_t)(eol - p) > n && memcmp(p, name, n) == 0 && p[n] == ':') {
            size_t vlen = (size_t)(eol - p) - n - 1;
            if (vlen > 0 && p[n + vlen] == '\r') {
                vlen--;
            }
            snprintf(val, len, "%.*s", (int)vlen, p + n + 1);
            return true;
        }
        p = eol + 1;
    }
    return false;
}

static void
info_gather(struct merge *mg, struct msg *f)
{
    static const char *const fields[] = {"used_memory",  "maxmemory",     "maxmemory_policy",
                                         "keyspace_hits", "keyspace_misses", "evicted_keys",
                                         "expired_keys", "instantaneous_ops_per_sec",
                                         "connected_clients"};
    char val[128], db[256];

    sbuf_printf(&mg->info, "node_%s:", f->member != NULL ? f->member->addr : "?");
    if (f->flags & (MSG_FAILED | MSG_ERROR)) {
        /* "-ERR ...\r\n" -> error=ERR ... (an INFO value stops at the line's end) */
        size_t n = f->rsp.len > 3 ? f->rsp.len - 3 : 0;
        sbuf_printf(&mg->info, "error=%.*s\r\n", (int)MIN(n, 200), f->rsp.p + 1);
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        if (info_field(&f->rsp, fields[i], val, sizeof(val))) {
            sbuf_printf(&mg->info, "%s%s=%s", i == 0 ? "" : ",", fields[i], val);
        }
    }
    if (info_field(&f->rsp, "db0", db, sizeof(db))) {
        unsigned long long keys = 0, expires = 0;
        sscanf(db, "keys=%llu,expires=%llu", &keys, &expires);
        if (f->sum == 1) {
            /* One member per shard counts: replicas hold the same keys. */
            mg->keys += keys;
            mg->expires += expires;
        }
        sbuf_printf(&mg->info, ",keys=%llu", keys);
    } else {
        sbuf_adds(&mg->info, ",keys=0");
    }
    sbuf_adds(&mg->info, "\r\n");
}

static void
finish_info(struct msg *parent, struct merge *mg)
{
    struct sbuf s;
    const char *sec = mg->section != NULL ? mg->section : "default";

    sbuf_init(&s);
    proxy_info(&s, sec);
    bool all = strcasecmp(sec, "all") == 0 || strcasecmp(sec, "everything") == 0 ||
               strcasecmp(sec, "default") == 0;
    if (all || strcasecmp(sec, "nodes") == 0) {
        sbuf_adds(&s, "\r\n# Node figures\r\n");
        sbuf_add(&s, mg->info.data != NULL ? mg->info.data : "", mg->info.len);
    }
    if (all || strcasecmp(sec, "keyspace") == 0) {
        sbuf_adds(&s, s.len > 0 ? "\r\n# Keyspace\r\n" : "# Keyspace\r\n");
        if (mg->keys > 0) {
            sbuf_printf(&s, "db0:keys=%llu,expires=%llu,avg_ttl=0\r\n",
                        (unsigned long long)mg->keys, (unsigned long long)mg->expires);
        }
    }
    int proto = parent->client != NULL ? parent->client->conn.resp : 2;
    resp_add_verbatim(front_out(), proto, s.data != NULL ? s.data : "", s.len);
    sbuf_free(&s);
    finish_out(parent);
}

static void
info(struct front *c, struct msg *m)
{
    const char *sec = c->conn.argc > 1 ? NULL : "default";
    char section[64];

    if (c->conn.argc > 1) {
        snprintf(section, sizeof(section), "%.*s", (int)MIN(c->conn.argv[1].len, 63), c->conn.argv[1].data);
        sec = section;
    }
    if (proxy_only_section(sec)) {
        struct sbuf s;
        sbuf_init(&s);
        proxy_info(&s, sec);
        resp_add_verbatim(front_out(), c->conn.resp, s.data != NULL ? s.data : "", s.len);
        sbuf_free(&s);
        front_answer(m);
        return;
    }
    struct merge *mg = merge_of(m, ROUTE_INFO);
    mg->section = mem_strdup(sec);
    m->nfrag++;
    for (int sh = 0; sh < router->nshards; sh++) {
        struct shard *s = router->shards[sh];
        struct member *counted = router_read_member(s, NULL);
        for (int j = 0; j < s->nmembers; j++) {
            if (s->members[j]->state == MEMBER_DOWN) {
                continue;
            }
            struct msg *f = frag_new(m, seg_const("*1\r\n$4\r\nINFO\r\n", 14));
            f->sum = s->members[j] == counted;
            frag_to_member(f, s->members[j]);
        }
    }
    m->nfrag--;
    if (m->ndone == m->nfrag) {
        finish_parent(m);
    }
}

void
multikey_command(struct front *c, struct msg *m, const struct pcmd *cmd)
{
    switch (cmd->route) {
    case ROUTE_MGET:
    case ROUTE_MSET:
    case ROUTE_KEYS_SUM:
        split_keys(c, m, cmd);
        break;
    case ROUTE_ALL_SUM:
    case ROUTE_ALL_CONCAT:
    case ROUTE_RANDOMKEY:
        all_shards(m, cmd->route, ref_seg(&m->req));
        break;
    case ROUTE_ALL_OK:
        all_nodes(m);
        break;
    case ROUTE_SCAN:
        scan(c, m);
        break;
    case ROUTE_INFO:
        info(c, m);
        break;
    default:
        front_answer_error(m, "ERR slotcache-proxy: internal routing error");
        break;
    }
}
