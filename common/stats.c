/*
 * stats.c -- see stats.h.
 */
#include "common/stats.h"

#include <inttypes.h>
#include <stdio.h>

void
stats_info_section(struct sbuf *s, const char *title)
{
    if (s->len > 0) {
        sbuf_add(s, "\r\n", 2);
    }
    sbuf_printf(s, "# %s\r\n", title);
}

void
stats_info_render(struct sbuf *s, const struct stats_desc *desc, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        stats_info_u64(s, desc[i].name, v[i]);
    }
}

void
stats_info_u64(struct sbuf *s, const char *name, uint64_t v)
{
    sbuf_printf(s, "%s:%" PRIu64 "\r\n", name, v);
}

void
stats_info_i64(struct sbuf *s, const char *name, int64_t v)
{
    sbuf_printf(s, "%s:%" PRId64 "\r\n", name, v);
}

void
stats_info_str(struct sbuf *s, const char *name, const char *v)
{
    sbuf_printf(s, "%s:%s\r\n", name, v);
}

void
stats_info_double(struct sbuf *s, const char *name, double v)
{
    sbuf_printf(s, "%s:%.2f\r\n", name, v);
}

void
stats_human_bytes(char *buf, size_t len, uint64_t n)
{
    static const char units[] = "BKMGTPE";
    double d = (double)n;
    int u = 0;

    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%" PRIu64 "B", n);
    } else {
        snprintf(buf, len, "%.2f%c", d, units[u]);
    }
}

void
stats_prom_head(struct sbuf *s, const char *prefix, const char *name, enum stats_kind kind,
                const char *help)
{
    static const char *const types[] = {"counter", "gauge", "summary"};

    sbuf_printf(s, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", prefix, name, help, prefix, name,
                types[kind]);
}

void
stats_prom_value(struct sbuf *s, const char *prefix, const char *name, const char *labels,
                 double v)
{
    sbuf_printf(s, "%s_%s%s%s%s %.17g\n", prefix, name, labels != NULL ? "{" : "",
                labels != NULL ? labels : "", labels != NULL ? "}" : "", v);
}

void
stats_prom_sample(struct sbuf *s, const char *prefix, const char *name, enum stats_kind kind,
                  const char *help, const char *labels, double v)
{
    stats_prom_head(s, prefix, name, kind, help);
    stats_prom_value(s, prefix, name, labels, v);
}

void
stats_prom_render(struct sbuf *s, const char *prefix, const struct stats_desc *desc,
                  const uint64_t *v, size_t n, const char *labels)
{
    for (size_t i = 0; i < n; i++) {
        stats_prom_sample(s, prefix, desc[i].name, desc[i].kind, desc[i].help, labels,
                          (double)v[i]);
    }
}

void
stats_rate_sample(struct stats_rate *r, uint64_t counter, long long now_ms)
{
    if (r->last_ms > 0 && now_ms - r->last_ms < STATS_RATE_PERIOD_MS) {
        return;
    }
    /* The first sample only sets the baseline: a counter that ran before
     * sampling began has no rate to report yet. */
    if (r->last_ms > 0) {
        uint64_t dt = (uint64_t)(now_ms - r->last_ms);
        r->samples[r->idx++ % STATS_RATE_SAMPLES] = (counter - r->last) * 1000 / dt;
    }
    r->last = counter;
    r->last_ms = now_ms;
}

uint64_t
stats_rate_mean(const struct stats_rate *r)
{
    uint64_t sum = 0;

    for (int i = 0; i < STATS_RATE_SAMPLES; i++) {
        sum += r->samples[i];
    }
    return sum / STATS_RATE_SAMPLES;
}
