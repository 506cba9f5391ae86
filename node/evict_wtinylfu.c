/*
 * evict_wtinylfu.c -- allkeys-wtinylfu and volatile-wtinylfu.
 *
 * The idea: LFU keeps the most valuable keys of a static workload but
 * adapts slowly and needs exact counts; LRU adapts at once but lets every
 * new key push a popular one out.  W-TinyLFU puts a frequency filter in
 * front of the main area: new keys enter a small window LRU (1% of the
 * keys); the key leaving the window is a candidate for the main area, and
 * it is admitted only if it was accessed more often, recently, than the
 * key it would push out (the main area's LRU victim) -- otherwise the
 * candidate itself is evicted.  Frequencies come from a count-min sketch of
 * 4-bit counters that is halved every 10 x keys accesses (TinyLFU's aging),
 * so they describe the recent past: a hot set that moves is followed within
 * about one period.  The main area is a segmented LRU: keys enter its
 * probation segment and move to the protected one (80% of the main area)
 * when read again; the protected segment's overflow goes back to probation.
 *
 * Source: Gil Einziger, Roy Friedman, Ben Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM Transactions on Storage 13(4),
 * 2017 (W-TinyLFU, section 4), with the sizes Caffeine starts from (window
 * 1%, protected 80% of the main area; Caffeine adapts the window size by
 * hill climbing, this one keeps it fixed).  Sizes are in keys: the node does
 * not know its capacity in keys, so they are shares of the keys it holds.
 *
 * Cost: the 40-byte item header (prev/next thread one of the three
 * segments, pbits say which), plus the sketch: 16 4-bit counters per key
 * in 64-byte blocks, grown a quarter at a time, 8-10 bytes per key (10.5
 * measured after a fill of a million keys: make bench, section f2;
 * evict_sketch.h).  O(1) per access (one hash of the key, one cache line
 * of counters) and per eviction (two estimates); the sketch's halving is
 * amortised.
 */
#include "node/evict.h"

#include "node/evict_sketch.h"

#include <stddef.h>

#define WTLFU_WINDOW_PCT 1
#define WTLFU_PROTECTED_PCT 80 /* of the main area */

#define WTLFU_SEGMENT 0x03 /* pbits */
enum wtlfu_segment { SEG_WINDOW = 1, SEG_PROBATION = 2, SEG_PROTECTED = 3 };

static struct evict_list window, probation, protected;
static struct evict_sketch sketch;
/* The key last moved from the window to probation, not judged yet: the
 * next eviction decides between it and probation's LRU key. */
static struct item *candidate;

static inline uint64_t
nkeys(void)
{
    return window.n + probation.n + protected.n;
}

static inline uint64_t
window_max(uint64_t n)
{
    uint64_t w = n * WTLFU_WINDOW_PCT / 100;
    return w > 0 ? w : 1;
}

static inline uint64_t
protected_max(uint64_t n)
{
    return (n - MIN(n, window_max(n))) * WTLFU_PROTECTED_PCT / 100;
}

static inline struct evict_list *
segment_list(const struct item *it)
{
    switch (it->pbits & WTLFU_SEGMENT) {
    case SEG_WINDOW:
        return &window;
    case SEG_PROBATION:
        return &probation;
    default:
        return &protected;
    }
}

static inline void
put(struct evict_list *l, struct item *it, enum wtlfu_segment seg)
{
    evict_list_push(l, it);
    it->pbits = (uint8_t)seg;
}

static void
wtlfu_start(void)
{
    evict_list_init(&window);
    evict_list_init(&probation);
    evict_list_init(&protected);
    evict_sketch_init(&sketch);
    candidate = NULL;
}

static void
wtlfu_stop(void)
{
    evict_sketch_free(&sketch);
    wtlfu_start();
}

static void
wtlfu_attach(struct item *it)
{
    uint64_t n = nkeys() + 1;

    evict_sketch_fit(&sketch, n);
    evict_sketch_add(&sketch, item_hash(it));
    put(&window, it, SEG_WINDOW);
    while (window.n > window_max(n)) {
        struct item *t = window.tail;
        evict_list_remove(&window, t);
        put(&probation, t, SEG_PROBATION);
        candidate = t;
    }
}

static void
wtlfu_detach(struct item *it)
{
    evict_list_remove(segment_list(it), it);
    if (candidate == it) {
        candidate = NULL;
    }
}

/* A key read in probation earns a place in the protected segment, whose
 * least recently used keys go back to probation when it is over its size. */
static void
promote(struct item *it)
{
    uint64_t max = protected_max(nkeys());

    evict_list_remove(&probation, it);
    put(&protected, it, SEG_PROTECTED);
    if (candidate == it) {
        candidate = NULL;
    }
    while (protected.n > max) {
        struct item *t = protected.tail;
        evict_list_remove(&protected, t);
        put(&probation, t, SEG_PROBATION);
    }
}

static void
wtlfu_touch(struct item *it)
{
    struct evict_list *l = segment_list(it);

    evict_sketch_add(&sketch, item_hash(it));
    if ((it->pbits & WTLFU_SEGMENT) == SEG_PROBATION) {
        promote(it);
    } else if (l->head != it) {
        evict_list_remove(l, it);
        evict_list_push(l, it);
    }
}

static void
wtlfu_moved(struct item *from, struct item *to)
{
    evict_list_moved(segment_list(to), from, to);
    if (candidate == from) {
        candidate = to;
    }
}

static unsigned
freq(const struct item *it)
{
    return evict_sketch_estimate(&sketch, item_hash(it));
}

/* TinyLFU admission: the candidate enters the main area only if it is
 * more frequent than the key it would push out; ties keep the incumbent. */
static struct item *
wtlfu_victim(void)
{
    struct item *c = candidate, *v = probation.tail;

    candidate = NULL;
    if (c == NULL) {
        if (v != NULL) {
            return v;
        }
        return protected.tail != NULL ? protected.tail : window.tail;
    }
    if (v == c) {
        v = protected.tail;
    }
    if (v == NULL) {
        return c;
    }
    return freq(c) > freq(v) ? v : c;
}

/* The allkeys- and volatile- variants share their hooks; the keyspace
 * hooks in evict.c pass a volatile- policy only the keys with a TTL. */
#define WTLFU_HOOKS                                                                                \
    .start = wtlfu_start, .stop = wtlfu_stop, .attach = wtlfu_attach, .detach = wtlfu_detach,      \
    .touch = wtlfu_touch, .moved = wtlfu_moved, .victim = wtlfu_victim

const struct evict_ops evict_wtinylfu_allkeys = {
    .name = "allkeys-wtinylfu",
    WTLFU_HOOKS,
};

const struct evict_ops evict_wtinylfu_volatile = {
    .name = "volatile-wtinylfu",
    .volatile_only = true,
    WTLFU_HOOKS,
};
