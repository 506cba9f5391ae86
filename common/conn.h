/*
 * conn.h -- what every client connection of a server shares: its socket
 * and watchers, the request being read (buffer, RESP reader, argv), its
 * name and addresses, and membership in the server's lists.
 *
 * The node's struct client and the proxy's struct front embed a struct conn
 * as their first member and add what differs (where replies come from).
 * A connection is never freed inside a callback that may still use it:
 * conn_close_async() puts it on the to_close list, and the server's
 * before-sleep hook frees it.
 *
 * A connection accepted on a TLS port has a session (c->tls, tls.h) that
 * sits between its watchers and the owner's callbacks; the owner reads and
 * writes through conn_read()/conn_writev() and starts or stops watching
 * through conn_want_write()/conn_stop_reading()/conn_start_reading(),
 * never ev_io_* directly, and so serves plain and TLS clients with the same
 * code.
 */
#pragma once

#include "common/bstr.h"
#include "common/buf.h"
#include "common/net.h"
#include "common/resp.h"
#include "common/tls.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define CONN_CLOSE_AFTER_REPLY 0x01 /* QUIT, protocol error: flush, then close */
#define CONN_CLOSE_ASAP 0x02        /* on the to_close list */
#define CONN_PENDING_WRITE 0x04     /* on the pending_write list */
#define CONN_AUTHED 0x08            /* may run commands (no password, or AUTH done) */
#define CONN_WRITING 0x10           /* EV_WRITE armed */
#define CONN_OWNER_FLAGS 0x100      /* the owner's own flags start here */

#define CONN_READ_LEN (16 * 1024) /* redis PROTO_IOBUF_LEN */

struct conn_set;

struct conn {
    ev_io rd;
    ev_io wr;
    int fd;
    struct tls *tls; /* NULL: plain TCP */
    struct conn_set *set;
    uint32_t flags;
    uint64_t id;
    int resp; /* protocol: 2 or 3 (HELLO) */

    struct buf *rbuf;    /* request bytes; NULL when idle */
    struct resp_req req; /* parse state of the request at rbuf's rpos */
    struct bstr *argv;   /* the request's words, pointing into rbuf */
    int argc;
    uint32_t argv_cap;

    long long ctime_ms;
    long long last_io_ms;
    char *name; /* CLIENT SETNAME; owned */
    char addr[NET_ADDR_MAX];
    char laddr[NET_ADDR_MAX];

    struct conn *prev, *next;  /* every connection of the set */
    struct conn *pending_next; /* replies to flush before sleeping */
    struct conn *close_next;   /* to free before sleeping */
};

/* A server's connections. */
struct conn_set {
    struct ev_loop *loop;
    struct conn *all;
    uint64_t n;
    uint64_t next_id;
    struct conn *pending_write;
    struct conn *to_close;
};

/* Sets c up for an accepted fd and starts reading (rd_cb); wr_cb is armed
 * only when a write would block.  With tls (taking ownership), the
 * handshake comes first; a failed one closes c (conn_close_async). */
void conn_init(struct conn_set *s, struct conn *c, int fd, struct tls *tls, const char *peer,
               bool authed, uint64_t max_bulk_len, long long keepalive, long long now_ms,
               void (*rd_cb)(struct ev_loop *, ev_io *, int),
               void (*wr_cb)(struct ev_loop *, ev_io *, int));
/* Releases what conn_init and the reads took, closes fd, leaves the set.
 * The owner frees the struct that embeds c. */
void conn_deinit(struct conn_set *s, struct conn *c);
void conn_close_async(struct conn_set *s, struct conn *c);
/* Puts c on the pending-write list (once). */
void conn_queue_write(struct conn_set *s, struct conn *c);
/* Arms or disarms EV_WRITE after a write that did or did not block. */
void conn_want_write(struct conn_set *s, struct conn *c, bool want);
/* Reads no more requests (closing after a reply, or a turn that ended
 * with requests left over) ... */
void conn_stop_reading(struct conn_set *s, struct conn *c);
/* ... until this: reading resumes.  Bytes a TLS session already holds are
 * read then (from the loop), as no socket event would announce them. */
void conn_start_reading(struct conn_set *s, struct conn *c);

/* read(2) and writev(2) of the connection, through its TLS session if it
 * has one: -1 with errno EAGAIN when they would block. */
static inline ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
    return tls_io_read(c->tls, c->fd, buf, len);
}

static inline ssize_t
conn_writev(struct conn *c, const struct iovec *iov, int n)
{
    return tls_io_writev(c->tls, c->fd, iov, n);
}

/* Room to read into: a chunk normally, the rest of a big argument when
 * the parser knows one is coming (grown by doubling: a client that only
 * claims 512 MB does not get 512 MB).  SC_ENOMEM if it cannot. */
int conn_reserve_read(struct conn *c);
/* Whether the bytes not yet parsed exceed limit (client-query-buffer-limit:
 * as redis, the arguments already parsed of a long request do not count). */
bool conn_over_query_limit(const struct conn *c, unsigned long long limit);
/* Points argv at the words of the request that starts at base. */
void conn_set_argv(struct conn *c, char *base);
/* After the bytes of a whole request are handled: drop them, ready the
 * reader for the next one. */
void conn_consume_request(struct conn *c);

/* CLIENT SETNAME / HELLO SETNAME: printable, no spaces. */
bool conn_name_valid(const struct bstr *name);
void conn_set_name(struct conn *c, const struct bstr *name);
