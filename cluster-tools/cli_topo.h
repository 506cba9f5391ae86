/*
 * cli_topo.h -- the shard map as slotcache-cli sees it: shards, the slots
 * each owns, their member nodes and (read from a proxy) their states.
 *
 * A map comes from `create` (addresses and a mode), from a proxy config
 * file (its mode/node/shard lines), or from a running proxy (PROXY
 * TOPOLOGY, cli_client.h).  Central and replicated maps are one shard that
 * owns every slot, as in the proxy's router.
 */
#pragma once

#include "cluster-tools/cli_slots.h"
#include "cluster-tools/cli_util.h"
#include "common/net.h"

#define TOPO_MEMBERS_MAX 16 /* the proxy's SHARD_MEMBERS_MAX */
#define TOPO_SHARDS_MAX 1024

enum topo_mode { TOPO_CENTRAL, TOPO_PARTITIONED, TOPO_REPLICATED };

struct sbuf;

struct topo_member {
    char addr[NET_ADDR_MAX]; /* "host:port" as the proxy was told */
    char state[16];          /* up, down, syncing; "" when read from a file */
};

struct topo_shard {
    int id; /* the proxy's shard id */
    struct slots slots;
    struct topo_member members[TOPO_MEMBERS_MAX];
    int nmembers;
};

struct topo {
    int mode;                  /* enum topo_mode */
    struct topo_shard *shards; /* owned */
    int nshards;
};

const char *topo_mode_name(int mode);
/* enum topo_mode of "central", "partitioned" or "replicated"; -1 if none. */
int topo_mode_parse(const char *name);

void topo_init(struct topo *t);
void topo_free(struct topo *t);
/* Appends an empty shard with the given id; NULL past TOPO_SHARDS_MAX. */
struct topo_shard *topo_add_shard(struct topo *t, int id);
/* Adds a member; SC_ERR if addr is not HOST:PORT or the shard is full. */
int topo_add_member(struct topo_shard *s, const char *addr, const char *state, struct cli_err *err);

/* The map `create` writes: central takes one address; replicated puts all
 * in one shard; partitioned makes shards of 1 + replicas addresses each
 * (primary first) and gives them near-equal consecutive slot ranges. */
int topo_create(struct topo *t, int mode, const char *const *addrs, int n, int replicas,
                struct cli_err *err);
/* Reads the mode/node/shard lines of a proxy config file. */
int topo_load_config(struct topo *t, const char *path, struct cli_err *err);
/* Appends the map as proxy config lines (mode, then node or shard lines). */
void topo_write(const struct topo *t, struct sbuf *out);
/* A complete proxy config: base's lines (NULL: none) without their
 * mode/node/shard lines, then the map's.  SC_ERR if base cannot be read. */
int topo_config_text(const struct topo *t, const char *base, struct sbuf *out, struct cli_err *err);

/* Finds a node by "host:port", or by "port" alone when one member has it:
 * *shard and *member are indexes into t.  SC_ERR (with the choices, when
 * ambiguous) if it is not in the map. */
int topo_find(const struct topo *t, const char *name, int *shard, int *member, struct cli_err *err);
/* Index of the shard whose members are exactly addrs (in any order); -1. */
int topo_find_shard(const struct topo *t, const char *const *addrs, int n);
/* Slots owned by no shard (missing) and by more than one (twice). */
void topo_coverage(const struct topo *t, struct slots *missing, struct slots *twice);
/* Number of members over all shards. */
int topo_node_count(const struct topo *t);
