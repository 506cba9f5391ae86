/*
 * replay.h -- slotcache-bench replay: a trace through the node's eviction
 * policies offline, beside exact LRU and Belady's optimum (replay.c).
 */
#pragma once

#include <stddef.h>

/* `slotcache-bench replay ARGS`: argv holds the arguments after the
 * subcommand.  Prints one line per policy on stdout.  SC_OK, or SC_ERR with
 * the reason in err. */
int replay_cmd(int argc, char **argv, char *err, size_t errlen);

/* The shifting workload of `slotcache-bench trace --shift N [--shift-by K]`:
 * the key (1 to keys) that Zipf rank `rank` names at request `request`
 * (0-based) when the rank -> key mapping rotates by `by` keys every `every`
 * requests (every 0: never; by 0: 1% of the keys).  After a rotation, rank r
 * names the key that had rank r + by: the `by` most popular keys become the
 * least popular and every other key moves up `by` ranks, so the hot set
 * moves to keys that were only warm. */
long long replay_shift_key(long long rank, long long request, long long keys, long long every,
                           long long by);
