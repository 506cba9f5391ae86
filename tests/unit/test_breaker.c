/*
 * test_breaker.c -- the circuit breaker's state machine, with time passed
 * in: when it opens, how long it fails fast, that half-open lets exactly one
 * probe through, and what the probe's outcome does.
 */
#define TEST_SUITE "breaker"
#include "tests/unit/testhelp.h"

#include "loader/breaker.h"

static bool
allow(struct breaker *b, long long now)
{
    bool changed;
    return breaker_allow(b, now, &changed);
}

/* Opens b (threshold 3, cool-down 1000 ms) at time t. */
static void
open_at(struct breaker *b, long long t)
{
    breaker_init(b, 3, 1000);
    breaker_failure(b, t);
    breaker_failure(b, t);
    breaker_failure(b, t);
}

static void
test_closed_until_threshold(void)
{
    struct breaker b;

    breaker_init(&b, 3, 1000);
    CHECK_INT(b.state, BREAKER_CLOSED);
    CHECK(allow(&b, 0));
    CHECK(!breaker_failure(&b, 10));
    CHECK(!breaker_failure(&b, 20));
    CHECK_INT(b.state, BREAKER_CLOSED);
    CHECK(allow(&b, 30));
    CHECK(breaker_failure(&b, 40)); /* the third in a row opens it */
    CHECK_INT(b.state, BREAKER_OPEN);
    CHECK_INT(b.opens, 1);
    CHECK_INT(b.opened_ms, 40);
}

static void
test_success_resets_the_count(void)
{
    struct breaker b;

    breaker_init(&b, 3, 1000);
    breaker_failure(&b, 0);
    breaker_failure(&b, 0);
    CHECK(!breaker_success(&b)); /* closed stays closed: no transition */
    CHECK_INT(b.failures, 0);
    CHECK(!breaker_failure(&b, 0));
    CHECK(!breaker_failure(&b, 0));
    CHECK_INT(b.state, BREAKER_CLOSED); /* not consecutive: still closed */
}

static void
test_open_fails_fast_for_the_cooldown(void)
{
    struct breaker b;
    bool changed = true;

    open_at(&b, 5000);
    CHECK(!breaker_allow(&b, 5000, &changed));
    CHECK(!changed);
    CHECK(!allow(&b, 5999));
    CHECK_INT(breaker_retry_in(&b, 5000), 1000);
    CHECK_INT(breaker_retry_in(&b, 5600), 400);
    CHECK_INT(breaker_retry_in(&b, 7000), 0);
    /* Late outcomes of requests sent before it opened change nothing. */
    CHECK(!breaker_failure(&b, 5500));
    CHECK_INT(b.opened_ms, 5000);
    CHECK(!breaker_success(&b));
    CHECK_INT(b.state, BREAKER_OPEN);
    CHECK(!allow(&b, 5999));
}

static void
test_half_open_lets_one_probe_through(void)
{
    struct breaker b;
    bool changed = false;

    open_at(&b, 0);
    CHECK(breaker_allow(&b, 1000, &changed));
    CHECK(changed);
    CHECK_INT(b.state, BREAKER_HALF_OPEN);
    CHECK(b.probing);
    CHECK(!breaker_allow(&b, 1001, &changed)); /* the probe is out: others wait */
    CHECK(!changed);
    CHECK(!allow(&b, 99999));
    CHECK_INT(breaker_retry_in(&b, 1001), 0);
}

static void
test_probe_success_closes(void)
{
    struct breaker b;

    open_at(&b, 0);
    CHECK(allow(&b, 1000));
    CHECK(breaker_success(&b));
    CHECK_INT(b.state, BREAKER_CLOSED);
    CHECK(!b.probing);
    CHECK(allow(&b, 1001));
    CHECK(allow(&b, 1002));
    /* Closed again, it takes a full threshold to reopen. */
    CHECK(!breaker_failure(&b, 1003));
    CHECK(!breaker_failure(&b, 1004));
    CHECK(breaker_failure(&b, 1005));
    CHECK_INT(b.opens, 2);
}

static void
test_probe_failure_reopens_for_another_cooldown(void)
{
    struct breaker b;

    open_at(&b, 0);
    CHECK(allow(&b, 1500));
    CHECK(breaker_failure(&b, 1600)); /* one failure is enough when half-open */
    CHECK_INT(b.state, BREAKER_OPEN);
    CHECK_INT(b.opens, 2);
    CHECK_INT(b.opened_ms, 1600);
    CHECK(!allow(&b, 2599));
    CHECK(allow(&b, 2600));
    CHECK_INT(b.state, BREAKER_HALF_OPEN);
}

static void
test_threshold_one(void)
{
    struct breaker b;

    breaker_init(&b, 1, 10);
    CHECK(breaker_failure(&b, 0));
    CHECK(!allow(&b, 9));
    CHECK(allow(&b, 10));
}

static void
test_state_names(void)
{
    CHECK_STR(breaker_state_name(BREAKER_CLOSED), "closed");
    CHECK_STR(breaker_state_name(BREAKER_OPEN), "open");
    CHECK_STR(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}

TEST_MAIN(test_closed_until_threshold, test_success_resets_the_count,
          test_open_fails_fast_for_the_cooldown, test_half_open_lets_one_probe_through,
          test_probe_success_closes, test_probe_failure_reopens_for_another_cooldown,
          test_threshold_one, test_state_names)
