/*
 * router.h -- shards, their members, and which shard owns each hash slot.
 *
 * One model serves the three topologies: a shard is a group of nodes that
 * hold the same keys (its members), and every hash slot belongs to one
 * shard.  central = one shard of one node; replicated = one shard of N
 * nodes; partitioned = N shards, each one node or a primary with replicas.
 * Writes go to every healthy member of the key's shard, reads to one.
 *
 * A member is UP (reads and writes), DOWN (nothing; health checks probe
 * it), or SYNCING (back from DOWN: it gets writes while it is refilled from
 * an UP member, and reads only once it is UP again).  See health.h.
 *
 * The router is rebuilt on config reload; members are kept by address, so
 * their connections and states survive a reload.
 */
#pragma once

#include "common/net.h"
#include "common/slot.h"

#include <stdbool.h>
#include <stdint.h>

#define SHARD_MEMBERS_MAX 16
#define ROUTER_SHARDS_MAX 1024

enum router_mode { MODE_CENTRAL, MODE_PARTITIONED, MODE_REPLICATED };
enum member_state { MEMBER_UP, MEMBER_DOWN, MEMBER_SYNCING };

struct back;
struct resync;

struct member {
    char addr[NET_ADDR_MAX]; /* "host:port" as configured */
    char host[NET_ADDR_MAX];
    int port;
    int state;             /* enum member_state */
    struct back *conn;     /* one pipelined connection (order matters: see msg.h) */
    struct resync *resync; /* while SYNCING */
    struct shard *shard;
    bool in_use;           /* in the current router (reload bookkeeping) */
    bool probing;          /* a health PING is outstanding */
    bool missed_writes;    /* writes were acknowledged without it (it went down while
                              another member of its shard was UP, or a resync emptied
                              it): until a resync completes, no source and not UP alone */
    long long down_since_ms;
    long long last_ok_ms;
    char down_reason[128];
    /* figures for INFO */
    uint64_t requests, errors, failures, latency_us_sum, latency_n;
    uint64_t resyncs, keys_resynced;
    struct member *next; /* every member ever configured */
};

struct shard {
    int id;
    char *slots;     /* owned: the slots as text ("0-5460"), for messages and config */
    struct member *members[SHARD_MEMBERS_MAX];
    int nmembers;
    uint32_t rr; /* next member to read from */
    struct shard *next_retired; /* out of the map, kept for messages in flight */
};

struct router {
    int mode;
    struct shard *shards[ROUTER_SHARDS_MAX];
    int nshards;
    uint16_t slot_shard[SLOT_COUNT]; /* shard index of each slot */
};

extern struct router *router;

/* Config lines, kept as written until the router is built. */
struct router_config {
    int mode;
    char **nodes; /* "host:port" */
    int nnodes;
    char **shards; /* "SLOTS PRIMARY [REPLICA...]" */
    int nshards;
};

/* Builds a router from config; NULL with a reason (e.g. which slots no
 * shard owns) in err. */
struct router *router_build(const struct router_config *cfg, char *err, size_t errlen);
/* Makes r the current router; members no longer used are closed. */
void router_install(struct router *r);
void router_free(struct router *r);
void router_teardown(void);

static inline struct shard *
router_shard_of(unsigned slot)
{
    return router->shards[router->slot_shard[slot]];
}

/* A member to read from: UP, round robin; NULL if none is. exclude may
 * name a member not to use (the one a failed read went to). */
struct member *router_read_member(struct shard *s, const struct member *exclude);
/* Members a write goes to (UP and SYNCING); returns how many. */
int router_write_members(struct shard *s, struct member **out);
/* Successes a replicated write needs, given how many members it reached. */
int router_quorum(const struct shard *s, int sent);
/* Every member of every shard, once. */
int router_all_members(struct member **out, int max);
/* Marks m DOWN (why for INFO and the log). */
void member_down(struct member *m, const char *why);
const char *member_state_name(int state);
/* "shard 2 (slots 10923-16383)" */
void router_shard_desc(const struct shard *s, char *buf, size_t len);
/* Walks every member ever configured (INFO, cron). */
struct member *router_members(void);

/* ---- changes at run time (slot moves: migrate.h) ---- */

/* The member for "host:port", created (UP, unconnected) if new; NULL with
 * a reason if addr is not HOST:PORT. */
struct member *router_member(const char *addr, char *err, size_t errlen);
/* The shard whose members are exactly m[0..n) (any order), created with no
 * slots if there is none.  NULL if a member already serves another shard. */
struct shard *router_shard_with(struct member **m, int n, char *err, size_t errlen);
/* Gives every slot in the bitmap to shard to. */
void router_move_slots(const uint8_t *slots, const struct shard *to);
/* Drops shards left with no slot (their structs are kept until teardown:
 * messages in flight may still point at them). */
void router_retire_empty(void);
/* The slots of shard s as a bitmap. */
void router_shard_slots(const struct shard *s, uint8_t *bm);
/* Appends "SLOTS ADDR..." (a shard line of the config file) to out. */
struct sbuf;
void router_shard_line(const struct shard *s, struct sbuf *out);
