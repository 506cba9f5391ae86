/*
 * test_slot.c -- CRC16 and key -> hash slot, against the Redis Cluster
 * specification's examples and slots redis-server 7 reports (CLUSTER KEYSLOT):
 * cluster clients compute the same function, so any difference misroutes keys.
 */
#define TEST_SUITE "slot"
#include "tests/unit/testhelp.h"

#include "common/mem.h"
#include "common/slot.h"

#include <stdlib.h>

#define SLOT_OF(lit) slot_of(lit, sizeof(lit) - 1)

/* CRC-16/XMODEM bit by bit, straight from its definition: an independent
 * reference for the module's table-driven version. */
static uint16_t
crc16_bitwise(const unsigned char *p, size_t len)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++) {
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
    }
    return crc;
}

static void
test_crc16_check_value(void)
{
    /* The catalogued check value of CRC-16/XMODEM, quoted by the cluster spec. */
    CHECK_INT(slot_crc16("123456789", 9), 0x31C3);
    CHECK_INT(slot_crc16("", 0), 0);
}

static void
test_crc16_matches_bitwise(void)
{
    unsigned char buf[64];
    int same = 0;

    srandom(7);
    for (int i = 0; i < 1000; i++) {
        size_t len = (size_t)random() % sizeof(buf);
        for (size_t j = 0; j < len; j++) {
            buf[j] = (unsigned char)random();
        }
        same += slot_crc16(buf, len) == crc16_bitwise(buf, len);
    }
    CHECK_INT(same, 1000);
}

static void
test_known_slots(void)
{
    /* Values from redis-server 7.0 CLUSTER KEYSLOT. */
    CHECK_INT(SLOT_OF("foo"), 12182);
    CHECK_INT(SLOT_OF("bar"), 5061);
    CHECK_INT(SLOT_OF("hello"), 866);
    CHECK_INT(SLOT_OF("somekey"), 11058);
    CHECK_INT(SLOT_OF("a"), 15495);
    CHECK_INT(SLOT_OF(""), 0);
    CHECK_INT(SLOT_OF("foo{hash_tag}"), 2515);
    CHECK_INT(SLOT_OF("{user1000}.following"), 3443);
}

/* Checks that key's hashed part is exactly `tag`. */
static void
check_tag(const char *key, const char *tag)
{
    size_t n = 0;
    const char *p = slot_hashtag(key, strlen(key), &n);
    CHECK(n == strlen(tag) && memcmp(p, tag, n) == 0);
    CHECK_INT(slot_of(key, strlen(key)), slot_crc16(tag, strlen(tag)) & (SLOT_COUNT - 1));
}

static void
test_hash_tags_spec_examples(void)
{
    /* The four examples of the Redis Cluster specification, "Hash tags". */
    check_tag("{user1000}.following", "user1000");
    check_tag("{user1000}.followers", "user1000");
    CHECK_INT(SLOT_OF("{user1000}.following"), SLOT_OF("{user1000}.followers"));
    check_tag("foo{}{bar}", "foo{}{bar}"); /* empty first tag: whole key */
    CHECK_INT(SLOT_OF("foo{}{bar}"), 8363);
    check_tag("foo{{bar}}zap", "{bar");
    CHECK_INT(SLOT_OF("foo{{bar}}zap"), 4015);
    check_tag("foo{bar}{zap}", "bar"); /* only the first tag counts */
    CHECK_INT(SLOT_OF("foo{bar}{zap}"), SLOT_OF("bar"));
}

static void
test_hash_tags_edges(void)
{
    check_tag("{", "{");
    check_tag("}", "}");
    check_tag("{}", "{}");
    check_tag("no tag", "no tag");
    check_tag("}{a}", "a");   /* a '}' before the '{' does not close it */
    check_tag("{a", "{a");    /* unclosed */
    check_tag("x{ab}", "ab"); /* tag at the end */
    check_tag("{{}}", "{");   /* the first "}" after the first "{" closes it */
}

static void
test_slot_range(void)
{
    char key[16];
    unsigned max = 0;

    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        unsigned s = slot_of(key, (size_t)n);
        max = s > max ? s : max;
    }
    CHECK(max < SLOT_COUNT);
    CHECK(max > SLOT_COUNT - 100); /* the whole range is used */
}

/* Formats bm, checks the text fits where SLOT_TEXT_MAX says it does, and
 * parses it back to the same set. */
static void
check_round_trip(const uint8_t *bm)
{
    uint8_t back[SLOT_BITMAP_BYTES];
    char *text = slot_bitmap_text(bm);
    size_t len = strlen(text);

    CHECK(len + 32 <= SLOT_TEXT_MAX);
    if (len == 0) {
        CHECK(!slot_bitmap_parse(back, text)); /* the empty set has no text form */
        for (size_t i = 0; i < SLOT_BITMAP_BYTES; i++) {
            CHECK(bm[i] == 0);
        }
    } else {
        CHECK(slot_bitmap_parse(back, text));
        CHECK(memcmp(back, bm, SLOT_BITMAP_BYTES) == 0);
    }
    mem_free(text);
}

/* The longest texts: single slots with gaps, and pairs with gaps (4
 * characters a slot), which the proxy's config lines must hold whole. */
static void
test_bitmap_text_round_trips(void)
{
    uint8_t bm[SLOT_BITMAP_BYTES];

    memset(bm, 0, sizeof(bm));
    check_round_trip(bm);
    memset(bm, 0xff, sizeof(bm));
    check_round_trip(bm);
    for (unsigned period = 2; period <= 5; period++) {
        memset(bm, 0, sizeof(bm));
        for (unsigned s = 0; s < SLOT_COUNT; s++) {
            if (s % period != period - 1) {
                slot_bitmap_add(bm, s);
            }
        }
        check_round_trip(bm);
    }
    srand(7);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(bm); i++) {
            bm[i] = (uint8_t)rand();
        }
        check_round_trip(bm);
    }
}

static void
test_bitmap_parse(void)
{
    uint8_t bm[SLOT_BITMAP_BYTES];

    CHECK(slot_bitmap_parse(bm, "0-5460"));
    CHECK(slot_bitmap_has(bm, 0) && slot_bitmap_has(bm, 5460) && !slot_bitmap_has(bm, 5461));
    CHECK(slot_bitmap_parse(bm, "16383,0,7-7"));
    CHECK(slot_bitmap_has(bm, 16383) && slot_bitmap_has(bm, 0) && slot_bitmap_has(bm, 7));
    CHECK(!slot_bitmap_has(bm, 1));
    const char *bad[] = {"", ",", "1,", ",1", "1,,2", "16384", "0-16384", "5-3", " 5", "+5",
                         "-5", "5-", "5- 6", "5-+6", "a", "1a", "1-2x", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool ok = slot_bitmap_parse(bm, bad[i]);
        CHECK(!ok);
        if (ok) {
            fprintf(stderr, "  accepted the bad slot list '%s'\n", bad[i]);
        }
    }
}

TEST_MAIN(test_crc16_check_value, test_crc16_matches_bitwise, test_known_slots,
          test_hash_tags_spec_examples, test_hash_tags_edges, test_slot_range,
          test_bitmap_text_round_trips, test_bitmap_parse)
