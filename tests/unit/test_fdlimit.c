/*
 * test_fdlimit.c -- fitting maxclients to RLIMIT_NOFILE, on this process's
 * own limit: left alone when it fits, the soft limit raised when it can be,
 * maxclients lowered to what fits when it cannot (a limit above the
 * kernel's nr_open is refused even to a privileged process, so these cases
 * do not depend on who runs the test), and "too low to start".
 */
#define TEST_SUITE "fdlimit"
#include "tests/unit/testhelp.h"

#include "common/fdlimit.h"

#include <stdlib.h>
#include <sys/resource.h>

static struct rlimit
current(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl;
}

static void
set_soft(rlim_t soft)
{
    struct rlimit rl = current();
    rl.rlim_cur = soft;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static long long
nr_open(void)
{
    long long n = 1048576; /* the kernel's default */
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    if (f != NULL) {
        if (fscanf(f, "%lld", &n) != 1) {
            n = 1048576;
        }
        fclose(f);
    }
    return n;
}

static void
test_enough_is_left_alone(void)
{
    struct fdlimit_result r;

    set_soft(200);
    fdlimit_fit(100, 32, &r);
    CHECK_INT(r.status, FDLIMIT_ENOUGH);
    CHECK_INT(r.maxclients, 100);
    CHECK_INT(r.old, 200);
    CHECK_INT(current().rlim_cur, 200); /* never lowered */
}

static void
test_soft_limit_raised_hard_kept(void)
{
    struct fdlimit_result r;
    rlim_t hard = current().rlim_max;

    if (hard != RLIM_INFINITY && hard < 300) {
        return; /* nothing to raise into */
    }
    set_soft(100);
    fdlimit_fit(200, 32, &r);
    CHECK_INT(r.status, FDLIMIT_RAISED);
    CHECK_INT(r.maxclients, 200);
    CHECK_INT(r.want, 232);
    CHECK_INT(r.old, 100);
    CHECK_INT(r.limit, 232);
    CHECK_INT(current().rlim_cur, 232);
    CHECK_INT(current().rlim_max, hard);
}

static void
test_beyond_what_the_os_allows_lowers_maxclients(void)
{
    struct fdlimit_result r;
    rlim_t hard = current().rlim_max;
    long long ask = nr_open() + 100;

    set_soft(100);
    fdlimit_fit(ask, 32, &r);
    CHECK_INT(r.status, FDLIMIT_REDUCED);
    CHECK_INT(r.requested, ask);
    CHECK_INT(r.want, ask + 32);
    CHECK_INT(r.limit, hard);
    CHECK_INT(r.maxclients, (long long)hard - 32);
    CHECK(r.err != 0);
    CHECK_INT(current().rlim_cur, hard); /* as far as it goes */
}

static void
test_nothing_left_for_clients_is_too_low(void)
{
    struct fdlimit_result r;
    rlim_t hard = current().rlim_max;

    fdlimit_fit(nr_open(), (int)hard, &r);
    CHECK_INT(r.status, FDLIMIT_TOO_LOW);
    CHECK_INT(r.maxclients, 0);
}

TEST_MAIN(test_enough_is_left_alone, test_soft_limit_raised_hard_kept,
          test_beyond_what_the_os_allows_lowers_maxclients,
          test_nothing_left_for_clients_is_too_low)
