/*
 * rpc.c -- see rpc.h.
 *
 *   struct rpc_conn: fd, rd/wr watchers, rbuf (frames parsed in place),
 *                    out (replies), reqs (its Loads waiting for answers)
 *   struct rpc_req:  one waiting Load: its flight waiter, its deadline timer,
 *                    its stream id; pooled, so a request allocates nothing
 */
#include "loader/rpc.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/defs.h"
#include "common/frame.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/obuf.h"
#include "loader/load.h"
#include "loader/loader.h"
#include "loader/loader.pb-c.h"

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define RPC_READ_MIN 4096 /* free room wanted in the read buffer before a read */
#define RPC_IOV_MAX 64
#define RPC_REQS_FREE_MAX 4096
#define RPC_ARENA_SIZE 8192

enum {
    RPC_AUTHED = 1 << 0,
    RPC_CLOSE_AFTER_REPLY = 1 << 1, /* close once out is written */
    RPC_CLOSING = 1 << 2,           /* in the to_close list; freed before sleeping */
    RPC_PENDING_WRITE = 1 << 3,     /* in the pending_write list */
    RPC_WRITING = 1 << 4,           /* wr is started: the socket was full */
};

struct rpc_req;

struct rpc_conn {
    int fd;
    unsigned flags;
    ev_io rd, wr;
    struct buf *rbuf;     /* borrowed while bytes are unparsed */
    struct bufq out;      /* replies not yet written */
    struct rpc_req *reqs; /* Loads waiting for answers */
    struct rpc_conn *prev, *next;
    struct rpc_conn *pending_next, *close_next;
    long long last_io_ms;      /* last byte read or written (timeout) */
    long long obuf_soft_since; /* ms: over the soft output limit since; 0 if not */
    char addr[NET_ADDR_MAX];
};

struct rpc_req {
    struct flight_waiter w;
    ev_timer deadline;
    struct rpc_conn *conn;
    struct rpc_req *prev, *next; /* in conn->reqs */
    uint32_t stream;
    uint32_t deadline_ms;
};

static struct {
    struct listener listener;
    struct rpc_conn *conns;
    struct rpc_conn *pending_write;
    struct rpc_conn *to_close;
    struct rpc_req *free_reqs;
    int nfree;
} rpc;

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents);

/* ---- decoding scratch ----
 *
 * protobuf-c allocates while it unpacks.  A request is unpacked, used and
 * freed before the next one is, so its allocations come from one static
 * arena, reset after each message: no malloc per request.  What does not
 * fit (a large key) falls back to the heap. */

static struct {
    alignas(max_align_t) char mem[RPC_ARENA_SIZE];
    size_t used;
} arena;

static void *
arena_alloc(void *data, size_t size)
{
    size_t n = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

    (void)data;
    if (n <= sizeof(arena.mem) - arena.used) {
        void *p = arena.mem + arena.used;
        arena.used += n;
        return p;
    }
    return mem_try_alloc(size);
}

static void
arena_free(void *data, void *p)
{
    (void)data;
    if ((char *)p < arena.mem || (char *)p >= arena.mem + sizeof(arena.mem)) {
        mem_free(p);
    }
}

static ProtobufCAllocator decode_alloc = {arena_alloc, arena_free, NULL};

static void
decoded_free(ProtobufCMessage *m)
{
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, &decode_alloc);
    }
    arena.used = 0;
}

/* ---- requests ---- */

static struct rpc_req *
req_get(struct rpc_conn *c, uint32_t stream)
{
    struct rpc_req *r = rpc.free_reqs;

    if (r != NULL) {
        rpc.free_reqs = r->next;
        rpc.nfree--;
    } else {
        r = mem_alloc(sizeof(*r));
    }
    memset(r, 0, sizeof(*r));
    ev_init(&r->deadline, on_deadline);
    r->conn = c;
    r->stream = stream;
    r->next = c->reqs;
    if (c->reqs != NULL) {
        c->reqs->prev = r;
    }
    c->reqs = r;
    return r;
}

/* Unlinks r from its connection and gives it back; r must have left its
 * flight. */
