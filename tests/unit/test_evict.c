/*
 * test_evict.c -- every maxmemory-policy through the keyspace, as the node
 * drives it: keys are added with kv_add, read with kv_lookup, given or
 * stripped of a TTL, and evict_perform() frees memory until used memory is
 * under maxmemory.  Each test sets maxmemory one byte under the memory in
 * use, so one call evicts exactly one key, and checks which key went against
 * a reference kept by the test (an LRU list, the soonest expire time, access
 * counts).  Time is the loop's cached clock, set directly.
 */
#define TEST_SUITE "evict"
#include "tests/unit/testhelp.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/mem.h"
#include "node/evict.h"
#include "node/kv.h"

#include <stdlib.h>

#define BASE_MS 1700000000000LL /* some time in 2023 */
#define NKEYS 64
#define FUTURE (BASE_MS + 3600 * 1000)

static char names[NKEYS][16];

static void
setup(int policy)
{
    evict_opts = (struct evict_options){
        .maxmemory = 0,
        .policy = policy,
        .samples = 5,
        .lfu_log_factor = 10,
        .lfu_decay_time = 1,
    };
    memset(&kv_stats, 0, sizeof(kv_stats));
    clock_cached_ms = BASE_MS;
    for (int i = 0; i < NKEYS; i++) {
        snprintf(names[i], sizeof(names[i]), "key:%d", i);
    }
    kv_setup();
    evict_setup();
}

static void
teardown(void)
{
    evict_teardown();
    kv_teardown();
    buf_pool_drain();
}

/* Adds key i, with an expire time if expire_ms >= 0. */
static void
put(int i, long long expire_ms)
{
    const char *k = names[i];
    struct item *it = item_try_create(k, strlen(k), "some value", 10, 10, expire_ms >= 0);

    if (expire_ms >= 0) {
        item_set_expire_field(it, expire_ms);
    }
    kv_add(it);
}

static struct item *
lookup(int i, int flags)
{
    return kv_lookup(names[i], strlen(names[i]), flags);
}

static bool
present(int i)
{
    return lookup(i, KV_NOTOUCH | KV_NOSTATS) != NULL;
}

/* Adds keys 0..n-1 without a TTL, marking them in. */
static void
put_plain(int n, bool *in)
{
    for (int i = 0; i < n; i++) {
        put(i, -1);
        in[i] = true;
    }
}

/* One evict_perform() with maxmemory one byte under what is in use: evicts
 * exactly one key if the policy has one. */
static int
evict_one(void)
{
    evict_opts.maxmemory = evict_used_memory() - 1;
    int rc = evict_perform();
    evict_opts.maxmemory = 0;
    return rc;
}

/* Which of the keys marked in was evicted by evict_one(): -1 if none, -2 if
 * more than one; clears its mark. */
static int
evict_which(bool *in)
{
    int gone = -1;

    if (evict_one() != SC_OK) {
        return -1;
    }
    for (int i = 0; i < NKEYS; i++) {
        if (in[i] && !present(i)) {
            gone = gone == -1 ? i : -2;
            in[i] = false;
        }
    }
    return gone;
}

/* ----------------------------------------------------------- basics */

static void
test_no_limit_and_noeviction(void)
{
    setup(EVICT_NOEVICTION);
    for (int i = 0; i < 10; i++) {
        put(i, -1);
    }
    evict_opts.maxmemory = 0;
    CHECK(evict_perform() == SC_OK); /* no limit */
    evict_opts.maxmemory = evict_used_memory() + 1000;
    CHECK(evict_perform() == SC_OK); /* under the limit */
    CHECK(evict_one() == SC_ERR);    /* over it, and nothing may go */
    CHECK_INT(kv_count(), 10);
    CHECK_INT(kv_stats.evicted, 0);
    CHECK_STR(evict_current()->name, "noeviction");
    teardown();
}

static void
test_volatile_without_ttl_keys(void)
{
    static const int policies[] = {EVICT_VOLATILE_LRU, EVICT_VOLATILE_LFU, EVICT_VOLATILE_RANDOM,
                                   EVICT_VOLATILE_TTL};

    for (size_t p = 0; p < ARRAY_LEN(policies); p++) {
        setup(policies[p]);
        for (int i = 0; i < 10; i++) {
            put(i, -1);
        }
        CHECK(evict_one() == SC_ERR);
        CHECK_INT(kv_count(), 10);
        CHECK_INT(kv_stats.evicted, 0);
        teardown();
    }
}

