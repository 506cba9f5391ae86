/*
 * load.c -- see load.h.
 *
 * A flight's data is its route; its key copy (NUL-terminated) holds the
 * query's parameter, which the pool borrows until it answers: a flight
 * lives exactly as long as its query.
 */
#include "loader/load.h"

#include "common/clock.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/mem.h"
#include "loader/loader.h"
#include "loader/loader.pb-c.h"
#include "loader/pgpool.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Room for the reply's other fields within a frame. */
#define LOAD_VALUE_MAX (FRAME_PAYLOAD_MAX - 64)

static load_done_fn *answer_fn;
static const char **route_sql; /* the pool's statements, by route id */
static char why[512];          /* messages of answers given at once */

static void on_query_done(void *ctx, const struct pgpool_result *r);

void
load_setup(load_done_fn *done)
{
    struct pgpool_options o = {
        .conninfo = loader.opt.postgres,
        .size = (int)loader.opt.pool_size,
        .query_timeout_ms = loader.opt.query_timeout_ms,
        .nsql = loader.routes.n,
    };

    answer_fn = done;
    route_sql = mem_calloc((size_t)MAX(loader.routes.n, 1), sizeof(*route_sql));
    for (int i = 0; i < loader.routes.n; i++) {
        route_sql[i] = loader.routes.routes[i].sql;
    }
    o.sql = route_sql;
    pgpool_setup(loader.loop, &o, on_query_done);
}

void
load_teardown(void)
{
    pgpool_teardown();
    mem_free(route_sql);
    route_sql = NULL;
}

static bool answer_now(struct load_result *now, int status, const char *fmt, ...) SC_PRINTF(3, 4);

static bool
answer_now(struct load_result *now, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    *now = (struct load_result){.status = status, .message = why};
    return false;
}

/* The breaker's verdict for a new query; logs its transitions. */
static bool
breaker_allows(void)
{
    bool changed;
    bool ok = breaker_allow(&loader.breaker, clock_now_ms(), &changed);

    if (changed) {
        log_notice("Circuit breaker half-open: letting one probe query through");
    }
    return ok;
}

bool
load_key(struct flight_waiter *w, const char *key, size_t len, struct load_result *now)
{
    struct route *r = route_match(&loader.routes, key, len);

    if (r == NULL) {
        return answer_now(now, SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT,
                          "no route for key '%.*s'", (int)MIN(len, 100), key);
    }
    if (memchr(key + r->plen, '\0', len - r->plen) != NULL) {
        return answer_now(now, SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT,
                          "key contains a NUL byte");
    }
    struct flight *f = flight_find(&loader.flights, key, len);
    if (f != NULL) {
        loader.stats[STAT_flight_joins]++;
        flight_join(f, w);
        return true;
    }
    if (r->inflight >= (uint64_t)loader.opt.bulkhead) {
        return answer_now(now, SLOTCACHE__LOADER__STATUS__RESOURCE_EXHAUSTED,
                          "bulkhead full: route '%s' has %u queries running", r->prefix,
                          r->inflight);
    }
    f = flight_start(&loader.flights, key, len);
    if (f == NULL) {
        return answer_now(now, SLOTCACHE__LOADER__STATUS__RESOURCE_EXHAUSTED,
                          "out of memory for a key of %zu bytes", len);
    }
    if (!breaker_allows()) {
        flight_finish(&loader.flights, f, NULL, NULL); /* no waiters yet: fn is not called */
        loader.stats[STAT_breaker_rejected]++;
        if (loader.breaker.state == BREAKER_HALF_OPEN) {
            return answer_now(now, SLOTCACHE__LOADER__STATUS__UNAVAILABLE,
                              "circuit breaker half-open: waiting for the probe query");
        }
        return answer_now(now, SLOTCACHE__LOADER__STATUS__UNAVAILABLE,
                          "circuit breaker open after %d consecutive database failures; "
                          "next probe in %lld ms",
                          loader.breaker.threshold,
                          breaker_retry_in(&loader.breaker, clock_now_ms()));
    }
    f->data = r;
    r->inflight++;
    loader.stats[STAT_queries]++;
    loader.stats[STAT_queries_in_flight]++;
    flight_join(f, w);
    pgpool_submit(r->id, f->key + r->plen, f);
    return true;
}

