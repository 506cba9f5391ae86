/*
 * util.c -- see util.h.  These functions are written from the behaviour
 * redis-server 7 shows on the wire; the differential tests compare them.
 */
#include "common/util.h"

#include "common/defs.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

bool
util_str2ull(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v = 0;

    if (len == 0 || len > 20) {
        return false;
    }
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] < '1' || s[0] > '9') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) {
            return false;
        }
        if (v > (ULLONG_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool
util_str2ll(const char *s, size_t len, long long *out)
{
    unsigned long long v;
    bool neg = false;

    if (len > 0 && s[0] == '-') {
        neg = true;
        s++;
        len--;
        if (len == 1 && s[0] == '0') {
            return false; /* "-0" is not a canonical integer */
        }
    }
    if (!util_str2ull(s, len, &v)) {
        return false;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) {
            return false;
        }
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) {
            return false;
        }
        *out = (long long)v;
    }
    return true;
}

static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

size_t
util_ull2str(char *dst, unsigned long long v)
{
    char tmp[UTIL_LL_STR_SIZE];
    char *p = tmp + sizeof(tmp);

    /* Two digits per division: the hot path prints lengths and integers. */
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    if (v < 10) {
        *--p = (char)('0' + v);
    } else {
        unsigned i = (unsigned)v * 2;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    size_t n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, n);
    return n;
}

size_t
util_ll2str(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + util_ull2str(dst + 1, 0 - (unsigned long long)v);
    }
    return util_ull2str(dst, (unsigned long long)v);
}

bool
util_str2ld(const char *s, size_t len, long double *out)
{
    char buf[UTIL_LD_STR_SIZE];
    char *end;

    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long double v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v)) {
        return false;
    }
    *out = v;
    return true;
}

size_t
util_ld2str(char *dst, size_t cap, long double v)
{
    if (isinf(v)) {
        const char *s = v > 0 ? "inf" : "-inf";
        size_t n = strlen(s);
        if (n + 1 > cap) {
            return 0;
        }
        memcpy(dst, s, n + 1);
        return n;
    }
    int l = snprintf(dst, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > cap) {
        return 0;
    }
    if (strchr(dst, '.') != NULL) {
        char *p = dst + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') {
            l--;
        }
    }
    if (l == 2 && dst[0] == '-' && dst[1] == '0') {
        dst[0] = '0';
        l = 1;
    }
    dst[l] = '\0';
    return (size_t)l;
}

bool
util_str2d(const char *s, size_t len, double *out)
{
    char buf[256];
    char *end;

    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    double v = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v)) {
        return false;
    }
    *out = v;
    return true;
}

