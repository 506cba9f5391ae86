/*
 * test_policies.c -- the eviction policies against references, request by
 * request, and the offline replay's exact LRU and Belady against brute force.
 *
 * Each policy runs through the node's keyspace as slotcache-bench replay
 * drives it (kv_lookup; on a miss kv_add, then kv_evict of victim() until
 * at most `cap` keys are held), with deletes and reallocations (EXPIRE then
 * PERSIST, which move a key to a new item) mixed in.  A reference written
 * here in the plainest way -- arrays scanned and shifted, no links -- runs
 * the same algorithm with the same parameters on the same operations, and
 * every hit/miss and every evicted key must agree:
 *
 *   allkeys-sieve     SIEVE (NSDI'24, Algorithm 1)
 *   allkeys-s3fifo    S3-FIFO (SOSP'23; libCacheSim's S3FIFO.c parameters)
 *   allkeys-wtinylfu  W-TinyLFU with its count-min sketch, unpacked
 *   allkeys-lru       the list of keys by last use
 *   allkeys-lfu       brute force: of the keys held, the lowest OBJECT FREQ
 *                     (redis's decayed counter), then the least recent
 *
 * replay.c is included, not linked: its exact LRU and Belady are static,
 * and the unit-test rule links only the libraries.
 */
#define TEST_SUITE "policies"
#include "tests/unit/testhelp.h"

#include "cluster-tools/replay.c"
#include "common/rand.h"
#include "node/evict_ghost.h"
#include "node/evict_sketch.h"

#define NK 200      /* distinct keys in a trace */
#define MAXOPS 6000 /* operations in a trace */
#define FUTURE (REPLAY_CLOCK_MS + 3600 * 1000)

static char names[NK][16];
static uint64_t hashes[NK];

enum op_kind { OP_READ, OP_DEL, OP_REALLOC };

struct op {
    enum op_kind kind;
    int key;
};

/* What one operation did: a hit or not, and the keys evicted after it. */
struct outcome {
    bool hit;
    int victims[4];
    int nvictims;
};

static void
names_setup(void)
{
    for (int i = 0; i < NK; i++) {
        snprintf(names[i], sizeof(names[i]), "k:%d", i);
        hashes[i] = ht_hash(names[i], strlen(names[i]));
    }
}

/* A skewed trace (key ~ NK * u^3, so low keys are hot) with deletes and
 * reallocations sprinkled in when `mixed`. */
static int
make_ops(struct op *ops, int n, uint64_t seed, bool mixed)
{
    uint64_t st = seed;
    for (int i = 0; i < n; i++) {
        double u = (double)(rand_splitmix64(&st) >> 11) * 0x1.0p-53;
        int k = (int)(NK * u * u * u);
        int r = (int)(rand_splitmix64(&st) % 100);
        ops[i].key = k;
        ops[i].kind = !mixed || r < 90 ? OP_READ : r < 95 ? OP_DEL : OP_REALLOC;
    }
    return n;
}

/* ---- the node ---- */

static void
node_setup(int policy)
{
    policy_setup(policy, 1);
}

static int
key_number(struct item *it)
{
    char buf[16] = {0};
    memcpy(buf, item_key(it), MIN(it->klen, sizeof(buf) - 1));
    return atoi(buf + 2);
}

static void
node_op(const struct op *o, int cap, struct outcome *out)
{
    const char *k = names[o->key];
    size_t len = strlen(k);
    struct item *it;

    memset(out, 0, sizeof(*out));
    switch (o->kind) {
    case OP_READ:
        if (kv_lookup(k, len, 0) != NULL) {
            out->hit = true;
            return;
        }
        CHECK(insert(k, len, false));
        while (kv_count() > (uint64_t)cap) {
            struct item *v = evict_current()->victim();
            CHECK(v != NULL);
            if (v == NULL) {
                return;
            }
            if (out->nvictims < (int)ARRAY_LEN(out->victims)) {
                out->victims[out->nvictims++] = key_number(v);
            }
            kv_evict(v);
        }
        return;
    case OP_DEL:
        if ((it = kv_lookup(k, len, KV_NOTOUCH | KV_NOSTATS)) != NULL) {
            kv_delete(it);
        }
        return;
    case OP_REALLOC:
        if ((it = kv_lookup(k, len, KV_NOTOUCH | KV_NOSTATS)) != NULL) {
            CHECK(kv_set_expire(&it, FUTURE) == SC_OK);
            CHECK(kv_persist(&it) == SC_OK);
        }
        return;
    }
}

