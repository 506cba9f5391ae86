/*
 * fuzz_resp_request.c -- libFuzzer harness for the RESP request reader.
 *
 * The input is a stream of client bytes.  It is parsed as a connection would
 * parse it (requests taken from the front of a buffer, each consumed before
 * the next), once in a single read and again in pieces of random sizes
 * derived from the input, with the buffer moving on every read.  Both must
 * find the same requests, the same arguments and the same final state, and
 * every step must keep the reader's promises (sc_assert aborts otherwise):
 *
 *   - a parse never claims more bytes than it was given;
 *   - a finished request has at least one byte, and its arguments lie
 *     inside it; fed a byte at a time, it finishes with its last byte;
 *   - an unfinished request is left exactly as received, and
 *     resp_req_need() never asks for bytes that are already there.
 *
 * The reader's settings (unauthenticated limits, proto-max-bulk-len) come
 * from a hash of the input, so corpus files are plain RESP.
 */
#include "tests/fuzz/fuzz.h"

#include "common/resp.h"
#include "tests/fuzz/fuzz_common.h"

#define REQ_BYTE_BY_BYTE_MAX 256 /* inputs this short are also fed a byte at a time */

struct req_settings {
    bool unauth;
    uint64_t max_bulk;
};

/* Logs one finished request: its length, argc, and each argument. */
static void
log_request(struct flog *log, const struct resp_req *r, const char *buf)
{
    sc_assert(r->pos > 0);
    flog_add(log, "R", 1);
    flog_u64(log, r->pos);
    flog_u64(log, r->argc);
    for (uint32_t i = 0; i < r->argc; i++) {
        const struct resp_arg *a = &r->argv[i];
        sc_assert((uint64_t)a->off + a->len <= r->pos);
        flog_u64(log, a->len);
        flog_add(log, buf + a->off, a->len);
    }
}

/* Checks an unfinished request: untouched, and need beyond what is held. */
static void
check_incomplete(const struct resp_req *r, const char *buf, size_t len, const uint8_t *orig)
{
    sc_assert(memcmp(buf, orig, len) == 0);
    size_t need = resp_req_need(r);
    sc_assert(need == 0 || need > len);
}

/* Parses every request it can from buf; returns false after a protocol
 * error (logged).  *len and *consumed advance past finished requests. */
static bool
parse_available(struct resp_req *r, char *buf, size_t *len, size_t *consumed, const uint8_t *data,
                bool byte_mode, struct flog *log)
{
    while (*len > 0) {
        enum resp_status st = resp_req_parse(r, buf, *len);
        sc_assert(r->pos <= *len);
        if (st == RESP_INCOMPLETE) {
            check_incomplete(r, buf, *len, data + *consumed);
            return true;
        }
        if (st == RESP_EPROTO) {
            flog_str(log, 'E', r->errstr);
            return false;
        }
        sc_assert(st == RESP_OK);
        sc_assert(!byte_mode || r->pos == *len);
        log_request(log, r, buf);
        *consumed += r->pos;
        *len -= r->pos;
        memmove(buf, buf + r->pos, *len);
        resp_req_reset(r);
    }
    return true;
}

static void
run(const uint8_t *data, size_t size, const struct req_settings *s, struct fcut cut,
    struct flog *log)
{
    struct resp_req r;
    char *buf = NULL;
    size_t len = 0, sent = 0, consumed = 0;
    bool alive = true;

    resp_req_init(&r, s->max_bulk);
    r.unauth = s->unauth;
    while (alive && sent < size) {
        size_t n = fcut_next(&cut, size - sent);
        fmove_append(&buf, &len, data + sent, n);
        sent += n;
        alive = parse_available(&r, buf, &len, &consumed, data, cut.piece_max == 1, log);
    }
    if (alive) {
        flog_add(log, "L", 1); /* bytes of an unfinished request */
        flog_u64(log, len);
    }
    free(buf);
    resp_req_deinit(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fnv1a(data, size);
    struct req_settings s = {
        .unauth = (h & 1) != 0,
        /* mostly redis's 512 MB; sometimes tiny, to reach the length errors */
        .max_bulk = (h & 6) != 0 ? 512ULL * 1024 * 1024 : (h >> 8) % 64,
    };
    struct flog whole = {0}, pieces = {0}, bytes = {0};

    run(data, size, &s, (struct fcut){0, 0}, &whole);
    /* Past the inline limit redis itself answers differently depending on
     * how a long line arrives (one read finds its end; pieces hit the
     * limit first): compare cuts only below it. */
    if (size <= RESP_INLINE_MAX) {
        run(data, size, &s, (struct fcut){(uint32_t)(h >> 32) | 1, 1 + (h >> 16) % 32}, &pieces);
        sc_assert(flog_eq(&whole, &pieces));
        if (size <= REQ_BYTE_BY_BYTE_MAX) {
            run(data, size, &s, (struct fcut){1, 1}, &bytes);
            sc_assert(flog_eq(&whole, &bytes));
        }
    }
    free(whole.p);
    free(pieces.p);
    free(bytes.p);
    return 0;
}
