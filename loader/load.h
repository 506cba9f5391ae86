/*
 * load.h -- the Load method: key -> route -> single flight -> bulkhead ->
 * circuit breaker -> PostgreSQL, and the answer back to every waiter.
 *
 * Answers, by status (loader.proto):
 *   OK                 the route's query returned a row: its first column, the route's TTL
 *   NOT_FOUND          no row (or a NULL value)
 *   INVALID_ARGUMENT   no route for the key, a NUL byte in it, or the database refused the
 *                      rest of the key as the statement's parameter (SQLSTATE class 22:
 *                      koi:abc for a bigint kepid).  Not a database failure.
 *   RESOURCE_EXHAUSTED the route has `bulkhead` queries running
 *   UNAVAILABLE        the breaker is open, no connection, the connection broke, or the
 *                      query ran past query-timeout.  These count as breaker failures.
 *   INTERNAL           the statement failed otherwise (SQL error other than class 22),
 *                      or the value exceeds the frame limit.  Not a breaker failure: the
 *                      database answered, the route is wrong.
 * DEADLINE_EXCEEDED is the caller's (rpc.c): it leaves the flight when its
 * deadline passes.
 */
#pragma once

#include "loader/flight.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct load_result {
    int status; /* Slotcache__Loader__Status */
    const char *value;
    size_t len;
    uint32_t ttl;
    const char *message;
};

/* Called once per waiter when its flight lands; w has left the flight and
 * may be freed.  r lives during the call. */
typedef void load_done_fn(struct flight_waiter *w, const struct load_result *r);

/* Starts the database pool (connecting in the background). */
void load_setup(load_done_fn *done);
void load_teardown(void);
/* Loads key for w.  Returns true if w now waits on a flight (the answer
 * comes through done); false if *now holds the answer (its strings live
 * until the next call). */
bool load_key(struct flight_waiter *w, const char *key, size_t len, struct load_result *now);
/* w gives up waiting (deadline, closed connection): no answer comes. */
void load_cancel(struct flight_waiter *w);
/* Whether the breaker refuses requests now. */
bool load_breaker_open(void);