/* ---- plain queues for the references: k[0] is the oldest ---- */

struct q {
    int k[NK];
    int n;
};

static int
q_index(const struct q *q, int k)
{
    for (int i = 0; i < q->n; i++) {
        if (q->k[i] == k) {
            return i;
        }
    }
    return -1;
}

static void
q_remove_at(struct q *q, int i)
{
    memmove(&q->k[i], &q->k[i + 1], (size_t)(q->n - i - 1) * sizeof(int));
    q->n--;
}

static bool
q_remove(struct q *q, int k)
{
    int i = q_index(q, k);
    if (i >= 0) {
        q_remove_at(q, i);
    }
    return i >= 0;
}

static void
q_push(struct q *q, int k)
{
    q->k[q->n++] = k;
}

static int
q_pop(struct q *q)
{
    int k = q->k[0];
    q_remove_at(q, 0);
    return k;
}

/* A reference: reset for a capacity, one read (hit, and what it evicted),
 * one delete. */
struct ref {
    const char *policy;
    int id;
    void (*reset)(int cap);
    void (*read)(int k, struct outcome *out);
    void (*del)(int k);
};

static int ref_cap;

static void
note_victim(struct outcome *out, int v)
{
    if (out->nvictims < (int)ARRAY_LEN(out->victims)) {
        out->victims[out->nvictims++] = v;
    }
}

/* ---- LRU ---- */

static struct q lru_q; /* by last use, least recent first */

static void
lru_reset(int cap)
{
    ref_cap = cap;
    lru_q.n = 0;
}

static void
lru_read(int k, struct outcome *out)
{
    out->hit = q_remove(&lru_q, k);
    q_push(&lru_q, k);
    while (lru_q.n > ref_cap) {
        note_victim(out, q_pop(&lru_q));
    }
}

static void
lru_del(int k)
{
    q_remove(&lru_q, k);
}

/* ---- SIEVE ---- */

static struct q sv_q; /* insertion order, oldest first */
static bool sv_visited[NK];
static int sv_hand; /* index into sv_q; -1: start at the oldest */

static void
sieve_reset(int cap)
{
    ref_cap = cap;
    sv_q.n = 0;
    memset(sv_visited, 0, sizeof(sv_visited));
    sv_hand = -1;
}

static int
sieve_evict(void)
{
    int i = sv_hand >= 0 ? sv_hand : 0;

    while (sv_visited[sv_q.k[i]]) {
        sv_visited[sv_q.k[i]] = false;
        i = i + 1 < sv_q.n ? i + 1 : 0;
    }
    int v = sv_q.k[i];
    q_remove_at(&sv_q, i);
    sv_hand = i < sv_q.n ? i : -1; /* the next newer key slid into i */
    return v;
}

static void
sieve_read(int k, struct outcome *out)
{
    if (q_index(&sv_q, k) >= 0) {
        sv_visited[k] = true;
        out->hit = true;
        return;
    }
    q_push(&sv_q, k);
    sv_visited[k] = false;
    while (sv_q.n > ref_cap) {
        note_victim(out, sieve_evict());
    }
}

static void
sieve_del(int k)
{
    int i = q_index(&sv_q, k);
    if (i < 0) {
        return;
    }
    q_remove_at(&sv_q, i);
    if (sv_hand > i) {
        sv_hand--; /* the same key, one place lower */
    } else if (sv_hand == i && i >= sv_q.n) {
        sv_hand = -1; /* the hand was on the newest key */
    }
}

/* ---- S3-FIFO ---- */

static struct q s3_small, s3_main, s3_ghost;
static int s3_freq[NK];

static void
s3_reset(int cap)
{
    ref_cap = cap;
    s3_small.n = s3_main.n = s3_ghost.n = 0;
    memset(s3_freq, 0, sizeof(s3_freq));
}

static void
s3_ghost_add(int k, int max)
{
    while (s3_ghost.n >= max && s3_ghost.n > 0) {
        q_pop(&s3_ghost);
    }
    if (max > 0) {
        q_push(&s3_ghost, k);
    }
}

