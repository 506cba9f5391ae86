/*
 * front.h -- a client connection of the proxy.
 *
 * Each whole request becomes a message (msg.h) appended to the client's
 * queue and routed: forwarded to a node as the bytes the client sent (a
 * segment of this connection's read buffer), split across shards, fanned
 * out, or answered by the proxy.  Replies are written from the head of the
 * queue as they complete, so they leave in request order.
 *
 * The connection itself (socket, request reading, lists) is the shared
 * struct conn (common/conn.h).
 * Messages still waiting for a node outlive their client (msg.h).
 */
#pragma once

#include "common/bstr.h"
#include "common/buf.h"
#include "common/conn.h"
#include "common/resp.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define FRONT_MULTI (CONN_OWNER_FLAGS << 0)      /* inside MULTI */
#define FRONT_DIRTY_EXEC (CONN_OWNER_FLAGS << 1) /* a queued command was refused */

struct msg;
struct pcmd;
struct shard;
struct tx;
struct sbuf;

struct acl_user;

struct front {
    struct conn conn; /* first: the connection a struct conn * points to */
    const struct pcmd *lastcmd;
    struct msg *qhead, *qtail; /* requests in arrival order */
    uint32_t nq;
    uint32_t head_off; /* bytes of qhead's reply written */
    struct tx *tx;     /* MULTI: the queued transaction */
    const struct acl_user *user; /* who it is logged in as (or will be, once AUTHed) */
    size_t obuf_bytes; /* replies complete and not yet written (output limit) */
    long long obuf_soft_since; /* ms: over the soft output limit since; 0 if not */
};

static inline struct front *
front_of(struct conn *c)
{
    return container_of(c, struct front, conn);
}

/* Processes len bytes as if c had just sent them (what a read does after
 * read(2)); the fuzz harness drives the proxy through it. */
int front_feed(struct front *c, const void *data, size_t len);
/* After cmdtab_setup(). */
void front_setup(void);
/* A client on an accepted fd; tls (taken over) when it came to the TLS port. */
void front_create(int fd, struct tls *tls, const char *peer);
void front_free(struct front *c);
void front_close_async(struct front *c);
/* After the users changed (a reload): re-finds c's user by name, or closes
 * c if its user is gone. */
void front_user_changed(struct front *c);
/* The before-sleep hook: write pending replies, free closed clients. */
void front_flush_all(void);

/* Routing helpers shared with multikey.c and local.c. */
/* Sends m to one member of shard s (writes to every member when s has
 * replicas); fails m with the shard's error when no member can take it. */
void front_route_shard(struct msg *m, struct shard *s);
/* The on_done of client messages: retries failed reads, then lets the
 * reply out when it is the client's turn. */
void front_msg_done(struct msg *m);

/* Building replies: handlers write into front_out(), then front_answer()
 * completes the message with those bytes. */
struct bufq *front_out(void);
void front_answer(struct msg *m);
void front_answer_error(struct msg *m, const char *err);
/* A segment holding what was written to front_out() (which is emptied). */
struct seg front_take_out(void);
/* One CLIENT LIST line. */
void front_describe(struct front *c, struct sbuf *s);
/* The most reply bytes any client has waiting (INFO's
 * client_recent_max_output_buffer). */
size_t front_max_output(void);
