/*
 * evict_s3fifo.c -- allkeys-s3fifo and volatile-s3fifo.
 *
 * The idea: most keys of a cache workload are read once and never again, so
 * new keys go to a small FIFO queue S (10% of the keys) and only those read
 * at least twice while in S are moved to the main FIFO queue M when they
 * reach S's end; the others are evicted and their fingerprints remembered
 * in a ghost FIFO G (as many entries as 90% of the keys).  A new key found in
 * G was evicted too soon: it goes straight to M.  M is a FIFO with
 * reinsertion (a CLOCK with a 2-bit counter): a key reaching M's end that
 * was read since it was last there goes back to the head with its counter
 * decremented; one that was not is evicted.  Evict from S while it holds at
 * least 10% of the keys, else from M.  No list is touched on a hit: a hit
 * only increments a 2-bit counter.
 *
 * Source: Juncheng Yang, Yazhuo Zhang, Ziyue Qiu, Yao Yue, K. V. Rashmi,
 * "FIFO queues are all you need for cache eviction", SOSP 2023, with the
 * parameters of its reference implementation (libCacheSim S3FIFO.c: small
 * queue 10%, ghost 90%, move to M at 2 reads, counter capped at 3).  New
 * keys always enter S unless G knows them, as in the paper's Algorithm 1:
 * libCacheSim's later version sends them to M while the cache is not full
 * yet, but a node cannot tell when it will be, and keys parked in M that way
 * stay there unread for as long as S takes the evictions.  Sizes are in
 * keys, not bytes: the node does not know its capacity in keys, so "10% of
 * the cache" is 10% of the keys it holds now.
 *
 * Cost: the 40-byte item header (prev/next thread S or M; pbits hold the
 * counter and which queue), plus the ghost: 4-byte fingerprints in a ring
 * and a table of 4-byte ring positions, 9-12 bytes per ghost entry, so
 * 8-11 bytes per key held (13 measured at maxmemory with jemalloc's size
 * classes: make bench, section f2; nothing while nothing was evicted).  O(1) per access; eviction is
 * amortised O(1): each key moved or reinserted spent a read to earn it.
 */
#include "node/evict.h"

#include "node/evict_ghost.h"

#include <stddef.h>

#define S3FIFO_SMALL_PCT 10 /* S's share of the keys */
#define S3FIFO_GHOST_PCT 90 /* G's size, in % of the keys */
#define S3FIFO_TO_MAIN 2    /* reads in S that earn a place in M */
#define S3FIFO_FREQ_MAX 3   /* the counter is 2 bits */

#define S3FIFO_FREQ 0x03 /* pbits: reads counted (capped) */
#define S3FIFO_MAIN 0x04 /* pbits: in M, else in S */

static struct evict_list small, main_q;
static struct evict_ghost ghost;

static void
s3fifo_start(void)
{
    evict_list_init(&small);
    evict_list_init(&main_q);
    evict_ghost_init(&ghost);
}

static void
s3fifo_stop(void)
{
    evict_ghost_free(&ghost);
    s3fifo_start();
}

static inline struct evict_list *
queue_of(const struct item *it)
{
    return it->pbits & S3FIFO_MAIN ? &main_q : &small;
}

static inline uint64_t
nkeys(void)
{
    return small.n + main_q.n;
}

static void
to_main(struct item *it)
{
    evict_list_push(&main_q, it);
    it->pbits = S3FIFO_MAIN;
}

static void
s3fifo_attach(struct item *it)
{
    if (ghost.live > 0 && evict_ghost_take(&ghost, evict_ghost_fp(item_hash(it)))) {
        to_main(it);
    } else {
        evict_list_push(&small, it);
        it->pbits = 0;
    }
}

static void
s3fifo_detach(struct item *it)
{
    evict_list_remove(queue_of(it), it);
}

static void
s3fifo_touch(struct item *it)
{
    if ((it->pbits & S3FIFO_FREQ) < S3FIFO_FREQ_MAX) {
        it->pbits++;
    }
}

static void
s3fifo_moved(struct item *from, struct item *to)
{
    evict_list_moved(queue_of(to), from, to);
}

/* S's oldest keys: those read enough move to M; the first that was not is
 * the victim, remembered in G.  NULL if S emptied without one. */
static struct item *
evict_small(void)
{
    struct item *t;

    while ((t = small.tail) != NULL) {
        if ((t->pbits & S3FIFO_FREQ) >= S3FIFO_TO_MAIN) {
            evict_list_remove(&small, t);
            to_main(t);
        } else {
            evict_ghost_add(&ghost, evict_ghost_fp(item_hash(t)), nkeys() * S3FIFO_GHOST_PCT / 100);
            return t;
        }
    }
    return NULL;
}

/* M's oldest key not read since it was last at the end; the ones read go
 * back to the head, their counter one lower.  M is not empty. */
static struct item *
evict_main(void)
{
    struct item *t;

    while (((t = main_q.tail)->pbits & S3FIFO_FREQ) > 0) {
        uint8_t freq = t->pbits & S3FIFO_FREQ;
        evict_list_remove(&main_q, t);
        evict_list_push(&main_q, t);
        t->pbits = (uint8_t)(S3FIFO_MAIN | (freq - 1));
    }
    return t;
}

static struct item *
s3fifo_victim(void)
{
    for (;;) {
        uint64_t n = nkeys();
        if (n == 0) {
            return NULL;
        }
        if (small.n == 0 || small.n < n * S3FIFO_SMALL_PCT / 100) {
            return evict_main();
        }
        struct item *t = evict_small();
        if (t != NULL) {
            return t;
        }
    }
}

/* The allkeys- and volatile- variants share their hooks; the keyspace
 * hooks in evict.c pass a volatile- policy only the keys with a TTL. */
#define S3FIFO_HOOKS                                                                               \
    .start = s3fifo_start, .stop = s3fifo_stop, .attach = s3fifo_attach, .detach = s3fifo_detach,  \
    .touch = s3fifo_touch, .moved = s3fifo_moved, .victim = s3fifo_victim

const struct evict_ops evict_s3fifo_allkeys = {
    .name = "allkeys-s3fifo",
    S3FIFO_HOOKS,
};

const struct evict_ops evict_s3fifo_volatile = {
    .name = "volatile-s3fifo",
    .volatile_only = true,
    S3FIFO_HOOKS,
};
