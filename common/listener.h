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
 * refuses it: "-ERR max number of clients reached" for RESP servers), and
 * takes the spare back.  So a client gets an answer, not a hang, and the
 * clients already connected keep working.  If the spare is lost too, the
 * listener pauses; the owner resumes it when a connection closes.
 */
#pragma once

#include "common/net.h"

#include <ev.h>
#include <stdbool.h>

#define LISTENER_MAX 16
#define LISTENER_ACCEPTS_PER_CALL 1000

typedef void listener_conn_fn(int fd, const char *peer);

struct listener {
    struct ev_loop *loop;
    int fd[LISTENER_MAX];
    ev_io io[LISTENER_MAX];
    int n;
    int port; /* the port listened on (port 0 picks a free one) */
    bool paused;
    int spare_fd; /* held for accepting when descriptors run out; -1 if lost */
    listener_conn_fn *on_conn;
    listener_conn_fn *on_full; /* set by the owner; NULL: such connections are just closed */
};

int listener_open(struct listener *l, struct ev_loop *loop, const char *bind, int port,
                  int backlog, listener_conn_fn *on_conn, char *err, size_t errlen);
void listener_close(struct listener *l);
/* After a connection closed: accept again if EMFILE had paused us. */
void listener_resume(struct listener *l);
/* Writes msg and closes fd: refusing a connection (maxclients).  msg NULL
 * only closes: a TLS connection, to which nothing can be written before its
 * handshake (redis too just drops it). */
void listener_refuse(int fd, const char *msg);
/* Whether addr ("ip:port") is a loopback address. */
bool listener_is_loopback(const char *addr);
