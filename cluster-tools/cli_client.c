/*
 * cli_client.c -- see cli_client.h.
 */
#include "cluster-tools/cli_client.h"

#include "common/mem.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

redisContext *
client_connect(const char *host, int port, struct cli_err *err)
{
    struct timeval ctv = {CLIENT_CONNECT_TIMEOUT_MS / 1000,
                          CLIENT_CONNECT_TIMEOUT_MS % 1000 * 1000};
    struct timeval rtv = {CLIENT_REPLY_TIMEOUT_MS / 1000, CLIENT_REPLY_TIMEOUT_MS % 1000 * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, ctv);

    if (c == NULL) {
        cli_fail(err, "cannot connect to %s:%d: out of memory", host, port);
        return NULL;
    }
    if (c->err != 0 || redisSetTimeout(c, rtv) != REDIS_OK) {
        cli_fail(err, "cannot connect to %s:%d: %s", host, port, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

redisContext *
client_connect_addr(const char *addr, struct cli_err *err)
{
    char host[NET_ADDR_MAX];
    int port;

    if (!net_parse_hostport(addr, host, sizeof(host), &port) || port == 0) {
        cli_fail(err, "'%s' is not HOST:PORT", addr);
        return NULL;
    }
    return client_connect(host, port, err);
}

/* The command's name for messages: the format up to its first blank. */
static void
command_name(const char *fmt, char *out, size_t len)
{
    snprintf(out, len, "%.*s", (int)strcspn(fmt, " "), fmt);
}

static redisReply *
vcall(redisContext *c, struct cli_err *err, const char *fmt, va_list ap)
{
    redisReply *r = redisvCommand(c, fmt, ap);

    if (r == NULL) {
        char name[64];
        command_name(fmt, name, sizeof(name));
        cli_fail(err, "%s to %s:%d failed: %s", name, c->tcp.host, c->tcp.port,
                 c->errstr[0] != '\0' ? c->errstr : "connection lost");
    }
    return r;
}

redisReply *
client_call(redisContext *c, struct cli_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    redisReply *r = vcall(c, err, fmt, ap);
    va_end(ap);
    return r;
}

redisReply *
client_expect(redisContext *c, int type, struct cli_err *err, const char *fmt, ...)
{
    char name[64];
    va_list ap;

    va_start(ap, fmt);
    redisReply *r = vcall(c, err, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == type) {
        return r;
    }
    command_name(fmt, name, sizeof(name));
    if (r->type == REDIS_REPLY_ERROR) {
        cli_fail(err, "%s on %s:%d: %s", name, c->tcp.host, c->tcp.port, r->str);
    } else {
        cli_fail(err, "%s on %s:%d: unexpected reply (type %d)", name, c->tcp.host, c->tcp.port,
                 r->type);
    }
    freeReplyObject(r);
    return NULL;
}

char *
client_info(redisContext *c, const char *section, struct cli_err *err)
{
    redisReply *r = client_expect(c, REDIS_REPLY_STRING, err, "INFO %s", section);

    if (r == NULL) {
        return NULL;
    }
    char *text = mem_strdup(r->str);
    freeReplyObject(r);
    return text;
}

bool
client_info_str(const char *info, const char *field, char *out, size_t len)
{
    size_t flen = strlen(field);

    for (const char *line = info; line != NULL && *line != '\0';) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            const char *v = line + flen + 1;
            snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
            return true;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return false;
}

bool
client_info_ll(const char *info, const char *field, long long *out)
{
    char v[32];

    return client_info_str(info, field, v, sizeof(v)) && util_str2ll(v, strlen(v), out);
}

/* ---- the shard map ---- */

static const char *
reply_text(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ? r->str : NULL;
}

/* One member of PROXY TOPOLOGY: [addr, state]. */
static int
parse_member(struct topo_shard *s, const redisReply *m, struct cli_err *err)
{
    if (m->type != REDIS_REPLY_ARRAY || m->elements < 1 || reply_text(m->element[0]) == NULL) {
        return cli_fail(err, "PROXY TOPOLOGY: a member is not [addr, state]");
    }
    const char *state = m->elements > 1 ? reply_text(m->element[1]) : NULL;
    return topo_add_member(s, m->element[0]->str, state != NULL ? state : "", err);
}

/* One shard of PROXY TOPOLOGY: [id, slots, [addr, state]...]. */
static int
parse_shard(struct topo *t, const redisReply *r, struct cli_err *err)
{
    char why[200];

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || reply_text(r->element[1]) == NULL) {
        return cli_fail(err, "PROXY TOPOLOGY: a shard is not [id, slots, members...]");
    }
    struct topo_shard *s = topo_add_shard(t, (int)r->element[0]->integer);
    if (s == NULL) {
        return cli_fail(err, "PROXY TOPOLOGY: more than %d shards", TOPO_SHARDS_MAX);
    }
    /* A shard whose slots all moved away may be listed with none. */
    const char *spec = r->element[1]->str;
    if (spec[0] != '\0' && slots_parse(&s->slots, spec, why, sizeof(why)) != SC_OK) {
        return cli_fail(err, "PROXY TOPOLOGY: shard %d: %s", s->id, why);
    }
    for (size_t i = 2; i < r->elements; i++) {
        if (parse_member(s, r->element[i], err) != SC_OK) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
topology_reply(struct topo *t, const redisReply *r, struct cli_err *err)
{
    if (r->type != REDIS_REPLY_ARRAY) {
        return cli_fail(err, "PROXY TOPOLOGY: expected an array of shards");
    }
    for (size_t i = 0; i < r->elements; i++) {
        if (parse_shard(t, r->element[i], err) != SC_OK) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

/* A value of a PROXY NODES line: "node0_0:addr=h:p,shard=0,slots=0-5460,status=up,...". */
static bool
nodes_value(const char *line, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);
    const char *p = strchr(line, ':');

    while (p != NULL) {
        p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            p += klen + 1;
            snprintf(out, len, "%.*s", (int)strcspn(p, ",\r\n"), p);
            return true;
        }
        p = strpbrk(p, ",\r\n");
        p = p != NULL && *p == ',' ? p : NULL;
    }
    return false;
}

static struct topo_shard *
shard_by_id(struct topo *t, int id)
{
    for (int i = 0; i < t->nshards; i++) {
        if (t->shards[i].id == id) {
            return &t->shards[i];
        }
    }
    return topo_add_shard(t, id);
}

static int
nodes_line(struct topo *t, const char *line, struct cli_err *err)
{
    char addr[NET_ADDR_MAX], shard[16], slots[4096], status[16], why[200];
    long long id;

    if (!nodes_value(line, "addr", addr, sizeof(addr)) ||
        !nodes_value(line, "shard", shard, sizeof(shard)) ||
        !nodes_value(line, "slots", slots, sizeof(slots)) ||
        !nodes_value(line, "status", status, sizeof(status)) ||
        !util_str2ll(shard, strlen(shard), &id)) {
        return cli_fail(err, "PROXY NODES: cannot read '%.80s'", line);
    }
    struct topo_shard *s = shard_by_id(t, (int)id);
    if (s == NULL) {
        return cli_fail(err, "PROXY NODES: more than %d shards", TOPO_SHARDS_MAX);
    }
    if (s->nmembers == 0 && slots_parse(&s->slots, slots, why, sizeof(why)) != SC_OK) {
        return cli_fail(err, "PROXY NODES: shard %lld: %s", id, why);
    }
    return topo_add_member(s, addr, status, err);
}

/* The older way to the same map: PROXY NODES (INFO's Nodes section). */
static int
topology_from_nodes(redisContext *c, struct topo *t, struct cli_err *err)
{
    redisReply *r = client_expect(c, REDIS_REPLY_STRING, err, "PROXY NODES");
    int rc = SC_OK;

    if (r == NULL) {
        return SC_ERR;
    }
    for (char *line = r->str; rc == SC_OK && line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (strncmp(line, "node", 4) == 0 && strchr(line, ':') != NULL) {
            if (next != NULL) {
                *next = '\0';
            }
            rc = nodes_line(t, line, err);
        }
        line = next != NULL ? next + 1 : NULL;
    }
    freeReplyObject(r);
    return rc;
}

static int
proxy_mode(redisContext *c, int *mode, struct cli_err *err)
{
    char *info = client_info(c, "server", err);
    char name[32];

    if (info == NULL) {
        return SC_ERR;
    }
    bool found = client_info_str(info, "proxy_mode", name, sizeof(name));
    mem_free(info);
    if (!found || (*mode = topo_mode_parse(name)) < 0) {
        return cli_fail(err, "%s:%d is not a slotcache-proxy (its INFO has no proxy_mode)",
                        c->tcp.host, c->tcp.port);
    }
    return SC_OK;
}

int
client_topology(redisContext *c, struct topo *t, struct cli_err *err)
{
    topo_free(t);
    if (proxy_mode(c, &t->mode, err) != SC_OK) {
        return SC_ERR;
    }
    redisReply *r = client_call(c, err, "PROXY TOPOLOGY");
    if (r == NULL) {
        return SC_ERR;
    }
    int rc =
        r->type == REDIS_REPLY_ERROR ? topology_from_nodes(c, t, err) : topology_reply(t, r, err);
    freeReplyObject(r);
    return rc;
}
