/*
 * hist.h -- a latency histogram: exact enough for p99.9, fixed size, no
 * allocation per sample (the proxy records every request; slotcache-bench
 * every reply).
 *
 * Log-linear, as HdrHistogram lays it out (Debian has no C HdrHistogram):
 * values below 2 * HIST_SUB have a bucket each, and every later power of two
 * is cut into HIST_SUB buckets, so any value is within 1/HIST_SUB (0.8%) of
 * its bucket's bounds, over the whole uint64_t range, in 58 KB:
 *
 *   index:  0 1 ... 2S-1 | 2S ..... 3S-1 | 3S ..... 4S-1 | ...
 *   values: 0 1 ... 2S-1 | 2S, 2S+2, ... | 4S, 4S+4, ... | ...   (S = HIST_SUB)
 *
 * Units are the caller's (bench: nanoseconds, proxy: microseconds).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1ULL << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t count, sum, max;
    uint64_t bucket[HIST_BUCKETS];
};

static inline size_t
hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB) {
        return (size_t)v;
    }
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    return (size_t)(shift * HIST_SUB + (v >> shift));
}

static inline void
hist_record(struct hist *h, uint64_t v)
{
    h->count++;
    h->sum += v;
    h->max = v > h->max ? v : h->max;
    h->bucket[hist_index(v)]++;
}

/* The largest value that falls in bucket i. */
uint64_t hist_high(size_t i);
void hist_merge(struct hist *dst, const struct hist *src);
/* The p-th percentile (0 < p <= 100): the upper bound of the bucket that
 * holds the ceil(p% * count)-th value, never above the largest value seen;
 * 0 with no samples. */
uint64_t hist_percentile(const struct hist *h, double p);
