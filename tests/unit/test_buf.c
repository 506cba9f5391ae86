/*
 * test_buf.c -- pooled buffers and buffer chains: borrow/return reuse the
 * same memory, reserve compacts before it grows and keeps the unread bytes,
 * and a chain hands back exactly the bytes appended, in order, across chunk
 * boundaries however it is consumed.  Memory is checked through mem_used(),
 * which the node's maxmemory depends on.
 */
#define TEST_SUITE "buf"
#include "tests/unit/testhelp.h"

#include "common/buf.h"
#include "common/mem.h"

#include <stdlib.h>

static void
test_borrow_return_pool(void)
{
    buf_pool_drain();
    size_t used0 = mem_used();

    struct buf *b = buf_borrow();
    CHECK(b != NULL);
    CHECK_INT(b->cap, BUF_CHUNK_DATA);
    CHECK_INT(buf_rsize(b), 0);
    CHECK_INT(buf_wsize(b), BUF_CHUNK_DATA);
    CHECK_INT(buf_pool_bytes(), 0);
    CHECK(mem_used() >= used0 + BUF_CHUNK);

    struct buf *first = b;
    memcpy(buf_wptr(b), "abc", 3);
    b->wpos += 3;
    b->rpos = 1;
    buf_return(&b);
    CHECK(b == NULL); /* the caller's pointer is cleared */
    CHECK_INT(buf_pool_bytes(), BUF_CHUNK);
    buf_return(&b); /* NULL: no-op */
    CHECK_INT(buf_pool_bytes(), BUF_CHUNK);

    /* The pooled buffer comes back, reset. */
    b = buf_borrow();
    CHECK(b == first);
    CHECK(b->rpos == 0 && b->wpos == 0 && b->cap == BUF_CHUNK_DATA);
    CHECK_INT(buf_pool_bytes(), 0);
    buf_return(&b);

    buf_pool_drain();
    CHECK_INT(buf_pool_bytes(), 0);
    CHECK_INT(mem_used(), used0);
}

static void
test_pool_is_capped(void)
{
    enum { N = BUF_POOL_MAX + 20 };
    static struct buf *bs[N];

    buf_pool_drain();
    size_t used0 = mem_used();
    for (int i = 0; i < N; i++) {
        bs[i] = buf_borrow();
    }
    for (int i = 0; i < N; i++) {
        buf_return(&bs[i]);
    }
    /* The surplus went back to the allocator. */
    CHECK_INT(buf_pool_bytes(), (size_t)BUF_POOL_MAX * BUF_CHUNK);
    CHECK_INT(mem_used() - used0, (size_t)BUF_POOL_MAX * BUF_CHUNK);
    buf_pool_drain();
    CHECK_INT(mem_used(), used0);
}

static void
test_try_create(void)
{
    buf_pool_drain();
    size_t used0 = mem_used();

    struct buf *small = buf_try_create(100);
    CHECK(small != NULL && small->cap == BUF_CHUNK_DATA); /* small sizes are pooled chunks */
    buf_return(&small);
    CHECK_INT(buf_pool_bytes(), BUF_CHUNK);

    struct buf *big = buf_try_create(1 << 20);
    CHECK(big != NULL && big->cap >= (1 << 20));
    CHECK(big->rpos == 0 && big->wpos == 0);
    memset(buf_wptr(big), 'x', 1 << 20); /* the whole capacity is usable (ASan) */
    buf_return(&big);
    CHECK_INT(buf_pool_bytes(), BUF_CHUNK); /* not pooled */

    CHECK(buf_try_create(UINT32_MAX) == NULL); /* cannot be described by cap */
    mem_fail_after(1);
    CHECK(buf_try_create(1 << 20) == NULL); /* allocation failure is a NULL, not an abort */
    mem_fail_after(0);

    buf_pool_drain();
    CHECK_INT(mem_used(), used0);
}

/* Fills b's writable space with a known pattern starting at byte number k. */
static void
fill(struct buf *b, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        b->data[b->wpos + i] = (char)((k + i) * 7);
    }
    b->wpos += (uint32_t)n;
}

/* Whether b's unread bytes are the pattern from byte number k. */
static bool
holds(struct buf *b, size_t k)
{
    for (size_t i = 0; i < buf_rsize(b); i++) {
        if (buf_rptr(b)[i] != (char)((k + i) * 7)) {
            return false;
        }
    }
    return true;
}

