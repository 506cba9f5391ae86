/*
 * listener.c -- see listener.h.
 */
#include "common/listener.h"

#include "common/defs.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
open_spare(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
pause_accepts(struct listener *l)
{
    for (int k = 0; k < l->n; k++) {
        ev_io_stop(l->loop, &l->io[k]);
    }
    l->paused = true;
}

/* Out of descriptors: accepts one waiting connection in the spare's place
 * and hands it to on_full.  SC_OK: done, the spare is back for the next
 * one; SC_EAGAIN: nobody was waiting after all; SC_ERR: no spare (errno
 * says why), the caller pauses. */
static int
accept_with_spare(struct listener *l, int lfd)
{
    char peer[NET_ADDR_MAX];

    if (l->spare_fd < 0) {
        return SC_ERR;
    }
    close(l->spare_fd);
    int fd = net_accept(lfd, peer, sizeof(peer));
    int accept_errno = errno;
    if (fd >= 0) {
        if (l->on_full != NULL) {
            l->on_full(fd, peer, l->tls);
        } else {
            close(fd);
        }
    }
    l->spare_fd = open_spare();
    if (l->spare_fd < 0) {
        return SC_ERR;
    }
    if (fd < 0) {
        errno = accept_errno;
        return accept_errno == EMFILE || accept_errno == ENFILE ? SC_ERR : SC_EAGAIN;
    }
    return SC_OK;
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct listener *l = w->data;

    (void)loop;
    (void)revents;
    for (int i = 0; i < LISTENER_ACCEPTS_PER_CALL; i++) {
        char peer[NET_ADDR_MAX];
        int fd = net_accept(w->fd, peer, sizeof(peer));
        if (fd >= 0) {
            l->on_conn(fd, peer, l->tls);
            continue;
        }
        if (errno != EMFILE && errno != ENFILE) {
            if (errno != EAGAIN && errno != ECONNABORTED) {
                log_verbose("Accepting client connection: %s", strerror(errno));
            }
            return;
        }
        int rc = accept_with_spare(l, w->fd);
        if (rc == SC_EAGAIN) {
            return;
        }
        if (rc != SC_OK) {
            log_warn("Accepting client connection: %s; pausing accepts", strerror(errno));
            pause_accepts(l);
            return;
        }
    }
}

int
listener_open(struct listener *l, struct ev_loop *loop, const char *bind, int port, int backlog,
              struct tls_ctx *tls, listener_conn_fn *on_conn, char *err, size_t errlen)
{
    char *spec = mem_strdup(bind);
    char *save = NULL;

    memset(l, 0, sizeof(*l));
    l->loop = loop;
    l->tls = tls;
    l->on_conn = on_conn;
    l->port = port;
    l->spare_fd = open_spare();
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
        listener_close(l);
        return SC_ERR;
    }
    return SC_OK;
}

int
listener_open_ports(struct listener *plain, struct listener *secure, struct ev_loop *loop,
                    const char *bind, int port, int tls_port, struct tls_ctx *tls, int backlog,
                    listener_conn_fn *on_conn, char *err, size_t errlen)
{
    char why[256];

    memset(plain, 0, sizeof(*plain));
    memset(secure, 0, sizeof(*secure));
    if (tls_port > 0 && listener_open(secure, loop, bind, tls_port, backlog, tls, on_conn, why,
                                      sizeof(why)) != SC_OK) {
        snprintf(err, errlen, "tls-port %s", why);
        return SC_ERR;
    }
    if ((port > 0 || tls_port == 0) &&
        listener_open(plain, loop, bind, port, backlog, NULL, on_conn, why, sizeof(why)) != SC_OK) {
        snprintf(err, errlen, "port %s", why);
        listener_close(secure);
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
    if (l->spare_fd >= 0) {
        close(l->spare_fd);
        l->spare_fd = -1;
    }
}

void
listener_resume(struct listener *l)
{
    if (!l->paused) {
        return;
    }
    if (l->spare_fd < 0) {
        l->spare_fd = open_spare();
    }
    for (int i = 0; i < l->n; i++) {
        ev_io_start(l->loop, &l->io[i]);
    }
    l->paused = false;
}

void
listener_refuse(int fd, const struct tls_ctx *tls, const char *msg)
{
    if (msg != NULL && tls == NULL) {
        ssize_t w = write(fd, msg, strlen(msg));
        (void)w; /* best effort: the connection is refused either way */
    }
    close(fd);
}

bool
listener_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "::1:", 4) == 0;
}
