/*
 * listener.h -- the listening sockets of a server and its accept loop.
 *
 * bind is redis's: addresses separated by spaces, a leading '-' marking one
 * that may fail (an absent IPv6 stack).  Connections are accepted until the
 * socket is drained (at most LISTENER_ACCEPTS_PER_CALL per wake-up) and
 * handed to on_conn, non-blocking and with TCP_NODELAY.
 *
 * Out of descriptors (EMFILE, ENFILE), a connection cannot even be accepted
 * to be told so, and a listening socket that stays readable would make the
 * loop spin.  The listener keeps one spare descriptor (libev's manual, "the
 * special problem of accept()ing when you can't"): it closes the spare,
 * accepts the waiting connection into its place, hands it to on_full (which
 * refuses it: "-ERR max number of clients reached" for RESP servers; on a
 * TLS port, where nothing can be written before a handshake, a bare close),
 * and takes the spare back.  So a client gets an answer, not a hang, and the
 * clients already connected keep working.  If the spare is lost too, the
 * listener pauses; the owner resumes it when a connection closes.
 */
#pragma once

#include "common/net.h"

#include <ev.h>
#include <stdbool.h>

#define LISTENER_MAX 16
#define LISTENER_ACCEPTS_PER_CALL 1000

struct tls_ctx;

/* A connection accepted on fd from peer; tls is the context of the TLS
 * port it came to (NULL on a plain port), for the callee's tls_create. */
typedef void listener_conn_fn(int fd, const char *peer, struct tls_ctx *tls);

struct listener {
    struct ev_loop *loop;
    int fd[LISTENER_MAX];
    ev_io io[LISTENER_MAX];
    int n;
    int port; /* the port listened on (port 0 picks a free one) */
    bool paused;
    int spare_fd; /* held for accepting when descriptors run out; -1 if lost */
    struct tls_ctx *tls; /* a TLS port's context (not owned); NULL: plain */
    listener_conn_fn *on_conn;
    listener_conn_fn *on_full; /* set by the owner; NULL: such connections are just closed */
};

/* Listens on port at every address of bind; tls: a TLS port. */
int listener_open(struct listener *l, struct ev_loop *loop, const char *bind, int port, int backlog,
                  struct tls_ctx *tls, listener_conn_fn *on_conn, char *err, size_t errlen);
/* The plain and the TLS port of a server, as redis reads port and
 * tls-port: a TLS listener (secure, with tls) if tls_port > 0, a plain one
 * (plain) if port > 0 -- or if tls_port is 0 too, port 0 then picking a
 * free port (tests rely on it).  A listener not opened has n == 0.  err
 * says which port failed. */
int listener_open_ports(struct listener *plain, struct listener *secure, struct ev_loop *loop,
                        const char *bind, int port, int tls_port, struct tls_ctx *tls, int backlog,
                        listener_conn_fn *on_conn, char *err, size_t errlen);
void listener_close(struct listener *l);
/* After a connection closed: accept again if EMFILE had paused us. */
void listener_resume(struct listener *l);
/* Writes msg and closes fd: refusing a connection (maxclients).  With a
 * TLS port's context (tls not NULL), or msg NULL, it only closes: nothing
 * can be written to a TLS connection before its handshake (redis too just
 * drops it), and the loader's protocol has nothing to answer before a
 * request. */
void listener_refuse(int fd, const struct tls_ctx *tls, const char *msg);
/* Whether addr ("ip:port") is a loopback address. */
bool listener_is_loopback(const char *addr);
