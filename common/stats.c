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
stats_prom_sample(struct sbuf *s, const char *prefix, const char *name, enum stats_kind kind,
                  const char *help, const char *labels, double v)
{
    sbuf_printf(s, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", prefix, name, help, prefix, name,
                kind == STATS_COUNTER ? "counter" : "gauge");
    sbuf_printf(s, "%s_%s%s%s%s %.17g\n", prefix, name, labels != NULL ? "{" : "",
                labels != NULL ? labels : "", labels != NULL ? "}" : "", v);
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
