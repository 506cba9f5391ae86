/*
 * loader_client.c -- see loader_client.h.
 */
#include "proxy/loader_client.h"

#include "common/buf.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "loader/loader.pb-c.h"
#include "proxy/proxy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOADER_SLOTS 65536 /* Loads in flight at most; a power of two */
#define LOADER_ROUTES_MAX 256
#define LOADER_BACKOFF_MIN_MS 100
#define LOADER_BACKOFF_MAX_MS 5000
#define LOADER_IOV_MAX 64

struct loader_options loader_opts;

enum { LC_CLOSED, LC_CONNECTING, LC_READY };

struct pending {
    uint32_t stream;
    bool used;
    uint8_t method;
    loader_done_fn *fn;
    void *ctx;
    long long deadline_us;
    struct pending *prev, *next; /* in flight, oldest first */
};

struct route {
    char *prefix;
    size_t len;
};

static struct {
    struct ev_loop *loop;
    char host[NET_ADDR_MAX];
    int port;
    int fd;
    int state;
    ev_io rd, wr;
    ev_timer timer;
    bool writing;
    struct buf *rbuf;
    struct bufq out;
    uint32_t next_stream;
    struct pending *slots;
    struct pending *oldest, *newest;
    struct route routes[LOADER_ROUTES_MAX];
    int nroutes;
    bool routes_known; /* a Ping reply has told us the routes at least once */
    bool breaker_open;
    long long retry_at_ms;
    long long backoff_ms;
} lc;

const char *
loader_status_name(int status)
{
    switch (status) {
    case LOADER_OK:
        return "OK";
    case LOADER_INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case LOADER_DEADLINE_EXCEEDED:
        return "DEADLINE_EXCEEDED";
    case LOADER_NOT_FOUND:
        return "NOT_FOUND";
    case LOADER_RESOURCE_EXHAUSTED:
        return "RESOURCE_EXHAUSTED";
    case LOADER_INTERNAL:
        return "INTERNAL";
    case LOADER_UNAVAILABLE:
        return "UNAVAILABLE";
    case LOADER_UNAUTHENTICATED:
        return "UNAUTHENTICATED";
    default:
        return "UNKNOWN";
    }
}

bool
loader_enabled(void)
{
    return loader_opts.addr != NULL && loader_opts.addr[0] != '\0';
}

bool
loader_connected(void)
{
    return lc.state == LC_READY;
}

bool
loader_breaker_open(void)
{
    return lc.breaker_open;
}

int
loader_route_count(void)
{
    return lc.nroutes;
}

