/*
 * cli_check.h -- `slotcache-cli check`: is the topology whole and healthy?
 *
 * Reads the shard map from a proxy (PROXY TOPOLOGY) or from a proxy config
 * file, then checks that every slot has exactly one owner, that every node
 * answers PING (and, behind a proxy, that the proxy sees it up), and that
 * the members of each shard hold the same number of keys.  Prints the map
 * and one line per finding; the exit status says whether all is well.
 */
#pragma once

#include "cluster-tools/cli_topo.h"
#include "cluster-tools/cli_util.h"

/* Exit statuses of check (and of the other commands): */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* something is wrong, or the operation failed */
#define CLI_EXIT_USAGE 2 /* bad arguments */

/* check against the proxy at host:port; returns an exit status (a fatal
 * failure, such as no proxy there, is CLI_EXIT_FAIL with err set). */
int check_proxy(const char *host, int port, struct cli_err *err);
/* check the nodes of a proxy config file. */
int check_config(const char *path, struct cli_err *err);

/* Prints the shard map, one block per shard; keys[k] (k counts members
 * shard by shard; NULL or < 0: unknown) is shown beside each member. */
void check_print_map(const struct topo *t, const long long *keys);
