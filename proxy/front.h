/*
 * front.h -- a client connection of the proxy.
 *
 * Each whole request becomes a message (msg.h) appended to the client's
 * queue and routed: forwarded to a node as the bytes the client sent (a
 * segment of this connection's read buffer), split across shards, fanned
 * out, or answered by the proxy.  Replies are written from the head of the
 * queue as they complete, so they leave in request order.
 *
 * Like the node's clients, a front is never freed inside a callback that
 * may still use it: closing queues it, and the before-sleep hook frees it.
 * Messages still waiting for a node outlive their client (msg.h).
 */
#pragma once

#include "common/bstr.h"
#include "common/buf.h"
#include "common/net.h"
#include "common/resp.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define FRONT_CLOSE_AFTER_REPLY 0x01
#define FRONT_CLOSE_ASAP 0x02
#define FRONT_PENDING_WRITE 0x04
#define FRONT_AUTHED 0x08
#define FRONT_MULTI 0x10
#define FRONT_DIRTY_EXEC 0x20
#define FRONT_WRITING 0x40

struct msg;
struct pcmd;
struct shard;
struct tx;
struct sbuf;

struct front {
    ev_io rd;
    ev_io wr;
    int fd;
    uint32_t flags;
    uint64_t id;
    int resp;

    struct buf *rbuf;
    struct resp_req req;
    struct bstr *argv;
    int argc;
    uint32_t argv_cap;
    const struct pcmd *lastcmd;

    struct msg *qhead, *qtail; /* requests in arrival order */
    uint32_t nq;
    uint32_t head_off; /* bytes of qhead's reply written */

    long long ctime_ms;
    long long last_io_ms;
    char *name;
    char addr[NET_ADDR_MAX];
    char laddr[NET_ADDR_MAX];
    struct tx *tx; /* MULTI: the queued transaction */

    struct front *prev, *next;
    struct front *pending_next;
    struct front *close_next;
};

/* Processes len bytes as if c had just sent them (what a read does after
 * read(2)); the fuzz harness drives the proxy through it. */
int front_feed(struct front *c, const void *data, size_t len);
/* After cmdtab_setup(). */
void front_setup(void);
void front_create(int fd, const char *peer);
void front_free(struct front *c);
void front_close_async(struct front *c);
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