/* -------------------------------------------------------------- LRU */

/* The reference: key numbers from least to most recently used. */
struct lru_ref {
    int order[NKEYS];
    int n;
};

static void
ref_remove(struct lru_ref *r, int k)
{
    for (int i = 0; i < r->n; i++) {
        if (r->order[i] == k) {
            memmove(&r->order[i], &r->order[i + 1], (size_t)(r->n - i - 1) * sizeof(int));
            r->n--;
            return;
        }
    }
}

static void
ref_use(struct lru_ref *r, int k)
{
    ref_remove(r, k);
    r->order[r->n++] = k;
}

/* Random operations on the keyspace, mirrored in the reference; every
 * eviction must take the reference's least recently used key.  Under
 * volatile-lru only keys with a TTL are in the reference.  Returns the
 * number of evictions that disagreed. */
static int
lru_random_ops(bool volatile_only, int rounds, int *evictions)
{
    struct lru_ref ref = {.n = 0};
    bool in[NKEYS] = {0}, ttl[NKEYS] = {0};
    int wrong = 0;

    for (int i = 0; i < 30; i++) {
        ttl[i] = i % 2 == 0;
        put(i, ttl[i] ? FUTURE : -1);
        in[i] = true;
        if (ttl[i] || !volatile_only) {
            ref_use(&ref, i);
        }
    }
    for (int round = 0; round < rounds; round++) {
        int k = (int)(random() % NKEYS);
        int op = (int)(random() % 100);
        bool eligible = ttl[k] || !volatile_only;
        if (op < 40 && in[k]) {
            CHECK(lookup(k, 0) != NULL); /* a read: most recently used now */
            if (eligible) {
                ref_use(&ref, k);
            }
        } else if (op < 48 && in[k]) {
            lookup(k, KV_NOTOUCH); /* OBJECT-style peek: no change */
        } else if (op < 62 && !in[k]) {
            ttl[k] = random() % 2 == 0;
            put(k, ttl[k] ? FUTURE : -1);
            in[k] = true;
            if (ttl[k] || !volatile_only) {
                ref_use(&ref, k);
            }
        } else if (op < 70 && in[k]) {
            kv_delete(lookup(k, KV_NOTOUCH | KV_NOSTATS));
            in[k] = false;
            ref_remove(&ref, k);
        } else if (op < 78 && in[k]) {
            /* EXPIRE or PERSIST reallocates the item: it keeps its place,
             * or under volatile-lru joins (as new) or leaves the list. */
            struct item *it = lookup(k, KV_NOTOUCH | KV_NOSTATS);
            if (ttl[k]) {
                CHECK(kv_persist(&it) == SC_OK);
            } else {
                CHECK(kv_set_expire(&it, FUTURE + k) == SC_OK);
            }
            ttl[k] = !ttl[k];
            if (volatile_only && ttl[k]) {
                ref_use(&ref, k);
            } else if (volatile_only) {
                ref_remove(&ref, k);
            }
        } else if (op >= 78) {
            int want = ref.n > 0 ? ref.order[0] : -1;
            int got = evict_which(in);
            (*evictions)++;
            if (got != want) {
                if (wrong == 0) {
                    fprintf(stderr, "  lru: evicted %d, reference says %d\n", got, want);
                }
                wrong++;
            }
            if (got >= 0) {
                ref_remove(&ref, got);
            }
        }
    }
    /* Whatever is left goes in reference order. */
    while (ref.n > 0) {
        int want = ref.order[0];
        int got = evict_which(in);
        (*evictions)++;
        wrong += got != want;
        ref_remove(&ref, want);
    }
    CHECK(evict_one() == SC_ERR); /* nothing eligible is left */
    return wrong;
}

static void
test_lru_exact_order(void)
{
    int evictions = 0;

    srandom(1);
    setup(EVICT_ALLKEYS_LRU);
    CHECK_STR(evict_current()->name, "allkeys-lru");
    CHECK_INT(lru_random_ops(false, 3000, &evictions), 0);
    CHECK(evictions > 300);
    CHECK_INT(kv_stats.evicted, evictions);
    teardown();
}

