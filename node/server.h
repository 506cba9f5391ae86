/*
 * server.h -- the node's process-wide state: options, listeners, clients,
 * counters, and the loop's periodic and before-sleep work.
 *
 * Setup order (server_setup): options -> log -> keyspace -> eviction ->
 * commands -> listeners -> cron; teardown reverses it.
 */
#pragma once

#include "common/conf.h"
#include "common/conn.h"
#include "common/http.h"
#include "common/listener.h"
#include "common/obuf.h"
#include "common/stats.h"
#include "common/tls.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define SLOTCACHE_VERSION "0.1.0"
/* The redis version whose commands and replies the node reproduces; clients
 * read it from INFO and HELLO to decide which commands they may send. */
#define SERVER_REDIS_COMPAT "7.0.0"

/* Counters rendered in INFO stats (redis's names). */
#define SERVER_METRICS(X)                                                                          \
    X(total_connections_received, COUNTER, "connections accepted")                                 \
    X(total_commands_processed, COUNTER, "commands run")                                           \
    X(total_net_input_bytes, COUNTER, "bytes read from clients")                                   \
    X(total_net_output_bytes, COUNTER, "bytes written to clients")                                 \
    X(rejected_connections, COUNTER, "connections refused by maxclients")                          \
    X(total_error_replies, COUNTER, "error replies sent")                                          \
    X(client_output_buffer_limit_disconnections, COUNTER, "clients closed for output limits")      \
    X(client_query_buffer_limit_disconnections, COUNTER, "clients closed for query limits")

enum { SERVER_METRICS(STATS_ENUM) SERVER_METRIC_COUNT };

struct client;

struct server_options {
    long long port;
    long long tls_port; /* 0: no TLS listener */
    struct tls_options tls;
    char *bind;
    long long tcp_backlog;
    long long maxclients;
    long long timeout; /* idle seconds; 0: never */
    long long tcp_keepalive;
    char *requirepass;
    bool protected_mode;
    unsigned long long proto_max_bulk_len;
    unsigned long long query_buffer_limit;
    struct obuf_limit obuf[OBUF_CLASSES]; /* client-output-buffer-limit */
    long long hz;
    long long databases;
    long long active_expire_effort;
    char *logfile;
    int loglevel;
    char *pidfile;
    long long metrics_port; /* Prometheus /metrics over HTTP; 0: off */
    char *metrics_bind;
    char *save;        /* always "": the node keeps no data on disk */
    bool appendonly;   /* always no */
};

struct server {
    struct ev_loop *loop;
    struct server_options opt;

    struct listener listener;     /* plain TCP; none when port 0 and a tls-port */
    struct listener tls_listener; /* tls-port */
    struct tls_ctx *tls;          /* the server side of tls-port; NULL without */
    int bound_port; /* the port listened on (port 0 picks one) */
    struct http_server metrics;

    ev_timer cron;
    ev_prepare before_sleep;
    ev_signal sig_term, sig_int;

    struct conn_set conns; /* every client, and those to flush or free before sleeping */

    uint64_t dirty; /* changes to the keyspace (redis server.dirty) */
    uint64_t stats[SERVER_METRIC_COUNT];
    size_t peak_memory;
    size_t startup_memory;
    long long start_ms;
    char run_id[41];
    char *config_file;
    char *executable;
    bool shutdown_asap;

    /* instantaneous_ops_per_sec, _input_kbps, _output_kbps */
    struct stats_rate ops_rate, in_rate, out_rate;
};

extern struct server server;
extern const struct conf_option server_options[];

/* Reads config (argc/argv after the program name); exits 1 on a bad one. */
void server_configure(int argc, char **argv);
int server_setup(void);
void server_run(void);
void server_teardown(void);
/* Stops the loop after this iteration (SHUTDOWN, SIGTERM). */
void server_shutdown(void);

/* INFO: renders the named section ("default", "all", "server", ...) into s;
 * returns false for an unknown section (redis then replies empty). */
struct sbuf;
void server_info(struct sbuf *s, const char *section);
/* The Prometheus page: INFO's counters and gauges as slotcache_node_*. */
void server_metrics(struct sbuf *s);
