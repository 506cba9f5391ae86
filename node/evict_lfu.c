/*
 * evict_lfu.c -- allkeys-lfu and volatile-lfu: redis's counter, exact victims.
 *
 * Per key, meta holds what redis keeps in its 24 LFU bits: the last decrement
 * time in minutes (16 bits) and a logarithmic access counter (8 bits).  An
 * access first decays the counter by one per lfu-decay-time minutes elapsed,
 * then increments it with probability 1 / ((counter - LFU_INIT) *
 * lfu-log-factor + 1), so 255 stands for about a million accesses at the
 * default factor of 10.  New keys start at LFU_INIT so they are not evicted
 * before they had a chance to be read again.  OBJECT FREQ answers what redis
 * would.
 *
 * Redis samples maxmemory-samples keys and evicts the lowest counter among
 * them.  Here the victim is exact: the key with the lowest decayed counter,
 * and of those the least recently used.  Keys sit in buckets (circular
 * lists with a sentinel, most recent first) by
 *
 *     b = counter + epoch at the last access,  epoch = minutes / decay-time
 *
 * A key's decayed counter is b - epoch now, the same order for every key
 * at any time, so b never changes between accesses and no key moves as
 * time passes.  Live keys have b in (epoch, epoch + 255]; a ring of 256
 * buckets holds them, with a bitmap of the non-empty ones, so the lowest is
 * found in four word scans.  When the epoch advances, the buckets it passes
 * hold keys decayed to 0: they are spliced, in order, onto a "zero" list
 * that is evicted first (O(1) per bucket).  With the default decay time of
 * 1 minute this is exactly redis's per-key decay; with a longer one, decay
 * is counted at the global period boundaries (redis counts whole periods
 * from each key's last access), one period's difference at most.
 * CONFIG SET lfu-decay-time re-buckets every key once (O(keys)).
 *
 * Cost: nothing beyond the 40-byte item header (prev/next link the bucket
 * lists, meta is the counter), plus 257 sentinels (10 KB) per process.
 * O(1) per access and per eviction.
 */
#include "node/evict.h"

#include "common/clock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LFU_INIT 5
#define LFU_RING 256 /* buckets: one per counter value above the epoch */
#define LFU_RING_WORDS (LFU_RING / 64)

static struct item ring[LFU_RING]; /* sentinels: bucket b is ring[b % LFU_RING] */
static struct item zero;           /* keys whose counter decayed to 0 */
static uint64_t nonempty[LFU_RING_WORDS];
static uint64_t epoch;  /* buckets up to this one are folded into zero */
static long long decay; /* lfu-decay-time the buckets were built with */

static unsigned
lfu_minutes(void)
{
    return (unsigned)((clock_now_ms() / 60000) & 0xffff);
}

static unsigned
lfu_elapsed(unsigned ldt)
{
    unsigned now = lfu_minutes();
    return now >= ldt ? now - ldt : 65535 - ldt + now;
}

unsigned
evict_lfu_freq(const struct item *it)
{
    unsigned ldt = (it->meta >> 8) & 0xffff, counter = it->meta & 0xff;
    unsigned periods =
        evict_opts.lfu_decay_time > 0 ? lfu_elapsed(ldt) / (unsigned)evict_opts.lfu_decay_time : 0;

    return periods >= counter ? 0 : counter - periods;
}

