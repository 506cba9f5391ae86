/*
 * cli_plan.h -- which slots move where, for add-node, del-node and reshard.
 *
 * The goal is the one redis-cli --cluster rebalance has: after the moves
 * every shard owns as near 16384 / shards slots as possible (at most one
 * apart), moving no more slots than that takes.  Counts are decided first
 * (plan_*_counts, by water-filling: each slot goes from the fullest shard
 * or to the emptiest one), then turned into slot sets taken as whole runs
 * from one end of each shard (slots_take), so shards stay a few ranges.
 *
 * Pure functions: callers pass the shard map in, moves come out.
 */
#pragma once

#include "cluster-tools/cli_slots.h"

/* A new, empty shard joins n shards owning counts[i] slots: give[i] is how
 * many shard i hands to it. */
void plan_add_counts(const int *counts, int n, int *give);
/* A shard owning `leaving` slots goes; the n others own counts[i]: get[i]
 * is how many of its slots shard i receives. */
void plan_remove_counts(int leaving, const int *counts, int n, int *get);

/* add-node: out[i] = the slots shard i (of n, owning have[i]) moves to the
 * new shard. */
void plan_add(const struct slots *have, int n, struct slots *out);
/* del-node: out[i] = the slots of `leaving` that shard i (of the n others,
 * owning have[i]) receives; consecutive runs of `leaving`, in order. */
void plan_remove(const struct slots *leaving, const struct slots *have, int n, struct slots *out);
/* reshard: n slots of from for the shard owning to (maybe empty), taken
 * from the end of from that faces to, so both stay few ranges. */
void plan_reshard(const struct slots *from, const struct slots *to, int n, struct slots *out);
