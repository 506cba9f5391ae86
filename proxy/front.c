/*
 * front.c -- see front.h.
 */
#include "proxy/front.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/obuf.h"
#include "common/reply.h"
#include "common/sbuf.h"
#include "common/slot.h"
#include "proxy/back.h"
#include "proxy/acl.h"
#include "proxy/cmdtab.h"
#include "proxy/latstats.h"
#include "proxy/local.h"
#include "proxy/migrate.h"
#include "proxy/msg.h"
#include "proxy/multikey.h"
#include "proxy/proxy.h"
#include "proxy/readthru.h"
#include "proxy/router.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define FRONT_IOV_MAX 256
#define FRONT_KEYS_MAX 4096 /* keys checked for a single-slot command */

static struct bufq out; /* scratch for replies the proxy builds */

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

/* ---- building replies ---- */

struct bufq *
front_out(void)
{
    return &out;
}

struct seg
front_take_out(void)
{
    struct seg s;

    if (out.nbuf == 1) {
        /* One buffer: the segment takes it over, no copy. */
        struct buf *b = out.head;
        out.head = out.tail = NULL;
        out.nbuf = 0;
        s.b = b;
        s.p = buf_rptr(b);
        s.len = (uint32_t)buf_rsize(b);
        out.bytes = 0;
        if (s.len <= 4096) {
            /* Small replies go to the shared pack; the chunk is reused. */
            struct seg packed = seg_copy(s.p, s.len);
            buf_return(&b);
            return packed;
        }
        return s;
    }
    struct buf *b = buf_try_create(out.bytes);
    if (b == NULL) {
        bufq_clear(&out);
        return seg_const("-OOM out of memory building a reply\r\n", 37);
    }
    for (struct buf *p = out.head; p != NULL; p = p->next) {
        memcpy(buf_wptr(b), buf_rptr(p), buf_rsize(p));
        b->wpos += (uint32_t)buf_rsize(p);
    }
    bufq_clear(&out);
    s.b = b;
    s.p = b->data;
    s.len = (uint32_t)buf_rsize(b);
    return s;
}

void
front_answer(struct msg *m)
{
    proxy.stats[STAT_local_requests]++;
    msg_complete(m, front_take_out());
}

void
front_answer_error(struct msg *m, const char *err)
{
    resp_add_error(&out, err, strlen(err));
    front_answer(m);
}

/* ---- lifecycle ---- */

void
front_create(int fd, struct tls *tls, const char *peer)
{
    struct front *c = mem_calloc(1, sizeof(*c));

    c->user = acl_default_user();
    conn_init(&proxy.conns, &c->conn, fd, tls, peer, acl_starts_logged_in(),
              proxy.opt.proto_max_bulk_len, proxy.opt.tcp_keepalive, proxy_now_ms(), on_readable,
              on_writable);
}

void
front_user_changed(struct front *c)
{
    const char *name = c->user->name; /* the old table's: still valid here */
    const struct acl_user *u = acl_find(name, strlen(name));

    if (u == NULL) {
        log_notice("closing client %llu: its user '%s' is gone", (unsigned long long)c->conn.id,
                   name);
        c->user = acl_default_user();
        front_close_async(c);
        return;
    }
    c->user = u;
}

void
front_free(struct front *c)
{
    /* Messages still at a node finish there and are dropped (msg.h). */
    while (c->qhead != NULL) {
        struct msg *m = c->qhead;
        c->qhead = m->cnext;
        m->client = NULL;
        msg_put(&m);
    }
    local_client_free(c);
    conn_deinit(&proxy.conns, &c->conn);
    mem_free(c);
}

void
front_close_async(struct front *c)
{
    conn_close_async(&proxy.conns, &c->conn);
}

static void
queue_write(struct front *c)
{
    conn_queue_write(&proxy.conns, &c->conn);
}

/* ---- writing replies, in request order ---- */

