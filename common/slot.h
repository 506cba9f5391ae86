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

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384

uint16_t slot_crc16(const void *buf, size_t len);
/* The part of key that is hashed: its {hash tag} if it has a non-empty one. */
const char *slot_hashtag(const char *key, size_t len, size_t *taglen);
unsigned slot_of(const char *key, size_t len);
