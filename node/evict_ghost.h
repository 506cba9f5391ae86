/*
 * evict_ghost.h -- a FIFO of the fingerprints of keys evicted recently.
 *
 * S3-FIFO's ghost queue (evict_s3fifo.c): it remembers keys that left the
 * cache, without their values, so that a key coming back soon can be told
 * from a new one.  A fingerprint is 32 bits of the key's hash (never 0);
 * two keys that share one are taken for each other, which at 2^-32 per pair
 * changes nothing measurable.
 *
 * Layout: a ring of fingerprints in FIFO order and an open-addressing table
 * (linear probing, backward-shift deletion) of ring positions for lookups.
 * Removing a fingerprint from the middle marks its ring slot dead; dead
 * slots are dropped when the ring is rebuilt, which happens only when it
 * is full, so every operation is amortised O(1).  The ring has up to a
 * quarter more slots than entries and the table a third more than the
 * ring: 9-12 bytes per entry, allocated through common/mem.h (it counts in
 * used_memory).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evict_ghost {
    uint32_t *ring;  /* fingerprints, oldest at head; 0: removed */
    uint64_t cap;    /* ring slots */
    uint64_t head;   /* ring index of the oldest */
    uint64_t used;   /* slots in use from head, live or removed */
    uint64_t live;   /* fingerprints in the ghost */
    uint32_t *table; /* ring index + 1 of each live slot; 0: empty */
    uint64_t tsize;  /* table slots */
};

/* The fingerprint of a key whose 64-bit hash is h. */
static inline uint32_t
evict_ghost_fp(uint64_t h)
{
    uint32_t fp = (uint32_t)(h >> 32);
    return fp != 0 ? fp : 1;
}

void evict_ghost_init(struct evict_ghost *g);
/* Frees the memory; the ghost is empty and may be used again. */
void evict_ghost_free(struct evict_ghost *g);
/* Adds fp as the newest entry, first dropping the oldest ones so that at
 * most max entries remain (none is added when max is 0). */
void evict_ghost_add(struct evict_ghost *g, uint32_t fp, uint64_t max);
/* Whether fp is in the ghost; if it is, it is removed. */
bool evict_ghost_take(struct evict_ghost *g, uint32_t fp);
/* Whether fp is in the ghost (tests). */
bool evict_ghost_has(const struct evict_ghost *g, uint32_t fp);
