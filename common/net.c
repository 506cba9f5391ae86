/*
 * net.c -- see net.h.
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
net_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int
net_set_nodelay(int fd)
{
    int yes = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

int
net_set_keepalive(int fd, int interval_s)
{
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) < 0) {
        return -1;
    }
    if (interval_s <= 0) {
        return 0;
    }
    int idle = interval_s, intvl = interval_s / 3 > 0 ? interval_s / 3 : 1, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    return 0;
}

static void
format_addr(const struct sockaddr_storage *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    }
    snprintf(buf, len, "%s:%d", ip, port);
}

void
net_peer_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);

    memset(&sa, 0, sizeof(sa));
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) < 0) {
        snprintf(buf, len, "?:0");
        return;
    }
    format_addr(&sa, buf, len);
}

void
net_local_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);

    memset(&sa, 0, sizeof(sa));
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        snprintf(buf, len, "?:0");
        return;
    }
    format_addr(&sa, buf, len);
}

int
net_local_port(int fd)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);

    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        return -1;
    }
    if (sa.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    }
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

static struct addrinfo *
resolve(const char *host, int port, bool passive, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (host != NULL && (host[0] == '\0' || strcmp(host, "*") == 0)) {
        host = NULL;
        hints.ai_family = AF_INET;
    }
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host != NULL ? host : "*", gai_strerror(rc));
        return NULL;
    }
    return res;
}

int
net_listen(const char *host, int port, int backlog, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(host, port, true, err, errlen);
    int fd = -1;

    if (res == NULL) {
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (ai->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            break;
        }
        snprintf(err, errlen, "%s:%d: %s", host != NULL ? host : "*", port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int
net_accept(int lfd, char *peer, size_t peerlen)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    int fd;

    do {
        fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return -1;
    }
    net_set_nodelay(fd);
    if (peer != NULL) {
        format_addr(&sa, peer, peerlen);
    }
    return fd;
}

int
net_connect(const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(host, port, false, err, errlen);
    int fd = -1;

    if (res == NULL) {
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            net_set_nodelay(fd);
            break;
        }
        snprintf(err, errlen, "connect %s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int
net_connect_result(int fd)
{
    int e = 0;
    socklen_t l = sizeof(e);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0) {
        return errno;
    }
    return e;
}

int
net_connect_blocking(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    int fd = net_connect(host, port, err, errlen);
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};

    if (fd < 0) {
        return -1;
    }
    int rc = poll(&pfd, 1, timeout_ms);
    int e = rc == 1 ? net_connect_result(fd) : ETIMEDOUT;
    if (e != 0) {
        snprintf(err, errlen, "connect %s:%d: %s", host, port, strerror(e));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

bool
net_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    char *end;

    if (colon == NULL || colon == s) {
        return false;
    }
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl + 1 > hostlen) {
        return false;
    }
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535) {
        return false;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return true;
}
