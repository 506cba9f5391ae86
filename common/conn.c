/*
 * conn.c -- see conn.h.
 */
#include "common/conn.h"

#include "common/log.h"
#include "common/mem.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Starts or stops watching w (c->rd or c->wr): through the TLS session
 * when there is one. */
static void
want_io(struct conn_set *s, struct conn *c, ev_io *w, bool want)
{
    if (c->tls != NULL) {
        (w == &c->rd ? tls_want_read : tls_want_write)(c->tls, want);
    } else if (want) {
        ev_io_start(s->loop, w);
    } else {
        ev_io_stop(s->loop, w);
    }
}

/* The end of a TLS client's handshake: a failed one is closed (a client's
 * mistake: logged at verbose, as redis does). */
static void
on_tls_ready(void *arg, bool ok, const char *err)
{
    struct conn *c = arg;

    if (!ok) {
        log_verbose("Error accepting a client connection: %s (addr=%s laddr=%s)", err, c->addr,
                    c->laddr);
        conn_close_async(c->set, c);
    }
}

void
conn_init(struct conn_set *s, struct conn *c, int fd, struct tls *tls, const char *peer,
          bool authed, uint64_t max_bulk_len, long long keepalive, long long now_ms,
          void (*rd_cb)(struct ev_loop *, ev_io *, int), void (*wr_cb)(struct ev_loop *, ev_io *, int))
{
    c->fd = fd;
    c->set = s;
    c->id = ++s->next_id;
    c->resp = 2;
    c->ctime_ms = c->last_io_ms = now_ms;
    snprintf(c->addr, sizeof(c->addr), "%s", peer);
    net_local_name(fd, c->laddr, sizeof(c->laddr));
    resp_req_init(&c->req, max_bulk_len);
    if (authed) {
        c->flags |= CONN_AUTHED;
    }
    c->req.unauth = !authed;
    if (keepalive > 0) {
        net_set_keepalive(fd, (int)keepalive);
    }
    ev_io_init(&c->rd, rd_cb, fd, EV_READ);
    ev_io_init(&c->wr, wr_cb, fd, EV_WRITE);
    if (tls != NULL) {
        c->tls = tls;
        tls_attach(tls, s->loop, &c->rd, &c->wr, on_tls_ready, c);
    }
    want_io(s, c, &c->rd, true);
    c->next = s->all;
    if (s->all != NULL) {
        s->all->prev = c;
    }
    s->all = c;
    s->n++;
}

void
conn_deinit(struct conn_set *s, struct conn *c)
{
    tls_destroy(&c->tls);
    ev_io_stop(s->loop, &c->rd);
    ev_io_stop(s->loop, &c->wr);
    close(c->fd);
    buf_return(&c->rbuf);
    resp_req_deinit(&c->req);
    mem_free(c->argv);
    mem_free(c->name);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->all = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    s->n--;
}

void
conn_close_async(struct conn_set *s, struct conn *c)
{
    if (c->flags & CONN_CLOSE_ASAP) {
        return;
    }
    c->flags |= CONN_CLOSE_ASAP;
    if (c->tls != NULL) {
        tls_stop(c->tls);
    } else {
        ev_io_stop(s->loop, &c->rd);
        ev_io_stop(s->loop, &c->wr);
    }
    c->close_next = s->to_close;
    s->to_close = c;
}

void
conn_queue_write(struct conn_set *s, struct conn *c)
{
    if (!(c->flags & (CONN_PENDING_WRITE | CONN_CLOSE_ASAP))) {
        c->flags |= CONN_PENDING_WRITE;
        c->pending_next = s->pending_write;
        s->pending_write = c;
    }
}

void
conn_want_write(struct conn_set *s, struct conn *c, bool want)
{
    if (want == !!(c->flags & CONN_WRITING)) {
        return;
    }
    c->flags ^= CONN_WRITING;
    want_io(s, c, &c->wr, want);
}

void
conn_stop_reading(struct conn_set *s, struct conn *c)
{
    want_io(s, c, &c->rd, false);
}

void
conn_start_reading(struct conn_set *s, struct conn *c)
{
    want_io(s, c, &c->rd, true);
}

int
conn_reserve_read(struct conn *c)
{
    if (c->rbuf == NULL) {
        c->rbuf = buf_borrow();
        return SC_OK;
    }
    if (buf_rsize(c->rbuf) == 0 && !buf_shared(c->rbuf)) {
        c->rbuf->rpos = c->rbuf->wpos = 0;
    }
    size_t need = resp_req_need(&c->req);
    size_t have = buf_rsize(c->rbuf);
    size_t want = need > have ? need - have : CONN_READ_LEN / 4;
    if (want > CONN_READ_LEN) {
        want = MIN(want, MAX((size_t)c->rbuf->cap, (size_t)CONN_READ_LEN));
    }
    if (buf_wsize(c->rbuf) >= want && buf_wsize(c->rbuf) > 0) {
        return SC_OK;
    }
    return buf_try_reserve(&c->rbuf, want);
}

bool
conn_over_query_limit(const struct conn *c, unsigned long long limit)
{
    return buf_rsize(c->rbuf) - c->req.pos > limit;
}

void
conn_set_argv(struct conn *c, char *base)
{
    if (c->argv_cap < c->req.argc) {
        c->argv_cap = c->req.argc < 8 ? 8 : c->req.argc;
        mem_free(c->argv);
        c->argv = mem_alloc(c->argv_cap * sizeof(*c->argv));
    }
    for (uint32_t i = 0; i < c->req.argc; i++) {
        c->argv[i].data = base + c->req.argv[i].off;
        c->argv[i].len = c->req.argv[i].len;
    }
    c->argc = (int)c->req.argc;
}

void
conn_consume_request(struct conn *c)
{
    c->rbuf->rpos += c->req.pos;
    resp_req_reset(&c->req);
    c->req.unauth = !(c->flags & CONN_AUTHED);
}

bool
conn_name_valid(const struct bstr *name)
{
    for (size_t i = 0; i < name->len; i++) {
        if (name->data[i] < '!' || name->data[i] > '~') {
            return false;
        }
    }
    return true;
}

void
conn_set_name(struct conn *c, const struct bstr *name)
{
    mem_free(c->name);
    c->name = name->len > 0 ? mem_strndup(name->data, name->len) : NULL;
}
