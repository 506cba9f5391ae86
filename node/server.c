/*
 * server.c -- see server.h.
 */
#include "node/server.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/fdlimit.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "common/obuf.h"
#include "common/sbuf.h"
#include "common/util.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/evict.h"
#include "node/expire.h"
#include "node/hobj.h"
#include "node/kv.h"
#include "node/multi.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SERVER_EXPIRE_CYCLE_PERC 25  /* share of a cron period active expiry may use */

struct server server;

static const struct stats_desc server_metric_desc[] = {SERVER_METRICS(STATS_DESC)};

/* ---- options ---- */

static int
apply_maxmemory(const struct conf_option *opt, char *err, size_t errlen)
{
    (void)opt;
    (void)err;
    (void)errlen;
    if (evict_opts.maxmemory > 0 && evict_used_memory() > evict_opts.maxmemory) {
        log_warn("WARNING: the new maxmemory value set via CONFIG SET (%llu) is smaller than "
                 "the current memory usage (%zu). This will result in key eviction and/or the "
                 "inability to accept new write commands depending on the maxmemory-policy.",
                 evict_opts.maxmemory, evict_used_memory());
        evict_perform();
    }
    return SC_OK;
}

static int
apply_policy(const struct conf_option *opt, char *err, size_t errlen)
{
    (void)opt;
    (void)err;
    (void)errlen;
    evict_policy_changed();
    return SC_OK;
}

static int
apply_loglevel(const struct conf_option *opt, char *err, size_t errlen)
{
    (void)opt;
    (void)err;
    (void)errlen;
    log_min_level = server.opt.loglevel;
    return SC_OK;
}

static int
apply_hz(const struct conf_option *opt, char *err, size_t errlen)
{
    (void)opt;
    (void)err;
    (void)errlen;
    if (server.loop != NULL) {
        server.cron.repeat = 1.0 / (double)server.opt.hz;
        ev_timer_again(server.loop, &server.cron);
    }
    return SC_OK;
}

/* CONFIG SET maxclients: the open-file limit must fit the new value, as
 * redis checks; when it cannot be raised enough the client is told what
 * would fit (and CONFIG SET puts the old value back). */
static int
apply_maxclients(const struct conf_option *opt, char *err, size_t errlen)
{
    struct fdlimit_result r;

    (void)opt;
    fdlimit_fit(server.opt.maxclients, FDLIMIT_RESERVED, &r);
    fdlimit_report(&r);
    if (r.status == FDLIMIT_ENOUGH || r.status == FDLIMIT_RAISED) {
        return SC_OK;
    }
    snprintf(err, errlen,
             "The operating system is not able to handle the specified number of clients, try "
             "with %lld",
             MAX(r.maxclients, 1));
    return SC_ERR;
}

static const struct conf_enum loglevels[] = {
    {"debug", LL_DEBUG},     {"verbose", LL_VERBOSE}, {"notice", LL_NOTICE},
    {"warning", LL_WARNING}, {"nothing", LL_NOTHING}, {NULL, 0},
};

