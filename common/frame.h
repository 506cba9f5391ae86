/*
 * frame.h -- the loader protocol's framing (loader/loader.proto):
 *
 *     u32 length | u32 stream id | u8 method | payload (length bytes)
 *
 * big-endian.  Shared by the loader (server) and the proxy (client) so that
 * both read and write frames with the same code.  The parser trusts no
 * length: a frame longer than FRAME_PAYLOAD_MAX is a protocol error, never
 * an allocation.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER 9
#define FRAME_PAYLOAD_MAX (16u * 1024 * 1024)

enum frame_method { FRAME_LOAD = 1, FRAME_PING = 2, FRAME_AUTH = 3 };

enum frame_status { FRAME_OK, FRAME_INCOMPLETE, FRAME_EPROTO };

struct frame {
    uint32_t stream;
    uint8_t method;
    const uint8_t *payload; /* points into the parsed buffer */
    uint32_t len;
};

/* Parses the frame at buf[0..len): FRAME_OK with *f and *consumed (header +
 * payload) when whole; FRAME_INCOMPLETE when more bytes are needed;
 * FRAME_EPROTO for an oversized frame or an unknown method. */
enum frame_status frame_parse(const void *buf, size_t len, struct frame *f, size_t *consumed);
/* Writes the 9-byte header for a payload of len bytes. */
void frame_header(void *dst, uint32_t len, uint32_t stream, uint8_t method);
