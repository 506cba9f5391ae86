/*
 * cmd_keys.c -- the keyspace commands: DEL UNLINK EXISTS TOUCH TYPE KEYS
 * SCAN RANDOMKEY RENAME RENAMENX FLUSHDB FLUSHALL EXPIRE PEXPIRE EXPIREAT
 * PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST OBJECT MEMORY.
 */
#include "common/reply.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/kv.h"
#include "node/multi.h"
#include "node/server.h"

/* FLUSHALL / FLUSHDB [ASYNC|SYNC] */
static void
cmd_flush(struct client *c)
{
    bool async = false;

    if (c->argc > 2) {
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc == 2) {
        if (bstr_is(&c->argv[1], "ASYNC")) {
            async = true;
        } else if (!bstr_is(&c->argv[1], "SYNC")) {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    multi_touch_all();
    server.dirty += kv_count();
    kv_flush(async);
    client_reply_ok(c);
}

struct cmd cmd_keys_table[] = {
    {.name = "flushall", .proc = cmd_flush, .arity = -1, .flags = CMD_WRITE,
     .acl = "@keyspace @write @slow @dangerous", .group = "server", .since = "1.0.0",
     .summary = "Remove all keys from all databases"},
    {.name = "flushdb", .proc = cmd_flush, .arity = -1, .flags = CMD_WRITE,
     .acl = "@keyspace @write @slow @dangerous", .group = "server", .since = "1.0.0",
     .summary = "Remove all keys from the current database"},
    CMD_END,
};
