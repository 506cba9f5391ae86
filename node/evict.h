/*
 * evict.h -- maxmemory and the eviction policies.
 *
 * Each policy is a module behind struct evict_ops (evict_lru.c, evict_lfu.c,
 * evict_random.c, evict_ttl.c); this file holds the interface, noeviction,
 * the keyspace's hooks and the loop that frees memory.  The keyspace calls
 * evict_key_*() as keys come, go, are read and are reallocated; the hooks
 * pass on only keys the policy may evict (volatile-* policies see only keys
 * with a TTL), so a policy never filters.
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
    EVICT_NOEVICTION,
    EVICT_POLICY_COUNT
};

struct evict_ops {
    const char *name; /* the maxmemory-policy value */
    bool volatile_only;
    bool lfu;                                    /* meta holds LFU state (OBJECT FREQ) */
    void (*start)(void);                         /* becomes the policy; keys attach next */
    void (*stop)(void);                          /* forgets every key */
    void (*attach)(struct item *it);             /* an eligible key was added */
    void (*detach)(struct item *it);             /* an eligible key is going */
    void (*touch)(struct item *it);              /* an eligible key was read or written */
    void (*moved)(struct item *from, struct item *to); /* to is from reallocated */
    struct item *(*victim)(void);                /* next key to evict; NULL: none */
};

extern const struct evict_ops evict_lru_allkeys, evict_lru_volatile;
extern const struct evict_ops evict_lfu_allkeys, evict_lfu_volatile;
extern const struct evict_ops evict_random_allkeys, evict_random_volatile;
extern const struct evict_ops evict_ttl_volatile;

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

/* LFU state of a new key, and its update on an access (evict_lfu.c). */
void evict_lfu_init(struct item *it);
void evict_lfu_access(struct item *it);

/* OBJECT IDLETIME / FREQ helpers. */
long long evict_idle_seconds(const struct item *it);
unsigned evict_lfu_freq(const struct item *it);

/* Seconds clock for access times, 32 bits wide (wraps in 136 years). */
uint32_t evict_clock(void);

/* ---- shared by the sampling policies (lfu, ttl) ---- */
#define EVICT_POOL_SIZE 16    /* redis EVPOOL_SIZE */
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
