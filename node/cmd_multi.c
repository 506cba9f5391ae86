/*
 * cmd_multi.c -- MULTI EXEC DISCARD WATCH UNWATCH; see multi.h.
 */
#include "node/multi.h"

#include "common/mem.h"
#include "node/client.h"
#include "node/cmd.h"
#include "common/ht.h"
#include "node/kv.h"
#include "node/server.h"

#include <string.h>

#define MULTI_KEYS_MAX 256 /* key positions looked at per command */

struct queued {
    struct cmd *cmd;
    int argc;
    struct bstr *argv; /* argv[i].data owned */
};

struct watched {
    char *key;
    size_t len;
};

struct multi_state {
    struct queued *queue;
    int count, cap;
    size_t mem;
    struct watched *keys; /* this client's WATCHed keys */
    int nkeys, capkeys;
};

/* One entry per watched key: who watches it. */
struct watch_entry {
    struct ht_node node;
    struct client **clients;
    int n, cap;
    size_t len;
    char key[];
};

static struct ht watch_table;

static uint64_t
watch_hash(const struct ht_node *n)
{
    const struct watch_entry *e = (const struct watch_entry *)n;
    return ht_hash(e->key, e->len);
}

static bool
watch_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct watch_entry *e = (const struct watch_entry *)n;
    return e->len == len && memcmp(e->key, key, len) == 0;
}

static const struct ht_type watch_type = {watch_hash, watch_eq};

void
multi_setup(void)
{
    ht_init(&watch_table, &watch_type);
}

void
multi_teardown(void)
{
    ht_deinit(&watch_table);
}

static struct multi_state *
state_of(struct client *c)
{
    if (c->mstate == NULL) {
        c->mstate = mem_calloc(1, sizeof(*c->mstate));
    }
    return c->mstate;
}

static void
discard_queue(struct client *c)
{
    struct multi_state *ms = c->mstate;

    if (ms != NULL) {
        for (int i = 0; i < ms->count; i++) {
            for (int j = 0; j < ms->queue[i].argc; j++) {
                mem_free(ms->queue[i].argv[j].data);
            }
            mem_free(ms->queue[i].argv);
        }
        mem_free(ms->queue);
        ms->queue = NULL;
        ms->count = ms->cap = 0;
        ms->mem = 0;
    }
    c->conn.flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC | CLIENT_DIRTY_CAS);
}

static void
unwatch_all(struct client *c)
{
    struct multi_state *ms = c->mstate;

    if (ms == NULL) {
        return;
    }
    for (int i = 0; i < ms->nkeys; i++) {
        struct watched *w = &ms->keys[i];
        uint64_t h = ht_hash(w->key, w->len);
        struct watch_entry *e = (struct watch_entry *)ht_find(&watch_table, w->key, w->len, h);
        if (e != NULL) {
            for (int j = 0; j < e->n; j++) {
                if (e->clients[j] == c) {
                    e->clients[j] = e->clients[--e->n];
                    break;
                }
            }
            if (e->n == 0) {
                ht_remove(&watch_table, &e->node, h);
                mem_free(e->clients);
                mem_free(e);
            }
        }
        mem_free(w->key);
    }
    ms->nkeys = 0;
    c->conn.flags &= ~CLIENT_DIRTY_CAS;
}

void
multi_client_free(struct client *c)
{
    if (c->mstate == NULL) {
        return;
    }
    discard_queue(c);
    unwatch_all(c);
    mem_free(c->mstate->keys);
    mem_free(c->mstate);
    c->mstate = NULL;
}

int
multi_client_queued(const struct client *c)
{
    if (!(c->conn.flags & CLIENT_MULTI)) {
        return -1;
    }
    return c->mstate != NULL ? c->mstate->count : 0;
}

size_t
multi_client_mem(const struct client *c)
{
    return c->mstate != NULL ? c->mstate->mem : 0;
}

void
multi_queue(struct client *c, struct cmd *cmd)
{
    struct multi_state *ms = state_of(c);

    if (ms->count == ms->cap) {
        ms->cap = ms->cap == 0 ? 8 : ms->cap * 2;
        ms->queue = mem_realloc(ms->queue, (size_t)ms->cap * sizeof(*ms->queue));
    }
    struct queued *q = &ms->queue[ms->count++];
    q->cmd = cmd;
    q->argc = c->conn.argc;
    q->argv = mem_alloc((size_t)c->conn.argc * sizeof(*q->argv));
    ms->mem += (size_t)c->conn.argc * sizeof(*q->argv);
    for (int i = 0; i < c->conn.argc; i++) {
        q->argv[i].data = mem_strndup(c->conn.argv[i].data, c->conn.argv[i].len);
        q->argv[i].len = c->conn.argv[i].len;
        ms->mem += c->conn.argv[i].len + 1;
    }
    client_reply_simple(c, "QUEUED");
}

void
multi_flag_error(struct client *c)
{
    if (c->conn.flags & CLIENT_MULTI) {
        c->conn.flags |= CLIENT_DIRTY_EXEC;
    }
}

void
multi_touch_key(const char *key, size_t len)
{
    if (ht_count(&watch_table) == 0) {
        return;
    }
    struct watch_entry *e =
        (struct watch_entry *)ht_find(&watch_table, key, len, ht_hash(key, len));
    if (e != NULL) {
        for (int i = 0; i < e->n; i++) {
            e->clients[i]->conn.flags |= CLIENT_DIRTY_CAS;
        }
    }
}

