/*
 * kv.c -- see kv.h.
 */
#include "node/kv.h"

#include "common/clock.h"
#include "common/mem.h"
#include "common/rand.h"
#include "node/evict.h"
#include "node/hobj.h"

#include <stdlib.h>
#include <string.h>

#define KV_LAZYFREE_PER_CRON 100000 /* items freed per cron tick after FLUSHALL ASYNC */
#define KV_CRON_REHASH_BUCKETS 1000

struct kv_counters kv_stats;

static struct ht keys;
static struct item **vol; /* items with a TTL; vol[i] has vidx i */
static uint64_t nvol, capvol;

/* FLUSHALL ASYNC leaves its old tables here, freed a slice per cron. */
struct graveyard {
    struct ht table;
    uint64_t bucket; /* next bucket of table.t[0] (then t[1]) to free */
    int t;
    struct graveyard *next;
};
static struct graveyard *graves;
static uint64_t grave_items;

static uint64_t
node_hash(const struct ht_node *n)
{
    return item_hash((const struct item *)n);
}

static bool
node_eq(const struct ht_node *n, const void *key, size_t len)
{
    struct item *it = (struct item *)n;
    return it->klen == len && memcmp(item_key(it), key, len) == 0;
}

static const struct ht_type item_ht_type = {node_hash, node_eq};

void
kv_setup(void)
{
    ht_init(&keys, &item_ht_type);
}

static void
free_item(struct item *it)
{
    if (it->type == ITEM_HASH) {
        struct hobj *h;
        memcpy(&h, item_val(it), sizeof(h));
        hobj_free(h);
    }
    item_free(it);
}

static void
free_node(void *ctx, struct ht_node *n)
{
    (void)ctx;
    free_item((struct item *)n);
}

void
kv_teardown(void)
{
    ht_foreach(&keys, free_node, NULL);
    ht_deinit(&keys);
    mem_free(vol);
    vol = NULL;
    nvol = capvol = 0;
    while (graves != NULL) {
        struct graveyard *g = graves;
        graves = g->next;
        ht_foreach(&g->table, free_node, NULL);
        ht_deinit(&g->table);
        mem_free(g);
    }
    grave_items = 0;
}

uint64_t
kv_count(void)
{
    return ht_count(&keys);
}

uint64_t
kv_volatile_count(void)
{
    return nvol;
}

size_t
kv_overhead(void)
{
    return ht_mem(&keys) + mem_usable(vol);
}

/* ---- the vector of items with a TTL ---- */

static void
vol_add(struct item *it)
{
    if (nvol == capvol) {
        capvol = capvol == 0 ? 64 : capvol * 2;
        vol = mem_realloc(vol, capvol * sizeof(*vol));
    }
    item_set_vidx(it, (uint32_t)nvol);
    vol[nvol++] = it;
}

static void
vol_remove(struct item *it)
{
    uint32_t i = item_vidx(it);

    sc_assert(i < nvol && vol[i] == it);
    vol[i] = vol[--nvol];
    item_set_vidx(vol[i], i);
    if (capvol > 64 && nvol * 4 < capvol) {
        capvol /= 2;
        vol = mem_realloc(vol, capvol * sizeof(*vol));
    }
}

/* ---- lookup ---- */

bool
kv_is_expired(const struct item *it)
{
    return (it->flags & ITEM_F_TTL) && item_expire(it) <= clock_now_ms();
}

struct item *
kv_lookup(const char *key, size_t klen, int flags)
{
    struct item *it = (struct item *)ht_find(&keys, key, klen, ht_hash(key, klen));

    if (it != NULL && kv_is_expired(it)) {
        kv_stats.expired++;
        kv_delete(it);
        it = NULL;
    }
    if (!(flags & KV_NOSTATS)) {
        if (it != NULL) {
            kv_stats.hits++;
        } else {
            kv_stats.misses++;
        }
    }
    if (it != NULL && !(flags & KV_NOTOUCH)) {
        evict_key_accessed(it);
    }
    return it;
}

