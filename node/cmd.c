/*
 * cmd.c -- see cmd.h.
 */
#include "node/cmd.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "common/reply.h"
#include "node/client.h"
#include "node/evict.h"
#include "node/multi.h"
#include "node/server.h"

#include <ctype.h>
#include <string.h>

#define CMD_INDEX_SIZE 512 /* open addressing; several times the command count */
#define CMD_NAME_MAX 64

static struct cmd *index_slots[CMD_INDEX_SIZE];
static uint64_t ncommands;

static struct cmd *const family_tables[] = {
    cmd_string_table, cmd_keys_table, cmd_hash_table, cmd_server_table, cmd_multi_table,
};


static void
index_add(struct cmd *cmd)
{
    uint32_t i = util_nocase_hash(cmd->name, strlen(cmd->name)) & (CMD_INDEX_SIZE - 1);

    while (index_slots[i] != NULL) {
        sc_assert(strcmp(index_slots[i]->name, cmd->name) != 0); /* defined twice */
        i = (i + 1) & (CMD_INDEX_SIZE - 1);
    }
    index_slots[i] = cmd;
    ncommands++;
}

void
cmd_setup(void)
{
    for (size_t t = 0; t < ARRAY_LEN(family_tables); t++) {
        for (struct cmd *cmd = family_tables[t]; cmd->name != NULL; cmd++) {
            index_add(cmd);
        }
    }
    sc_assert(ncommands * 2 < CMD_INDEX_SIZE);
}

void
cmd_teardown(void)
{
    memset(index_slots, 0, sizeof(index_slots));
    ncommands = 0;
}

struct cmd *
cmd_lookup(const struct bstr *name)
{
    if (name->len == 0 || name->len > CMD_NAME_MAX) {
        return NULL;
    }
    uint32_t i = util_nocase_hash(name->data, name->len) & (CMD_INDEX_SIZE - 1);
    while (index_slots[i] != NULL) {
        if (util_nocase_eq_lower(index_slots[i]->name, name->data, name->len)) {
            return index_slots[i];
        }
        i = (i + 1) & (CMD_INDEX_SIZE - 1);
    }
    return NULL;
}

struct cmd *
cmd_lookup_sub(const struct cmd *parent, const struct bstr *name)
{
    size_t plen = strlen(parent->name);

    for (struct cmd *sub = parent->subcmds; sub != NULL && sub->name != NULL; sub++) {
        if (util_nocase_eq_lower(sub->name + plen + 1, name->data, name->len)) {
            return sub;
        }
    }
    return NULL;
}

void
cmd_foreach(void (*fn)(void *ctx, struct cmd *cmd), void *ctx)
{
    for (size_t t = 0; t < ARRAY_LEN(family_tables); t++) {
        for (struct cmd *cmd = family_tables[t]; cmd->name != NULL; cmd++) {
            fn(ctx, cmd);
        }
    }
}

uint64_t
cmd_count(void)
{
    return ncommands;
}

int
cmd_key_positions(const struct cmd *cmd, int argc, int *pos, int max)
{
    int n = 0;

    if (cmd->first_key <= 0) {
        return 0;
    }
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    for (int i = cmd->first_key; i <= last && i < argc && n < max; i += cmd->key_step) {
        pos[n++] = i;
    }
    return n;
}

static bool
arity_ok(const struct cmd *cmd, int argc)
{
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

/* Rejections before the handler runs: counted, and inside MULTI they doom
 * the transaction (redis flagTransaction). */
static void
reject(struct client *c, struct cmd *cmd)
{
    if (cmd != NULL) {
        cmd->rejected_calls++;
    }
    multi_flag_error(c);
}

void
cmd_call(struct client *c, struct cmd *cmd)
{
    uint64_t dirty = server.dirty;
    uint64_t errors = server.stats[STAT_total_error_replies];

    c->cmd = cmd;
    c->lastcmd = cmd; /* CLIENT LIST shows the command being run */
    cmd->proc(c);
    cmd->calls++;
    server.stats[STAT_total_commands_processed]++;
    if (server.stats[STAT_total_error_replies] != errors) {
        cmd->failed_calls++;
    }
    if (server.dirty != dirty && (cmd->flags & CMD_WRITE) && !(cmd->flags & CMD_SIGNALS)) {
        /* Every key of the command may have changed: invalidate them all.
         * Commands that change only some keys say which (CMD_SIGNALS). */
        multi_touch_keys(c, cmd);
    }
}

void
cmd_dispatch(struct client *c)
{
    struct cmd *cmd = cmd_lookup(&c->conn.argv[0]);

    if (cmd == NULL) {
        reply_unknown_command(&c->reply, c->conn.argv, c->conn.argc);
        client_count_error(c);
        reject(c, NULL);
        return;
    }
    if (cmd->subcmds != NULL && c->conn.argc >= 2) {
        struct cmd *sub = cmd_lookup_sub(cmd, &c->conn.argv[1]);
        if (sub == NULL) {
            char upper[CMD_NAME_MAX + 1];
            size_t n = strlen(cmd->name);
            for (size_t i = 0; i <= n; i++) {
                upper[i] = (char)toupper((unsigned char)cmd->name[i]);
            }
            reply_unknown_subcommand(&c->reply, &c->conn.argv[1], upper);
            client_count_error(c);
            reject(c, cmd);
            return;
        }
        cmd = sub;
    }
    if (!arity_ok(cmd, c->conn.argc)) {
        reply_arity(&c->reply, cmd->name);
        client_count_error(c);
        reject(c, cmd);
        return;
    }
    if (!(c->conn.flags & CONN_AUTHED) && !(cmd->flags & CMD_NOAUTH)) {
        client_reply_error(c, ERR_NOAUTH);
        reject(c, cmd);
        return;
    }
    bool queue = (c->conn.flags & CLIENT_MULTI) && !(cmd->flags & CMD_NOMULTI);
    /* Like redis, evict before every command while over the limit, but
     * refuse only commands that may grow memory -- and anything queued in
     * MULTI, since a queue can grow without bound. */
    if (evict_opts.maxmemory > 0 && evict_perform() != SC_OK &&
        ((cmd->flags & CMD_DENYOOM) || queue)) {
        client_reply_error(c, ERR_OOM);
        reject(c, cmd);
        return;
    }
    if (queue) {
        multi_queue(c, cmd);
        return;
    }
    cmd_call(c, cmd);
}
