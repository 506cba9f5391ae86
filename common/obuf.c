/*
 * obuf.c -- see obuf.h.
 */
#include "common/obuf.h"

#include "common/defs.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
class_of(const char *name)
{
    if (strcasecmp(name, "normal") == 0) {
        return OBUF_NORMAL;
    }
    if (strcasecmp(name, "replica") == 0 || strcasecmp(name, "slave") == 0) {
        return OBUF_REPLICA;
    }
    if (strcasecmp(name, "pubsub") == 0) {
        return OBUF_PUBSUB;
    }
    return -1;
}

/* Every group is checked before any is applied (redis refuses the whole
 * value), with redis's error texts. */
int
obuf_conf_set(const struct conf_option *opt, int argc, char **argv, char *err, size_t errlen)
{
    struct obuf_limit next[OBUF_CLASSES];

    if (argc == 0 || argc % 4 != 0) {
        snprintf(err, errlen, "Wrong number of arguments in buffer limit configuration.");
        return SC_ERR;
    }
    memcpy(next, opt->ptr, sizeof(next));
    for (int i = 0; i < argc; i += 4) {
        int cls = class_of(argv[i]);
        unsigned long long hard, soft, secs;
        if (cls < 0) {
            snprintf(err, errlen, "Invalid client class specified in buffer limit configuration.");
            return SC_ERR;
        }
        if (!util_str2mem(argv[i + 1], &hard) || !util_str2mem(argv[i + 2], &soft) ||
            !util_str2ull(argv[i + 3], strlen(argv[i + 3]), &secs)) {
            snprintf(err, errlen,
                     "Error in hard, soft or soft_seconds setting in buffer limit "
                     "configuration.");
            return SC_ERR;
        }
        next[cls].hard = hard;
        next[cls].soft = soft;
        next[cls].soft_seconds = (long long)secs;
    }
    memcpy(opt->ptr, next, sizeof(next));
    return SC_OK;
}

size_t
obuf_conf_get(const struct conf_option *opt, char *buf, size_t len)
{
    const struct obuf_limit *l = opt->ptr;
    int n = snprintf(buf, len, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld",
                     l[OBUF_NORMAL].hard, l[OBUF_NORMAL].soft, l[OBUF_NORMAL].soft_seconds,
                     l[OBUF_REPLICA].hard, l[OBUF_REPLICA].soft, l[OBUF_REPLICA].soft_seconds,
                     l[OBUF_PUBSUB].hard, l[OBUF_PUBSUB].soft, l[OBUF_PUBSUB].soft_seconds);
    return n < 0 ? 0 : MIN((size_t)n, len - 1);
}

bool
obuf_reached(const struct obuf_limit *l, size_t used, long long now_ms, long long *over_since)
{
    if (l->hard > 0 && used >= l->hard) {
        return true;
    }
    if (l->soft == 0 || used < l->soft) {
        *over_since = 0;
        return false;
    }
    if (*over_since == 0) {
        *over_since = now_ms;
        return false;
    }
    return now_ms - *over_since >= l->soft_seconds * 1000;
}
