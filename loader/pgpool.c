/*
 * pgpool.c -- see pgpool.h.
 *
 * A connection's life:
 *
 *   BACKOFF --timer--> CONNECTING --PQconnectPoll OK--> SETUP --last setup sync--> READY
 *      ^                   |                              |                          |
 *      +------------------ failure, timeout, broken socket (conn_fail) --------------+
 *
 * Every command sent (setup steps and queries alike) is followed by its own
 * PQpipelineSync, so each one's answer is: one result, a NULL, then
 * PGRES_PIPELINE_SYNC.  The op is answered at its result and popped at its
 * sync.
 */
#include "loader/pgpool.h"

#include "common/defs.h"
#include "common/log.h"
#include "common/mem.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PGPOOL_BACKOFF_MIN_MS 100
#define PGPOOL_BACKOFF_MAX_MS 2000
#define PGPOOL_CONNECT_TIMEOUT_MS 5000
#define PGPOOL_GRACE_MS 1000       /* beyond query-timeout before a silent connection is dropped */
#define PGPOOL_WARN_EVERY_MS 10000 /* repeated connection failures: one warning per this */
#define PGPOOL_OPS_FREE_MAX 1024

enum conn_state { PG_BACKOFF, PG_CONNECTING, PG_SETUP, PG_READY };
enum op_kind { OP_QUERY, OP_SET_TIMEOUT, OP_PREPARE };

struct pg_op {
    struct pg_op *next;
    enum op_kind kind;
    int stmt;
    const char *param; /* borrowed from ctx */
    void *ctx;
    long long submit_us; /* latency is measured from here */
    long long sent_us;   /* the watchdog from here */
    bool answered;
};

struct op_queue {
    struct pg_op *head, *tail;
    int n;
};

struct pg_conn {
    int idx;
    enum conn_state state;
    PGconn *pg;
    ev_io io;
    int events;          /* what io watches: EV_READ, EV_WRITE or both; 0 when stopped */
    ev_timer timer;      /* backoff, or the connect timeout */
    struct op_queue ops; /* sent, in the order answers come */
    int setup_left;      /* setup steps not yet synced */
    long long backoff_ms;
    bool dirty; /* output queued in libpq, not yet flushed */
};

static struct {
    struct ev_loop *loop;
    struct pgpool_options opt;
    pgpool_done_fn *done;
    struct pg_conn *conns;
    struct op_queue pending; /* submitted, no connection yet */
    struct pg_op *free_ops;
    int nfree;
    int up;
    char (*names)[32]; /* prepared statement names */
    char timeout_param[24];
    char last_error[256];
    long long last_warn_ms;
    struct pgpool_stats stats;
} pool;

static void conn_start(struct pg_conn *c);

static long long
now_us(void)
{
    return (long long)(ev_now(pool.loop) * 1e6);
}

/* ---- ops ---- */

static struct pg_op *
op_get(enum op_kind kind)
{
    struct pg_op *op = pool.free_ops;

    if (op != NULL) {
        pool.free_ops = op->next;
        pool.nfree--;
    } else {
        op = mem_alloc(sizeof(*op));
    }
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    return op;
}

static void
op_put(struct pg_op *op)
{
    if (pool.nfree >= PGPOOL_OPS_FREE_MAX) {
        mem_free(op);
        return;
    }
    op->next = pool.free_ops;
    pool.free_ops = op;
    pool.nfree++;
}

static void
queue_push(struct op_queue *q, struct pg_op *op)
{
    op->next = NULL;
    if (q->tail != NULL) {
        q->tail->next = op;
    } else {
        q->head = op;
    }
    q->tail = op;
    q->n++;
}

static struct pg_op *
queue_pop(struct op_queue *q)
{
    struct pg_op *op = q->head;

    if (op != NULL) {
        q->head = op->next;
        if (q->head == NULL) {
            q->tail = NULL;
        }
        q->n--;
    }
    return op;
}

/* Answers a query that did not reach (or not come back from) the database. */
static void
answer_failure(struct pg_op *op, enum pgpool_outcome outcome, const char *why)
{
    struct pgpool_result r = {
        .outcome = outcome, .message = why, .latency_us = now_us() - op->submit_us};
    op->answered = true;
    pool.done(op->ctx, &r);
}

