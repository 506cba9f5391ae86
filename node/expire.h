/*
 * expire.h -- the active expiry cycle.
 *
 * Lazy expiry (kv_lookup) removes keys that are read after their time;
 * this cycle removes the ones nobody reads.  Each cron tick walks the
 * keyspace's vector of keys with a TTL from where the last tick stopped, in
 * batches of ACTIVE_EXPIRE_KEYS_PER_LOOP, and keeps going while more than
 * the acceptable share of a batch had expired -- redis's stopping rule, so
 * expired keys stay below about 10% of keys with a TTL -- but never past
 * its time budget, so the loop never stalls.
 */
#pragma once

/* One cycle, at most budget_us microseconds. */
void expire_cycle(long long budget_us);
