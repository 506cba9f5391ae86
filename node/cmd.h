/*
 * cmd.h -- the node's command table and dispatcher.
 *
 * Each command family file (cmd_string.c, cmd_keys.c, cmd_hash.c,
 * cmd_server.c, cmd_multi.c) defines a table of struct cmd ending with
 * CMD_END; cmd_setup() indexes them all by name.  A container command
 * (CONFIG, CLIENT, OBJECT, ...) lists its subcommands in .subcmds, named
 * "config|get" as redis 7 names them: the dispatcher finds the subcommand,
 * checks its arity and replies redis's errors, so handlers only handle.
 *
 * arity follows redis: N means exactly N words (the name included), -N at
 * least N.  Key positions (first, last, step; last -1 = the last word) feed
 * COMMAND INFO, COMMAND GETKEYS and WATCH invalidation.
 */
#pragma once

#include "common/bstr.h"

#include <stdbool.h>
#include <stdint.h>

struct client;
typedef void cmd_fn(struct client *c);

#define CMD_WRITE 0x0001    /* may modify the keyspace */
#define CMD_READONLY 0x0002 /* reads data */
#define CMD_DENYOOM 0x0004  /* may grow memory: refused with OOM over maxmemory */
#define CMD_ADMIN 0x0008
#define CMD_NOAUTH 0x0010   /* allowed before AUTH */
#define CMD_FAST 0x0020     /* O(1) or O(log n) */
#define CMD_NOMULTI 0x0040  /* not queued inside MULTI: run or refused */
#define CMD_LOADING 0x0080  /* flags COMMAND INFO shows, kept for fidelity */
#define CMD_STALE 0x0100
#define CMD_NOSCRIPT 0x0200
#define CMD_RANDOM 0x0400   /* nondeterministic output */
#define CMD_SENTINEL 0x0800
#define CMD_SIGNALS 0x1000  /* the handler tells WATCH which keys it changed */

struct cmd {
    const char *name; /* lowercase; "parent|sub" for a subcommand */
    cmd_fn *proc;     /* NULL for a container */
    int arity;
    uint32_t flags;
    int8_t first_key, last_key, key_step;
    const char *acl;     /* ACL categories: "@read @string @fast" */
    const char *group;   /* COMMAND DOCS group: "string", "generic", ... */
    const char *since;   /* the redis version that introduced it */
    const char *summary; /* one line for COMMAND DOCS */
    struct cmd *subcmds; /* container: its subcommands, ending with CMD_END */

    /* counters for INFO commandstats */
    uint64_t calls;
    uint64_t rejected_calls;
    uint64_t failed_calls;
};

#define CMD_END {.name = NULL}

/* Every family's table, for cmd_setup() and COMMAND. */
extern struct cmd cmd_string_table[];
extern struct cmd cmd_keys_table[];
extern struct cmd cmd_hash_table[];
extern struct cmd cmd_server_table[];
extern struct cmd cmd_multi_table[];

void cmd_setup(void);
void cmd_teardown(void);
/* The top-level command named name (any case), or NULL. */
struct cmd *cmd_lookup(const struct bstr *name);
/* A container's subcommand, or NULL. */
struct cmd *cmd_lookup_sub(const struct cmd *parent, const struct bstr *name);
/* Calls fn for every top-level command (COMMAND, COMMAND COUNT). */
void cmd_foreach(void (*fn)(void *ctx, struct cmd *cmd), void *ctx);
uint64_t cmd_count(void);

/* Runs the request in c->conn.argv: lookup, checks (arity, auth, MULTI, OOM),
 * the handler, counters.  Replies go to c's output; never frees c. */
void cmd_dispatch(struct client *c);
/* Runs an already-resolved command (EXEC runs its queue through this). */
void cmd_call(struct client *c, struct cmd *cmd);
/* Positions of the keys of argv for cmd, written to pos (up to max);
 * returns how many. */
int cmd_key_positions(const struct cmd *cmd, int argc, int *pos, int max);
