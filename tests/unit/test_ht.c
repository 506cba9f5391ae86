/*
 * test_ht.c -- the keyspace's hash table: lookups through growth, shrinking
 * and incremental rehashing; the SCAN guarantee (a key present for the whole
 * scan is returned at least once, however the table is resized between
 * cursor steps); random sampling returns members, each about equally often.
 *
 * Entries are test nodes keyed by a 64-bit number; a shadow array says which
 * keys are in the table, so every answer is checked against the truth.
 */
#define TEST_SUITE "ht"
#include "tests/unit/testhelp.h"

#include "common/mem.h"
#include "common/ht.h"

#include <stdlib.h>

struct tnode {
    struct ht_node hn;
    uint64_t key;
    bool in;     /* in the table (the shadow truth) */
    bool stable; /* in for the whole of the current scan */
    int seen;    /* times the current scan returned it */
};

static uint64_t
tnode_hash(const struct ht_node *n)
{
    const struct tnode *t = (const struct tnode *)n;
    return ht_hash(&t->key, sizeof(t->key));
}

static bool
tnode_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct tnode *t = (const struct tnode *)n;
    return len == sizeof(t->key) && memcmp(&t->key, key, len) == 0;
}

static const struct ht_type tnode_type = {tnode_hash, tnode_eq};

static uint64_t
key_hash(uint64_t k)
{
    return ht_hash(&k, sizeof(k));
}

static struct tnode *
find(struct ht *h, uint64_t k)
{
    return (struct tnode *)ht_find(h, &k, sizeof(k), key_hash(k));
}

static void
add(struct ht *h, struct tnode *n)
{
    ht_insert(h, &n->hn, key_hash(n->key));
    n->in = true;
}

static void
del(struct ht *h, struct tnode *n)
{
    ht_remove(h, &n->hn, key_hash(n->key));
    n->in = false;
}

static bool
rehashing(const struct ht *h)
{
    return h->rehash_idx >= 0;
}

/* A pool of nodes with distinct keys; key i*7919+1 so keys are not dense. */
static struct tnode *
make_nodes(size_t n)
{
    struct tnode *v = mem_calloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i].key = (uint64_t)i * 7919 + 1;
    }
    return v;
}

/* Whether the table holds exactly the nodes marked in. */
static bool
agrees(struct ht *h, struct tnode *v, size_t n)
{
    uint64_t in = 0;

    for (size_t i = 0; i < n; i++) {
        struct tnode *f = find(h, v[i].key);
        if (v[i].in ? f != &v[i] : f != NULL) {
            fprintf(stderr, "  key %llu: found %p, in=%d\n", (unsigned long long)v[i].key,
                    (void *)f, v[i].in);
            return false;
        }
        in += v[i].in;
    }
    return ht_count(h) == in;
}