size_t
util_d2str(char *dst, size_t cap, double v)
{
    int n;

    if (isinf(v)) {
        n = snprintf(dst, cap, "%s", v > 0 ? "inf" : "-inf");
    } else if (isnan(v)) {
        n = snprintf(dst, cap, "nan");
    } else {
        n = snprintf(dst, cap, "%.17g", v);
    }
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

bool
util_str2mem(const char *s, unsigned long long *out)
{
    static const struct {
        const char *suffix;
        unsigned long long mul;
    } units[] = {
        {"", 1},         {"b", 1},          {"k", 1000},           {"kb", 1024},
        {"m", 1000000},  {"mb", 1 << 20},   {"g", 1000000000ULL},  {"gb", 1ULL << 30},
    };
    size_t digits = 0;
    unsigned long long v = 0, mul = 0;

    /* As redis's memtoull: digits (leading zeros allowed, none means 0),
     * then an optional unit. */
    while (isdigit((unsigned char)s[digits])) {
        unsigned d = (unsigned)(s[digits++] - '0');
        if (v > (ULLONG_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(s + digits, units[i].suffix) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (mul == 0 || (v != 0 && mul > ULLONG_MAX / v)) {
        return false;
    }
    *out = v * mul;
    return true;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static char
unescape(char c)
{
    switch (c) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return c;
    }
}

int
util_split_args(char *line, size_t len, util_arg_fn *fn, void *ctx)
{
    char *nul = memchr(line, '\0', len);
    char *p = line, *end = nul != NULL ? nul : line + len;
    int argc = 0;

    for (;;) {
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        if (p == end) {
            return argc;
        }
        char *start = p, *w = p; /* w writes the decoded argument over its text */
        bool inq = false, insq = false;
        for (;;) {
            if (inq) {
                if (p == end) {
                    return -1; /* unterminated quotes */
                }
                if (*p == '\\' && p + 3 < end && p[1] == 'x' && hex_value(p[2]) >= 0 &&
                    hex_value(p[3]) >= 0) {
                    *w++ = (char)(hex_value(p[2]) * 16 + hex_value(p[3]));
                    p += 4;
                } else if (*p == '\\' && p + 1 < end) {
                    *w++ = unescape(p[1]);
                    p += 2;
                } else if (*p == '"') {
                    /* a closing quote must be followed by a blank or the end */
                    if (p + 1 < end && !isspace((unsigned char)p[1])) {
                        return -1;
                    }
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            } else if (insq) {
                if (p == end) {
                    return -1;
                }
                if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                    *w++ = '\'';
                    p += 2;
                } else if (*p == '\'') {
                    if (p + 1 < end && !isspace((unsigned char)p[1])) {
                        return -1;
                    }
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            } else if (p == end || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
                break;
            } else if (*p == '"') {
                inq = true;
                p++;
            } else if (*p == '\'') {
                insq = true;
                p++;
            } else {
                *w++ = *p++;
            }
        }
        fn(ctx, start, (size_t)(w - start));
        argc++;
    }
}

static inline int
fold(int c, bool nocase)
{
    return nocase ? tolower(c) : c;
}

static bool
glob_class(const char **pp, const char *pend, int c, bool nocase)
{
    const char *p = *pp + 1; /* past '[' */
    bool neg = false, match = false;

    if (p < pend && *p == '^') {
        neg = true;
        p++;
    }
    for (;;) {
        if (p >= pend) {
            p--; /* unterminated: redis treats the end as ']' */
            break;
        }
        if (*p == ']') {
            break;
        }
        if (*p == '\\' && p + 1 < pend) {
            p++;
            if (fold((unsigned char)*p, nocase) == c) {
                match = true;
            }
        } else if (p + 2 < pend && p[1] == '-') {
            int start = fold((unsigned char)p[0], nocase);
            int stop = fold((unsigned char)p[2], nocase);
            if (start > stop) {
                int t = start;
                start = stop;
                stop = t;
            }
            p += 2;
            if (c >= start && c <= stop) {
                match = true;
            }
        } else if (fold((unsigned char)*p, nocase) == c) {
            match = true;
        }
        p++;
    }
    *pp = p; /* at ']' (or the last char) */
    return neg ? !match : match;
}

/* skip: set when the rest of the pattern matched nowhere in what was left
 * of the string; then no earlier '*' can help by matching more, and the
 * search stops (redis's fix for CVE-2022-36021: without it, patterns like
 * "a*a*a*...b" take exponential time). */
static bool
glob_rec(const char *p, const char *pend, const char *s, const char *send, bool nocase, int nest,
         bool *skip)
{
    if (nest > 1000) {
        return false; /* abusive pattern: redis gives up at the same depth */
    }
    while (p < pend && s < send) {
        switch (*p) {
        case '*':
            while (p + 1 < pend && p[1] == '*') {
                p++;
            }
            if (p + 1 == pend) {
                return true;
            }
            while (s < send) {
                if (glob_rec(p + 1, pend, s, send, nocase, nest + 1, skip)) {
                    return true;
                }
                if (*skip) {
                    return false;
                }
                s++;
            }
            *skip = true;
            return false;
        case '?':
            s++;
            break;
        case '[':
            if (!glob_class(&p, pend, fold((unsigned char)*s, nocase), nocase)) {
                return false;
            }
            s++;
            break;
        case '\\':
            if (p + 1 < pend) {
                p++;
            }
            __attribute__((fallthrough)); /* the escaped character matches itself */
        default:
            if (fold((unsigned char)*p, nocase) != fold((unsigned char)*s, nocase)) {
                return false;
            }
            s++;
            break;
        }
        p++;
    }
    while (p < pend && *p == '*') {
        p++;
    }
    return p == pend && s == send;
}

bool
util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase)
{
    bool skip = false;
    return glob_rec(pat, pat + plen, s, s + slen, nocase, 0, &skip);
}

uint32_t
util_nocase_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint32_t)tolower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

bool
util_nocase_eq_lower(const char *name, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '\0' || name[i] != tolower((unsigned char)s[i])) {
            return false;
        }
    }
    return name[len] == '\0';
}

bool
util_eq_nocase(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

long long
util_ustime(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long
util_mstime(void)
{
    return util_ustime() / 1000;
}