struct item *
kv_peek(const char *key, size_t klen)
{
    return (struct item *)ht_find(&keys, key, klen, ht_hash(key, klen));
}

/* ---- changes ---- */

void
kv_add(struct item *it)
{
    ht_insert(&keys, &it->hnode, item_hash(it));
    if (it->flags & ITEM_F_TTL) {
        vol_add(it);
    }
    evict_key_added(it);
}

void
kv_replace(struct item *old, struct item *it)
{
    uint64_t hash = item_hash(old);

    /* The new item inherits the key's place in the eviction policy (its
     * list links and access state), whether it is a reshaped copy of old or
     * a fresh allocation. */
    it->prev = old->prev;
    it->next = old->next;
    it->meta = old->meta;
    it->pbits = old->pbits;
    ht_replace(&keys, &old->hnode, &it->hnode, hash);
    if (old->flags & ITEM_F_TTL) {
        vol_remove(old);
    }
    if (it->flags & ITEM_F_TTL) {
        vol_add(it);
    }
    evict_key_moved(old, it);
    item_free(old);
}

void
kv_overwrite(struct item *old, struct item *it)
{
    if (old->type == ITEM_HASH) {
        struct hobj *h;
        memcpy(&h, item_val(old), sizeof(h));
        hobj_free(h);
    }
    kv_replace(old, it);
}

void
kv_delete(struct item *it)
{
    evict_key_removed(it);
    ht_remove(&keys, &it->hnode, item_hash(it));
    if (it->flags & ITEM_F_TTL) {
        vol_remove(it);
    }
    free_item(it);
}

void
kv_evict(struct item *it)
{
    kv_stats.evicted++;
    kv_delete(it);
}

struct item *
kv_rename(struct item *it, const char *key, size_t klen)
{
    bool ttl = (it->flags & ITEM_F_TTL) != 0;
    /* Allocate first: if memory is short nothing has changed yet. */
    struct item *n = item_try_create(key, klen, item_val(it), it->vlen, it->vlen, ttl);

    if (n == NULL) {
        return NULL;
    }
    n->type = it->type;
    n->enc = it->enc;
    if (ttl) {
        item_set_expire_field(n, item_expire(it));
    }
    struct item *dst = kv_peek(key, klen);
    sc_assert(dst != it);
    if (dst != NULL) {
        kv_delete(dst);
    }
    /* Unlink it as kv_delete does, but free only the allocation: a hash's
     * hobj now belongs to n. */
    uint32_t meta = it->meta;
    evict_key_removed(it);
    ht_remove(&keys, &it->hnode, item_hash(it));
    if (ttl) {
        vol_remove(it);
    }
    item_free(it);
    kv_add(n);
    /* redis moves the object, and its LRU/LFU field with it. */
    n->meta = meta;
    return n;
}

bool
kv_expire_if_needed(struct item *it)
{
    if (!kv_is_expired(it)) {
        return false;
    }
    kv_stats.expired++;
    kv_delete(it);
    return true;
}

int
kv_set_expire(struct item **itp, long long when_ms)
{
    struct item *it = *itp;

    if (!(it->flags & ITEM_F_TTL)) {
        struct item *n = item_try_reshape(it, true, it->vlen);
        if (n == NULL) {
            return SC_ENOMEM;
        }
        item_set_expire_field(n, when_ms);
        kv_replace(it, n);
        *itp = n;
        return SC_OK;
    }
    item_set_expire_field(it, when_ms);
    return SC_OK;
}

int
kv_persist(struct item **itp)
{
    struct item *it = *itp;

    if (!(it->flags & ITEM_F_TTL)) {
        return SC_OK;
    }
    struct item *n = item_try_reshape(it, false, it->vlen);
    if (n == NULL) {
        return SC_ENOMEM;
    }
    kv_replace(it, n);
    *itp = n;
    return SC_OK;
}

