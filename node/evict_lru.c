/*
 * evict_lru.c -- allkeys-lru and volatile-lru as exact LRU.
 *
 * Redis approximates LRU by sampling keys and comparing access times kept by
 * a clock that ticks once a second; at high request rates most keys share a
 * tick and the choice degrades towards random.  Here every eligible key sits
 * in one doubly linked list in access order (the links are in the item, so
 * this costs no allocation): an access moves the key to the head, the victim
 * is the tail.  O(1) per access and per eviction, exact at any rate.
 *
 * Cost: nothing beyond the 40-byte item header every key has (prev/next).
 */
#include "node/evict.h"

#include <stddef.h>

static struct evict_list lru;

static void
lru_start(void)
{
    evict_list_init(&lru);
}

static void
lru_attach(struct item *it)
{
    evict_list_push(&lru, it);
}

static void
lru_detach(struct item *it)
{
    evict_list_remove(&lru, it);
}

static void
lru_touch(struct item *it)
{
    if (it != lru.head) {
        evict_list_remove(&lru, it);
        evict_list_push(&lru, it);
    }
}

static void
lru_moved(struct item *from, struct item *to)
{
    evict_list_moved(&lru, from, to);
}

static struct item *
lru_victim(void)
{
    return lru.tail;
}

/* The allkeys- and volatile- variants share their hooks; the keyspace
 * hooks in evict.c pass a volatile- policy only the keys with a TTL. */
#define LRU_HOOKS                                                                                  \
    .start = lru_start, .stop = lru_start, .attach = lru_attach, .detach = lru_detach,             \
    .touch = lru_touch, .moved = lru_moved, .victim = lru_victim

const struct evict_ops evict_lru_allkeys = {
    .name = "allkeys-lru",
    LRU_HOOKS,
};

const struct evict_ops evict_lru_volatile = {
    .name = "volatile-lru",
    .volatile_only = true,
    LRU_HOOKS,
};