static int
s3_evict(void)
{
    for (;;) {
        int n = s3_small.n + s3_main.n;
        if (s3_small.n == 0 || s3_small.n < n * 10 / 100) {
            while (s3_freq[s3_main.k[0]] > 0) {
                int t = q_pop(&s3_main);
                q_push(&s3_main, t);
                s3_freq[t]--;
            }
            return q_pop(&s3_main);
        }
        while (s3_small.n > 0) {
            int t = s3_small.k[0];
            if (s3_freq[t] >= 2) {
                q_pop(&s3_small);
                q_push(&s3_main, t);
                s3_freq[t] = 0;
            } else {
                s3_ghost_add(t, n * 90 / 100);
                return q_pop(&s3_small);
            }
        }
    }
}

static void
s3_read(int k, struct outcome *out)
{
    if (q_index(&s3_small, k) >= 0 || q_index(&s3_main, k) >= 0) {
        s3_freq[k] = MIN(s3_freq[k] + 1, 3);
        out->hit = true;
        return;
    }
    s3_freq[k] = 0;
    if (q_remove(&s3_ghost, k)) {
        q_push(&s3_main, k);
    } else {
        q_push(&s3_small, k);
    }
    while (s3_small.n + s3_main.n > ref_cap) {
        note_victim(out, s3_evict());
    }
}

static void
s3_del(int k)
{
    if (!q_remove(&s3_small, k)) {
        q_remove(&s3_main, k);
    }
}

/* ---- W-TinyLFU, with its sketch as a plain array ---- */

#define SK_MAXB 64 /* blocks */
#define SK_COUNTERS (EVICT_SKETCH_BLOCK_WORDS * 16)

/* sk[block][c]: counter c (word c / 16, nibble c % 16) of a block */
static uint8_t sk[SK_MAXB][SK_COUNTERS];
static uint64_t sk_blocks, sk_adds, sk_period;
static struct q wt_win, wt_prob, wt_prot;
static int wt_cand;

/* The key's counter of row r: block by the hash's low half, then byte r of
 * its high half picks word 2r + bit 0 and the nibble bits 1-4. */
static uint8_t *
sk_counter(uint64_t h, int r)
{
    uint64_t b = ((h & 0xffffffffULL) * sk_blocks) >> 32;
    unsigned byte = (unsigned)(h >> (32 + 8 * r)) & 0xff;
    return &sk[b][(2 * r + (byte & 1)) * 16 + ((byte >> 1) & 15)];
}

static void
sk_fit(uint64_t n)
{
    uint64_t want = MAX((n + EVICT_SKETCH_KEYS_PER_BLOCK - 1) / EVICT_SKETCH_KEYS_PER_BLOCK,
                        EVICT_SKETCH_MIN_BLOCKS);
    if (sk_blocks < want) {
        uint64_t nb = MAX(want, sk_blocks + sk_blocks / EVICT_SKETCH_SLACK);
        static uint8_t old[SK_MAXB][SK_COUNTERS];
        sc_assert(nb <= SK_MAXB);
        memcpy(old, sk, sizeof(sk));
        for (uint64_t i = 0; i < nb; i++) {
            for (int c = 0; c < SK_COUNTERS; c++) {
                /* the old block of the keys at block i's start */
                sk[i][c] = sk_blocks > 0 ? old[i * sk_blocks / nb][c] : 0;
            }
        }
        sk_blocks = nb;
    }
    sk_period = MAX(n, 1) * EVICT_SKETCH_AGE;
}

static unsigned
sk_estimate(uint64_t h)
{
    unsigned m = EVICT_SKETCH_MAX;
    for (int r = 0; r < EVICT_SKETCH_DEPTH; r++) {
        m = MIN(m, *sk_counter(h, r));
    }
    return m;
}

static void
sk_add(uint64_t h)
{
    unsigned m = sk_estimate(h);
    if (m == EVICT_SKETCH_MAX) {
        return;
    }
    for (int r = 0; r < EVICT_SKETCH_DEPTH; r++) {
        uint8_t *c = sk_counter(h, r);
        *c += *c == m;
    }
    if (++sk_adds >= sk_period) {
        for (uint64_t b = 0; b < sk_blocks; b++) {
            for (int c = 0; c < SK_COUNTERS; c++) {
                sk[b][c] /= 2;
            }
        }
        sk_adds /= 2;
    }
}

static int
wt_total(void)
{
    return wt_win.n + wt_prob.n + wt_prot.n;
}

static int
wt_window_max(int n)
{
    return MAX(n * 1 / 100, 1);
}

