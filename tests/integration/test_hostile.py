"""Slow and hostile clients against slotcache-node, slotcache-proxy (each
mode, slotcache nodes behind it) and slotcache-loader, and what a client
beside them observes: a client that never reads its replies, one that
sends a byte a second, pipelines of 100,000 commands, bulk lengths of half
a gigabyte and more, keys and values with every byte value.  Where
redis-server 7 answers the same bytes, the answers must be the same.
"""

import concurrent.futures
import os
import select
import socket
import struct
import sys
import threading
import time

import pytest

import servers
from loader_client import (INVALID_ARGUMENT, METHOD_LOAD, METHOD_PING, NOT_FOUND, OK,
                           decode_reply, encode_load, frame)
from resp_client import RespClient
from targets import RESP_KINDS, TargetSet, sees_eof

MB = 1 << 20


@pytest.fixture
def targets(request):
    pg = request.getfixturevalue("pg_koi") if "loader" in request.node.name else None
    ts = TargetSet(pg)
    yield ts
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(ts.logs())
    problems = ts.stop_all()
    assert not problems, "\n".join(problems)


def unread_socket(port):
    """A connection with a small receive buffer, to a client that will not
    read: what the server sends piles up on the server's side."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return s


def dropped_with_peak_rss(t, sock, others, timeout=30.0):
    """Waits until the server has dropped the client on sock -- it counts
    only `others` clients -- sampling its RSS meanwhile; then checks that
    the client finds out without reading: what it sends now is refused.
    (Reading would not do: the replies the kernel already holds come before
    the end of the stream.)  Returns (dropped, peak RSS)."""
    peak = servers.rss_bytes(t.pid)
    deadline = time.monotonic() + timeout
    while t.connected_clients() != others:
        peak = max(peak, servers.rss_bytes(t.pid))
        if time.monotonic() > deadline:
            return False, peak
        time.sleep(0.02)
    return sends_refused(sock), peak


def sends_refused(sock, timeout=10.0):
    """Whether the peer has closed: a send is answered with a reset."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            sock.send(b"PING\r\n")
        except OSError:
            return True
        time.sleep(0.05)
    return False


# ---- a client that never reads its replies ----

@pytest.mark.parametrize("kind", RESP_KINDS)
def test_never_reading_client_closed_at_output_limit_memory_bounded(targets, kind):
    t = targets.start(kind, [("client-output-buffer-limit", "normal 1mb 0 0")])
    c = t.client()
    value = b"v" * 100000
    assert c.call("SET", "big", value) == ("+", b"OK")
    base_used, base_rss = t.used_memory(), servers.rss_bytes(t.pid)
    slow = unread_socket(t.port)
    slow.sendall(RespClient.pack("GET", "big") * 2000)  # 200 MB of replies
    dropped, peak = dropped_with_peak_rss(t, slow, 1)  # c is left
    slow.close()
    assert dropped, "a client over its output limit is still connected"
    assert peak - base_rss < 64 * MB, "RSS grew by %d MB for one slow reader" % (
        (peak - base_rss) // MB)
    servers.wait_until(lambda: t.used_memory() < base_used + 2 * MB,
                       what="used_memory back down (%d, was %d)" % (t.used_memory(), base_used))
    assert c.call("GET", "big") == ("$", value)
    assert c.call("PING") == ("+", b"PONG")
    assert t.stat("client_output_buffer_limit_disconnections") == 1
    c.close()


@pytest.mark.parametrize("kind", RESP_KINDS)
def test_never_reading_client_closed_after_soft_limit_seconds(targets, kind):
    t = targets.start(kind, [("client-output-buffer-limit", "normal 0 512kb 1")])
    c = t.client()
    assert c.call("SET", "big", b"s" * 50000) == ("+", b"OK")
    slow = unread_socket(t.port)
    start = time.monotonic()
    dropped_at = None
    # Keep asking (and never reading), so the replies stay over the soft limit.
    while time.monotonic() - start < 10:
        try:
            slow.sendall(RespClient.pack("GET", "big") * 20)
        except OSError:
            dropped_at = time.monotonic() - start
            break
        time.sleep(0.1)  # the client's pace
        if t.connected_clients() == 1:  # c is left
            dropped_at = time.monotonic() - start
            break
    slow.close()
    assert dropped_at is not None, "over the soft limit for 10 s and still connected"
    assert dropped_at >= 0.9, "dropped after %.2f s, before the soft limit's 1 s" % dropped_at
    assert c.call("PING") == ("+", b"PONG")
    assert t.stat("client_output_buffer_limit_disconnections") == 1
    c.close()
