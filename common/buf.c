/*
 * buf.c -- see buf.h.
 */
#include "common/buf.h"

#include "common/mem.h"

#include <string.h>

static struct buf *pool_head;
static uint32_t pool_count;

static struct buf *
buf_init(struct buf *b, size_t cap)
{
    b->next = NULL;
    b->rpos = b->wpos = 0;
    b->cap = (uint32_t)cap;
    b->magic = BUF_MAGIC;
    b->refs = 1;
    return b;
}

struct buf *
buf_borrow(void)
{
    struct buf *b = pool_head;

    if (b != NULL) {
        pool_head = b->next;
        pool_count--;
        sc_assert(b->magic == 0);
        return buf_init(b, BUF_CHUNK_DATA);
    }
    return buf_init(mem_alloc(BUF_CHUNK), BUF_CHUNK_DATA);
}

struct buf *
buf_try_create(size_t cap)
{
    if (cap <= BUF_CHUNK_DATA) {
        return buf_borrow();
    }
    if (cap > UINT32_MAX - sizeof(struct buf)) {
        return NULL;
    }
    struct buf *b = mem_try_alloc(sizeof(struct buf) + cap);
    return b == NULL ? NULL : buf_init(b, cap);
}

void
buf_return(struct buf **bp)
{
    struct buf *b = *bp;

    if (b == NULL) {
        return;
    }
    *bp = NULL;
    sc_assert(b->magic == BUF_MAGIC && b->refs > 0);
    if (--b->refs > 0) {
        return;
    }
    b->magic = 0;
    if (b->cap == BUF_CHUNK_DATA && pool_count < BUF_POOL_MAX) {
        b->next = pool_head;
        pool_head = b;
        pool_count++;
        return;
    }
    mem_free(b);
}

int
buf_try_reserve(struct buf **bp, size_t need)
{
    struct buf *b = *bp;
    size_t unread = buf_rsize(b);

    if (buf_wsize(b) >= need) {
        return SC_OK;
    }
    /* Bytes others point into must stay put: a shared buffer is left to its
     * other owners and the unread bytes move to a new one. */
    if (b->rpos > 0 && !buf_shared(b) && b->cap - unread >= need) {
        memmove(b->data, b->data + b->rpos, unread);
        b->rpos = 0;
        b->wpos = (uint32_t)unread;
        return SC_OK;
    }
    /* Grow to what is needed, at least doubling so that a request arriving
     * in many reads is not reallocated on each one. */
    size_t cap = buf_shared(b) ? MAX(unread + need, (size_t)BUF_CHUNK_DATA)
                               : MAX(unread + need, (size_t)b->cap * 2);
    struct buf *nb = buf_try_create(cap);
    if (nb == NULL && cap > unread + need) {
        nb = buf_try_create(unread + need);
    }
    if (nb == NULL) {
        return SC_ENOMEM;
    }
    memcpy(nb->data, b->data + b->rpos, unread);
    nb->wpos = (uint32_t)unread;
    buf_return(bp);
    *bp = nb;
    return SC_OK;
}

void
buf_pool_drain(void)
{
    while (pool_head != NULL) {
        struct buf *b = pool_head;
        pool_head = b->next;
        mem_free(b);
    }
    pool_count = 0;
}

size_t
buf_pool_bytes(void)
{
    return (size_t)pool_count * BUF_CHUNK;
}

char *
bufq_reserve(struct bufq *q, size_t n)
{
    struct buf *t = q->tail;

    if (t != NULL && buf_wsize(t) >= n) {
        return buf_wptr(t);
    }
    struct buf *b = n <= BUF_CHUNK_DATA ? buf_borrow() : buf_try_create(n);
    if (b == NULL) {
        /* A reply larger than memory allows: internal structures abort on
         * OOM (mem.h); a client-sized reply never gets here because values
         * are bounded by proto-max-bulk-len and reserved in chunks. */
        b = buf_init(mem_alloc(sizeof(struct buf) + n), n);
    }
    bufq_append_buf(q, b);
    return buf_wptr(b);
}

void
bufq_append_buf(struct bufq *q, struct buf *b)
{
    b->next = NULL;
    if (q->tail == NULL) {
        q->head = q->tail = b;
    } else {
        q->tail->next = b;
        q->tail = b;
    }
    q->bytes += buf_rsize(b);
    q->nbuf++;
}

void
bufq_append(struct bufq *q, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        struct buf *t = q->tail;
        if (t == NULL || buf_wsize(t) == 0) {
            t = buf_borrow();
            bufq_append_buf(q, t);
        }
        size_t m = MIN(n, buf_wsize(t));
        memcpy(buf_wptr(t), p, m);
        bufq_commit(q, m);
        p += m;
        n -= m;
    }
}

void
bufq_consume(struct bufq *q, size_t n)
{
    sc_assert(n <= q->bytes);
    q->bytes -= n;
    while (n > 0 || (q->head != NULL && buf_rsize(q->head) == 0 && q->head != q->tail)) {
        struct buf *h = q->head;
        size_t m = MIN(n, buf_rsize(h));
        h->rpos += (uint32_t)m;
        n -= m;
        if (buf_rsize(h) > 0) {
            break;
        }
        q->head = h->next;
        if (q->head == NULL) {
            q->tail = NULL;
        }
        q->nbuf--;
        buf_return(&h);
    }
}

int
bufq_iov(const struct bufq *q, struct iovec *iov, int max)
{
    int n = 0;

    for (struct buf *b = q->head; b != NULL && n < max; b = b->next) {
        if (buf_rsize(b) == 0) {
            continue;
        }
        iov[n].iov_base = b->data + b->rpos;
        iov[n].iov_len = buf_rsize(b);
        n++;
    }
    return n;
}

void
bufq_clear(struct bufq *q)
{
    while (q->head != NULL) {
        struct buf *b = q->head;
        q->head = b->next;
        buf_return(&b);
    }
    q->tail = NULL;
    q->bytes = 0;
    q->nbuf = 0;
}

size_t
bufq_mem(const struct bufq *q)
{
    size_t m = 0;

    for (const struct buf *b = q->head; b != NULL; b = b->next) {
        m += sizeof(struct buf) + b->cap;
    }
    return m;
}