static unsigned
lfu_log_incr(unsigned counter)
{
    if (counter == 255) {
        return counter;
    }
    double r = (double)random() / RAND_MAX;
    double base = counter > LFU_INIT ? (double)(counter - LFU_INIT) : 0.0;
    double p = 1.0 / (base * (double)evict_opts.lfu_log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void
evict_lfu_init(struct item *it)
{
    it->meta = lfu_minutes() << 8 | LFU_INIT;
}

void
evict_lfu_access(struct item *it)
{
    it->meta = lfu_minutes() << 8 | lfu_log_incr(evict_lfu_freq(it));
}

/* ---- buckets ---- */

static inline void
list_init(struct item *s)
{
    s->prev = s->next = s;
}

static inline bool
list_empty(const struct item *s)
{
    return s->next == s;
}

/* Adds it at the recent end (s->next); the victim end is s->prev. */
static inline void
list_push(struct item *s, struct item *it)
{
    it->prev = s;
    it->next = s->next;
    s->next->prev = it;
    s->next = it;
}

/* Moves the keys of list from to the recent end of list to, in order. */
static void
list_splice(struct item *from, struct item *to)
{
    if (list_empty(from)) {
        return;
    }
    struct item *first = from->next, *last = from->prev;
    last->next = to->next;
    to->next->prev = last;
    to->next = first;
    first->prev = to;
    list_init(from);
}

static inline void
mark(unsigned slot, bool on)
{
    uint64_t bit = 1ULL << (slot % 64);
    nonempty[slot / 64] = on ? nonempty[slot / 64] | bit : nonempty[slot / 64] & ~bit;
}

static uint64_t
epoch_now(void)
{
    return decay > 0 ? (uint64_t)(clock_now_ms() / 60000) / (uint64_t)decay : 0;
}

/* Files it under its decayed counter (just set by an access, or read as
 * redis would at a policy switch). */
static void
bucket_add(struct item *it)
{
    unsigned f = evict_lfu_freq(it);

    if (f == 0) {
        list_push(&zero, it);
        return;
    }
    unsigned slot = (unsigned)((epoch + f) % LFU_RING);
    list_push(&ring[slot], it);
    mark(slot, true);
}

static void
bucket_remove(struct item *it)
{
    struct item *p = it->prev, *n = it->next;

    p->next = n;
    n->prev = p;
    /* Alone with its sentinel: the bucket is now empty. */
    if (p == n && p >= ring && p < ring + LFU_RING) {
        mark((unsigned)(p - ring), false);
    }
}

static void
lfu_start(void)
{
    for (unsigned i = 0; i < LFU_RING; i++) {
        list_init(&ring[i]);
    }
    list_init(&zero);
    memset(nonempty, 0, sizeof(nonempty));
    decay = evict_opts.lfu_decay_time;
    epoch = epoch_now();
}

/* lfu-decay-time changed: every key is filed again under its counter as
 * redis reads it now. */
static void
rebucket(void)
{
    struct item all;

    list_init(&all);
    for (unsigned i = 0; i < LFU_RING; i++) {
        list_splice(&ring[i], &all);
    }
    list_splice(&zero, &all);
    lfu_start();
    /* Oldest first, so that each bucket keeps the keys' recency order. */
    while (!list_empty(&all)) {
        struct item *it = all.prev;
        bucket_remove(it);
        bucket_add(it);
    }
}

/* Folds the buckets the epoch has passed into the zero list, lowest first:
 * within zero, keys that reached 0 earlier are evicted first. */
static void
sync_epoch(void)
{
    if (evict_opts.lfu_decay_time != decay) {
        rebucket();
        return;
    }
    uint64_t now = epoch_now();
    for (uint64_t b = epoch + 1; b <= now && b <= epoch + LFU_RING; b++) {
        unsigned slot = (unsigned)(b % LFU_RING);
        list_splice(&ring[slot], &zero);
        mark(slot, false);
    }
    epoch = now > epoch ? now : epoch;
}

static void
lfu_attach(struct item *it)
{
    sync_epoch();
    bucket_add(it);
}

static void
lfu_detach(struct item *it)
{
    bucket_remove(it);
}

static void
lfu_touch(struct item *it)
{
    sync_epoch();
    bucket_remove(it);
    bucket_add(it);
}

static void
lfu_moved(struct item *from, struct item *to)
{
    (void)from;
    to->prev->next = to;
    to->next->prev = to;
}

/* The first non-empty ring slot at or after start, cyclically; -1: none. */
static int
first_nonempty(unsigned start)
{
    for (unsigned k = 0; k <= LFU_RING_WORDS; k++) {
        unsigned w = (start / 64 + k) % LFU_RING_WORDS;
        uint64_t bits = nonempty[w];
        if (k == 0) {
            bits &= ~0ULL << (start % 64);
        } else if (k == LFU_RING_WORDS) {
            bits &= (1ULL << (start % 64)) - 1; /* the first word's lower part */
        }
        if (bits != 0) {
            return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
        }
    }
    return -1;
}

static struct item *
lfu_victim(void)
{
    sync_epoch();
    if (!list_empty(&zero)) {
        return zero.prev;
    }
    int slot = first_nonempty((unsigned)((epoch + 1) % LFU_RING));
    return slot < 0 ? NULL : ring[slot].prev;
}

/* The allkeys- and volatile- variants share their hooks; the keyspace
 * hooks in evict.c pass a volatile- policy only the keys with a TTL. */
#define LFU_HOOKS                                                                                  \
    .start = lfu_start, .stop = lfu_start, .attach = lfu_attach, .detach = lfu_detach,             \
    .touch = lfu_touch, .moved = lfu_moved, .victim = lfu_victim

const struct evict_ops evict_lfu_allkeys = {
    .name = "allkeys-lfu",
    .lfu = true,
    LFU_HOOKS,
};

const struct evict_ops evict_lfu_volatile = {
    .name = "volatile-lfu",
    .volatile_only = true,
    .lfu = true,
    LFU_HOOKS,
};
