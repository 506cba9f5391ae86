/*
 * client.c -- see client.h.
 */
#include "node/client.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sbuf.h"
#include "node/cmd.h"
#include "node/multi.h"
#include "node/server.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define CLIENT_READ_LEN (16 * 1024) /* redis PROTO_IOBUF_LEN */
#define CLIENT_IOV_MAX 64

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

struct client *
client_create(int fd, const char *peer)
{
    struct client *c = mem_calloc(1, sizeof(*c));

    c->fd = fd;
    c->id = ++server.next_client_id;
    c->resp = 2;
    c->ctime = c->last_io = clock_now_ms();
    snprintf(c->addr, sizeof(c->addr), "%s", peer);
    net_local_name(fd, c->laddr, sizeof(c->laddr));
    resp_req_init(&c->req, server.opt.proto_max_bulk_len);
    if (server.opt.requirepass == NULL || server.opt.requirepass[0] == '\0') {
        c->flags |= CLIENT_AUTHED;
    }
    c->req.unauth = !(c->flags & CLIENT_AUTHED);
    if (server.opt.tcp_keepalive > 0) {
        net_set_keepalive(fd, (int)server.opt.tcp_keepalive);
    }

    ev_io_init(&c->rd, on_readable, fd, EV_READ);
    ev_io_init(&c->wr, on_writable, fd, EV_WRITE);
    ev_io_start(server.loop, &c->rd);

    c->next = server.clients;
    if (server.clients != NULL) {
        server.clients->prev = c;
    }
    server.clients = c;
    server.nclients++;
    return c;
}

void
client_free(struct client *c)
{
    ev_io_stop(server.loop, &c->rd);
    ev_io_stop(server.loop, &c->wr);
    close(c->fd);
    multi_client_free(c);
    buf_return(&c->qbuf);
    bufq_clear(&c->reply);
    resp_req_deinit(&c->req);
    mem_free(c->argv);
    mem_free(c->name);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        server.clients = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    server.nclients--;
    mem_free(c);
}

void
client_close_async(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) {
        return;
    }
    c->flags |= CLIENT_CLOSE_ASAP;
    ev_io_stop(server.loop, &c->rd);
    ev_io_stop(server.loop, &c->wr);
    c->close_next = server.to_close;
    server.to_close = c;
}

void
client_queue_write(struct client *c)
{
    if (!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_CLOSE_ASAP)) && !bufq_empty(&c->reply)) {
        c->flags |= CLIENT_PENDING_WRITE;
        c->pending_next = server.pending_write;
        server.pending_write = c;
    }
}

void
client_write(struct client *c)
{
    struct iovec iov[CLIENT_IOV_MAX];

    while (!bufq_empty(&c->reply)) {
        int n = bufq_iov(&c->reply, iov, CLIENT_IOV_MAX);
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                if (!(c->flags & CLIENT_WRITING)) {
                    c->flags |= CLIENT_WRITING;
                    ev_io_start(server.loop, &c->wr);
                }
                return;
            }
            log_verbose("Error writing to client %s: %s", c->addr, strerror(errno));
            client_close_async(c);
            return;
        }
        bufq_consume(&c->reply, (size_t)w);
        server.stats[STAT_total_net_output_bytes] += (uint64_t)w;
        c->last_io = clock_now_ms();
    }
    if (c->flags & CLIENT_WRITING) {
        c->flags &= ~CLIENT_WRITING;
        ev_io_stop(server.loop, &c->wr);
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
        client_close_async(c);
    }
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = container_of(w, struct client, wr);

    (void)loop;
    (void)revents;
    client_write(c);
}

