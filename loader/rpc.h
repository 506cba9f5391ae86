/*
 * rpc.h -- the loader's RPC server: client connections, frames in and out
 * (common/frame.h), messages decoded and encoded with protobuf-c
 * (loader/loader.proto).
 *
 * Many requests are in flight per connection; each reply carries its
 * request's stream id and method and goes out as soon as its answer is
 * known, in any order.  Every Load has a deadline (its deadline_ms, or
 * default-deadline): when it passes first, the request leaves its flight
 * and is answered DEADLINE_EXCEEDED.  Replies are appended to the
 * connection's bufq and written before the loop sleeps (rpc_flush).
 *
 * With a secret set, the first frame of a connection must be an Auth with
 * it; anything else is answered UNAUTHENTICATED and the connection closed.
 * A frame the codec rejects (longer than FRAME_PAYLOAD_MAX, unknown method)
 * closes its connection: its stream cannot be trusted.  A payload that is
 * not the method's message is answered INVALID_ARGUMENT; the connection
 * stays.
 */
#pragma once

#include "loader/load.h"

#include <stddef.h>

/* Listens on bind:port (loader.opt).  SC_ERR with err set. */
int rpc_setup(char *err, size_t errlen);
/* Closes every connection (cancelling their requests) and the listener. */
void rpc_teardown(void);
/* Before sleep: writes pending replies, frees closed connections. */
void rpc_flush(void);
/* load.h's answer callback: replies to the request w belongs to. */
void rpc_load_done(struct flight_waiter *w, const struct load_result *res);
/* Periodic: resumes accepting after EMFILE. */
void rpc_cron(void);
/* The port listened on (port 0 picks one). */
int rpc_port(void);