#define RT CONF_RUNTIME
const struct conf_option server_options[] = {
    CONF_INT_OPT("port", &server.opt.port, "6379", 0, 65535, 0, NULL,
                 "TCP port to listen on (0: none if tls-port is set, else pick a free one)"),
    CONF_INT_OPT("tls-port", &server.opt.tls_port, "0", 0, 65535, 0, NULL,
                 "TLS port to listen on (0: none)"),
    TLS_CONF_OPTIONS(server.opt.tls),
    CONF_STR_OPT("bind", &server.opt.bind, "127.0.0.1", 0, NULL,
                 "addresses to listen on, separated by spaces (\"*\" for all IPv4)"),
    CONF_INT_OPT("tcp-backlog", &server.opt.tcp_backlog, "511", 0, INT_MAX, 0, NULL,
                 "listen() backlog"),
    CONF_INT_OPT("maxclients", &server.opt.maxclients, "10000", 1, INT_MAX, RT, apply_maxclients,
                 "connections beyond this get -ERR max number of clients reached"),
    CONF_INT_OPT("timeout", &server.opt.timeout, "0", 0, INT_MAX, RT, NULL,
                 "close clients idle this many seconds (0: never)"),
    CONF_INT_OPT("tcp-keepalive", &server.opt.tcp_keepalive, "300", 0, INT_MAX, RT, NULL,
                 "TCP keepalive interval in seconds (0: off)"),
    CONF_STR_OPT("requirepass", &server.opt.requirepass, "", RT, NULL,
                 "password clients must AUTH with (empty: none)"),
    CONF_BOOL_OPT("protected-mode", &server.opt.protected_mode, "yes", RT, NULL,
                  "without a password, refuse clients that are not on loopback"),
    CONF_MEM_RANGE_OPT("proto-max-bulk-len", &server.opt.proto_max_bulk_len, "512mb", 1 << 20,
                       RT, NULL, "largest bulk string a client may send"),
    CONF_MEM_RANGE_OPT("client-query-buffer-limit", &server.opt.query_buffer_limit, "1gb",
                       1 << 20, RT, NULL, "close a client whose unprocessed input exceeds this"),
    OBUF_LIMIT_OPT(server.opt.obuf, OBUF_DEFAULT, RT,
                   "normal <hard> <soft> <soft-seconds>: close slow readers (0: no limit)"),
    CONF_INT_OPT("hz", &server.opt.hz, "10", 1, 500, RT, apply_hz,
                 "background task frequency (expiry, timeouts)"),
    CONF_INT_OPT("databases", &server.opt.databases, "1", 1, 1, 0, NULL,
                 "always 1: one keyspace per node (SELECT n>0 answers redis's out-of-range "
                 "error, as redis-server with databases 1 does)"),
    CONF_INT_OPT("active-expire-effort", &server.opt.active_expire_effort, "1", 1, 10, RT, NULL,
                 "effort of the active expiry cycle (1-10)"),
    CONF_STR_OPT("logfile", &server.opt.logfile, "", 0, NULL, "log file (empty: stderr)"),
    CONF_ENUM_OPT("loglevel", &server.opt.loglevel, "notice", loglevels, RT, apply_loglevel,
                  "debug, verbose, notice or warning"),
    CONF_STR_OPT("pidfile", &server.opt.pidfile, "", 0, NULL, "write the pid here"),
    CONF_INT_OPT("metrics-port", &server.opt.metrics_port, "0", 0, 65535, 0, NULL,
                 "HTTP port serving Prometheus /metrics (0: off)"),
    CONF_STR_OPT("metrics-bind", &server.opt.metrics_bind, "127.0.0.1", 0, NULL,
                 "address of the metrics port"),
    CONF_MEM_OPT("maxmemory", &evict_opts.maxmemory, "0", RT, apply_maxmemory,
                 "memory limit for data (0: none)"),
    CONF_ENUM_OPT("maxmemory-policy", &evict_opts.policy, "noeviction", evict_policy_names, RT,
                  apply_policy, "what to evict at maxmemory"),
    CONF_INT_OPT("maxmemory-samples", &evict_opts.samples, "5", 1, INT_MAX, RT, NULL,
                 "keys sampled per eviction by sampling policies"),
    CONF_INT_OPT("lfu-log-factor", &evict_opts.lfu_log_factor, "10", 0, INT_MAX, RT, NULL,
                 "LFU counter logarithm factor"),
    CONF_INT_OPT("lfu-decay-time", &evict_opts.lfu_decay_time, "1", 0, INT_MAX, RT, NULL,
                 "minutes for the LFU counter to decay by one"),
    CONF_INT_OPT("hash-max-listpack-entries", &hobj_limits.max_listpack_entries, "512", 0,
                 INT_MAX, RT, NULL, "hashes with more fields use a hash table"),
    CONF_INT_OPT("hash-max-listpack-value", &hobj_limits.max_listpack_value, "64", 0, INT_MAX,
                 RT, NULL, "hashes with longer fields or values use a hash table"),
    CONF_INT_OPT("hash-max-ziplist-entries", &hobj_limits.max_listpack_entries, NULL, 0, INT_MAX,
                 RT, NULL, "alias of hash-max-listpack-entries"),
    CONF_INT_OPT("hash-max-ziplist-value", &hobj_limits.max_listpack_value, NULL, 0, INT_MAX, RT,
                 NULL, "alias of hash-max-listpack-value"),
    CONF_STR_OPT("save", &server.opt.save, "", 0, NULL,
                 "always empty: the node is a cache and writes nothing to disk"),
    CONF_BOOL_OPT("appendonly", &server.opt.appendonly, "no", 0, NULL,
                  "always no: the node is a cache and writes nothing to disk"),
    CONF_END,
};
#undef RT

