/*
 * kv.h -- the keyspace: one database of items with lazy expiry.
 *
 * Ownership: the keyspace owns every item in it and frees it on delete,
 * replace and flush.  Pointers to items are valid until the next call that
 * may delete or reallocate one (any kv_* that changes the keyspace, and
 * evict_perform()); commands look a key up, act, and do not hold on.
 *
 * Keys with a TTL are also in a vector (each item knows its slot), so that
 * the active expiry cycle and the volatile-* policies can walk or sample
 * them without touching keys that cannot expire.
 */
#pragma once

#include "node/item.h"

#include <stdbool.h>
#include <stdint.h>

/* kv_lookup flags */
#define KV_NOTOUCH 0x1 /* do not count as an access for eviction */
#define KV_NOSTATS 0x2 /* do not count keyspace_hits/misses (write lookups) */
#define KV_WRITE (KV_NOSTATS)

struct kv_counters {
    uint64_t hits;    /* keyspace_hits */
    uint64_t misses;  /* keyspace_misses */
    uint64_t expired; /* expired_keys */
    uint64_t evicted; /* evicted_keys */
    uint64_t expired_stale_perc_x100; /* last active cycle's stale share, for INFO */
};

extern struct kv_counters kv_stats;

void kv_setup(void);
void kv_teardown(void);

uint64_t kv_count(void);
uint64_t kv_volatile_count(void);
/* Bytes of the keyspace's own structures (table, vector), for INFO. */
size_t kv_overhead(void);

/* The live item with this key, or NULL; an expired item found is deleted
 * (lazy expiry).  Counts a hit or miss unless KV_NOSTATS, records an access
 * unless KV_NOTOUCH. */
struct item *kv_lookup(const char *key, size_t klen, int flags);
/* Whether it has expired at the loop's current time. */
bool kv_is_expired(const struct item *it);
/* The item with this key even if its time has passed, without expiring it
 * or counting anything: MEMORY USAGE reads the table as redis's dictFind. */
struct item *kv_peek(const char *key, size_t klen);

/* Adds it (its key must be absent). */
void kv_add(struct item *it);
/* it takes old's place (same key) and old's allocation is freed; old's TTL
 * goes with old unless it carries one.  it may be a fresh item: it inherits
 * old's eviction state (the key was not evicted, only reallocated).  A hash's hobj moves with it: old's
 * is not freed. */
void kv_replace(struct item *old, struct item *it);
/* Like kv_replace, but old's value goes too (SET over a hash). */
void kv_overwrite(struct item *old, struct item *it);
/* Removes it and frees it and its value. */
void kv_delete(struct item *it);
/* Removes it counting an eviction (evicted_keys). */
void kv_evict(struct item *it);
/* Moves it under key, as RENAME does: its value (a hash's hobj moves, it is
 * not copied), TTL and access history go along, and an item already at key
 * is deleted.  key must differ from the item's own.  Returns the moved item (it
 * is freed), or NULL if memory is short (the keyspace is unchanged). */
struct item *kv_rename(struct item *it, const char *key, size_t klen);
/* Lazy expiry for code that holds an item rather than a key (SCAN,
 * RANDOMKEY): deletes it, counting expired_keys, if its time has passed.
 * Returns whether it was deleted. */
bool kv_expire_if_needed(struct item *it);

/* Sets an absolute expire time in ms, reallocating the item if it had no
 * TTL; *itp is updated.  SC_ENOMEM leaves it unchanged. */
int kv_set_expire(struct item **itp, long long when_ms);
/* Drops the TTL (reallocates); SC_ENOMEM leaves it unchanged. */
int kv_persist(struct item **itp);
/* Grows a string value's room to at least cap bytes (APPEND, SETRANGE). */
int kv_reserve_value(struct item **itp, size_t cap);

/* Uniform random item (NULL if empty) and random item with a TTL. */
struct item *kv_random(void);
struct item *kv_random_volatile(void);
/* Up to n distinct items for eviction sampling, from a random place (of
 * the keys with a TTL when volatile_only); all of them if n is at least
 * their number.  Returns how many. */
int kv_sample(struct item **out, int n, bool volatile_only);
/* The i-th key with a TTL, for walking the vector. */
struct item *kv_volatile_at(uint64_t i);

typedef void kv_scan_fn(void *ctx, struct item *it);
/* SCAN: calls fn for the items of one cursor step; returns the next cursor. */
uint64_t kv_scan(uint64_t cursor, kv_scan_fn *fn, void *ctx);
/* Every item (KEYS, policy switch).  fn must not change the keyspace. */
void kv_foreach(kv_scan_fn *fn, void *ctx);

/* FLUSHALL/FLUSHDB: empties the keyspace; with async the old items are
 * freed a bounded number per cron tick instead of all at once. */
void kv_flush(bool async);
/* Background work for one cron tick: rehash steps, pending frees. */
void kv_cron(void);
/* Items still waiting to be freed after FLUSHALL ASYNC. */
uint64_t kv_lazyfree_pending(void);