static void
seed(void)
{
    static const uint8_t s[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    ht_seed(s);
    srandom(42);
}

/* A fresh table (fixed hash seed and random sequence) holding the first
 * n of v's nodes. */
static void
table_with(struct ht *h, struct tnode *v, size_t n)
{
    seed();
    ht_init(h, &tnode_type);
    for (size_t i = 0; i < n; i++) {
        add(h, &v[i]);
    }
}

static void
test_insert_find_remove(void)
{
    struct ht h;
    enum { N = 5000 };
    struct tnode *v = make_nodes(N);

    seed();
    ht_init(&h, &tnode_type);
    CHECK(find(&h, 1) == NULL);
    CHECK(ht_random(&h) == NULL);
    CHECK_INT(ht_count(&h), 0);

    for (size_t i = 0; i < N; i++) {
        add(&h, &v[i]);
    }
    CHECK_INT(ht_count(&h), N);
    CHECK(agrees(&h, v, N));
    uint64_t missing = 2; /* keys are 1 mod 7919 */
    CHECK(find(&h, missing) == NULL);

    /* Remove every third; the rest stay findable, even mid-rehash. */
    for (size_t i = 0; i < N; i += 3) {
        del(&h, &v[i]);
    }
    CHECK(agrees(&h, v, N));
    for (size_t i = 0; i < N; i++) {
        if (!v[i].in) {
            add(&h, &v[i]);
        }
    }
    CHECK(agrees(&h, v, N));
    ht_deinit(&h);
    CHECK_INT(ht_count(&h), 0);
    mem_free(v);
}

static void
test_growth_keeps_load(void)
{
    struct ht h;
    enum { N = 100000 };
    struct tnode *v = make_nodes(N);
    int bad_sizes = 0;

    seed();
    ht_init(&h, &tnode_type);
    for (size_t i = 0; i < N; i++) {
        add(&h, &v[i]);
        uint64_t s = rehashing(&h) ? h.t[1].size : h.t[0].size;
        /* sizes are powers of two, and a resize starts once used reaches size */
        bad_sizes += (s & (s - 1)) != 0 || (!rehashing(&h) && h.t[0].used > h.t[0].size);
    }
    CHECK_INT(bad_sizes, 0);
    while (ht_rehash_step(&h, 100)) {
    }
    CHECK(!rehashing(&h));
    CHECK(h.t[0].size >= N / 2 && h.t[0].size <= 2 * (uint64_t)N);
    CHECK_INT(h.t[1].size, 0);
    CHECK(agrees(&h, v, N));
    ht_deinit(&h);
    mem_free(v);
}

static void
test_shrink(void)
{
    struct ht h;
    enum { N = 20000, KEEP = 37 };
    struct tnode *v = make_nodes(N);

    table_with(&h, v, N);
    while (ht_rehash_step(&h, 100)) {
    }
    uint64_t big = h.t[0].size;
    size_t mem_big = ht_mem(&h);
    for (size_t i = KEEP; i < N; i++) {
        del(&h, &v[i]);
    }
    /* Deleting alone never resizes: the cron decides. */
    CHECK_INT(h.t[0].size, big);
    CHECK(!rehashing(&h));

    ht_maybe_shrink(&h);
    CHECK(rehashing(&h));

    /* Bounded work: one step moves one bucket and skips at most 10 empty ones. */
    int64_t before = h.rehash_idx;
    ht_rehash_step(&h, 1);
    CHECK(rehashing(&h) && h.rehash_idx - before <= 10);

    /* Lookups during the shrink (each also does a step). */
    int found = 0;
    for (size_t i = 0; i < KEEP; i++) {
        found += find(&h, v[i].key) == &v[i];
    }
    CHECK_INT(found, KEEP);
    CHECK(find(&h, v[KEEP].key) == NULL);

    int steps = 0;
    while (ht_rehash_step(&h, 1)) {
        steps++;
    }
    CHECK(steps > 10); /* it really was incremental */
    CHECK(!rehashing(&h));
    CHECK_INT(h.t[0].size, 64); /* the power of two that holds KEEP keys */
    CHECK(ht_mem(&h) < mem_big / 100);
    CHECK(agrees(&h, v, N));

    /* A dense table does not shrink. */
    ht_maybe_shrink(&h);
    CHECK(!rehashing(&h) && h.t[0].size == 64);

    /* Emptied completely, it shrinks to the initial size. */
    for (size_t i = 0; i < KEEP; i++) {
        del(&h, &v[i]);
    }
    ht_maybe_shrink(&h);
    while (ht_rehash_step(&h, 1)) {
    }
    CHECK_INT(h.t[0].size, HT_INITIAL_SIZE);
    CHECK_INT(ht_count(&h), 0);
    ht_deinit(&h);
    mem_free(v);
}

static void
test_replace(void)
{
    struct ht h;
    enum { N = 520 }; /* a resize started at 513: still rehashing at 520 */
    struct tnode *v = make_nodes(N);
    struct tnode *w = make_nodes(N); /* same keys, other nodes */

    table_with(&h, v, N);
    CHECK(rehashing(&h));
    /* Replace every other node, in either table of the rehash. */
    int found_new = 0;
    for (size_t i = 0; i < N; i += 2) {
        ht_replace(&h, &v[i].hn, &w[i].hn, key_hash(v[i].key));
        v[i].in = false;
        w[i].in = true;
    }
    CHECK_INT(ht_count(&h), N);
    for (size_t i = 0; i < N; i++) {
        struct tnode *f = find(&h, v[i].key);
        found_new += f == (i % 2 == 0 ? &w[i] : &v[i]);
    }
    CHECK_INT(found_new, N);
    /* The replacement can be removed like any node. */
    for (size_t i = 0; i < N; i += 2) {
        del(&h, &w[i]);
    }
    CHECK_INT(ht_count(&h), N / 2);
    ht_deinit(&h);
    mem_free(v);
    mem_free(w);
}

static void
test_random_members(void)
{
    struct ht h;
    enum { N = 16, DRAWS = 32000 };
    struct tnode *v = make_nodes(N);
    int count[N] = {0};
    int members = 0;

    table_with(&h, v, N);
    for (int d = 0; d < DRAWS; d++) {
        struct tnode *t = (struct tnode *)ht_random(&h);
        if (t >= v && t < v + N) {
            members++;
            count[t - v]++;
        }
    }
    CHECK_INT(members, DRAWS);
    int lo = DRAWS, hi = 0;
    for (int i = 0; i < N; i++) {
        lo = MIN(lo, count[i]);
        hi = MAX(hi, count[i]);
    }
    /* Uniform would be 2000 each.  A bucket is drawn first, then a chain
     * position (redis dictGetRandomKey): keys sharing a bucket are drawn less
     * often, but every member comes up and none dominates. */
    CHECK(lo > DRAWS / (N * 8) && hi < DRAWS / 4);
    ht_deinit(&h);
    mem_free(v);
}

static void
test_random_while_rehashing(void)
{
    struct ht h;
    enum { N = 3000 };
    struct tnode *v = make_nodes(N);
    int members = 0, draws = 0;

    seed();
    ht_init(&h, &tnode_type);
    for (size_t i = 0; i < N; i++) {
        add(&h, &v[i]);
        if (i % 2) {
            continue;
        }
        struct tnode *t = (struct tnode *)ht_random(&h);
        draws++;
        members += t >= v && t <= &v[i] && t->in;
    }
    CHECK_INT(members, draws);
    while (ht_rehash_step(&h, 100)) {
    }
    /* Deleting most of it and shrinking: samples are still members. */
    for (size_t i = 0; i < N; i++) {
        if (i % 50 != 0) {
            del(&h, &v[i]);
        }
    }
    ht_maybe_shrink(&h);
    CHECK(rehashing(&h));
    members = draws = 0;
    for (int d = 0; d < 200; d++) {
        struct tnode *t = (struct tnode *)ht_random(&h);
        draws++;
        members += t >= v && t < v + N && t->in;
    }
    CHECK_INT(members, draws);
    ht_deinit(&h);
    mem_free(v);
}

static void
count_node(void *ctx, struct ht_node *n)
{
    (void)ctx;
    ((struct tnode *)n)->seen++;
}

static void
test_foreach_once(void)
{
    struct ht h;
    enum { N = 520 };
    struct tnode *v = make_nodes(N);

    table_with(&h, v, N);
    CHECK(rehashing(&h)); /* mid-rehash: both tables are walked */
    ht_foreach(&h, count_node, NULL);
    int once = 0;
    for (size_t i = 0; i < N; i++) {
        once += v[i].seen == 1;
    }
    CHECK_INT(once, N);
    ht_deinit(&h);
    mem_free(v);
}

/* One random change to the table that keeps stable nodes in: grow, shrink
 * or step a rehash. */
static void
churn(struct ht *h, struct tnode *v, size_t n, size_t nstable, int phase)
{
    size_t i = nstable + (size_t)random() % (n - nstable);
    int r = (int)(random() % 100);

    if (phase == 0 ? r < 85 : r < 15) { /* growing phase: mostly inserts */
        if (!v[i].in) {
            add(h, &v[i]);
        }
    } else if (r < 97) {
        if (v[i].in) {
            del(h, &v[i]);
        }
    } else if (r < 99) {
        ht_maybe_shrink(h);
    } else {
        ht_rehash_step(h, 1 + (int)(random() % 8));
    }
}

static void
mark_seen(void *ctx, struct ht_node *n)
{
    struct tnode *t = (struct tnode *)n;
    int *bad = ctx;

    if (!t->in) {
        (*bad)++; /* returned a node that is not in the table */
    }
    t->seen++;
}

/* One full scan with churn between cursor steps; returns how many stable
 * nodes it missed and counts bogus returns in *bogus. */
static int
scan_with_churn(struct ht *h, struct tnode *v, size_t n, size_t nstable, int *bogus, int *resizes)
{
    uint64_t cursor = 0;
    int steps = 0;

    for (size_t i = 0; i < n; i++) {
        v[i].seen = 0;
    }
    do {
        uint64_t size_before = h->t[0].size;
        cursor = ht_scan(h, cursor, mark_seen, bogus);
        /* a phase flips every 300 steps so the table grows then shrinks */
        int phase = (steps / 300) % 2;
        int ops = (int)(random() % 40);
        for (int k = 0; k < ops; k++) {
            churn(h, v, n, nstable, phase);
        }
        *resizes += h->t[0].size != size_before;
        steps++;
    } while (cursor != 0 && steps < 1000000);

    int missed = 0;
    for (size_t i = 0; i < nstable; i++) {
        missed += v[i].seen == 0;
    }
    return missed;
}

static void
test_scan_guarantee(void)
{
    struct ht h;
    enum { N = 6000, STABLE = 300 };
    struct tnode *v = make_nodes(N);
    int missed = 0, bogus = 0, resizes = 0;

    table_with(&h, v, STABLE); /* nodes [0, STABLE) are never removed */
    for (int round = 0; round < 30; round++) {
        missed += scan_with_churn(&h, v, N, STABLE, &bogus, &resizes);
        /* Between scans, jump to a very different size: tiny or large. */
        for (size_t i = STABLE; i < N; i++) {
            bool want = round % 2 ? (random() % 8) == 0 : false;
            if (want && !v[i].in) {
                add(&h, &v[i]);
            } else if (!want && v[i].in) {
                del(&h, &v[i]);
            }
        }
        ht_maybe_shrink(&h);
    }
    CHECK_INT(missed, 0);
    CHECK_INT(bogus, 0);
    CHECK(resizes > 30); /* the scans really ran across resizes */
    CHECK(agrees(&h, v, N));
    ht_deinit(&h);
    mem_free(v);
}

static void
test_scan_static_exact(void)
{
    struct ht h;
    enum { N = 3000 };
    struct tnode *v = make_nodes(N);

    table_with(&h, v, N);
    /* Without changes, a scan (even mid-rehash) returns each key exactly once,
     * except that a rehash in progress may repeat some: never miss any. */
    uint64_t cursor = 0;
    int bogus = 0, calls = 0;
    do {
        cursor = ht_scan(&h, cursor, mark_seen, &bogus);
        calls++;
    } while (cursor != 0);
    int atleast = 0;
    for (size_t i = 0; i < N; i++) {
        atleast += v[i].seen >= 1;
    }
    CHECK_INT(atleast, N);
    CHECK_INT(bogus, 0);
    CHECK(calls >= 2);

    /* Not rehashing: exactly once each. */
    while (ht_rehash_step(&h, 100)) {
    }
    for (size_t i = 0; i < N; i++) {
        v[i].seen = 0;
    }
    cursor = 0;
    do {
        cursor = ht_scan(&h, cursor, mark_seen, &bogus);
    } while (cursor != 0);
    int once = 0;
    for (size_t i = 0; i < N; i++) {
        once += v[i].seen == 1;
    }
    CHECK_INT(once, N);

    /* An empty table: a scan ends at once. */
    struct ht e;
    ht_init(&e, &tnode_type);
    CHECK_INT(ht_scan(&e, 0, mark_seen, &bogus), 0);
    ht_deinit(&e);
    ht_deinit(&h);
    mem_free(v);
}

TEST_MAIN(test_insert_find_remove, test_growth_keeps_load, test_shrink, test_replace,
          test_random_members, test_random_while_rehashing, test_foreach_once, test_scan_guarantee,
          test_scan_static_exact)
