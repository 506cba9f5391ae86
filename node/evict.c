/*
 * evict.c -- see evict.h: the policy switch, the keyspace hooks, the
 * eviction loop, noeviction, and the candidate pool shared by the sampling
 * policies.
 */
#include "node/evict.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/mem.h"
#include "node/kv.h"

#include <stdlib.h>
#include <string.h>

struct evict_options evict_opts;

const struct conf_enum evict_policy_names[] = {
    /* redis's order first: CONFIG SET's error lists them this way, so it
     * reads as redis's with ours after it */
    {"volatile-lru", EVICT_VOLATILE_LRU},
    {"volatile-lfu", EVICT_VOLATILE_LFU},
    {"volatile-random", EVICT_VOLATILE_RANDOM},
    {"volatile-ttl", EVICT_VOLATILE_TTL},
    {"allkeys-lru", EVICT_ALLKEYS_LRU},
    {"allkeys-lfu", EVICT_ALLKEYS_LFU},
    {"allkeys-random", EVICT_ALLKEYS_RANDOM},
    {"noeviction", EVICT_NOEVICTION},
    {"volatile-sieve", EVICT_VOLATILE_SIEVE},
    {"allkeys-sieve", EVICT_ALLKEYS_SIEVE},
    {"volatile-s3fifo", EVICT_VOLATILE_S3FIFO},
    {"allkeys-s3fifo", EVICT_ALLKEYS_S3FIFO},
    {"volatile-wtinylfu", EVICT_VOLATILE_WTINYLFU},
    {"allkeys-wtinylfu", EVICT_ALLKEYS_WTINYLFU},
    {NULL, 0},
};

static void
noop(void)
{
}

static void
noop_item(struct item *it)
{
    (void)it;
}

static void
noop_moved(struct item *from, struct item *to)
{
    (void)from;
    (void)to;
}

static struct item *
no_victim(void)
{
    return NULL;
}

static const struct evict_ops evict_noeviction = {
    .name = "noeviction",
    .start = noop,
    .stop = noop,
    .attach = noop_item,
    .detach = noop_item,
    .touch = noop_item,
    .moved = noop_moved,
    .victim = no_victim,
};

static const struct evict_ops *const policies[EVICT_POLICY_COUNT] = {
    [EVICT_VOLATILE_LRU] = &evict_lru_volatile,
    [EVICT_ALLKEYS_LRU] = &evict_lru_allkeys,
    [EVICT_VOLATILE_LFU] = &evict_lfu_volatile,
    [EVICT_ALLKEYS_LFU] = &evict_lfu_allkeys,
    [EVICT_VOLATILE_RANDOM] = &evict_random_volatile,
    [EVICT_ALLKEYS_RANDOM] = &evict_random_allkeys,
    [EVICT_VOLATILE_TTL] = &evict_ttl_volatile,
    [EVICT_VOLATILE_SIEVE] = &evict_sieve_volatile,
    [EVICT_ALLKEYS_SIEVE] = &evict_sieve_allkeys,
    [EVICT_VOLATILE_S3FIFO] = &evict_s3fifo_volatile,
    [EVICT_ALLKEYS_S3FIFO] = &evict_s3fifo_allkeys,
    [EVICT_VOLATILE_WTINYLFU] = &evict_wtinylfu_volatile,
    [EVICT_ALLKEYS_WTINYLFU] = &evict_wtinylfu_allkeys,
    [EVICT_NOEVICTION] = &evict_noeviction,
};

static const struct evict_ops *ops = &evict_noeviction;

uint32_t
evict_clock(void)
{
    return (uint32_t)(clock_now_ms() / 1000);
}

static inline bool
eligible(const struct item *it)
{
    return !ops->volatile_only || (it->flags & ITEM_F_TTL);
}

/* Per-key access state is kept for every key, whatever the policy may
 * evict: OBJECT FREQ and IDLETIME answer for keys without a TTL under a
 * volatile-* policy too, as in redis. */
static inline void
meta_added(struct item *it)
{
    if (ops->lfu) {
        evict_lfu_init(it);
    } else {
        it->meta = evict_clock();
    }
}

static inline void
meta_accessed(struct item *it)
{
    if (ops->lfu) {
        evict_lfu_access(it);
    } else {
        it->meta = evict_clock();
    }
}

static void
attach_existing(void *ctx, struct item *it)
{
    (void)ctx;
    meta_added(it);
    if (eligible(it)) {
        ops->attach(it);
    }
}

