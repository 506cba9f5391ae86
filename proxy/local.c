/*
 * local.c -- see local.h.
 */
#include "proxy/local.h"

#include "proxy/migrate.h"

#include "common/hello.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/reply.h"
#include "common/sbuf.h"
#include "common/slot.h"
#include "common/util.h"
#include "proxy/acl.h"
#include "proxy/cluster.h"
#include "proxy/cmdtab.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TX_KEYS_MAX 4096

struct tx {
    struct bufq cmds; /* the queued requests, as multibulk */
    int count;
    bool write;
    int slot; /* -1 until a keyed command is queued */
};

/* ---- transactions ---- */

bool
local_tx_queues(const struct pcmd *cmd)
{
    static const char *const immediate[] = {"exec", "discard", "multi", "quit", "reset", "watch"};
    for (size_t i = 0; i < ARRAY_LEN(immediate); i++) {
        if (strcmp(cmd->name, immediate[i]) == 0) {
            return false;
        }
    }
    return true;
}

static void
tx_free(struct front *c)
{
    if (c->tx != NULL) {
        bufq_clear(&c->tx->cmds);
        mem_free(c->tx);
        c->tx = NULL;
    }
    c->conn.flags &= ~(FRONT_MULTI | FRONT_DIRTY_EXEC);
}

void
local_client_free(struct front *c)
{
    tx_free(c);
}

int
local_tx_count(const struct front *c)
{
    if (!(c->conn.flags & FRONT_MULTI)) {
        return -1;
    }
    return c->tx != NULL ? c->tx->count : 0;
}

void
local_flag_tx_error(struct front *c)
{
    if (c->conn.flags & FRONT_MULTI) {
        c->conn.flags |= FRONT_DIRTY_EXEC;
    }
}

/* Only commands one node answers can run inside a transaction. */
static bool
single_node(const struct pcmd *cmd)
{
    switch (cmd->route) {
    case ROUTE_KEY:
    case ROUTE_NUMKEYS:
    case ROUTE_KEYLESS:
    case ROUTE_MGET:
    case ROUTE_MSET:
    case ROUTE_KEYS_SUM:
        return true;
    default:
        return false;
    }
}

void
local_tx_queue(struct front *c, struct msg *m, const struct pcmd *cmd)
{
    int pos[TX_KEYS_MAX];
    struct tx *tx = c->tx;

    if (!single_node(cmd)) {
        char text[200];
        snprintf(text, sizeof(text), "ERR slotcache-proxy: '%s' cannot be used inside MULTI",
                 cmd->name);
        front_answer_error(m, text);
        local_flag_tx_error(c);
        return;
    }
    int n = cmd->route == ROUTE_KEYLESS ? 0 : cmdtab_keys(cmd, c->conn.argv, c->conn.argc, pos, TX_KEYS_MAX);
    if (cmd->route == ROUTE_MGET || cmd->route == ROUTE_KEYS_SUM || cmd->route == ROUTE_MSET) {
        n = 0;
        int step = cmd->route == ROUTE_MSET ? 2 : 1;
        for (int i = 1; i < c->conn.argc && n < TX_KEYS_MAX; i += step) {
            pos[n++] = i;
        }
    }
    for (int i = 0; i < n; i++) {
        int slot = (int)slot_of(c->conn.argv[pos[i]].data, c->conn.argv[pos[i]].len);
        if (tx->slot < 0) {
            tx->slot = slot;
        } else if (slot != tx->slot && router->mode == MODE_PARTITIONED) {
            front_answer_error(m, ERR_CROSSSLOT);
            local_flag_tx_error(c);
            return;
        }
    }
    bufq_append(&tx->cmds, m->req.p, m->req.len);
    tx->count++;
    tx->write |= (cmd->flags & PCMD_WRITE) != 0;
    resp_add_simple(front_out(), "QUEUED", 6);
    front_answer(m);
}

