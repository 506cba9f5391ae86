/*
 * loader.c -- see loader.h.
 */
#include "loader/loader.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/fdlimit.h"
#include "common/http.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sbuf.h"
#include "loader/load.h"
#include "loader/loader.pb-c.h"
#include "loader/pgpool.h"
#include "loader/rpc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LOADER_CRON_HZ 10
/* The loader's clients are proxies, machine peers that read everything:
 * they get redis's limits for replicas rather than none, so that one that
 * stops reading cannot grow the loader without bound. */
#define LOADER_OBUF_DEFAULT "normal 256mb 64mb 60 slave 256mb 64mb 60 pubsub 32mb 8mb 60"
#define LOADER_DEFAULT_ROUTE                                                                       \
    "koi: \"SELECT row_to_json(k)::text FROM koi k WHERE kepid = $1::bigint\" ttl 300"

struct loader loader;

static struct http_server metrics;
static const struct stats_desc metric_desc[] = {LOADER_METRICS(STATS_DESC)};

/* ---- options ---- */

static const struct conf_enum loglevels[] = {
    {"debug", LL_DEBUG},     {"verbose", LL_VERBOSE}, {"notice", LL_NOTICE},
    {"warning", LL_WARNING}, {"nothing", LL_NOTHING}, {NULL, 0},
};

static int
set_route(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    (void)o;
    return route_add(&loader.routes, argc, argv, err, errlen);
}

static size_t
get_route(const struct conf_option *o, char *buf, size_t len)
{
    (void)o;
    return route_describe(&loader.routes, buf, len);
}

const struct conf_option loader_options[] = {
    CONF_INT_OPT("port", &loader.opt.port, "7400", 0, 65535, 0, NULL,
                 "TCP port of the RPC service (0: pick a free one)"),
    CONF_STR_OPT("bind", &loader.opt.bind, "127.0.0.1", 0, NULL,
                 "addresses to listen on, separated by spaces (not loopback: secret required)"),
    CONF_STR_OPT("postgres", &loader.opt.postgres, "", 0, NULL,
                 "libpq conninfo or URI (empty: PGHOST, PGPORT, PGDATABASE, PGUSER...)"),
    CONF_INT_OPT("pool-size", &loader.opt.pool_size, "4", 1, PGPOOL_SIZE_MAX, 0, NULL,
                 "PostgreSQL connections"),
    CONF_INT_OPT("query-timeout", &loader.opt.query_timeout_ms, "2000", 1, 3600000, 0, NULL,
                 "ms a query may run (statement_timeout) before it fails UNAVAILABLE"),
    CONF_INT_OPT("default-deadline", &loader.opt.default_deadline_ms, "2000", 1, 3600000, 0, NULL,
                 "ms a Load without deadline_ms waits before DEADLINE_EXCEEDED"),
    CONF_INT_OPT("breaker-failures", &loader.opt.breaker_failures, "5", 1, 1000000, 0, NULL,
                 "consecutive database failures or timeouts that open the circuit breaker"),
    CONF_INT_OPT("breaker-cooldown", &loader.opt.breaker_cooldown_ms, "5000", 1, 3600000, 0, NULL,
                 "ms the open breaker fails fast before letting one probe through"),
    CONF_INT_OPT("bulkhead", &loader.opt.bulkhead, "64", 1, 1000000, 0, NULL,
                 "queries one route may have running; beyond: RESOURCE_EXHAUSTED"),
    CONF_CUSTOM_OPT("route", LOADER_DEFAULT_ROUTE, set_route, get_route, 0, NULL,
                    "PREFIX \"SQL with $1 = rest of the key\" ttl SECONDS (repeatable)"),
    CONF_STR_OPT("secret", &loader.opt.secret, "", 0, NULL,
                 "shared secret clients must Auth with first (empty: none)"),
    CONF_INT_OPT("metrics-port", &loader.opt.metrics_port, "0", 0, 65535, 0, NULL,
                 "HTTP port serving /metrics (Prometheus) and / (INFO text); 0: off"),
    CONF_STR_OPT("metrics-bind", &loader.opt.metrics_bind, "127.0.0.1", 0, NULL,
                 "address of the metrics port"),
    CONF_INT_OPT("maxclients", &loader.opt.maxclients, "10000", 1, INT_MAX, 0, NULL,
                 "client connections beyond this are closed at once"),
    CONF_INT_OPT("timeout", &loader.opt.timeout, "0", 0, INT_MAX, 0, NULL,
                 "close clients that sent nothing for this many seconds and wait for no answer "
                 "(0: never)"),
    OBUF_LIMIT_OPT(loader.opt.obuf, LOADER_OBUF_DEFAULT, 0,
                   "normal <hard> <soft> <soft-seconds>: close clients that do not read their "
                   "replies (0: no limit)"),
    CONF_INT_OPT("tcp-backlog", &loader.opt.tcp_backlog, "511", 0, INT_MAX, 0, NULL,
                 "listen() backlog"),
    CONF_STR_OPT("logfile", &loader.opt.logfile, "", 0, NULL, "log file (empty: stderr)"),
    CONF_ENUM_OPT("loglevel", &loader.opt.loglevel, "notice", loglevels, 0, NULL,
                  "debug, verbose, notice or warning"),
    CONF_STR_OPT("pidfile", &loader.opt.pidfile, "", 0, NULL, "write the pid here"),
    CONF_END,
};

