/*
 * listener.c -- see listener.h.
 */
#include "common/listener.h"

#include "common/defs.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct listener *l = w->data;

    (void)loop;
    (void)revents;
    for (int i = 0; i < LISTENER_ACCEPTS_PER_CALL; i++) {
        char peer[NET_ADDR_MAX];
        int fd = net_accept(w->fd, peer, sizeof(peer));
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                log_warn("Accepting client connection: %s; pausing accepts", strerror(errno));
                for (int k = 0; k < l->n; k++) {
                    ev_io_stop(l->loop, &l->io[k]);
                }
                l->paused = true;
            } else if (errno != EAGAIN && errno != ECONNABORTED) {
                log_verbose("Accepting client connection: %s", strerror(errno));
            }
            return;
        }
        l->on_conn(fd, peer);
    }
}

int
listener_open(struct listener *l, struct ev_loop *loop, const char *bind, int port, int backlog,
              listener_conn_fn *on_conn, char *err, size_t errlen)
{
    char *spec = mem_strdup(bind);
    char *save = NULL;

    memset(l, 0, sizeof(*l));
    l->loop = loop;
    l->on_conn = on_conn;
    l->port = port;
    for (char *h = strtok_r(spec, " ", &save); h != NULL && l->n < LISTENER_MAX;
         h = strtok_r(NULL, " ", &save)) {
        bool optional = h[0] == '-';
        int fd = net_listen(optional ? h + 1 : h, l->port, backlog, err, errlen);
        if (fd < 0) {
            if (optional) {
                continue;
            }
            mem_free(spec);
            listener_close(l);
            return SC_ERR;
        }
        l->port = net_local_port(fd); /* the others bind the same port */
        l->fd[l->n] = fd;
        ev_io_init(&l->io[l->n], on_accept, fd, EV_READ);
        l->io[l->n].data = l;
        ev_io_start(loop, &l->io[l->n]);
        l->n++;
    }
    mem_free(spec);
    if (l->n == 0) {
        snprintf(err, errlen, "no address to listen on (bind '%s')", bind);
        return SC_ERR;
    }
    return SC_OK;
}

void
listener_close(struct listener *l)
{
    if (l->loop == NULL) {
        return; /* never opened (a setup that failed before it) */
    }
    for (int i = 0; i < l->n; i++) {
        ev_io_stop(l->loop, &l->io[i]);
        close(l->fd[i]);
    }
    l->n = 0;
}

void
listener_resume(struct listener *l)
{
    if (!l->paused) {
        return;
    }
    for (int i = 0; i < l->n; i++) {
        ev_io_start(l->loop, &l->io[i]);
    }
    l->paused = false;
}

void
listener_refuse(int fd, const char *msg)
{
    ssize_t w = write(fd, msg, strlen(msg));
    (void)w; /* best effort: the connection is refused either way */
    close(fd);
}

bool
listener_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "::1:", 4) == 0;
}
