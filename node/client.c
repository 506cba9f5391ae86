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

#define CLIENT_IOV_MAX 64
/* Work one client gets per loop turn (memcached's reqs_per_event): a
 * pipeline whose replies are big (GETs of large values) or many is run in
 * slices, so other clients are served and the replies already made go out
 * in between, instead of one client holding the loop while it builds
 * hundreds of megabytes of replies. */
#define CLIENT_TURN_REQUESTS 1000
#define CLIENT_TURN_REPLY_BYTES (1024 * 1024)

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_writable(struct ev_loop *loop, ev_io *w, int revents);
static void process_input(struct client *c);

/* Clients whose turn ran out with input left: the check watcher runs their
 * next turn after each poll, once the replies of this one were flushed
 * (before sleeping) and other clients had their events; the idle watcher
 * keeps the poll from blocking while the list is not empty.  A client on
 * the list is not read from: what it sends meanwhile waits in the kernel
 * (or in its TLS session), so its query buffer holds one read's worth, as
 * redis's does.  Reading resumes through conn_start_reading, which also
 * reads what a TLS session already holds: no socket event would say so. */
static struct {
    struct client *head;
    ev_check run;
    ev_idle nowait;
} resume;

static void
on_resume(struct ev_loop *loop, ev_check *w, int revents)
{
    struct client *c = resume.head;

    (void)w;
    (void)revents;
    resume.head = NULL;
    while (c != NULL) {
        struct client *next = c->resume_next;
        c->conn.flags &= ~CLIENT_RESUME;
        c->resume_next = NULL;
        process_input(c);
        if (!(c->conn.flags & (CLIENT_RESUME | CONN_CLOSE_AFTER_REPLY | CONN_CLOSE_ASAP))) {
            conn_start_reading(&server.conns, &c->conn);
        }
        c = next;
    }
    if (resume.head == NULL) {
        ev_idle_stop(loop, &resume.nowait);
    }
}

static void
on_nowait(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static void
schedule_resume(struct client *c)
{
    if (c->conn.flags & CLIENT_RESUME) {
        return;
    }
    c->conn.flags |= CLIENT_RESUME;
    c->resume_next = resume.head;
    resume.head = c;
    conn_stop_reading(&server.conns, &c->conn);
    ev_idle_start(server.loop, &resume.nowait);
}

static void
cancel_resume(struct client *c)
{
    if (!(c->conn.flags & CLIENT_RESUME)) {
        return;
    }
    for (struct client **p = &resume.head; *p != NULL; p = &(*p)->resume_next) {
        if (*p == c) {
            *p = c->resume_next;
            break;
        }
    }
    c->conn.flags &= ~CLIENT_RESUME;
}

void
client_setup(struct ev_loop *loop)
{
    ev_check_init(&resume.run, on_resume);
    ev_check_start(loop, &resume.run);
    ev_idle_init(&resume.nowait, on_nowait);
}

void
client_teardown(struct ev_loop *loop)
{
    ev_check_stop(loop, &resume.run);
    ev_idle_stop(loop, &resume.nowait);
    resume.head = NULL;
}

struct client *
client_create(int fd, struct tls *tls, const char *peer)
{
    struct client *c = mem_calloc(1, sizeof(*c));
    bool authed = server.opt.requirepass == NULL || server.opt.requirepass[0] == '\0';

    conn_init(&server.conns, &c->conn, fd, tls, peer, authed, server.opt.proto_max_bulk_len,
              server.opt.tcp_keepalive, clock_now_ms(), on_readable, on_writable);
    return c;
}

void
client_free(struct client *c)
{
    cancel_resume(c);
    multi_client_free(c);
    bufq_clear(&c->reply);
    conn_deinit(&server.conns, &c->conn);
    mem_free(c);
}

void
client_close_async(struct client *c)
{
    conn_close_async(&server.conns, &c->conn);
}

void
client_queue_write(struct client *c)
{
    if (!bufq_empty(&c->reply)) {
        conn_queue_write(&server.conns, &c->conn);
    }
}

void
client_write(struct client *c)
{
    struct iovec iov[CLIENT_IOV_MAX];

    while (!bufq_empty(&c->reply)) {
        int n = bufq_iov(&c->reply, iov, CLIENT_IOV_MAX);
        ssize_t w = conn_writev(&c->conn, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                conn_want_write(&server.conns, &c->conn, true);
                return;
            }
            log_verbose("Error writing to client %s: %s", c->conn.addr, strerror(errno));
            client_close_async(c);
            return;
        }
        bufq_consume(&c->reply, (size_t)w);
        server.stats[STAT_total_net_output_bytes] += (uint64_t)w;
        c->conn.last_io_ms = clock_now_ms();
    }
    conn_want_write(&server.conns, &c->conn, false);
    if (c->conn.flags & CONN_CLOSE_AFTER_REPLY) {
        client_close_async(c);
    }
}

static void
on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = client_of(container_of(w, struct conn, wr));

    (void)loop;
    (void)revents;
    client_write(c);
}

bool
client_check_output_limits(struct client *c)
{
    if (!obuf_reached(&server.opt.obuf[OBUF_NORMAL], c->reply.bytes, clock_now_ms(),
                      &c->obuf_soft_since)) {
        return false;
    }
    log_warn("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output "
             "buffer limits.",
             (unsigned long long)c->conn.id, c->conn.addr);
    server.stats[STAT_client_output_buffer_limit_disconnections]++;
    /* Its replies are lost anyway: free them now, not after a flush. */
    bufq_clear(&c->reply);
    client_close_async(c);
    return true;
}

