/*
 * breaker.c -- see breaker.h.
 */
#include "loader/breaker.h"

void
breaker_init(struct breaker *b, int threshold, long long cooldown_ms)
{
    *b = (struct breaker){
        .state = BREAKER_CLOSED, .threshold = threshold, .cooldown_ms = cooldown_ms};
}

static void
trip(struct breaker *b, long long now_ms)
{
    b->state = BREAKER_OPEN;
    b->opened_ms = now_ms;
    b->probing = false;
    b->opens++;
}

bool
breaker_allow(struct breaker *b, long long now_ms, bool *changed)
{
    *changed = false;
    switch (b->state) {
    case BREAKER_CLOSED:
        return true;
    case BREAKER_OPEN:
        if (now_ms - b->opened_ms < b->cooldown_ms) {
            return false;
        }
        b->state = BREAKER_HALF_OPEN;
        b->probing = true;
        *changed = true;
        return true;
    case BREAKER_HALF_OPEN:
        if (b->probing) {
            return false;
        }
        /* Half-open with no probe out: the last probe's outcome was
         * recorded but did not decide (cannot happen today); send another. */
        b->probing = true;
        return true;
    }
    return false;
}

bool
breaker_success(struct breaker *b)
{
    b->failures = 0;
    if (b->state != BREAKER_HALF_OPEN) {
        /* Open: an answer to a request sent before it opened says little
         * about now; the cool-down and its probe decide. */
        return false;
    }
    b->state = BREAKER_CLOSED;
    b->probing = false;
    return true;
}

bool
breaker_failure(struct breaker *b, long long now_ms)
{
    switch (b->state) {
    case BREAKER_CLOSED:
        if (++b->failures < b->threshold) {
            return false;
        }
        trip(b, now_ms);
        return true;
    case BREAKER_HALF_OPEN:
        trip(b, now_ms);
        return true;
    case BREAKER_OPEN:
        /* Late failures of requests sent before it opened: already open. */
        return false;
    }
    return false;
}

long long
breaker_retry_in(const struct breaker *b, long long now_ms)
{
    if (b->state != BREAKER_OPEN) {
        return 0;
    }
    long long left = b->opened_ms + b->cooldown_ms - now_ms;
    return left > 0 ? left : 0;
}

const char *
breaker_state_name(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED:
        return "closed";
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "?";
}
