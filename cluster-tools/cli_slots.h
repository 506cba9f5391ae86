/*
 * cli_slots.h -- sets of hash slots, as slotcache-cli plans with them.
 *
 * The proxy writes a shard's slots as ranges ("0-5460" or
 * "0-100,200-300,7000"); the cli reads them into a bitmap, does set
 * arithmetic and counting there, and writes the result back as ranges.
 * Moves pick whole runs of slots from one end of a shard (slots_take), so
 * that after many moves every shard is still a few ranges: shorter config
 * lines and PROXY MIGRATE arguments, and maps a person can read.
 *
 * The bitmap and its text form are common/slot.h's, which the proxy uses:
 * the cli reads and writes slot lists exactly as the proxy does.
 *
 * Pure functions: no I/O; only slots_format allocates.
 */
#pragma once

#include "common/slot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

struct slots {
    uint8_t bits[SLOT_BITMAP_BYTES]; /* slot_bitmap_* of common/slot.h */
};

void slots_clear(struct slots *s);
void slots_add(struct slots *s, unsigned slot);
void slots_del(struct slots *s, unsigned slot);
bool slots_has(const struct slots *s, unsigned slot);
/* Adds lo..hi inclusive (hi < SLOT_COUNT). */
void slots_add_range(struct slots *s, unsigned lo, unsigned hi);
int slots_count(const struct slots *s);
/* Lowest / highest slot of the set; -1 when it is empty. */
int slots_min(const struct slots *s);
int slots_max(const struct slots *s);

/* dst |= src; dst &= ~src; and the slots in both. */
void slots_union(struct slots *dst, const struct slots *src);
void slots_minus(struct slots *dst, const struct slots *src);
void slots_intersect(struct slots *dst, const struct slots *src);

/* Adds the slots of spec ("0-999", "0-10,500,900-999") to s; SC_ERR with a
 * message in err for what the proxy would refuse (slot_bitmap_parse). */
int slots_parse(struct slots *s, const char *spec, char *err, size_t errlen);
/* Appends s as ranges ("0-999,5000"); nothing for an empty set. */
void slots_format(const struct slots *s, struct sbuf *out);
/* Number of ranges slots_format writes. */
int slots_ranges(const struct slots *s);

/* Puts n slots of from into out (cleared first): the n highest when
 * from_top, else the n lowest.  n is capped at the size of from. */
void slots_take(const struct slots *from, int n, bool from_top, struct slots *out);
/* The part i (0-based) of n consecutive, near-equal parts of 0..16383: the
 * first SLOT_COUNT % n parts have one slot more (three shards: 5462, 5461
 * and 5461 slots). */
void slots_even_part(int i, int n, unsigned *lo, unsigned *hi);