/* Fails (and frees) every op of q; setup steps have nobody to tell. */
static void
fail_queue(struct op_queue *q, enum pgpool_outcome outcome, const char *why)
{
    struct pg_op *op;

    while ((op = queue_pop(q)) != NULL) {
        if (op->kind == OP_QUERY && !op->answered) {
            answer_failure(op, outcome, why);
        }
        op_put(op);
    }
}

/* ---- connection plumbing ---- */

/* Watches the connection's socket for events; libpq may change the socket
 * while connecting (another address), so the fd is re-read each time. */
static void
watch(struct pg_conn *c, int events)
{
    int fd = PQsocket(c->pg);

    if (events == c->events && fd == c->io.fd) {
        return;
    }
    ev_io_stop(pool.loop, &c->io);
    c->events = 0;
    if (fd < 0 || events == 0) {
        return;
    }
    ev_io_set(&c->io, fd, events);
    ev_io_start(pool.loop, &c->io);
    c->events = events;
}

/* Copies libpq's message (several lines, ending in a newline) into one
 * line of pool.last_error, which outlives the PGconn it came from. */
static const char *
remember_error(const char *msg)
{
    char line[sizeof(pool.last_error)];
    size_t n = 0;

    for (const char *p = msg; *p != '\0' && n < sizeof(line) - 1; p++) {
        bool blank = *p == '\n' || *p == '\t' || *p == ' ';
        if (!blank) {
            line[n++] = *p;
        } else if (n > 0 && line[n - 1] != ' ') {
            line[n++] = ' ';
        }
    }
    while (n > 0 && line[n - 1] == ' ') {
        n--;
    }
    line[n] = '\0';
    memcpy(pool.last_error, line, n + 1);
    return pool.last_error;
}

/* Connection failures repeat every backoff while the database is down: one
 * warning when a ready connection breaks, then one per PGPOOL_WARN_EVERY_MS. */
static void
warn_failure(struct pg_conn *c, bool was_ready, const char *why)
{
    long long now_ms = now_us() / 1000;

    if (was_ready || now_ms - pool.last_warn_ms >= PGPOOL_WARN_EVERY_MS) {
        pool.last_warn_ms = now_ms;
        log_warn("PostgreSQL connection %d %s: %s (%d/%d up)", c->idx,
                 was_ready ? "lost" : "failed", why, pool.up, pool.opt.size);
    }
}

static double
jittered_backoff(struct pg_conn *c)
{
    /* +-25%, so that a pool that broke at once does not reconnect in step. */
    double ms = (double)c->backoff_ms * (0.75 + 0.5 * (double)random() / (double)RAND_MAX);
    c->backoff_ms = MIN(c->backoff_ms * 2, PGPOOL_BACKOFF_MAX_MS);
    return ms / 1000.0;
}

/* Closes c, answers its queries with outcome, and schedules a reconnect. */
static void
conn_fail(struct pg_conn *c, enum pgpool_outcome outcome, const char *msg)
{
    bool was_ready = c->state == PG_READY;
    const char *why = remember_error(msg);
    struct op_queue ops = c->ops;

    if (was_ready) {
        pool.up--;
        pool.stats.disconnects++;
    } else {
        pool.stats.connect_failures++;
    }
    warn_failure(c, was_ready, why);
    watch(c, 0);
    ev_timer_stop(pool.loop, &c->timer);
    PQfinish(c->pg);
    c->pg = NULL;
    c->ops = (struct op_queue){0};
    c->dirty = false;
    c->state = PG_BACKOFF;
    ev_timer_set(&c->timer, jittered_backoff(c), 0.);
    ev_timer_start(pool.loop, &c->timer);
    fail_queue(&ops, outcome, why);
}

/* Flushes libpq's output buffer; watches for writability while it is not
 * empty.  SC_ERR if the connection failed (and was closed). */
static int
conn_flush(struct pg_conn *c)
{
    int r = PQflush(c->pg);

    if (r < 0) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
        return SC_ERR;
    }
    c->dirty = false;
    watch(c, r == 1 ? EV_READ | EV_WRITE : EV_READ);
    return SC_OK;
}

static void
on_notice(void *arg, const char *message)
{
    (void)arg;
    log_verbose("PostgreSQL: %s", remember_error(message));
}

/* ---- setup: statement_timeout and the prepared statements ---- */