static int
wt_protected_max(int n)
{
    return (n - MIN(n, wt_window_max(n))) * 80 / 100;
}

static void
wt_reset(int cap)
{
    ref_cap = cap;
    memset(sk, 0, sizeof(sk));
    sk_blocks = sk_adds = sk_period = 0;
    wt_win.n = wt_prob.n = wt_prot.n = 0;
    wt_cand = -1;
}

static int
wt_victim(void)
{
    int c = wt_cand, v = wt_prob.n > 0 ? wt_prob.k[0] : -1;

    wt_cand = -1;
    if (c < 0) {
        return v >= 0 ? v : wt_prot.n > 0 ? wt_prot.k[0] : wt_win.k[0];
    }
    if (v == c) {
        v = wt_prot.n > 0 ? wt_prot.k[0] : -1;
    }
    if (v < 0) {
        return c;
    }
    return sk_estimate(hashes[c]) > sk_estimate(hashes[v]) ? v : c;
}

static void
wt_del(int k)
{
    if (!q_remove(&wt_win, k) && !q_remove(&wt_prob, k)) {
        q_remove(&wt_prot, k);
    }
    wt_cand = wt_cand == k ? -1 : wt_cand;
}

static void
wt_read(int k, struct outcome *out)
{
    if (q_index(&wt_win, k) >= 0 || q_index(&wt_prot, k) >= 0) {
        sk_add(hashes[k]);
        struct q *q = q_index(&wt_win, k) >= 0 ? &wt_win : &wt_prot;
        q_remove(q, k);
        q_push(q, k);
        out->hit = true;
        return;
    }
    if (q_index(&wt_prob, k) >= 0) {
        sk_add(hashes[k]);
        q_remove(&wt_prob, k);
        q_push(&wt_prot, k);
        wt_cand = wt_cand == k ? -1 : wt_cand;
        while (wt_prot.n > wt_protected_max(wt_total())) {
            q_push(&wt_prob, q_pop(&wt_prot));
        }
        out->hit = true;
        return;
    }
    int n = wt_total() + 1;
    sk_fit((uint64_t)n);
    sk_add(hashes[k]);
    q_push(&wt_win, k);
    while (wt_win.n > wt_window_max(n)) {
        wt_cand = q_pop(&wt_win);
        q_push(&wt_prob, wt_cand);
    }
    while (wt_total() > ref_cap) {
        int v = wt_victim();
        wt_del(v);
        note_victim(out, v);
    }
}

/* ---- hit for hit ---- */

static const struct ref refs[] = {
    {"allkeys-lru", EVICT_ALLKEYS_LRU, lru_reset, lru_read, lru_del},
    {"allkeys-sieve", EVICT_ALLKEYS_SIEVE, sieve_reset, sieve_read, sieve_del},
    {"allkeys-s3fifo", EVICT_ALLKEYS_S3FIFO, s3_reset, s3_read, s3_del},
    {"allkeys-wtinylfu", EVICT_ALLKEYS_WTINYLFU, wt_reset, wt_read, wt_del},
};

static bool
same_outcome(const struct outcome *a, const struct outcome *b)
{
    return a->hit == b->hit && a->nvictims == b->nvictims &&
           memcmp(a->victims, b->victims, (size_t)a->nvictims * sizeof(int)) == 0;
}

/* Runs ops through the node and the reference; returns the number of
 * operations on which they disagreed (0) and adds up the node's hits. */
static int
compare(const struct ref *ref, const struct op *ops, int n, int cap, int *hits)
{
    int wrong = 0;

    node_setup(ref->id);
    ref->reset(cap);
    for (int i = 0; i < n; i++) {
        struct outcome got, want = {0};
        node_op(&ops[i], cap, &got);
        if (ops[i].kind == OP_READ) {
            ref->read(ops[i].key, &want);
        } else if (ops[i].kind == OP_DEL) {
            ref->del(ops[i].key);
        }
        *hits += got.hit;
        if (!same_outcome(&got, &want) && wrong++ == 0) {
            fprintf(stderr,
                    "  %s cap %d op %d (%d on key %d): node hit %d evicted %d (%d), "
                    "reference hit %d evicted %d (%d)\n",
                    ref->policy, cap, i, ops[i].kind, ops[i].key, got.hit,
                    got.nvictims ? got.victims[0] : -1, got.nvictims, want.hit,
                    want.nvictims ? want.victims[0] : -1, want.nvictims);
        }
    }
    policy_teardown();
    return wrong;
}

