/*
 * client.h -- one client connection of the node: read, parse, dispatch,
 * reply.
 *
 * Life of a request: bytes arrive in c->qbuf (a pooled buffer, borrowed
 * when data comes and returned when all of it is consumed, so an idle
 * client holds none); the RESP reader finds a whole request; c->conn.argv points
 * into qbuf (no copy); the command appends its reply to c->reply, a chain of
 * pooled buffers; the client joins the server's pending-write list, and the
 * loop's prepare watcher writes every pending reply with writev before it
 * polls again.  EV_WRITE is armed only when a write would block.
 *
 * A client is never freed inside a callback that may still use it: closing
 * sets CONN_CLOSE_ASAP and queues it; the prepare watcher frees it.
 */
#pragma once

#include "common/bstr.h"
#include "common/buf.h"
#include "common/conn.h"
#include "common/reply.h"
#include "common/resp.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define CLIENT_MULTI (CONN_OWNER_FLAGS << 0)      /* inside MULTI */
#define CLIENT_DIRTY_EXEC (CONN_OWNER_FLAGS << 1) /* a queued command was refused: EXECABORT */
#define CLIENT_DIRTY_CAS (CONN_OWNER_FLAGS << 2)  /* a WATCHed key changed: EXEC returns nil */
#define CLIENT_RESUME (CONN_OWNER_FLAGS << 3)     /* input left for its next turn */

struct cmd;
struct multi_state;

struct client {
    struct conn conn;    /* first: the connection a struct conn * points to */
    struct bufq reply;   /* bytes to send */
    struct cmd *cmd;     /* running now */
    struct cmd *lastcmd; /* for CLIENT LIST cmd= */
    long long obuf_soft_since;  /* ms: over the soft output limit since; 0 if not */
    struct multi_state *mstate; /* MULTI queue and WATCHed keys; NULL if none */
    struct client *resume_next; /* on the list of clients with input left */
};

static inline struct client *
client_of(struct conn *c)
{
    return container_of(c, struct client, conn);
}

/* The watchers that give clients with input left over their next turn
 * (see process_input in client.c). */
void client_setup(struct ev_loop *loop);
void client_teardown(struct ev_loop *loop);
/* Creates a client for an accepted fd and starts reading (after the
 * handshake when tls, a session it takes over, is not NULL). */
struct client *client_create(int fd, struct tls *tls, const char *peer);
/* Frees c: stops its watchers, closes fd, returns its buffers.  Only from
 * the prepare watcher or teardown (see the file comment). */
void client_free(struct client *c);
/* Schedules c to be freed before the loop next sleeps. */
void client_close_async(struct client *c);
/* Writes what c has to send; arms EV_WRITE if the socket is full. */
void client_write(struct client *c);
/* Puts c on the pending-write list if it has bytes to send. */
void client_queue_write(struct client *c);
/* Whether c is over its output buffer limits (and schedules the close). */
bool client_check_output_limits(struct client *c);
/* One CLIENT LIST line for c (no newline) into s. */
struct sbuf;
void client_describe(struct client *c, struct sbuf *s);

/* ---- replies: thin wrappers so that handlers read like redis's ---- */

void client_count_error(struct client *c);

static inline void
client_reply_ok(struct client *c)
{
    resp_add_raw(&c->reply, "+OK\r\n", 5);
}

static inline void
client_reply_int(struct client *c, long long v)
{
    resp_add_int(&c->reply, v);
}

static inline void
client_reply_bulk(struct client *c, const void *p, size_t n)
{
    resp_add_bulk(&c->reply, p, n);
}

static inline void
client_reply_null(struct client *c)
{
    resp_add_null(&c->reply, c->conn.resp);
}

static inline void
client_reply_null_array(struct client *c)
{
    resp_add_null_array(&c->reply, c->conn.resp);
}

static inline void
client_reply_array(struct client *c, size_t n)
{
    resp_add_array(&c->reply, n);
}

static inline void
client_reply_map(struct client *c, size_t n)
{
    resp_add_map(&c->reply, c->conn.resp, n);
}

static inline void
client_reply_simple(struct client *c, const char *s)
{
    resp_add_simple(&c->reply, s, strlen(s));
}

/* An error reply (text without the leading '-'), counted in INFO. */
void client_reply_error(struct client *c, const char *err);
void client_reply_errorf(struct client *c, const char *fmt, ...) SC_PRINTF(2, 3);
/* The reply to "<CMD> HELP": a heading naming the command (its first word,
 * uppercased), the lines, then HELP, as redis's addReplyHelp. */
void client_reply_help(struct client *c, const char *const *lines);
/* "ERR wrong number of arguments for '<cmd>' command" for the running command. */
void client_reply_arity(struct client *c);