void
load_cancel(struct flight_waiter *w)
{
    flight_leave(w);
}

bool
load_breaker_open(void)
{
    return loader.breaker.state == BREAKER_OPEN;
}

/* ---- answers from the database ---- */

static void
answer_waiter(struct flight_waiter *w, void *arg)
{
    answer_fn(w, arg);
}

static void
record_breaker(bool failed)
{
    if (!failed) {
        if (breaker_success(&loader.breaker)) {
            log_notice("Circuit breaker closed: PostgreSQL answered the probe");
        }
        return;
    }
    bool probe = loader.breaker.state == BREAKER_HALF_OPEN;
    if (!breaker_failure(&loader.breaker, clock_now_ms())) {
        return;
    }
    if (probe) {
        log_warn("Circuit breaker open again: the probe failed (%s)", why);
    } else {
        log_warn("Circuit breaker open: %d consecutive database failures, failing fast for %lld "
                 "ms (last: %s)",
                 loader.breaker.threshold, loader.breaker.cooldown_ms, why);
    }
}

/* Turns the pool's outcome into the answer every waiter gets. */
static void
to_result(const struct route *rt, const struct pgpool_result *r, struct load_result *out)
{
    *out = (struct load_result){.message = why};
    why[0] = '\0';
    switch (r->outcome) {
    case PGPOOL_ROW:
        if (r->len > LOAD_VALUE_MAX) {
            out->status = SLOTCACHE__LOADER__STATUS__INTERNAL;
            snprintf(why, sizeof(why), "value of %zu bytes exceeds the frame limit", r->len);
            return;
        }
        out->status = SLOTCACHE__LOADER__STATUS__OK;
        out->value = r->value;
        out->len = r->len;
        out->ttl = rt->ttl;
        out->message = "";
        return;
    case PGPOOL_NO_ROW:
        out->status = SLOTCACHE__LOADER__STATUS__NOT_FOUND;
        snprintf(why, sizeof(why), "no row for this key");
        return;
    case PGPOOL_BAD_INPUT:
        out->status = SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT;
        snprintf(why, sizeof(why), "key not valid for route '%s': %s", rt->prefix, r->message);
        return;
    case PGPOOL_ERROR:
        out->status = SLOTCACHE__LOADER__STATUS__INTERNAL;
        snprintf(why, sizeof(why), "route '%s' query failed: %s", rt->prefix, r->message);
        return;
    case PGPOOL_TIMEOUT:
        out->status = SLOTCACHE__LOADER__STATUS__UNAVAILABLE;
        snprintf(why, sizeof(why), "query timed out (query-timeout %lld ms): %s",
                 loader.opt.query_timeout_ms, r->message);
        return;
    case PGPOOL_DOWN:
        out->status = SLOTCACHE__LOADER__STATUS__UNAVAILABLE;
        snprintf(why, sizeof(why), "database unavailable: %s", r->message);
        return;
    }
}

static void
count_query(const struct pgpool_result *r)
{
    loader.stats[STAT_queries_in_flight]--;
    if (r->reached_db) {
        latency_record(&loader.latency, (uint64_t)MAX(r->latency_us, 0));
    }
    switch (r->outcome) {
    case PGPOOL_TIMEOUT:
        loader.stats[STAT_query_timeouts]++;
        loader.stats[STAT_query_failures]++;
        break;
    case PGPOOL_DOWN:
        loader.stats[STAT_query_failures]++;
        break;
    case PGPOOL_BAD_INPUT:
    case PGPOOL_ERROR:
        loader.stats[STAT_query_sql_errors]++;
        break;
    default:
        break;
    }
}

static void
on_query_done(void *ctx, const struct pgpool_result *r)
{
    struct flight *f = ctx;
    struct route *rt = f->data;
    struct load_result res;

    rt->inflight--;
    count_query(r);
    to_result(rt, r, &res);
    record_breaker(r->outcome == PGPOOL_TIMEOUT || r->outcome == PGPOOL_DOWN);
    flight_finish(&loader.flights, f, answer_waiter, &res);
}
