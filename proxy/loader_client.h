/*
 * loader_client.h -- the proxy's connection to slotcache-loader.
 *
 * One persistent connection carries every Load in flight, each under its
 * own stream id; replies come back in any order and are matched by id
 * (loader/loader.proto).  A Ping every few seconds checks liveness and
 * fetches the loader's routes, so the proxy asks only for keys that have
 * one.  A request that gets no reply by its deadline fails with
 * DEADLINE_EXCEEDED; a broken connection fails everything in flight with
 * UNAVAILABLE and is reconnected with backoff.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC status codes, as in loader.proto. */
enum loader_status {
    LOADER_OK = 0,
    LOADER_INVALID_ARGUMENT = 3,
    LOADER_DEADLINE_EXCEEDED = 4,
    LOADER_NOT_FOUND = 5,
    LOADER_RESOURCE_EXHAUSTED = 8,
    LOADER_INTERNAL = 13,
    LOADER_UNAVAILABLE = 14,
    LOADER_UNAUTHENTICATED = 16,
};

/* The outcome of one Load.  value is valid only during the call. */
struct loader_result {
    int status;
    const uint8_t *value;
    size_t len;
    uint32_t ttl_seconds;
    const char *message;
};

typedef void loader_done_fn(void *ctx, const struct loader_result *r);

struct loader_options {
    char *addr;             /* "host:port"; empty: no loader */
    char *secret;           /* sent with Auth when non-empty */
    long long timeout_ms;   /* deadline of each Load */
    long long ping_ms;      /* Ping (and routes refresh) period */
};

extern struct loader_options loader_opts;

int loader_client_setup(struct ev_loop *loop);
void loader_client_teardown(void);
bool loader_enabled(void);
/* Whether a miss of key is asked of the loader: there is a loader and it
 * has a route for key, or the proxy has not heard its routes yet. */
bool loader_may_route(const char *key, size_t len);
/* Sends a Load; fn is called exactly once, maybe before this returns (no
 * connection, too many in flight). */
void loader_load(const char *key, size_t len, loader_done_fn *fn, void *ctx);
/* Fails Loads past their deadline (the cron calls this). */
void loader_client_cron(void);
/* Writes queued frames (the before-sleep hook). */
void loader_client_flush(void);
const char *loader_status_name(int status);
/* For INFO: whether the connection is up and what the loader said last. */
bool loader_connected(void);
bool loader_breaker_open(void);
int loader_route_count(void);
