/*
 * cli_move.h -- `reshard`, `add-node` and `del-node`: moving hash slots
 * between shards through a running proxy, while clients keep going.
 *
 * The cli plans which slots go where (cli_plan.h) and asks the proxy to
 * move them, one PROXY MIGRATE at a time (proxy/migrate.h has the
 * contract: the proxy copies the keys with their TTLs, switches its map and
 * deletes the moved keys from the source).  It polls PROXY MIGRATIONS
 * until each move is done, printing progress, stops at the first failure,
 * and finally has the proxy write its new map to its config file (PROXY
 * CONFIG-REWRITE).  Partitioned mode only.
 */
#pragma once

#include "cluster-tools/cli_util.h"

/* Moves nslots slots from the shard of node `from` to the shard of node
 * `to` (a node the map does not have yet becomes a new shard of its own).
 * Returns an exit status; err says why it failed. */
int move_reshard(const char *host, int port, const char *from, const char *to, long long nslots,
                 struct cli_err *err);
/* Makes addrs[0..n) (a primary and its replicas, empty nodes) a new shard
 * and moves it an even share of the slots, from every shard. */
int move_add_node(const char *host, int port, const char *const *addrs, int n, struct cli_err *err);
/* Moves every slot of node addr's shard to the other shards, evenly; the
 * proxy then drops the empty shard. */
int move_del_node(const char *host, int port, const char *addr, struct cli_err *err);