static void
test_reserve_compacts(void)
{
    struct buf *b = buf_borrow();
    struct buf *orig = b;

    fill(b, 1000, 0);
    CHECK(buf_try_reserve(&b, 100) == SC_OK); /* room already there */
    CHECK(b == orig && b->wpos == 1000);

    b->rpos = 900; /* 100 unread bytes, pattern from byte 900 */
    fill(b, buf_wsize(b) - 10, 1000);
    size_t unread = buf_rsize(b);
    CHECK(buf_try_reserve(&b, 500) == SC_OK);
    /* Enough room once the consumed bytes are dropped: moved, not grown. */
    CHECK(b == orig);
    CHECK_INT(b->rpos, 0);
    CHECK_INT(buf_rsize(b), unread);
    CHECK(buf_wsize(b) >= 500);
    CHECK(holds(b, 900));
    buf_return(&b);
    buf_pool_drain();
}

static void
test_reserve_grows(void)
{
    struct buf *b = buf_borrow();
    size_t used0 = mem_used();

    fill(b, BUF_CHUNK_DATA - 5, 0);
    b->rpos = 3;
    size_t unread = buf_rsize(b);
    CHECK(buf_try_reserve(&b, 1000) == SC_OK);
    CHECK(b->cap >= unread + 1000);
    CHECK(b->cap >= 2 * BUF_CHUNK_DATA); /* at least doubles */
    CHECK_INT(b->rpos, 0);
    CHECK_INT(buf_rsize(b), unread);
    CHECK(buf_wsize(b) >= 1000);
    CHECK(holds(b, 3));
    CHECK_INT(buf_pool_bytes(), BUF_CHUNK); /* the old chunk went back to the pool */

    /* Growing a grown buffer, then the failure path. */
    size_t cap = b->cap;
    fill(b, buf_wsize(b), unread + 3);
    unread = buf_rsize(b);
    mem_fail_after(1); /* the doubled size fails; the exact size is then tried */
    CHECK(buf_try_reserve(&b, 10) == SC_OK);
    CHECK(b->cap >= unread + 10 && b->cap < 2 * cap);
    CHECK(holds(b, 3));

    struct buf *before = b;
    fill(b, buf_wsize(b), unread + 3);
    unread = buf_rsize(b);
    mem_fail_after(1);
    CHECK(buf_try_reserve(&b, 1 << 20) == SC_ENOMEM);
    mem_fail_after(0);
    CHECK(b == before && buf_rsize(b) == unread && holds(b, 3)); /* unchanged */

    buf_return(&b);
    buf_pool_drain();
    CHECK(mem_used() <= used0); /* every grown buffer was freed */
}

/* Concatenation of the chain's readable bytes, through bufq_iov. */
static size_t
flatten(const struct bufq *q, char *out, size_t cap)
{
    struct iovec iov[1024];
    int n = bufq_iov(q, iov, (int)ARRAY_LEN(iov));
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        if (len + iov[i].iov_len > cap) {
            return (size_t)-1;
        }
        memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    return len;
}

static void
test_bufq_append_consume(void)
{
    enum { TOTAL = 300 * 1000 };
    static char data[TOTAL], out[TOTAL];
    struct bufq q = {0};

    srandom(3);
    for (size_t i = 0; i < TOTAL; i++) {
        data[i] = (char)random();
    }
    /* Random-sized appends, some bigger than a chunk. */
    size_t in = 0;
    while (in < TOTAL) {
        size_t n = MIN((size_t)random() % 40000, TOTAL - in);
        bufq_append(&q, data + in, n);
        in += n;
    }
    CHECK_INT(q.bytes, TOTAL);
    CHECK_INT(q.nbuf, (TOTAL + BUF_CHUNK_DATA - 1) / BUF_CHUNK_DATA); /* chunks filled up */
    CHECK(flatten(&q, out, sizeof(out)) == TOTAL && memcmp(out, data, TOTAL) == 0);
    CHECK_INT(bufq_mem(&q), (size_t)q.nbuf * BUF_CHUNK);

    /* Consume in random steps; the rest is always the suffix of data. */
    size_t done = 0;
    int good = 0, steps = 0;
    while (done < TOTAL) {
        size_t n = MIN((size_t)random() % 25000, TOTAL - done);
        bufq_consume(&q, n);
        done += n;
        steps++;
        size_t len = flatten(&q, out, sizeof(out));
        good += q.bytes == TOTAL - done && len == TOTAL - done &&
                memcmp(out, data + done, len) == 0 &&
                q.nbuf <= (TOTAL - done + BUF_CHUNK_DATA - 1) / BUF_CHUNK_DATA + 1;
    }
    CHECK_INT(good, steps);
    CHECK(bufq_empty(&q));
    CHECK(q.head == NULL && q.tail == NULL && q.nbuf == 0);
    CHECK(buf_pool_bytes() > 0); /* emptied chunks went back to the pool */
    bufq_clear(&q);
    buf_pool_drain();
}