bool
client_check_output_limits(struct client *c)
{
    size_t used = c->reply.bytes;
    bool hard = server.opt.obuf_hard > 0 && used >= server.opt.obuf_hard;
    bool soft = false;

    if (server.opt.obuf_soft > 0 && used >= server.opt.obuf_soft) {
        long long now = clock_now_ms();
        if (c->obuf_soft_since == 0) {
            c->obuf_soft_since = now;
        } else if (now - c->obuf_soft_since >= server.opt.obuf_soft_seconds * 1000) {
            soft = true;
        }
    } else {
        c->obuf_soft_since = 0;
    }
    if (!hard && !soft) {
        return false;
    }
    log_warn("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output "
             "buffer limits.",
             (unsigned long long)c->id, c->addr);
    server.stats[STAT_client_output_buffer_limit_disconnections]++;
    /* Its replies are lost anyway: free them now, not after a flush. */
    bufq_clear(&c->reply);
    client_close_async(c);
    return true;
}

/* Points argv at the words of the request that starts at base. */
static void
set_argv(struct client *c, char *base)
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

/* Runs every whole request in qbuf. */
static void
process_input(struct client *c)
{
    while (c->qbuf != NULL && buf_rsize(c->qbuf) > 0 &&
           !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))) {
        char *base = buf_rptr(c->qbuf);
        /* CONFIG SET proto-max-bulk-len applies to connections already open. */
        c->req.max_bulk_len = server.opt.proto_max_bulk_len;
        enum resp_status st = resp_req_parse(&c->req, base, buf_rsize(c->qbuf));

        if (st == RESP_INCOMPLETE) {
            break;
        }
        if (st == RESP_EPROTO) {
            client_reply_errorf(c, ERR_PROTOCOL_FMT, c->req.errstr);
            log_verbose("Protocol error (%s) from client: id=%llu addr=%s", c->req.errstr,
                        (unsigned long long)c->id, c->addr);
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            break;
        }
        if (c->req.argc > 0) {
            set_argv(c, base);
            cmd_dispatch(c);
            c->cmd = NULL;
            client_check_output_limits(c);
        }
        c->qbuf->rpos += c->req.pos;
        resp_req_reset(&c->req);
        c->req.unauth = !(c->flags & CLIENT_AUTHED);
    }
    if (c->qbuf != NULL && buf_rsize(c->qbuf) == 0) {
        buf_return(&c->qbuf); /* idle clients hold no buffer */
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
        ev_io_stop(server.loop, &c->rd);
    }
    client_queue_write(c);
}

/* Room to read into: a chunk normally, the rest of a big argument when the
 * parser knows one is coming (read it in few reads, allocate it once). */