static void
cmd_multi(struct front *c, struct msg *m)
{
    if (c->conn.flags & FRONT_MULTI) {
        front_answer_error(m, "ERR MULTI calls can not be nested");
        return;
    }
    c->tx = mem_calloc(1, sizeof(*c->tx));
    c->tx->slot = -1;
    c->conn.flags |= FRONT_MULTI;
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

static void
cmd_discard(struct front *c, struct msg *m)
{
    if (!(c->conn.flags & FRONT_MULTI)) {
        front_answer_error(m, "ERR DISCARD without MULTI");
        return;
    }
    tx_free(c);
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

static void
cmd_exec(struct front *c, struct msg *m)
{
    if (!(c->conn.flags & FRONT_MULTI)) {
        front_answer_error(m, "ERR EXEC without MULTI");
        return;
    }
    if (c->conn.flags & FRONT_DIRTY_EXEC) {
        tx_free(c);
        front_answer_error(m, "EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    struct tx *tx = c->tx;
    struct bufq *out = front_out();
    resp_add_raw(out, "*1\r\n$5\r\nMULTI\r\n", 15);
    for (struct buf *b = tx->cmds.head; b != NULL; b = b->next) {
        resp_add_raw(out, buf_rptr(b), buf_rsize(b));
    }
    resp_add_raw(out, "*1\r\n$4\r\nEXEC\r\n", 14);
    seg_release(&m->req);
    m->req = front_take_out();
    m->nreplies = (uint16_t)MIN(tx->count + 2, UINT16_MAX);
    if (tx->write) {
        m->flags |= MSG_WRITE;
    }
    struct shard *s = tx->slot >= 0 ? router_shard_of((unsigned)tx->slot) : router->shards[0];
    m->slot = tx->slot;
    tx_free(c);
    front_route_shard(m, s);
}

/* ---- connection ---- */

static void
log_in(struct front *c, const struct acl_user *u)
{
    c->user = u;
    c->conn.flags |= CONN_AUTHED;
}

/* AUTH [user] pass, with redis 7's replies.  A failed AUTH leaves an
 * earlier login as it was. */
static void
cmd_auth(struct front *c, struct msg *m)
{
    const struct bstr *argv = c->conn.argv;
    int argc = c->conn.argc;

    if (argc > 3) {
        front_answer_error(m, ERR_SYNTAX);
        return;
    }
    if (argc == 2 && acl_default_user()->pass == NULL) {
        front_answer_error(m, AUTH_NO_PASSWORD);
        return;
    }
    const struct acl_user *u = acl_login(argc == 3 ? &argv[1] : NULL, &argv[argc - 1]);
    if (u == NULL) {
        front_answer_error(m, ERR_WRONGPASS);
        return;
    }
    log_in(c, u);
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ACL: who am I, who is there.  Users are config lines, so the commands
 * that would change them are answered with where to change them. */
static void
cmd_acl(struct front *c, struct msg *m)
{
    const struct bstr *sub = &c->conn.argv[1];
    struct bufq *out = front_out();

    if (bstr_is(sub, "WHOAMI") && c->conn.argc == 2) {
        resp_add_bulk_cstr(out, c->user->name);
    } else if (bstr_is(sub, "USERS") && c->conn.argc == 2) {
        const char *names[ACL_USERS_MAX];
        size_t n = 0;
        for (const struct acl_user *u = acl_users(); u != NULL && n < ACL_USERS_MAX; u = u->next) {
            names[n++] = u->name;
        }
        qsort(names, n, sizeof(names[0]), cmp_names); /* redis lists them sorted */
        resp_add_array(out, n);
        for (size_t i = 0; i < n; i++) {
            resp_add_bulk_cstr(out, names[i]);
        }
    } else {
        resp_add_errorf(out, "ERR slotcache-proxy answers ACL WHOAMI and ACL USERS; its users are "
                             "'user NAME ROLE PASSWORD' lines of its config file");
    }
    front_answer(m);
}

/* HELLO: RESP2 only.  Replies are forwarded from nodes as they are, and the
 * proxy talks RESP2 to nodes, so a RESP3 client would get RESP2 shapes;
 * NOPROTO lets clients fall back instead of misreading replies. */
static void
cmd_hello(struct front *c, struct msg *m)
{
    struct hello h;
    char buf[256];
    const char *err = hello_parse(c->conn.argv, c->conn.argc, 2, &h, buf, sizeof(buf));

    if (err != NULL) {
        front_answer_error(m, err);
        return;
    }
    if (h.user != NULL) {
        const struct acl_user *u = acl_login(h.user, h.pass);
        if (u == NULL) {
            front_answer_error(m, ERR_WRONGPASS);
            return;
        }
        log_in(c, u);
    }
    if (!(c->conn.flags & CONN_AUTHED)) {
        front_answer_error(m, HELLO_NOAUTH);
        return;
    }
    if (h.name != NULL) {
        conn_set_name(&c->conn, h.name);
    }
    struct bufq *out = front_out();
    resp_add_array(out, 14);
    static const char *const kv[] = {"server", "redis", "version", "7.0.0"};
    for (size_t i = 0; i < ARRAY_LEN(kv); i++) {
        resp_add_bulk_cstr(out, kv[i]);
    }
    resp_add_bulk_cstr(out, "proto");
    resp_add_int(out, 2);
    resp_add_bulk_cstr(out, "id");
    resp_add_int(out, (long long)c->conn.id);
    resp_add_bulk_cstr(out, "mode");
    resp_add_bulk_cstr(out, "cluster");
    resp_add_bulk_cstr(out, "role");
    resp_add_bulk_cstr(out, "master");
    resp_add_bulk_cstr(out, "modules");
    resp_add_array(out, 0);
    front_answer(m);
}

static void
cmd_select(struct front *c, struct msg *m)
{
    long long id;

    if (!util_str2ll(c->conn.argv[1].data, c->conn.argv[1].len, &id)) {
        front_answer_error(m, ERR_NOT_INT);
        return;
    }
    if (id != 0) {
        front_answer_error(m, ERR_SELECT_CLUSTER);
        return;
    }
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

static void
cmd_client(struct front *c, struct msg *m)
{
    struct bufq *out = front_out();
    const struct bstr *sub = &c->conn.argv[1];

    if (bstr_is(sub, "ID") && c->conn.argc == 2) {
        resp_add_int(out, (long long)c->conn.id);
    } else if (bstr_is(sub, "GETNAME") && c->conn.argc == 2) {
        if (c->conn.name == NULL) {
            resp_add_null(out, 2);
        } else {
            resp_add_bulk_cstr(out, c->conn.name);
        }
    } else if (bstr_is(sub, "SETNAME") && c->conn.argc == 3) {
        if (!conn_name_valid(&c->conn.argv[2])) {
            front_answer_error(m, "ERR Client names cannot contain spaces, newlines or special "
                                  "characters.");
            return;
        }
        conn_set_name(&c->conn, &c->conn.argv[2]);
        resp_add_raw(out, "+OK\r\n", 5);
    } else if ((bstr_is(sub, "LIST") && c->conn.argc == 2) || (bstr_is(sub, "INFO") && c->conn.argc == 2)) {
        struct sbuf s;
        sbuf_init(&s);
        if (bstr_is(sub, "INFO")) {
            front_describe(c, &s);
            sbuf_add(&s, "\n", 1);
        }
        for (struct conn *k = bstr_is(sub, "LIST") ? proxy.conns.all : NULL; k != NULL;
             k = k->next) {
            front_describe(front_of(k), &s);
            sbuf_add(&s, "\n", 1);
        }
        resp_add_bulk(out, s.data, s.len);
        sbuf_free(&s);
    } else if (bstr_is(sub, "KILL") && c->conn.argc == 4 && bstr_is(&c->conn.argv[2], "ID")) {
        long long id, killed = 0;
        if (!util_str2ll(c->conn.argv[3].data, c->conn.argv[3].len, &id) || id <= 0) {
            front_answer_error(m, "ERR client-id should be greater than 0");
            return;
        }
        for (struct conn *k = proxy.conns.all; k != NULL; k = k->next) {
            struct front *o = front_of(k);
            if (o->conn.id == (uint64_t)id && o != c) {
                front_close_async(o);
                killed++;
            }
        }
        resp_add_int(out, killed);
    } else if (bstr_is(sub, "SETINFO") && c->conn.argc == 4) {
        resp_add_raw(out, "+OK\r\n", 5); /* newer clients announce themselves; nothing to keep */
    } else {
        reply_unknown_subcommand(out, sub, "CLIENT");
    }
    front_answer(m);
}

/* PROXY TOPOLOGY: [id, slots, [addr, state]...] per shard. */
static void
proxy_topology(struct bufq *out)
{
    resp_add_array(out, (size_t)router->nshards);
    for (int i = 0; i < router->nshards; i++) {
        const struct shard *sh = router->shards[i];
        resp_add_array(out, 2 + (size_t)sh->nmembers);
        resp_add_int(out, sh->id);
        resp_add_bulk_cstr(out, sh->slots);
        for (int j = 0; j < sh->nmembers; j++) {
            resp_add_array(out, 2);
            resp_add_bulk_cstr(out, sh->members[j]->addr);
            resp_add_bulk_cstr(out, member_state_name(sh->members[j]->state));
        }
    }
}

static void
proxy_migrate(struct front *c, struct msg *m)
{
    char err[512];
    char *addrs[SHARD_MEMBERS_MAX];
    int n = c->conn.argc - 3;

    if (c->conn.argc < 4 || n > SHARD_MEMBERS_MAX || c->conn.argv[2].len >= SLOT_TEXT_MAX) {
        front_answer_error(m, "ERR usage: PROXY MIGRATE <slots> <addr> [<addr> ...]");
        return;
    }
    char *slots = mem_strndup(c->conn.argv[2].data, c->conn.argv[2].len);
    for (int i = 0; i < n; i++) {
        addrs[i] = mem_strndup(c->conn.argv[3 + i].data, c->conn.argv[3 + i].len);
    }
    int rc = migrate_start(slots, addrs, n, err, sizeof(err));
    for (int i = 0; i < n; i++) {
        mem_free(addrs[i]);
    }
    mem_free(slots);
    if (rc != SC_OK) {
        char text[600];
        snprintf(text, sizeof(text), "ERR PROXY MIGRATE: %s", err);
        front_answer_error(m, text);
        return;
    }
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

static void
cmd_proxy(struct front *c, struct msg *m)
{
    char err[512];
    const struct bstr *sub = &c->conn.argv[1];
    struct bufq *out = front_out();

    if (c->conn.argc == 2 && bstr_is(sub, "RELOAD")) {
        if (proxy_reload(err, sizeof(err)) != SC_OK) {
            char text[600];
            snprintf(text, sizeof(text), "ERR PROXY RELOAD failed: %s", err);
            front_answer_error(m, text);
            return;
        }
        resp_add_raw(out, "+OK\r\n", 5);
    } else if (c->conn.argc == 2 && (bstr_is(sub, "NODES") || bstr_is(sub, "MIGRATIONS"))) {
        struct sbuf s;
        sbuf_init(&s);
        if (bstr_is(sub, "NODES")) {
            proxy_info(&s, "nodes");
        } else {
            migrate_describe(&s);
        }
        resp_add_bulk(out, s.data, s.len);
        sbuf_free(&s);
    } else if (c->conn.argc == 2 && bstr_is(sub, "TOPOLOGY")) {
        proxy_topology(out);
    } else if (c->conn.argc == 2 && bstr_is(sub, "CONFIG-REWRITE")) {
        if (migrate_rewrite_config(err, sizeof(err)) != SC_OK) {
            char text[600];
            snprintf(text, sizeof(text), "ERR PROXY CONFIG-REWRITE failed: %s", err);
            front_answer_error(m, text);
            return;
        }
        resp_add_raw(out, "+OK\r\n", 5);
    } else if (bstr_is(sub, "MIGRATE")) {
        proxy_migrate(c, m);
        return;
    } else {
        resp_add_errorf(out, "ERR usage: PROXY RELOAD | NODES | TOPOLOGY | MIGRATE <slots> "
                             "<addr>... | MIGRATIONS | CONFIG-REWRITE");
    }
    front_answer(m);
}

static void
reply_ok(struct msg *m)
{
    resp_add_raw(front_out(), "+OK\r\n", 5);
    front_answer(m);
}

void
local_command(struct front *c, struct msg *m, const struct pcmd *cmd)
{
    const char *n = cmd->name;
    struct bufq *out = front_out();

    if (strcmp(n, "ping") == 0) {
        if (c->conn.argc > 2) {
            reply_arity(out, "ping");
        } else if (c->conn.argc == 2) {
            resp_add_bulk(out, c->conn.argv[1].data, c->conn.argv[1].len);
        } else {
            resp_add_raw(out, "+PONG\r\n", 7);
        }
        front_answer(m);
    } else if (strcmp(n, "echo") == 0) {
        resp_add_bulk(out, c->conn.argv[1].data, c->conn.argv[1].len);
        front_answer(m);
    } else if (strcmp(n, "quit") == 0) {
        c->conn.flags |= CONN_CLOSE_AFTER_REPLY;
        reply_ok(m);
    } else if (strcmp(n, "auth") == 0) {
        cmd_auth(c, m);
    } else if (strcmp(n, "acl") == 0) {
        cmd_acl(c, m);
    } else if (strcmp(n, "hello") == 0) {
        cmd_hello(c, m);
    } else if (strcmp(n, "select") == 0) {
        cmd_select(c, m);
    } else if (strcmp(n, "reset") == 0) {
        tx_free(c);
        mem_free(c->conn.name);
        c->conn.name = NULL;
        /* As redis: back to the default user, logged in only if it needs
         * no password. */
        c->user = acl_default_user();
        if (!acl_starts_logged_in()) {
            c->conn.flags &= ~CONN_AUTHED;
        }
        resp_add_simple(out, "RESET", 5);
        front_answer(m);
    } else if (strcmp(n, "client") == 0) {
        cmd_client(c, m);
    } else if (strcmp(n, "cluster") == 0) {
        cluster_command(c, m);
    } else if (strcmp(n, "proxy") == 0) {
        cmd_proxy(c, m);
    } else if (strcmp(n, "multi") == 0) {
        cmd_multi(c, m);
    } else if (strcmp(n, "exec") == 0) {
        cmd_exec(c, m);
    } else if (strcmp(n, "discard") == 0) {
        cmd_discard(c, m);
    } else if (strcmp(n, "shutdown") == 0) {
        log_warn("User requested shutdown...");
        proxy_shutdown();
        reply_ok(m);
    } else {
        /* readonly, readwrite, asking, unwatch: cluster-client handshakes
         * that mean nothing behind the proxy. */
        reply_ok(m);
    }
}
