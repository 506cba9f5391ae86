/*
 * test_hist.c -- the latency histogram against exact percentiles of the same
 * samples: every value lands in a bucket whose upper bound is within
 * 1/HIST_SUB of it, and a percentile is the bound of the right bucket.
 */
#define TEST_SUITE "hist"
#include "tests/unit/testhelp.h"

#include "common/hist.h"
#include "common/rand.h"

#include <math.h>
#include <stdlib.h>

static void
test_bucket_bounds(void)
{
    uint64_t seed = 1;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = rand_splitmix64(&seed) >> (rand_splitmix64(&seed) % 64);
        size_t b = hist_index(v);
        uint64_t high = hist_high(b);
        CHECK(b < HIST_BUCKETS);
        CHECK(high >= v);
        CHECK((double)(high - v) <= (double)v / (double)HIST_SUB);
        if (b > 0) {
            CHECK(hist_high(b - 1) < v); /* v is in b, not below it */
        }
    }
    CHECK_INT(hist_index(0), 0);
    CHECK_INT(hist_high(hist_index(UINT64_MAX)), UINT64_MAX);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
test_percentiles_match_exact(void)
{
    enum { N = 100000 };
    static uint64_t v[N];
    static struct hist h, a, b;
    uint64_t seed = 7;
    const double ps[] = {1, 50, 90, 99, 99.9, 100};

    for (int i = 0; i < N; i++) {
        /* latencies spread over four decades, as a read-through mix */
        v[i] = (uint64_t)(50.0 * pow(10.0, 4.0 * (double)(rand_splitmix64(&seed) % 1000000) / 1e6));
        hist_record(&h, v[i]);
        hist_record(i % 2 ? &a : &b, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        uint64_t exact = v[(size_t)ceil(ps[k] / 100.0 * N) - 1];
        uint64_t got = hist_percentile(&h, ps[k]);
        CHECK(got >= exact);
        CHECK((double)(got - exact) <= (double)exact / (double)HIST_SUB);
    }
    CHECK_INT(hist_percentile(&h, 100), v[N - 1]);
    hist_merge(&a, &b);
    CHECK_INT(a.count, h.count);
    CHECK_INT(a.sum, h.sum);
    CHECK_INT(a.max, h.max);
    CHECK(memcmp(a.bucket, h.bucket, sizeof(h.bucket)) == 0);
}

static void
test_empty_and_single(void)
{
    static struct hist h;

    CHECK_INT(hist_percentile(&h, 50), 0);
    hist_record(&h, 12345);
    CHECK_INT(hist_percentile(&h, 0.1), 12345); /* never above the largest value */
    CHECK_INT(hist_percentile(&h, 100), 12345);
}

TEST_MAIN(test_bucket_bounds, test_percentiles_match_exact, test_empty_and_single)