static struct op ops[MAXOPS];

static void
test_policies_match_references(void)
{
    static const int caps[] = {1, 2, 5, 16, 40, 64};

    names_setup();
    for (size_t r = 0; r < ARRAY_LEN(refs); r++) {
        for (size_t c = 0; c < ARRAY_LEN(caps); c++) {
            for (int mixed = 0; mixed < 2; mixed++) {
                int hits = 0, n = make_ops(ops, MAXOPS, 100 + c * 2 + (size_t)mixed, mixed);
                CHECK_INT(compare(&refs[r], ops, n, caps[c], &hits), 0);
                /* a cache of 2+ keys on a skewed trace hits */
                CHECK(caps[c] < 5 || hits > n / 10);
            }
        }
    }
}

/* The fingerprints of the test keys differ, so the ghost's are exact. */
static void
test_fingerprints_distinct(void)
{
    int same = 0;
    names_setup();
    for (int i = 0; i < NK; i++) {
        for (int j = i + 1; j < NK; j++) {
            same += evict_ghost_fp(hashes[i]) == evict_ghost_fp(hashes[j]);
        }
    }
    CHECK_INT(same, 0);
}

/* ---- LFU: exact victims by brute force ---- */

static uint64_t lfu_seq[NK], lfu_b[NK], lfu_now_seq;

static long long
minutes(void)
{
    return clock_cached_ms / 60000;
}

static void
lfu_note(int k)
{
    struct item *it = kv_lookup(names[k], strlen(names[k]), KV_NOTOUCH | KV_NOSTATS);
    lfu_seq[k] = ++lfu_now_seq;
    lfu_b[k] = evict_lfu_freq(it) + (uint64_t)minutes();
}

/* The key the brute force evicts: lowest decayed counter; among keys at 0
 * the one that reached 0 first (lowest b), then the least recently used. */
static int
lfu_brute_victim(void)
{
    int best = -1;
    uint64_t bf = 0, bb = 0, bs = 0;

    for (int k = 0; k < NK; k++) {
        struct item *it = kv_lookup(names[k], strlen(names[k]), KV_NOTOUCH | KV_NOSTATS);
        if (it == NULL || (evict_current()->volatile_only && item_expire(it) < 0)) {
            continue;
        }
        uint64_t f = evict_lfu_freq(it), b = f == 0 ? lfu_b[k] : 0, s = lfu_seq[k];
        if (best < 0 || f < bf || (f == bf && (b < bb || (b == bb && s < bs)))) {
            best = k, bf = f, bb = b, bs = s;
        }
    }
    return best;
}

static int
lfu_run(int policy, int cap, bool decay, uint64_t seed)
{
    int wrong = 0, n = make_ops(ops, 3000, seed, true);

    node_setup(policy);
    clock_cached_ms = REPLAY_CLOCK_MS / 60000 * 60000;
    memset(lfu_seq, 0, sizeof(lfu_seq));
    for (int i = 0; i < n; i++) {
        const struct op *o = &ops[i];
        const char *k = names[o->key];
        if (decay && i % 150 == 149) {
            clock_cached_ms += 60000; /* a minute: every counter decays by one */
        }
        if (o->kind == OP_DEL || o->kind == OP_REALLOC) {
            struct outcome out;
            node_op(o, cap, &out);
            continue;
        }
        if (kv_lookup(k, strlen(k), 0) != NULL) {
            lfu_note(o->key);
            continue;
        }
        CHECK(insert(k, strlen(k), policy == EVICT_VOLATILE_LFU));
        lfu_note(o->key);
        while (kv_count() > (uint64_t)cap) {
            int want = lfu_brute_victim();
            struct item *v = evict_current()->victim();
            int got = v != NULL ? key_number(v) : -1;
            if (got != want && wrong++ == 0) {
                fprintf(stderr, "  lfu cap %d op %d: evicted %d, brute force says %d\n", cap, i,
                        got, want);
            }
            kv_evict(v != NULL ? v : kv_lookup(names[want], strlen(names[want]), KV_NOTOUCH));
        }
    }
    policy_teardown();
    return wrong;
}

