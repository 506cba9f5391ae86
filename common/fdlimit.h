/*
 * fdlimit.h -- fitting maxclients to the process's open-file limit, as
 * redis-server does at start and on CONFIG SET maxclients.
 *
 * A server needs a descriptor per client plus some of its own (listeners,
 * the event loop, node or database connections, log file): it asks for
 * RLIMIT_NOFILE >= maxclients + reserved.  If the soft limit is lower it is
 * raised, as far as the hard limit (and CAP_SYS_RESOURCE) allow; if even
 * that is not enough, maxclients is lowered to what fits, so that a client
 * beyond it gets "-ERR max number of clients reached" instead of the
 * server running out of descriptors.  Redis reserves 32 descriptors
 * (CONFIG_MIN_RESERVED_FDS); the proxy and the loader add their node and
 * database connections to that.
 */
#pragma once

#include <stdbool.h>

#define FDLIMIT_RESERVED 32 /* redis CONFIG_MIN_RESERVED_FDS */

enum fdlimit_status {
    FDLIMIT_ENOUGH,  /* the limit already fit */
    FDLIMIT_RAISED,  /* the soft limit was raised to fit */
    FDLIMIT_REDUCED, /* it could not be: maxclients was lowered */
    FDLIMIT_TOO_LOW, /* not even one client fits: the server cannot start */
};

struct fdlimit_result {
    enum fdlimit_status status;
    long long requested;      /* maxclients asked for */
    long long maxclients;     /* what fits (== requested unless REDUCED) */
    unsigned long long want;  /* descriptors wanted: requested + reserved */
    unsigned long long old;   /* soft limit before */
    unsigned long long limit; /* soft limit after */
    int err;                  /* errno of the refused setrlimit, if any */
};

/* Makes RLIMIT_NOFILE fit maxclients + reserved descriptors, raising the
 * soft limit (and the hard one, with the privilege) as far as allowed.
 * Never lowers a limit.  Fills *r; does not log (fdlimit_report does). */
void fdlimit_fit(long long maxclients, int reserved, struct fdlimit_result *r);
/* Logs what fdlimit_fit did, with redis's lines ("maxclients has been
 * reduced to N to compensate for low ulimit").  For setup code. */
void fdlimit_report(const struct fdlimit_result *r);
