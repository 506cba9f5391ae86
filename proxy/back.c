/*
 * back.c -- see back.h.
 */
#include "proxy/back.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "common/util.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/router.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define BACK_IOV_MAX 256
#define BACK_READ_MIN 4096 /* read into at least this much room */

static struct back *flush_list;

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

struct back *
back_create(struct member *m)
{
    struct back *b = mem_calloc(1, sizeof(*b));

    b->fd = -1;
    b->member = m;
    resp_reply_reset(&b->rr);
    return b;
}

static void
close_fd(struct back *b)
{
    if (b->fd >= 0) {
        tls_destroy(&b->tls);
        ev_io_stop(proxy.loop, &b->rd);
        ev_io_stop(proxy.loop, &b->wr);
        close(b->fd);
        b->fd = -1;
    }
    b->writing = false;
    b->routed = false;
    b->state = BACK_CLOSED;
    buf_return(&b->rbuf);
    resp_reply_reset(&b->rr);
}

/* Fails every queued message; called with the connection already closed. */
static void
fail_queue(struct back *b, const char *why)
{
    char text[768];
    char shard[300];
    struct msg *m = b->qhead;

    b->qhead = b->qtail = b->unsent = NULL;
    b->unsent_off = 0;
    b->nq = 0;
    if (b->member->shard != NULL) {
        router_shard_desc(b->member->shard, shard, sizeof(shard));
    } else {
        snprintf(shard, sizeof(shard), "no shard");
    }
    snprintf(text, sizeof(text), "ERR slotcache-proxy: node %s of %s is unavailable: %s",
             b->member->addr, shard, why);
    while (m != NULL) {
        struct msg *next = m->bnext;
        m->bnext = NULL;
        b->member->failures++;
        msg_fail(m, text);
        msg_put(&m);
        m = next;
    }
}

/* Remembers b's connection, about to be closed on a failure, if the node
 * may still run requests routed to it (back.h). */
static void
remember_stale(struct back *b)
{
    if (b->fd < 0 || b->state != BACK_READY || !b->routed) {
        return;
    }
    if (b->nstale == BACK_STALE_MAX) {
        log_warn("node %s: more than %d failed connections before it came back; the oldest "
                 "is no longer fenced", b->member->addr, BACK_STALE_MAX);
        memmove(b->stale[0], b->stale[1], sizeof(b->stale[0]) * (BACK_STALE_MAX - 1));
        b->nstale--;
    }
    net_local_name(b->fd, b->stale[b->nstale++], sizeof(b->stale[0]));
}

void
back_fail(struct back *b, const char *why)
{
    remember_stale(b);
    close_fd(b);
    member_down(b->member, why);
    fail_queue(b, why);
}

void
back_destroy(struct back **bp)
{
    struct back *b = *bp;

    if (b == NULL) {
        return;
    }
    *bp = NULL;
    close_fd(b);
    fail_queue(b, "the proxy is shutting down");
    if (b->in_flush) {
        for (struct back **p = &flush_list; *p != NULL; p = &(*p)->flush_next) {
            if (*p == b) {
                *p = b->flush_next;
                break;
            }
        }
    }
    mem_free(b);
}

static void
schedule_flush(struct back *b)
{
    if (!b->in_flush && b->state == BACK_READY && !b->writing) {
        b->in_flush = true;
        b->flush_next = flush_list;
        flush_list = b;
    }
}

static void
connect_node(struct back *b)
{
    char err[256];
    int fd = net_connect(b->member->host, b->member->port, err, sizeof(err));

    if (fd < 0) {
        back_fail(b, err);
        return;
    }
    b->fd = fd;
    b->state = BACK_CONNECTING;
    ev_io_init(&b->rd, on_readable, fd, EV_READ);
    ev_io_init(&b->wr, on_writable, fd, EV_WRITE);
    ev_io_start(proxy.loop, &b->wr); /* writable = connected (or failed) */
    b->writing = true;
}

void
back_send(struct back *b, struct msg *m)
{
    m->member = b->member;
    m->queued_us = (uint64_t)proxy_now_us();
    m->bnext = NULL;
    msg_ref(m);
    if (b->qtail != NULL) {
        b->qtail->bnext = m;
    } else {
        b->qhead = m;
    }
    b->qtail = m;
    b->nq++;
    if (b->unsent == NULL) {
        b->unsent = m;
        b->unsent_off = 0;
    }
    if (b->member->state != MEMBER_DOWN) {
        b->routed = true; /* not only health probes: remembered if it fails */
    }
    b->member->requests++;
    if (b->state == BACK_CLOSED) {
        connect_node(b);
        return;
    }
    schedule_flush(b);
}

void
back_send_first(struct back *b, struct msg *m)
{
    /* Only called before anything was written: the whole queue is unsent. */
    sc_assert(b->unsent == b->qhead && b->unsent_off == 0);
    m->member = b->member;
    m->queued_us = (uint64_t)proxy_now_us();
    m->bnext = b->qhead;
    msg_ref(m);
    b->qhead = b->unsent = m;
    if (b->qtail == NULL) {
        b->qtail = m;
    }
    b->nq++;
}

