/*
 * latency.c -- see latency.h.
 */
#include "loader/latency.h"

static uint64_t
bucket_bound(int i)
{
    return (uint64_t)LATENCY_BASE_US << i;
}

void
latency_record(struct latency *l, uint64_t us)
{
    int i = 0;

    while (i < LATENCY_BUCKETS - 1 && us > bucket_bound(i)) {
        i++;
    }
    l->bucket[i]++;
    l->count++;
    l->sum_us += us;
}

uint64_t
latency_mean_us(const struct latency *l)
{
    return l->count == 0 ? 0 : l->sum_us / l->count;
}

uint64_t
latency_percentile_us(const struct latency *l, double p)
{
    if (l->count == 0) {
        return 0;
    }
    /* The rank of the sample at p, 1-based: the 99th of 100 is rank 99. */
    uint64_t rank = (uint64_t)((double)l->count * p / 100.0 + 0.999999);
    uint64_t seen = 0;

    if (rank == 0) {
        rank = 1;
    }
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        seen += l->bucket[i];
        if (seen >= rank) {
            return bucket_bound(i);
        }
    }
    return bucket_bound(LATENCY_BUCKETS - 1);
}
