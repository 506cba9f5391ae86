/*
 * item.h -- a key and its value in one allocation (memcached's item).
 *
 *   +------------------------------ 40 bytes -----------------------------+
 *   | hnode.next | prev | next | meta | klen | vlen | type enc flags pbits |
 *   +---------------------------------------------------------------------+
 *   | expire ms (int64) | vidx (u32) |  only with ITEM_F_TTL: 12 bytes
 *   +---------------------------------------------------------------------+
 *   | key (klen bytes) | value (vlen bytes, capacity up to the block end) |
 *   +---------------------------------------------------------------------+
 *
 * hnode chains the item in the keyspace hash table; prev/next link it in the
 * eviction policy's list; meta and pbits are the policy's per-key state:
 * meta the access time in seconds, or redis's LFU counter under the LFU
 * policies; pbits SIEVE's visited bit, S3-FIFO's 2-bit counter and queue,
 * W-TinyLFU's segment (see node/evict.h); vidx is the item's slot in
 * the keyspace's vector of keys with a TTL.  Keys without a TTL do not pay
 * for the trailer: setting or removing a TTL reallocates the item, and the
 * keyspace relinks it (kv_replace).
 *
 * A hash's value is a pointer to its struct hobj (vlen == sizeof(pointer)).
 */
#pragma once

#include "common/defs.h"
#include "common/ht.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum item_type { ITEM_STRING = 0, ITEM_HASH = 1 };

/* The encoding redis would report for the same history of commands (OBJECT
 * ENCODING); clients and tests read it, so it follows redis's rules. */
enum item_enc { ENC_RAW, ENC_EMBSTR, ENC_INT, ENC_LISTPACK, ENC_HASHTABLE };

#define ITEM_F_TTL 0x01 /* has the expire trailer */

#define ITEM_TTL_SIZE 12
#define ITEM_EMBSTR_MAX 44 /* redis OBJ_ENCODING_EMBSTR_SIZE_LIMIT */
#define ITEM_KEY_MAX (512u * 1024 * 1024)

struct item {
    struct ht_node hnode;
    struct item *prev; /* eviction policy list */
    struct item *next;
    uint32_t meta;  /* policy state: access time (s) or LFU counter + decay time */
    uint32_t klen;
    uint32_t vlen;
    uint8_t type;  /* enum item_type */
    uint8_t enc;   /* enum item_enc */
    uint8_t flags; /* ITEM_F_* */
    uint8_t pbits; /* more policy state */
    char data[];
};

_Static_assert(sizeof(struct item) == 40, "item header grew: every key pays for it");

static inline size_t
item_ttl_size(const struct item *it)
{
    return it->flags & ITEM_F_TTL ? ITEM_TTL_SIZE : 0;
}

static inline char *
item_key(struct item *it)
{
    return it->data + item_ttl_size(it);
}

static inline char *
item_val(struct item *it)
{
    return it->data + item_ttl_size(it) + it->klen;
}

static inline long long
item_expire(const struct item *it)
{
    int64_t v;
    if (!(it->flags & ITEM_F_TTL)) {
        return -1;
    }
    memcpy(&v, it->data, sizeof(v));
    return v;
}

static inline void
item_set_expire_field(struct item *it, long long when)
{
    int64_t v = when;
    memcpy(it->data, &v, sizeof(v));
}

static inline uint32_t
item_vidx(const struct item *it)
{
    uint32_t v;
    memcpy(&v, it->data + 8, sizeof(v));
    return v;
}

static inline void
item_set_vidx(struct item *it, uint32_t v)
{
    memcpy(it->data + 8, &v, sizeof(v));
}

static inline size_t
item_size(bool ttl, size_t klen, size_t vlen)
{
    return sizeof(struct item) + (ttl ? ITEM_TTL_SIZE : 0) + klen + vlen;
}

/* Bytes the value may grow to without reallocating. */
size_t item_capacity(const struct item *it);

/* A new item with room for vcap >= vlen value bytes; NULL if memory is
 * short.  The value is copied when val is not NULL.  Links and meta are
 * zero; the keyspace links it. */
struct item *item_try_create(const void *key, size_t klen, const void *val, size_t vlen,
                             size_t vcap, bool ttl);
/* A copy of it with the TTL trailer added or dropped and room for vcap
 * value bytes; it is unchanged.  NULL if memory is short. */
struct item *item_try_reshape(struct item *it, bool ttl, size_t vcap);
/* Frees the allocation (not a hash's hobj: kv_delete does that). */
void item_free(struct item *it);

/* The encoding redis gives a string value it just stored with SET. */
enum item_enc item_string_enc(const char *v, size_t len);

/* Hash of the item's key, for the keyspace table. */
uint64_t item_hash(const struct item *it);
