/*
 * evict_lfu.c -- allkeys-lfu and volatile-lfu with redis's semantics.
 *
 * Per key, meta holds what redis keeps in its 24 LFU bits: the last decrement
 * time in minutes (16 bits) and a logarithmic access counter (8 bits).  An
 * access first decays the counter by one per lfu-decay-time minutes elapsed,
 * then increments it with probability 1 / ((counter - LFU_INIT) *
 * lfu-log-factor + 1), so 255 stands for about a million accesses at the
 * default factor of 10.  New keys start at LFU_INIT so they are not evicted
 * before they had a chance to be read again.
 *
 * Eviction samples maxmemory-samples keys into the candidate pool, scored by
 * 255 - decayed counter, and evicts the best, as redis does.
 */
#include "node/evict.h"

#include "common/clock.h"
#include "node/kv.h"

#include <stdint.h>
#include <stdlib.h>

#define LFU_INIT 5

static struct evict_pool pool;

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
    unsigned ldt = it->meta >> 8, counter = it->meta & 0xff;
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

static void
lfu_start(void)
{
    evict_pool_clear(&pool);
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

/* The counter lives in meta for every key (evict.c); the policy only keeps
 * its candidate pool. */
static void
lfu_attach(struct item *it)
{
    (void)it;
}

static void
lfu_detach(struct item *it)
{
    evict_pool_forget(&pool, it);
}

static void
lfu_moved(struct item *from, struct item *to)
{
    evict_pool_moved(&pool, from, to);
}

static uint64_t
lfu_score(struct item *it)
{
    return 255 - evict_lfu_freq(it);
}

static struct item *
lfu_victim_all(void)
{
    evict_pool_sample(&pool, false, lfu_score);
    return evict_pool_pop(&pool);
}

static struct item *
lfu_victim_volatile(void)
{
    evict_pool_sample(&pool, true, lfu_score);
    return evict_pool_pop(&pool);
}

const struct evict_ops evict_lfu_allkeys = {
    .name = "allkeys-lfu",
    .lfu = true,
    .start = lfu_start,
    .stop = lfu_start,
    .attach = lfu_attach,
    .detach = lfu_detach,
    .touch = lfu_attach,
    .moved = lfu_moved,
    .victim = lfu_victim_all,
};

const struct evict_ops evict_lfu_volatile = {
    .name = "volatile-lfu",
    .volatile_only = true,
    .lfu = true,
    .start = lfu_start,
    .stop = lfu_start,
    .attach = lfu_attach,
    .detach = lfu_detach,
    .touch = lfu_attach,
    .moved = lfu_moved,
    .victim = lfu_victim_volatile,
};
