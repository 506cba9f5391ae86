/*
 * fdlimit.c -- see fdlimit.h.
 */
#include "common/fdlimit.h"

#include "common/defs.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#define FDLIMIT_STEP 16 /* redis's decrement when a limit is refused */

/* Sets the soft limit to n, and the hard one too when n is above it (which
 * takes CAP_SYS_RESOURCE).  A hard limit above n is kept: redis lowers it
 * to n, which would stop a later CONFIG SET maxclients from raising it. */
static int
try_limit(const struct rlimit *cur, rlim_t n)
{
    struct rlimit want = {n,
                          cur->rlim_max != RLIM_INFINITY && cur->rlim_max < n ? n : cur->rlim_max};
    return setrlimit(RLIMIT_NOFILE, &want) == 0 ? SC_OK : SC_ERR;
}

void
fdlimit_fit(long long maxclients, int reserved, struct fdlimit_result *r)
{
    struct rlimit cur;

    memset(r, 0, sizeof(*r));
    r->requested = r->maxclients = maxclients;
    r->want = (unsigned long long)maxclients + (unsigned long long)reserved;
    if (getrlimit(RLIMIT_NOFILE, &cur) != 0) {
        /* redis assumes 1024 when it cannot know */
        cur.rlim_cur = cur.rlim_max = 1024;
        r->err = errno;
    }
    r->old = r->limit = cur.rlim_cur;
    if (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur >= r->want) {
        r->status = FDLIMIT_ENOUGH;
        return;
    }
    /* The wanted limit; failing that, the hard limit (a soft limit can
     * always rise to it); failing that, down in steps as redis does, for
     * systems whose real ceiling is below what getrlimit says. */
    rlim_t best = r->want;
    while (best > cur.rlim_cur) {
        if (try_limit(&cur, best) == SC_OK) {
            break;
        }
        r->err = errno;
        if (cur.rlim_max != RLIM_INFINITY && best > cur.rlim_max) {
            best = cur.rlim_max;
        } else if (best - cur.rlim_cur > FDLIMIT_STEP) {
            best -= FDLIMIT_STEP;
        } else {
            best = cur.rlim_cur;
        }
    }
    r->limit = best;
    if (best >= r->want) {
        r->status = FDLIMIT_RAISED;
        return;
    }
    if (best <= (rlim_t)reserved) {
        r->status = FDLIMIT_TOO_LOW;
        r->maxclients = 0;
        return;
    }
    r->status = FDLIMIT_REDUCED;
    r->maxclients = (long long)(best - (rlim_t)reserved);
}

void
fdlimit_report(const struct fdlimit_result *r)
{
    switch (r->status) {
    case FDLIMIT_ENOUGH:
        break;
    case FDLIMIT_RAISED:
        log_notice("Increased maximum number of open files to %llu (it was originally set to "
                   "%llu).",
                   r->limit, r->old);
        break;
    case FDLIMIT_REDUCED:
        log_warn("You requested maxclients of %lld requiring at least %llu max file descriptors.",
                 r->requested, r->want);
        log_warn("Server can't set maximum open files to %llu because of OS error: %s.", r->want,
                 strerror(r->err));
        log_warn("Current maximum open files is %llu. maxclients has been reduced to %lld to "
                 "compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                 r->limit, r->maxclients);
        break;
    case FDLIMIT_TOO_LOW:
        log_warn("Your current 'ulimit -n' of %llu is not enough for the server to start. Please "
                 "increase your open file limit to at least %llu. Exiting.",
                 r->old, r->want);
        break;
    }
}
