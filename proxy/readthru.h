/*
 * readthru.h -- a miss served from the database.
 *
 * With a loader configured (`loader HOST:PORT`), a GET that comes back nil
 * for a key the loader has a route for is not answered nil: the proxy asks
 * the loader, returns its value, and stores it on the key's shard with the
 * route's TTL (SET ... EX ttl NX: a client write that raced the load wins).
 * Each key of an MGET is treated the same way.
 *
 *   - one load per key in flight: concurrent misses wait on it (single
 *     flight), however many clients miss at once;
 *   - NOT_FOUND (and INVALID_ARGUMENT: a key the route's statement cannot
 *     take) is nil, remembered for negative-cache-ttl ms so that a missing
 *     row is not queried on every request;
 *   - the loader or the database unavailable: a clear error, not a nil that
 *     would look like "no such row";
 *   - the key's shard down: the value comes straight from the loader and is
 *     not cached, so reads keep working.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct msg;
struct seg;

struct readthru_options {
    long long negative_ttl_ms;
};

extern struct readthru_options readthru_opts;

void readthru_setup(void);
void readthru_teardown(void);
/* Marks GET m (key in m->key) for read-through if its key has a route. */
void readthru_mark(struct msg *m);
/* m, a GET marked for read-through, missed (store: cache the value) or
 * could not reach its shard (store false): load it, then complete m. */
void readthru_get(struct msg *m, bool store);

/* Generic form for MGET's keys: fn gets the reply bytes for the key (a bulk,
 * a nil, or an error) exactly once. */
typedef void readthru_fn(void *ctx, const struct seg *reply);
void readthru_key(const char *key, size_t len, bool store, readthru_fn *fn, void *ctx);
/* Expired negative-cache entries: a slice of them per cron tick. */
void readthru_cron(void);
/* For INFO. */
size_t readthru_in_flight(void);
size_t readthru_negative_entries(void);