static void
test_lru_volatile_exact_order(void)
{
    int evictions = 0;

    srandom(2);
    setup(EVICT_VOLATILE_LRU);
    CHECK_INT(lru_random_ops(true, 3000, &evictions), 0);
    CHECK(evictions > 300);
    /* Only keys without a TTL are left, and they are never evicted. */
    CHECK_INT(kv_volatile_count(), 0);
    uint64_t left = kv_count();
    CHECK(evict_one() == SC_ERR);
    CHECK_INT(kv_count(), left);
    teardown();
}

static void
test_lru_touch_changes_victim(void)
{
    bool in[NKEYS] = {0};

    setup(EVICT_ALLKEYS_LRU);
    put_plain(3, in);
    lookup(0, 0);                         /* 0 becomes the most recent: 1 is the oldest */
    lookup(1, KV_NOTOUCH);                /* a peek does not count */
    CHECK(lookup(1, KV_NOSTATS) != NULL); /* a write lookup does count */
    CHECK_INT(evict_which(in), 2);
    CHECK_INT(evict_which(in), 0);
    CHECK_INT(evict_which(in), 1);
    CHECK_INT(kv_count(), 0);
    teardown();
}

static void
test_lru_expired_and_flushed_keys(void)
{
    bool in[NKEYS] = {0};

    setup(EVICT_VOLATILE_LRU);
    put(0, BASE_MS + 1000);
    put(1, BASE_MS + 5000);
    put(2, BASE_MS + 9000);
    in[0] = in[1] = in[2] = true;
    /* Key 0 expires and is deleted lazily: it must leave the LRU list. */
    clock_cached_ms = BASE_MS + 2000;
    CHECK(lookup(0, 0) == NULL);
    in[0] = false;
    CHECK_INT(kv_stats.expired, 1);
    CHECK_INT(evict_which(in), 1);

    /* FLUSHALL forgets the list; new keys start a fresh order. */
    kv_flush(false);
    CHECK_INT(kv_count(), 0);
    CHECK(evict_one() == SC_ERR);
    memset(in, 0, sizeof(in));
    for (int i = 10; i < 13; i++) {
        put(i, FUTURE);
        in[i] = true;
    }
    CHECK_INT(evict_which(in), 10);
    CHECK_INT(evict_which(in), 11);
    teardown();
}

static void
test_idle_seconds(void)
{
    setup(EVICT_ALLKEYS_LRU);
    put(0, -1);
    clock_cached_ms += 5000;
    CHECK_INT(evict_idle_seconds(lookup(0, KV_NOTOUCH)), 5);
    CHECK_INT(evict_idle_seconds(lookup(0, 0)), 0);
    clock_cached_ms += 61000;
    CHECK_INT(evict_idle_seconds(lookup(0, KV_NOTOUCH)), 61);
    teardown();
}

static void
test_out_of_memory_keeps_order(void)
{
    bool in[NKEYS] = {0};

    /* A TTL that cannot be added for lack of memory leaves the key as it
     * was: same item, no TTL, same place in the LRU order. */
    setup(EVICT_ALLKEYS_LRU);
    put_plain(3, in);
    struct item *it = lookup(0, KV_NOTOUCH), *before = it;
    mem_fail_after(1);
    CHECK(kv_set_expire(&it, FUTURE) == SC_ENOMEM);
    mem_fail_after(0);
    CHECK(it == before && item_expire(it) == -1);
    CHECK_INT(kv_volatile_count(), 0);
    mem_fail_after(1);
    CHECK(item_try_create("k", 1, "v", 1, 1, false) == NULL);
    mem_fail_after(0);
    CHECK_INT(evict_which(in), 0);
    CHECK_INT(evict_which(in), 1);
    CHECK_INT(evict_which(in), 2);
    teardown();
}

/* ------------------------------------------------------- volatile-ttl */

