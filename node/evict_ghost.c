/*
 * evict_ghost.c -- see evict_ghost.h.
 */
#include "node/evict_ghost.h"

#include "common/defs.h"
#include "common/mem.h"

#include <string.h>

#define GHOST_MIN_CAP 64
#define GHOST_SLACK 4 /* a rebuilt ring has live / SLACK free slots */

void
evict_ghost_init(struct evict_ghost *g)
{
    memset(g, 0, sizeof(*g));
}

void
evict_ghost_free(struct evict_ghost *g)
{
    mem_free(g->ring);
    mem_free(g->table);
    evict_ghost_init(g);
}

static inline uint64_t
ring_at(const struct evict_ghost *g, uint64_t k)
{
    uint64_t r = g->head + k;
    return r >= g->cap ? r - g->cap : r;
}

/* Where fp's probe run starts: multiply-shift onto the table (Lemire's
 * fast range), so the table need not be a power of two. */
static inline uint64_t
home(const struct evict_ghost *g, uint32_t fp)
{
    return ((uint64_t)fp * g->tsize) >> 32;
}

static inline uint64_t
step(const struct evict_ghost *g, uint64_t s)
{
    return s + 1 == g->tsize ? 0 : s + 1;
}

/* The table slot holding ring index r (whose fingerprint is live). */
static uint64_t
slot_of(const struct evict_ghost *g, uint64_t r)
{
    uint64_t s = home(g, g->ring[r]);

    while (g->table[s] != r + 1) {
        s = step(g, s);
    }
    return s;
}

/* Empties table slot s, moving later entries of its probe run back so
 * that every lookup still finds them (no tombstones). */
static void
table_delete(struct evict_ghost *g, uint64_t s)
{
    uint64_t j = s;

    g->table[s] = 0;
    for (;;) {
        j = step(g, j);
        if (g->table[j] == 0) {
            return;
        }
        uint64_t h = home(g, g->ring[g->table[j] - 1]);
        /* The entry at j may fill s only if its home is not in (s, j]. */
        uint64_t dist_home = j >= h ? j - h : j + g->tsize - h;
        uint64_t dist_s = j >= s ? j - s : j + g->tsize - s;
        if (dist_home >= dist_s) {
            g->table[s] = g->table[j];
            g->table[j] = 0;
            s = j;
        }
    }
}

static void
table_insert(struct evict_ghost *g, uint64_t r)
{
    uint64_t s = home(g, g->ring[r]);

    while (g->table[s] != 0) {
        s = step(g, s);
    }
    g->table[s] = (uint32_t)(r + 1);
}

/* A new ring with a quarter more room than the live entries (at least
 * GHOST_MIN_CAP), holding them in order without the removed ones, and a
 * table at most 3/4 full.  Rebuilding is O(live) and happens only when the
 * ring is full, at least live / GHOST_SLACK additions after the last one. */
static void
rebuild(struct evict_ghost *g)
{
    uint64_t cap = MAX(GHOST_MIN_CAP, g->live + g->live / GHOST_SLACK), n = 0;
    uint32_t *ring = mem_alloc(cap * sizeof(*ring));

    for (uint64_t k = 0; k < g->used; k++) {
        uint32_t fp = g->ring[ring_at(g, k)];
        if (fp != 0) {
            ring[n++] = fp;
        }
    }
    mem_free(g->ring);
    mem_free(g->table);
    g->ring = ring;
    g->cap = cap;
    g->head = 0;
    g->used = g->live = n;
    g->tsize = cap + cap / 3;
    g->table = mem_calloc(g->tsize, sizeof(*g->table));
    for (uint64_t r = 0; r < n; r++) {
        table_insert(g, r);
    }
}

static void
drop_oldest(struct evict_ghost *g)
{
    uint64_t r = g->head;

    if (g->ring[r] != 0) {
        table_delete(g, slot_of(g, r));
        g->live--;
    }
    g->head = r + 1 == g->cap ? 0 : r + 1;
    g->used--;
}

void
evict_ghost_add(struct evict_ghost *g, uint32_t fp, uint64_t max)
{
    while (g->live >= max && g->used > 0) {
        drop_oldest(g);
    }
    if (max == 0) {
        return;
    }
    if (g->used == g->cap) {
        rebuild(g);
    }
    uint64_t r = ring_at(g, g->used);
    g->ring[r] = fp;
    g->used++;
    g->live++;
    table_insert(g, r);
}

/* The table slot of fp, or -1. */
static int64_t
find(const struct evict_ghost *g, uint32_t fp)
{
    if (g->live == 0) {
        return -1;
    }
    for (uint64_t s = home(g, fp); g->table[s] != 0; s = step(g, s)) {
        if (g->ring[g->table[s] - 1] == fp) {
            return (int64_t)s;
        }
    }
    return -1;
}

bool
evict_ghost_has(const struct evict_ghost *g, uint32_t fp)
{
    return find(g, fp) >= 0;
}

bool
evict_ghost_take(struct evict_ghost *g, uint32_t fp)
{
    int64_t s = find(g, fp);

    if (s < 0) {
        return false;
    }
    uint64_t r = g->table[s] - 1;
    table_delete(g, (uint64_t)s);
    g->ring[r] = 0;
    g->live--;
    return true;
}
