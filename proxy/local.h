/*
 * local.h -- commands the proxy answers itself, and transactions.
 *
 * PING ECHO QUIT AUTH HELLO SELECT RESET CLIENT READONLY READWRITE ASKING
 * SHUTDOWN PROXY and the CLUSTER family (cluster.h) need no node.
 *
 * MULTI ... EXEC: the proxy answers MULTI and +QUEUED itself and keeps the
 * queued requests; EXEC sends MULTI, the requests and EXEC to the shard of
 * their keys as one contiguous batch on the node connection, so no other
 * client's command can land inside the transaction, and the client gets the
 * node's EXEC reply.  Keys in different slots get CROSSSLOT in partitioned
 * mode, and the transaction is aborted as redis aborts one with an error.
 * WATCH would need the same node connection from WATCH to EXEC; the proxy
 * refuses it with a clear error (cmdtab.c).
 */
#pragma once

#include <stdbool.h>

struct front;
struct msg;
struct pcmd;

void local_command(struct front *c, struct msg *m, const struct pcmd *cmd);
/* Whether cmd is queued inside MULTI (EXEC, DISCARD, MULTI, QUIT, RESET and
 * WATCH run at once, as in redis). */
bool local_tx_queues(const struct pcmd *cmd);
void local_tx_queue(struct front *c, struct msg *m, const struct pcmd *cmd);
/* A refused command inside MULTI dooms the transaction. */
void local_flag_tx_error(struct front *c);
int local_tx_count(const struct front *c);
void local_client_free(struct front *c);
