/*
 * evict_sketch.h -- a count-min sketch of recent key frequencies, with aging.
 *
 * TinyLFU's frequency estimate (evict_wtinylfu.c): EVICT_SKETCH_DEPTH rows
 * of 4-bit saturating counters, a key's estimate the smallest of its
 * counters.  An increment raises only the counters equal to that minimum
 * ("conservative update": it overestimates less than raising all of them).
 * Every `period` increments every counter is halved, so the sketch
 * describes the recent past and popularity that moves is followed.
 *
 * Layout: blocks of one 64-byte cache line (8 words of 16 counters); the
 * low 32 bits of a key's hash pick its block, each byte of the high 32 bits
 * one counter of a row (row r owns words 2r and 2r+1 of the block), so an
 * access touches one cache line instead of four, as Caffeine's
 * FrequencySketch does since version 3.
 *
 * The size follows the number of keys in the cache: a block per
 * EVICT_SKETCH_KEYS_PER_BLOCK keys (16 counters, 8 bytes per key), grown a
 * quarter at a time when keys are added.  A key's block is at the same
 * relative place in a sketch of any size (multiply-shift), so growing copies
 * each old block to the new blocks that now cover it and a key's counters
 * keep their values (but for the few keys at a boundary).  It never shrinks while the policy runs
 * (FLUSHALL and a policy switch free it).  Memory: 8-10 bytes per key, allocated through
 * common/mem.h (it counts in used_memory).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define EVICT_SKETCH_DEPTH 4
#define EVICT_SKETCH_BLOCK_WORDS 8    /* 64 bytes: one cache line */
#define EVICT_SKETCH_KEYS_PER_BLOCK 8 /* 16 counters per key */
#define EVICT_SKETCH_MIN_BLOCKS 8
#define EVICT_SKETCH_SLACK 4 /* grow by at least blocks / SLACK */
#define EVICT_SKETCH_AGE 10  /* period = AGE x keys: TinyLFU's sample of 10 W */
#define EVICT_SKETCH_MAX 15  /* 4-bit counters */

struct evict_sketch {
    uint64_t *words; /* nblocks x EVICT_SKETCH_BLOCK_WORDS */
    uint64_t nblocks;
    uint64_t additions; /* increments since the last halving */
    uint64_t period;    /* halve every counter after this many */
};

void evict_sketch_init(struct evict_sketch *s);
void evict_sketch_free(struct evict_sketch *s);
/* Sizes the sketch for nkeys keys: widens it if it is too small
 * (amortised O(1)), and sets the aging period to EVICT_SKETCH_AGE x nkeys. */
void evict_sketch_fit(struct evict_sketch *s, uint64_t nkeys);
/* Counts one access of the key with hash h. */
void evict_sketch_add(struct evict_sketch *s, uint64_t h);
/* The key's estimated recent accesses, 0..EVICT_SKETCH_MAX. */
unsigned evict_sketch_estimate(const struct evict_sketch *s, uint64_t h);
