/*
 * rand.c -- see rand.h.
 */
#include "common/rand.h"

#include <stdbool.h>
#include <stdlib.h>

uint64_t
rand_next(void)
{
    static uint64_t state;
    static bool seeded;

    if (!seeded) {
        state = (uint64_t)random() << 31 ^ (uint64_t)random();
        seeded = true;
    }
    return rand_splitmix64(&state);
}