static void
test_lfu_exact_victims(void)
{
    names_setup();
    for (int cap = 1; cap <= 64; cap *= 4) {
        CHECK_INT(lfu_run(EVICT_ALLKEYS_LFU, cap, false, 7 + (uint64_t)cap), 0);
        CHECK_INT(lfu_run(EVICT_ALLKEYS_LFU, cap, true, 9 + (uint64_t)cap), 0);
        CHECK_INT(lfu_run(EVICT_VOLATILE_LFU, cap, true, 11 + (uint64_t)cap), 0);
    }
}

/* CONFIG SET lfu-decay-time files every key again; victims still come in
 * the order of their counters as OBJECT FREQ reads them. */
static void
test_lfu_decay_time_change(void)
{
    names_setup();
    node_setup(EVICT_ALLKEYS_LFU);
    evict_opts.lfu_log_factor = 0; /* every read counts */
    clock_cached_ms = REPLAY_CLOCK_MS / 60000 * 60000;
    for (int k = 0; k < 30; k++) {
        insert(names[k], strlen(names[k]), false);
        for (int r = 0; r < k % 10; r++) {
            kv_lookup(names[k], strlen(names[k]), 0);
        }
    }
    clock_cached_ms += 7 * 60000;
    evict_opts.lfu_decay_time = 3; /* 7 minutes: two periods */
    unsigned last = 0;
    int ordered = 0;
    for (int e = 0; e < 30; e++) {
        struct item *v = evict_current()->victim();
        unsigned f = evict_lfu_freq(v);
        ordered += f >= last;
        last = f;
        kv_evict(v);
    }
    CHECK_INT(ordered, 30);
    CHECK(evict_current()->victim() == NULL);
    policy_teardown();
}

/* ---- volatile variants and switches ---- */

static void
test_volatile_new_policies(void)
{
    static const int pols[] = {EVICT_VOLATILE_SIEVE, EVICT_VOLATILE_S3FIFO,
                               EVICT_VOLATILE_WTINYLFU};

    names_setup();
    for (size_t p = 0; p < ARRAY_LEN(pols); p++) {
        node_setup(pols[p]);
        CHECK(evict_current()->volatile_only);
        for (int k = 0; k < 40; k++) {
            insert(names[k], strlen(names[k]), k % 2 == 1);
        }
        int ttl_gone = 0;
        struct item *v;
        while ((v = evict_current()->victim()) != NULL) {
            ttl_gone += key_number(v) % 2 == 1;
            kv_evict(v);
        }
        CHECK_INT(ttl_gone, 20); /* every key with a TTL, none without */
        CHECK_INT(kv_count(), 20);
        CHECK_INT(kv_volatile_count(), 0);
        policy_teardown();
    }
}

static void
test_switch_and_flush(void)
{
    static const int pols[] = {EVICT_ALLKEYS_SIEVE, EVICT_ALLKEYS_S3FIFO,    EVICT_ALLKEYS_WTINYLFU,
                               EVICT_ALLKEYS_LFU,   EVICT_VOLATILE_WTINYLFU, EVICT_ALLKEYS_LRU};

    names_setup();
    node_setup(EVICT_ALLKEYS_LRU);
    for (int k = 0; k < NK; k++) {
        insert(names[k], strlen(names[k]), k % 3 == 0);
    }
    for (size_t p = 0; p < ARRAY_LEN(pols); p++) {
        evict_opts.policy = pols[p];
        evict_policy_changed();
        for (int r = 0; r < 500; r++) {
            kv_lookup(names[r % 50], strlen(names[r % 50]), 0);
        }
        uint64_t before = kv_count();
        struct item *v = evict_current()->victim();
        CHECK(v != NULL);
        if (v != NULL) {
            CHECK(!evict_current()->volatile_only || item_expire(v) >= 0);
            kv_evict(v);
        }
        CHECK_INT(kv_count(), before - 1);
        /* FLUSHALL forgets every key, and the policy's structures */
        if (p == 2) {
            kv_flush(false);
            CHECK(evict_current()->victim() == NULL);
            for (int k = 0; k < NK; k++) {
                insert(names[k], strlen(names[k]), k % 3 == 0);
            }
        }
    }
    policy_teardown();
}

/* ---- the ghost and the sketch on their own ---- */

/* fp_of(k): the fingerprint the ghost test uses for key k. */
static uint32_t
fp_small(int k)
{
    return (uint32_t)k + 1; /* every home slot 0: long runs that wrap */
}

static uint32_t
fp_hashed(int k)
{
    return evict_ghost_fp(hashes[k]);
}

