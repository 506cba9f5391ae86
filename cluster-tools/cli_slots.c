/*
 * cli_slots.c -- see cli_slots.h.
 */
#include "cluster-tools/cli_slots.h"

#include "common/defs.h"
#include "common/sbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define WORDS (SLOT_COUNT / 64)

void
slots_clear(struct slots *s)
{
    memset(s->bits, 0, sizeof(s->bits));
}

void
slots_add(struct slots *s, unsigned slot)
{
    s->bits[slot / 64] |= 1ULL << (slot % 64);
}

void
slots_del(struct slots *s, unsigned slot)
{
    s->bits[slot / 64] &= ~(1ULL << (slot % 64));
}

bool
slots_has(const struct slots *s, unsigned slot)
{
    return (s->bits[slot / 64] >> (slot % 64)) & 1;
}

void
slots_add_range(struct slots *s, unsigned lo, unsigned hi)
{
    for (unsigned i = lo; i <= hi; i++) {
        slots_add(s, i);
    }
}

int
slots_count(const struct slots *s)
{
    int n = 0;

    for (int i = 0; i < WORDS; i++) {
        n += __builtin_popcountll(s->bits[i]);
    }
    return n;
}

int
slots_min(const struct slots *s)
{
    for (int i = 0; i < WORDS; i++) {
        if (s->bits[i] != 0) {
            return i * 64 + __builtin_ctzll(s->bits[i]);
        }
    }
    return -1;
}

int
slots_max(const struct slots *s)
{
    for (int i = WORDS - 1; i >= 0; i--) {
        if (s->bits[i] != 0) {
            return i * 64 + 63 - __builtin_clzll(s->bits[i]);
        }
    }
    return -1;
}

void
slots_union(struct slots *dst, const struct slots *src)
{
    for (int i = 0; i < WORDS; i++) {
        dst->bits[i] |= src->bits[i];
    }
}

void
slots_minus(struct slots *dst, const struct slots *src)
{
    for (int i = 0; i < WORDS; i++) {
        dst->bits[i] &= ~src->bits[i];
    }
}

void
slots_intersect(struct slots *dst, const struct slots *src)
{
    for (int i = 0; i < WORDS; i++) {
        dst->bits[i] &= src->bits[i];
    }
}

/* One token of a spec: "N" or "LO-HI". */
static int
parse_range(const char *tok, size_t len, unsigned *lo, unsigned *hi)
{
    const char *dash = memchr(tok, '-', len);
    unsigned long long a, b;

    if (dash == NULL) {
        if (!util_str2ull(tok, len, &a)) {
            return SC_ERR;
        }
        b = a;
    } else if (!util_str2ull(tok, (size_t)(dash - tok), &a) ||
               !util_str2ull(dash + 1, len - (size_t)(dash - tok) - 1, &b)) {
        return SC_ERR;
    }
    if (a > b || b >= SLOT_COUNT) {
        return SC_ERR;
    }
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return SC_OK;
}

int
slots_parse(struct slots *s, const char *spec, char *err, size_t errlen)
{
    const char *p = spec;

    if (*spec == '\0') {
        snprintf(err, errlen, "empty slot list");
        return SC_ERR;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        unsigned lo, hi;
        if (parse_range(p, len, &lo, &hi) != SC_OK) {
            snprintf(err, errlen, "bad slot range '%.*s' (slots are 0-16383, as LO-HI or N)",
                     (int)MIN(len, 64), p);
            return SC_ERR;
        }
        slots_add_range(s, lo, hi);
        if (p[len] == '\0') {
            return SC_OK;
        }
        p += len + 1;
    }
}

/* Calls fn for every maximal run lo..hi of s, in order. */
typedef void slots_run_fn(void *ctx, unsigned lo, unsigned hi);

static void
each_run(const struct slots *s, slots_run_fn *fn, void *ctx)
{
    unsigned i = 0;

    while (i < SLOT_COUNT) {
        if (!slots_has(s, i)) {
            i++;
            continue;
        }
        unsigned lo = i;
        while (i + 1 < SLOT_COUNT && slots_has(s, i + 1)) {
            i++;
        }
        fn(ctx, lo, i);
        i++;
    }
}

static void
format_run(void *ctx, unsigned lo, unsigned hi)
{
    struct sbuf *out = ctx;
    const char *sep = out->len == 0 ? "" : ",";

    if (lo == hi) {
        sbuf_printf(out, "%s%u", sep, lo);
    } else {
        sbuf_printf(out, "%s%u-%u", sep, lo, hi);
    }
}

void
slots_format(const struct slots *s, struct sbuf *out)
{
    /* Runs are written to a fresh buffer, where "is this the first run"
     * is just "is it empty", then appended to whatever out holds. */
    struct sbuf tmp;

    sbuf_init(&tmp);
    each_run(s, format_run, &tmp);
    sbuf_add(out, tmp.data != NULL ? tmp.data : "", tmp.len);
    sbuf_free(&tmp);
}

static void
count_run(void *ctx, unsigned lo, unsigned hi)
{
    (void)lo;
    (void)hi;
    (*(int *)ctx)++;
}

int
slots_ranges(const struct slots *s)
{
    int n = 0;

    each_run(s, count_run, &n);
    return n;
}

void
slots_take(const struct slots *from, int n, bool from_top, struct slots *out)
{
    slots_clear(out);
    for (int k = 0; k < SLOT_COUNT && n > 0; k++) {
        unsigned i = from_top ? (unsigned)(SLOT_COUNT - 1 - k) : (unsigned)k;
        if (slots_has(from, i)) {
            slots_add(out, i);
            n--;
        }
    }
}

void
slots_even_part(int i, int n, unsigned *lo, unsigned *hi)
{
    int base = SLOT_COUNT / n, extra = SLOT_COUNT % n;
    int start = i * base + MIN(i, extra);

    *lo = (unsigned)start;
    *hi = (unsigned)(start + base + (i < extra ? 1 : 0) - 1);
}