static int
send_setup(struct pg_conn *c)
{
    const char *param = pool.timeout_param;
    struct pg_op *op = op_get(OP_SET_TIMEOUT);

    queue_push(&c->ops, op);
    op->sent_us = now_us();
    if (!PQsendQueryParams(c->pg, "SELECT set_config('statement_timeout', $1, false)", 1, NULL,
                           &param, NULL, NULL, 0) ||
        !PQpipelineSync(c->pg)) {
        return SC_ERR;
    }
    for (int i = 0; i < pool.opt.nsql; i++) {
        op = op_get(OP_PREPARE);
        op->stmt = i;
        op->sent_us = now_us();
        queue_push(&c->ops, op);
        if (!PQsendPrepare(c->pg, pool.names[i], pool.opt.sql[i], 1, NULL) ||
            !PQpipelineSync(c->pg)) {
            return SC_ERR;
        }
    }
    c->setup_left = 1 + pool.opt.nsql;
    return SC_OK;
}

static void
conn_connected(struct pg_conn *c)
{
    ev_timer_stop(pool.loop, &c->timer);
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1 ||
        send_setup(c) != SC_OK) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
        return;
    }
    c->state = PG_SETUP;
    conn_flush(c);
}

static void
conn_ready(struct pg_conn *c)
{
    c->state = PG_READY;
    c->backoff_ms = PGPOOL_BACKOFF_MIN_MS;
    pool.up++;
    pool.stats.connects++;
    log_notice("PostgreSQL connection %d ready (%d/%d up): server %d, statements prepared", c->idx,
               pool.up, pool.opt.size, PQserverVersion(c->pg));
}

static void
connect_step(struct pg_conn *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        watch(c, EV_READ);
        return;
    case PGRES_POLLING_WRITING:
        watch(c, EV_WRITE);
        return;
    case PGRES_POLLING_OK:
        conn_connected(c);
        return;
    default:
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
        return;
    }
}

/* ---- answers ---- */

/* SQLSTATE classes: 22 is a value the statement cannot take (koi:abc for a
 * bigint); 57014 is statement_timeout; connection, resource, operator and
 * internal classes mean the database is not serving; the rest (42 syntax,
 * undefined table...) is the statement's fault.  No SQLSTATE: libpq's own
 * error, a lost connection. */
static enum pgpool_outcome
classify(const char *sqlstate)
{
    static const char *const down[] = {"08", "53", "57", "58", "XX", "40", NULL};

    if (sqlstate == NULL || strlen(sqlstate) != 5) {
        return PGPOOL_DOWN;
    }
    if (strncmp(sqlstate, "22", 2) == 0) {
        return PGPOOL_BAD_INPUT;
    }
    if (strcmp(sqlstate, "57014") == 0) {
        return PGPOOL_TIMEOUT;
    }
    for (int i = 0; down[i] != NULL; i++) {
        if (strncmp(sqlstate, down[i], 2) == 0) {
            return PGPOOL_DOWN;
        }
    }
    return PGPOOL_ERROR;
}

static void
answer_result(struct pg_op *op, const PGresult *res)
{
    struct pgpool_result r = {.latency_us = now_us() - op->submit_us, .reached_db = 1};
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0 &&
            !PQgetisnull(res, 0, 0)) {
            r.outcome = PGPOOL_ROW;
            r.value = PQgetvalue(res, 0, 0);
            r.len = (size_t)PQgetlength(res, 0, 0);
        } else {
            r.outcome = PGPOOL_NO_ROW;
        }
    } else {
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        r.outcome = classify(PQresultErrorField(res, PG_DIAG_SQLSTATE));
        r.message = primary != NULL ? primary : remember_error(PQresultErrorMessage(res));
        r.reached_db = r.outcome != PGPOOL_DOWN;
    }
    op->answered = true;
    pool.done(op->ctx, &r);
}

/* A setup step's result: anything but success fails the connection (a
 * route whose statement does not prepare, say because its table is not
 * there yet, keeps the pool reconnecting until it does). */
static int
setup_result(struct pg_conn *c, struct pg_op *op, const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    char why[512];

    op->answered = true;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        return SC_OK;
    }
    if (op->kind == OP_PREPARE) {
        snprintf(why, sizeof(why), "preparing statement %s: %s", pool.names[op->stmt],
                 PQresultErrorMessage(res));
    } else {
        snprintf(why, sizeof(why), "setting statement_timeout: %s", PQresultErrorMessage(res));
    }
    conn_fail(c, PGPOOL_DOWN, why);
    return SC_ERR;
}