/* Arms or disarms EV_WRITE (through the TLS session when there is one). */
static void
want_write(struct back *b, bool want)
{
    if (b->writing == want) {
        return;
    }
    b->writing = want;
    if (b->tls != NULL) {
        tls_want_write(b->tls, want);
    } else if (want) {
        ev_io_start(proxy.loop, &b->wr);
    } else {
        ev_io_stop(proxy.loop, &b->wr);
    }
}

/* Fails b for its last read or write, errno being that call's: a copy of
 * the reason, as closing b frees its session and the reason with it. */
static void
fail_io(struct back *b)
{
    char why[TLS_ERR_MAX];

    snprintf(why, sizeof(why), "%s", b->tls != NULL ? tls_errstr(b->tls) : strerror(errno));
    back_fail(b, why);
}

/* Writes queued requests until done or the socket is full. */
static void
write_queue(struct back *b)
{
    struct iovec iov[BACK_IOV_MAX];

    while (b->unsent != NULL) {
        int n = 0;
        uint32_t off = b->unsent_off;
        for (struct msg *m = b->unsent; m != NULL && n < BACK_IOV_MAX; m = m->bnext) {
            iov[n].iov_base = (char *)m->req.p + off;
            iov[n].iov_len = m->req.len - off;
            off = 0;
            n++;
        }
        ssize_t w = tls_io_writev(b->tls, b->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                want_write(b, true);
                return;
            }
            fail_io(b);
            return;
        }
        proxy.stats[STAT_node_bytes_out] += (uint64_t)w;
        size_t left = (size_t)w;
        while (left > 0 && b->unsent != NULL) {
            size_t rest = b->unsent->req.len - b->unsent_off;
            if (left < rest) {
                b->unsent_off += (uint32_t)left;
                left = 0;
            } else {
                left -= rest;
                b->unsent = b->unsent->bnext;
                b->unsent_off = 0;
            }
        }
    }
    want_write(b, false);
}

void
back_flush_all(void)
{
    while (flush_list != NULL) {
        struct back *b = flush_list;
        flush_list = b->flush_next;
        b->in_flush = false;
        if (b->state == BACK_READY) {
            write_queue(b);
        }
    }
}

/* Connected (and through the handshake): AUTH goes first, then what queued. */
static void
become_ready(struct back *b)
{
    b->state = BACK_READY;
    /* The node answered the connect (and the handshake): what queued
     * meanwhile counts its silence from now, not from a slow handshake. */
    b->last_read_us = proxy_now_us();
    if (b->tls != NULL) {
        tls_want_read(b->tls, true);
    } else {
        ev_io_start(proxy.loop, &b->rd);
    }
    log_verbose("connected to node %s%s", b->member->addr, b->tls != NULL ? " (TLS)" : "");
    if (proxy.opt.node_password[0] != '\0') {
        proxy_auth_node(b);
    }
    write_queue(b);
}

static void
on_tls_ready(void *arg, bool ok, const char *err)
{
    struct back *b = arg;

    if (!ok) {
        char why[TLS_ERR_MAX + 32];
        snprintf(why, sizeof(why), "TLS handshake failed: %s", err);
        back_fail(b, why);
        return;
    }
    become_ready(b);
}

static void
on_connected(struct back *b)
{
    int e = net_connect_result(b->fd);

    if (e != 0) {
        back_fail(b, strerror(e));
        return;
    }
    if (proxy.tls_client == NULL) {
        become_ready(b);
        return;
    }
    /* The session takes the watchers over for the handshake. */
    want_write(b, false);
    b->tls = tls_create(proxy.tls_client, b->fd);
    b->state = BACK_HANDSHAKE;
    tls_attach(b->tls, proxy.loop, &b->rd, &b->wr, on_tls_ready, b);
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct back *b = container_of(w, struct back, wr);

    (void)loop;
    (void)revents;
    if (b->state == BACK_CONNECTING) {
        on_connected(b);
        return;
    }
    write_queue(b);
}

/* Hands one whole reply (the first len bytes at the read position) to the
 * oldest message. */
static int
deliver(struct back *b, size_t len)
{
    struct msg *m = b->qhead;

    if (m == NULL || m == b->unsent) {
        return SC_ERR; /* a reply nobody asked for */
    }
    if (m->nskipped + 1 < m->nreplies) {
        /* MULTI and the queued commands' replies: only EXEC's is wanted. */
        m->nskipped++;
        b->rbuf->rpos += (uint32_t)len;
        return SC_OK;
    }
    b->qhead = m->bnext;
    if (b->qhead == NULL) {
        b->qtail = NULL;
    }
    b->nq--;
    m->bnext = NULL;
    struct seg r = seg_of(b->rbuf, buf_rptr(b->rbuf), (uint32_t)len);
    b->rbuf->rpos += (uint32_t)len;
    uint64_t lat = (uint64_t)proxy_now_us() - m->queued_us;
    b->member->latency_us_sum += lat;
    b->member->latency_n++;
    b->member->last_ok_ms = proxy_now_ms();
    if (r.p[0] == '-') {
        b->member->errors++;
    }
    msg_complete(m, r);
    msg_put(&m);
    return SC_OK;
}

