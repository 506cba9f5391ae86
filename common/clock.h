/*
 * clock.h -- the loop's idea of now, in milliseconds since the epoch.
 *
 * Read once per loop iteration (an ev_check watcher copies ev_now() after
 * the poll returns), so a request costs no clock syscall and every command
 * of one batch sees the same time, as redis's cached mstime.  Millisecond
 * precision is what PEXPIRE promises.
 */
#pragma once

#include <ev.h>

extern long long clock_cached_ms;

/* Starts the watcher on loop and reads the time once. */
void clock_setup(struct ev_loop *loop);
void clock_teardown(struct ev_loop *loop);
/* Re-reads the time now (after a long piece of work inside one iteration). */
void clock_refresh(struct ev_loop *loop);

static inline long long
clock_now_ms(void)
{
    return clock_cached_ms;
}
