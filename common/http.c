/*
 * http.c -- see http.h.
 */
#include "common/http.h"

#include "common/defs.h"
#include "common/mem.h"
#include "common/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HTTP_CONN_MAX 64        /* concurrent scrapes; more are refused */
#define HTTP_RETRY_ACCEPT_S 0.1 /* out of descriptors: try accepting again after this */

struct http_conn {
    ev_io io;
    struct http_conn *prev, *next;
    struct http_server *server;
    char head[HTTP_HEAD_MAX + 1];
    size_t len;
    struct sbuf out;
    size_t sent;
    bool writing;
};

static void
conn_close(struct http_conn *c)
{
    ev_io_stop(c->server->loop, &c->io);
    close(c->io.fd);
    c->server->nconn--;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        c->server->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    sbuf_free(&c->out);
    mem_free(c);
}

static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct http_conn *c = container_of(w, struct http_conn, io);

    (void)loop;
    (void)revents;
    while (c->sent < c->out.len) {
        ssize_t n = write(w->fd, c->out.data + c->sent, c->out.len - c->sent);
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            break;
        }
        c->sent += (size_t)n;
    }
    conn_close(c);
}

static void
respond(struct http_conn *c)
{
    char path[256] = "/";
    const char *type = "text/plain; charset=utf-8";
    struct sbuf body;
    bool found = false;

    sbuf_init(&body);
    if (sscanf(c->head, "GET %255s", path) == 1) {
        found = c->server->handler(path, &body, &type);
    }
    sbuf_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                found ? "200 OK" : "404 Not Found", type, found ? body.len : (size_t)10);
    if (found) {
        sbuf_add(&c->out, body.data != NULL ? body.data : "", body.len);
    } else {
        sbuf_adds(&c->out, "not found\n");
    }
    sbuf_free(&body);
    ev_io_stop(c->server->loop, &c->io);
    ev_io_set(&c->io, c->io.fd, EV_WRITE);
    ev_set_cb(&c->io, on_write);
    ev_io_start(c->server->loop, &c->io);
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct http_conn *c = container_of(w, struct http_conn, io);

    (void)loop;
    (void)revents;
    ssize_t n = read(w->fd, c->head + c->len, HTTP_HEAD_MAX - c->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->head[c->len] = '\0';
    if (strstr(c->head, "\r\n\r\n") != NULL || strstr(c->head, "\n\n") != NULL ||
        c->len == HTTP_HEAD_MAX) {
        respond(c);
    }
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct http_server *h = container_of(w, struct http_server, accept_io);

    (void)loop;
    (void)revents;
    for (;;) {
        int fd = net_accept(w->fd, NULL, 0);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* The scrape waits in the backlog: a listening socket that
             * stays readable would make the loop spin until a descriptor
             * comes free, so stop watching it for a while. */
            ev_io_stop(h->loop, &h->accept_io);
            /* set again: a one-shot timer that fired keeps no timeout */
            ev_timer_set(&h->retry, HTTP_RETRY_ACCEPT_S, 0.);
            ev_timer_start(h->loop, &h->retry);
            return;
        }
        if (fd < 0) {
            return;
        }
        if (h->nconn >= HTTP_CONN_MAX) {
            close(fd);
            continue;
        }
        struct http_conn *c = mem_calloc(1, sizeof(*c));
        c->server = h;
        sbuf_init(&c->out);
        h->nconn++;
        c->next = h->conns;
        if (h->conns != NULL) {
            h->conns->prev = c;
        }
        h->conns = c;
        ev_io_init(&c->io, on_read, fd, EV_READ);
        ev_io_start(h->loop, &c->io);
    }
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct http_server *h = container_of(w, struct http_server, retry);

    (void)revents;
    ev_io_start(loop, &h->accept_io);
}

int
http_listen(struct http_server *h, struct ev_loop *loop, const char *host, int port,
            http_handler_fn *handler, char *err, size_t errlen)
{
    int fd = net_listen(host, port, 128, err, errlen);

    if (fd < 0) {
        return SC_ERR;
    }
    h->loop = loop;
    h->fd = fd;
    h->handler = handler;
    h->nconn = 0;
    h->conns = NULL;
    ev_io_init(&h->accept_io, on_accept, fd, EV_READ);
    ev_io_start(loop, &h->accept_io);
    ev_init(&h->retry, on_retry);
    return SC_OK;
}

void
http_close(struct http_server *h)
{
    if (h->fd >= 0 && h->loop != NULL) {
        ev_io_stop(h->loop, &h->accept_io);
        ev_timer_stop(h->loop, &h->retry);
        close(h->fd);
        h->fd = -1;
    }
    while (h->conns != NULL) {
        conn_close(h->conns);
    }
}

int
http_port(const struct http_server *h)
{
    return net_local_port(h->fd);
}
