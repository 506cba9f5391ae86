/*
 * flight.h -- single flight: one database query per key, however many
 * requests wait for it.
 *
 * The first request for a key starts a flight (and its query); requests for
 * the same key that arrive while it is in the air join it as waiters; when
 * the answer comes, flight_finish() hands it to every waiter and the flight
 * ends.  A waiter may leave early (its deadline passed, its connection
 * closed); the flight stays until its query answers, so that later requests
 * still join it instead of sending the same query again.
 *
 *   flight_table --hash(key)--> flight --waiters--> w <-> w <-> w
 *                                 key copy (NUL-terminated), data (the caller's)
 *
 * Waiters are intrusive (struct flight_waiter embedded in the caller's
 * request object): joining and leaving allocate nothing.  The table owns its
 * flights and their key copies; it never owns waiters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flight;

struct flight_waiter {
    struct flight_waiter *prev, *next;
    struct flight *flight; /* the flight waited on; NULL when not waiting */
};

struct flight {
    struct flight *hnext; /* bucket chain */
    uint64_t hash;
    struct flight_waiter *waiters;
    uint32_t nwaiters;
    void *data; /* the caller's: what the flight is loading with */
    size_t keylen;
    char key[]; /* keylen bytes, then a NUL */
};

struct flight_table {
    struct flight **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

void flight_table_init(struct flight_table *t);
/* Ends every flight without telling its waiters (they are only detached):
 * for teardown. */
void flight_table_free(struct flight_table *t);

struct flight *flight_find(const struct flight_table *t, const char *key, size_t len);
/* Starts a flight for key, which must have none.  NULL if memory is short
 * (the key's size is the client's choice). */
struct flight *flight_start(struct flight_table *t, const char *key, size_t len);
void flight_join(struct flight *f, struct flight_waiter *w);
/* w stops waiting (no-op if it was not waiting). */
void flight_leave(struct flight_waiter *w);

/* Called once per waiter by flight_finish, after w has left the flight: it
 * may free the object w is embedded in.  arg is flight_finish's. */
typedef void flight_done_fn(struct flight_waiter *w, void *arg);
/* Removes f from the table, passes every waiter to fn (in the order they
 * joined; fn may be NULL when f has none), and frees f.  f's key is valid until fn has returned for
 * the last waiter. */
void flight_finish(struct flight_table *t, struct flight *f, flight_done_fn *fn, void *arg);
