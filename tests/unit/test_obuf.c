/*
 * test_obuf.c -- client-output-buffer-limit: the directive as redis reads
 * and shows it (CONFIG GET texts read from redis-server 7.0), and when a
 * client holding replies is over the hard or the soft limit.
 */
#define TEST_SUITE "obuf"
#include "tests/unit/testhelp.h"

#include "common/obuf.h"

static struct obuf_limit limits[OBUF_CLASSES];
static const struct conf_option opts[] = {
    OBUF_LIMIT_OPT(limits, OBUF_DEFAULT, CONF_RUNTIME, "test"),
    CONF_END,
};

static int
set(const char *value, char *err, size_t errlen)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", value);
    return conf_set_runtime(&opts[0], copy, err, errlen);
}

static void
get(char *buf, size_t len)
{
    conf_get(&opts[0], buf, len);
}

static void
test_default_is_redis(void)
{
    char buf[256];

    conf_defaults(opts);
    get(buf, sizeof(buf));
    CHECK_STR(buf, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
}

static void
test_set_groups_units_and_aliases(void)
{
    char buf[256], err[256];

    conf_defaults(opts);
    CHECK_INT(set("normal 1mb 2mb 3", err, sizeof(err)), SC_OK);
    get(buf, sizeof(buf));
    CHECK_STR(buf,
              "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    CHECK_INT(set("replica 1k 2kb 5 PUBSUB 0 0 0", err, sizeof(err)),
              SC_OK); /* k: 1000, kb: 1024 */
    get(buf, sizeof(buf));
    CHECK_STR(buf, "normal 1048576 2097152 3 slave 1000 2048 5 pubsub 0 0 0");
    CHECK_INT(limits[OBUF_NORMAL].hard, 1048576);
    CHECK_INT(limits[OBUF_REPLICA].soft_seconds, 5);
}

static void
test_bad_values_change_nothing(void)
{
    char before[256], after[256], err[256];

    conf_defaults(opts);
    CHECK_INT(set("normal 1mb 2mb 3", err, sizeof(err)), SC_OK);
    get(before, sizeof(before));
    /* All or nothing: the valid first group is not applied either. */
    CHECK_INT(set("normal 5mb 5mb 5 bogus 1 1 1", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "Invalid client class specified in buffer limit configuration.");
    CHECK_INT(set("normal 5mb 5mb", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "Wrong number of arguments in buffer limit configuration.");
    CHECK_INT(set("normal lots 5mb 5", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    CHECK_INT(set("normal 1 1 -1", err, sizeof(err)), SC_ERR);
    get(after, sizeof(after));
    CHECK_STR(after, before);
}

static void
test_hard_limit_at_once(void)
{
    struct obuf_limit l = {.hard = 1000, .soft = 0, .soft_seconds = 0};
    long long since = 0;

    CHECK(!obuf_reached(&l, 999, 1000, &since));
    CHECK(obuf_reached(&l, 1000, 1000, &since));
    l.hard = 0; /* 0: no limit */
    CHECK(!obuf_reached(&l, (size_t)1 << 40, 1000, &since));
}

static void
test_soft_limit_after_its_seconds(void)
{
    struct obuf_limit l = {.hard = 0, .soft = 100, .soft_seconds = 2};
    long long since = 0;

    CHECK(!obuf_reached(&l, 100, 10000, &since)); /* over: the clock starts */
    CHECK_INT(since, 10000);
    CHECK(!obuf_reached(&l, 500, 11999, &since));
    CHECK(obuf_reached(&l, 500, 12000, &since));
    /* Back under resets the clock. */
    CHECK(!obuf_reached(&l, 99, 12500, &since));
    CHECK_INT(since, 0);
    CHECK(!obuf_reached(&l, 100, 13000, &since));
    CHECK(!obuf_reached(&l, 100, 14999, &since));
    CHECK(obuf_reached(&l, 100, 15000, &since));
}

static void
test_hard_wins_over_soft(void)
{
    struct obuf_limit l = {.hard = 200, .soft = 100, .soft_seconds = 60};
    long long since = 0;

    CHECK(!obuf_reached(&l, 150, 1000, &since));
    CHECK(obuf_reached(&l, 200, 1001, &since));
}

TEST_MAIN(test_default_is_redis, test_set_groups_units_and_aliases, test_bad_values_change_nothing,
          test_hard_limit_at_once, test_soft_limit_after_its_seconds, test_hard_wins_over_soft)