static void
write_replies(struct front *c)
{
    struct iovec iov[FRONT_IOV_MAX];

    while (c->qhead != NULL && (c->qhead->flags & MSG_DONE)) {
        int n = 0;
        uint32_t off = c->head_off;
        for (struct msg *m = c->qhead; m != NULL && (m->flags & MSG_DONE) && n < FRONT_IOV_MAX;
             m = m->cnext) {
            iov[n].iov_base = (char *)m->rsp.p + off;
            iov[n].iov_len = m->rsp.len - off;
            off = 0;
            n++;
        }
        ssize_t w = conn_writev(&c->conn, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                conn_want_write(&proxy.conns, &c->conn, true);
                return;
            }
            front_close_async(c);
            return;
        }
        proxy.stats[STAT_total_net_output_bytes] += (uint64_t)w;
        c->conn.last_io_ms = proxy_now_ms();
        size_t left = (size_t)w;
        while (left > 0) {
            struct msg *m = c->qhead;
            size_t rest = m->rsp.len - c->head_off;
            if (left < rest) {
                c->head_off += (uint32_t)left;
                break;
            }
            left -= rest;
            c->head_off = 0;
            c->qhead = m->cnext;
            if (c->qhead == NULL) {
                c->qtail = NULL;
            }
            c->nq--;
            c->obuf_bytes -= m->obuf_len;
            proxy.stats[STAT_total_commands_processed]++;
            latstats_record(m->lat_class, (uint64_t)proxy_now_us() - m->arrived_us);
            msg_put(&m);
        }
    }
    conn_want_write(&proxy.conns, &c->conn, false);
    if ((c->conn.flags & CONN_CLOSE_AFTER_REPLY) && c->qhead == NULL) {
        front_close_async(c);
    }
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    write_replies(front_of(container_of(w, struct conn, wr)));
}

void
front_flush_all(void)
{
    while (proxy.conns.pending_write != NULL) {
        struct conn *k = proxy.conns.pending_write;
        proxy.conns.pending_write = k->pending_next;
        k->flags &= ~CONN_PENDING_WRITE;
        if (!(k->flags & CONN_CLOSE_ASAP)) {
            write_replies(front_of(k));
        }
    }
    while (proxy.conns.to_close != NULL) {
        struct conn *k = proxy.conns.to_close;
        proxy.conns.to_close = k->close_next;
        front_free(front_of(k));
    }
}

/* ---- the output buffer limit ---- */

/* The reply bytes c holds that its socket has not taken. */
static size_t
output_bytes(const struct front *c)
{
    return c->obuf_bytes - c->head_off;
}

/* m's reply is final: it counts in its client's output until written, and
 * a client over client-output-buffer-limit is closed, as redis closes one
 * that does not read its replies -- otherwise the replies of a client that
 * keeps sending and never reads would pile up without bound (and pin the
 * node connections' read buffers they point into). */
static void
count_reply(struct front *c, struct msg *m)
{
    c->obuf_bytes += m->rsp.len - m->obuf_len;
    m->obuf_len = m->rsp.len;
    if ((c->conn.flags & CONN_CLOSE_ASAP) ||
        !obuf_reached(&proxy.opt.obuf[OBUF_NORMAL], output_bytes(c), proxy_now_ms(),
                      &c->obuf_soft_since)) {
        return;
    }
    log_warn("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output "
             "buffer limits.",
             (unsigned long long)c->conn.id, c->conn.addr);
    proxy.stats[STAT_client_output_buffer_limit_disconnections]++;
    front_close_async(c);
}

size_t
front_max_output(void)
{
    size_t max = 0;

    for (struct conn *k = proxy.conns.all; k != NULL; k = k->next) {
        max = MAX(max, output_bytes(front_of(k)));
    }
    return max;
}

/* ---- routing ---- */

/* A GET's first answer: a hit or a miss, and a miss of a routed key is
 * loaded from the database instead of answered nil. */
static bool
get_answered(struct msg *m)
{
    m->flags &= (uint16_t)~MSG_GET;
    if (m->flags & MSG_NIL) {
        proxy.stats[STAT_keyspace_misses]++;
        m->lat_class = LAT_GET_MISS;
        if (m->flags & MSG_READTHRU) {
            readthru_get(m, true);
            return true;
        }
    } else if (!(m->flags & MSG_ERROR)) {
        proxy.stats[STAT_keyspace_hits]++;
        m->lat_class = LAT_GET_HIT;
    }
    return false;
}

