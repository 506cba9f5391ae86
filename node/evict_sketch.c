/*
 * evict_sketch.c -- see evict_sketch.h.
 */
#include "node/evict_sketch.h"

#include "common/defs.h"
#include "common/mem.h"

#include <string.h>

#define COUNTERS_PER_WORD 16
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

static inline uint64_t
row_words(const struct evict_sketch *s)
{
    return s->width / COUNTERS_PER_WORD;
}

/* Counter i of row r: its word and bit offset. */
static inline uint64_t *
counter_word(const struct evict_sketch *s, int r, uint64_t i, unsigned *shift)
{
    *shift = (unsigned)(i % COUNTERS_PER_WORD) * 4;
    return &s->words[(uint64_t)r * row_words(s) + i / COUNTERS_PER_WORD];
}

/* Kirsch-Mitzenmacher double hashing: row r uses lo + r * hi, mapped onto
 * the row by multiply-shift (Lemire's fast range), so the width need not be
 * a power of two and a key's counters sit at the same relative place in a
 * row of any width. */
static inline uint64_t
counter_index(const struct evict_sketch *s, uint64_t h, int r)
{
    uint32_t lo = (uint32_t)h, hi = (uint32_t)(h >> 32) | 1;
    uint32_t x = lo + (uint32_t)r * hi;
    return ((uint64_t)x * s->width) >> 32;
}

static inline unsigned
get(const uint64_t *row, uint64_t i)
{
    return (unsigned)(row[i / COUNTERS_PER_WORD] >> (i % COUNTERS_PER_WORD * 4)) & 0xf;
}

/* Each counter of the wider rows takes the value of the old counter at the
 * same relative place: a key's counters keep (about) their values. */
static void
grow(struct evict_sketch *s, uint64_t width)
{
    uint64_t old_row = row_words(s), new_row = width / COUNTERS_PER_WORD;
    uint64_t *words = mem_calloc(EVICT_SKETCH_DEPTH * new_row, sizeof(*words));

    for (int r = 0; s->width > 0 && r < EVICT_SKETCH_DEPTH; r++) {
        const uint64_t *from = s->words + (uint64_t)r * old_row;
        uint64_t *to = words + (uint64_t)r * new_row;
        for (uint64_t i = 0; i < width; i++) {
            uint64_t v = get(from, (uint64_t)((unsigned __int128)i * s->width / width));
            to[i / COUNTERS_PER_WORD] |= v << (i % COUNTERS_PER_WORD * 4);
        }
    }
    mem_free(s->words);
    s->words = words;
    s->width = width;
}

void
evict_sketch_fit(struct evict_sketch *s, uint64_t nkeys)
{
    uint64_t want = MAX(nkeys * EVICT_SKETCH_PER_KEY, EVICT_SKETCH_MIN_WIDTH);

    if (s->width < want) {
        /* A quarter more than needed: regrowing is O(width), so growth by
         * a constant factor keeps it amortised O(1) per key added. */
        uint64_t width = MAX(want, s->width + s->width / EVICT_SKETCH_SLACK);
        grow(s, (width + COUNTERS_PER_WORD - 1) / COUNTERS_PER_WORD * COUNTERS_PER_WORD);
    }
    s->period = MAX(nkeys, 1) * EVICT_SKETCH_AGE;
}

static void
halve(struct evict_sketch *s)
{
    uint64_t n = EVICT_SKETCH_DEPTH * row_words(s);

    for (uint64_t w = 0; w < n; w++) {
        s->words[w] = (s->words[w] >> 1) & HALVE_MASK;
    }
    s->additions /= 2;
}

unsigned
evict_sketch_estimate(const struct evict_sketch *s, uint64_t h)
{
    unsigned min = EVICT_SKETCH_MAX, shift;

    if (s->width == 0) {
        return 0;
    }
    for (int r = 0; r < EVICT_SKETCH_DEPTH; r++) {
        uint64_t *w = counter_word(s, r, counter_index(s, h, r), &shift);
        unsigned c = (unsigned)(*w >> shift) & 0xf;
        min = c < min ? c : min;
    }
    return min;
}

void
evict_sketch_add(struct evict_sketch *s, uint64_t h)
{
    unsigned min = evict_sketch_estimate(s, h), shift;

    if (s->width == 0 || min == EVICT_SKETCH_MAX) {
        return;
    }
    for (int r = 0; r < EVICT_SKETCH_DEPTH; r++) {
        uint64_t *w = counter_word(s, r, counter_index(s, h, r), &shift);
        if (((unsigned)(*w >> shift) & 0xf) == min) {
            *w += 1ULL << shift;
        }
    }
    if (++s->additions >= s->period) {
        halve(s);
    }
}