/* The sync that ends the op at the head. */
static void
op_synced(struct pg_conn *c)
{
    struct pg_op *op = queue_pop(&c->ops);

    if (op->kind == OP_QUERY) {
        if (!op->answered) {
            answer_failure(op, PGPOOL_ERROR, "the statement returned no result");
        }
    } else if (--c->setup_left == 0) {
        conn_ready(c);
    }
    op_put(op);
}

/* Handles one PGresult (and clears it).  SC_ERR if the connection failed. */
static int
handle_result(struct pg_conn *c, PGresult *res)
{
    struct pg_op *op = c->ops.head;
    int rc = SC_OK;

    if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
        op_synced(c);
    } else if (!op->answered) {
        if (op->kind == OP_QUERY) {
            answer_result(op, res);
        } else {
            rc = setup_result(c, op, res);
        }
    }
    PQclear(res);
    return rc;
}

static void
read_results(struct pg_conn *c)
{
    int nulls = 0;

    if (!PQconsumeInput(c->pg)) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
        return;
    }
    /* Two NULLs in a row mean libpq has nothing more for now, whatever
     * PQisBusy said: never spin. */
    while (c->ops.head != NULL && !PQisBusy(c->pg) && nulls < 2) {
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) {
            nulls++;
            continue;
        }
        nulls = 0;
        if (handle_result(c, res) != SC_OK) {
            return;
        }
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
    }
}

/* ---- watchers ---- */

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pg_conn *c = container_of(w, struct pg_conn, io);

    (void)loop;
    if (c->state == PG_CONNECTING) {
        connect_step(c);
        return;
    }
    if ((revents & EV_WRITE) && conn_flush(c) != SC_OK) {
        return;
    }
    if (revents & EV_READ) {
        read_results(c);
    }
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pg_conn *c = container_of(w, struct pg_conn, timer);

    (void)loop;
    (void)revents;
    if (c->state == PG_CONNECTING) {
        conn_fail(c, PGPOOL_DOWN, "timed out connecting to PostgreSQL");
        return;
    }
    conn_start(c);
}

