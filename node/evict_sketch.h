/*
 * evict_sketch.h -- a count-min sketch of recent key frequencies, with aging.
 *
 * TinyLFU's frequency estimate (evict_wtinylfu.c): EVICT_SKETCH_DEPTH rows
 * of 4-bit saturating counters; a key's four counters are picked by double
 * hashing of its 64-bit hash and its estimate is the smallest of them.  An
 * increment raises only the counters equal to that minimum ("conservative
 * update": it overestimates less than raising all of them).  Every `period`
 * increments every counter is halved, so the sketch describes the recent
 * past and popularity that moves is followed.
 *
 * The width follows the number of keys in the cache: EVICT_SKETCH_PER_KEY
 * counters per row per key, grown by a quarter at a time when keys are
 * added; a counter's place is relative to the row (multiply-shift), so
 * growing copies each old counter to the places that now cover it and a
 * key's counters keep their values.  It never shrinks while the policy
 * runs (FLUSHALL and a policy switch free it).  Memory: DEPTH x width / 2
 * bytes, 8-10 bytes per key at 4 counters per row per key, allocated
 * through common/mem.h (counts in used_memory).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define EVICT_SKETCH_DEPTH 4
#define EVICT_SKETCH_PER_KEY 4 /* counters per row per key in the cache */
#define EVICT_SKETCH_AGE 10    /* period = AGE x keys: TinyLFU's sample of 10 W */
#define EVICT_SKETCH_MAX 15    /* 4-bit counters */
#define EVICT_SKETCH_MIN_WIDTH 64
#define EVICT_SKETCH_SLACK 4 /* grow by at least width / SLACK */

struct evict_sketch {
    uint64_t *words;    /* DEPTH rows of width / 16 words, 16 counters each */
    uint64_t width;     /* counters per row, a multiple of 16 */
    uint64_t additions; /* increments since the last halving */
    uint64_t period;    /* halve every counter after this many */
};

void evict_sketch_init(struct evict_sketch *s);
void evict_sketch_free(struct evict_sketch *s);
/* Sizes the sketch for nkeys keys: widens it if it is too narrow
 * (amortised O(1)), and sets the aging period to EVICT_SKETCH_AGE x nkeys. */
void evict_sketch_fit(struct evict_sketch *s, uint64_t nkeys);
/* Counts one access of the key with hash h. */
void evict_sketch_add(struct evict_sketch *s, uint64_t h);
/* The key's estimated recent accesses, 0..EVICT_SKETCH_MAX. */
unsigned evict_sketch_estimate(const struct evict_sketch *s, uint64_t h);
