/*
 * test_resp.c -- the RESP request reader, reply writer and reply reader.
 *
 * The readers are fed table-driven streams as a connection would see them:
 * in one read, split in two at every byte offset, a byte at a time and in
 * random small pieces, with the buffer moving between reads.  Every way must
 * log the same requests (or replies) and the same final state, and the log
 * must be the table's expectation (pelikan check_resp.c, hiredis
 * test_reply_reader).  Protocol errors carry redis-server 7's exact words:
 * clients see them as "-ERR Protocol error: <errstr>".
 */
#define TEST_SUITE "resp"
#include "tests/unit/testhelp.h"

#include "common/mem.h"
#include "common/resp.h"
#include "common/sbuf.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#define MAX_BULK_DEFAULT (512ULL * 1024 * 1024) /* proto-max-bulk-len */
#define EVERY_OFFSET_MAX 20000                  /* longer streams are split at sampled offsets */
#define MOVE_EVERY_READ_MAX 4096                /* shorter streams move on every read */

/* ------------------------------------------------------------ logging */

/* Appends an argument as "text", non-printables as \xHH; long ones as
 * their length and a hash, so a 64 KB argument does not bloat the log. */
static void
log_arg(struct sbuf *s, const char *p, size_t n)
{
    if (n > 64) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (size_t i = 0; i < n; i++) {
            h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
        }
        sbuf_printf(s, "#%zu:%016llx", n, (unsigned long long)h);
        return;
    }
    sbuf_add(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            sbuf_printf(s, "\\x%02x", c);
        } else {
            sbuf_add(s, &p[i], 1);
        }
    }
    sbuf_add(s, "\"", 1);
}

/* --------------------------------------------------- a connection buffer */

/* The bytes received and not yet consumed, as a connection keeps them. */
struct inbuf {
    char *p;
    size_t len, cap;
    bool move; /* move the bytes to a new block on every read */
};