static void
req_put(struct rpc_req *r)
{
    struct rpc_conn *c = r->conn;

    ev_timer_stop(loader.loop, &r->deadline);
    if (r->prev != NULL) {
        r->prev->next = r->next;
    } else {
        c->reqs = r->next;
    }
    if (r->next != NULL) {
        r->next->prev = r->prev;
    }
    if (rpc.nfree >= RPC_REQS_FREE_MAX) {
        mem_free(r);
        return;
    }
    r->next = rpc.free_reqs;
    rpc.free_reqs = r;
    rpc.nfree++;
}

/* ---- replies ---- */

static void
queue_write(struct rpc_conn *c)
{
    if (!(c->flags & (RPC_PENDING_WRITE | RPC_CLOSING))) {
        c->flags |= RPC_PENDING_WRITE;
        c->pending_next = rpc.pending_write;
        rpc.pending_write = c;
    }
}

static void conn_close_async(struct rpc_conn *c);

/* A client whose replies pile up past client-output-buffer-limit is not
 * reading them: it is closed and its replies dropped, as redis does. */
static void
check_output_limit(struct rpc_conn *c)
{
    if (!obuf_reached(&loader.opt.obuf[OBUF_NORMAL], c->out.bytes, clock_now_ms(),
                      &c->obuf_soft_since)) {
        return;
    }
    log_warn("Client %s closed for overcoming of output buffer limits (%zu bytes of replies "
             "unread)",
             c->addr, c->out.bytes);
    loader.stats[STAT_client_output_buffer_limit_disconnections]++;
    bufq_clear(&c->out);
    conn_close_async(c);
}

/* Appends one frame holding m to c's output. */
static void
send_msg(struct rpc_conn *c, uint32_t stream, uint8_t method, const ProtobufCMessage *m)
{
    if (c->flags & RPC_CLOSING) {
        return; /* nobody will read it */
    }
    size_t n = protobuf_c_message_get_packed_size(m);
    char *p = bufq_reserve(&c->out, FRAME_HEADER + n);

    frame_header(p, (uint32_t)n, stream, method);
    protobuf_c_message_pack(m, (uint8_t *)p + FRAME_HEADER);
    bufq_commit(&c->out, FRAME_HEADER + n);
    queue_write(c);
    check_output_limit(c);
}

static void
reply_load(struct rpc_conn *c, uint32_t stream, const struct load_result *r)
{
    Slotcache__Loader__LoadReply m = SLOTCACHE__LOADER__LOAD_REPLY__INIT;

    m.status = r->status;
    m.value.data = (uint8_t *)r->value;
    m.value.len = r->len;
    m.ttl_seconds = r->ttl;
    m.message = (char *)(r->message != NULL ? r->message : "");
    if (r->status == SLOTCACHE__LOADER__STATUS__OK) {
        loader.stats[STAT_rows_found]++;
    }
    loader_count_status(r->status);
    send_msg(c, stream, FRAME_LOAD, &m.base);
}

static void
reply_load_error(struct rpc_conn *c, uint32_t stream, int status, const char *message)
{
    struct load_result r = {.status = status, .message = message};
    reply_load(c, stream, &r);
}

static void
reply_auth(struct rpc_conn *c, uint32_t stream, int status)
{
    Slotcache__Loader__AuthReply m = SLOTCACHE__LOADER__AUTH_REPLY__INIT;

    m.status = status;
    loader_count_status(status);
    send_msg(c, stream, FRAME_AUTH, &m.base);
}

static void
reply_ping(struct rpc_conn *c, uint32_t stream, int status)
{
    Slotcache__Loader__PingReply m = SLOTCACHE__LOADER__PING_REPLY__INIT;
    Slotcache__Loader__Route routes[ROUTE_MAX];
    Slotcache__Loader__Route *ptrs[ROUTE_MAX];

    m.status = status;
    loader_count_status(status);
    if (status == SLOTCACHE__LOADER__STATUS__OK) {
        m.version = (char *)LOADER_VERSION;
        m.breaker_open = load_breaker_open();
        for (int i = 0; i < loader.routes.n; i++) {
            slotcache__loader__route__init(&routes[i]);
            routes[i].prefix = loader.routes.routes[i].prefix;
            routes[i].ttl_seconds = loader.routes.routes[i].ttl;
            ptrs[i] = &routes[i];
        }
        m.n_routes = (size_t)loader.routes.n;
        m.routes = ptrs;
    }
    send_msg(c, stream, FRAME_PING, &m.base);
}

