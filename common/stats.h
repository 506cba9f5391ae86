/*
 * stats.h -- counters and gauges declared once, rendered as INFO fields and
 * as Prometheus metrics (twemproxy STATS_POOL_CODEC, pelikan *_METRIC).
 *
 * A module lists its metrics in an X-macro:
 *
 *     #define PROXY_METRICS(X)                                           \
 *         X(total_commands_processed, COUNTER, "commands answered")      \
 *         X(connected_clients, GAUGE, "client connections open")
 *
 * and gets from it an enum (STAT_total_commands_processed), a descriptor
 * table for rendering, and a uint64_t array for the values:
 *
 *     enum { PROXY_METRICS(STATS_ENUM) PROXY_METRIC_COUNT };
 *     static const struct stats_desc desc[] = { PROXY_METRICS(STATS_DESC) };
 *     uint64_t stats[PROXY_METRIC_COUNT];  ...  stats[STAT_x]++;
 *
 * Names are redis's INFO names where redis has the figure.
 */
#pragma once

#include "common/sbuf.h"

#include <stddef.h>
#include <stdint.h>

enum stats_kind { STATS_COUNTER, STATS_GAUGE, STATS_SUMMARY };

struct stats_desc {
    const char *name;
    enum stats_kind kind;
    const char *help;
};

#define STATS_ENUM(name, kind, help) STAT_##name,
#define STATS_DESC(name, kind, help) {#name, STATS_##kind, help},

/* A counter's recent rate, as redis's instantaneous_ops_per_sec: the mean
 * of the last STATS_RATE_SAMPLES per-second rates, one taken each time
 * stats_rate_sample is called (about every 100 ms). */
#define STATS_RATE_SAMPLES 16
#define STATS_RATE_PERIOD_MS 100

struct stats_rate {
    uint64_t samples[STATS_RATE_SAMPLES];
    uint64_t last;      /* the counter at the previous sample */
    long long last_ms;  /* when it was taken; 0: never */
    unsigned idx;
};

/* Takes a sample of counter at now_ms unless the last one is younger than
 * STATS_RATE_PERIOD_MS. */
void stats_rate_sample(struct stats_rate *r, uint64_t counter, long long now_ms);
uint64_t stats_rate_mean(const struct stats_rate *r);

/* "# Title\r\n" */
void stats_info_section(struct sbuf *s, const char *title);
/* One "name:value\r\n" line per metric. */
void stats_info_render(struct sbuf *s, const struct stats_desc *desc, const uint64_t *v, size_t n);
void stats_info_u64(struct sbuf *s, const char *name, uint64_t v);
void stats_info_i64(struct sbuf *s, const char *name, int64_t v);
void stats_info_str(struct sbuf *s, const char *name, const char *v);
void stats_info_double(struct sbuf *s, const char *name, double v);
/* "1.50M" -- the *_human fields of INFO memory. */
void stats_human_bytes(char *buf, size_t len, uint64_t n);

/* Prometheus text exposition: HELP/TYPE lines and one sample per metric,
 * named prefix_name; labels ("node=\"a\"") may be NULL. */
void stats_prom_render(struct sbuf *s, const char *prefix, const struct stats_desc *desc,
                       const uint64_t *v, size_t n, const char *labels);
void stats_prom_sample(struct sbuf *s, const char *prefix, const char *name, enum stats_kind kind,
                       const char *help, const char *labels, double v);
/* A metric with several labelled samples: its HELP/TYPE lines once (the
 * format allows no second TYPE line for a name), then each sample. */
void stats_prom_head(struct sbuf *s, const char *prefix, const char *name, enum stats_kind kind,
                     const char *help);
void stats_prom_value(struct sbuf *s, const char *prefix, const char *name, const char *labels,
                      double v);