/* Whether c has had its share of this loop turn: then the rest of its
 * input waits for its next one. */
static bool
turn_used(struct client *c, int requests, size_t reply_before)
{
    if (requests < CLIENT_TURN_REQUESTS &&
        c->reply.bytes < reply_before + CLIENT_TURN_REPLY_BYTES) {
        return false;
    }
    schedule_resume(c);
    return true;
}

/* Runs the whole requests in qbuf, up to a turn's share. */
static void
process_input(struct client *c)
{
    size_t reply_before = c->reply.bytes;
    int requests = 0;

    while (c->conn.rbuf != NULL && buf_rsize(c->conn.rbuf) > 0 &&
           !(c->conn.flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSE_ASAP)) &&
           !turn_used(c, requests, reply_before)) {
        char *base = buf_rptr(c->conn.rbuf);
        /* CONFIG SET proto-max-bulk-len applies to connections already open. */
        c->conn.req.max_bulk_len = server.opt.proto_max_bulk_len;
        enum resp_status st = resp_req_parse(&c->conn.req, base, buf_rsize(c->conn.rbuf));

        if (st == RESP_INCOMPLETE) {
            break;
        }
        if (st == RESP_EPROTO) {
            client_reply_errorf(c, ERR_PROTOCOL_FMT, c->conn.req.errstr);
            log_verbose("Protocol error (%s) from client: id=%llu addr=%s", c->conn.req.errstr,
                        (unsigned long long)c->conn.id, c->conn.addr);
            c->conn.flags |= CONN_CLOSE_AFTER_REPLY;
            break;
        }
        if (c->conn.req.argc > 0) {
            conn_set_argv(&c->conn, base);
            cmd_dispatch(c);
            c->cmd = NULL;
            client_check_output_limits(c);
            requests++;
        }
        conn_consume_request(&c->conn);
    }
    if (c->conn.rbuf != NULL && buf_rsize(c->conn.rbuf) == 0) {
        buf_return(&c->conn.rbuf); /* idle clients hold no buffer */
    }
    if (c->conn.flags & CONN_CLOSE_AFTER_REPLY) {
        conn_stop_reading(&server.conns, &c->conn);
    }
    client_queue_write(c);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = client_of(container_of(w, struct conn, rd));

    (void)loop;
    (void)revents;
    if (conn_reserve_read(&c->conn) != SC_OK) {
        log_warn("Closing client id=%llu addr=%s: no memory for its request",
                 (unsigned long long)c->conn.id, c->conn.addr);
        client_close_async(c);
        return;
    }
    ssize_t n = conn_read(&c->conn, buf_wptr(c->conn.rbuf), buf_wsize(c->conn.rbuf));
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
    c->conn.rbuf->wpos += (uint32_t)n;
    c->conn.last_io_ms = clock_now_ms();
    server.stats[STAT_total_net_input_bytes] += (uint64_t)n;
    if (conn_over_query_limit(&c->conn, server.opt.query_buffer_limit)) {
        log_warn("Closing client that reached max query buffer length: id=%llu addr=%s "
                 "qbuf=%zu",
                 (unsigned long long)c->conn.id, c->conn.addr, buf_rsize(c->conn.rbuf));
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
    size_t n = 0, cmdlen = MIN(c->conn.argv[0].len, 32);

    while (lines[n] != NULL) {
        n++;
    }
    for (size_t i = 0; i < cmdlen; i++) {
        head[i] = (char)toupper((unsigned char)c->conn.argv[0].data[i]);
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

    if (c->conn.flags & CLIENT_MULTI) {
        *p++ = 'x';
    }
    if (c->conn.flags & CLIENT_DIRTY_CAS) {
        *p++ = 'd';
    }
    if (c->conn.flags & CONN_CLOSE_ASAP) {
        *p++ = 'A';
    }
    if (c->conn.flags & CONN_CLOSE_AFTER_REPLY) {
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
    size_t qbuf = c->conn.rbuf != NULL ? buf_rsize(c->conn.rbuf) : 0;
    size_t qfree = c->conn.rbuf != NULL ? buf_wsize(c->conn.rbuf) : 0;
    size_t qmem = c->conn.rbuf != NULL ? c->conn.rbuf->cap + sizeof(struct buf) : 0;
    size_t omem = bufq_mem(&c->reply);
    size_t multi_mem = multi_client_mem(c);

    flags_string(c, flags);
    sbuf_printf(s,
                "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 sub=0 "
                "psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu "
                "rbs=%zu rbp=%zu obl=%zu oll=%u omem=%zu tot-mem=%zu events=r%s cmd=%s "
                "user=default redir=-1 resp=%d",
                (unsigned long long)c->conn.id, c->conn.addr, c->conn.laddr, c->conn.fd, c->conn.name != NULL ? c->conn.name : "",
                (now - c->conn.ctime_ms) / 1000, (now - c->conn.last_io_ms) / 1000, flags,
                multi_client_queued(c), qbuf, qfree, (size_t)0, multi_mem, qmem, qbuf,
                c->reply.head != NULL ? buf_rsize(c->reply.head) : (size_t)0, c->reply.nbuf,
                omem, sizeof(*c) + qmem + omem + multi_mem, c->conn.flags & CONN_WRITING ? "w" : "",
                c->lastcmd != NULL ? c->lastcmd->name : "NULL", c->conn.resp);
}
