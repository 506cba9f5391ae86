/*
 * net.h -- TCP sockets: listen, accept, connect, addresses.
 *
 * Every socket is non-blocking and close-on-exec; accepted and connected
 * sockets have TCP_NODELAY (replies are written whole, Nagle only adds
 * latency).  Functions return a descriptor or -1 with the reason in err.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NET_ADDR_MAX 64 /* "[ipv6]:port" with room */

/* Listens on host:port (host "*" or "" for every IPv4 address, "::" for
 * IPv6).  port 0 picks a free port: net_local_port() tells which. */
int net_listen(const char *host, int port, int backlog, char *err, size_t errlen);
/* Accepts one connection; -1 with errno (EAGAIN when none is pending). */
int net_accept(int lfd, char *peer, size_t peerlen);
/* Starts a connection to host:port without blocking on it (EINPROGRESS is
 * success: wait for writability, then net_connect_result()). */
int net_connect(const char *host, int port, char *err, size_t errlen);
/* 0 once a non-blocking connect succeeded, else the errno it failed with. */
int net_connect_result(int fd);
/* Blocking connect with a timeout, for tools (cli, bench) and tests. */
int net_connect_blocking(const char *host, int port, int timeout_ms, char *err, size_t errlen);

int net_set_nonblock(int fd);
int net_set_nodelay(int fd);
int net_set_keepalive(int fd, int interval_s);
int net_local_port(int fd);
/* "ip:port" of the peer / local end. */
void net_peer_name(int fd, char *buf, size_t len);
void net_local_name(int fd, char *buf, size_t len);
/* Splits "host:port" (the last ':' separates, "[::1]:7000" accepted). */
bool net_parse_hostport(const char *s, char *host, size_t hostlen, int *port);
