/*
 * evict_sieve.c -- allkeys-sieve and volatile-sieve.
 *
 * The idea: one FIFO queue, a "visited" bit per key and a hand.  A hit only
 * sets the bit (no list move, unlike LRU).  To evict, the hand walks from
 * where it stopped last time towards the newer end, wrapping to the oldest
 * key: a visited key has its bit cleared and stays where it is; the first
 * key not visited is the victim, and the hand stays just past it.  Keys that
 * survive keep their place in the queue, so new keys that are not read
 * again (one-hit wonders) are evicted quickly while popular keys are never
 * moved -- "lazy promotion and quick demotion".
 *
 * Source: Yazhuo Zhang, Juncheng Yang, Yao Yue, Ymir Vigfusson, K. V.
 * Rashmi, "SIEVE is Simpler than LRU: an Efficient Turn-Key Eviction
 * Algorithm for Web Caches", NSDI 2024 (Algorithm 1).
 *
 * Cost: nothing beyond the 40-byte item header every key has: prev/next
 * thread the queue (head = newest), pbits bit 0 is the visited bit.  O(1)
 * per access; eviction is amortised O(1): each step of the hand clears a
 * bit that an access set.
 */
#include "node/evict.h"

#include <stddef.h>

#define SIEVE_VISITED 0x01

static struct evict_list queue;
static struct item *hand; /* next key to look at; NULL: start at the tail */

static void
sieve_start(void)
{
    evict_list_init(&queue);
    hand = NULL;
}

static void
sieve_attach(struct item *it)
{
    it->pbits = 0;
    evict_list_push(&queue, it);
}

static void
sieve_detach(struct item *it)
{
    if (hand == it) {
        hand = it->prev;
    }
    evict_list_remove(&queue, it);
}

static void
sieve_touch(struct item *it)
{
    it->pbits |= SIEVE_VISITED;
}

static void
sieve_moved(struct item *from, struct item *to)
{
    evict_list_moved(&queue, from, to);
    if (hand == from) {
        hand = to;
    }
}

static struct item *
sieve_victim(void)
{
    struct item *o = hand != NULL ? hand : queue.tail;

    if (o == NULL) {
        return NULL;
    }
    while (o->pbits & SIEVE_VISITED) {
        o->pbits &= (uint8_t)~SIEVE_VISITED;
        o = o->prev != NULL ? o->prev : queue.tail;
    }
    hand = o->prev;
    return o;
}

/* The allkeys- and volatile- variants share their hooks; the keyspace
 * hooks in evict.c pass a volatile- policy only the keys with a TTL. */
#define SIEVE_HOOKS                                                                                \
    .start = sieve_start, .stop = sieve_start, .attach = sieve_attach, .detach = sieve_detach,     \
    .touch = sieve_touch, .moved = sieve_moved, .victim = sieve_victim

const struct evict_ops evict_sieve_allkeys = {
    .name = "allkeys-sieve",
    SIEVE_HOOKS,
};

const struct evict_ops evict_sieve_volatile = {
    .name = "volatile-sieve",
    .volatile_only = true,
    SIEVE_HOOKS,
};