void
server_configure(int argc, char **argv)
{
    char err[512];

    conf_defaults(server_options);
    if (conf_load_args(server_options, argc, argv, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "slotcache-node: %s\n", err);
        exit(1);
    }
    if (server.opt.save[0] != '\0' || server.opt.appendonly) {
        fprintf(stderr, "slotcache-node: save/appendonly: the node keeps no data on disk\n");
        exit(1);
    }
    if (argc > 0 && strncmp(argv[0], "--", 2) != 0) {
        char *abs = realpath(argv[0], NULL);
        server.config_file = mem_strdup(abs != NULL ? abs : argv[0]);
        free(abs);
    }
}

/* ---- listeners ---- */

static const char protected_mode_refusal[] =
    "-DENIED slotcache-node is running in protected mode because protected mode is enabled and "
    "no password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. To accept other clients set a password with 'requirepass' or "
    "disable protected mode with 'protected-mode no'.\r\n";

/* A connection beyond maxclients, or one accepted when descriptors ran
 * out (the listener's on_full): redis's error, then closed. */
static void
refuse_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    (void)peer;
    listener_refuse(fd, tls, "-" ERR_MAXCLIENTS "\r\n");
    server.stats[STAT_rejected_connections]++;
}

/* A connection on either port; tls is the TLS port's context or NULL.  A
 * refused TLS connection gets no message (listener_refuse). */
static void
on_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    if (server.conns.n >= (uint64_t)server.opt.maxclients) {
        refuse_connection(fd, peer, tls);
        return;
    }
    if (server.opt.protected_mode && server.opt.requirepass[0] == '\0' &&
        !listener_is_loopback(peer)) {
        listener_refuse(fd, tls, protected_mode_refusal);
        return;
    }
    server.stats[STAT_total_connections_received]++;
    client_create(fd, tls != NULL ? tls_create(tls, fd) : NULL, peer);
}

static int
open_listeners(char *err, size_t errlen)
{
    if (server.opt.tls_port > 0) {
        server.tls = tls_ctx_create(&server.opt.tls, TLS_SERVER, err, errlen);
        if (server.tls == NULL) {
            log_warn("Failed to configure TLS: %s", err);
            return SC_ERR;
        }
    }
    if (listener_open_ports(&server.listener, &server.tls_listener, server.loop, server.opt.bind,
                            (int)server.opt.port, (int)server.opt.tls_port, server.tls,
                            (int)server.opt.tcp_backlog, on_connection, err, errlen) != SC_OK) {
        log_warn("Could not create server listening socket: %s", err);
        return SC_ERR;
    }
    server.listener.on_full = server.tls_listener.on_full = refuse_connection;
    server.bound_port = server.listener.port;
    return SC_OK;
}

/* ---- periodic work ---- */

static void
sample_rates(long long now)
{
    stats_rate_sample(&server.ops_rate, server.stats[STAT_total_commands_processed], now);
    stats_rate_sample(&server.in_rate, server.stats[STAT_total_net_input_bytes], now);
    stats_rate_sample(&server.out_rate, server.stats[STAT_total_net_output_bytes], now);
}

static void
close_idle_clients(long long now)
{
    if (server.opt.timeout <= 0) {
        return;
    }
    for (struct conn *k = server.conns.all; k != NULL; k = k->next) {
        struct client *c = client_of(k);
        if (now - c->conn.last_io_ms > server.opt.timeout * 1000 && !(c->conn.flags & CONN_CLOSE_ASAP)) {
            log_verbose("Closing idle client id=%llu addr=%s", (unsigned long long)c->conn.id,
                        c->conn.addr);
            client_close_async(c);
        }
    }
}

static void
on_cron(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    clock_refresh(loop);
    long long now = clock_now_ms();
    /* redis: 25% of a cron period, plus 2% per effort step above 1 */
    long long perc = SERVER_EXPIRE_CYCLE_PERC + 2 * (server.opt.active_expire_effort - 1);

    expire_cycle(1000000 / server.opt.hz * perc / 100);
    kv_cron();
    close_idle_clients(now);
    sample_rates(now);
    size_t used = evict_used_memory();
    if (used > server.peak_memory) {
        server.peak_memory = used;
    }
    listener_resume(&server.listener);
    listener_resume(&server.tls_listener);
}