bool
loader_may_route(const char *key, size_t len)
{
    if (!loader_enabled()) {
        return false;
    }
    /* Until the first Ping reply the routes are unknown: the loader, which
     * knows them, answers INVALID_ARGUMENT (nil) for a key without one.
     * Answering nil here instead would pass off a row that exists as
     * missing, right after every proxy start. */
    if (!lc.routes_known) {
        return true;
    }
    for (int i = 0; i < lc.nroutes; i++) {
        const struct route *r = &lc.routes[i];
        if (len > r->len && memcmp(key, r->prefix, r->len) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- pending requests ---- */

static void
unlink_pending(struct pending *p)
{
    if (p->prev != NULL) {
        p->prev->next = p->next;
    } else {
        lc.oldest = p->next;
    }
    if (p->next != NULL) {
        p->next->prev = p->prev;
    } else {
        lc.newest = p->prev;
    }
    p->prev = p->next = NULL;
    p->used = false;
}

/* Completes p with a status the proxy decided (no reply from the loader). */
static void
fail_pending(struct pending *p, int status, const char *message)
{
    struct loader_result r = {status, NULL, 0, 0, message};
    loader_done_fn *fn = p->fn;
    void *ctx = p->ctx;

    unlink_pending(p);
    if (fn != NULL) {
        fn(ctx, &r);
    }
}

static void
fail_all(const char *message)
{
    while (lc.oldest != NULL) {
        fail_pending(lc.oldest, LOADER_UNAVAILABLE, message);
    }
}

/* ---- connection ---- */

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

static void
disconnect(const char *why)
{
    if (lc.fd >= 0) {
        ev_io_stop(lc.loop, &lc.rd);
        ev_io_stop(lc.loop, &lc.wr);
        close(lc.fd);
        lc.fd = -1;
    }
    if (lc.state != LC_CLOSED) {
        log_warn("loader %s: %s", loader_opts.addr, why);
    }
    lc.state = LC_CLOSED;
    lc.writing = false;
    buf_return(&lc.rbuf);
    bufq_clear(&lc.out);
    lc.backoff_ms = lc.backoff_ms == 0 ? LOADER_BACKOFF_MIN_MS
                                       : MIN(lc.backoff_ms * 2, LOADER_BACKOFF_MAX_MS);
    lc.retry_at_ms = proxy_now_ms() + lc.backoff_ms;
    char message[256];
    snprintf(message, sizeof(message), "loader connection lost: %s", why);
    fail_all(message);
}

/* Queues one frame: header, then the message packed by pack(). */
static void
queue_frame(uint32_t stream, uint8_t method, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    char *p = bufq_reserve(&lc.out, FRAME_HEADER + n);

    frame_header(p, (uint32_t)n, stream, method);
    protobuf_c_message_pack(msg, (uint8_t *)p + FRAME_HEADER);
    bufq_commit(&lc.out, FRAME_HEADER + n);
}

static struct pending *
new_pending(uint8_t method, loader_done_fn *fn, void *ctx, long long timeout_ms)
{
    uint32_t stream = ++lc.next_stream;
    struct pending *p = &lc.slots[stream & (LOADER_SLOTS - 1)];

    if (p->used) {
        return NULL; /* 65536 in flight: the loader is far behind */
    }
    p->used = true;
    p->stream = stream;
    p->method = method;
    p->fn = fn;
    p->ctx = ctx;
    p->deadline_us = proxy_now_us() + timeout_ms * 1000;
    p->prev = lc.newest;
    p->next = NULL;
    if (lc.newest != NULL) {
        lc.newest->next = p;
    } else {
        lc.oldest = p;
    }
    lc.newest = p;
    return p;
}

static void
send_ping(void)
{
    Slotcache__Loader__PingRequest req = SLOTCACHE__LOADER__PING_REQUEST__INIT;
    struct pending *p = new_pending(FRAME_PING, NULL, NULL, loader_opts.timeout_ms);

    if (p != NULL) {
        queue_frame(p->stream, FRAME_PING, &req.base);
    }
}

static void
connected(void)
{
    int e = net_connect_result(lc.fd);

    if (e != 0) {
        disconnect(strerror(e));
        return;
    }
    lc.state = LC_READY;
    lc.backoff_ms = 0;
    ev_io_start(lc.loop, &lc.rd);
    log_notice("connected to loader %s", loader_opts.addr);
    if (loader_opts.secret != NULL && loader_opts.secret[0] != '\0') {
        /* Auth goes first: frames queued while connecting follow it. */
        Slotcache__Loader__AuthRequest req = SLOTCACHE__LOADER__AUTH_REQUEST__INIT;
        struct bufq later = lc.out;
        memset(&lc.out, 0, sizeof(lc.out));
        req.secret.data = (uint8_t *)loader_opts.secret;
        req.secret.len = strlen(loader_opts.secret);
        struct pending *p = new_pending(FRAME_AUTH, NULL, NULL, loader_opts.timeout_ms);
        if (p != NULL) {
            queue_frame(p->stream, FRAME_AUTH, &req.base);
        }
        for (struct buf *b = later.head; b != NULL; b = b->next) {
            bufq_append(&lc.out, buf_rptr(b), buf_rsize(b));
        }
        bufq_clear(&later);
    }
    send_ping();
    loader_client_flush();
}

static void
connect_loader(void)
{
    char err[256];

    lc.fd = net_connect(lc.host, lc.port, err, sizeof(err));
    if (lc.fd < 0) {
        lc.state = LC_CONNECTING; /* so that disconnect logs the reason */
        disconnect(err);
        return;
    }
    lc.state = LC_CONNECTING;
    ev_io_init(&lc.rd, on_readable, lc.fd, EV_READ);
    ev_io_init(&lc.wr, on_writable, lc.fd, EV_WRITE);
    ev_io_start(lc.loop, &lc.wr);
    lc.writing = true;
}

void
loader_client_flush(void)
{
    struct iovec iov[LOADER_IOV_MAX];

    if (lc.state != LC_READY) {
        return;
    }
    while (!bufq_empty(&lc.out)) {
        int n = bufq_iov(&lc.out, iov, LOADER_IOV_MAX);
        ssize_t w = writev(lc.fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                if (!lc.writing) {
                    lc.writing = true;
                    ev_io_start(lc.loop, &lc.wr);
                }
                return;
            }
            disconnect(strerror(errno));
            return;
        }
        bufq_consume(&lc.out, (size_t)w);
    }
    if (lc.writing) {
        lc.writing = false;
        ev_io_stop(lc.loop, &lc.wr);
    }
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (lc.state == LC_CONNECTING) {
        ev_io_stop(lc.loop, &lc.wr);
        lc.writing = false;
        connected();
        return;
    }
    loader_client_flush();
}

/* ---- replies ---- */

static void
set_routes(const Slotcache__Loader__PingReply *r)
{
    for (int i = 0; i < lc.nroutes; i++) {
        mem_free(lc.routes[i].prefix);
    }
    lc.nroutes = 0;
    lc.routes_known = true;
    for (size_t i = 0; i < r->n_routes && lc.nroutes < LOADER_ROUTES_MAX; i++) {
        const Slotcache__Loader__Route *rt = r->routes[i];
        if (rt->prefix == NULL || rt->prefix[0] == '\0') {
            continue;
        }
        lc.routes[lc.nroutes].prefix = mem_strdup(rt->prefix);
        lc.routes[lc.nroutes].len = strlen(rt->prefix);
        lc.nroutes++;
    }
    if (r->breaker_open != lc.breaker_open) {
        log_notice("loader reports its circuit breaker %s", r->breaker_open ? "open" : "closed");
    }
    lc.breaker_open = r->breaker_open;
}

/* Dispatches one reply frame; SC_ERR if it cannot be decoded. */
static int
on_frame(const struct frame *f)
{
    struct pending *p = &lc.slots[f->stream & (LOADER_SLOTS - 1)];

    if (!p->used || p->stream != f->stream || p->method != f->method) {
        return SC_OK; /* a reply after its deadline: already answered */
    }
    if (f->method == FRAME_LOAD) {
        Slotcache__Loader__LoadReply *r =
            slotcache__loader__load_reply__unpack(NULL, f->len, f->payload);
        if (r == NULL) {
            return SC_ERR;
        }
        struct loader_result res = {(int)r->status, r->value.data, r->value.len, r->ttl_seconds,
                                    r->message};
        loader_done_fn *fn = p->fn;
        void *ctx = p->ctx;
        unlink_pending(p);
        fn(ctx, &res);
        slotcache__loader__load_reply__free_unpacked(r, NULL);
        return SC_OK;
    }
    if (f->method == FRAME_PING) {
        Slotcache__Loader__PingReply *r =
            slotcache__loader__ping_reply__unpack(NULL, f->len, f->payload);
        if (r == NULL) {
            return SC_ERR;
        }
        set_routes(r);
        slotcache__loader__ping_reply__free_unpacked(r, NULL);
        unlink_pending(p);
        return SC_OK;
    }
    Slotcache__Loader__AuthReply *r = slotcache__loader__auth_reply__unpack(NULL, f->len, f->payload);
    bool ok = r != NULL && r->status == SLOTCACHE__LOADER__STATUS__OK;
    if (r != NULL) {
        slotcache__loader__auth_reply__free_unpacked(r, NULL);
    }
    unlink_pending(p);
    return ok ? SC_OK : SC_ERR;
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (lc.rbuf == NULL) {
        lc.rbuf = buf_borrow();
    }
    if (buf_wsize(lc.rbuf) < FRAME_HEADER && buf_try_reserve(&lc.rbuf, 4096) != SC_OK) {
        disconnect("out of memory");
        return;
    }
    ssize_t n = read(lc.fd, buf_wptr(lc.rbuf), buf_wsize(lc.rbuf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        disconnect(n == 0 ? "connection closed" : strerror(errno));
        return;
    }
    lc.rbuf->wpos += (uint32_t)n;
    for (;;) {
        struct frame f;
        size_t used;
        enum frame_status st = frame_parse(buf_rptr(lc.rbuf), buf_rsize(lc.rbuf), &f, &used);
        if (st == FRAME_INCOMPLETE) {
            /* Room for the rest of a big frame, all at once. */
            if (buf_rsize(lc.rbuf) >= FRAME_HEADER) {
                size_t need = FRAME_HEADER + ((size_t)(uint8_t)buf_rptr(lc.rbuf)[0] << 24 |
                                              (size_t)(uint8_t)buf_rptr(lc.rbuf)[1] << 16 |
                                              (size_t)(uint8_t)buf_rptr(lc.rbuf)[2] << 8 |
                                              (size_t)(uint8_t)buf_rptr(lc.rbuf)[3]);
                if (buf_try_reserve(&lc.rbuf, need - buf_rsize(lc.rbuf)) != SC_OK) {
                    disconnect("out of memory");
                }
            }
            break;
        }
        if (st == FRAME_EPROTO || on_frame(&f) != SC_OK) {
            disconnect(st == FRAME_EPROTO ? "bad frame" : "bad reply or Auth refused");
            return;
        }
        lc.rbuf->rpos += (uint32_t)used;
    }
    if (lc.rbuf != NULL && buf_rsize(lc.rbuf) == 0) {
        lc.rbuf->rpos = lc.rbuf->wpos = 0;
    }
}

/* ---- requests ---- */

void
loader_load(const char *key, size_t len, loader_done_fn *fn, void *ctx)
{
    struct loader_result fail = {LOADER_UNAVAILABLE, NULL, 0, 0, "loader not reachable"};

    if (lc.state == LC_CLOSED) {
        if (proxy_now_ms() < lc.retry_at_ms) {
            fn(ctx, &fail);
            return;
        }
        connect_loader();
        if (lc.state == LC_CLOSED) {
            fn(ctx, &fail);
            return;
        }
    }
    struct pending *p = new_pending(FRAME_LOAD, fn, ctx, loader_opts.timeout_ms);
    if (p == NULL) {
        fail.status = LOADER_RESOURCE_EXHAUSTED;
        fail.message = "too many loads in flight";
        fn(ctx, &fail);
        return;
    }
    Slotcache__Loader__LoadRequest req = SLOTCACHE__LOADER__LOAD_REQUEST__INIT;
    req.key.data = (uint8_t *)key;
    req.key.len = len;
    req.deadline_ms = (uint32_t)loader_opts.timeout_ms;
    queue_frame(p->stream, FRAME_LOAD, &req.base);
}

void
loader_client_cron(void)
{
    long long now = proxy_now_us();

    while (lc.oldest != NULL && lc.oldest->deadline_us < now) {
        fail_pending(lc.oldest, LOADER_DEADLINE_EXCEEDED, "the loader did not answer in time");
    }
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (lc.state == LC_READY) {
        send_ping();
        loader_client_flush();
    } else if (lc.state == LC_CLOSED && proxy_now_ms() >= lc.retry_at_ms) {
        connect_loader();
    }
}

int
loader_client_setup(struct ev_loop *loop)
{
    lc.loop = loop;
    lc.fd = -1;
    if (!loader_enabled()) {
        return SC_OK;
    }
    if (!net_parse_hostport(loader_opts.addr, lc.host, sizeof(lc.host), &lc.port)) {
        return SC_ERR;
    }
    lc.slots = mem_calloc(LOADER_SLOTS, sizeof(*lc.slots));
    double every = (double)loader_opts.ping_ms / 1000.0;
    ev_timer_init(&lc.timer, on_timer, 0.0, every);
    ev_timer_start(loop, &lc.timer);
    connect_loader();
    return SC_OK;
}

void
loader_client_teardown(void)
{
    if (!loader_enabled() || lc.slots == NULL) {
        return;
    }
    ev_timer_stop(lc.loop, &lc.timer);
    lc.state = LC_READY; /* log nothing: we are leaving */
    disconnect("proxy shutting down");
    for (int i = 0; i < lc.nroutes; i++) {
        mem_free(lc.routes[i].prefix);
    }
    lc.nroutes = 0;
    mem_free(lc.slots);
    lc.slots = NULL;
}
