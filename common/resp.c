/*
 * resp.c -- see resp.h.
 *
 * The request reader follows the byte-level behaviour of redis-server 7's
 * processMultibulkBuffer/processInlineBuffer (what it accepts, what it
 * rejects and with which words); the code is our own.  Notable quirks kept
 * for fidelity: a line ends at the first '\r' and the byte after it is not
 * checked; the two bytes after a bulk payload are skipped, not checked.
 */
#include "common/resp.h"

#include "common/mem.h"
#include "common/util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- request */

void
resp_req_init(struct resp_req *r, uint64_t max_bulk_len)
{
    memset(r, 0, sizeof(*r));
    r->max_bulk_len = max_bulk_len;
    resp_req_reset(r);
}

void
resp_req_deinit(struct resp_req *r)
{
    mem_free(r->argv);
    r->argv = NULL;
    r->argv_cap = 0;
}

void
resp_req_reset(struct resp_req *r)
{
    r->kind = RESP_REQ_NONE;
    r->pos = 0;
    r->scan = 0;
    r->nleft = -1;
    r->bulk_len = -1;
    r->argc = 0;
}

static enum resp_status
proto_error(struct resp_req *r, const char *fmt, ...) SC_PRINTF(2, 3);

static enum resp_status
proto_error(struct resp_req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
    va_end(ap);
    return RESP_EPROTO;
}

static void
add_arg(struct resp_req *r, size_t off, size_t len)
{
    if (r->argc == r->argv_cap) {
        r->argv_cap = r->argv_cap == 0 ? 8 : r->argv_cap * 2;
        r->argv = mem_realloc(r->argv, r->argv_cap * sizeof(*r->argv));
    }
    r->argv[r->argc].off = (uint32_t)off;
    r->argv[r->argc].len = (uint32_t)len;
    r->argc++;
}

/* Finds the '\r' ending the line that starts at r->pos.  A line needs one
 * byte after its '\r' (the '\n', unchecked, as redis).  Without a '\r' in the
 * first RESP_INLINE_MAX bytes the request is rejected with too_big. */
static enum resp_status
find_cr(struct resp_req *r, const char *buf, size_t len, size_t *cr_at, const char *too_big)
{
    size_t from = MAX(r->scan, r->pos);
    const char *cr = memchr(buf + from, '\r', len - from);

    if (cr == NULL) {
        if (len - r->pos > RESP_INLINE_MAX) {
            return proto_error(r, "%s", too_big);
        }
        r->scan = (uint32_t)len;
        return RESP_INCOMPLETE;
    }
    size_t at = (size_t)(cr - buf);
    if (at + 1 >= len) {
        r->scan = (uint32_t)at;
        return RESP_INCOMPLETE;
    }
    *cr_at = at;
    return RESP_OK;
}

static enum resp_status
parse_multibulk(struct resp_req *r, const char *buf, size_t len)
{
    enum resp_status st;
    size_t cr;
    long long ll;

    if (r->nleft < 0) {
        st = find_cr(r, buf, len, &cr, "too big mbulk count string");
        if (st != RESP_OK) {
            return st;
        }
        bool ok = util_str2ll(buf + r->pos + 1, cr - r->pos - 1, &ll);
        if (!ok || ll > INT_MAX) {
            return proto_error(r, "invalid multibulk length");
        }
        if (ll > RESP_UNAUTH_MBULK_MAX && r->unauth) {
            return proto_error(r, "unauthenticated multibulk length");
        }
        r->pos = r->scan = (uint32_t)(cr + 2);
        if (ll <= 0) {
            return RESP_OK; /* "*0" and "*-1" are empty requests */
        }
        r->nleft = ll;
        if (r->argv_cap < MIN(ll, RESP_MBULK_PREALLOC)) {
            r->argv_cap = (uint32_t)MIN(ll, RESP_MBULK_PREALLOC);
            r->argv = mem_realloc(r->argv, r->argv_cap * sizeof(*r->argv));
        }
    }

    while (r->nleft > 0) {
        if (r->bulk_len < 0) {
            st = find_cr(r, buf, len, &cr, "too big bulk count string");
            if (st != RESP_OK) {
                return st;
            }
            if (buf[r->pos] != '$') {
                return proto_error(r, "expected '$', got '%c'", buf[r->pos]);
            }
            bool ok = util_str2ll(buf + r->pos + 1, cr - r->pos - 1, &ll);
            if (!ok || ll < 0 || (unsigned long long)ll > r->max_bulk_len ||
                cr + 2 + (unsigned long long)ll + 2 > UINT32_MAX) {
                return proto_error(r, "invalid bulk length");
            }
            if (ll > RESP_UNAUTH_BULK_MAX && r->unauth) {
                return proto_error(r, "unauthenticated bulk length");
            }
            r->pos = r->scan = (uint32_t)(cr + 2);
            r->bulk_len = ll;
        }
        if (len - r->pos < (size_t)r->bulk_len + 2) {
            return RESP_INCOMPLETE;
        }
        add_arg(r, r->pos, (size_t)r->bulk_len);
        r->pos = r->scan = (uint32_t)(r->pos + r->bulk_len + 2);
        r->bulk_len = -1;
        r->nleft--;
    }
    return RESP_OK;
}