static int
reserve_read(struct client *c)
{
    if (c->qbuf == NULL) {
        c->qbuf = buf_borrow();
    }
    size_t need = resp_req_need(&c->req);
    size_t have = buf_rsize(c->qbuf);
    size_t want = need > have ? need - have : CLIENT_READ_LEN;

    if (want > CLIENT_READ_LEN && want > buf_wsize(c->qbuf)) {
        /* Grow towards the big argument by doubling, not in one step: a
         * client that only claims 512 MB does not get 512 MB. */
        size_t step = MAX((size_t)c->qbuf->cap, (size_t)CLIENT_READ_LEN);
        want = MIN(want, step);
    }
    if (buf_wsize(c->qbuf) >= MIN(want, (size_t)CLIENT_READ_LEN / 4) && buf_wsize(c->qbuf) > 0) {
        return SC_OK;
    }
    return buf_try_reserve(&c->qbuf, want);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = container_of(w, struct client, rd);

    (void)loop;
    (void)revents;
    if (reserve_read(c) != SC_OK) {
        log_warn("Closing client id=%llu addr=%s: no memory for its request",
                 (unsigned long long)c->id, c->addr);
        client_close_async(c);
        return;
    }
    ssize_t n = read(c->fd, buf_wptr(c->qbuf), buf_wsize(c->qbuf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        if (n < 0) {
            log_verbose("Reading from client: %s", strerror(errno));
        }
        client_close_async(c);
        return;
    }
    c->qbuf->wpos += (uint32_t)n;
    c->last_io = clock_now_ms();
    server.stats[STAT_total_net_input_bytes] += (uint64_t)n;
    /* As redis, count only what is not parsed yet: the arguments of a long
     * request already read are not "query buffer" there either. */
    if (buf_rsize(c->qbuf) - c->req.pos > server.opt.query_buffer_limit) {
        log_warn("Closing client that reached max query buffer length: id=%llu addr=%s "
                 "qbuf=%zu",
                 (unsigned long long)c->id, c->addr, buf_rsize(c->qbuf));
        server.stats[STAT_client_query_buffer_limit_disconnections]++;
        client_close_async(c);
        return;
    }
    process_input(c);
}

void
client_count_error(struct client *c)
{
    (void)c;
    server.stats[STAT_total_error_replies]++;
}

void
client_reply_error(struct client *c, const char *err)
{
    resp_add_error(&c->reply, err, strlen(err));
    client_count_error(c);
}

void
client_reply_errorf(struct client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    resp_add_error(&c->reply, msg, n < 0 ? 0 : MIN((size_t)n, sizeof(msg) - 1));
    client_count_error(c);
}

/* "<CMD> <subcommand> ..." and the lines, as redis's addReplyHelp: the
 * command name is the client's first word, uppercased. */
void
client_reply_help(struct client *c, const char *const *lines)
{
    char head[128];
    size_t n = 0, cmdlen = MIN(c->argv[0].len, 32);

    while (lines[n] != NULL) {
        n++;
    }
    for (size_t i = 0; i < cmdlen; i++) {
        head[i] = (char)toupper((unsigned char)c->argv[0].data[i]);
    }
    snprintf(head + cmdlen, sizeof(head) - cmdlen,
             " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    client_reply_array(c, n + 3);
    client_reply_simple(c, head);
    for (size_t i = 0; i < n; i++) {
        client_reply_simple(c, lines[i]);
    }
    client_reply_simple(c, "HELP");
    client_reply_simple(c, "    Prints this help.");
}

void
client_reply_arity(struct client *c)
{
    reply_arity(&c->reply, c->cmd->name);
    client_count_error(c);
}

static void
flags_string(const struct client *c, char *buf)
{
    char *p = buf;

    if (c->flags & CLIENT_MULTI) {
        *p++ = 'x';
    }
    if (c->flags & CLIENT_DIRTY_CAS) {
        *p++ = 'd';
    }
    if (c->flags & CLIENT_CLOSE_ASAP) {
        *p++ = 'A';
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
        *p++ = 'c';
    }
    if (p == buf) {
        *p++ = 'N';
    }
    *p = '\0';
}

void
client_describe(struct client *c, struct sbuf *s)
{
    char flags[16];
    long long now = clock_now_ms();
    size_t qbuf = c->qbuf != NULL ? buf_rsize(c->qbuf) : 0;
    size_t qfree = c->qbuf != NULL ? buf_wsize(c->qbuf) : 0;
    size_t qmem = c->qbuf != NULL ? c->qbuf->cap + sizeof(struct buf) : 0;
    size_t omem = bufq_mem(&c->reply);
    size_t multi_mem = multi_client_mem(c);

    flags_string(c, flags);
    sbuf_printf(s,
                "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 sub=0 "
                "psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu "
                "rbs=%zu rbp=%zu obl=%zu oll=%u omem=%zu tot-mem=%zu events=r%s cmd=%s "
                "user=default redir=-1 resp=%d",
                (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name != NULL ? c->name : "",
                (now - c->ctime) / 1000, (now - c->last_io) / 1000, flags,
                multi_client_queued(c), qbuf, qfree, (size_t)0, multi_mem, qmem, qbuf,
                c->reply.head != NULL ? buf_rsize(c->reply.head) : (size_t)0, c->reply.nbuf,
                omem, sizeof(*c) + qmem + omem + multi_mem, c->flags & CLIENT_WRITING ? "w" : "",
                c->lastcmd != NULL ? c->lastcmd->name : "NULL", c->resp);
}
