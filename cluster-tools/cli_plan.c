/*
 * cli_plan.c -- see cli_plan.h.
 */
#include "cluster-tools/cli_plan.h"

#include "common/mem.h"

#include <string.h>

/* The index of the largest (want_max) or smallest value of cur[0..n);
 * the lowest index wins ties, so plans are the same on every run. */
static int
extreme(const int *cur, int n, bool want_max)
{
    int best = 0;

    for (int i = 1; i < n; i++) {
        if (want_max ? cur[i] > cur[best] : cur[i] < cur[best]) {
            best = i;
        }
    }
    return best;
}

void
plan_add_counts(const int *counts, int n, int *give)
{
    int total = 0;
    int *cur = mem_alloc((size_t)n * sizeof(*cur));

    for (int i = 0; i < n; i++) {
        total += counts[i];
        cur[i] = counts[i];
        give[i] = 0;
    }
    /* The newcomer's share; the others keep the rest, as evenly as the
     * counts they start from allow. */
    for (int k = total / (n + 1); k > 0; k--) {
        int i = extreme(cur, n, true);
        cur[i]--;
        give[i]++;
    }
    mem_free(cur);
}

void
plan_remove_counts(int leaving, const int *counts, int n, int *get)
{
    int *cur = mem_alloc((size_t)n * sizeof(*cur));

    memcpy(cur, counts, (size_t)n * sizeof(*cur));
    memset(get, 0, (size_t)n * sizeof(*get));
    for (int k = leaving; k > 0; k--) {
        int i = extreme(cur, n, false);
        cur[i]++;
        get[i]++;
    }
    mem_free(cur);
}

void
plan_add(const struct slots *have, int n, struct slots *out)
{
    int *counts = mem_alloc((size_t)n * sizeof(*counts));
    int *give = mem_alloc((size_t)n * sizeof(*give));

    for (int i = 0; i < n; i++) {
        counts[i] = slots_count(&have[i]);
    }
    plan_add_counts(counts, n, give);
    /* From the top: the new shard gets runs off every shard's high end. */
    for (int i = 0; i < n; i++) {
        slots_take(&have[i], give[i], true, &out[i]);
    }
    mem_free(counts);
    mem_free(give);
}

void
plan_remove(const struct slots *leaving, const struct slots *have, int n, struct slots *out)
{
    int *counts = mem_alloc((size_t)n * sizeof(*counts));
    int *get = mem_alloc((size_t)n * sizeof(*get));
    struct slots rest = *leaving;

    for (int i = 0; i < n; i++) {
        counts[i] = slots_count(&have[i]);
    }
    plan_remove_counts(slots_count(leaving), counts, n, get);
    for (int i = 0; i < n; i++) {
        slots_take(&rest, get[i], false, &out[i]);
        slots_minus(&rest, &out[i]);
    }
    mem_free(counts);
    mem_free(get);
}

void
plan_reshard(const struct slots *from, const struct slots *to, int n, struct slots *out)
{
    int to_min = slots_min(to);
    bool from_top = to_min < 0 || to_min > slots_min(from);

    slots_take(from, n, from_top, out);
}