/* Each address of bind ("127.0.0.1 -::1") is loopback. */
static bool
bind_is_loopback(const char *bind)
{
    char *spec = mem_strdup(bind);
    char *save = NULL;
    bool all = true;

    for (char *h = strtok_r(spec, " ", &save); h != NULL; h = strtok_r(NULL, " ", &save)) {
        char addr[NET_ADDR_MAX + 8];
        snprintf(addr, sizeof(addr), "%s:0", h[0] == '-' ? h + 1 : h);
        all = all && (listener_is_loopback(addr) || strcmp(h, "localhost") == 0);
    }
    mem_free(spec);
    return all;
}

void
loader_config_free(void)
{
    route_table_free(&loader.routes);
    conf_free(loader_options);
}

static void SC_NORETURN
config_fail(const char *why)
{
    fprintf(stderr, "slotcache-loader: %s\n", why);
    loader_config_free();
    exit(1);
}

void
loader_configure(int argc, char **argv)
{
    char err[1024];

    conf_defaults(loader_options);
    loader.routes.defaults = true; /* the first route directive replaces the built-in one */
    if (conf_load_args(loader_options, argc, argv, err, sizeof(err)) != SC_OK) {
        config_fail(err);
    }
    if (!bind_is_loopback(loader.opt.bind) && loader.opt.secret[0] == '\0') {
        snprintf(err, sizeof(err),
                 "refusing to listen on '%s' without a secret: anyone who can connect could "
                 "query the database. Set 'secret', or bind to 127.0.0.1",
                 loader.opt.bind);
        config_fail(err);
    }
    if (argc > 0 && strncmp(argv[0], "--", 2) != 0) {
        char *abs = realpath(argv[0], NULL);
        loader.config_file = mem_strdup(abs != NULL ? abs : argv[0]);
        free(abs);
    }
}

/* ---- loop hooks ---- */

static void
on_cron(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    pgpool_cron();
    rpc_cron();
}

/* Queries leave in one write per connection per loop turn, then the
 * replies their answers (or this turn's requests) produced. */
static void
on_before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    pgpool_flush();
    rpc_flush();
    if (loader.shutdown_asap) {
        ev_break(loop, EVBREAK_ALL);
    }
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    log_warn("Received %s scheduling shutdown...", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    loader.shutdown_asap = true;
    ev_break(loop, EVBREAK_ALL);
}

static bool
metrics_page(const char *path, struct sbuf *body, const char **type)
{
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4";
        loader_metrics(body);
        return true;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/info") == 0) {
        loader_info(body);
        return true;
    }
    return false;
}

