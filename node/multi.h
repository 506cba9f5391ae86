/*
 * multi.h -- transactions: MULTI/EXEC/DISCARD and WATCH.
 *
 * Inside MULTI, commands are checked (name, arity, auth, OOM) and queued
 * with copies of their arguments; EXEC runs the queue with nothing in
 * between, since the node runs one command at a time.  A rejected queued
 * command dooms the transaction (EXECABORT), as in redis.
 *
 * WATCH: a table maps each watched key to its watching clients.  After a
 * write command that changed the keyspace (server.dirty moved), the
 * dispatcher calls multi_touch_keys() for the command's keys, which marks
 * the watchers; their EXEC then replies nil.
 */
#pragma once

#include <stddef.h>

struct client;
struct cmd;

void multi_setup(void);
void multi_teardown(void);

/* Queues c's current request (argv copied) and replies +QUEUED. */
void multi_queue(struct client *c, struct cmd *cmd);
/* A command was refused while c is in MULTI: EXEC will abort. */
void multi_flag_error(struct client *c);
/* cmd just changed the keyspace: mark clients watching its keys. */
void multi_touch_keys(struct client *c, const struct cmd *cmd);
/* The keyspace is about to be emptied: mark clients watching a key that
 * exists now. */
void multi_touch_all(void);
/* A key was deleted by expiry or eviction, or renamed over. */
void multi_touch_key(const char *key, size_t len);
/* Frees c's transaction state and unwatches its keys. */
void multi_client_free(struct client *c);
/* For CLIENT LIST: queued commands (-1 outside MULTI) and bytes held. */
int multi_client_queued(const struct client *c);
size_t multi_client_mem(const struct client *c);