void
evict_setup(void)
{
    ops = policies[evict_opts.policy];
    ops->start();
}

void
evict_teardown(void)
{
    ops->stop();
    ops = &evict_noeviction;
}

void
evict_policy_changed(void)
{
    const struct evict_ops *next = policies[evict_opts.policy];

    if (next == ops) {
        return;
    }
    ops->stop();
    ops = next;
    ops->start();
    kv_foreach(attach_existing, NULL);
}

const struct evict_ops *
evict_current(void)
{
    return ops;
}

void
evict_reset(void)
{
    ops->stop();
    ops->start();
}

void
evict_key_added(struct item *it)
{
    meta_added(it);
    if (eligible(it)) {
        ops->attach(it);
    }
}

void
evict_key_removed(struct item *it)
{
    if (eligible(it)) {
        ops->detach(it);
    }
}

void
evict_key_accessed(struct item *it)
{
    meta_accessed(it);
    if (eligible(it)) {
        ops->touch(it);
    }
}

void
evict_key_moved(struct item *from, struct item *to)
{
    bool was = eligible(from), is = eligible(to);

    if (was && is) {
        ops->moved(from, to);
    } else if (was) {
        ops->detach(from);
    } else if (is) {
        ops->attach(to);
    }
}

size_t
evict_used_memory(void)
{
    /* Free buffers in the pool are the process's spare memory, like
     * allocator free lists: they do not count as used. */
    return mem_used() - buf_pool_bytes();
}

int
evict_perform(void)
{
    if (evict_opts.maxmemory == 0) {
        return SC_OK;
    }
    while (evict_used_memory() > evict_opts.maxmemory) {
        struct item *victim = ops->victim();
        if (victim == NULL) {
            return SC_ERR;
        }
        kv_evict(victim);
    }
    return SC_OK;
}

long long
evict_idle_seconds(const struct item *it)
{
    uint32_t now = evict_clock();
    return now >= it->meta ? (long long)(now - it->meta) : 0;
}

/* ---- candidate pool ---- */

void
evict_pool_clear(struct evict_pool *p)
{
    p->n = 0;
}

void
evict_pool_offer(struct evict_pool *p, struct item *it, uint64_t score)
{
    int i;

    /* Sampled again: its score may have changed, so it is placed anew. */
    evict_pool_forget(p, it);
    /* Keep ascending by score; the best candidate is last. */
    for (i = 0; i < p->n && p->score[i] < score; i++) {
    }
    if (p->n == EVICT_POOL_SIZE) {
        if (i == 0) {
            return; /* worse than everything kept */
        }
        /* Drop the worst (index 0) to make room below i. */
        memmove(&p->it[0], &p->it[1], (size_t)(i - 1) * sizeof(p->it[0]));
        memmove(&p->score[0], &p->score[1], (size_t)(i - 1) * sizeof(p->score[0]));
        i--;
    } else {
        memmove(&p->it[i + 1], &p->it[i], (size_t)(p->n - i) * sizeof(p->it[0]));
        memmove(&p->score[i + 1], &p->score[i], (size_t)(p->n - i) * sizeof(p->score[0]));
        p->n++;
    }
    p->it[i] = it;
    p->score[i] = score;
}

void
evict_pool_forget(struct evict_pool *p, const struct item *it)
{
    for (int i = 0; i < p->n; i++) {
        if (p->it[i] == it) {
            memmove(&p->it[i], &p->it[i + 1], (size_t)(p->n - i - 1) * sizeof(p->it[0]));
            memmove(&p->score[i], &p->score[i + 1], (size_t)(p->n - i - 1) * sizeof(p->score[0]));
            p->n--;
            return;
        }
    }
}

void
evict_pool_moved(struct evict_pool *p, const struct item *from, struct item *to)
{
    for (int i = 0; i < p->n; i++) {
        if (p->it[i] == from) {
            p->it[i] = to;
            return;
        }
    }
}

struct item *
evict_pool_pop(struct evict_pool *p)
{
    return p->n == 0 ? NULL : p->it[--p->n];
}

void
evict_pool_sample(struct evict_pool *p, bool volatile_only, uint64_t (*score)(struct item *))
{
    struct item *sample[EVICT_SAMPLES_MAX];
    int want = (int)MIN(evict_opts.samples, (long long)EVICT_SAMPLES_MAX);
    int n = kv_sample(sample, want, volatile_only);

    for (int i = 0; i < n; i++) {
        evict_pool_offer(p, sample[i], score(sample[i]));
    }
}
