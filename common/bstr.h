/*
 * bstr.h -- a counted byte string that does not own its bytes.
 *
 * Request arguments are bstr views into the connection's read buffer: valid
 * until the request is consumed.  Keep a copy (mem_strndup) to hold on.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct bstr {
    char *data;
    size_t len;
};

#define BSTR_LIT(s) ((struct bstr){(char *)(s), sizeof(s) - 1})

static inline int
bstr_eq(const struct bstr *a, const struct bstr *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Compares case-insensitively with a NUL-terminated literal, as redis
 * compares option names ("EX", "nx"). */
static inline int
bstr_is(const struct bstr *a, const char *lit)
{
    size_t n = strlen(lit);
    return a->len == n && strncasecmp(a->data, lit, n) == 0;
}
