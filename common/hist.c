/*
 * hist.c -- see hist.h.
 */
#include "common/hist.h"

#include "common/defs.h"

#include <math.h>

uint64_t
hist_high(size_t i)
{
    if (i < 2 * HIST_SUB) {
        return i;
    }
    unsigned shift = (unsigned)(i / HIST_SUB) - 1;
    uint64_t m = i - shift * HIST_SUB;
    /* 128 bits: the top power of two's last bound, 2^64 - 1, overflows. */
    unsigned __int128 high = ((unsigned __int128)(m + 1) << shift) - 1;
    return high > UINT64_MAX ? UINT64_MAX : (uint64_t)high;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
    dst->count += src->count;
    dst->sum += src->sum;
    dst->max = MAX(dst->max, src->max);
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        dst->bucket[i] += src->bucket[i];
    }
}

uint64_t
hist_percentile(const struct hist *h, double p)
{
    if (h->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    rank = MAX(rank, 1);
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            return MIN(hist_high(i), h->max);
        }
    }
    return h->max;
}