struct inline_ctx {
    struct resp_req *r;
    const char *base;
};

static void
inline_arg(void *ctx, char *arg, size_t len)
{
    struct inline_ctx *ic = ctx;
    add_arg(ic->r, (size_t)(arg - ic->base), len);
}

static enum resp_status
parse_inline(struct resp_req *r, char *buf, size_t len)
{
    char *nl = memchr(buf + r->scan, '\n', len - r->scan);

    if (nl == NULL) {
        if (len > RESP_INLINE_MAX) {
            return proto_error(r, "too big inline request");
        }
        r->scan = (uint32_t)len;
        return RESP_INCOMPLETE;
    }
    size_t end = (size_t)(nl - buf);
    size_t line = end > 0 && buf[end - 1] == '\r' ? end - 1 : end;
    struct inline_ctx ic = {r, buf};
    if (util_split_args(buf, line, inline_arg, &ic) < 0) {
        r->argc = 0;
        return proto_error(r, "unbalanced quotes in request");
    }
    r->pos = r->scan = (uint32_t)(end + 1);
    return RESP_OK;
}

enum resp_status
resp_req_parse(struct resp_req *r, char *buf, size_t len)
{
    if (r->kind == RESP_REQ_NONE) {
        if (len == 0) {
            return RESP_INCOMPLETE;
        }
        r->kind = buf[0] == '*' ? RESP_REQ_MULTIBULK : RESP_REQ_INLINE;
    }
    if (r->kind == RESP_REQ_MULTIBULK) {
        return parse_multibulk(r, buf, len);
    }
    return parse_inline(r, buf, len);
}

size_t
resp_req_need(const struct resp_req *r)
{
    if (r->kind == RESP_REQ_MULTIBULK && r->bulk_len >= 0) {
        return (size_t)r->pos + (size_t)r->bulk_len + 2;
    }
    return 0;
}

/* ------------------------------------------------------------------ writer */

/* Header of a length-prefixed element: "<c><n>\r\n" into p; returns bytes. */
static inline size_t
put_len(char *p, char c, long long n)
{
    p[0] = c;
    size_t l = 1 + util_ll2str(p + 1, n);
    p[l++] = '\r';
    p[l++] = '\n';
    return l;
}

#define RESP_HDR_MAX 24          /* type byte, 20 digits, CRLF */
#define RESP_INLINE_PAYLOAD 4096 /* payloads up to this go in one reserve */

void
resp_add_raw(struct bufq *q, const void *p, size_t n)
{
    if (n <= RESP_INLINE_PAYLOAD) {
        memcpy(bufq_reserve(q, n), p, n);
        bufq_commit(q, n);
    } else {
        bufq_append(q, p, n);
    }
}

static void
add_line(struct bufq *q, char type, const char *s, size_t n, bool sanitize)
{
    char *p = bufq_reserve(q, n + 3);

    p[0] = type;
    memcpy(p + 1, s, n);
    if (sanitize) {
        for (size_t i = 1; i <= n; i++) {
            if (p[i] == '\r' || p[i] == '\n') {
                p[i] = ' ';
            }
        }
    }
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    bufq_commit(q, n + 3);
}

