/*
 * obuf.h -- client-output-buffer-limit, redis's limit on the replies a
 * server holds for a client that does not read them, shared by the node,
 * the proxy and the loader.
 *
 * A limit has a hard size (reached: the client is closed at once) and a
 * soft size with a number of seconds (the client is closed once it has
 * stayed over the soft size that long); 0 disables either.  The directive
 * is redis's, "<class> <hard> <soft> <soft-seconds>" repeated, with the
 * classes normal, replica (alias slave) and pubsub.  The servers here have
 * only normal clients; the other classes are kept so that CONFIG GET shows
 * what was set, as redis shows it.
 */
#pragma once

#include "common/conf.h"

#include <stdbool.h>
#include <stddef.h>

enum obuf_class { OBUF_NORMAL, OBUF_REPLICA, OBUF_PUBSUB, OBUF_CLASSES };

struct obuf_limit {
    unsigned long long hard;
    unsigned long long soft;
    long long soft_seconds;
};

/* redis's defaults: normal clients unlimited, as slotcache-node and
 * slotcache-proxy keep them. */
#define OBUF_DEFAULT "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"

/* The conf option for client-output-buffer-limit; p points to a
 * struct obuf_limit[OBUF_CLASSES], d is the default (OBUF_DEFAULT), f the
 * conf flags. */
#define OBUF_LIMIT_OPT(p, d, f, h)                                                                 \
    {                                                                                              \
        .name = "client-output-buffer-limit", .type = CONF_CUSTOM, .flags = f, .ptr = p, .def = d, \
        .set = obuf_conf_set, .get = obuf_conf_get, .help = h                                      \
    }

conf_set_fn obuf_conf_set;
conf_get_fn obuf_conf_get;

/* Whether a client holding `used` bytes of replies is over limit l at
 * now_ms.  *over_since is the client's own: when it went over the soft
 * size (0 while under); it is updated here.  True: close the client. */
bool obuf_reached(const struct obuf_limit *l, size_t used, long long now_ms, long long *over_since);