static void
test_ttl_soonest_first(void)
{
    enum { N = 12, TRIALS = 30 };
    int wrong = 0, total = 0;

    srandom(3);
    for (int t = 0; t < TRIALS; t++) {
        bool in[NKEYS] = {0};
        long long when[NKEYS];
        setup(EVICT_VOLATILE_TTL);
        evict_opts.samples = N; /* as many samples as keys: the choice must be exact */
        for (int i = 0; i < N; i++) {
            when[i] = BASE_MS + 1000 + (long long)(random() % 1000000) * 8 + i;
            put(i, when[i]);
            in[i] = true;
        }
        for (int i = N; i < N + 5; i++) {
            put(i, -1); /* keys that cannot expire are never candidates */
        }
        for (int e = 0; e < N; e++) {
            int soonest = -1;
            for (int i = 0; i < N; i++) {
                if (in[i] && (soonest < 0 || when[i] < when[soonest])) {
                    soonest = i;
                }
            }
            int got = evict_which(in);
            total++;
            if (got != soonest) {
                if (wrong == 0) {
                    fprintf(stderr, "  volatile-ttl trial %d: evicted %d, soonest is %d\n", t, got,
                            soonest);
                }
                wrong++;
            }
        }
        CHECK(evict_one() == SC_ERR); /* only keys without a TTL are left */
        CHECK_INT(kv_count(), 5);
        teardown();
    }
    if (wrong != 0) {
        fprintf(stderr, "  volatile-ttl: %d of %d evictions were not the soonest key\n", wrong,
                total);
    }
    CHECK_INT(wrong, 0);
}

/* ------------------------------------------------------------- random */

static void
test_random_counts(void)
{
    int ttl_gone = 0, plain_gone = 0;

    srandom(4);
    for (int t = 0; t < 20; t++) {
        bool in[NKEYS] = {0};
        setup(EVICT_ALLKEYS_RANDOM);
        for (int i = 0; i < 40; i++) {
            put(i, i % 2 ? FUTURE : -1);
            in[i] = true;
        }
        int evicted = 0;
        for (int e = 0; e < 10; e++) {
            int got = evict_which(in);
            evicted += got >= 0;
            if (got >= 0) {
                ttl_gone += got % 2;
                plain_gone += 1 - got % 2;
            }
        }
        CHECK_INT(evicted, 10);
        CHECK_INT(kv_count(), 30);
        CHECK_INT(kv_stats.evicted, 10);
        teardown();
    }
    /* allkeys: both kinds go, in about equal numbers (200 draws) */
    CHECK(ttl_gone > 60 && plain_gone > 60);
}

static void
test_volatile_random(void)
{
    bool in[NKEYS] = {0};
    int only_ttl = 0;

    srandom(5);
    setup(EVICT_VOLATILE_RANDOM);
    for (int i = 0; i < 40; i++) {
        put(i, i % 2 ? FUTURE : -1);
        in[i] = true;
    }
    for (int e = 0; e < 20; e++) {
        int got = evict_which(in);
        only_ttl += got >= 0 && got % 2 == 1;
    }
    CHECK_INT(only_ttl, 20);
    CHECK_INT(kv_volatile_count(), 0);
    CHECK(evict_one() == SC_ERR);
    CHECK_INT(kv_count(), 20);
    CHECK_INT(kv_stats.evicted, 20);
    teardown();
}

/* ---------------------------------------------------------------- LFU */

static void
test_lfu_freq_semantics(void)
{
    setup(EVICT_ALLKEYS_LFU);
    clock_cached_ms = BASE_MS / 60000 * 60000; /* on a minute: decay counts whole minutes */
    CHECK(evict_current()->lfu);
    put(0, -1);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 5); /* new keys start at LFU_INIT */
    lookup(0, 0);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 6); /* the first hit always counts */
    evict_opts.lfu_log_factor = 0;                       /* every hit counts */
    for (int i = 0; i < 9; i++) {
        lookup(0, 0);
    }
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 15);
    lookup(0, KV_NOTOUCH);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 15);

    /* Decay: one per lfu-decay-time minutes since the last access. */
    clock_cached_ms += 3 * 60000 + 1000;
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 12);
    evict_opts.lfu_decay_time = 2;
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 14);
    evict_opts.lfu_decay_time = 0; /* no decay */
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 15);
    evict_opts.lfu_decay_time = 1;
    lookup(0, 0); /* decays to 12, counts the hit: 13, from now */
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 13);
    clock_cached_ms += 58000; /* 3:01 -> 3:59, the same minute */
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 13);
    clock_cached_ms += 100 * 60000;
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 0); /* floors at 0 */

    /* The counter saturates at 255. */
    for (int i = 0; i < 300; i++) {
        lookup(0, 0);
    }
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 255);

    /* With the default factor, growth is logarithmic: 1000 hits stay far
     * below 255 (redis's table: ~18 at factor 10 for 1000 hits). */
    evict_opts.lfu_log_factor = 10;
    put(1, -1);
    for (int i = 0; i < 1000; i++) {
        lookup(1, 0);
    }
    unsigned f = evict_lfu_freq(lookup(1, KV_NOTOUCH));
    CHECK(f > 8 && f < 40);
    teardown();
}

