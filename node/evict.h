/*
 * evict.h -- maxmemory and the eviction policies.
 *
 * Each policy is a module behind struct evict_ops (evict_lru.c, evict_lfu.c,
 * evict_random.c, evict_ttl.c, evict_sieve.c, evict_s3fifo.c,
 * evict_wtinylfu.c); this file holds the interface, noeviction, the
 * keyspace's hooks, the loop that frees memory and what several policies
 * share (an intrusive list, the sampling pool).  The keyspace calls
 * evict_key_*() as keys come, go, are read and are reallocated; the hooks
 * pass on only keys the policy may evict (volatile-* policies see only keys
 * with a TTL), so a policy never filters.
 *
 * Per-key state lives in the item header only: prev/next (one list the
 * policy threads its keys on) and pbits are the policy's; meta is the
 * access time in seconds (OBJECT IDLETIME) under every policy but the LFU
 * ones, where it is redis's LFU counter (OBJECT FREQ).  A policy that needs
 * more keeps a global structure (a frequency sketch, a ghost FIFO) whose
 * memory is allocated through common/mem.h and so counts in used_memory.
 *
 * Every hook and victim() is O(1), or amortised O(1): no policy walks the
 * keyspace to evict.  victim() is called only to evict what it returns
 * (evict_perform, the offline replay), so it may move keys between its
 * queues on the way, as the FIFO-based policies do.
 *
 * Policies switch at run time (CONFIG SET maxmemory-policy): the old one
 * forgets its keys and the new one is given every eligible key.  That walk
 * is O(keys), done once per switch; per-key state (access time, LFU counter)
 * restarts, as redis warns for its own switches.
 */
#pragma once

#include "common/conf.h"
#include "node/item.h"

#include <stdbool.h>
#include <stdint.h>

enum evict_policy {
    EVICT_VOLATILE_LRU,
    EVICT_ALLKEYS_LRU,
    EVICT_VOLATILE_LFU,
    EVICT_ALLKEYS_LFU,
    EVICT_VOLATILE_RANDOM,
    EVICT_ALLKEYS_RANDOM,
    EVICT_VOLATILE_TTL,
    EVICT_VOLATILE_SIEVE,
    EVICT_ALLKEYS_SIEVE,
    EVICT_VOLATILE_S3FIFO,
    EVICT_ALLKEYS_S3FIFO,
    EVICT_VOLATILE_WTINYLFU,
    EVICT_ALLKEYS_WTINYLFU,
    EVICT_NOEVICTION,
    EVICT_POLICY_COUNT
};

struct evict_ops {
    const char *name; /* the maxmemory-policy value */
    bool volatile_only;
    bool lfu;                                          /* meta holds LFU state (OBJECT FREQ) */
    void (*start)(void);                               /* becomes the policy; keys attach next */
    void (*stop)(void);                                /* forgets every key */
    void (*attach)(struct item *it);                   /* an eligible key was added */
    void (*detach)(struct item *it);                   /* an eligible key is going */
    void (*touch)(struct item *it);                    /* an eligible key was read or written */
    void (*moved)(struct item *from, struct item *to); /* to is from reallocated */
    struct item *(*victim)(void);                      /* next key to evict; NULL: none */
};

extern const struct evict_ops evict_lru_allkeys, evict_lru_volatile;
extern const struct evict_ops evict_lfu_allkeys, evict_lfu_volatile;
extern const struct evict_ops evict_random_allkeys, evict_random_volatile;
extern const struct evict_ops evict_ttl_volatile;
extern const struct evict_ops evict_sieve_allkeys, evict_sieve_volatile;
extern const struct evict_ops evict_s3fifo_allkeys, evict_s3fifo_volatile;
extern const struct evict_ops evict_wtinylfu_allkeys, evict_wtinylfu_volatile;

/* Tunables shared with the policies (CONFIG SET maxmemory-samples, ...). */
struct evict_options {
    unsigned long long maxmemory; /* bytes; 0: no limit */
    int policy;                   /* enum evict_policy */
    long long samples;            /* maxmemory-samples */
    long long lfu_log_factor;     /* lfu-log-factor */
    long long lfu_decay_time;     /* lfu-decay-time, minutes */
};