static int
ghost_run(uint32_t (*fp_of)(int))
{
    struct evict_ghost g;
    struct q ref = {.n = 0};
    uint64_t st = 5;
    int wrong = 0;

    evict_ghost_init(&g);
    for (int i = 0; i < 20000; i++) {
        int k = (int)(rand_splitmix64(&st) % NK);
        uint64_t max = 1 + (uint64_t)(i / 2000) * 17 % 150; /* the limit moves */
        if (rand_splitmix64(&st) % 3 == 0) {
            bool want = q_remove(&ref, k);
            wrong += evict_ghost_take(&g, fp_of(k)) != want;
        } else if (q_index(&ref, k) < 0) {
            while ((uint64_t)ref.n >= max && ref.n > 0) {
                q_pop(&ref);
            }
            q_push(&ref, k);
            evict_ghost_add(&g, fp_of(k), max);
        }
        if (i % 97 == 0) {
            for (int j = 0; j < NK; j++) {
                wrong += evict_ghost_has(&g, fp_of(j)) != (q_index(&ref, j) >= 0);
            }
        }
    }
    wrong += g.live != (uint64_t)ref.n;
    evict_ghost_free(&g);
    wrong += evict_ghost_has(&g, fp_of(0));
    return wrong;
}

/* The ghost keeps the newest `max` fingerprints in FIFO order, as a list
 * would, through removals from the middle and rebuilds. */
static void
test_ghost_is_a_fifo(void)
{
    names_setup();
    CHECK_INT(ghost_run(fp_small), 0);
    CHECK_INT(ghost_run(fp_hashed), 0);
}

static void
test_sketch_counts_and_ages(void)
{
    struct evict_sketch s;

    names_setup();
    evict_sketch_init(&s);
    CHECK_INT(evict_sketch_estimate(&s, hashes[0]), 0);
    evict_sketch_fit(&s, 100);
    for (int k = 0; k < 20; k++) {
        for (int r = 0; r < k % 16; r++) {
            evict_sketch_add(&s, hashes[k]);
        }
    }
    int under = 0;
    for (int k = 0; k < 20; k++) {
        under += evict_sketch_estimate(&s, hashes[k]) < (unsigned)(k % 16); /* never under */
    }
    CHECK_INT(under, 0);
    CHECK_INT(evict_sketch_estimate(&s, hashes[15]), 15);
    /* Widening keeps what was counted, but for keys of an old block that
     * a new one straddles: at a tenfold growth, few. */
    evict_sketch_fit(&s, 1000);
    CHECK(s.nblocks >= 1000 / EVICT_SKETCH_KEYS_PER_BLOCK);
    under = 0;
    for (int k = 0; k < 20; k++) {
        under += evict_sketch_estimate(&s, hashes[k]) < (unsigned)(k % 16);
    }
    CHECK(under <= 2);
    /* After a period of other keys' accesses, everything is halved. */
    evict_sketch_fit(&s, 10);
    CHECK_INT(s.period, 10 * EVICT_SKETCH_AGE);
    for (int i = 0; (uint64_t)i < s.period; i++) {
        evict_sketch_add(&s, hashes[100 + i % 50]);
    }
    CHECK(evict_sketch_estimate(&s, hashes[15]) <= 7);
    evict_sketch_free(&s);
    CHECK_INT(evict_sketch_estimate(&s, hashes[15]), 0);
}

/* ---- the replay's references against brute force ---- */

static struct rreq treq[MAXOPS];
static char ttext[NK * 8];

/* A trace of n reads of the skewed keys; text holds each key once ("k:0",
 * "k:1", ...), so that run_policy can read them too. */
static struct rtrace
id_trace(int n, uint64_t seed)
{
    struct rtrace t = {.text = ttext, .req = treq, .n = (size_t)n, .nkeys = NK};
    uint32_t off[NK], at = 0;

    names_setup();
    for (int k = 0; k < NK; k++) {
        off[k] = at;
        memcpy(ttext + at, names[k], strlen(names[k]) + 1);
        at += (uint32_t)strlen(names[k]) + 1;
    }
    make_ops(ops, n, seed, false);
    for (int i = 0; i < n; i++) {
        int k = ops[i].key;
        treq[i] = (struct rreq){off[k], (uint32_t)strlen(names[k]), (uint32_t)k};
    }
    return t;
}

