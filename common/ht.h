/*
 * ht.h -- an intrusive chained hash table with incremental rehashing (shared:
 * the node's keyspace and hashes, the proxy's single-flight map and caches).
 *
 * Entries embed a struct ht_node (memcached's h_next), so inserting
 * allocates nothing beyond the bucket array.  A ht_type says how to hash an
 * entry and compare it with a key (redis dictType), which lets the keyspace
 * (items) and big hashes (fields) share this code.
 *
 * Growth and shrinking move entries a few buckets at a time on each
 * operation and in the server cron (redis dict.c's two-table scheme), so a
 * resize never stalls the loop.  The table grows when it holds as many
 * entries as buckets and shrinks below one entry per HT_MIN_FILL buckets.
 *
 * ht_scan() uses the reverse-binary cursor: every entry present for the whole
 * of a scan is returned at least once, across any number of resizes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HT_INITIAL_SIZE 4
#define HT_MIN_FILL 10            /* shrink when used < size / HT_MIN_FILL */
#define HT_REHASH_STEP_BUCKETS 1  /* buckets moved per operation */
#define HT_CHAIN_BOUND 8          /* chain places a fair random pick draws from */

struct ht_node {
    struct ht_node *next;
};

struct ht_type {
    /* Hash of the entry's key (with ht_hash()); called when rehashing. */
    uint64_t (*hash)(const struct ht_node *n);
    /* Whether the entry's key is key[0..len). */
    bool (*eq)(const struct ht_node *n, const void *key, size_t len);
};

struct ht_table {
    struct ht_node **buckets;
    uint64_t size; /* a power of two, or 0 */
    uint64_t used;
};

struct ht {
    const struct ht_type *type;
    struct ht_table t[2]; /* t[1] is the target while rehashing */
    int64_t rehash_idx;   /* next bucket of t[0] to move; -1: not rehashing */
    uint32_t pause_resize; /* >0: no resize starts (while something walks buckets) */
};

/* Seeds the hash function (call once at startup with random bytes). */
void ht_seed(const uint8_t seed[16]);
uint64_t ht_hash(const void *key, size_t len);

void ht_init(struct ht *h, const struct ht_type *type);
/* Frees the bucket arrays (not the entries: their owner frees them). */
void ht_deinit(struct ht *h);

static inline uint64_t
ht_count(const struct ht *h)
{
    return h->t[0].used + h->t[1].used;
}

/* Finds the entry with key; hash = ht_hash(key, len). */
struct ht_node *ht_find(struct ht *h, const void *key, size_t len, uint64_t hash);
/* Inserts n, whose key is not in the table. */
void ht_insert(struct ht *h, struct ht_node *n, uint64_t hash);
/* Unlinks n (which is in the table) without freeing it. */
void ht_remove(struct ht *h, struct ht_node *n, uint64_t hash);
/* Puts n in old's place (same key): the keyspace replaces an item whose
 * allocation changed without a second lookup. */
void ht_replace(struct ht *h, struct ht_node *old, struct ht_node *n, uint64_t hash);
/* A random entry (NULL if empty), every entry equally likely. */
struct ht_node *ht_random(struct ht *h);
/* Up to n distinct entries from consecutive buckets starting at a random
 * one (eviction sampling: cheap, not uniform); all of them if n >= count.
 * Returns how many.  The entries are valid until the table changes. */
int ht_sample(struct ht *h, struct ht_node **out, int n);

/* Calls fn for each entry of the bucket(s) at cursor and returns the next
 * cursor (0 when the scan is complete).  fn must not insert or remove. */
typedef void ht_scan_fn(void *ctx, struct ht_node *n);
uint64_t ht_scan(struct ht *h, uint64_t cursor, ht_scan_fn *fn, void *ctx);

/* Moves up to n buckets of a rehash in progress; returns whether one is
 * still in progress.  Empty buckets visited are capped at 10n. */
bool ht_rehash_step(struct ht *h, int n);
/* Starts a shrink if the table is sparse (the cron calls this: deletions
 * alone never shrink, so a table emptied by eviction gives memory back). */
void ht_maybe_shrink(struct ht *h);
/* Bytes held by the bucket arrays. */
size_t ht_mem(const struct ht *h);

/* Full iteration for code that owns the table (FLUSHALL, policy switch,
 * teardown): calls fn for every entry; fn may free the entry but not touch
 * the table. */
void ht_foreach(struct ht *h, ht_scan_fn *fn, void *ctx);