static void
write_pidfile(void)
{
    if (loader.opt.pidfile[0] == '\0') {
        return;
    }
    FILE *f = fopen(loader.opt.pidfile, "w");
    if (f == NULL) {
        log_warn("Failed to write PID file %s: %s", loader.opt.pidfile, strerror(errno));
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static void
seed_random(void)
{
    unsigned seed;

    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        seed = (unsigned)time(NULL);
    }
    srandom(seed ^ (unsigned)getpid());
}

int
loader_setup(void)
{
    char err[1024];

    if (log_setup(loader.opt.logfile, loader.opt.loglevel, 'L') != SC_OK) {
        fprintf(stderr, "slotcache-loader: can't open the log file %s: %s\n", loader.opt.logfile,
                strerror(errno));
        return SC_ERR;
    }
    seed_random();
    loader.loop = EV_DEFAULT;
    clock_setup(loader.loop);
    loader.start_ms = clock_now_ms();
    metrics.fd = -1;
    breaker_init(&loader.breaker, (int)loader.opt.breaker_failures, loader.opt.breaker_cooldown_ms);
    flight_table_init(&loader.flights);
    load_setup(rpc_load_done);
    /* redis's reserve plus the database connections; a limit too low to
     * start fails before the listener opens (teardown undoes the rest). */
    struct fdlimit_result fl;
    fdlimit_fit(loader.opt.maxclients, FDLIMIT_RESERVED + (int)loader.opt.pool_size, &fl);
    fdlimit_report(&fl);
    if (fl.status == FDLIMIT_TOO_LOW) {
        return SC_ERR;
    }
    loader.opt.maxclients = fl.maxclients;
    if (rpc_setup(err, sizeof(err)) != SC_OK) {
        log_warn("Could not create the listening socket: %s", err);
        return SC_ERR;
    }
    if (loader.opt.metrics_port > 0 &&
        http_listen(&metrics, loader.loop, loader.opt.metrics_bind, (int)loader.opt.metrics_port,
                    metrics_page, err, sizeof(err)) != SC_OK) {
        log_warn("Could not open the metrics port: %s", err);
        return SC_ERR;
    }
    write_pidfile();
    ev_timer_init(&loader.cron, on_cron, 1.0 / LOADER_CRON_HZ, 1.0 / LOADER_CRON_HZ);
    ev_timer_start(loader.loop, &loader.cron);
    ev_prepare_init(&loader.before_sleep, on_before_sleep);
    ev_prepare_start(loader.loop, &loader.before_sleep);
    ev_signal_init(&loader.sig_term, on_signal, SIGTERM);
    ev_signal_start(loader.loop, &loader.sig_term);
    ev_signal_init(&loader.sig_int, on_signal, SIGINT);
    ev_signal_start(loader.loop, &loader.sig_int);
    log_notice("slotcache-loader %s pid=%d: %d route(s), pool of %lld PostgreSQL connections",
               LOADER_VERSION, (int)getpid(), loader.routes.n, loader.opt.pool_size);
    log_notice("Ready to accept connections tcp port=%d", rpc_port());
    return SC_OK;
}

void
loader_run(void)
{
    ev_run(loader.loop, 0);
}

void
loader_teardown(void)
{
    log_notice("slotcache-loader is now ready to exit, bye bye...");
    rpc_teardown();
    http_close(&metrics);
    load_teardown();
    flight_table_free(&loader.flights);
    ev_timer_stop(loader.loop, &loader.cron);
    ev_prepare_stop(loader.loop, &loader.before_sleep);
    ev_signal_stop(loader.loop, &loader.sig_term);
    ev_signal_stop(loader.loop, &loader.sig_int);
    if (loader.opt.pidfile[0] != '\0') {
        unlink(loader.opt.pidfile);
    }
    clock_teardown(loader.loop);
    loader_config_free();
    mem_free(loader.config_file);
    buf_pool_drain();
    log_teardown();
}

/* ---- counters, INFO, metrics ---- */

void
loader_count_status(int status)
{
    switch (status) {
    case SLOTCACHE__LOADER__STATUS__OK:
        break;
    case SLOTCACHE__LOADER__STATUS__NOT_FOUND:
        loader.stats[STAT_not_found]++;
        break;
    case SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT:
        loader.stats[STAT_errors_invalid_argument]++;
        break;
    case SLOTCACHE__LOADER__STATUS__DEADLINE_EXCEEDED:
        loader.stats[STAT_deadline_exceeded]++;
        break;
    case SLOTCACHE__LOADER__STATUS__RESOURCE_EXHAUSTED:
        loader.stats[STAT_bulkhead_rejected]++;
        break;
    case SLOTCACHE__LOADER__STATUS__UNAVAILABLE:
        loader.stats[STAT_errors_unavailable]++;
        break;
    case SLOTCACHE__LOADER__STATUS__UNAUTHENTICATED:
        loader.stats[STAT_errors_unauthenticated]++;
        break;
    default:
        loader.stats[STAT_errors_internal]++;
        break;
    }
}

/* Gauges are read when shown, not kept up to date on the hot path. */
static void
refresh_gauges(void)
{
    const struct pgpool_stats *ps = pgpool_stats();

    loader.stats[STAT_breaker_state] = loader.breaker.state;
    loader.stats[STAT_breaker_opens] = loader.breaker.opens;
    loader.stats[STAT_query_latency_mean_us] = latency_mean_us(&loader.latency);
    loader.stats[STAT_query_latency_p50_us] = latency_percentile_us(&loader.latency, 50);
    loader.stats[STAT_query_latency_p99_us] = latency_percentile_us(&loader.latency, 99);
    loader.stats[STAT_pg_connections_up] = (uint64_t)pgpool_up();
    loader.stats[STAT_pg_connects] = ps->connects;
    loader.stats[STAT_pg_connect_failures] = ps->connect_failures;
    loader.stats[STAT_pg_disconnects] = ps->disconnects;
}

void
loader_info(struct sbuf *s)
{
    refresh_gauges();
    stats_info_section(s, "Server");
    stats_info_str(s, "slotcache_loader_version", LOADER_VERSION);
    stats_info_i64(s, "process_id", getpid());
    stats_info_i64(s, "tcp_port", rpc_port());
    stats_info_i64(s, "uptime_in_seconds", (clock_now_ms() - loader.start_ms) / 1000);
    stats_info_str(s, "config_file", loader.config_file != NULL ? loader.config_file : "");
    stats_info_section(s, "Clients");
    stats_info_i64(s, "maxclients", loader.opt.maxclients);
    stats_info_u64(s, "used_memory", mem_used() - buf_pool_bytes());
    stats_info_section(s, "Postgres");
    stats_info_i64(s, "pool_size", loader.opt.pool_size);
    stats_info_u64(s, "pg_connections_up", (uint64_t)pgpool_up());
    stats_info_i64(s, "query_timeout_ms", loader.opt.query_timeout_ms);
    stats_info_section(s, "Breaker");
    stats_info_str(s, "breaker", breaker_state_name(loader.breaker.state));
    stats_info_i64(s, "breaker_consecutive_failures", loader.breaker.failures);
    stats_info_i64(s, "breaker_retry_in_ms", breaker_retry_in(&loader.breaker, clock_now_ms()));
    stats_info_section(s, "Stats");
    stats_info_render(s, metric_desc, loader.stats, LOADER_METRIC_COUNT);
    stats_info_section(s, "Routes");
    for (int i = 0; i < loader.routes.n; i++) {
        const struct route *r = &loader.routes.routes[i];
        sbuf_printf(s, "route%d:prefix=%s,ttl=%u,inflight=%u,bulkhead=%lld\r\n", i, r->prefix,
                    r->ttl, r->inflight, loader.opt.bulkhead);
    }
}

void
loader_metrics(struct sbuf *s)
{
    char labels[ROUTE_PREFIX_MAX * 2 + 16];

    refresh_gauges();
    stats_prom_render(s, "slotcache_loader", metric_desc, loader.stats, LOADER_METRIC_COUNT, NULL);
    for (int i = 0; i < loader.routes.n; i++) {
        const struct route *r = &loader.routes.routes[i];
        size_t n = (size_t)snprintf(labels, sizeof(labels), "route=\"");
        /* Prometheus label values escape \ and ". */
        for (const char *p = r->prefix; *p != '\0' && n < sizeof(labels) - 4; p++) {
            if (*p == '\\' || *p == '"') {
                labels[n++] = '\\';
            }
            labels[n++] = *p;
        }
        snprintf(labels + n, sizeof(labels) - n, "\"");
        if (i == 0) {
            stats_prom_head(s, "slotcache_loader", "route_queries_in_flight", STATS_GAUGE,
                            "queries of the route running now (its bulkhead's count)");
        }
        stats_prom_value(s, "slotcache_loader", "route_queries_in_flight", labels, r->inflight);
    }
}
