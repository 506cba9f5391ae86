/*
 * slot.h -- Redis Cluster's key -> hash slot mapping.
 *
 * slot = CRC16(key) mod 16384, where CRC16 is CRC-16/XMODEM (polynomial
 * 0x1021, initial value 0), and only the part between the first '{' and the
 * next '}' is hashed when that part is not empty ("{user1000}.following"
 * and "{user1000}.followers" share a slot).  Cluster clients compute the
 * same function, so the proxy and redis-cli -c agree on every key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384

/* A set of slots: SLOT_COUNT bits. */
#define SLOT_BITMAP_BYTES (SLOT_COUNT / 8)

static inline bool
slot_bitmap_has(const uint8_t *bm, unsigned slot)
{
    return (bm[slot >> 3] >> (slot & 7)) & 1;
}

static inline void
slot_bitmap_add(uint8_t *bm, unsigned slot)
{
    bm[slot >> 3] |= (uint8_t)(1u << (slot & 7));
}

/* Parses "0-5460" or "0-100,200-300,7000" into bm (cleared first);
 * false for a malformed list or a slot above 16383. */
bool slot_bitmap_parse(uint8_t *bm, const char *spec);
/* Room for any set as text: at most 4 characters a slot ("10000-10001,"
 * covers 3 slots with its gap; "10000," covers 2), plus the margin
 * slot_bitmap_format keeps rather than cut a range. */
#define SLOT_TEXT_MAX (SLOT_COUNT * 4 + 32)

/* Writes the set as ranges ("0-100,200") into buf; returns the length.
 * A buffer shorter than SLOT_TEXT_MAX may end the list early. */
size_t slot_bitmap_format(const uint8_t *bm, char *buf, size_t len);
/* The whole set as text, in a string the caller frees with mem_free. */
char *slot_bitmap_text(const uint8_t *bm);

uint16_t slot_crc16(const void *buf, size_t len);
/* The part of key that is hashed: its {hash tag} if it has a non-empty one. */
const char *slot_hashtag(const char *key, size_t len, size_t *taglen);
unsigned slot_of(const char *key, size_t len);