static void
conn_start(struct pg_conn *c)
{
    /* The user's conninfo goes in as an expandable dbname, so it may be a
     * "key=value" string or a URI; empty, libpq falls back to PGHOST and
     * friends. */
    const char *const keys[] = {"fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"slotcache-loader", pool.opt.conninfo, NULL};

    c->pg = PQconnectStartParams(keys, vals, 1);
    c->state = PG_CONNECTING;
    if (c->pg == NULL) {
        conn_fail(c, PGPOOL_DOWN, "out of memory starting a connection");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
        return;
    }
    /* libpq's protocol: start as if PQconnectPoll had said WRITING. */
    watch(c, EV_WRITE);
    ev_timer_set(&c->timer, PGPOOL_CONNECT_TIMEOUT_MS / 1000.0, 0.);
    ev_timer_start(pool.loop, &c->timer);
}

/* ---- the pool ---- */

void
pgpool_setup(struct ev_loop *loop, const struct pgpool_options *o, pgpool_done_fn *done)
{
    memset(&pool, 0, sizeof(pool));
    pool.loop = loop;
    pool.opt = *o;
    pool.done = done;
    pool.last_warn_ms = -PGPOOL_WARN_EVERY_MS;
    snprintf(pool.timeout_param, sizeof(pool.timeout_param), "%lld", o->query_timeout_ms);
    pool.names = mem_calloc((size_t)MAX(o->nsql, 1), sizeof(*pool.names));
    for (int i = 0; i < o->nsql; i++) {
        snprintf(pool.names[i], sizeof(pool.names[i]), PGPOOL_STMT_NAME, i);
    }
    pool.conns = mem_calloc((size_t)o->size, sizeof(*pool.conns));
    for (int i = 0; i < o->size; i++) {
        struct pg_conn *c = &pool.conns[i];
        c->idx = i;
        c->backoff_ms = PGPOOL_BACKOFF_MIN_MS;
        ev_io_init(&c->io, on_io, -1, EV_READ);
        ev_init(&c->timer, on_timer);
        conn_start(c);
    }
}

void
pgpool_teardown(void)
{
    struct pg_op *op;

    for (int i = 0; i < pool.opt.size; i++) {
        struct pg_conn *c = &pool.conns[i];
        watch(c, 0);
        ev_timer_stop(pool.loop, &c->timer);
        while ((op = queue_pop(&c->ops)) != NULL) {
            mem_free(op);
        }
        PQfinish(c->pg);
    }
    while ((op = queue_pop(&pool.pending)) != NULL) {
        mem_free(op);
    }
    while ((op = pool.free_ops) != NULL) {
        pool.free_ops = op->next;
        mem_free(op);
    }
    mem_free(pool.conns);
    mem_free(pool.names);
    memset(&pool, 0, sizeof(pool));
}

void
pgpool_submit(int stmt, const char *param, void *ctx)
{
    struct pg_op *op = op_get(OP_QUERY);

    op->stmt = stmt;
    op->param = param;
    op->ctx = ctx;
    op->submit_us = now_us();
    queue_push(&pool.pending, op);
}

static struct pg_conn *
least_busy_ready(void)
{
    struct pg_conn *best = NULL;

    for (int i = 0; i < pool.opt.size; i++) {
        struct pg_conn *c = &pool.conns[i];
        if (c->state == PG_READY && (best == NULL || c->ops.n < best->ops.n)) {
            best = c;
        }
    }
    return best;
}

static bool
any_coming(void)
{
    for (int i = 0; i < pool.opt.size; i++) {
        if (pool.conns[i].state != PG_BACKOFF) {
            return true;
        }
    }
    return false;
}

static void
send_query(struct pg_conn *c, struct pg_op *op)
{
    op->sent_us = now_us();
    queue_push(&c->ops, op);
    c->dirty = true;
    if (!PQsendQueryPrepared(c->pg, pool.names[op->stmt], 1, &op->param, NULL, NULL, 0) ||
        !PQpipelineSync(c->pg)) {
        conn_fail(c, PGPOOL_DOWN, PQerrorMessage(c->pg));
    }
}

/* Hands pending queries to ready connections.  With none ready and none
 * on its way (all backing off), waiting cannot help: they fail now. */
static void
dispatch_pending(void)
{
    struct pg_conn *c;
    char why[sizeof(pool.last_error) + 64];

    while (pool.pending.head != NULL && (c = least_busy_ready()) != NULL) {
        send_query(c, queue_pop(&pool.pending));
    }
    if (pool.pending.head != NULL && !any_coming()) {
        snprintf(why, sizeof(why), "no connection to PostgreSQL: %s",
                 pool.last_error[0] != '\0' ? pool.last_error : "not connected");
        fail_queue(&pool.pending, PGPOOL_DOWN, why);
    }
}

void
pgpool_flush(void)
{
    dispatch_pending();
    for (int i = 0; i < pool.opt.size; i++) {
        struct pg_conn *c = &pool.conns[i];
        if (c->dirty && c->pg != NULL) {
            conn_flush(c);
        }
    }
}

/* Whether c's oldest query has waited past query-timeout and the grace. */
static bool
overdue(const struct pg_conn *c, long long now, long long limit_us)
{
    const struct pg_op *op = c->ops.head;
    return op != NULL && now - op->sent_us > limit_us + PGPOOL_GRACE_MS * 1000;
}

void
pgpool_cron(void)
{
    long long now = now_us();
    long long limit_us = pool.opt.query_timeout_ms * 1000;
    char why[128];

    for (int i = 0; i < pool.opt.size; i++) {
        struct pg_conn *c = &pool.conns[i];
        if (!overdue(c, now, limit_us)) {
            continue;
        }
        /* When the loader itself was paused (SIGSTOP, a stalled VM) the
         * answer may be waiting in the socket: on resuming, libev runs the
         * timers before the readable sockets.  Read first; a connection
         * still silent after that is stuck. */
        if (c->state == PG_SETUP || c->state == PG_READY) {
            read_results(c);
        }
        if (overdue(c, now, limit_us)) {
            /* statement_timeout should have answered by now: the server or
             * the network is stuck, and so is everything behind this op. */
            snprintf(why, sizeof(why), "no answer from PostgreSQL within %lld ms",
                     pool.opt.query_timeout_ms + PGPOOL_GRACE_MS);
            conn_fail(c, PGPOOL_TIMEOUT, why);
        }
    }
    while (pool.pending.head != NULL && now - pool.pending.head->submit_us > limit_us) {
        struct pg_op *op = queue_pop(&pool.pending);
        snprintf(why, sizeof(why), "no PostgreSQL connection ready within %lld ms",
                 pool.opt.query_timeout_ms);
        answer_failure(op, PGPOOL_TIMEOUT, why);
        op_put(op);
    }
}

int
pgpool_up(void)
{
    return pool.up;
}

const struct pgpool_stats *
pgpool_stats(void)
{
    return &pool.stats;
}
