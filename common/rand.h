/*
 * rand.h -- fast pseudo-random numbers (not for secrets).
 *
 * splitmix64 (Steele, Lea, Flood 2014): one add and two multiply-xorshift
 * rounds, a full 2^64 period, good enough mixing for sampling.  The hot
 * paths that draw often (eviction sampling, HRANDFIELD, RANDOMKEY) use it
 * instead of random(), which takes a lock on every call.  rand_next() is a
 * process-wide stream seeded from random() on first use, so srandom() keeps
 * runs repeatable; tools that need several independent, seeded streams
 * (slotcache-bench traces) keep their own state and call rand_splitmix64.
 */
#pragma once

#include <stdint.h>

static inline uint64_t
rand_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The next 64 bits of the process-wide stream. */
uint64_t rand_next(void);