void
resp_add_simple(struct bufq *q, const char *s, size_t n)
{
    add_line(q, '+', s, n, true);
}

void
resp_add_error(struct bufq *q, const char *s, size_t n)
{
    add_line(q, '-', s, n, true);
}

void
resp_add_errorf(struct bufq *q, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    resp_add_error(q, msg, MIN((size_t)n, sizeof(msg) - 1));
}

void
resp_add_int(struct bufq *q, long long v)
{
    bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), ':', v));
}

void
resp_add_bulk(struct bufq *q, const void *data, size_t n)
{
    if (n <= RESP_INLINE_PAYLOAD) {
        char *p = bufq_reserve(q, RESP_HDR_MAX + n + 2);
        size_t l = put_len(p, '$', (long long)n);
        memcpy(p + l, data, n);
        p[l + n] = '\r';
        p[l + n + 1] = '\n';
        bufq_commit(q, l + n + 2);
        return;
    }
    bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), '$', (long long)n));
    bufq_append(q, data, n);
    bufq_append(q, "\r\n", 2);
}

void
resp_add_bulk_cstr(struct bufq *q, const char *s)
{
    resp_add_bulk(q, s, strlen(s));
}

void
resp_add_bulk_ll(struct bufq *q, long long v)
{
    char num[UTIL_LL_STR_SIZE];
    resp_add_bulk(q, num, util_ll2str(num, v));
}

void
resp_add_null(struct bufq *q, int proto)
{
    if (proto >= 3) {
        resp_add_raw(q, "_\r\n", 3);
    } else {
        resp_add_raw(q, "$-1\r\n", 5);
    }
}

void
resp_add_null_array(struct bufq *q, int proto)
{
    if (proto >= 3) {
        resp_add_raw(q, "_\r\n", 3);
    } else {
        resp_add_raw(q, "*-1\r\n", 5);
    }
}

void
resp_add_array(struct bufq *q, size_t n)
{
    bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), '*', (long long)n));
}

void
resp_add_map(struct bufq *q, int proto, size_t n)
{
    if (proto >= 3) {
        bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), '%', (long long)n));
    } else {
        resp_add_array(q, n * 2);
    }
}

void
resp_add_set(struct bufq *q, int proto, size_t n)
{
    bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), proto >= 3 ? '~' : '*', (long long)n));
}

void
resp_add_double(struct bufq *q, int proto, double d)
{
    char num[64];
    size_t n = util_d2str(num, sizeof(num), d);

    if (proto >= 3) {
        add_line(q, ',', num, n, false);
    } else {
        resp_add_bulk(q, num, n);
    }
}

void
resp_add_bool(struct bufq *q, int proto, bool v)
{
    if (proto >= 3) {
        resp_add_raw(q, v ? "#t\r\n" : "#f\r\n", 4);
    } else {
        resp_add_raw(q, v ? ":1\r\n" : ":0\r\n", 4);
    }
}

void
resp_add_verbatim(struct bufq *q, int proto, const char *p, size_t n)
{
    if (proto < 3) {
        resp_add_bulk(q, p, n);
        return;
    }
    bufq_commit(q, put_len(bufq_reserve(q, RESP_HDR_MAX), '=', (long long)n + 4));
    resp_add_raw(q, "txt:", 4);
    bufq_append(q, p, n);
    bufq_append(q, "\r\n", 2);
}

/* ------------------------------------------------------------ reply reader */

void
resp_reply_reset(struct resp_reply *r)
{
    r->type = RESP_T_NONE;
    r->is_nil = false;
    r->integer = 0;
    r->pos = 0;
    r->depth = 0;
}

static enum resp_status
reply_error(struct resp_reply *r, const char *msg)
{
    snprintf(r->errstr, sizeof(r->errstr), "%s", msg);
    return RESP_EPROTO;
}

/* Parses the element at r->pos.  On RESP_OK sets *count to the number of
 * children it opens (0 for a scalar or a nil/empty aggregate) and advances
 * r->pos past the element (past its header line for an aggregate). */
