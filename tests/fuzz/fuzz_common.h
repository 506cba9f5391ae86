/*
 * fuzz_common.h -- what the RESP harnesses share: a log of what a parser
 * found (compared between ways of cutting the same input), the cuts
 * themselves, and a hash of the input that picks the parser's settings, so
 * that corpus files stay plain RESP streams.
 *
 * Header-only (static inline): each harness is one translation unit.
 */
#pragma once

#include "common/defs.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte log (plain malloc: not part of what is measured). */
struct flog {
    char *p;
    size_t len, cap;
};

static inline void
flog_add(struct flog *l, const void *p, size_t n)
{
    if (n == 0) {
        return; /* memcpy's pointers must be valid even for 0 bytes */
    }
    if (l->len + n > l->cap) {
        l->cap = MAX(l->cap * 2, l->len + n + 64);
        l->p = realloc(l->p, l->cap);
        sc_assert(l->p != NULL);
    }
    memcpy(l->p + l->len, p, n);
    l->len += n;
}

static inline void
flog_u64(struct flog *l, uint64_t v)
{
    flog_add(l, &v, sizeof(v));
}

/* A tagged C string: an error text, say. */
static inline void
flog_str(struct flog *l, char tag, const char *s)
{
    flog_add(l, &tag, 1);
    flog_add(l, s, strlen(s) + 1);
}

static inline bool
flog_eq(const struct flog *a, const struct flog *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static inline uint64_t
fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

/* How the input is cut into reads: one read (piece_max 0) or pieces of
 * 1..piece_max bytes drawn from a generator seeded by the input. */
struct fcut {
    uint32_t state;
    size_t piece_max;
};

static inline size_t
fcut_next(struct fcut *c, size_t left)
{
    if (c->piece_max == 0) {
        return left;
    }
    c->state = c->state * 1103515245u + 12345u;
    size_t n = 1 + (c->state >> 16) % c->piece_max;
    return MIN(n, left);
}

/* Appends n bytes to *buf (holding *len), always into a new block, so a
 * parser that kept a pointer into the old one reads freed memory (ASan). */
static inline void
fmove_append(char **buf, size_t *len, const uint8_t *data, size_t n)
{
    char *nb = malloc(*len + n + 1);
    sc_assert(nb != NULL);
    if (*len > 0) {
        memcpy(nb, *buf, *len);
    }
    memcpy(nb + *len, data, n);
    free(*buf);
    *buf = nb;
    *len += n;
}
