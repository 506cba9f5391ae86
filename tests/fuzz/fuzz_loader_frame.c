/*
 * fuzz_loader_frame.c -- libFuzzer harness for the loader protocol: frame
 * parsing (common/frame.c) and protobuf decoding of every message type
 * (loader/loader.proto, protobuf-c).
 *
 * The input is a stream of bytes as a connection receives them.  Frames are
 * taken from the front, each consumed before the next, until the stream ends
 * or the codec rejects a header.  Every step must keep the codec's promises
 * (sc_assert aborts otherwise):
 *
 *   - a frame is whole: header + payload bytes, payload inside the input,
 *     method known, length within FRAME_PAYLOAD_MAX; any shorter prefix of
 *     it is INCOMPLETE (nothing is decided on part of a frame);
 *   - EPROTO only for a header that is oversized or has an unknown method;
 *   - frame_header() writes a header frame_parse() reads back the same.
 *
 * Each payload is decoded as the message its method carries (what the
 * loader does) and as every other message type (what a fuzzer would try
 * anyway); whatever decodes must re-encode (its known fields) to bytes
 * that decode again and re-encode identically.
 */
#include "tests/fuzz/fuzz.h"

#include "common/defs.h"
#include "common/frame.h"
#include "loader/loader.pb-c.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX_CHECKS 64 /* shorter prefixes of a frame checked one by one */

static const ProtobufCMessageDescriptor *const messages[] = {
    &slotcache__loader__load_request__descriptor, &slotcache__loader__load_reply__descriptor,
    &slotcache__loader__ping_request__descriptor, &slotcache__loader__ping_reply__descriptor,
    &slotcache__loader__route__descriptor,        &slotcache__loader__auth_request__descriptor,
    &slotcache__loader__auth_reply__descriptor,
};

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Packs m's known fields into a fresh buffer; *len gets its size.  Unknown
 * fields are left out: protobuf-c keeps them verbatim, including a field
 * number 0 spelled as a two-byte varint that it then refuses in its
 * one-byte spelling, and the loader never re-encodes what it received. */
static uint8_t *
pack(ProtobufCMessage *m, size_t *len)
{
    unsigned unknown = m->n_unknown_fields;

    m->n_unknown_fields = 0;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n == 0 ? 1 : n);
    sc_assert(buf != NULL);
    sc_assert(protobuf_c_message_pack(m, buf) == n);
    m->n_unknown_fields = unknown;
    *len = n;
    return buf;
}

/* Decodes payload as d; if it decodes, the round trip must be stable. */
static void
check_message(const ProtobufCMessageDescriptor *d, const uint8_t *payload, size_t len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, payload);
    size_t n1, n2;

    if (m == NULL) {
        return;
    }
    sc_assert(protobuf_c_message_check(m));
    uint8_t *once = pack(m, &n1);
    protobuf_c_message_free_unpacked(m, NULL);
    ProtobufCMessage *again = protobuf_c_message_unpack(d, NULL, n1, once);
    sc_assert(again != NULL);
    uint8_t *twice = pack(again, &n2);
    sc_assert(n1 == n2 && memcmp(once, twice, n1) == 0);
    protobuf_c_message_free_unpacked(again, NULL);
    free(once);
    free(twice);
}

static const ProtobufCMessageDescriptor *
request_of(uint8_t method)
{
    switch (method) {
    case FRAME_LOAD:
        return &slotcache__loader__load_request__descriptor;
    case FRAME_PING:
        return &slotcache__loader__ping_request__descriptor;
    default:
        return &slotcache__loader__auth_request__descriptor;
    }
}

/* The load request's fields, as the loader reads them, stay in the payload. */
static void
check_load_request(const uint8_t *payload, size_t len)
{
    Slotcache__Loader__LoadRequest *m = slotcache__loader__load_request__unpack(NULL, len, payload);

    if (m == NULL) {
        return;
    }
    sc_assert(m->key.len <= len);
    sc_assert(m->key.len == 0 || m->key.data != NULL);
    slotcache__loader__load_request__free_unpacked(m, NULL);
}

/* A whole frame at p: its prefixes are incomplete, its header round-trips. */
static void
check_frame(const uint8_t *p, const struct frame *f, size_t consumed)
{
    struct frame g;
    size_t used = 0;
    uint8_t hdr[FRAME_HEADER];

    sc_assert(consumed == FRAME_HEADER + (size_t)f->len);
    sc_assert(f->len <= FRAME_PAYLOAD_MAX);
    sc_assert(f->method >= FRAME_LOAD && f->method <= FRAME_AUTH);
    sc_assert(f->payload == p + FRAME_HEADER);
    sc_assert(f->stream == be32(p + 4) && f->len == be32(p));
    for (size_t k = 0; k < consumed && k < PREFIX_CHECKS; k++) {
        sc_assert(frame_parse(p, k, &g, &used) == FRAME_INCOMPLETE);
    }
    sc_assert(frame_parse(p, consumed - 1, &g, &used) == FRAME_INCOMPLETE);
    frame_header(hdr, f->len, f->stream, f->method);
    sc_assert(memcmp(hdr, p, FRAME_HEADER) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct frame f;
        size_t used = 0;
        const uint8_t *p = data + off;
        enum frame_status st = frame_parse(p, size - off, &f, &used);

        if (st == FRAME_INCOMPLETE) {
            sc_assert(size - off < FRAME_HEADER || size - off < FRAME_HEADER + (size_t)be32(p));
            break;
        }
        if (st == FRAME_EPROTO) {
            sc_assert(size - off >= FRAME_HEADER);
            sc_assert(be32(p) > FRAME_PAYLOAD_MAX || p[8] < FRAME_LOAD || p[8] > FRAME_AUTH);
            break;
        }
        sc_assert(st == FRAME_OK && used <= size - off);
        check_frame(p, &f, used);
        check_message(request_of(f.method), f.payload, f.len);
        if (f.method == FRAME_LOAD) {
            check_load_request(f.payload, f.len);
        }
        for (size_t i = 0; i < ARRAY_LEN(messages); i++) {
            check_message(messages[i], f.payload, f.len);
        }
        off += used;
    }
    return 0;
}
