/*
 * evict_random.c -- allkeys-random and volatile-random: the victim is a
 * uniformly random key (of those with a TTL, for volatile-random).  No
 * per-key state; sampling is O(1) from the keyspace table or the keyspace's
 * vector of keys with a TTL.
 */
#include "node/evict.h"

#include "node/kv.h"

static void
random_none(void)
{
}

static void
random_item(struct item *it)
{
    (void)it;
}

static void
random_moved(struct item *from, struct item *to)
{
    (void)from;
    (void)to;
}

static struct item *
random_victim_all(void)
{
    return kv_random();
}

static struct item *
random_victim_volatile(void)
{
    return kv_random_volatile();
}

/* The allkeys- and volatile- variants differ only in where they draw. */
#define RANDOM_HOOKS                                                                               \
    .start = random_none, .stop = random_none, .attach = random_item, .detach = random_item,       \
    .touch = random_item, .moved = random_moved

const struct evict_ops evict_random_allkeys = {
    .name = "allkeys-random",
    .victim = random_victim_all,
    RANDOM_HOOKS,
};

const struct evict_ops evict_random_volatile = {
    .name = "volatile-random",
    .volatile_only = true,
    .victim = random_victim_volatile,
    RANDOM_HOOKS,
};
