/*
 * cli_info.h -- `slotcache-cli info`: one table for the whole topology.
 *
 * One row per node (from its own INFO and DBSIZE: keys, used memory,
 * maxmemory and policy, hit ratio, evictions, expirations, ops/s), then the
 * proxy's row: the same columns for the topology as a whole (keys counted
 * once per shard, memory and evictions summed over nodes, hit ratio and
 * ops/s as clients of the proxy see them).  --watch redraws it.
 */
#pragma once

#include "cluster-tools/cli_util.h"

struct info_options {
    const char *host;
    int port;
    long long watch_s; /* 0: print once */
    long long count;   /* frames to print with --watch; 0: until interrupted */
};

/* Returns an exit status: CLI_EXIT_FAIL (err set) if the proxy cannot be
 * read, or if a node did not answer (its row says why). */
int info_run(const struct info_options *o, struct cli_err *err);
