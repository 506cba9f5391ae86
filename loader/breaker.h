/*
 * breaker.h -- the circuit breaker in front of PostgreSQL.
 *
 * A sick database should cost callers one fast UNAVAILABLE, not a deadline
 * each.  Closed, the breaker counts consecutive failures (errors and
 * timeouts); at `threshold` it opens and refuses every request for
 * `cooldown_ms`.  Then it turns half-open and lets exactly one probe
 * through: the probe's success closes it, its failure opens it again for
 * another cool-down.
 *
 *   CLOSED --threshold failures--> OPEN --cool-down--> HALF_OPEN --success--> CLOSED
 *                                   ^                      |
 *                                   +-------failure--------+
 *
 * A pure state machine: time is passed in, nothing is logged.  Functions
 * that can change the state return true when they did, so that the caller
 * logs the transition (breaker_state_name()).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    enum breaker_state state;
    int threshold;         /* consecutive failures that open it */
    long long cooldown_ms; /* how long it stays open */
    int failures;          /* consecutive failures so far */
    long long opened_ms;   /* when it last opened */
    bool probing;          /* half-open and the one probe is out */
    uint64_t opens;        /* times it opened */
};

void breaker_init(struct breaker *b, int threshold, long long cooldown_ms);
/* Whether a request may go to the database at now_ms.  Open, it refuses
 * until the cool-down has passed, then turns half-open (*changed) and lets
 * this one request through as the probe; half-open, it refuses everything
 * else until the probe's outcome is recorded.  A request let through must
 * have its outcome recorded by breaker_success() or breaker_failure(). */
bool breaker_allow(struct breaker *b, long long now_ms, bool *changed);
/* The database answered (a row, no row, or a refused parameter: all mean it
 * works).  Returns true if this closed the breaker. */
bool breaker_success(struct breaker *b);
/* The database failed or timed out.  Returns true if this opened the
 * breaker (closed at the threshold, or half-open after a failed probe). */
bool breaker_failure(struct breaker *b, long long now_ms);
/* Milliseconds until an open breaker lets a probe through (0 otherwise). */
long long breaker_retry_in(const struct breaker *b, long long now_ms);
/* "closed", "open", "half-open". */
const char *breaker_state_name(enum breaker_state s);
