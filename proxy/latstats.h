/*
 * latstats.h -- how long clients wait for the proxy, by kind of request.
 *
 * A read-through cache has two very different latencies: a hit costs a hop
 * to a node, a miss a query to the database.  A client cannot tell them
 * apart (both answer the value), so the proxy measures them: from the loop
 * iteration that read the request to the one that wrote its reply, which
 * includes waiting behind earlier requests of a pipeline, as the client
 * sees it.  Resolution is the event loop's clock (ev_now): no syscall per
 * request.
 *
 * INFO latencystats reports them in redis 7's format and names
 * (latency_percentiles_usec_<name>:p50=...,p99=...), /metrics as summaries;
 * CONFIG RESETSTAT clears them.
 */
#pragma once

#include <stdint.h>

enum latstats_class {
    LAT_OTHER,    /* every request that is not a GET with a value or nil */
    LAT_GET_HIT,  /* a GET a node answered with a value */
    LAT_GET_MISS, /* a GET that missed: answered nil, or read through */
    LAT_NCLASS
};

struct sbuf;

void latstats_record(enum latstats_class c, uint64_t us);
void latstats_reset(void);
/* The "# Latencystats" section's lines. */
void latstats_info(struct sbuf *s);
/* slotcache_proxy_request_latency_seconds{kind=...} summaries. */
void latstats_metrics(struct sbuf *s);
