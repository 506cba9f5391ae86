/*
 * cli_slots.c -- see cli_slots.h.
 */
#include "cluster-tools/cli_slots.h"

#include "common/defs.h"
#include "common/mem.h"
#include "common/sbuf.h"

#include <stdio.h>
#include <string.h>

void
slots_clear(struct slots *s)
{
    memset(s->bits, 0, sizeof(s->bits));
}

void
slots_add(struct slots *s, unsigned slot)
{
    slot_bitmap_add(s->bits, slot);
}

void
slots_del(struct slots *s, unsigned slot)
{
    s->bits[slot >> 3] &= (uint8_t) ~(1u << (slot & 7));
}

bool
slots_has(const struct slots *s, unsigned slot)
{
    return slot_bitmap_has(s->bits, slot);
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

    for (size_t i = 0; i < sizeof(s->bits); i++) {
        n += __builtin_popcount(s->bits[i]);
    }
    return n;
}

int
slots_min(const struct slots *s)
{
    for (unsigned i = 0; i < SLOT_COUNT; i++) {
        if (slots_has(s, i)) {
            return (int)i;
        }
    }
    return -1;
}

int
slots_max(const struct slots *s)
{
    for (int i = SLOT_COUNT - 1; i >= 0; i--) {
        if (slots_has(s, (unsigned)i)) {
            return i;
        }
    }
    return -1;
}

void
slots_union(struct slots *dst, const struct slots *src)
{
    for (size_t i = 0; i < sizeof(dst->bits); i++) {
        dst->bits[i] |= src->bits[i];
    }
}

void
slots_minus(struct slots *dst, const struct slots *src)
{
    for (size_t i = 0; i < sizeof(dst->bits); i++) {
        dst->bits[i] &= (uint8_t)~src->bits[i];
    }
}

void
slots_intersect(struct slots *dst, const struct slots *src)
{
    for (size_t i = 0; i < sizeof(dst->bits); i++) {
        dst->bits[i] &= src->bits[i];
    }
}

int
slots_parse(struct slots *s, const char *spec, char *err, size_t errlen)
{
    struct slots parsed;

    if (!slot_bitmap_parse(parsed.bits, spec)) {
        snprintf(err, errlen,
                 "bad slot list '%.64s' (slots 0-16383, as LO-HI or N, separated by commas)", spec);
        return SC_ERR;
    }
    slots_union(s, &parsed);
    return SC_OK;
}

void
slots_format(const struct slots *s, struct sbuf *out)
{
    char *text = slot_bitmap_text(s->bits);

    sbuf_adds(out, text);
    mem_free(text);
}

int
slots_ranges(const struct slots *s)
{
    int n = 0;

    for (unsigned i = 0; i < SLOT_COUNT; i++) {
        n += slots_has(s, i) && (i == 0 || !slots_has(s, i - 1));
    }
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