static enum resp_status
reply_element(struct resp_reply *r, const char *buf, size_t len, long long *count)
{
    const char *line = buf + r->pos;
    const char *cr = memchr(line, '\r', len - r->pos);
    long long n = 0;
    bool nil = false;

    if (cr == NULL || (size_t)(cr - buf) + 1 >= len) {
        return RESP_INCOMPLETE;
    }
    if (cr[1] != '\n') {
        return reply_error(r, "expected CRLF");
    }
    size_t hdr = (size_t)(cr - line) + 2;
    char type = line[0];
    *count = 0;

    switch (type) {
    case RESP_T_SIMPLE:
    case RESP_T_ERROR:
    case RESP_T_DOUBLE:
    case RESP_T_BOOL:
    case RESP_T_BIGNUM:
        break;
    case RESP_T_NULL:
        nil = true;
        break;
    case RESP_T_INT:
        if (!util_str2ll(line + 1, hdr - 3, &n)) {
            return reply_error(r, "bad integer");
        }
        break;
    case RESP_T_BULK:
    case RESP_T_VERBATIM:
    case RESP_T_BLOBERR:
        if (!util_str2ll(line + 1, hdr - 3, &n) || n < -1) {
            return reply_error(r, "bad bulk length");
        }
        if (n == -1) {
            nil = true;
            break;
        }
        if (len - r->pos < hdr + (size_t)n + 2) {
            return RESP_INCOMPLETE;
        }
        hdr += (size_t)n + 2;
        break;
    case RESP_T_ARRAY:
    case RESP_T_MAP:
    case RESP_T_SET:
    case RESP_T_PUSH:
        if (!util_str2ll(line + 1, hdr - 3, &n) || n < -1 || n > INT_MAX) {
            return reply_error(r, "bad aggregate length");
        }
        if (n == -1) {
            nil = true;
        } else {
            *count = type == RESP_T_MAP ? n * 2 : n;
        }
        break;
    default:
        return reply_error(r, "unknown reply type");
    }
    if (r->depth == 0) {
        r->type = (uint8_t)type;
        r->is_nil = nil;
        r->integer = n;
    }
    r->pos += hdr;
    return RESP_OK;
}

enum resp_status
resp_reply_parse(struct resp_reply *r, const char *buf, size_t len)
{
    for (;;) {
        long long count;
        size_t start = r->pos;
        enum resp_status st = reply_element(r, buf, len, &count);
        if (st != RESP_OK) {
            r->pos = start;
            return st;
        }
        if (count > 0) {
            if (r->depth == RESP_REPLY_DEPTH) {
                return reply_error(r, "reply nested too deeply");
            }
            r->left[r->depth++] = count;
            continue;
        }
        /* A whole element: close every aggregate it completes. */
        while (r->depth > 0 && --r->left[r->depth - 1] == 0) {
            r->depth--;
        }
        if (r->depth == 0) {
            return RESP_OK;
        }
    }
}

int
resp_array_each(const char *buf, size_t len, resp_elem_fn *fn, void *ctx)
{
    const char *cr = memchr(buf, '\r', len);
    long long n;

    if (len < 4 || buf[0] != '*' || cr == NULL ||
        !util_str2ll(buf + 1, (size_t)(cr - buf - 1), &n) || n < -1) {
        return SC_ERR;
    }
    const char *p = cr + 2, *end = buf + len;
    for (long long i = 0; i < n; i++) {
        struct resp_reply r;
        resp_reply_reset(&r);
        if (p >= end || resp_reply_parse(&r, p, (size_t)(end - p)) != RESP_OK) {
            return SC_ERR;
        }
        fn(ctx, (size_t)i, p, r.pos);
        p += r.pos;
    }
    return SC_OK;
}

bool
resp_bulk_value(const char *p, size_t n, const char **v, size_t *vlen)
{
    const char *cr = memchr(p, '\r', n);
    long long l;

    if (n < 4 || p[0] != '$' || cr == NULL || !util_str2ll(p + 1, (size_t)(cr - p - 1), &l) ||
        l < 0 || (size_t)(cr - p) + 2 + (size_t)l + 2 > n) {
        return false;
    }
    *v = cr + 2;
    *vlen = (size_t)l;
    return true;
}
