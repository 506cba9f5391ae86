/*
 * back.h -- the proxy's connection to one node.
 *
 * One pipelined TCP connection per node: requests from every client are
 * written to it in the order they are routed, and the node answers in that
 * order, so the connection's queue of messages (oldest first) says whose
 * reply each one is.  Requests are written straight from the segments that
 * point into clients' buffers (writev), replies are cut from the
 * connection's read buffer as segments; nothing is copied.
 *
 * With tls-nodes the connection is TLS (common/tls.h): after connect(2)
 * comes the handshake (BACK_HANDSHAKE), whose failure fails the node like
 * a broken connection; requests queue meanwhile.  Everything that talks to
 * nodes (clients' requests, health probes, AUTH, resynchronisation, slot
 * moves) goes through here, so it all speaks TLS alike.
 *
 * Failure is explicit: a connection that breaks, answers garbage, or says
 * nothing for node-timeout while a request waits is closed, its member is
 * marked down, and every queued message fails with an error naming the node
 * (msg_fail); reconnecting waits for the health checks (health.h).
 *
 * A failed connection is closed, but what was written to it is not taken
 * back: a node that was paused (SIGSTOP, a stalled VM) reads it when it
 * resumes, from a connection the proxy no longer watches, in any order
 * against the new connection's requests -- a write the clients were told
 * failed, or that a later write or a resync's FLUSHALL has superseded,
 * would land after them.  So the local address of every failed connection
 * that carried routed requests is kept, and before its member serves again
 * back_fence() has the node close those connections first.
 */
#pragma once

#include "common/net.h"
#include "common/resp.h"
#include "common/tls.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct member;
struct msg;

enum back_state { BACK_CLOSED, BACK_CONNECTING, BACK_HANDSHAKE, BACK_READY };

#define BACK_STALE_MAX 4 /* failed connections remembered until fenced */

struct back {
    ev_io rd;
    ev_io wr;
    int fd;
    int state;
    struct tls *tls; /* tls-nodes: the session; NULL: plain TCP */
    struct member *member;
    struct msg *qhead, *qtail; /* awaiting replies, oldest first (each holds a ref) */
    struct msg *unsent;        /* first message not completely written */
    uint32_t unsent_off;       /* bytes of it written */
    uint32_t nq;
    struct buf *rbuf;
    struct resp_reply rr;
    long long last_read_us;    /* when the node last sent bytes (node-timeout) */
    bool writing;              /* EV_WRITE armed */
    bool routed;               /* carried a request while its member was not DOWN */
    char stale[BACK_STALE_MAX][NET_ADDR_MAX]; /* local "ip:port" of failed connections
                                                  that did, newest last */
    int nstale;
    bool in_flush;
    struct back *flush_next;
};

struct back *back_create(struct member *m);
void back_destroy(struct back **b);
/* Queues m for the node (taking a reference) and connects if needed; the
 * bytes go out before the loop next sleeps. */
void back_send(struct back *b, struct msg *m);
/* Queues m ahead of everything not yet written (AUTH on a new connection). */
void back_send_first(struct back *b, struct msg *m);
/* Writes every connection's queued requests (the before-sleep hook). */
void back_flush_all(void);
/* Closes b and fails its queue with "<why>"; marks the member down. */
void back_fail(struct back *b, const char *why);
/* Queues a CLIENT KILL ADDR of each failed connection b remembers: once
 * the node has run them (before anything queued after), nothing written to
 * those connections can still be applied.  Called before a member that was
 * DOWN serves again; replies are not waited for (a connection the node
 * already closed is killed 0 times). */
void back_fence(struct back *b);
/* Fails b if it has sent nothing for timeout_ms while its oldest request
 * waited: a node that streams replies is alive, however long the queue
 * ahead of a request is (a client's big pipeline must not get it marked
 * down). */
void back_check_timeout(struct back *b, long long now_us, long long timeout_ms);
/* Processes len bytes as if the node had just sent them (after read(2));
 * the fuzz harness answers requests through it. */
int back_feed(struct back *b, const void *data, size_t len);
/* Closes an idle connection to a member that left the topology. */
void back_close_if_idle(struct back *b);