void
multi_touch_keys(struct client *c, const struct cmd *cmd)
{
    int pos[MULTI_KEYS_MAX];

    if (ht_count(&watch_table) == 0) {
        return;
    }
    int n = cmd_key_positions(cmd, c->conn.argc, pos, MULTI_KEYS_MAX);
    for (int i = 0; i < n; i++) {
        multi_touch_key(c->conn.argv[pos[i]].data, c->conn.argv[pos[i]].len);
    }
}

static void
touch_if_exists(void *ctx, struct ht_node *n)
{
    struct watch_entry *e = (struct watch_entry *)n;

    (void)ctx;
    if (kv_lookup(e->key, e->len, KV_NOTOUCH | KV_NOSTATS) != NULL) {
        for (int i = 0; i < e->n; i++) {
            e->clients[i]->conn.flags |= CLIENT_DIRTY_CAS;
        }
    }
}

void
multi_touch_all(void)
{
    ht_foreach(&watch_table, touch_if_exists, NULL);
}

/* ---- commands ---- */

static void
cmd_multi(struct client *c)
{
    if (c->conn.flags & CLIENT_MULTI) {
        client_reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->conn.flags |= CLIENT_MULTI;
    client_reply_ok(c);
}

static void
cmd_discard(struct client *c)
{
    if (!(c->conn.flags & CLIENT_MULTI)) {
        client_reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    discard_queue(c);
    unwatch_all(c);
    client_reply_ok(c);
}

static void
cmd_exec(struct client *c)
{
    if (!(c->conn.flags & CLIENT_MULTI)) {
        client_reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->conn.flags & CLIENT_DIRTY_EXEC) {
        client_reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        discard_queue(c);
        unwatch_all(c);
        return;
    }
    if (c->conn.flags & CLIENT_DIRTY_CAS) {
        client_reply_null_array(c);
        discard_queue(c);
        unwatch_all(c);
        return;
    }
    /* Keys stop being watched before the queue runs: the transaction's own
     * writes do not doom anything. */
    unwatch_all(c);
    struct multi_state *ms = c->mstate;
    int count = ms != NULL ? ms->count : 0;
    struct bstr *saved_argv = c->conn.argv;
    int saved_argc = c->conn.argc;
    struct cmd *exec = c->cmd;

    c->conn.flags &= ~CLIENT_MULTI;
    client_reply_array(c, (size_t)count);
    for (int i = 0; i < count; i++) {
        c->conn.argv = ms->queue[i].argv;
        c->conn.argc = ms->queue[i].argc;
        cmd_call(c, ms->queue[i].cmd);
    }
    c->conn.argv = saved_argv;
    c->conn.argc = saved_argc;
    c->cmd = exec;
    discard_queue(c);
}

static void
watch_key(struct client *c, const struct bstr *key)
{
    struct multi_state *ms = state_of(c);

    for (int i = 0; i < ms->nkeys; i++) {
        if (ms->keys[i].len == key->len && memcmp(ms->keys[i].key, key->data, key->len) == 0) {
            return;
        }
    }
    if (ms->nkeys == ms->capkeys) {
        ms->capkeys = ms->capkeys == 0 ? 4 : ms->capkeys * 2;
        ms->keys = mem_realloc(ms->keys, (size_t)ms->capkeys * sizeof(*ms->keys));
    }
    ms->keys[ms->nkeys].key = mem_strndup(key->data, key->len);
    ms->keys[ms->nkeys].len = key->len;
    ms->nkeys++;

    uint64_t h = ht_hash(key->data, key->len);
    struct watch_entry *e = (struct watch_entry *)ht_find(&watch_table, key->data, key->len, h);
    if (e == NULL) {
        e = mem_calloc(1, sizeof(*e) + key->len);
        e->len = key->len;
        memcpy(e->key, key->data, key->len);
        ht_insert(&watch_table, &e->node, h);
    }
    if (e->n == e->cap) {
        e->cap = e->cap == 0 ? 2 : e->cap * 2;
        e->clients = mem_realloc(e->clients, (size_t)e->cap * sizeof(*e->clients));
    }
    e->clients[e->n++] = c;
}

static void
cmd_watch(struct client *c)
{
    if (c->conn.flags & CLIENT_MULTI) {
        client_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->conn.argc; i++) {
        watch_key(c, &c->conn.argv[i]);
    }
    client_reply_ok(c);
}

static void
cmd_unwatch(struct client *c)
{
    unwatch_all(c);
    client_reply_ok(c);
}

struct cmd cmd_multi_table[] = {
    {.name = "multi", .proc = cmd_multi, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NOMULTI,
     .acl = "@fast @transaction", .group = "transactions", .since = "1.2.0",
     .summary = "Start a transaction block"},
    {.name = "exec", .proc = cmd_exec, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NOMULTI,
     .acl = "@slow @transaction", .group = "transactions", .since = "1.2.0",
     .summary = "Execute all commands issued after MULTI"},
    {.name = "discard", .proc = cmd_discard, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NOMULTI,
     .acl = "@fast @transaction", .group = "transactions", .since = "2.0.0",
     .summary = "Discard all commands issued after MULTI"},
    {.name = "watch", .proc = cmd_watch, .arity = -2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NOMULTI,
     .first_key = 1, .last_key = -1, .key_step = 1, .acl = "@fast @transaction",
     .group = "transactions", .since = "2.2.0",
     .summary = "Watch the given keys to determine execution of the MULTI/EXEC block"},
    {.name = "unwatch", .proc = cmd_unwatch, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl = "@fast @transaction", .group = "transactions", .since = "2.2.0",
     .summary = "Forget about all watched keys"},
    CMD_END,
};