/* Before the loop polls: flush replies, free closed clients. */
static void
on_before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    while (server.conns.pending_write != NULL) {
        struct conn *k = server.conns.pending_write;
        server.conns.pending_write = k->pending_next;
        k->flags &= ~CONN_PENDING_WRITE;
        if (!(k->flags & CONN_CLOSE_ASAP)) {
            client_write(client_of(k));
        }
    }
    bool freed = server.conns.to_close != NULL;
    while (server.conns.to_close != NULL) {
        struct conn *k = server.conns.to_close;
        server.conns.to_close = k->close_next;
        client_free(client_of(k));
    }
    if (freed) {
        listener_resume(&server.listener);
        listener_resume(&server.tls_listener);
    }
    if (server.shutdown_asap) {
        ev_break(loop, EVBREAK_ALL);
    }
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    log_warn("Received %s scheduling shutdown...", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    server_shutdown();
}

void
server_shutdown(void)
{
    server.shutdown_asap = true;
    ev_break(server.loop, EVBREAK_ALL);
}

static void
make_run_id(void)
{
    uint8_t r[20];
    if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
        for (size_t i = 0; i < sizeof(r); i++) {
            r[i] = (uint8_t)random();
        }
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        snprintf(server.run_id + i * 2, 3, "%02x", r[i]);
    }
}

