/*
 * readthru.c -- see readthru.h.
 */
#include "proxy/readthru.h"

#include "common/ht.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/resp.h"
#include "common/slot.h"
#include "common/util.h"
#include "proxy/front.h"
#include "proxy/loader_client.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEGATIVE_CLEAN_BUCKETS 64 /* negative-cache buckets checked per cron tick */

struct readthru_options readthru_opts;

struct waiter {
    readthru_fn *fn;
    void *ctx;
};

/* One load in flight and everyone waiting for it.  A loaded value stays
 * here (storing) until the node acknowledges its SET: a GET that reached the
 * node before the SET misses there, and answering its miss from the flight
 * is what keeps that second miss from costing a second query. */
struct flight {
    struct ht_node node;
    struct waiter *waiters;
    int n, cap;
    bool store;
    bool storing;
    struct seg loaded;  /* while storing: the reply every late miss gets */
    long long started_us;
    size_t klen;
    char key[];
};

/* A key the database has no row for, until expires_ms. */
struct negative {
    struct ht_node node;
    long long expires_ms;
    size_t klen;
    char key[];
};

static struct ht flights, negatives;
static uint64_t clean_cursor;

static uint64_t
flight_hash(const struct ht_node *n)
{
    const struct flight *f = (const struct flight *)n;
    return ht_hash(f->key, f->klen);
}

static bool
flight_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct flight *f = (const struct flight *)n;
    return f->klen == len && memcmp(f->key, key, len) == 0;
}

static uint64_t
negative_hash(const struct ht_node *n)
{
    const struct negative *e = (const struct negative *)n;
    return ht_hash(e->key, e->klen);
}

static bool
negative_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct negative *e = (const struct negative *)n;
    return e->klen == len && memcmp(e->key, key, len) == 0;
}

static const struct ht_type flight_type = {flight_hash, flight_eq};
static const struct ht_type negative_type = {negative_hash, negative_eq};

void
readthru_setup(void)
{
    uint8_t seed[16];
    for (size_t i = 0; i < sizeof(seed); i++) {
        seed[i] = (uint8_t)random();
    }
    ht_seed(seed);
    ht_init(&flights, &flight_type);
    ht_init(&negatives, &negative_type);
}

static void
free_node(void *ctx, struct ht_node *n)
{
    (void)ctx;
    mem_free(n);
}

void
readthru_teardown(void)
{
    /* In-flight loads were failed by loader_client_teardown, and stores
     * by router_teardown (which therefore runs first). */
    ht_foreach(&negatives, free_node, NULL);
    ht_deinit(&negatives);
    ht_deinit(&flights);
}

size_t
readthru_in_flight(void)
{
    return ht_count(&flights);
}

size_t
readthru_negative_entries(void)
{
    return ht_count(&negatives);
}

/* ---- the negative cache ---- */

static bool
negative_hit(const char *key, size_t len)
{
    uint64_t h = ht_hash(key, len);
    struct negative *e = (struct negative *)ht_find(&negatives, key, len, h);

    if (e == NULL) {
        return false;
    }
    if (e->expires_ms > proxy_now_ms()) {
        return true;
    }
    ht_remove(&negatives, &e->node, h);
    mem_free(e);
    return false;
}

static void
negative_add(const char *key, size_t len)
{
    uint64_t h = ht_hash(key, len);
    struct negative *e = (struct negative *)ht_find(&negatives, key, len, h);

    if (readthru_opts.negative_ttl_ms <= 0) {
        return;
    }
    if (e == NULL) {
        e = mem_alloc(sizeof(*e) + len);
        e->klen = len;
        memcpy(e->key, key, len);
        ht_insert(&negatives, &e->node, h);
    }
    e->expires_ms = proxy_now_ms() + readthru_opts.negative_ttl_ms;
}

struct clean_ctx {
    struct negative *expired[NEGATIVE_CLEAN_BUCKETS * 4];
    int n;
};

static void
collect_expired(void *ctx, struct ht_node *node)
{
    struct clean_ctx *cc = ctx;
    struct negative *e = (struct negative *)node;

    if (e->expires_ms <= proxy_now_ms() && cc->n < (int)ARRAY_LEN(cc->expired)) {
        cc->expired[cc->n++] = e;
    }
}

void
readthru_cron(void)
{
    struct clean_ctx cc = {.n = 0};

    /* Expired entries are dropped on lookup too; this bounds the memory of
     * keys that are never asked for again. */
    for (int i = 0; i < NEGATIVE_CLEAN_BUCKETS && ht_count(&negatives) > 0; i++) {
        clean_cursor = ht_scan(&negatives, clean_cursor, collect_expired, &cc);
        if (clean_cursor == 0) {
            break;
        }
    }
    for (int i = 0; i < cc.n; i++) {
        ht_remove(&negatives, &cc.expired[i]->node, negative_hash(&cc.expired[i]->node));
        mem_free(cc.expired[i]);
    }
    ht_maybe_shrink(&negatives);
}

/* ---- loads ---- */

static void
flight_free(struct flight *f)
{
    seg_release(&f->loaded);
    mem_free(f->waiters);
    mem_free(f);
}

/* The shard answered the SET (or the proxy failed it): from now on a miss
 * on the node is a real miss again. */
static void
store_done(struct msg *m)
{
    struct flight *f = m->ctx;

    ht_remove(&flights, &f->node, ht_hash(f->key, f->klen));
    flight_free(f);
}

/* Caches f's loaded value on the key's shard; a failure there only costs a
 * future miss.  store_done may run before this returns (shard down). */