extern struct evict_options evict_opts;

/* The names of the policies, for the config table (ends with {NULL, 0}). */
extern const struct conf_enum evict_policy_names[];

void evict_setup(void);
void evict_teardown(void);
/* Switches to evict_opts.policy (after CONFIG SET); O(keys). */
void evict_policy_changed(void);
const struct evict_ops *evict_current(void);

/* Keyspace hooks. */
void evict_key_added(struct item *it);
void evict_key_removed(struct item *it);
void evict_key_accessed(struct item *it);
void evict_key_moved(struct item *from, struct item *to);
/* The keyspace was emptied (FLUSHALL): forget every key at once. */
void evict_reset(void);

/* Memory that counts against maxmemory (used_memory). */
size_t evict_used_memory(void);
/* Evicts keys until used memory is within maxmemory.  SC_OK when it is (or
 * there is no limit), SC_ERR when no key could be evicted: commands that
 * would grow memory get the OOM error then. */
int evict_perform(void);

/* LFU state of a new key, and its update on an access (evict_lfu.c): redis's
 * 8-bit logarithmic counter and decay, kept in meta. */
void evict_lfu_init(struct item *it);
void evict_lfu_access(struct item *it);

/* OBJECT IDLETIME / FREQ helpers. */
long long evict_idle_seconds(const struct item *it);
unsigned evict_lfu_freq(const struct item *it);

/* Seconds clock for access times, 32 bits wide (wraps in 136 years). */
uint32_t evict_clock(void);

/* ---- shared by the list policies (lru, sieve, s3fifo, wtinylfu) ---- */

/* Keys threaded through their prev/next links, newest at the head; NULL
 * ends both ways.  O(1) everything, no allocation. */
struct evict_list {
    struct item *head; /* newest */
    struct item *tail; /* oldest */
    uint64_t n;
};

static inline void
evict_list_init(struct evict_list *l)
{
    l->head = l->tail = NULL;
    l->n = 0;
}

static inline void
evict_list_push(struct evict_list *l, struct item *it)
{
    it->prev = NULL;
    it->next = l->head;
    if (l->head != NULL) {
        l->head->prev = it;
    } else {
        l->tail = it;
    }
    l->head = it;
    l->n++;
}

static inline void
evict_list_remove(struct evict_list *l, struct item *it)
{
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        l->head = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        l->tail = it->prev;
    }
    it->prev = it->next = NULL;
    l->n--;
}

/* to is a copy of from's header (the keyspace reallocated the key): point
 * the neighbours and the ends at it. */
static inline void
evict_list_moved(struct evict_list *l, const struct item *from, struct item *to)
{
    (void)from;
    if (to->prev != NULL) {
        to->prev->next = to;
    } else {
        l->head = to;
    }
    if (to->next != NULL) {
        to->next->prev = to;
    } else {
        l->tail = to;
    }
}

/* ---- shared by the sampling policies (ttl) ---- */
#define EVICT_POOL_SIZE 16     /* redis EVPOOL_SIZE */
#define EVICT_SAMPLES_MAX 1024 /* maxmemory-samples beyond this sample this many */

/* Candidates kept across evictions, best (highest score) last, like redis's
 * EvictionPoolLRU; it holds item pointers, so detach/moved must be told. */
struct evict_pool {
    struct item *it[EVICT_POOL_SIZE];
    uint64_t score[EVICT_POOL_SIZE];
    int n;
};
void evict_pool_clear(struct evict_pool *p);
void evict_pool_offer(struct evict_pool *p, struct item *it, uint64_t score);
void evict_pool_forget(struct evict_pool *p, const struct item *it);
void evict_pool_moved(struct evict_pool *p, const struct item *from, struct item *to);
/* Takes the best candidate out of the pool. */
struct item *evict_pool_pop(struct evict_pool *p);
/* Fills the pool with evict_opts.samples random eligible keys scored by fn. */
void evict_pool_sample(struct evict_pool *p, bool volatile_only, uint64_t (*fn)(struct item *));