static void
write_pidfile(void)
{
    if (server.opt.pidfile[0] == '\0') {
        return;
    }
    FILE *f = fopen(server.opt.pidfile, "w");
    if (f == NULL) {
        log_warn("Failed to write PID file: %s", strerror(errno));
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static bool
metrics_page(const char *path, struct sbuf *body, const char **type)
{
    if (strcmp(path, "/metrics") != 0) {
        return false;
    }
    *type = "text/plain; version=0.0.4";
    server_metrics(body);
    return true;
}

int
server_setup(void)
{
    uint8_t seed[16];

    if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
        fprintf(stderr, "slotcache-node: getrandom: %s\n", strerror(errno));
        return SC_ERR;
    }
    ht_seed(seed);
    srandom((unsigned)(seed[0] | seed[1] << 8 | seed[2] << 16) ^ (unsigned)getpid());
    if (log_setup(server.opt.logfile, server.opt.loglevel, 'M') != SC_OK) {
        fprintf(stderr, "slotcache-node: can't open the log file %s: %s\n", server.opt.logfile,
                strerror(errno));
        return SC_ERR;
    }
    /* Before anything else is allocated: a limit too low to start is an
     * exit with nothing to free. */
    struct fdlimit_result fl;
    fdlimit_fit(server.opt.maxclients, FDLIMIT_RESERVED, &fl);
    fdlimit_report(&fl);
    if (fl.status == FDLIMIT_TOO_LOW) {
        return SC_ERR;
    }
    server.opt.maxclients = fl.maxclients;
    server.loop = EV_DEFAULT;
    server.conns.loop = server.loop;
    clock_setup(server.loop);
    server.start_ms = clock_now_ms();
    make_run_id();

    kv_setup();
    evict_setup();
    multi_setup();
    cmd_setup();
    client_setup(server.loop);
    char err[512];
    if (open_listeners(err, sizeof(err)) != SC_OK) {
        return SC_ERR;
    }
    server.metrics.fd = -1;
    if (server.opt.metrics_port > 0 &&
        http_listen(&server.metrics, server.loop, server.opt.metrics_bind,
                    (int)server.opt.metrics_port, metrics_page, err, sizeof(err)) != SC_OK) {
        log_warn("Could not open the metrics port: %s", err);
        return SC_ERR;
    }
    write_pidfile();

    ev_timer_init(&server.cron, on_cron, 1.0 / (double)server.opt.hz,
                  1.0 / (double)server.opt.hz);
    ev_timer_start(server.loop, &server.cron);
    ev_prepare_init(&server.before_sleep, on_before_sleep);
    ev_prepare_start(server.loop, &server.before_sleep);
    ev_signal_init(&server.sig_term, on_signal, SIGTERM);
    ev_signal_start(server.loop, &server.sig_term);
    ev_signal_init(&server.sig_int, on_signal, SIGINT);
    ev_signal_start(server.loop, &server.sig_int);

    server.startup_memory = evict_used_memory();
    log_notice("slotcache-node %s (redis %s compatible) pid=%d", SLOTCACHE_VERSION,
               SERVER_REDIS_COMPAT, (int)getpid());
    if (server.listener.n > 0) {
        log_notice("Ready to accept connections tcp port=%d", server.bound_port);
    }
    if (server.tls_listener.n > 0) {
        log_notice("Ready to accept connections tls port=%d", server.tls_listener.port);
    }
    return SC_OK;
}

void
server_run(void)
{
    ev_run(server.loop, 0);
}

void
server_teardown(void)
{
    log_notice("slotcache-node is now ready to exit, bye bye...");
    while (server.conns.all != NULL) {
        client_free(client_of(server.conns.all));
    }
    server.conns.pending_write = server.conns.to_close = NULL;
    client_teardown(server.loop);
    listener_close(&server.listener);
    listener_close(&server.tls_listener);
    tls_ctx_destroy(&server.tls);
    http_close(&server.metrics);
    ev_timer_stop(server.loop, &server.cron);
    ev_prepare_stop(server.loop, &server.before_sleep);
    ev_signal_stop(server.loop, &server.sig_term);
    ev_signal_stop(server.loop, &server.sig_int);
    if (server.opt.pidfile != NULL && server.opt.pidfile[0] != '\0') {
        unlink(server.opt.pidfile);
    }
    cmd_teardown();
    multi_teardown();
    evict_teardown();
    kv_teardown();
    clock_teardown(server.loop);
    buf_pool_drain();
    conf_free(server_options);
    mem_free(server.config_file);
    log_teardown();
}

/* ---- INFO ---- */

static void
info_server(struct sbuf *s)
{
    struct utsname un;
    long long now = clock_now_ms();
    long long up = (now - server.start_ms) / 1000;

    uname(&un);
    stats_info_section(s, "Server");
    stats_info_str(s, "redis_version", SERVER_REDIS_COMPAT);
    stats_info_str(s, "slotcache_version", SLOTCACHE_VERSION);
    stats_info_str(s, "redis_git_sha1", "00000000");
    stats_info_str(s, "redis_git_dirty", "0");
    stats_info_str(s, "redis_mode", "standalone");
    sbuf_printf(s, "os:%s %s %s\r\n", un.sysname, un.release, un.machine);
    stats_info_u64(s, "arch_bits", sizeof(void *) * 8);
    stats_info_str(s, "multiplexing_api", "libev");
    stats_info_str(s, "gcc_version", __VERSION__);
    stats_info_i64(s, "process_id", getpid());
    stats_info_str(s, "process_supervised", "no");
    stats_info_str(s, "run_id", server.run_id);
    stats_info_i64(s, "tcp_port", server.bound_port);
    stats_info_i64(s, "server_time_usec", now * 1000);
    stats_info_i64(s, "uptime_in_seconds", up);
    stats_info_i64(s, "uptime_in_days", up / 86400);
    stats_info_i64(s, "hz", server.opt.hz);
    stats_info_i64(s, "configured_hz", server.opt.hz);
    stats_info_u64(s, "lru_clock", evict_clock() & ((1u << 24) - 1));
    stats_info_str(s, "executable", server.executable != NULL ? server.executable : "");
    stats_info_str(s, "config_file", server.config_file != NULL ? server.config_file : "");
    stats_info_i64(s, "io_threads_active", 0);
}

static void
info_clients(struct sbuf *s)
{
    size_t max_in = 0, max_out = 0;

    for (struct conn *k = server.conns.all; k != NULL; k = k->next) {
        struct client *c = client_of(k);
        max_in = MAX(max_in, c->conn.rbuf != NULL ? (size_t)c->conn.rbuf->cap : 0);
        max_out = MAX(max_out, c->reply.bytes);
    }
    stats_info_section(s, "Clients");
    stats_info_u64(s, "connected_clients", server.conns.n);
    stats_info_i64(s, "cluster_connections", 0);
    stats_info_i64(s, "maxclients", server.opt.maxclients);
    stats_info_u64(s, "client_recent_max_input_buffer", max_in);
    stats_info_u64(s, "client_recent_max_output_buffer", max_out);
    stats_info_i64(s, "blocked_clients", 0);
    stats_info_i64(s, "tracking_clients", 0);
    stats_info_i64(s, "clients_in_timeout_table", 0);
}

static void
info_memory(struct sbuf *s)
{
    char h[32];
    size_t used = evict_used_memory();
    size_t rss = mem_rss();
    size_t overhead = server.startup_memory + kv_overhead();

    if (used > server.peak_memory) {
        server.peak_memory = used;
    }
    stats_info_section(s, "Memory");
    stats_info_u64(s, "used_memory", used);
    stats_human_bytes(h, sizeof(h), used);
    stats_info_str(s, "used_memory_human", h);
    stats_info_u64(s, "used_memory_rss", rss);
    stats_human_bytes(h, sizeof(h), rss);
    stats_info_str(s, "used_memory_rss_human", h);
    stats_info_u64(s, "used_memory_peak", server.peak_memory);
    stats_human_bytes(h, sizeof(h), server.peak_memory);
    stats_info_str(s, "used_memory_peak_human", h);
    sbuf_printf(s, "used_memory_peak_perc:%.2f%%\r\n",
                server.peak_memory > 0 ? 100.0 * (double)used / (double)server.peak_memory : 0.0);
    stats_info_u64(s, "used_memory_overhead", overhead);
    stats_info_u64(s, "used_memory_startup", server.startup_memory);
    stats_info_u64(s, "used_memory_dataset", used > overhead ? used - overhead : 0);
    stats_info_u64(s, "maxmemory", evict_opts.maxmemory);
    stats_human_bytes(h, sizeof(h), evict_opts.maxmemory);
    stats_info_str(s, "maxmemory_human", h);
    stats_info_str(s, "maxmemory_policy", evict_current()->name);
    stats_info_double(s, "mem_fragmentation_ratio", used > 0 ? (double)rss / (double)used : 0);
    stats_info_str(s, "mem_allocator", mem_allocator_name());
    stats_info_u64(s, "lazyfree_pending_objects", kv_lazyfree_pending());
}

static void
info_persistence(struct sbuf *s)
{
    /* The node writes nothing to disk; the fields say so in redis's terms
     * for tools that read them. */
    stats_info_section(s, "Persistence");
    stats_info_i64(s, "loading", 0);
    stats_info_i64(s, "async_loading", 0);
    stats_info_u64(s, "rdb_changes_since_last_save", server.dirty);
    stats_info_i64(s, "rdb_bgsave_in_progress", 0);
    stats_info_i64(s, "aof_enabled", 0);
    stats_info_i64(s, "aof_rewrite_in_progress", 0);
}

static void
info_stats(struct sbuf *s)
{
    stats_info_section(s, "Stats");
    stats_info_render(s, server_metric_desc, server.stats, 2);
    stats_info_u64(s, "instantaneous_ops_per_sec", stats_rate_mean(&server.ops_rate));
    stats_info_render(s, server_metric_desc + 2, server.stats + 2, 2);
    stats_info_double(s, "instantaneous_input_kbps", (double)stats_rate_mean(&server.in_rate) / 1024);
    stats_info_double(s, "instantaneous_output_kbps",
                      (double)stats_rate_mean(&server.out_rate) / 1024);
    stats_info_render(s, server_metric_desc + 4, server.stats + 4, SERVER_METRIC_COUNT - 4);
    stats_info_u64(s, "expired_keys", kv_stats.expired);
    sbuf_printf(s, "expired_stale_perc:%.2f\r\n", (double)kv_stats.expired_stale_perc_x100 / 100);
    stats_info_u64(s, "evicted_keys", kv_stats.evicted);
    stats_info_u64(s, "keyspace_hits", kv_stats.hits);
    stats_info_u64(s, "keyspace_misses", kv_stats.misses);
    stats_info_i64(s, "pubsub_channels", 0);
    stats_info_i64(s, "pubsub_patterns", 0);
}

static void
info_replication(struct sbuf *s)
{
    stats_info_section(s, "Replication");
    stats_info_str(s, "role", "master");
    stats_info_i64(s, "connected_slaves", 0);
}

static void
info_cpu(struct sbuf *s)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    stats_info_section(s, "CPU");
    sbuf_printf(s, "used_cpu_sys:%ld.%06ld\r\n", (long)ru.ru_stime.tv_sec,
                (long)ru.ru_stime.tv_usec);
    sbuf_printf(s, "used_cpu_user:%ld.%06ld\r\n", (long)ru.ru_utime.tv_sec,
                (long)ru.ru_utime.tv_usec);
}