/* An error answer of the right message type for method. */
static void
reply_error(struct rpc_conn *c, uint32_t stream, uint8_t method, int status, const char *message)
{
    switch (method) {
    case FRAME_LOAD:
        reply_load_error(c, stream, status, message);
        break;
    case FRAME_PING:
        reply_ping(c, stream, status);
        break;
    default:
        reply_auth(c, stream, status);
        break;
    }
}

/* ---- connections ---- */

static void
conn_close_async(struct rpc_conn *c)
{
    if (c->flags & RPC_CLOSING) {
        return;
    }
    c->flags |= RPC_CLOSING;
    ev_io_stop(loader.loop, &c->rd);
    ev_io_stop(loader.loop, &c->wr);
    c->close_next = rpc.to_close;
    rpc.to_close = c;
}

/* Stops reading; the connection closes once its output is written. */
static void
conn_close_after_reply(struct rpc_conn *c)
{
    c->flags |= RPC_CLOSE_AFTER_REPLY;
    ev_io_stop(loader.loop, &c->rd);
    queue_write(c);
}

static void
conn_free(struct rpc_conn *c)
{
    ev_io_stop(loader.loop, &c->rd);
    ev_io_stop(loader.loop, &c->wr);
    close(c->fd);
    while (c->reqs != NULL) {
        struct rpc_req *r = c->reqs;
        load_cancel(&r->w);
        req_put(r);
    }
    buf_return(&c->rbuf);
    bufq_clear(&c->out);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        rpc.conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    loader.stats[STAT_connected_clients]--;
    mem_free(c);
}

static void
conn_write(struct rpc_conn *c)
{
    struct iovec iov[RPC_IOV_MAX];

    while (!bufq_empty(&c->out)) {
        int n = bufq_iov(&c->out, iov, RPC_IOV_MAX);
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            if (!(c->flags & RPC_WRITING)) {
                c->flags |= RPC_WRITING;
                ev_io_start(loader.loop, &c->wr);
            }
            return;
        }
        if (w < 0) {
            conn_close_async(c);
            return;
        }
        bufq_consume(&c->out, (size_t)w);
        c->last_io_ms = clock_now_ms();
    }
    if (c->flags & RPC_WRITING) {
        c->flags &= ~RPC_WRITING;
        ev_io_stop(loader.loop, &c->wr);
    }
    if (c->flags & RPC_CLOSE_AFTER_REPLY) {
        conn_close_async(c);
    }
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_write(container_of(w, struct rpc_conn, wr));
}

/* A connection beyond maxclients, or one accepted when descriptors ran
 * out (the listener's on_full), is closed before a frame is read: the
 * protocol has no frame to answer one that asked nothing yet, so the
 * client sees the connection closed (the proxy retries later). */
static void
refuse_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    (void)tls; /* a plain port */
    listener_refuse(fd, NULL, NULL);
    loader.stats[STAT_rejected_connections]++;
    log_verbose("Refused connection from %s: maxclients (%lld) reached or no descriptor left",
                peer, loader.opt.maxclients);
}

static void
on_connection(int fd, const char *peer, struct tls_ctx *tls)
{
    if (loader.stats[STAT_connected_clients] >= (uint64_t)loader.opt.maxclients) {
        refuse_connection(fd, peer, tls);
        return;
    }
    struct rpc_conn *c = mem_calloc(1, sizeof(*c));
    c->fd = fd;
    c->last_io_ms = clock_now_ms();
    snprintf(c->addr, sizeof(c->addr), "%s", peer);
    if (loader.opt.secret[0] == '\0') {
        c->flags |= RPC_AUTHED;
    }
    ev_io_init(&c->rd, on_readable, fd, EV_READ);
    ev_io_init(&c->wr, on_writable, fd, EV_WRITE);
    ev_io_start(loader.loop, &c->rd);
    c->next = rpc.conns;
    if (rpc.conns != NULL) {
        rpc.conns->prev = c;
    }
    rpc.conns = c;
    loader.stats[STAT_total_connections_received]++;
    loader.stats[STAT_connected_clients]++;
}

/* ---- methods ---- */

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct rpc_req *r = container_of(w, struct rpc_req, deadline);
    char why[64];

    (void)loop;
    (void)revents;
    load_cancel(&r->w);
    snprintf(why, sizeof(why), "no answer within the deadline (%u ms)", r->deadline_ms);
    reply_load_error(r->conn, r->stream, SLOTCACHE__LOADER__STATUS__DEADLINE_EXCEEDED, why);
    req_put(r);
}