static void
test_bufq_reserve_commit(void)
{
    struct bufq q = {0};
    static char big[3 * BUF_CHUNK];
    static char out[8 * BUF_CHUNK];

    char *p = bufq_reserve(&q, 5);
    memcpy(p, "hello", 5);
    bufq_commit(&q, 3); /* only what was committed counts */
    CHECK_INT(q.bytes, 3);
    p = bufq_reserve(&q, 2);
    CHECK(q.nbuf == 1); /* the tail had room */
    memcpy(p, "p!", 2);
    bufq_commit(&q, 2);
    CHECK(flatten(&q, out, sizeof(out)) == 5 && memcmp(out, "help!", 5) == 0);

    /* Bigger than a chunk: one contiguous area in a dedicated buffer. */
    memset(big, 'B', sizeof(big));
    p = bufq_reserve(&q, sizeof(big));
    memcpy(p, big, sizeof(big));
    bufq_commit(&q, sizeof(big));
    CHECK_INT(q.nbuf, 2);
    CHECK_INT(q.bytes, 5 + sizeof(big));
    CHECK(flatten(&q, out, sizeof(out)) == 5 + sizeof(big) &&
          memcmp(out + 5, big, sizeof(big)) == 0);

    /* An adopted buffer keeps its bytes and its place in the order. */
    struct buf *b = buf_borrow();
    memcpy(buf_wptr(b), "xyz", 3);
    b->wpos = 3;
    b->rpos = 1;
    bufq_append_buf(&q, b);
    bufq_append(&q, "!", 1);
    size_t len = flatten(&q, out, sizeof(out));
    CHECK_INT(len, 5 + sizeof(big) + 3);
    CHECK(memcmp(out + 5 + sizeof(big), "yz!", 3) == 0);

    /* iov stops at max */
    struct iovec iov[2];
    CHECK_INT(bufq_iov(&q, iov, 2), 2);
    CHECK(iov[0].iov_len == 5 && iov[1].iov_len == sizeof(big));

    bufq_clear(&q);
    CHECK(bufq_empty(&q) && q.head == NULL && q.tail == NULL && q.nbuf == 0);
    buf_pool_drain();
}

static void
test_bufq_skips_empty_buffers(void)
{
    struct bufq q = {0};
    char out[64];

    /* An empty buffer in the middle (adopted, or left by a reserve that
     * did not commit) neither shows in the iov nor blocks consumption. */
    bufq_append(&q, "ab", 2);
    bufq_append_buf(&q, buf_borrow());
    bufq_append_buf(&q, buf_borrow());
    bufq_append(&q, "cd", 2);
    CHECK_INT(q.bytes, 4);
    struct iovec iov[8];
    CHECK_INT(bufq_iov(&q, iov, 8), 2);
    CHECK(flatten(&q, out, sizeof(out)) == 4 && memcmp(out, "abcd", 4) == 0);
    bufq_consume(&q, 3);
    CHECK(flatten(&q, out, sizeof(out)) == 1 && out[0] == 'd');
    CHECK_INT(q.nbuf, 1);
    bufq_consume(&q, 1);
    CHECK(bufq_empty(&q) && q.nbuf == 0 && q.head == NULL);
    bufq_clear(&q);
    buf_pool_drain();
}

TEST_MAIN(test_borrow_return_pool, test_pool_is_capped, test_try_create, test_reserve_compacts,
          test_reserve_grows, test_bufq_append_consume, test_bufq_reserve_commit,
          test_bufq_skips_empty_buffers)