void
front_msg_done(struct msg *m)
{
    if (proxy.tearing_down) {
        return; /* nobody is waiting any more */
    }
    if ((m->flags & MSG_GET) && !(m->flags & MSG_FAILED) && get_answered(m)) {
        return;
    }
    if ((m->flags & MSG_FAILED) && !(m->flags & MSG_WRITE) && m->shard != NULL &&
        m->nretry < proxy.opt.read_retries) {
        struct member *alt = router_read_member(m->shard, m->member);
        if (alt != NULL) {
            /* A read that failed with its node is safe to ask again. */
            m->nretry++;
            m->flags &= (uint16_t) ~(MSG_DONE | MSG_FAILED | MSG_ERROR | MSG_NIL);
            seg_release(&m->rsp);
            proxy.stats[STAT_read_retries]++;
            back_send(alt->conn, m);
            return;
        }
    }
    if ((m->flags & MSG_FAILED) && (m->flags & MSG_READTHRU)) {
        readthru_get(m, false); /* no node has the key's shard: ask the database */
        return;
    }
    if (m->flags & MSG_FAILED) {
        proxy.stats[STAT_node_failures]++;
    }
    if (m->flags & MSG_ERROR) {
        proxy.stats[STAT_total_error_replies]++;
    }
    if (m->client != NULL) {
        count_reply(m->client, m);
    }
    if (m->client != NULL && m->client->qhead == m) {
        queue_write(m->client);
    }
}

static void
fail_shard(struct msg *m, struct shard *s)
{
    char desc[300], text[600];

    router_shard_desc(s, desc, sizeof(desc));
    snprintf(text, sizeof(text),
             "CLUSTERDOWN slotcache-proxy: %s has no node available (%s)", desc,
             s->nmembers > 0 ? s->members[0]->down_reason : "no nodes");
    proxy.stats[STAT_node_failures]++;
    msg_fail(m, text);
}

void
front_route_shard(struct msg *m, struct shard *s)
{
    struct member *shadow[SHARD_MEMBERS_MAX];
    int nshadow = 0;

    m->shard = s;
    if ((m->flags & MSG_WRITE) && m->slot >= 0) {
        nshadow = migrate_dual_targets((unsigned)m->slot, shadow);
    }
    if ((m->flags & MSG_WRITE) && (s->nmembers > 1 || nshadow > 0)) {
        multikey_replicate(m, s, shadow, nshadow);
        return;
    }
    struct member *mb = router_read_member(s, NULL);
    if (mb == NULL && (m->flags & MSG_WRITE)) {
        /* A single-node shard that is down gets the write anyway: a node
         * that restarted is usable at once (it is a cache, it starts empty). */
        mb = s->members[0];
    }
    if (mb == NULL && (m->flags & MSG_READTHRU)) {
        readthru_get(m, false); /* the shard is down: straight from the database */
        return;
    }
    if (mb == NULL) {
        fail_shard(m, s);
        return;
    }
    proxy.stats[STAT_forwarded_requests]++;
    back_send(mb->conn, m);
}

