/*
 * clock.c -- see clock.h.
 */
#include "common/clock.h"

long long clock_cached_ms;
static ev_check clock_watcher;

static void
on_check(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)w;
    (void)revents;
    clock_cached_ms = (long long)(ev_now(loop) * 1000.0);
}

void
clock_setup(struct ev_loop *loop)
{
    ev_check_init(&clock_watcher, on_check);
    ev_check_start(loop, &clock_watcher);
    ev_unref(loop); /* the clock alone must not keep the loop running */
    clock_refresh(loop);
}

void
clock_teardown(struct ev_loop *loop)
{
    ev_ref(loop);
    ev_check_stop(loop, &clock_watcher);
}

void
clock_refresh(struct ev_loop *loop)
{
    ev_now_update(loop);
    clock_cached_ms = (long long)(ev_now(loop) * 1000.0);
}
