/*
 * cli_util.h -- what every slotcache-cli module shares: the error record,
 * a monotonic clock and sleeping.
 *
 * slotcache-cli reports each failure once, at the boundary (main): modules
 * fill a struct cli_err and return SC_ERR, as hiredis fills errstr.
 */
#pragma once

#include "common/defs.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_ERR_MAX 1024

struct cli_err {
    char msg[CLI_ERR_MAX];
};

/* Records why an operation failed; returns SC_ERR so callers can
 * `return cli_fail(err, ...)`. */
int cli_fail(struct cli_err *err, const char *fmt, ...) SC_PRINTF(2, 3);
/* Prefixes err's message with "what: " (the context a caller adds). */
int cli_wrap(struct cli_err *err, const char *fmt, ...) SC_PRINTF(2, 3);

/* Milliseconds on the monotonic clock (intervals, deadlines). */
long long cli_now_ms(void);
/* Sleeps ms milliseconds (restarted after signals, so a SIGCHLD does not
 * cut a poll interval short). */
void cli_sleep_ms(long long ms);
