/*
 * cluster.h -- the CLUSTER commands, answered so that cluster-aware clients
 * (redis-cli -c, redis-py's RedisCluster) work through the proxy.
 *
 * The proxy presents itself as a one-node cluster that owns all 16384
 * slots, at the address the client connected to: clients then send every
 * command to the proxy, which routes by the same slots they computed.
 * CLUSTER INFO's cluster_state is "fail" while a shard has no node up.
 */
#pragma once

struct front;
struct msg;

void cluster_command(struct front *c, struct msg *m);