static void
commandstat(void *ctx, struct cmd *cmd)
{
    struct sbuf *s = ctx;
    struct cmd *subs = cmd->subcmds;

    if (cmd->calls > 0 || cmd->rejected_calls > 0) {
        sbuf_printf(s,
                    "cmdstat_%s:calls=%" PRIu64 ",rejected_calls=%" PRIu64
                    ",failed_calls=%" PRIu64 "\r\n",
                    cmd->name, cmd->calls, cmd->rejected_calls, cmd->failed_calls);
    }
    for (; subs != NULL && subs->name != NULL; subs++) {
        commandstat(ctx, subs);
    }
}

static void
info_commandstats(struct sbuf *s)
{
    stats_info_section(s, "Commandstats");
    cmd_foreach(commandstat, s);
}

static void
info_cluster(struct sbuf *s)
{
    stats_info_section(s, "Cluster");
    stats_info_i64(s, "cluster_enabled", 0);
}

static void
info_keyspace(struct sbuf *s)
{
    stats_info_section(s, "Keyspace");
    if (kv_count() > 0) {
        sbuf_printf(s, "db0:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=0\r\n", kv_count(),
                    kv_volatile_count());
    }
}

static const struct {
    const char *name;
    void (*render)(struct sbuf *s);
    bool in_default;
} info_sections[] = {
    {"server", info_server, true},           {"clients", info_clients, true},
    {"memory", info_memory, true},           {"persistence", info_persistence, true},
    {"stats", info_stats, true},             {"replication", info_replication, true},
    {"cpu", info_cpu, true},                 {"commandstats", info_commandstats, false},
    {"cluster", info_cluster, true},         {"keyspace", info_keyspace, true},
};

