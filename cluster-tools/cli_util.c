/*
 * cli_util.c -- see cli_util.h.
 */
#include "cluster-tools/cli_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int
cli_fail(struct cli_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return SC_ERR;
}

int
cli_wrap(struct cli_err *err, const char *fmt, ...)
{
    char prefix[CLI_ERR_MAX];
    char saved[CLI_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(saved, err->msg, sizeof(saved));
    if ((size_t)snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, saved) >= sizeof(err->msg)) {
        memcpy(err->msg + sizeof(err->msg) - 4, "...", 4); /* say that the end is missing */
    }
    return SC_ERR;
}

long long
cli_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cli_sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
