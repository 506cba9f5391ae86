/*
 * sbuf.h -- a growable text buffer for replies built in pieces (INFO,
 * CLIENT LIST, CLUSTER NODES, Prometheus pages).  Not for the hot path:
 * those replies go straight to the connection's bufq.
 */
#pragma once

#include "common/defs.h"

#include <stddef.h>

struct sbuf {
    char *data; /* NUL-terminated; owned */
    size_t len;
    size_t cap;
};

void sbuf_init(struct sbuf *s);
void sbuf_free(struct sbuf *s);
void sbuf_reset(struct sbuf *s);
void sbuf_add(struct sbuf *s, const void *p, size_t n);
void sbuf_adds(struct sbuf *s, const char *str);
void sbuf_printf(struct sbuf *s, const char *fmt, ...) SC_PRINTF(2, 3);