/* Routes by the request's keys: all must share a slot in partitioned mode. */
static void
route_keyed(struct front *c, struct msg *m, const struct pcmd *cmd)
{
    int pos[FRONT_KEYS_MAX];
    int n = cmdtab_keys(cmd, c->conn.argv, c->conn.argc, pos, FRONT_KEYS_MAX);

    if (n < 0) {
        front_answer_error(m, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (n == 0) {
        front_route_shard(m, router->shards[0]);
        return;
    }
    unsigned slot = slot_of(c->conn.argv[pos[0]].data, c->conn.argv[pos[0]].len);
    for (int i = 1; i < n; i++) {
        unsigned other = slot_of(c->conn.argv[pos[i]].data, c->conn.argv[pos[i]].len);
        if (other != slot && router->mode == MODE_PARTITIONED) {
            front_answer_error(m, ERR_CROSSSLOT);
            return;
        }
    }
    m->slot = (int32_t)slot;
    front_route_shard(m, router_shard_of(slot));
}

static void
refuse(struct msg *m, const struct pcmd *cmd)
{
    char text[256];
    snprintf(text, sizeof(text), "ERR slotcache-proxy: '%s' is not supported through the proxy: %s",
             cmd->name, cmd->refusal != NULL ? cmd->refusal : "not proxied");
    front_answer_error(m, text);
}

static const struct pcmd *cmd_get; /* GET counts hits and may read through */
static const struct pcmd *cmd_resetstat; /* resets the proxy's figures, then the nodes' */

void
front_setup(void)
{
    cmd_get = cmdtab_find("get");
    cmd_resetstat = cmdtab_find("config|resetstat");
}

static void
dispatch(struct front *c, struct msg *m)
{
    const struct pcmd *cmd = cmdtab_lookup(c->conn.argv, c->conn.argc);

    c->lastcmd = cmd;
    if (cmd == NULL) {
        reply_unknown_command(&out, c->conn.argv, c->conn.argc);
        front_answer(m);
        return;
    }
    if (!cmdtab_arity_ok(cmd, c->conn.argc)) {
        reply_arity(&out, cmd->name);
        front_answer(m);
        local_flag_tx_error(c);
        return;
    }
    if (!(c->conn.flags & CONN_AUTHED) && !(cmd->flags & PCMD_NOAUTH)) {
        front_answer_error(m, ERR_NOAUTH);
        return;
    }
    char noperm[160];
    if (!acl_allows(c->user, cmd, c->conn.argv, c->conn.argc, noperm, sizeof(noperm))) {
        front_answer_error(m, noperm);
        local_flag_tx_error(c); /* as redis: EXEC then aborts */
        return;
    }
    if ((c->conn.flags & FRONT_MULTI) && local_tx_queues(cmd)) {
        local_tx_queue(c, m, cmd);
        return;
    }
    if (cmd->flags & PCMD_WRITE) {
        m->flags |= MSG_WRITE;
    }
    if (cmd == cmd_resetstat) {
        proxy_reset_stats();
    }
    if (cmd == cmd_get) {
        /* The key is the last word of the request bytes (client's or
         * re-encoded), so it stays valid as long as m holds them. */
        m->flags |= MSG_GET;
        m->klen = (uint32_t)c->conn.argv[1].len;
        m->key = m->req.p + m->req.len - 2 - m->klen;
        readthru_mark(m);
    }
    switch (cmd->route) {
    case ROUTE_KEY:
    case ROUTE_NUMKEYS:
        route_keyed(c, m, cmd);
        break;
    case ROUTE_KEYLESS:
        front_route_shard(m, router->shards[0]);
        break;
    case ROUTE_LOCAL:
        local_command(c, m, cmd);
        break;
    case ROUTE_REFUSE:
        refuse(m, cmd);
        break;
    default:
        multikey_command(c, m, cmd);
        break;
    }
}

/* The request as multibulk bytes: the client's own bytes when it sent
 * multibulk, re-encoded when it sent an inline command. */
static void
set_request_bytes(struct front *c, struct msg *m, char *base)
{
    if (c->conn.req.kind == RESP_REQ_MULTIBULK) {
        m->req = seg_of(c->conn.rbuf, base, c->conn.req.pos);
        return;
    }
    resp_add_array(&out, (size_t)c->conn.argc);
    for (int i = 0; i < c->conn.argc; i++) {
        resp_add_bulk(&out, c->conn.argv[i].data, c->conn.argv[i].len);
    }
    m->req = front_take_out();
    m->flags |= MSG_INLINE;
}

static struct msg *
new_msg(struct front *c)
{
    struct msg *m = msg_get();

    m->client = c;
    m->on_done = front_msg_done;
    m->arrived_us = (uint64_t)proxy_now_us();
    if (c->qtail != NULL) {
        c->qtail->cnext = m;
    } else {
        c->qhead = m;
    }
    c->qtail = m;
    c->nq++;
    return m;
}

static void
process_input(struct front *c)
{
    while (c->conn.rbuf != NULL && buf_rsize(c->conn.rbuf) > 0 &&
           !(c->conn.flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSE_ASAP))) {
        char *base = buf_rptr(c->conn.rbuf);
        c->conn.req.max_bulk_len = proxy.opt.proto_max_bulk_len;
        enum resp_status st = resp_req_parse(&c->conn.req, base, buf_rsize(c->conn.rbuf));
        if (st == RESP_INCOMPLETE) {
            break;
        }
        if (st == RESP_EPROTO) {
            struct msg *m = new_msg(c);
            resp_add_errorf(&out, ERR_PROTOCOL_FMT, c->conn.req.errstr);
            front_answer(m);
            c->conn.flags |= CONN_CLOSE_AFTER_REPLY;
            conn_stop_reading(&proxy.conns, &c->conn);
            break;
        }
        if (c->conn.req.argc > 0) {
            struct msg *m = new_msg(c);
            conn_set_argv(&c->conn, base);
            set_request_bytes(c, m, base);
            dispatch(c, m);
        }
        conn_consume_request(&c->conn);
    }
}

/* The bytes just appended to c->conn.rbuf: enforce the query buffer limit, run
 * every whole request, drop the buffer when all of it is consumed. */
static void
after_read(struct front *c)
{
    c->conn.last_io_ms = proxy_now_ms();
    if (conn_over_query_limit(&c->conn, proxy.opt.query_buffer_limit)) {
        log_warn("Closing client that reached max query buffer length: id=%llu addr=%s",
                 (unsigned long long)c->conn.id, c->conn.addr);
        proxy.stats[STAT_client_query_buffer_limit_disconnections]++;
        front_close_async(c);
        return;
    }
    process_input(c);
    if (c->conn.rbuf != NULL && buf_rsize(c->conn.rbuf) == 0) {
        /* Requests still point into it until written to their nodes. */
        buf_return(&c->conn.rbuf);
    }
}

int
front_feed(struct front *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0 && !(c->conn.flags & (CONN_CLOSE_ASAP | CONN_CLOSE_AFTER_REPLY))) {
        if (conn_reserve_read(&c->conn) != SC_OK) {
            return SC_ENOMEM;
        }
        size_t n = MIN(len, buf_wsize(c->conn.rbuf));
        memcpy(buf_wptr(c->conn.rbuf), p, n);
        c->conn.rbuf->wpos += (uint32_t)n;
        p += n;
        len -= n;
        after_read(c);
    }
    return SC_OK;
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct front *c = front_of(container_of(w, struct conn, rd));

    (void)loop;
    (void)revents;
    if (conn_reserve_read(&c->conn) != SC_OK) {
        front_close_async(c);
        return;
    }
    ssize_t n = conn_read(&c->conn, buf_wptr(c->conn.rbuf), buf_wsize(c->conn.rbuf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        front_close_async(c);
        return;
    }
    c->conn.rbuf->wpos += (uint32_t)n;
    proxy.stats[STAT_total_net_input_bytes] += (uint64_t)n;
    after_read(c);
}

void
front_describe(struct front *c, struct sbuf *s)
{
    long long now = proxy_now_ms();

    sbuf_printf(s,
                "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 "
                "multi=%d qbuf=%zu pending=%u cmd=%s user=%s resp=%d",
                (unsigned long long)c->conn.id, c->conn.addr, c->conn.laddr, c->conn.fd, c->conn.name != NULL ? c->conn.name : "",
                (now - c->conn.ctime_ms) / 1000, (now - c->conn.last_io_ms) / 1000,
                c->conn.flags & FRONT_MULTI ? "x" : "N", local_tx_count(c),
                c->conn.rbuf != NULL ? buf_rsize(c->conn.rbuf) : (size_t)0, c->nq,
                c->lastcmd != NULL ? c->lastcmd->name : "NULL", c->user->name, c->conn.resp);
}