void
server_info(struct sbuf *s, const char *section)
{
    bool all = strcasecmp(section, "all") == 0 || strcasecmp(section, "everything") == 0;
    bool dflt = strcasecmp(section, "default") == 0;

    for (size_t i = 0; i < ARRAY_LEN(info_sections); i++) {
        if (all || (dflt && info_sections[i].in_default) ||
            strcasecmp(section, info_sections[i].name) == 0) {
            info_sections[i].render(s);
        }
    }
}

void
server_metrics(struct sbuf *s)
{
    static const char p[] = "slotcache_node";

    stats_prom_render(s, p, server_metric_desc, server.stats, SERVER_METRIC_COUNT, NULL);
    stats_prom_sample(s, p, "keyspace_hits_total", STATS_COUNTER, "reads that found their key",
                      NULL, (double)kv_stats.hits);
    stats_prom_sample(s, p, "keyspace_misses_total", STATS_COUNTER,
                      "reads that did not find their key", NULL, (double)kv_stats.misses);
    stats_prom_sample(s, p, "expired_keys_total", STATS_COUNTER, "keys removed by their TTL",
                      NULL, (double)kv_stats.expired);
    stats_prom_sample(s, p, "evicted_keys_total", STATS_COUNTER,
                      "keys evicted to stay under maxmemory", NULL, (double)kv_stats.evicted);
    stats_prom_sample(s, p, "connected_clients", STATS_GAUGE, "client connections open", NULL,
                      (double)server.conns.n);
    stats_prom_sample(s, p, "keys", STATS_GAUGE, "keys held", NULL, (double)kv_count());
    stats_prom_sample(s, p, "expires", STATS_GAUGE, "keys with a TTL", NULL,
                      (double)kv_volatile_count());
    stats_prom_sample(s, p, "used_memory_bytes", STATS_GAUGE, "memory used (INFO used_memory)",
                      NULL, (double)evict_used_memory());
    stats_prom_sample(s, p, "maxmemory_bytes", STATS_GAUGE, "the maxmemory limit (0: none)", NULL,
                      (double)evict_opts.maxmemory);
}