void
rpc_load_done(struct flight_waiter *w, const struct load_result *res)
{
    struct rpc_req *r = container_of(w, struct rpc_req, w);

    reply_load(r->conn, r->stream, res);
    req_put(r);
}

static void
handle_load(struct rpc_conn *c, const struct frame *f)
{
    Slotcache__Loader__LoadRequest *m;
    struct load_result now;

    loader.stats[STAT_load_requests]++;
    m = slotcache__loader__load_request__unpack(&decode_alloc, f->len, f->payload);
    if (m == NULL) {
        loader.stats[STAT_errors_protocol]++;
        reply_load_error(c, f->stream, SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT,
                         "malformed LoadRequest");
        decoded_free(NULL);
        return;
    }
    struct rpc_req *r = req_get(c, f->stream);
    if (load_key(&r->w, (const char *)m->key.data, m->key.len, &now)) {
        r->deadline_ms =
            m->deadline_ms != 0 ? m->deadline_ms : (uint32_t)loader.opt.default_deadline_ms;
        ev_timer_set(&r->deadline, r->deadline_ms / 1000.0, 0.);
        ev_timer_start(loader.loop, &r->deadline);
    } else {
        reply_load(c, f->stream, &now);
        req_put(r);
    }
    decoded_free(&m->base);
}

static void
handle_ping(struct rpc_conn *c, const struct frame *f)
{
    Slotcache__Loader__PingRequest *m;

    loader.stats[STAT_ping_requests]++;
    m = slotcache__loader__ping_request__unpack(&decode_alloc, f->len, f->payload);
    if (m == NULL) {
        loader.stats[STAT_errors_protocol]++;
    }
    reply_ping(c, f->stream,
               m != NULL ? SLOTCACHE__LOADER__STATUS__OK
                         : SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT);
    decoded_free(m != NULL ? &m->base : NULL);
}

/* Compares in time independent of where the first difference is. */
static bool
secret_matches(const uint8_t *p, size_t n)
{
    const char *s = loader.opt.secret;
    size_t len = strlen(s);
    unsigned diff = n != len;

    for (size_t i = 0; i < n; i++) {
        diff |= p[i] ^ (uint8_t)s[i % len];
    }
    return diff == 0;
}

static void
handle_auth(struct rpc_conn *c, const struct frame *f)
{
    Slotcache__Loader__AuthRequest *m;

    loader.stats[STAT_auth_requests]++;
    m = slotcache__loader__auth_request__unpack(&decode_alloc, f->len, f->payload);
    if (m == NULL) {
        loader.stats[STAT_errors_protocol]++;
        reply_auth(c, f->stream, SLOTCACHE__LOADER__STATUS__INVALID_ARGUMENT);
        if (!(c->flags & RPC_AUTHED)) {
            conn_close_after_reply(c);
        }
    } else if (loader.opt.secret[0] == '\0' || secret_matches(m->secret.data, m->secret.len)) {
        c->flags |= RPC_AUTHED;
        reply_auth(c, f->stream, SLOTCACHE__LOADER__STATUS__OK);
    } else {
        log_verbose("Wrong secret from %s: closing the connection", c->addr);
        c->flags &= ~RPC_AUTHED;
        reply_auth(c, f->stream, SLOTCACHE__LOADER__STATUS__UNAUTHENTICATED);
        conn_close_after_reply(c);
    }
    decoded_free(m != NULL ? &m->base : NULL);
}

static void
dispatch(struct rpc_conn *c, const struct frame *f)
{
    if (!(c->flags & RPC_AUTHED) && f->method != FRAME_AUTH) {
        log_verbose("Unauthenticated request from %s: closing the connection", c->addr);
        reply_error(c, f->stream, f->method, SLOTCACHE__LOADER__STATUS__UNAUTHENTICATED,
                    "authentication required: the first frame must be Auth with the secret");
        conn_close_after_reply(c);
        return;
    }
    switch (f->method) {
    case FRAME_LOAD:
        handle_load(c, f);
        break;
    case FRAME_PING:
        handle_ping(c, f);
        break;
    case FRAME_AUTH:
        handle_auth(c, f);
        break;
    }
}