static void
parse_replies(struct back *b)
{
    while (b->rbuf != NULL && buf_rsize(b->rbuf) > 0) {
        enum resp_status st = resp_reply_parse(&b->rr, buf_rptr(b->rbuf), buf_rsize(b->rbuf));
        if (st == RESP_INCOMPLETE) {
            return;
        }
        if (st == RESP_EPROTO) {
            char why[128];
            snprintf(why, sizeof(why), "protocol error in its reply (%s)", b->rr.errstr);
            back_fail(b, why);
            return;
        }
        size_t len = b->rr.pos;
        resp_reply_reset(&b->rr);
        if (deliver(b, len) != SC_OK) {
            back_fail(b, "it sent a reply to no request");
            return;
        }
    }
}

static int
reserve_read(struct back *b)
{
    if (b->rbuf == NULL) {
        b->rbuf = buf_borrow();
        return SC_OK;
    }
    if (buf_rsize(b->rbuf) == 0 && !buf_shared(b->rbuf)) {
        b->rbuf->rpos = b->rbuf->wpos = 0; /* all delivered: reuse from the start */
    }
    if (buf_wsize(b->rbuf) >= BACK_READ_MIN) {
        return SC_OK;
    }
    /* A partial reply moves to a new buffer when others still point into
     * this one; a big one doubles its buffer as it arrives. */
    return buf_try_reserve(&b->rbuf, MAX((size_t)BACK_READ_MIN, buf_rsize(b->rbuf)));
}

static void
after_read(struct back *b)
{
    parse_replies(b);
    if (b->rbuf != NULL && buf_rsize(b->rbuf) == 0 && buf_shared(b->rbuf)) {
        buf_return(&b->rbuf); /* replies still point into it; read into a new one */
    }
}

int
back_feed(struct back *b, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0 && b->state == BACK_READY) {
        if (reserve_read(b) != SC_OK) {
            return SC_ENOMEM;
        }
        size_t n = MIN(len, buf_wsize(b->rbuf));
        memcpy(buf_wptr(b->rbuf), p, n);
        b->rbuf->wpos += (uint32_t)n;
        p += n;
        len -= n;
        after_read(b);
    }
    return SC_OK;
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct back *b = container_of(w, struct back, rd);

    (void)loop;
    (void)revents;
    if (reserve_read(b) != SC_OK) {
        back_fail(b, "out of memory for its reply");
        return;
    }
    ssize_t n = tls_io_read(b->tls, b->fd, buf_wptr(b->rbuf), buf_wsize(b->rbuf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        if (n == 0) {
            back_fail(b, "connection closed");
        } else {
            fail_io(b);
        }
        return;
    }
    b->rbuf->wpos += (uint32_t)n;
    b->last_read_us = proxy_now_us();
    proxy.stats[STAT_node_bytes_in] += (uint64_t)n;
    after_read(b);
}

void
back_fence(struct back *b)
{
    char self[NET_ADDR_MAX] = "";

    if (b->fd >= 0 && b->state == BACK_READY) {
        net_local_name(b->fd, self, sizeof(self));
    }
    for (int i = 0; i < b->nstale; i++) {
        if (strcmp(b->stale[i], self) == 0) {
            continue; /* the kernel gave the port to this connection again */
        }
        struct bufq *out = front_out();
        struct msg *m = msg_get();
        resp_add_array(out, 4);
        resp_add_bulk_cstr(out, "CLIENT");
        resp_add_bulk_cstr(out, "KILL");
        resp_add_bulk_cstr(out, "ADDR");
        resp_add_bulk_cstr(out, b->stale[i]);
        m->req = front_take_out();
        back_send(b, m);
        msg_put(&m);
    }
    b->nstale = 0;
}

void
back_check_timeout(struct back *b, long long now_us, long long timeout_ms)
{
    if (b->qhead == NULL || b->state == BACK_HANDSHAKE) {
        return; /* a handshake has its own limit, tls-handshake-timeout */
    }
    long long silent_since = MAX((long long)b->qhead->queued_us, b->last_read_us);
    int unread = 0;
    /* Bytes waiting in the socket mean the node spoke and the proxy was
     * late to read (its loop held up, or the machine busy): not silence. */
    if (now_us - silent_since > timeout_ms * 1000 &&
        (ioctl(b->fd, FIONREAD, &unread) != 0 || unread == 0)) {
        char why[64];
        snprintf(why, sizeof(why), "no reply within %lld ms", timeout_ms);
        back_fail(b, why);
    }
}

void
back_close_if_idle(struct back *b)
{
    if (b->qhead == NULL && b->state != BACK_CLOSED) {
        close_fd(b);
    }
}
