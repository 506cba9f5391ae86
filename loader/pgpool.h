/*
 * pgpool.h -- a pool of non-blocking libpq connections on the loop.
 *
 * Each connection is opened with PQconnectStartParams/PQconnectPoll, made
 * non-blocking and put in pipeline mode; it then sets statement_timeout to
 * query-timeout and prepares every route's statement (PQsendPrepare), once.
 * Queries are PQsendQueryPrepared + PQpipelineSync each, so that one query's
 * error never aborts the queries pipelined behind it; answers are read with
 * PQconsumeInput/PQgetResult when the socket is readable and come back in
 * the order sent.  Nothing here blocks the loop: no PQexec, no PQconnectdb.
 * (libpq resolves host names with a blocking getaddrinfo when it connects:
 * give an address, or a name in /etc/hosts.)
 *
 *   submit --> pending --(pgpool_flush: least busy ready connection)--> conn ops FIFO
 *                                                                         | answers, in order
 *                                                                         v
 *                                                                   done(ctx, result)
 *
 * A connection that breaks (or leaves its oldest query unanswered past
 * query-timeout plus a grace) is closed, its queries are answered
 * PGPOOL_DOWN/PGPOOL_TIMEOUT, and it reconnects by itself after a backoff
 * (100 ms doubling to 2 s, with jitter).  Queries submitted while no
 * connection is ready wait for one, for at most query-timeout, and fail at
 * once when every connection is backing off.
 *
 * Every submitted query gets exactly one call of the done function, never
 * from inside pgpool_submit, except at teardown, which drops them silently.
 */
#pragma once

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define PGPOOL_SIZE_MAX 64
#define PGPOOL_STMT_NAME "sc_route_%d"

enum pgpool_outcome {
    PGPOOL_ROW,       /* a row: value is its first column */
    PGPOOL_NO_ROW,    /* no row, or a NULL first column */
    PGPOOL_BAD_INPUT, /* the database refused the parameter (SQLSTATE class 22) */
    PGPOOL_ERROR,     /* any other SQL error: the statement, not the database, is wrong */
    PGPOOL_TIMEOUT,   /* query-timeout passed */
    PGPOOL_DOWN,      /* no connection, or it broke */
};

struct pgpool_result {
    enum pgpool_outcome outcome;
    const char *value; /* PGPOOL_ROW: the value, valid during the callback */
    size_t len;
    const char *message;  /* otherwise: why, valid during the callback */
    long long latency_us; /* from submit to answer */
    int reached_db;       /* the database answered (latency is a query's) */
};

/* ctx is pgpool_submit's. */
typedef void pgpool_done_fn(void *ctx, const struct pgpool_result *r);

struct pgpool_options {
    const char *conninfo; /* libpq conninfo or URI; "" = libpq's environment (PGHOST...) */
    int size;             /* connections, 1..PGPOOL_SIZE_MAX */
    long long query_timeout_ms;
    const char *const *sql; /* statement i is prepared as PGPOOL_STMT_NAME i */
    int nsql;
};

struct pgpool_stats {
    uint64_t connects;         /* connections that became ready */
    uint64_t connect_failures; /* attempts that failed before ready */
    uint64_t disconnects;      /* ready connections that broke */
};

/* Starts connecting every connection (returns before any is up).  o's
 * strings must outlive the pool. */
void pgpool_setup(struct ev_loop *loop, const struct pgpool_options *o, pgpool_done_fn *done);
/* Closes every connection and drops queries without calling done. */
void pgpool_teardown(void);
/* Queues statement stmt with $1 = param (NUL-terminated, borrowed until
 * done is called for ctx). */
void pgpool_submit(int stmt, const char *param, void *ctx);
/* Sends queued queries to ready connections and flushes their output: call
 * before the loop sleeps, so that a loop turn's queries leave in one write. */
void pgpool_flush(void);
/* Periodic: fails queries unanswered past query-timeout (see above). */
void pgpool_cron(void);
/* Connections ready for queries. */
int pgpool_up(void);
const struct pgpool_stats *pgpool_stats(void);
