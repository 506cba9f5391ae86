/*
 * ht.c -- see ht.h.  The algorithms are redis dict.c's (two tables,
 * incremental rehash, reverse-binary scan cursor); the code is our own.
 */
#include "common/ht.h"

#include "common/defs.h"
#include "common/mem.h"
#include "common/rand.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <string.h>

static uint64_t hash_seed;

void
ht_seed(const uint8_t seed[16])
{
    memcpy(&hash_seed, seed, sizeof(hash_seed));
}

uint64_t
ht_hash(const void *key, size_t len)
{
    /* Seeded so that clients cannot choose keys that all collide. */
    return XXH3_64bits_withSeed(key, len, hash_seed);
}

void
ht_init(struct ht *h, const struct ht_type *type)
{
    memset(h, 0, sizeof(*h));
    h->type = type;
    h->rehash_idx = -1;
}

void
ht_deinit(struct ht *h)
{
    mem_free(h->t[0].buckets);
    mem_free(h->t[1].buckets);
    ht_init(h, h->type);
}

static inline bool
rehashing(const struct ht *h)
{
    return h->rehash_idx >= 0;
}

static void
start_resize(struct ht *h, uint64_t size)
{
    struct ht_table *t = rehashing(h) ? NULL : &h->t[0];

    if (t == NULL || h->pause_resize > 0 || size == t->size) {
        return;
    }
    struct ht_table n = {mem_calloc(size, sizeof(struct ht_node *)), size, 0};
    if (t->size == 0) {
        h->t[0] = n; /* the first table: nothing to move */
        return;
    }
    h->t[1] = n;
    h->rehash_idx = 0;
}

static uint64_t
size_for(uint64_t used)
{
    uint64_t s = HT_INITIAL_SIZE;
    while (s < used) {
        s <<= 1;
    }
    return s;
}

bool
ht_rehash_step(struct ht *h, int n)
{
    int empty_visits = n * 10;

    if (!rehashing(h)) {
        return false;
    }
    struct ht_table *from = &h->t[0], *to = &h->t[1];
    while (n-- > 0 && from->used > 0) {
        while (from->buckets[h->rehash_idx] == NULL) {
            h->rehash_idx++;
            if (--empty_visits == 0) {
                return true;
            }
        }
        struct ht_node *e = from->buckets[h->rehash_idx];
        while (e != NULL) {
            struct ht_node *next = e->next;
            uint64_t i = h->type->hash(e) & (to->size - 1);
            e->next = to->buckets[i];
            to->buckets[i] = e;
            from->used--;
            to->used++;
            e = next;
        }
        from->buckets[h->rehash_idx++] = NULL;
    }
    if (from->used == 0) {
        mem_free(from->buckets);
        *from = *to;
        memset(to, 0, sizeof(*to));
        h->rehash_idx = -1;
        return false;
    }
    return true;
}

void
ht_maybe_shrink(struct ht *h)
{
    uint64_t used = ht_count(h);
    if (!rehashing(h) && h->t[0].size > HT_INITIAL_SIZE && used * HT_MIN_FILL < h->t[0].size) {
        start_resize(h, size_for(used));
    }
}

struct ht_node *
ht_find(struct ht *h, const void *key, size_t len, uint64_t hash)
{
    if (ht_count(h) == 0) {
        return NULL;
    }
    ht_rehash_step(h, HT_REHASH_STEP_BUCKETS);
    for (int t = 0; t <= 1; t++) {
        const struct ht_table *tb = &h->t[t];
        if (tb->size == 0) {
            continue;
        }
        for (struct ht_node *e = tb->buckets[hash & (tb->size - 1)]; e != NULL; e = e->next) {
            if (h->type->eq(e, key, len)) {
                return e;
            }
        }
        if (!rehashing(h)) {
            break;
        }
    }
    return NULL;
}

void
ht_insert(struct ht *h, struct ht_node *n, uint64_t hash)
{
    if (h->t[0].size == 0) {
        start_resize(h, HT_INITIAL_SIZE);
    } else if (!rehashing(h) && h->t[0].used >= h->t[0].size) {
        start_resize(h, h->t[0].size * 2);
    }
    ht_rehash_step(h, HT_REHASH_STEP_BUCKETS);
    struct ht_table *t = rehashing(h) ? &h->t[1] : &h->t[0];
    uint64_t i = hash & (t->size - 1);
    n->next = t->buckets[i];
    t->buckets[i] = n;
    t->used++;
}

/* Finds the link that points to n. */
static struct ht_node **
link_of(struct ht *h, const struct ht_node *n, uint64_t hash, struct ht_table **tbp)
{
    for (int t = 0; t <= 1; t++) {
        struct ht_table *tb = &h->t[t];
        if (tb->size == 0) {
            continue;
        }
        struct ht_node **link = &tb->buckets[hash & (tb->size - 1)];
        for (; *link != NULL; link = &(*link)->next) {
            if (*link == n) {
                *tbp = tb;
                return link;
            }
        }
    }
    return NULL;
}