static void
test_lfu_volatile_counts_every_key(void)
{
    /* redis keeps an LFU counter on every key while an LFU policy is set,
     * TTL or not (OBJECT FREQ shows it; redis-server 7.0 under volatile-lfu:
     * SET k v -> 5, GET k -> 6, EXPIRE k 1000 -> still 6). */
    setup(EVICT_VOLATILE_LFU);
    put(0, -1);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 5);
    lookup(0, 0);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 6);
    struct item *it = lookup(0, KV_NOTOUCH);
    CHECK(kv_set_expire(&it, FUTURE) == SC_OK);
    CHECK_INT(evict_lfu_freq(lookup(0, KV_NOTOUCH)), 6); /* the count survives EXPIRE */
    teardown();
}

/* Hot keys (read `hits` times each) and cold ones; evicts `n` keys and
 * returns how many hot keys were among them. */
static int
lfu_hot_evicted(int policy, int n)
{
    bool in[NKEYS] = {0};
    int hot_gone = 0;

    setup(policy);
    evict_opts.lfu_log_factor = 0;
    evict_opts.samples = 20;
    for (int i = 0; i < 40; i++) {
        put(i, policy == EVICT_VOLATILE_LFU && i >= 30 ? -1 : FUTURE);
        in[i] = true;
    }
    for (int hit = 0; hit < 20; hit++) {
        for (int i = 0; i < 40; i += 2) { /* even keys are hot */
            lookup(i, 0);
        }
    }
    for (int e = 0; e < n; e++) {
        int got = evict_which(in);
        CHECK(got >= 0);
        hot_gone += got >= 0 && got % 2 == 0;
        if (policy == EVICT_VOLATILE_LFU) {
            CHECK(got < 30); /* never a key without a TTL */
        }
    }
    teardown();
    return hot_gone;
}

static void
test_lfu_hot_keys_survive(void)
{
    srandom(6);
    CHECK_INT(lfu_hot_evicted(EVICT_ALLKEYS_LFU, 15), 0);
    CHECK_INT(lfu_hot_evicted(EVICT_VOLATILE_LFU, 10), 0);
}

static void
test_pool_order(void)
{
    static struct item its[EVICT_POOL_SIZE + 8]; /* only their addresses are used */
    struct evict_pool p;
    int ok = 0;

    /* Scores offered in any order come out best (highest) first. */
    evict_pool_clear(&p);
    static const uint64_t sc[] = {7, 3, 9, 1, 5, 8, 2};
    for (size_t i = 0; i < ARRAY_LEN(sc); i++) {
        evict_pool_offer(&p, &its[sc[i]], sc[i]);
    }
    for (uint64_t want = 9; want >= 1; want--) {
        if (want == 4 || want == 6) {
            continue;
        }
        ok += evict_pool_pop(&p) == &its[want];
    }
    CHECK_INT(ok, ARRAY_LEN(sc));
    CHECK(evict_pool_pop(&p) == NULL);

    /* Full: the worst candidates are dropped. */
    for (int i = 0; i < EVICT_POOL_SIZE + 8; i++) {
        evict_pool_offer(&p, &its[i], (uint64_t)i + 100);
    }
    CHECK_INT(p.n, EVICT_POOL_SIZE);
    evict_pool_offer(&p, &its[0], 1); /* worse than all kept: ignored */
    CHECK_INT(p.n, EVICT_POOL_SIZE);
    ok = 0;
    for (int i = EVICT_POOL_SIZE + 7; i >= 8; i--) {
        ok += evict_pool_pop(&p) == &its[i];
    }
    CHECK_INT(ok, EVICT_POOL_SIZE);
    CHECK(evict_pool_pop(&p) == NULL);

    /* Forget and moved. */
    evict_pool_clear(&p);
    evict_pool_offer(&p, &its[0], 10);
    evict_pool_offer(&p, &its[1], 20);
    evict_pool_forget(&p, &its[1]);
    evict_pool_moved(&p, &its[0], &its[2]);
    CHECK(evict_pool_pop(&p) == &its[2] && evict_pool_pop(&p) == NULL);

    /* A candidate sampled again with a new score must take the place that
     * score gives it: the pool is kept sorted, and pop takes the best. */
    evict_pool_clear(&p);
    evict_pool_offer(&p, &its[0], 10);
    evict_pool_offer(&p, &its[1], 20);
    evict_pool_offer(&p, &its[0], 30); /* its[0] is now the best candidate */
    CHECK_INT(p.n, 2);
    CHECK(evict_pool_pop(&p) == &its[0]);
    evict_pool_clear(&p);
    evict_pool_offer(&p, &its[0], 30);
    evict_pool_offer(&p, &its[1], 20);
    evict_pool_offer(&p, &its[0], 10); /* its[0] got hot: its[1] goes first */
    CHECK(evict_pool_pop(&p) == &its[1]);
}