static unsigned long long
brute_lru(const struct rtrace *t, int cap)
{
    unsigned long long hits = 0;
    lru_reset(cap);
    for (size_t i = 0; i < t->n; i++) {
        struct outcome o = {0};
        lru_read((int)t->req[i].id, &o);
        hits += o.hit;
    }
    return hits;
}

/* Belady by definition: after each miss, of the keys held (the new one
 * too) evict the one whose next request is furthest (never: furthest). */
static unsigned long long
brute_opt(const struct rtrace *t, int cap)
{
    struct q held = {.n = 0};
    unsigned long long hits = 0;

    for (size_t i = 0; i < t->n; i++) {
        int k = (int)t->req[i].id;
        if (q_index(&held, k) >= 0) {
            hits++;
            continue;
        }
        q_push(&held, k);
        if (held.n <= cap) {
            continue;
        }
        int worst = 0;
        size_t worst_next = 0;
        for (int h = 0; h < held.n; h++) {
            size_t j = i + 1;
            while (j < t->n && (int)t->req[j].id != held.k[h]) {
                j++;
            }
            if (j > worst_next) {
                worst = h, worst_next = j;
            }
        }
        q_remove_at(&held, worst);
    }
    return hits;
}

static void
test_replay_references(void)
{
    static const int caps[] = {1, 3, 10, 40, 150, 250};
    char err[256];

    for (size_t c = 0; c < ARRAY_LEN(caps); c++) {
        struct rtrace t = id_trace(2500, 40 + c);
        struct result lru = {0}, opt = {0};
        CHECK(run_lru_exact(&t, (uint64_t)caps[c], &lru, err, sizeof(err)) == SC_OK);
        CHECK(run_opt(&t, (uint64_t)caps[c], &opt, err, sizeof(err)) == SC_OK);
        CHECK_INT(lru.hits, brute_lru(&t, caps[c]));
        CHECK_INT(opt.hits, brute_opt(&t, caps[c]));
        CHECK_INT(lru.hits + lru.misses, 2500);
        CHECK(opt.hits >= lru.hits);
    }
}

/* run_policy (what `replay --policy` runs) counts what the references do. */
static void
test_replay_runs_the_node_policy(void)
{
    char err[256];
    struct rtrace t = id_trace(4000, 77);

    for (size_t r = 0; r < ARRAY_LEN(refs); r++) {
        struct result got = {0};
        unsigned long long want = 0;
        CHECK(run_policy(&t, refs[r].id, 20, 1, &got, err, sizeof(err)) == SC_OK);
        refs[r].reset(20);
        for (size_t i = 0; i < t.n; i++) {
            struct outcome o = {0};
            refs[r].read((int)t.req[i].id, &o);
            want += o.hit;
        }
        CHECK_INT(got.hits, want);
    }
    /* the volatile variant runs with every key given a TTL: the same */
    struct result vs = {0}, as = {0};
    CHECK(run_policy(&t, EVICT_VOLATILE_SIEVE, 20, 1, &vs, err, sizeof(err)) == SC_OK);
    CHECK(run_policy(&t, EVICT_ALLKEYS_SIEVE, 20, 1, &as, err, sizeof(err)) == SC_OK);
    CHECK_INT(vs.hits, as.hits);
}

static void
test_shift_key(void)
{
    /* every 10 requests the 5 most popular keys of 100 become the least */
    CHECK_INT(replay_shift_key(1, 0, 100, 10, 5), 1);
    CHECK_INT(replay_shift_key(1, 9, 100, 10, 5), 1);
    CHECK_INT(replay_shift_key(1, 10, 100, 10, 5), 6);
    CHECK_INT(replay_shift_key(96, 10, 100, 10, 5), 1); /* old rank 1 is rank 96 now */
    CHECK_INT(replay_shift_key(1, 25, 100, 10, 5), 11);
    CHECK_INT(replay_shift_key(7, 12345, 100, 0, 5), 7); /* no shifting */
    CHECK_INT(replay_shift_key(1, 10, 1000, 10, 0), 11); /* default: 1% of the keys */
}

TEST_MAIN(test_fingerprints_distinct, test_policies_match_references, test_lfu_exact_victims,
          test_lfu_decay_time_change, test_volatile_new_policies, test_switch_and_flush,
          test_ghost_is_a_fifo, test_sketch_counts_and_ages, test_replay_references,
          test_replay_runs_the_node_policy, test_shift_key)
