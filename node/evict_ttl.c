/*
 * evict_ttl.c -- volatile-ttl: evict the key that would expire soonest.
 *
 * As redis: sample maxmemory-samples keys with a TTL into the candidate pool,
 * scored so that the earliest expire time is the best candidate, and evict
 * the best.  The pool keeps good candidates between evictions, so a few
 * samples per eviction approach the true minimum.
 */
#include "node/evict.h"

#include "node/kv.h"

#include <stdint.h>

static struct evict_pool pool;

static void
ttl_start(void)
{
    evict_pool_clear(&pool);
}

static void
ttl_attach(struct item *it)
{
    (void)it;
}

static void
ttl_detach(struct item *it)
{
    evict_pool_forget(&pool, it);
}

static void
ttl_moved(struct item *from, struct item *to)
{
    evict_pool_moved(&pool, from, to);
}

static uint64_t
ttl_score(struct item *it)
{
    return UINT64_MAX - (uint64_t)item_expire(it);
}

static struct item *
ttl_victim(void)
{
    evict_pool_sample(&pool, true, ttl_score);
    return evict_pool_pop(&pool);
}

const struct evict_ops evict_ttl_volatile = {
    .name = "volatile-ttl",
    .volatile_only = true,
    .start = ttl_start,
    .stop = ttl_start,
    .attach = ttl_attach,
    .detach = ttl_detach,
    .touch = ttl_attach,
    .moved = ttl_moved,
    .victim = ttl_victim,
};
