/*
 * latency.h -- query latency: count, mean, and percentiles from a small
 * histogram.
 *
 * Buckets double in width from LATENCY_BASE_US, so 24 counters cover 64 us
 * to about nine minutes with a relative error under 2x; a percentile is
 * reported as the upper bound of the bucket it falls in (what a Prometheus
 * histogram_quantile would say without interpolation).  Exact enough to
 * tell a 1 ms query from a 50 ms one, which is what an operator asks.
 */
#pragma once

#include <stdint.h>

#define LATENCY_BUCKETS 24
#define LATENCY_BASE_US 64 /* upper bound of the first bucket */

struct latency {
    uint64_t count;
    uint64_t sum_us;
    uint64_t bucket[LATENCY_BUCKETS];
};

void latency_record(struct latency *l, uint64_t us);
/* Mean in microseconds (0 with no samples). */
uint64_t latency_mean_us(const struct latency *l);
/* The p-th percentile (0 < p <= 100) in microseconds, as the upper bound of
 * its bucket; 0 with no samples. */
uint64_t latency_percentile_us(const struct latency *l, double p);
