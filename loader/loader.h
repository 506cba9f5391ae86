/*
 * loader.h -- slotcache-loader's process-wide state: options, routes,
 * breaker, flights, counters, and the loop's periodic and before-sleep work.
 *
 * Setup order (loader_setup): options -> log -> breaker, flights -> database
 * pool (load_setup) -> RPC listener -> metrics endpoint -> pidfile -> cron,
 * before-sleep, signals; teardown reverses it and frees everything, so that
 * a SIGTERM exit is clean under LeakSanitizer.
 */
#pragma once

#include "common/conf.h"
#include "common/obuf.h"
#include "common/stats.h"
#include "loader/breaker.h"
#include "loader/flight.h"
#include "loader/latency.h"
#include "loader/routes.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define LOADER_VERSION "0.1.0"

/* Counters by what a client observes (one answer per request, counted where
 * it is sent) and by what the database saw (queries). */
#define LOADER_METRICS(X)                                                                          \
    X(total_connections_received, COUNTER, "client connections accepted")                          \
    X(rejected_connections, COUNTER, "client connections refused by maxclients")                   \
    X(client_output_buffer_limit_disconnections, COUNTER,                                          \
      "clients closed for not reading their replies (client-output-buffer-limit)")                 \
    X(idle_disconnections, COUNTER, "clients closed after timeout seconds without a byte")        \
    X(connected_clients, GAUGE, "client connections open")                                         \
    X(load_requests, COUNTER, "Load requests received")                                            \
    X(ping_requests, COUNTER, "Ping requests received")                                            \
    X(auth_requests, COUNTER, "Auth requests received")                                            \
    X(rows_found, COUNTER, "Load requests answered OK with a row")                                 \
    X(not_found, COUNTER, "Load requests answered NOT_FOUND")                                      \
    X(errors_invalid_argument, COUNTER, "requests answered INVALID_ARGUMENT")                      \
    X(errors_unavailable, COUNTER, "requests answered UNAVAILABLE")                                \
    X(errors_internal, COUNTER, "requests answered INTERNAL")                                      \
    X(errors_unauthenticated, COUNTER, "requests answered UNAUTHENTICATED")                        \
    X(errors_protocol, COUNTER, "malformed frames or messages received")                           \
    X(deadline_exceeded, COUNTER, "requests answered DEADLINE_EXCEEDED")                           \
    X(bulkhead_rejected, COUNTER, "requests answered RESOURCE_EXHAUSTED by a full bulkhead")       \
    X(flight_joins, COUNTER, "requests that waited on another request's query")                    \
    X(breaker_rejected, COUNTER, "requests refused at once by the open breaker")                   \
    X(breaker_opens, COUNTER, "times the breaker opened")                                          \
    X(breaker_state, GAUGE, "breaker state: 0 closed, 1 open, 2 half-open")                        \
    X(queries, COUNTER, "queries sent to PostgreSQL (loads)")                                      \
    X(queries_in_flight, GAUGE, "queries sent and not yet answered")                               \
    X(query_failures, COUNTER, "queries failed by the database: connection, timeout")              \
    X(query_timeouts, COUNTER, "queries that ran past query-timeout")                              \
    X(query_sql_errors, COUNTER, "queries the database refused (bad parameter, SQL error)")        \
    X(query_latency_mean_us, GAUGE, "mean query latency, microseconds")                            \
    X(query_latency_p50_us, GAUGE, "median query latency, microseconds (bucket bound)")            \
    X(query_latency_p99_us, GAUGE, "99th percentile query latency, microseconds (bucket bound)")   \
    X(pg_connections_up, GAUGE, "PostgreSQL connections ready")                                    \
    X(pg_connects, COUNTER, "PostgreSQL connections established")                                  \
    X(pg_connect_failures, COUNTER, "PostgreSQL connection attempts that failed")                  \
    X(pg_disconnects, COUNTER, "ready PostgreSQL connections that broke")

enum { LOADER_METRICS(STATS_ENUM) LOADER_METRIC_COUNT };

struct loader_options {
    long long port;
    char *bind;
    char *postgres; /* libpq conninfo; "" = libpq's environment */
    long long pool_size;
    long long query_timeout_ms;
    long long default_deadline_ms;
    long long breaker_failures;
    long long breaker_cooldown_ms;
    long long bulkhead;
    char *secret;
    long long metrics_port;
    char *metrics_bind;
    long long maxclients;
    long long timeout; /* idle seconds before a client is closed; 0: never */
    struct obuf_limit obuf[OBUF_CLASSES]; /* client-output-buffer-limit */
    long long tcp_backlog;
    char *logfile;
    int loglevel;
    char *pidfile;
};

struct loader {
    struct ev_loop *loop;
    struct loader_options opt;
    struct route_table routes;
    struct breaker breaker;
    struct flight_table flights;
    struct latency latency;
    uint64_t stats[LOADER_METRIC_COUNT];

    ev_timer cron;
    ev_prepare before_sleep;
    ev_signal sig_term, sig_int;
    long long start_ms;
    char *config_file;
    bool shutdown_asap;
};

extern struct loader loader;
extern const struct conf_option loader_options[];

/* Reads the config file and --flags; on a bad line or an unsafe setup
 * prints one line on stderr and exits 1. */
void loader_configure(int argc, char **argv);
/* Frees what the config directives stored (strings, routes). */
void loader_config_free(void);
int loader_setup(void);
void loader_run(void);
void loader_teardown(void);

/* Counts an error answer sent to a client, by its status (OK: nothing, the
 * method's own counter says what succeeded). */
void loader_count_status(int status);

struct sbuf;
/* INFO-like text (the metrics port's /). */
void loader_info(struct sbuf *s);
/* Prometheus text (/metrics). */
void loader_metrics(struct sbuf *s);
