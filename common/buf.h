/*
 * buf.h -- byte buffers for sockets: one contiguous buffer for what a peer
 * sends (requests are parsed in place and their tokens point into it), and a
 * chain of buffers for what we send (replies appended, written with writev).
 *
 *   struct buf, one allocation of BUF_CHUNK bytes (a jemalloc size class):
 *   +--------+-------------------+===================+-------------------+
 *   | header | consumed          | readable          | writable          |
 *   +--------+-------------------+===================+-------------------+
 *            data               data+rpos          data+wpos        data+cap
 *
 * Standard-size buffers come from a free list and go back to it
 * (pelikan buf_borrow/buf_return, twemproxy mbuf_get/mbuf_put), so a busy
 * connection allocates nothing per request and an idle one holds no buffer
 * at all: a connection borrows when bytes arrive and returns the buffer once
 * everything in it is consumed.  Larger buffers (a 1 MB SET) are allocated to
 * size and freed on return.
 */
#pragma once

#include "common/defs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BUF_CHUNK (16 * 1024)              /* allocation size of a pooled buffer */
#define BUF_POOL_MAX 256                   /* free buffers kept for reuse */
#define BUF_MAGIC 0xb0ffe7ed

struct buf {
    struct buf *next; /* in a bufq, or in the free list */
    uint32_t rpos;    /* first byte not yet consumed */
    uint32_t wpos;    /* first byte not yet written */
    uint32_t cap;     /* bytes in data[] */
    uint32_t magic;   /* BUF_MAGIC while borrowed: catches double returns */
    uint32_t refs;    /* owners: buf_ref() adds one, buf_return() drops one */
    char data[];
};

#define BUF_CHUNK_DATA (BUF_CHUNK - sizeof(struct buf))

/* A pooled buffer; never NULL (aborts on OOM, like every internal structure). */
struct buf *buf_borrow(void);
/* A buffer with at least cap bytes of room, NULL if memory is short (cap is
 * client-chosen).  Pooled when cap fits a chunk. */
struct buf *buf_try_create(size_t cap);
/* Drops the caller's reference and NULLs its pointer; the last reference
 * gives the buffer back (to the pool or the allocator).  Accepts NULL. */
void buf_return(struct buf **b);
/* Another owner: the proxy forwards bytes by pointing into the buffer they
 * arrived in (a request into a client's buffer, a reply into a node's), and
 * each pointer holds a reference until the bytes are written. */
static inline struct buf *
buf_ref(struct buf *b)
{
    b->refs++;
    return b;
}
static inline bool
buf_shared(const struct buf *b)
{
    return b->refs > 1;
}
/* Makes room for need more bytes after wpos: moves the unread bytes to the
 * front, then reallocates if that is not enough.  *b may move.  SC_ENOMEM if
 * it cannot grow (the buffer is unchanged). */
int buf_try_reserve(struct buf **b, size_t need);
/* Frees every pooled buffer (at exit, so leak checkers see a clean heap). */
void buf_pool_drain(void);
/* Bytes held by free pooled buffers (part of used_memory). */
size_t buf_pool_bytes(void);

static inline size_t
buf_rsize(const struct buf *b)
{
    return b->wpos - b->rpos;
}

static inline size_t
buf_wsize(const struct buf *b)
{
    return b->cap - b->wpos;
}

static inline char *
buf_rptr(struct buf *b)
{
    return b->data + b->rpos;
}

static inline char *
buf_wptr(struct buf *b)
{
    return b->data + b->wpos;
}

/* A chain of buffers holding bytes to send, in order. */
struct bufq {
    struct buf *head;
    struct buf *tail;
    size_t bytes; /* readable bytes over the chain */
    uint32_t nbuf;
};

static inline bool
bufq_empty(const struct bufq *q)
{
    return q->bytes == 0;
}

/* Returns a pointer to at least n contiguous writable bytes at the end of the
 * chain (borrowing a new tail if needed); bufq_commit(q, m) then appends the
 * m <= n bytes written there.  n may exceed a chunk. */
char *bufq_reserve(struct bufq *q, size_t n);
static inline void
bufq_commit(struct bufq *q, size_t n)
{
    q->tail->wpos += (uint32_t)n;
    q->bytes += n;
}
/* Appends n bytes, spilling over as many chunks as it takes. */
void bufq_append(struct bufq *q, const void *data, size_t n);
/* Appends a whole buffer to the chain, taking ownership of it. */
void bufq_append_buf(struct bufq *q, struct buf *b);
/* Drops n bytes from the front (after they were written), returning emptied
 * buffers to the pool. */
void bufq_consume(struct bufq *q, size_t n);
/* Fills up to max iovecs with the chain's readable bytes; returns the count. */
int bufq_iov(const struct bufq *q, struct iovec *iov, int max);
/* Returns every buffer; the queue is empty afterwards. */
void bufq_clear(struct bufq *q);
/* Bytes of memory the chain holds (allocation sizes, not payload). */
size_t bufq_mem(const struct bufq *q);
