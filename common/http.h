/*
 * http.h -- a minimal HTTP/1.0 responder on a libev loop, for /metrics.
 *
 * Each connection reads one request head (at most HTTP_HEAD_MAX bytes),
 * asks the handler for a body, writes "200 OK" (or 404) and closes.  It is
 * for Prometheus scrapes and curl, not for browsers: no keep-alive, no
 * request bodies, GET only.
 */
#pragma once

#include "common/sbuf.h"

#include <ev.h>
#include <stdbool.h>

#define HTTP_HEAD_MAX 8192

struct http_conn;

/* Fills body for path ("/metrics"); false means 404. */
typedef bool http_handler_fn(const char *path, struct sbuf *body, const char **content_type);

struct http_server {
    struct ev_loop *loop;
    int fd;
    ev_io accept_io;
    ev_timer retry; /* out of descriptors: accept_io rests until it fires */
    http_handler_fn *handler;
    int nconn;
    struct http_conn *conns; /* open connections, closed with the server */
};

/* Listens on host:port (port 0 picks one); SC_ERR with err set. */
int http_listen(struct http_server *h, struct ev_loop *loop, const char *host, int port,
                http_handler_fn *handler, char *err, size_t errlen);
void http_close(struct http_server *h);
int http_port(const struct http_server *h);
