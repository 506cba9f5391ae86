/*
 * fuzz_resp_reply.c -- libFuzzer harness for the RESP reply reader, which
 * the proxy uses to find where each node reply ends.
 *
 * The input is a stream of server bytes, parsed reply after reply, once in a
 * single read and again in pieces of random sizes derived from the input
 * (the reader resumes from its saved state on each call).  Both must find
 * the same replies with the same facts (type, nil, integer, length) and the
 * same final state; every step must keep the reader's promises (sc_assert
 * aborts otherwise):
 *
 *   - a parse never claims more bytes than it was given;
 *   - a whole reply has at least one byte and closes every aggregate it
 *     opened; fed a byte at a time, it ends with its last byte;
 *   - open aggregates never exceed RESP_REPLY_DEPTH.
 */
#include "tests/fuzz/fuzz.h"

#include "common/resp.h"
#include "tests/fuzz/fuzz_common.h"

#define REPLY_BYTE_BY_BYTE_MAX 256

static void
log_reply(struct flog *log, const struct resp_reply *r)
{
    flog_add(log, "R", 1);
    flog_add(log, &r->type, 1);
    flog_add(log, r->is_nil ? "n" : "v", 1);
    flog_u64(log, (uint64_t)r->integer);
    flog_u64(log, r->pos);
}

/* Parses every reply it can from the front of buf, consuming each whole
 * one; false after a protocol error (logged). */
static bool
parse_available(struct resp_reply *r, char *buf, size_t *len, bool byte_mode, struct flog *log)
{
    while (*len > 0) {
        enum resp_status st = resp_reply_parse(r, buf, *len);
        sc_assert(r->pos <= *len);
        sc_assert(r->depth >= 0 && r->depth <= RESP_REPLY_DEPTH);
        if (st == RESP_INCOMPLETE) {
            return true;
        }
        if (st == RESP_EPROTO) {
            flog_str(log, 'E', r->errstr);
            return false;
        }
        sc_assert(st == RESP_OK);
        sc_assert(r->pos > 0 && r->depth == 0);
        sc_assert(!byte_mode || r->pos == *len);
        log_reply(log, r);
        *len -= r->pos;
        memmove(buf, buf + r->pos, *len);
        resp_reply_reset(r);
    }
    return true;
}

static void
run(const uint8_t *data, size_t size, struct fcut cut, struct flog *log)
{
    struct resp_reply r;
    char *buf = NULL;
    size_t len = 0, sent = 0;
    bool alive = true;

    resp_reply_reset(&r);
    while (alive && sent < size) {
        size_t n = fcut_next(&cut, size - sent);
        fmove_append(&buf, &len, data + sent, n);
        sent += n;
        alive = parse_available(&r, buf, &len, cut.piece_max == 1, log);
    }
    if (alive) {
        flog_add(log, "L", 1); /* bytes of an unfinished reply */
        flog_u64(log, len);
    }
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fnv1a(data, size);
    struct flog whole = {0}, pieces = {0}, bytes = {0};

    run(data, size, (struct fcut){0, 0}, &whole);
    run(data, size, (struct fcut){(uint32_t)(h >> 32) | 1, 1 + (h >> 16) % 32}, &pieces);
    sc_assert(flog_eq(&whole, &pieces));
    if (size <= REPLY_BYTE_BY_BYTE_MAX) {
        run(data, size, (struct fcut){1, 1}, &bytes);
        sc_assert(flog_eq(&whole, &bytes));
    }
    free(whole.p);
    free(pieces.p);
    free(bytes.p);
    return 0;
}
