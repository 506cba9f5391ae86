/*
 * latstats.c -- see latstats.h.
 */
#include "proxy/latstats.h"

#include "common/defs.h"
#include "common/hist.h"
#include "common/sbuf.h"
#include "common/stats.h"

#include <stdio.h>
#include <string.h>

/* Every request, then each class: "all" is the proxy's latency as a
 * whole, the classes split it. */
static struct hist all, by_class[LAT_NCLASS];
/* GET hits and misses together, built when asked for (INFO, a scrape). */
static struct hist scratch;

static const char *const class_names[LAT_NCLASS] = {"other", "get_hit", "get_miss"};
static const double pctls[] = {50, 90, 99, 99.9};
static const char *const pctl_names[] = {"p50", "p90", "p99", "p99.9"};

void
latstats_record(enum latstats_class c, uint64_t us)
{
    hist_record(&all, us);
    hist_record(&by_class[c], us);
}

void
latstats_reset(void)
{
    memset(&all, 0, sizeof(all));
    memset(by_class, 0, sizeof(by_class));
}

static const struct hist *
get_hist(void)
{
    memcpy(&scratch, &by_class[LAT_GET_HIT], sizeof(scratch));
    hist_merge(&scratch, &by_class[LAT_GET_MISS]);
    return &scratch;
}

static void
info_line(struct sbuf *s, const char *name, const struct hist *h)
{
    if (h->count == 0) {
        return; /* redis lists only what ran */
    }
    sbuf_printf(s, "latency_percentiles_usec_%s:", name);
    for (size_t i = 0; i < ARRAY_LEN(pctls); i++) {
        sbuf_printf(s, "%s%s=%.3f", i > 0 ? "," : "", pctl_names[i],
                    (double)hist_percentile(h, pctls[i]));
    }
    sbuf_adds(s, "\r\n");
}

void
latstats_info(struct sbuf *s)
{
    info_line(s, "all", &all);
    info_line(s, "get", get_hist());
    for (int c = 0; c < LAT_NCLASS; c++) {
        info_line(s, class_names[c], &by_class[c]);
    }
}

static void
summary(struct sbuf *s, const char *kind, const struct hist *h)
{
    static const char name[] = "request_latency_seconds";
    char labels[96];

    for (size_t i = 0; i < ARRAY_LEN(pctls); i++) {
        snprintf(labels, sizeof(labels), "kind=\"%s\",quantile=\"%g\"", kind, pctls[i] / 100);
        stats_prom_value(s, "slotcache_proxy", name, labels,
                         (double)hist_percentile(h, pctls[i]) / 1e6);
    }
    snprintf(labels, sizeof(labels), "kind=\"%s\"", kind);
    stats_prom_value(s, "slotcache_proxy", "request_latency_seconds_sum", labels,
                     (double)h->sum / 1e6);
    stats_prom_value(s, "slotcache_proxy", "request_latency_seconds_count", labels,
                     (double)h->count);
}

void
latstats_metrics(struct sbuf *s)
{
    stats_prom_head(s, "slotcache_proxy", "request_latency_seconds", STATS_SUMMARY,
                    "time from reading a request to writing its reply, by kind");
    summary(s, "all", &all);
    summary(s, "get", get_hist());
    for (int c = 0; c < LAT_NCLASS; c++) {
        summary(s, class_names[c], &by_class[c]);
    }
}
