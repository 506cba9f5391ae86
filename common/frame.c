/*
 * frame.c -- see frame.h.
 */
#include "common/frame.h"

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

enum frame_status
frame_parse(const void *buf, size_t len, struct frame *f, size_t *consumed)
{
    const uint8_t *p = buf;

    if (len < FRAME_HEADER) {
        return FRAME_INCOMPLETE;
    }
    uint32_t plen = get_u32(p);
    uint8_t method = p[8];
    if (plen > FRAME_PAYLOAD_MAX || method < FRAME_LOAD || method > FRAME_AUTH) {
        return FRAME_EPROTO;
    }
    if (len - FRAME_HEADER < plen) {
        return FRAME_INCOMPLETE;
    }
    f->stream = get_u32(p + 4);
    f->method = method;
    f->payload = p + FRAME_HEADER;
    f->len = plen;
    *consumed = FRAME_HEADER + (size_t)plen;
    return FRAME_OK;
}

void
frame_header(void *dst, uint32_t len, uint32_t stream, uint8_t method)
{
    uint8_t *p = dst;
    put_u32(p, len);
    put_u32(p + 4, stream);
    p[8] = method;
}
