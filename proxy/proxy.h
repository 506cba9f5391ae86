/*
 * proxy.h -- slotcache-proxy's process-wide state: options, listener,
 * clients, counters, and the loop's periodic and before-sleep work.
 *
 * Setup order (proxy_setup): options -> log -> command table -> router ->
 * listeners -> health checks -> metrics endpoint -> cron; teardown reverses.
 */
#pragma once

#include "common/conf.h"
#include "common/conn.h"
#include "common/obuf.h"
#include "common/stats.h"
#include "common/tls.h"
#include "proxy/router.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define PROXY_MAX_LISTENERS 16
#define PROXY_QUORUM_ALL 0
#define PROXY_QUORUM_MAJORITY -1

#define PROXY_METRICS(X)                                                                           \
    X(total_connections_received, COUNTER, "client connections accepted")                          \
    X(rejected_connections, COUNTER, "connections refused by maxclients")                          \
    X(total_commands_processed, COUNTER, "client requests answered")                               \
    X(total_error_replies, COUNTER, "error replies sent to clients")                               \
    X(forwarded_requests, COUNTER, "requests forwarded to one node as received")                   \
    X(split_requests, COUNTER, "multi-key requests split across shards")                           \
    X(fanout_requests, COUNTER, "requests sent to several nodes (all shards, replicas)")           \
    X(local_requests, COUNTER, "requests the proxy answered itself")                               \
    X(node_failures, COUNTER, "requests failed because a node was unavailable")                    \
    X(read_retries, COUNTER, "reads retried on another replica after a failure")                   \
    X(quorum_failures, COUNTER, "replicated writes that did not reach their quorum")               \
    X(node_bytes_in, COUNTER, "bytes read from nodes")                                             \
    X(node_bytes_out, COUNTER, "bytes written to nodes")                                           \
    X(total_net_input_bytes, COUNTER, "bytes read from clients")                                   \
    X(total_net_output_bytes, COUNTER, "bytes written to clients")                                 \
    X(config_reloads, COUNTER, "successful config reloads")                                        \
    X(client_output_buffer_limit_disconnections, COUNTER, "clients closed for output limits")      \
    X(client_query_buffer_limit_disconnections, COUNTER, "clients closed for query limits")        \
    X(keyspace_hits, COUNTER, "GET and MGET keys found in the cache")                              \
    X(keyspace_misses, COUNTER, "GET and MGET keys not in the cache")                              \
    X(loads, COUNTER, "keys asked of the loader")                                                  \
    X(loads_joined, COUNTER, "misses answered by a load in flight (or just stored)")               \
    X(loads_found, COUNTER, "loads that returned a value")                                         \
    X(loads_not_found, COUNTER, "loads the database had no row for")                               \
    X(load_errors, COUNTER, "loads that failed (loader or database unavailable)")                  \
    X(loads_direct, COUNTER, "loads served without caching because the key's shard was down")     \
    X(negative_cache_hits, COUNTER, "misses answered nil from the negative cache")                 \
    X(load_latency_us_total, COUNTER, "microseconds spent waiting for loads")

enum { PROXY_METRICS(STATS_ENUM) PROXY_METRIC_COUNT };

struct front;

struct proxy_options {
    long long port;
    long long tls_port; /* 0: no TLS listener */
    struct tls_options tls;
    bool tls_nodes; /* talk TLS to the nodes */
    char *bind;
    long long tcp_backlog;
    long long maxclients;
    long long timeout;
    long long tcp_keepalive;
    char *requirepass;
    char *node_password;
    long long node_timeout_ms;
    long long health_interval_ms;
    long long write_quorum; /* PROXY_QUORUM_ALL, _MAJORITY, or a count */
    long long read_retries;
    long long metrics_port;
    char *metrics_bind;
    unsigned long long proto_max_bulk_len;
    unsigned long long query_buffer_limit;
    struct obuf_limit obuf[OBUF_CLASSES]; /* client-output-buffer-limit */
    char *logfile;
    int loglevel;
    char *pidfile;
    char *loader;
};

struct proxy {
    struct ev_loop *loop;
    struct proxy_options opt;
    struct router_config rcfg;
    char **users; /* `user` lines: "NAME ROLE PASSWORD" (proxy/acl.h) */
    int nusers;

    int listen_fd[PROXY_MAX_LISTENERS];
    ev_io listen_io[PROXY_MAX_LISTENERS];
    int nlisten;
    int bound_port;
    struct tls_ctx *tls_server; /* clients on tls-port; NULL without */
    struct tls_ctx *tls_client; /* connections to nodes (tls-nodes); NULL: plain */

    ev_timer cron;
    ev_prepare before_sleep;
    ev_signal sig_term, sig_int, sig_hup;

    struct conn_set conns; /* the clients, and those to flush or free before sleeping */

    uint64_t stats[PROXY_METRIC_COUNT];

    struct stats_rate ops_rate; /* instantaneous_ops_per_sec */
    long long start_ms;
    char run_id[41];
    char *config_file;
    bool shutdown_asap;
    bool reload_asap;
    bool tearing_down; /* failed messages are not retried or read through */
    size_t peak_memory; /* INFO used_memory_peak */
};

extern struct proxy proxy;
extern const struct conf_option proxy_options[];

void proxy_configure(int argc, char **argv);
/* Frees what the config directives stored (strings, node, shard and user
 * lines); the values are undefined until the next conf_defaults(). */
void proxy_config_free(void);
int proxy_setup(void);
void proxy_run(void);
void proxy_teardown(void);
void proxy_shutdown(void);
/* Re-reads the config file and installs its shard map; clients stay
 * connected.  SC_ERR with the reason in err keeps the running map. */
int proxy_reload(char *err, size_t errlen);

/* The router's map changed (a slot move): the config in memory follows, so
 * that a reload of the rewritten file builds the same map. */
void proxy_config_topology_changed(void);

long long proxy_now_us(void);
long long proxy_now_ms(void);

/* Queues AUTH <node-password> at the front of b's queue (after connect). */
struct back;
void proxy_auth_node(struct back *b);

/* INFO text of the proxy itself (sections Server, Clients, Stats, Nodes). */
struct sbuf;
void proxy_info(struct sbuf *s, const char *section);
/* CONFIG RESETSTAT: the proxy's counters, per-node figures and latencies. */
void proxy_reset_stats(void);
/* Prometheus text for /metrics. */
void proxy_metrics(struct sbuf *s);
