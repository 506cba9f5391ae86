/*
 * resp.h -- the one RESP implementation of slotcache: a request reader, a
 * reply writer (RESP2 and RESP3), and a reply reader.
 *
 * Request reader.  Clients send either a multibulk request
 *
 *     *<argc>\r\n  then argc times  $<len>\r\n<len bytes>\r\n
 *
 * or an inline one: a line of blank-separated words, quotes allowed, ended by
 * \n.  The reader is resumable (twemproxy nc_redis.c, hiredis read.c): feed it
 * the bytes of one request as they arrive, in any split, a byte at a time
 * included; it remembers how far it got and never rescans.  Arguments are
 * (offset, length) pairs relative to the first byte of the request, so the
 * caller may move its buffer between calls; nothing is copied.  Inline
 * arguments are unescaped within the buffer (the text only shrinks).
 *
 * Errors carry redis-server 7's exact wording ("invalid bulk length", ...);
 * the caller replies "-ERR Protocol error: <errstr>" and closes.
 */
#pragma once

#include "common/buf.h"
#include "common/defs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_INLINE_MAX (64 * 1024)     /* redis PROTO_INLINE_MAX_SIZE */
#define RESP_MBULK_PREALLOC 1024        /* never size argv by the client's claim */
#define RESP_UNAUTH_MBULK_MAX 10        /* limits before AUTH, as redis */
#define RESP_UNAUTH_BULK_MAX 16384

enum resp_status { RESP_OK, RESP_INCOMPLETE, RESP_EPROTO };

enum resp_req_kind { RESP_REQ_NONE, RESP_REQ_MULTIBULK, RESP_REQ_INLINE };

struct resp_arg {
    uint32_t off; /* from the first byte of the request */
    uint32_t len;
};

struct resp_req {
    /* set by the owner */
    uint64_t max_bulk_len; /* proto-max-bulk-len */
    bool unauth;           /* apply redis's limits for unauthenticated clients */

    /* parse state, reset by resp_req_reset() */
    uint8_t kind;      /* enum resp_req_kind */
    uint32_t pos;      /* bytes of the request parsed so far */
    uint32_t scan;     /* where the search for the current line's end resumes */
    int64_t nleft;     /* multibulk arguments still to read; -1: header not read */
    int64_t bulk_len;  /* length of the argument being read; -1: header not read */
    uint32_t argc;     /* arguments read */
    uint32_t argv_cap; /* slots in argv */
    struct resp_arg *argv;

    char errstr[64]; /* after RESP_EPROTO: redis's text after "Protocol error: " */
};

void resp_req_init(struct resp_req *r, uint64_t max_bulk_len);
void resp_req_deinit(struct resp_req *r);
/* Forget the request parsed (or half-parsed); keeps argv's storage. */
void resp_req_reset(struct resp_req *r);

/* Parses buf[0..len), which begins with the request being parsed.  RESP_OK:
 * the request is whole and is buf[0..r->pos); r->argc, r->argv describe it
 * (argc may be 0: "*0\r\n" or a blank line, which redis ignores).
 * RESP_INCOMPLETE: more bytes are needed; resp_req_need() says how many the
 * buffer must hold in all when that is known.  RESP_EPROTO: r->errstr. */
enum resp_status resp_req_parse(struct resp_req *r, char *buf, size_t len);

/* Bytes of the request the buffer must hold before the parse can finish the
 * argument being read (pos + bulk + 2), or 0 when unknown.  Lets the caller
 * allocate a big argument once rather than doubling towards it. */
size_t resp_req_need(const struct resp_req *r);

/*
 * Reply writer.  Every function appends one RESP element to a chain of
 * buffers; `proto` is 2 or 3 where the two protocols differ (RESP2 has no
 * map, set, double, boolean or null type, and writes them as arrays, bulk
 * strings, integers and the nil bulk or nil array).
 */
void resp_add_raw(struct bufq *q, const void *p, size_t n);
void resp_add_simple(struct bufq *q, const char *s, size_t n);
/* s is the whole error, code included ("ERR no such key"); \r and \n in it
 * are replaced by spaces as redis does, so a reply can never be split. */
void resp_add_error(struct bufq *q, const char *s, size_t n);
void resp_add_errorf(struct bufq *q, const char *fmt, ...) SC_PRINTF(2, 3);
void resp_add_int(struct bufq *q, long long v);
void resp_add_bulk(struct bufq *q, const void *p, size_t n);
void resp_add_bulk_cstr(struct bufq *q, const char *s);
void resp_add_bulk_ll(struct bufq *q, long long v);
void resp_add_null(struct bufq *q, int proto);       /* nil bulk: $-1 or _ */
void resp_add_null_array(struct bufq *q, int proto); /* nil array: *-1 or _ */
void resp_add_array(struct bufq *q, size_t n);
void resp_add_map(struct bufq *q, int proto, size_t n);
void resp_add_set(struct bufq *q, int proto, size_t n);
void resp_add_double(struct bufq *q, int proto, double d);
void resp_add_bool(struct bufq *q, int proto, bool v);
/* Text for humans (INFO, CLIENT LIST): a verbatim string "txt:" in RESP3. */
void resp_add_verbatim(struct bufq *q, int proto, const char *p, size_t n);

/*
 * Reply reader: finds where each reply ends in a stream of RESP2/RESP3
 * replies (the proxy forwards replies as bytes and only needs boundaries and
 * a few facts).  Resumable like the request reader: it keeps a stack of
 * aggregate counts, so a reply split anywhere is finished on the next call
 * without rescanning what was already read.
 */
#define RESP_REPLY_DEPTH 16 /* nesting the proxy accepts from a node */

enum resp_type {
    RESP_T_NONE = 0,
    RESP_T_SIMPLE = '+',
    RESP_T_ERROR = '-',
    RESP_T_INT = ':',
    RESP_T_BULK = '$',
    RESP_T_ARRAY = '*',
    RESP_T_NULL = '_',
    RESP_T_DOUBLE = ',',
    RESP_T_BOOL = '#',
    RESP_T_BIGNUM = '(',
    RESP_T_VERBATIM = '=',
    RESP_T_BLOBERR = '!',
    RESP_T_MAP = '%',
    RESP_T_SET = '~',
    RESP_T_ATTR = '|',
    RESP_T_PUSH = '>',
};

struct resp_reply {
    uint8_t type;      /* of the top-level reply: enum resp_type */
    bool is_nil;       /* $-1, *-1 or _ */
    long long integer; /* value of an integer reply / length of the top-level bulk or aggregate */
    size_t pos;        /* bytes of the reply parsed so far */
    int depth;         /* open aggregates */
    int64_t left[RESP_REPLY_DEPTH]; /* elements still to read at each level */
    char errstr[64];
};

void resp_reply_reset(struct resp_reply *r);
/* Parses buf[0..len), which begins with the reply being parsed: RESP_OK when
 * buf[0..r->pos) is one whole reply. */
enum resp_status resp_reply_parse(struct resp_reply *r, const char *buf, size_t len);

/* For one whole array reply buf[0..len): calls fn with each element's
 * bytes (a complete reply each).  SC_ERR if it is not a well-formed array
 * (a nil array has no elements: SC_OK). */
typedef void resp_elem_fn(void *ctx, size_t i, const char *p, size_t n);
int resp_array_each(const char *buf, size_t len, resp_elem_fn *fn, void *ctx);
/* The payload of a bulk string reply p[0..n); false for anything else
 * (nil included). */
bool resp_bulk_value(const char *p, size_t n, const char **v, size_t *vlen);
