/*
 * slot.c -- see slot.h.  Table-driven CRC16, the table computed once from
 * the polynomial rather than pasted, so its origin is in the code.
 */
#include "common/slot.h"

#include "common/mem.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRC16_POLY 0x1021

static uint16_t crc16_table[256];
static bool crc16_ready;

static void
crc16_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t crc = (uint16_t)(i << 8);
        for (int bit = 0; bit < 8; bit++) {
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ CRC16_POLY : crc << 1);
        }
        crc16_table[i] = crc;
    }
    crc16_ready = true;
}

uint16_t
slot_crc16(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint16_t crc = 0;

    if (!crc16_ready) {
        crc16_init();
    }
    for (size_t i = 0; i < len; i++) {
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ p[i]) & 0xff]);
    }
    return crc;
}

const char *
slot_hashtag(const char *key, size_t len, size_t *taglen)
{
    const char *open = memchr(key, '{', len);

    if (open != NULL) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close != NULL && close > open + 1) {
            *taglen = (size_t)(close - open - 1);
            return open + 1;
        }
    }
    *taglen = len;
    return key;
}

unsigned
slot_of(const char *key, size_t len)
{
    size_t n;
    const char *tag = slot_hashtag(key, len, &n);
    return slot_crc16(tag, n) & (SLOT_COUNT - 1);
}

bool
slot_bitmap_parse(uint8_t *bm, const char *spec)
{
    const char *p = spec;

    memset(bm, 0, SLOT_BITMAP_BYTES);
    if (*p == '\0') {
        return false;
    }
    for (;;) {
        char *end;
        /* Digits only: strtoul alone would take " 5", "+5" and "-5". */
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        p = end;
        if (*p == '-') {
            if (!isdigit((unsigned char)p[1])) {
                return false;
            }
            hi = strtoul(p + 1, &end, 10);
            p = end;
        }
        if (lo > hi || hi >= SLOT_COUNT || (*p != ',' && *p != '\0')) {
            return false;
        }
        for (unsigned long s = lo; s <= hi; s++) {
            slot_bitmap_add(bm, (unsigned)s);
        }
        if (*p == '\0') {
            return true;
        }
        p++; /* the ',': something must follow it */
    }
}

size_t
slot_bitmap_format(const uint8_t *bm, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (unsigned s = 0; s < SLOT_COUNT && n + 16 < len;) {
        if (!slot_bitmap_has(bm, s)) {
            s++;
            continue;
        }
        unsigned e = s;
        while (e + 1 < SLOT_COUNT && slot_bitmap_has(bm, e + 1)) {
            e++;
        }
        int w = e == s ? snprintf(buf + n, len - n, "%s%u", n > 0 ? "," : "", s)
                       : snprintf(buf + n, len - n, "%s%u-%u", n > 0 ? "," : "", s, e);
        n += (size_t)w;
        s = e + 1;
    }
    return n;
}

char *
slot_bitmap_text(const uint8_t *bm)
{
    char *buf = mem_alloc(SLOT_TEXT_MAX);
    size_t n = slot_bitmap_format(bm, buf, SLOT_TEXT_MAX);
    char *text = mem_strndup(buf, n);

    mem_free(buf);
    return text;
}
