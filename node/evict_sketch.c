/*
 * evict_sketch.c -- see evict_sketch.h.
 */
#include "node/evict_sketch.h"

#include "common/defs.h"
#include "common/mem.h"

#include <string.h>

#define HALVE_MASK 0x7777777777777777ULL /* each nibble shifted right drops its top bit */

void
evict_sketch_init(struct evict_sketch *s)
{
    memset(s, 0, sizeof(*s));
}

void
evict_sketch_free(struct evict_sketch *s)
{
    mem_free(s->words);
    evict_sketch_init(s);
}

/* The key's block: multiply-shift of the hash's low half (Lemire's fast
 * range), so the number of blocks need not be a power of two. */
static inline uint64_t *
block_of(const struct evict_sketch *s, uint64_t h)
{
    uint64_t b = ((h & 0xffffffffULL) * s->nblocks) >> 32;
    return s->words + b * EVICT_SKETCH_BLOCK_WORDS;
}

/* A key's counters: row r's is nibble shift[r] / 4 of word[r], holding
 * value[r].  Byte r of the hash's high half picks one of the row's two words
 * (bit 0) and the nibble in it (bits 1-4); rows own different words, so
 * the four counters are distinct.  Written out row by row: this runs on
 * every access, and the compiler keeps it all in registers. */
struct counters {
    uint64_t *word[EVICT_SKETCH_DEPTH];
    unsigned shift[EVICT_SKETCH_DEPTH];
    unsigned value[EVICT_SKETCH_DEPTH];
};

#define COUNTER_OF(c, block, hi, r)                                                                \
    do {                                                                                           \
        unsigned byte_ = (unsigned)((hi) >> (8 * (r)));                                            \
        (c)->word[r] = &(block)[2 * (r) + (byte_ & 1)];                                            \
        (c)->shift[r] = (byte_ & 0x1e) << 1; /* ((byte >> 1) & 15) * 4 */                          \
        (c)->value[r] = (unsigned)(*(c)->word[r] >> (c)->shift[r]) & 0xf;                          \
    } while (0)

/* Fills c; returns the smallest value. */
static inline unsigned
counters_of(const struct evict_sketch *s, uint64_t h, struct counters *c)
{
    uint64_t *block = block_of(s, h);
    uint32_t hi = (uint32_t)(h >> 32);

    _Static_assert(EVICT_SKETCH_DEPTH == 4, "one COUNTER_OF per row");
    COUNTER_OF(c, block, hi, 0);
    COUNTER_OF(c, block, hi, 1);
    COUNTER_OF(c, block, hi, 2);
    COUNTER_OF(c, block, hi, 3);
    unsigned m01 = MIN(c->value[0], c->value[1]), m23 = MIN(c->value[2], c->value[3]);
    return MIN(m01, m23);
}

/* Each new block copies the old block that held the keys at its start:
 * a key's counters keep their values, but for the keys of an old block
 * that a new one straddles (they start over, as new keys).  Merging both
 * old blocks by their maximum instead would overestimate every key of the
 * block, and admission by frequency suffers more from that. */
static void
grow(struct evict_sketch *s, uint64_t nblocks)
{
    uint64_t *words = mem_calloc(nblocks * EVICT_SKETCH_BLOCK_WORDS, sizeof(*words));

    for (uint64_t i = 0; s->nblocks > 0 && i < nblocks; i++) {
        uint64_t from = (uint64_t)((unsigned __int128)i * s->nblocks / nblocks);
        memcpy(words + i * EVICT_SKETCH_BLOCK_WORDS, s->words + from * EVICT_SKETCH_BLOCK_WORDS,
               EVICT_SKETCH_BLOCK_WORDS * sizeof(*words));
    }
    mem_free(s->words);
    s->words = words;
    s->nblocks = nblocks;
}

void
evict_sketch_fit(struct evict_sketch *s, uint64_t nkeys)
{
    uint64_t want = (nkeys + EVICT_SKETCH_KEYS_PER_BLOCK - 1) / EVICT_SKETCH_KEYS_PER_BLOCK;

    want = MAX(want, EVICT_SKETCH_MIN_BLOCKS);
    if (s->nblocks < want) {
        /* A quarter more than needed: growing is O(size), so growth by a
         * constant factor keeps it amortised O(1) per key added. */
        grow(s, MAX(want, s->nblocks + s->nblocks / EVICT_SKETCH_SLACK));
    }
    s->period = MAX(nkeys, 1) * EVICT_SKETCH_AGE;
}

static void
halve(struct evict_sketch *s)
{
    uint64_t n = s->nblocks * EVICT_SKETCH_BLOCK_WORDS;

    for (uint64_t w = 0; w < n; w++) {
        s->words[w] = (s->words[w] >> 1) & HALVE_MASK;
    }
    s->additions /= 2;
}

unsigned
evict_sketch_estimate(const struct evict_sketch *s, uint64_t h)
{
    struct counters c;

    return s->nblocks == 0 ? 0 : counters_of(s, h, &c);
}

void
evict_sketch_add(struct evict_sketch *s, uint64_t h)
{
    struct counters c;

    if (s->nblocks == 0) {
        return;
    }
    unsigned min = counters_of(s, h, &c);
    if (min == EVICT_SKETCH_MAX) {
        return;
    }
    for (int r = 0; r < EVICT_SKETCH_DEPTH; r++) {
        *c.word[r] += (uint64_t)(c.value[r] == min) << c.shift[r];
    }
    if (++s->additions >= s->period) {
        halve(s);
    }
}
