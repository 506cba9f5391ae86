/*
 * migrate.h -- moving hash slots between shards while clients keep going.
 *
 * Contract of the PROXY commands that drive it (slotcache-cli reshard,
 * add-node and del-node use them):
 *
 *   PROXY MIGRATE <slots> <addr> [<addr> ...]
 *       Moves <slots> ("0-999" or "0-10,500,900-999") to the shard whose
 *       members are exactly the given node addresses; a shard with those
 *       members is created if there is none.  Replies +OK once the move has
 *       started, or an error (a move already running, bad slots, a node
 *       that does not answer).  One move at a time.
 *   PROXY MIGRATIONS
 *       The current or last move as a bulk string of "field:value" lines:
 *       state (copying | done | failed), slots, to, keys_copied,
 *       keys_deleted, started_ms, finished_ms, error.
 *   PROXY TOPOLOGY
 *       The shard map, one array per shard: [id, slots, [addr, state]...],
 *       states up | down | syncing -- what slotcache-cli check and info
 *       read to find the nodes behind a proxy.
 *   PROXY CONFIG-REWRITE
 *       Writes the current shard map into the proxy's config file in place
 *       of its mode/node/shard lines (other lines are kept); done after
 *       every successful move too, so a restart keeps the new map.
 *
 * How a move works, per source shard: (1) keys of the slots that the
 * target may hold from an earlier ownership are deleted there (SCAN and
 * DEL; nobody writes those slots to the target yet); (2) from then on every
 * write to those slots goes to the source and to the target (reads still go
 * to the source), while the keys of the slots are copied from the source
 * with their TTLs, using resync's copy (resync.h: a key written while its
 * copy is in flight is copied again); (3) when the copy is done the slots
 * switch to the target in the router, and their keys are deleted from the
 * source.  No client sees an error and no write is lost: until the switch
 * the source has everything, and the target has received every write since
 * (1) plus the copy.  Assumes one proxy in front of the nodes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct member;
struct sbuf;

/* PROXY MIGRATE: starts a move; SC_ERR with the reason in err. */
int migrate_start(const char *slots, char **addrs, int naddrs, char *err, size_t errlen);
/* Whether writes to slot must also reach the move's target now; fills
 * targets (up to SHARD_MEMBERS_MAX) and returns how many. */
int migrate_dual_targets(unsigned slot, struct member **targets);
/* Whether slot is being moved (multi-key writes group its keys apart). */
bool migrate_moving(unsigned slot);
/* PROXY MIGRATIONS */
void migrate_describe(struct sbuf *s);
/* PROXY CONFIG-REWRITE: SC_ERR with the reason in err. */
int migrate_rewrite_config(char *err, size_t errlen);
void migrate_teardown(void);
