/*
 * sbuf.c -- see sbuf.h.
 */
#include "common/sbuf.h"

#include "common/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
sbuf_init(struct sbuf *s)
{
    s->data = NULL;
    s->len = s->cap = 0;
}

void
sbuf_free(struct sbuf *s)
{
    mem_free(s->data);
    sbuf_init(s);
}

void
sbuf_reset(struct sbuf *s)
{
    s->len = 0;
    if (s->data != NULL) {
        s->data[0] = '\0';
    }
}

static void
reserve(struct sbuf *s, size_t n)
{
    if (s->len + n + 1 <= s->cap) {
        return;
    }
    size_t cap = MAX(s->cap * 2, s->len + n + 1);
    cap = MAX(cap, (size_t)256);
    s->data = mem_realloc(s->data, cap);
    s->cap = cap;
}

void
sbuf_add(struct sbuf *s, const void *p, size_t n)
{
    reserve(s, n);
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void
sbuf_adds(struct sbuf *s, const char *str)
{
    sbuf_add(s, str, strlen(str));
}

void
sbuf_printf(struct sbuf *s, const char *fmt, ...)
{
    va_list ap;

    reserve(s, 128);
    va_start(ap, fmt);
    int n = vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= s->cap - s->len) {
        reserve(s, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
    }
    s->len += (size_t)n;
}
