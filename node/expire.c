/*
 * expire.c -- see expire.h.
 */
#include "node/expire.h"

#include "common/util.h"
#include "node/kv.h"

#include <stdint.h>

#define ACTIVE_EXPIRE_KEYS_PER_LOOP 20
#define ACTIVE_EXPIRE_ACCEPTABLE_STALE 10 /* percent */

static uint64_t cursor; /* next index of the TTL vector to look at */

void
expire_cycle(long long budget_us)
{
    long long start = util_ustime();
    uint64_t iteration = 0, total_sampled = 0, total_expired = 0;
    uint64_t sampled, expired;

    do {
        sampled = expired = 0;
        for (int k = 0; k < ACTIVE_EXPIRE_KEYS_PER_LOOP && kv_volatile_count() > 0; k++) {
            if (cursor >= kv_volatile_count()) {
                cursor = 0;
            }
            struct item *it = kv_volatile_at(cursor);
            sampled++;
            if (kv_is_expired(it)) {
                /* The last key of the vector moves into this slot: look at
                 * the same index again next. */
                kv_stats.expired++;
                kv_delete(it);
                expired++;
            } else {
                cursor++;
            }
        }
        total_sampled += sampled;
        total_expired += expired;
        /* Checking the clock costs a syscall: do it every 16 batches. */
        if ((++iteration & 0xf) == 0 && util_ustime() - start > budget_us) {
            break;
        }
    } while (sampled > 0 && expired * 100 > sampled * ACTIVE_EXPIRE_ACCEPTABLE_STALE);

    if (total_sampled > 0) {
        kv_stats.expired_stale_perc_x100 = total_expired * 10000 / total_sampled;
    }
}