int
kv_reserve_value(struct item **itp, size_t cap)
{
    struct item *it = *itp;

    if (item_capacity(it) >= cap) {
        return SC_OK;
    }
    /* Grow greedily as redis's sdsMakeRoomFor does, so that a value built
     * by many APPENDs is not copied on each one. */
    size_t want = cap < 1024 * 1024 ? cap * 2 : cap + 1024 * 1024;
    struct item *n = item_try_reshape(it, (it->flags & ITEM_F_TTL) != 0, want);
    if (n == NULL) {
        n = item_try_reshape(it, (it->flags & ITEM_F_TTL) != 0, cap);
    }
    if (n == NULL) {
        return SC_ENOMEM;
    }
    kv_replace(it, n);
    *itp = n;
    return SC_OK;
}

/* ---- sampling and walking ---- */

struct item *
kv_random(void)
{
    return (struct item *)ht_random(&keys);
}

struct item *
kv_random_volatile(void)
{
    if (nvol == 0) {
        return NULL;
    }
    return vol[rand_next() % nvol];
}

int
kv_sample(struct item **out, int n, bool volatile_only)
{
    if (!volatile_only) {
        return ht_sample(&keys, (struct ht_node **)out, n);
    }
    if (nvol == 0 || n <= 0) {
        return 0;
    }
    /* Consecutive slots of the vector from a random one: distinct items. */
    uint64_t start = rand_next() % nvol;
    int got = 0;
    for (uint64_t k = 0; k < nvol && got < n; k++) {
        out[got++] = vol[(start + k) % nvol];
    }
    return got;
}

struct item *
kv_volatile_at(uint64_t i)
{
    return i < nvol ? vol[i] : NULL;
}

struct scan_ctx {
    kv_scan_fn *fn;
    void *ctx;
};

static void
scan_node(void *ctx, struct ht_node *n)
{
    struct scan_ctx *sc = ctx;
    sc->fn(sc->ctx, (struct item *)n);
}

uint64_t
kv_scan(uint64_t cursor, kv_scan_fn *fn, void *ctx)
{
    struct scan_ctx sc = {fn, ctx};
    return ht_scan(&keys, cursor, scan_node, &sc);
}

void
kv_foreach(kv_scan_fn *fn, void *ctx)
{
    struct scan_ctx sc = {fn, ctx};
    ht_foreach(&keys, scan_node, &sc);
}

/* ---- flush and background work ---- */

void
kv_flush(bool async)
{
    evict_reset();
    nvol = 0;
    if (!async || ht_count(&keys) == 0) {
        ht_foreach(&keys, free_node, NULL);
        ht_deinit(&keys);
        return;
    }
    struct graveyard *g = mem_calloc(1, sizeof(*g));
    g->table = keys;
    g->next = graves;
    graves = g;
    grave_items += ht_count(&keys);
    ht_init(&keys, &item_ht_type);
}

static void
lazyfree_step(void)
{
    uint64_t budget = KV_LAZYFREE_PER_CRON;

    while (graves != NULL && budget > 0) {
        struct graveyard *g = graves;
        struct ht_table *t = &g->table.t[g->t];
        while (g->bucket < t->size && budget > 0) {
            struct ht_node *n = t->buckets[g->bucket];
            t->buckets[g->bucket++] = NULL;
            while (n != NULL) {
                struct ht_node *next = n->next;
                free_item((struct item *)n);
                grave_items--;
                budget--;
                n = next;
            }
        }
        if (g->bucket < t->size) {
            return;
        }
        if (g->t == 0 && g->table.t[1].size > 0) {
            g->t = 1;
            g->bucket = 0;
            continue;
        }
        graves = g->next;
        ht_deinit(&g->table);
        mem_free(g);
    }
}

void
kv_cron(void)
{
    ht_maybe_shrink(&keys);
    ht_rehash_step(&keys, KV_CRON_REHASH_BUCKETS);
    lazyfree_step();
}

uint64_t
kv_lazyfree_pending(void)
{
    return grave_items;
}
