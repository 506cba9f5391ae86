/*
 * cli_client.h -- slotcache-cli's Redis client calls (hiredis 0.14, sync):
 * connecting with timeouts, commands whose failures read well, INFO
 * fields, and the shard map behind a proxy.
 *
 * Every call blocks for at most its timeout.  Replies are hiredis's,
 * freed by the caller with freeReplyObject.
 */
#pragma once

#include "cluster-tools/cli_topo.h"
#include "cluster-tools/cli_util.h"

#include <hiredis/hiredis.h>

#include <stdbool.h>

#define CLIENT_CONNECT_TIMEOUT_MS 2000
#define CLIENT_REPLY_TIMEOUT_MS 10000

/* A connection to host:port; NULL with "cannot connect to host:port: why". */
redisContext *client_connect(const char *host, int port, struct cli_err *err);
/* The same for "host:port". */
redisContext *client_connect_addr(const char *addr, struct cli_err *err);

/* Runs a command (redisCommand's format).  Returns the reply, error
 * replies included; NULL with the reason in err when the connection
 * failed (the context is then unusable). */
redisReply *client_call(redisContext *c, struct cli_err *err, const char *fmt, ...);
/* Like client_call, but an error reply, or a reply that is not of type
 * `type`, is a failure too ("CMD: reply text"). */
redisReply *client_expect(redisContext *c, int type, struct cli_err *err, const char *fmt, ...);

/* INFO [section] as text (owned by the caller, mem_free); NULL on failure. */
char *client_info(redisContext *c, const char *section, struct cli_err *err);
/* A field of INFO text ("used_memory:123\r\n"): true if found. */
bool client_info_str(const char *info, const char *field, char *out, size_t len);
bool client_info_ll(const char *info, const char *field, long long *out);

/* The shard map behind a proxy: its mode (INFO proxy_mode), then PROXY
 * TOPOLOGY; a proxy that does not know TOPOLOGY yet is read through PROXY
 * NODES.  SC_ERR if c is not a slotcache-proxy. */
int client_topology(redisContext *c, struct topo *t, struct cli_err *err);
