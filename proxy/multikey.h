/*
 * multikey.h -- requests that need more than one node, and how their
 * replies come back together.
 *
 *   MGET            split by shard; values merged back in key order
 *   MSET            split by shard; +OK when every part is OK
 *   DEL UNLINK EXISTS TOUCH   split by shard; integers summed
 *   DBSIZE          every shard; summed
 *   FLUSHALL FLUSHDB CONFIG SET/RESETSTAT   every node; +OK when all are
 *   KEYS            every shard; arrays concatenated
 *   SCAN            one shard at a time; the cursor encodes which
 *   RANDOMKEY       every shard; a random non-nil answer
 *   INFO            the proxy's sections plus its nodes' figures summed
 *   writes to a shard with replicas: every healthy member, answered when the
 *   write quorum has acknowledged (router_quorum)
 *
 * When every key lives in one shard the request is forwarded whole, as the
 * client sent it.  A fragment that fails (its node is down) makes the whole
 * request fail with that node's error, never a partial answer.
 */
#pragma once

struct front;
struct msg;
struct pcmd;
struct shard;

/* Handles the multi-node routes of cmdtab.h for the request in c->conn.argv. */
void multikey_command(struct front *c, struct msg *m, const struct pcmd *cmd);
/* Sends write m to every writable member of s, and a copy to each of the
 * nshadow members of a slot move's target (their replies do not count);
 * m completes when the write quorum is reached (or cannot be). */
struct member;
void multikey_replicate(struct msg *m, struct shard *s, struct member **shadow, int nshadow);