static void
process_input(struct rpc_conn *c)
{
    struct frame f;
    size_t used;

    while (c->rbuf != NULL && buf_rsize(c->rbuf) > 0 &&
           !(c->flags & (RPC_CLOSE_AFTER_REPLY | RPC_CLOSING))) {
        enum frame_status st = frame_parse(buf_rptr(c->rbuf), buf_rsize(c->rbuf), &f, &used);
        if (st == FRAME_INCOMPLETE) {
            return;
        }
        if (st == FRAME_EPROTO) {
            loader.stats[STAT_errors_protocol]++;
            log_verbose("Malformed frame from %s (oversized or unknown method): closing the "
                        "connection",
                        c->addr);
            conn_close_after_reply(c);
            return;
        }
        dispatch(c, &f);
        c->rbuf->rpos += (uint32_t)used;
    }
}

/* Room to read into: a pooled buffer, compacted or grown (doubling) while
 * a large frame arrives.  SC_ENOMEM if it cannot grow. */
static int
reserve_read(struct rpc_conn *c)
{
    if (c->rbuf == NULL) {
        c->rbuf = buf_borrow();
        return SC_OK;
    }
    if (buf_wsize(c->rbuf) >= RPC_READ_MIN) {
        return SC_OK;
    }
    return buf_try_reserve(&c->rbuf, RPC_READ_MIN);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct rpc_conn *c = container_of(w, struct rpc_conn, rd);

    (void)loop;
    (void)revents;
    if (reserve_read(c) != SC_OK) {
        log_warn("Out of memory reading from %s: closing the connection", c->addr);
        conn_close_async(c);
        return;
    }
    ssize_t n = read(c->fd, buf_wptr(c->rbuf), buf_wsize(c->rbuf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        conn_close_async(c);
        return;
    }
    c->rbuf->wpos += (uint32_t)n;
    c->last_io_ms = clock_now_ms();
    process_input(c);
    if (c->rbuf != NULL && buf_rsize(c->rbuf) == 0) {
        /* An idle connection holds no buffer. */
        buf_return(&c->rbuf);
    }
}

/* ---- the server ---- */

int
rpc_setup(char *err, size_t errlen)
{
    memset(&rpc, 0, sizeof(rpc));
    if (listener_open(&rpc.listener, loader.loop, loader.opt.bind, (int)loader.opt.port,
                      (int)loader.opt.tcp_backlog, NULL, on_connection, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    rpc.listener.on_full = refuse_connection;
    return SC_OK;
}

void
rpc_teardown(void)
{
    rpc.pending_write = rpc.to_close = NULL;
    while (rpc.conns != NULL) {
        conn_free(rpc.conns);
    }
    listener_close(&rpc.listener);
    while (rpc.free_reqs != NULL) {
        struct rpc_req *r = rpc.free_reqs;
        rpc.free_reqs = r->next;
        mem_free(r);
    }
    rpc.nfree = 0;
}

void
rpc_flush(void)
{
    while (rpc.pending_write != NULL) {
        struct rpc_conn *c = rpc.pending_write;
        rpc.pending_write = c->pending_next;
        c->flags &= ~RPC_PENDING_WRITE;
        if (!(c->flags & RPC_CLOSING)) {
            conn_write(c);
        }
    }
    bool freed = rpc.to_close != NULL;
    while (rpc.to_close != NULL) {
        struct rpc_conn *c = rpc.to_close;
        rpc.to_close = c->close_next;
        conn_free(c);
    }
    if (freed) {
        listener_resume(&rpc.listener);
    }
}

/* timeout: redis's idle timeout -- time since the connection's last byte,
 * so a client that trickles bytes is not idle -- sparing connections that
 * wait for answers (redis spares blocked clients). */
static void
close_idle(long long now)
{
    if (loader.opt.timeout <= 0) {
        return;
    }
    for (struct rpc_conn *c = rpc.conns; c != NULL; c = c->next) {
        if (c->reqs == NULL && !(c->flags & RPC_CLOSING) &&
            now - c->last_io_ms > loader.opt.timeout * 1000) {
            log_verbose("Closing idle client %s", c->addr);
            loader.stats[STAT_idle_disconnections]++;
            conn_close_async(c);
        }
    }
}

void
rpc_cron(void)
{
    close_idle(clock_now_ms());
    listener_resume(&rpc.listener);
}

int
rpc_port(void)
{
    return rpc.listener.port;
}