/* ------------------------------------------------------ policy switch */

static void
switch_to(int policy, const char *name)
{
    evict_opts.policy = policy;
    evict_policy_changed();
    CHECK_STR(evict_current()->name, name);
}

static void
test_policy_switch(void)
{
    bool in[NKEYS] = {0};

    srandom(7);
    setup(EVICT_ALLKEYS_LRU);
    for (int i = 0; i < 40; i++) {
        put(i, i < 20 ? BASE_MS + 10000 + i * 1000 : -1); /* 0..19 have a TTL */
        in[i] = true;
    }

    /* volatile-lru: keys with a TTL only */
    switch_to(EVICT_VOLATILE_LRU, "volatile-lru");
    int got = evict_which(in);
    CHECK(got >= 0 && got < 20);

    /* allkeys-lfu: keys that are read survive */
    switch_to(EVICT_ALLKEYS_LFU, "allkeys-lfu");
    evict_opts.lfu_log_factor = 0;
    evict_opts.samples = 40;
    for (int hit = 0; hit < 10; hit++) {
        for (int i = 0; i < 40; i += 2) {
            if (in[i]) {
                lookup(i, 0);
            }
        }
    }
    int hot_gone = 0;
    for (int e = 0; e < 5; e++) {
        got = evict_which(in);
        hot_gone += got < 0 || got % 2 == 0;
    }
    CHECK_INT(hot_gone, 0);

    /* noeviction refuses; nothing goes */
    switch_to(EVICT_NOEVICTION, "noeviction");
    uint64_t before = kv_count();
    CHECK(evict_one() == SC_ERR);
    CHECK_INT(kv_count(), before);

    /* volatile-ttl with every key sampled: the soonest expire time goes */
    switch_to(EVICT_VOLATILE_TTL, "volatile-ttl");
    evict_opts.samples = 200; /* ~15 keys: each is almost surely sampled */
    int soonest = -1;
    for (int i = 0; i < 20; i++) {
        if (in[i]) {
            soonest = soonest < 0 ? i : soonest; /* expire times grow with i */
        }
    }
    got = evict_which(in);
    CHECK(got >= 0 && got < 20);
    CHECK_INT(got, soonest);

    /* allkeys-random: any key */
    switch_to(EVICT_ALLKEYS_RANDOM, "allkeys-random");
    got = evict_which(in);
    CHECK(got >= 0);

    /* back to allkeys-lru: the order restarts; reading every key in a known
     * order makes that order the eviction order */
    switch_to(EVICT_ALLKEYS_LRU, "allkeys-lru");
    int order[NKEYS], n = 0;
    for (int i = 39; i >= 0; i--) {
        if (in[i]) {
            lookup(i, 0);
            order[n++] = i;
        }
    }
    int right = 0;
    for (int e = 0; e < n; e++) {
        right += evict_which(in) == order[e];
    }
    CHECK_INT(right, n);
    CHECK_INT(kv_count(), 0);
    teardown();
}

TEST_MAIN(test_no_limit_and_noeviction, test_volatile_without_ttl_keys, test_lru_exact_order,
          test_lru_volatile_exact_order, test_lru_touch_changes_victim,
          test_lru_expired_and_flushed_keys, test_out_of_memory_keeps_order, test_idle_seconds,
          test_ttl_soonest_first, test_random_counts, test_volatile_random, test_lfu_freq_semantics,
          test_lfu_volatile_counts_every_key, test_lfu_hot_keys_survive, test_pool_order,
          test_policy_switch)