static void
store_value(struct flight *f, const uint8_t *value, size_t vlen, uint32_t ttl)
{
    const char *key = f->key;
    size_t klen = f->klen;
    char num[UTIL_LL_STR_SIZE];
    struct bufq *out = front_out();
    struct msg *m = msg_get();

    resp_add_array(out, ttl > 0 ? 6 : 4);
    resp_add_bulk(out, "SET", 3);
    resp_add_bulk(out, key, klen);
    resp_add_bulk(out, value, vlen);
    if (ttl > 0) {
        resp_add_bulk(out, "EX", 2);
        resp_add_bulk(out, num, util_ll2str(num, ttl));
    }
    resp_add_bulk(out, "NX", 2);
    m->req = front_take_out();
    m->flags = MSG_WRITE;
    m->on_done = store_done;
    m->ctx = f;
    m->slot = (int32_t)slot_of(key, klen);
    front_route_shard(m, router_shard_of((unsigned)m->slot));
    msg_put(&m);
}

/* NOT_FOUND, and INVALID_ARGUMENT (a key the route's statement cannot take,
 * "koi:abc"): to a client both mean there is no such row -- nil, not an
 * error.  Errors are kept for a loader or database that cannot answer. */
static bool
no_row(int status)
{
    return status == LOADER_NOT_FOUND || status == LOADER_INVALID_ARGUMENT;
}

/* The reply a waiting client gets for a load's result. */
static struct seg
result_reply(const struct flight *f, const struct loader_result *r)
{
    struct bufq *out = front_out();

    if (r->status == LOADER_OK) {
        resp_add_bulk(out, r->value, r->len);
    } else if (no_row(r->status)) {
        return seg_const("$-1\r\n", 5);
    } else {
        resp_add_errorf(out, "ERR slotcache-proxy: could not load '%.*s' from the database: %s%s%s",
                        (int)MIN(f->klen, 64), f->key, loader_status_name(r->status),
                        r->message != NULL && r->message[0] != '\0' ? ": " : "",
                        r->message != NULL ? r->message : "");
    }
    return front_take_out();
}

static void
load_done(void *ctx, const struct loader_result *r)
{
    struct flight *f = ctx;
    bool store = false;

    proxy.stats[STAT_load_latency_us_total] += (uint64_t)(proxy_now_us() - f->started_us);
    if (r->status == LOADER_OK) {
        proxy.stats[STAT_loads_found]++;
        store = f->store;
    } else if (no_row(r->status)) {
        proxy.stats[STAT_loads_not_found]++;
        negative_add(f->key, f->klen);
    } else {
        proxy.stats[STAT_load_errors]++;
        log_verbose("load of '%.*s' failed: %s %s", (int)MIN(f->klen, 64), f->key,
                    loader_status_name(r->status), r->message != NULL ? r->message : "");
    }
    struct seg reply = result_reply(f, r);
    for (int i = 0; i < f->n; i++) {
        f->waiters[i].fn(f->waiters[i].ctx, &reply);
    }
    if (!store) {
        seg_release(&reply);
        ht_remove(&flights, &f->node, ht_hash(f->key, f->klen));
        flight_free(f);
        return;
    }
    f->loaded = reply;
    f->storing = true;
    f->n = 0;
    store_value(f, r->value, r->len, r->ttl_seconds);
}

void
readthru_key(const char *key, size_t len, bool store, readthru_fn *fn, void *ctx)
{
    uint64_t h = ht_hash(key, len);

    if (negative_hit(key, len)) {
        struct seg nil = seg_const("$-1\r\n", 5);
        proxy.stats[STAT_negative_cache_hits]++;
        fn(ctx, &nil);
        return;
    }
    struct flight *f = (struct flight *)ht_find(&flights, key, len, h);
    if (f != NULL && f->storing) {
        proxy.stats[STAT_loads_joined]++;
        fn(ctx, &f->loaded);
        return;
    }
    bool fresh = f == NULL;
    if (fresh) {
        f = mem_calloc(1, sizeof(*f) + len);
        f->klen = len;
        memcpy(f->key, key, len);
        f->started_us = proxy_now_us();
        ht_insert(&flights, &f->node, h);
        proxy.stats[STAT_loads]++;
    } else {
        proxy.stats[STAT_loads_joined]++;
    }
    f->store |= store;
    if (f->n == f->cap) {
        f->cap = f->cap == 0 ? 4 : f->cap * 2;
        f->waiters = mem_realloc(f->waiters, (size_t)f->cap * sizeof(*f->waiters));
    }
    f->waiters[f->n++] = (struct waiter){fn, ctx};
    if (fresh) {
        /* May call load_done before returning (no connection to the loader). */
        loader_load(f->key, f->klen, load_done, f);
    }
}

/* ---- GET ---- */

void
readthru_mark(struct msg *m)
{
    if (loader_may_route(m->key, m->klen)) {
        m->flags |= MSG_READTHRU;
    }
}

static void
get_loaded(void *ctx, const struct seg *reply)
{
    struct msg *m = ctx;
    struct seg r = *reply;

    if (r.b != NULL) {
        buf_ref(r.b);
    }
    /* Answered now: not read-through again when it completes. */
    m->flags &= (uint16_t) ~(MSG_READTHRU | MSG_DONE | MSG_NIL | MSG_ERROR | MSG_FAILED);
    msg_complete(m, r);
    msg_put(&m);
}

void
readthru_get(struct msg *m, bool store)
{
    if (!store) {
        proxy.stats[STAT_loads_direct]++;
    }
    m->flags &= (uint16_t) ~MSG_DONE; /* the nil (or failure) is not the answer */
    readthru_key(m->key, m->klen, store, get_loaded, msg_ref(m));
}