static void
inbuf_append(struct inbuf *b, const char *data, size_t n)
{
    if (b->move || b->len + n > b->cap) {
        /* Short streams go to a fresh block on every read, so ASan catches
         * a parser that kept a pointer into the old one (arguments must be
         * offsets); long ones grow by doubling, to stay fast. */
        size_t cap = b->move ? b->len + n : MAX(2 * b->cap, b->len + n);
        char *p = mem_alloc(cap == 0 ? 1 : cap);
        if (b->len > 0) {
            memcpy(p, b->p, b->len);
        }
        mem_free(b->p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void
inbuf_consume(struct inbuf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

/* How a stream is cut into reads: the next read's size. */
struct cutter {
    size_t split;  /* 0: one read; SIZE_MAX: byte by byte; else first read's size */
    uint32_t prng; /* nonzero: random reads of 1..64 bytes */
    size_t reads;
};

static size_t
next_read(struct cutter *c, size_t left)
{
    size_t n = left;

    if (c->prng != 0) {
        c->prng = c->prng * 1103515245 + 12345;
        n = 1 + (c->prng >> 16) % 64;
    } else if (c->split == SIZE_MAX) {
        n = 1;
    } else if (c->split != 0 && c->reads == 0) {
        n = c->split;
    }
    c->reads++;
    return MIN(n, left);
}

/* The k-th way to cut a stream of len bytes into reads: 0 one read, 1 byte
 * by byte, 2 and 3 random pieces, then k-4 as the size of a first read (at
 * every offset; for long streams near both ends and a sample in between).
 * false: skip this k. */
static bool
nth_cut(size_t k, size_t len, struct cutter *c)
{
    *c = (struct cutter){0};
    if (k == 1) {
        c->split = SIZE_MAX;
        return len <= EVERY_OFFSET_MAX;
    }
    if (k == 2 || k == 3) {
        c->prng = (uint32_t)k * 2654435761u;
        return true;
    }
    if (k >= 4) {
        size_t at = k - 4;
        c->split = at;
        return at > 0 && (len <= EVERY_OFFSET_MAX || at <= 200 || at >= len - 200 || at % 509 == 0);
    }
    return true;
}

/* Feeds a vector to a reader cut as c says, logging what it finds in out;
 * false when an invariant broke. */
typedef bool feed_fn(const void *vec, struct cutter *c, struct sbuf *out);

/* Runs a vector of len bytes through every cut; each log must be want.
 * Returns whether all agreed; the first disagreement is printed. */
static bool
all_cuts_agree(const char *name, const void *vec, size_t len, const char *want, feed_fn *feed)
{
    struct sbuf got;
    int bad = 0;

    sbuf_init(&got);
    for (size_t k = 0; k < 4 + len; k++) {
        struct cutter c;
        if (!nth_cut(k, len, &c)) {
            continue;
        }
        sbuf_reset(&got);
        bool inv = feed(vec, &c, &got);
        if (!inv || strcmp(got.data, want) != 0) {
            if (bad == 0) {
                fprintf(stderr, "  %s (cut %zu/%s): got %s\n  want %s\n", name, c.split,
                        c.prng ? "random" : "fixed", got.data, want);
            }
            bad++;
        }
    }
    if (bad != 0) {
        fprintf(stderr, "  %s: %d cuts disagree\n", name, bad);
    }
    sbuf_free(&got);
    return bad == 0;
}

/* ---------------------------------------------------- request reader */

struct req_vec {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
    bool unauth;
    uint64_t max_bulk; /* 0: MAX_BULK_DEFAULT */
};

static size_t
vec_len(const struct req_vec *v)
{
    return v->len != 0 ? v->len : strlen(v->in);
}

static void
log_request(struct sbuf *log, const struct resp_req *r, const char *buf)
{
    sbuf_add(log, "(", 1);
    for (uint32_t i = 0; i < r->argc; i++) {
        if (i > 0) {
            sbuf_add(log, " ", 1);
        }
        log_arg(log, buf + r->argv[i].off, r->argv[i].len);
    }
    sbuf_add(log, ")", 1);
}

/* Checks what must hold after each parse; false (with a note) if broken. */
static bool
req_invariants(const struct resp_req *r, enum resp_status st, const struct inbuf *b,
               const char *orig, bool last_byte_just_arrived)
{
    if (r->pos > b->len) {
        fprintf(stderr, "  pos %u beyond the %zu bytes held\n", r->pos, b->len);
        return false;
    }
    if (st == RESP_INCOMPLETE) {
        /* Nothing consumed, nothing rewritten: the bytes are as received. */
        if ((b->len <= MOVE_EVERY_READ_MAX || b->len % 997 == 0) &&
            memcmp(b->p, orig, b->len) != 0) {
            fprintf(stderr, "  incomplete request was modified\n");
            return false;
        }
        size_t need = resp_req_need(r);
        if (need != 0 && need <= b->len) {
            fprintf(stderr, "  need %zu but %zu bytes are there\n", need, b->len);
            return false;
        }
        return true;
    }
    if (st == RESP_OK) {
        if (r->pos == 0) {
            fprintf(stderr, "  a request of 0 bytes (no progress)\n");
            return false;
        }
        if (last_byte_just_arrived && r->pos != b->len) {
            /* byte by byte, a request must end with the byte that completed it */
            fprintf(stderr, "  request of %u bytes finished only at %zu\n", r->pos, b->len);
            return false;
        }
        for (uint32_t i = 0; i < r->argc; i++) {
            if ((uint64_t)r->argv[i].off + r->argv[i].len > r->pos) {
                fprintf(stderr, "  argument %u outside the request\n", i);
                return false;
            }
        }
    }
    return true;
}

/* Feeds v to a request reader cut as c says; writes the log to out.
 * Returns whether every invariant held. */
static bool
feed_requests(const void *vec, struct cutter *c, struct sbuf *out)
{
    const struct req_vec *v = vec;
    size_t len = vec_len(v), sent = 0, consumed = 0;
    struct inbuf b = {.move = len <= MOVE_EVERY_READ_MAX};
    struct resp_req r;
    bool ok = true, failed = false;

    resp_req_init(&r, v->max_bulk != 0 ? v->max_bulk : MAX_BULK_DEFAULT);
    r.unauth = v->unauth;
    while (sent < len && !failed && ok) {
        size_t n = next_read(c, len - sent);
        inbuf_append(&b, v->in + sent, n);
        sent += n;
        for (;;) {
            enum resp_status st = resp_req_parse(&r, b.p, b.len);
            ok = req_invariants(&r, st, &b, v->in + consumed, c->split == SIZE_MAX && n == 1);
            if (!ok || st == RESP_INCOMPLETE) {
                break;
            }
            if (st == RESP_EPROTO) {
                sbuf_printf(out, "!%s", r.errstr);
                failed = true;
                break;
            }
            log_request(out, &r, b.p);
            consumed += r.pos;
            inbuf_consume(&b, r.pos);
            resp_req_reset(&r);
            if (b.len == 0) {
                break;
            }
        }
    }
    if (!failed && b.len > 0) {
        sbuf_printf(out, "~%zu", b.len); /* bytes of an unfinished request */
    }
    mem_free(b.p);
    resp_req_deinit(&r);
    return ok;
}

/* Whether v gives its expected log in every cut. */
static bool
req_vec_ok(const struct req_vec *v)
{
    return all_cuts_agree(v->name, v, vec_len(v), v->want, feed_requests);
}

static const struct req_vec req_valid[] = {
    {"multibulk", "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", 0,
     "(\"SET\" \"key\" \"value\")"},
    {"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", 0, "(\"ECHO\" \"\")"},
    {"binary bulk", "*2\r\n$3\r\na\r\n\r\n$4\r\n\0\1\r\n\r\n", 23,
     "(\"a\\x0d\\x0a\" \"\\x00\\x01\\x0d\\x0a\")"},
    {"inline crlf", "SET key value\r\n", 0, "(\"SET\" \"key\" \"value\")"},
    {"inline lf", "PING\n", 0, "(\"PING\")"},
    {"inline blanks", "  GET \t  key  \r\n", 0, "(\"GET\" \"key\")"},
    {"inline quotes", "SET \"a b\" 'c\\'d' \"\\x41\\n\\\"\"\r\n", 0,
     "(\"SET\" \"a b\" \"c'd\" \"A\\x0a\\x22\")"},
    {"pipelined", "PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO there\n", 0,
     "(\"PING\")(\"PING\")(\"ECHO\" \"hi\")(\"ECHO\" \"there\")"},
    {"star zero", "*0\r\n", 0, "()"},
    {"star minus", "*-1\r\n*-5\r\nPING\r\n", 0, "()()(\"PING\")"},
    {"star zero then request", "*0\r\n*1\r\n$1\r\nx\r\n", 0, "()(\"x\")"},
    {"blank inline lines", "\r\n\n   \r\nPING\r\n", 0, "()()()(\"PING\")"},
    {"incomplete tail", "*2\r\n$3\r\nGET\r\n$3\r\nke", 0, "~19"},
    {"incomplete inline", "PING\r\nGET ke", 0, "(\"PING\")~6"},
    /* redis does not check the byte after a line's '\r', nor the two bytes
     * after a bulk payload: these pass there, so they pass here */
    {"unchecked lf", "*1\rX$4\rXPING\r\n", 0, "(\"PING\")"},
    {"unchecked bulk crlf", "*1\r\n$4\r\nPINGxx*1\r\n$1\r\na\r\n", 0, "(\"PING\")(\"a\")"},
    {"ten args unauth",
     "*10\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
     "$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n",
     0, "(\"0\" \"1\" \"2\" \"3\" \"4\" \"5\" \"6\" \"7\" \"8\" \"9\")", true},
    {"bulk at max", "*1\r\n$10\r\n0123456789\r\n", 0, "(\"0123456789\")", false, 10},
};

static const struct req_vec req_errors[] = {
    {"mbulk not a number", "*abc\r\n", 0, "!invalid multibulk length"},
    {"mbulk empty", "*\r\n", 0, "!invalid multibulk length"},
    {"mbulk plus", "*+1\r\n", 0, "!invalid multibulk length"},
    {"mbulk over int", "*2147483648\r\n", 0, "!invalid multibulk length"},
    {"mbulk after request", "PING\r\n*1x\r\n", 0, "(\"PING\")!invalid multibulk length"},
    {"bulk negative", "*1\r\n$-1\r\n", 0, "!invalid bulk length"},
    {"bulk not a number", "*1\r\n$abc\r\n", 0, "!invalid bulk length"},
    {"bulk empty", "*1\r\n$\r\n", 0, "!invalid bulk length"},
    {"bulk over max", "*1\r\n$11\r\n01234567890\r\n", 0, "!invalid bulk length", false, 10},
    {"not a bulk", "*1\r\nfoo\r\n", 0, "!expected '$', got 'f'"},
    {"second not a bulk", "*2\r\n$1\r\na\r\n:1\r\n", 0, "!expected '$', got ':'"},
    {"unbalanced double", "SET \"a b\r\n", 0, "!unbalanced quotes in request"},
    {"unbalanced single", "SET 'a\r\n", 0, "!unbalanced quotes in request"},
    {"quote then text", "SET \"a\"b c\r\n", 0, "!unbalanced quotes in request"},
    {"unauth mbulk", "*11\r\n", 0, "!unauthenticated multibulk length", true},
    {"unauth bulk", "*1\r\n$16385\r\n", 0, "!unauthenticated bulk length", true},
    {"auth bulk fine", "*1\r\n$16385\r\n", 0, "~12", false},
};

static void
test_req_valid(void)
{
    for (size_t i = 0; i < ARRAY_LEN(req_valid); i++) {
        CHECK(req_vec_ok(&req_valid[i]));
    }
}

static void
test_req_errors(void)
{
    for (size_t i = 0; i < ARRAY_LEN(req_errors); i++) {
        CHECK(req_vec_ok(&req_errors[i]));
    }
}

/* A stream of n copies of c after prefix, with no line end. */
static char *
filled(const char *prefix, char c, size_t n, size_t *len)
{
    size_t p = strlen(prefix);
    char *s = mem_alloc(p + n + 1);

    memcpy(s, prefix, p);
    memset(s + p, c, n);
    s[p + n] = '\0';
    *len = p + n;
    return s;
}

static void
test_req_too_big(void)
{
    static const struct {
        const char *prefix;
        char fill;
        const char *want;
    } cases[] = {
        {"", 'a', "!too big inline request"},
        {"*", '1', "!too big mbulk count string"},
        {"*1\r\n$", '1', "!too big bulk count string"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct req_vec v = {.name = cases[i].want, .want = cases[i].want};
        char *s = filled(cases[i].prefix, cases[i].fill, RESP_INLINE_MAX + 10, &v.len);
        v.in = s;
        CHECK(req_vec_ok(&v));
        mem_free(s);
    }

    /* Exactly at the limit a line is still awaited. */
    struct req_vec v = {.name = "inline at limit", .want = "~65536"};
    char *s = filled("", 'a', RESP_INLINE_MAX, &v.len);
    v.in = s;
    CHECK(req_vec_ok(&v));
    mem_free(s);
}

/* "*2\r\n$3\r\nSET\r\n$<n>\r\n<n bytes>\r\n" with a known pattern. */
static char *
big_set(size_t n, size_t *len)
{
    char head[64];
    int h = snprintf(head, sizeof(head), "*2\r\n$3\r\nSET\r\n$%zu\r\n", n);
    char *s = mem_alloc((size_t)h + n + 2);

    memcpy(s, head, (size_t)h);
    for (size_t i = 0; i < n; i++) {
        s[h + i] = (char)('a' + i % 26);
    }
    memcpy(s + h + n, "\r\n", 2);
    *len = (size_t)h + n + 2;
    return s;
}

static void
test_req_big_bulk(void)
{
    size_t n = BUF_CHUNK + 600; /* more than one pooled buffer */
    struct sbuf want;
    size_t len;
    char *s = big_set(n, &len);

    sbuf_init(&want);
    sbuf_adds(&want, "(\"SET\" ");
    log_arg(&want, s + len - 2 - n, n);
    sbuf_adds(&want, ")");
    struct req_vec v = {.name = "big bulk", .in = s, .len = len, .want = want.data};
    CHECK(req_vec_ok(&v));

    /* Unauthenticated, the same bulk is refused as soon as its header is read. */
    v.unauth = true;
    v.want = "!unauthenticated bulk length";
    CHECK(req_vec_ok(&v));
    sbuf_free(&want);
    mem_free(s);
}

static void
test_req_need(void)
{
    struct resp_req r;
    char buf[64];

    resp_req_init(&r, MAX_BULK_DEFAULT);
    strcpy(buf, "*1\r\n$10");
    CHECK(resp_req_parse(&r, buf, strlen(buf)) == RESP_INCOMPLETE);
    CHECK_INT(resp_req_need(&r), 0); /* the length is not known yet */
    strcpy(buf, "*1\r\n$10\r\nab");
    CHECK(resp_req_parse(&r, buf, strlen(buf)) == RESP_INCOMPLETE);
    CHECK_INT(resp_req_need(&r), 21); /* 9 header bytes + 10 + CRLF */
    strcpy(buf, "*1\r\n$10\r\n0123456789\r\n");
    CHECK(resp_req_parse(&r, buf, 21) == RESP_OK);
    CHECK_INT(r.pos, 21);
    CHECK_INT(resp_req_need(&r), 0);
    resp_req_reset(&r);
    strcpy(buf, "GET ke");
    CHECK(resp_req_parse(&r, buf, strlen(buf)) == RESP_INCOMPLETE);
    CHECK_INT(resp_req_need(&r), 0); /* inline: unknown */
    resp_req_deinit(&r);

    /* For a big value, need is the whole request's size. */
    size_t len;
    char *s = big_set(100000, &len);
    resp_req_init(&r, MAX_BULK_DEFAULT);
    CHECK(resp_req_parse(&r, s, 100) == RESP_INCOMPLETE);
    CHECK_INT(resp_req_need(&r), len);
    CHECK(resp_req_parse(&r, s, len) == RESP_OK);
    CHECK(r.argc == 2 && r.argv[1].len == 100000 && r.pos == len);
    resp_req_deinit(&r);
    mem_free(s);
}

static void
test_req_many_args(void)
{
    /* More arguments than the preallocation: argv grows as they arrive. */
    struct sbuf in, want;
    const int n = 3000;

    sbuf_init(&in);
    sbuf_init(&want);
    sbuf_printf(&in, "*%d\r\n", n);
    sbuf_adds(&want, "(");
    for (int i = 0; i < n; i++) {
        char a[16];
        int l = snprintf(a, sizeof(a), "%d", i);
        sbuf_printf(&in, "$%d\r\n%s\r\n", l, a);
        sbuf_printf(&want, "%s\"%s\"", i > 0 ? " " : "", a);
    }
    sbuf_adds(&want, ")");
    struct req_vec v = {.name = "3000 args", .in = in.data, .len = in.len, .want = want.data};
    CHECK(req_vec_ok(&v));
    sbuf_free(&in);
    sbuf_free(&want);
}

/* --------------------------------------------------------- reply writer */

/* The chain's bytes as a NUL-terminated string (owned by the caller). */
static char *
drain(struct bufq *q, size_t *len)
{
    char *s = mem_alloc(q->bytes + 1);
    size_t l = 0;

    for (struct buf *b = q->head; b != NULL; b = b->next) {
        memcpy(s + l, buf_rptr(b), buf_rsize(b));
        l += buf_rsize(b);
    }
    s[l] = '\0';
    *len = l;
    bufq_clear(q);
    return s;
}

#define CHECK_WRITES(q, lit)                                                                       \
    do {                                                                                           \
        size_t l_;                                                                                 \
        char *s_ = drain(q, &l_);                                                                  \
        CHECK_MEM(s_, l_, lit);                                                                    \
        mem_free(s_);                                                                              \
    } while (0)

static void
test_write_scalars(void)
{
    struct bufq q = {0};

    resp_add_simple(&q, "OK", 2);
    CHECK_WRITES(&q, "+OK\r\n");
    resp_add_simple(&q, "a\r\nb", 4);
    CHECK_WRITES(&q, "+a  b\r\n"); /* a reply can never be split */
    resp_add_error(&q, "ERR bad\r\nthing", 14);
    CHECK_WRITES(&q, "-ERR bad  thing\r\n");
    resp_add_errorf(&q, "ERR unknown command '%s'", "x");
    CHECK_WRITES(&q, "-ERR unknown command 'x'\r\n");
    resp_add_int(&q, 0);
    resp_add_int(&q, -1);
    resp_add_int(&q, LLONG_MAX);
    resp_add_int(&q, LLONG_MIN);
    CHECK_WRITES(&q, ":0\r\n:-1\r\n:9223372036854775807\r\n:-9223372036854775808\r\n");
    resp_add_bulk(&q, "foo", 3);
    resp_add_bulk(&q, "", 0);
    resp_add_bulk(&q, "a\0\r\n", 4);
    CHECK_WRITES(&q, "$3\r\nfoo\r\n$0\r\n\r\n$4\r\na\0\r\n\r\n");
    resp_add_bulk_cstr(&q, "hello");
    resp_add_bulk_ll(&q, -42);
    CHECK_WRITES(&q, "$5\r\nhello\r\n$3\r\n-42\r\n");
    resp_add_raw(&q, "+PONG\r\n", 7);
    CHECK_WRITES(&q, "+PONG\r\n");
    buf_pool_drain();
}

static void
test_write_resp2_resp3(void)
{
    struct bufq q = {0};

    resp_add_null(&q, 2);
    resp_add_null_array(&q, 2);
    resp_add_array(&q, 3);
    resp_add_map(&q, 2, 2);
    resp_add_set(&q, 2, 5);
    resp_add_double(&q, 2, 1.5);
    resp_add_double(&q, 2, -INFINITY);
    resp_add_bool(&q, 2, true);
    resp_add_bool(&q, 2, false);
    resp_add_verbatim(&q, 2, "hello", 5);
    CHECK_WRITES(&q, "$-1\r\n*-1\r\n*3\r\n*4\r\n*5\r\n$3\r\n1.5\r\n$4\r\n-inf\r\n:1\r\n:0\r\n"
                     "$5\r\nhello\r\n");

    resp_add_null(&q, 3);
    resp_add_null_array(&q, 3);
    resp_add_array(&q, 3);
    resp_add_map(&q, 3, 2);
    resp_add_set(&q, 3, 5);
    resp_add_double(&q, 3, 1.5);
    resp_add_double(&q, 3, INFINITY);
    resp_add_double(&q, 3, -2.25);
    resp_add_bool(&q, 3, true);
    resp_add_bool(&q, 3, false);
    resp_add_verbatim(&q, 3, "hello", 5);
    CHECK_WRITES(&q, "_\r\n_\r\n*3\r\n%2\r\n~5\r\n,1.5\r\n,inf\r\n,-2.25\r\n#t\r\n#f\r\n"
                     "=9\r\ntxt:hello\r\n");
    buf_pool_drain();
}

/* A value of n bytes with a known pattern. */
static char *
pattern(size_t n, unsigned seed)
{
    char *p = mem_alloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        p[i] = (char)(seed + i * 31);
    }
    return p;
}

/* Random replies through the writer against a reference built with
 * snprintf, many chunks long; then the reply reader must find each one's
 * end exactly. */
static void
test_write_random_against_reference(void)
{
    struct bufq q = {0};
    struct sbuf ref;
    size_t ends[2000];
    int nrep = 0;

    sbuf_init(&ref);
    srandom(5);
    while (nrep < (int)ARRAY_LEN(ends)) {
        long long v = (long long)random() - RAND_MAX / 2;
        int proto = 2 + random() % 2;
        size_t n;
        char *p;
        switch (random() % 7) {
        case 0:
            resp_add_int(&q, v);
            sbuf_printf(&ref, ":%lld\r\n", v);
            break;
        case 1: /* sizes around the writer's 4 KB inline limit and the chunk size */
            n = (size_t)random() % (random() % 4 == 0 ? 3 * BUF_CHUNK : 5000);
            p = pattern(n, (unsigned)v);
            resp_add_bulk(&q, p, n);
            sbuf_printf(&ref, "$%zu\r\n", n);
            sbuf_add(&ref, p, n);
            sbuf_add(&ref, "\r\n", 2);
            mem_free(p);
            break;
        case 2:
            resp_add_simple(&q, "QUEUED", 6);
            sbuf_adds(&ref, "+QUEUED\r\n");
            break;
        case 3:
            resp_add_null(&q, proto);
            sbuf_adds(&ref, proto == 3 ? "_\r\n" : "$-1\r\n");
            break;
        case 4:
            resp_add_bulk_ll(&q, v);
            sbuf_printf(&ref, "$%d\r\n%lld\r\n", snprintf(NULL, 0, "%lld", v), v);
            break;
        case 5:
            n = 1 + (size_t)random() % 9000;
            p = pattern(n, (unsigned)v);
            for (size_t i = 0; i < n; i++) {
                p[i] = (char)('a' + (unsigned char)p[i] % 26); /* no CR/LF */
            }
            resp_add_verbatim(&q, proto, p, n);
            sbuf_printf(&ref, "%c%zu\r\n%s", proto == 3 ? '=' : '$', n + (proto == 3 ? 4 : 0),
                        proto == 3 ? "txt:" : "");
            sbuf_add(&ref, p, n);
            sbuf_add(&ref, "\r\n", 2);
            mem_free(p);
            break;
        default:
            resp_add_error(&q, "ERR x", 5);
            sbuf_adds(&ref, "-ERR x\r\n");
            break;
        }
        ends[nrep++] = ref.len;
    }
    size_t len;
    char *s = drain(&q, &len);
    CHECK_INT(len, ref.len);
    CHECK(len == ref.len && memcmp(s, ref.data, len) == 0);

    int found = 0;
    size_t off = 0;
    struct resp_reply r;
    for (int i = 0; i < nrep; i++) {
        resp_reply_reset(&r);
        if (resp_reply_parse(&r, s + off, len - off) != RESP_OK || off + r.pos != ends[i]) {
            break;
        }
        off += r.pos;
        found++;
    }
    CHECK_INT(found, nrep);
    mem_free(s);
    sbuf_free(&ref);
    buf_pool_drain();
}

/* --------------------------------------------------------- reply reader */

struct reply_vec {
    const char *name;
    const char *in;
    const char *want; /* per reply: <type> n=<nil> i=<integer> len=<pos>; then ~N or !err */
};

static void
log_reply(struct sbuf *log, const struct resp_reply *r)
{
    sbuf_printf(log, "%c%s%lld/%zu ", r->type, r->is_nil ? "nil" : "", r->integer, r->pos);
}

static bool
feed_replies(const void *vec, struct cutter *c, struct sbuf *out)
{
    const struct reply_vec *v = vec;
    size_t len = strlen(v->in), sent = 0;
    struct inbuf b = {.move = true};
    struct resp_reply r;
    bool ok = true, failed = false;

    resp_reply_reset(&r);
    while (sent < len && !failed && ok) {
        size_t n = next_read(c, len - sent);
        inbuf_append(&b, v->in + sent, n);
        sent += n;
        while (b.len > 0) {
            enum resp_status st = resp_reply_parse(&r, b.p, b.len);
            if (r.pos > b.len || (st == RESP_OK && r.pos == 0) ||
                (st == RESP_OK && c->split == SIZE_MAX && r.pos != b.len)) {
                fprintf(stderr, "  reply pos %zu of %zu (status %d)\n", r.pos, b.len, st);
                ok = false;
                break;
            }
            if (st == RESP_INCOMPLETE) {
                break;
            }
            if (st == RESP_EPROTO) {
                sbuf_printf(out, "!%s", r.errstr);
                failed = true;
                break;
            }
            log_reply(out, &r);
            inbuf_consume(&b, r.pos);
            resp_reply_reset(&r);
        }
    }
    if (!failed && b.len > 0) {
        sbuf_printf(out, "~%zu", b.len);
    }
    mem_free(b.p);
    return ok;
}

static bool
reply_vec_ok(const struct reply_vec *v)
{
    return all_cuts_agree(v->name, v, strlen(v->in), v->want, feed_replies);
}

static const struct reply_vec reply_vecs[] = {
    {"simple", "+OK\r\n", "+0/5 "},
    {"error", "-ERR no such key\r\n", "-0/18 "},
    {"integer", ":-123\r\n", ":-123/7 "},
    {"bulk", "$3\r\nfoo\r\n", "$3/9 "},
    {"empty bulk", "$0\r\n\r\n", "$0/6 "},
    {"bulk with crlf", "$4\r\n\r\n\r\n\r\n", "$4/10 "},
    {"nil bulk", "$-1\r\n", "$nil-1/5 "},
    {"nil array", "*-1\r\n", "*nil-1/5 "},
    {"resp3 null", "_\r\n", "_nil0/3 "},
    {"double", ",3.14\r\n", ",0/7 "},
    {"bool", "#t\r\n", "#0/4 "},
    {"bignum", "(3492890328409238509324850943850943825024385\r\n", "(0/46 "},
    {"verbatim", "=9\r\ntxt:hello\r\n", "=9/15 "},
    {"blob error", "!5\r\nERR x\r\n", "!5/11 "},
    {"empty array", "*0\r\n", "*0/4 "},
    {"array", "*2\r\n$3\r\nfoo\r\n:1\r\n", "*2/17 "},
    {"nested", "*3\r\n*2\r\n:1\r\n:2\r\n*0\r\n*1\r\n*1\r\n$1\r\nx\r\n", "*3/35 "},
    {"nils inside", "*3\r\n$-1\r\n*-1\r\n_\r\n", "*3/17 "},
    {"map", "%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n", "%2/24 "},
    {"set and push", "~2\r\n:1\r\n:2\r\n>2\r\n+message\r\n$1\r\nx\r\n", "~2/12 >2/21 "},
    {"pipelined", "+OK\r\n$-1\r\n:5\r\n*1\r\n+x\r\n", "+0/5 $nil-1/5 :5/4 *1/8 "},
    {"incomplete aggregate", "*2\r\n:1\r\n", "~8"},
    {"incomplete bulk", "+OK\r\n$5\r\nab", "+0/5 ~6"},
    {"unknown type", "+OK\r\n?x\r\n", "+0/5 !unknown reply type"},
    {"bad integer", ":12a\r\n", "!bad integer"},
    {"empty integer", ":\r\n", "!bad integer"},
    {"bad bulk length", "$-2\r\n", "!bad bulk length"},
    {"bad aggregate length", "*-2\r\n", "!bad aggregate length"},
    {"cr without lf", "+OK\rX", "!expected CRLF"},
    {"bad inside array", "*2\r\n:1\r\n$x\r\n", "!bad bulk length"},
};

static void
test_reply_reader_table(void)
{
    for (size_t i = 0; i < ARRAY_LEN(reply_vecs); i++) {
        CHECK(reply_vec_ok(&reply_vecs[i]));
    }
}

/* depth nested arrays of one element around ":1". */
static char *
nested(int depth)
{
    char *s = mem_alloc((size_t)depth * 4 + 5);
    for (int i = 0; i < depth; i++) {
        memcpy(s + i * 4, "*1\r\n", 4);
    }
    strcpy(s + depth * 4, ":1\r\n");
    return s;
}

static void
test_reply_depth_limit(void)
{
    char want[64];
    char *s = nested(RESP_REPLY_DEPTH);
    snprintf(want, sizeof(want), "*1/%d ", RESP_REPLY_DEPTH * 4 + 4);
    struct reply_vec v = {"depth at limit", s, want};
    CHECK(reply_vec_ok(&v));
    mem_free(s);

    s = nested(RESP_REPLY_DEPTH + 1);
    struct reply_vec w = {"depth over limit", s, "!reply nested too deeply"};
    CHECK(reply_vec_ok(&w));
    mem_free(s);
}

static void
test_reply_facts(void)
{
    struct resp_reply r;

    resp_reply_reset(&r);
    CHECK(resp_reply_parse(&r, "%3\r\n", 4) == RESP_INCOMPLETE);
    CHECK(r.type == RESP_T_MAP && r.integer == 3 && r.depth == 1); /* known from the header */
    resp_reply_reset(&r);
    CHECK(resp_reply_parse(&r, "$-1\r\n", 5) == RESP_OK);
    CHECK(r.type == RESP_T_BULK && r.is_nil && r.pos == 5);
    resp_reply_reset(&r);
    CHECK(resp_reply_parse(&r, ":42\r\n", 5) == RESP_OK);
    CHECK(r.type == RESP_T_INT && !r.is_nil && r.integer == 42);
    resp_reply_reset(&r);
    CHECK(resp_reply_parse(&r, "", 0) == RESP_INCOMPLETE);
    CHECK_INT(r.pos, 0);
}

TEST_MAIN(test_req_valid, test_req_errors, test_req_too_big, test_req_big_bulk, test_req_need,
          test_req_many_args, test_write_scalars, test_write_resp2_resp3,
          test_write_random_against_reference, test_reply_reader_table, test_reply_depth_limit,
          test_reply_facts)