void
ht_remove(struct ht *h, struct ht_node *n, uint64_t hash)
{
    struct ht_table *tb = NULL;
    struct ht_node **link = link_of(h, n, hash, &tb);

    sc_assert(link != NULL);
    *link = n->next;
    tb->used--;
}

void
ht_replace(struct ht *h, struct ht_node *old, struct ht_node *n, uint64_t hash)
{
    struct ht_table *tb = NULL;
    struct ht_node **link = link_of(h, old, hash, &tb);

    sc_assert(link != NULL);
    n->next = old->next;
    *link = n;
}

struct ht_node *
ht_random(struct ht *h)
{
    if (ht_count(h) == 0) {
        return NULL;
    }
    ht_rehash_step(h, HT_REHASH_STEP_BUCKETS);
    /* A random bucket then a random place in its chain would favour
     * entries alone in their bucket (twice as likely as one of a pair).
     * Instead draw a (bucket, place < HT_CHAIN_BOUND) slot and retry when
     * no entry sits there, so every entry has the same chance.  A chain
     * longer than the bound (rare at the table's fill) is accepted whole.
     * While rehashing, buckets of t[0] below rehash_idx are empty: they
     * are not drawn. */
    uint64_t s0 = h->t[0].size, s1 = h->t[1].size;
    uint64_t from = h->rehash_idx > 0 ? (uint64_t)h->rehash_idx : 0;
    uint64_t slots = s0 + s1 - from;
    for (;;) {
        uint64_t r = rand_next(); /* bucket and place from one draw */
        uint64_t i = from + r % slots;
        struct ht_node *e = i < s0 ? h->t[0].buckets[i] : h->t[1].buckets[i - s0];
        unsigned len = 0;
        for (const struct ht_node *p = e; p != NULL; p = p->next) {
            len++;
        }
        unsigned k = (unsigned)(r / slots % MAX(len, HT_CHAIN_BOUND));
        if (k < len) {
            while (k-- > 0) {
                e = e->next;
            }
            return e;
        }
    }
}

int
ht_sample(struct ht *h, struct ht_node **out, int n)
{
    int got = 0;

    if (ht_count(h) == 0 || n <= 0) {
        return 0;
    }
    /* Consecutive buckets from a random one (redis's dictGetSomeKeys):
     * cheap, and every bucket at most once, so entries are distinct and a
     * sample as large as the table is the whole table. */
    uint64_t s0 = h->t[0].size, s1 = h->t[1].size, total = s0 + s1;
    uint64_t start = rand_next() % total;
    for (uint64_t step = 0; step < total && got < n; step++) {
        uint64_t i = (start + step) % total;
        struct ht_node *e = i < s0 ? h->t[0].buckets[i] : h->t[1].buckets[i - s0];
        for (; e != NULL && got < n; e = e->next) {
            out[got++] = e;
        }
    }
    return got;
}

/* Reverses the bits of v (swap halves, then quarters, ... then bits). */
static uint64_t
rev(uint64_t v)
{
    v = (v >> 32) | (v << 32);
    v = ((v >> 16) & 0x0000ffff0000ffffULL) | ((v & 0x0000ffff0000ffffULL) << 16);
    v = ((v >> 8) & 0x00ff00ff00ff00ffULL) | ((v & 0x00ff00ff00ff00ffULL) << 8);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    return v;
}

static void
scan_bucket(struct ht_node *e, ht_scan_fn *fn, void *ctx)
{
    while (e != NULL) {
        struct ht_node *next = e->next;
        fn(ctx, e);
        e = next;
    }
}

uint64_t
ht_scan(struct ht *h, uint64_t v, ht_scan_fn *fn, void *ctx)
{
    if (ht_count(h) == 0) {
        return 0;
    }
    h->pause_resize++;
    if (!rehashing(h)) {
        uint64_t m0 = h->t[0].size - 1;
        scan_bucket(h->t[0].buckets[v & m0], fn, ctx);
        /* Increment the reversed cursor on the bits not in the mask. */
        v |= ~m0;
        v = rev(v);
        v++;
        v = rev(v);
    } else {
        const struct ht_table *small = &h->t[0], *large = &h->t[1];
        if (small->size > large->size) {
            small = &h->t[1];
            large = &h->t[0];
        }
        uint64_t m0 = small->size - 1, m1 = large->size - 1;
        scan_bucket(small->buckets[v & m0], fn, ctx);
        /* Then every bucket of the large table that expands to it. */
        do {
            scan_bucket(large->buckets[v & m1], fn, ctx);
            v |= ~m1;
            v = rev(v);
            v++;
            v = rev(v);
        } while (v & (m0 ^ m1));
    }
    h->pause_resize--;
    return v;
}

size_t
ht_mem(const struct ht *h)
{
    return mem_usable(h->t[0].buckets) + mem_usable(h->t[1].buckets);
}

void
ht_foreach(struct ht *h, ht_scan_fn *fn, void *ctx)
{
    for (int t = 0; t <= 1; t++) {
        for (uint64_t i = 0; i < h->t[t].size; i++) {
            scan_bucket(h->t[t].buckets[i], fn, ctx);
        }
    }
}
