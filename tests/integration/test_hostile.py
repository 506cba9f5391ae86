"""Slow and hostile clients against slotcache-node, slotcache-proxy (each
mode, slotcache nodes behind it) and slotcache-loader, and what a client
beside them observes: a client that never reads its replies, one that
sends a byte a second, pipelines of 100,000 commands, bulk lengths of half
a gigabyte and more, keys and values with every byte value.  Where
redis-server 7 answers the same bytes, the answers must be the same.
"""

import concurrent.futures
import select
import socket
import struct
import threading
import time

import pytest

import servers
from loader_client import (INVALID_ARGUMENT, METHOD_LOAD, METHOD_PING, NOT_FOUND, OK,
                           decode_reply, encode_load, frame)
from resp_client import RespClient
from targets import RESP_KINDS, sees_eof

MB = 1 << 20


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


@pytest.mark.parametrize("kind", ["loader"])
def test_loader_client_that_never_reads_is_closed_memory_bounded(targets, kind):
    t = targets.start(kind, [("client-output-buffer-limit", "normal 1mb 0 0")])
    base_rss = servers.rss_bytes(t.pid)
    slow = unread_socket(t.port)
    # 200,000 Pings: some 8 MB of replies, never read.
    pings = b"".join(frame(i, METHOD_PING, b"") for i in range(1, 200001))
    sender = threading.Thread(target=lambda: sends_all(slow, pings))
    sender.start()
    dropped, peak = dropped_with_peak_rss(t, slow, 0)
    sender.join()
    slow.close()
    assert dropped, "a loader client over its output limit is still connected"
    assert peak - base_rss < 32 * MB, "RSS grew by %d MB" % ((peak - base_rss) // MB)
    assert t.stat("client_output_buffer_limit_disconnections") == 1
    with t.client() as c:
        assert c.ping().status == OK
        assert c.load("koi:zz").status == INVALID_ARGUMENT


def sends_all(sock, data):
    """sendall that stops quietly when the peer closes."""
    try:
        sock.sendall(data)
    except OSError:
        pass


# ---- a client that sends a byte a second ----

SLOW_KINDS = ["redis"] + RESP_KINDS + ["loader"]


def read_one_reply(t, sock):
    """The first reply on a raw connection: RESP's first line, or the
    loader's first frame decoded."""
    sock.settimeout(10)
    got = b""
    if t.kind == "loader":
        while len(got) < 9 or len(got) < 9 + struct.unpack(">I", got[:4])[0]:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            got += chunk
        stream, method = struct.unpack(">IB", got[4:9])
        return (stream, method, decode_reply(method, got[9:]).status)
    while not got.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            return None
        got += chunk
    return got


def slowloris(t, request):
    """A request sent a byte a second for four seconds (twice the server's
    timeout), then the rest of it; then one byte of another and silence.
    Meanwhile another client is served.  Returns what was seen."""
    s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
    served = []
    with t.client() as other:
        for i in range(4):
            s.sendall(request[i:i + 1])
            served.append(other.ping().status == OK if t.kind == "loader"
                          else other.call("PING") == ("+", b"PONG"))
            time.sleep(1.0)  # the slow client's pace
        r, _, _ = select.select([s], [], [], 0)
        still_open = not r
        s.sendall(request[4:])
        reply = read_one_reply(t, s)
    s.sendall(request[:1])
    start = time.monotonic()
    closed = sees_eof(s, 10)
    after = time.monotonic() - start
    s.close()
    with t.client() as other:  # the first one idled past the timeout too
        served.append(other.ping().status == OK if t.kind == "loader"
                      else other.call("PING") == ("+", b"PONG"))
    return {"served": served, "open while trickling": still_open, "reply": reply,
            "closed when silent": closed, "not before the timeout": after >= 1.9}


def test_slowloris_on_redis_node_proxy_loader(targets):
    """timeout 2 everywhere: timeout is redis's idle time since the last
    byte, so a client trickling a byte a second is not closed while it
    trickles -- its request is answered once whole -- and is closed once it
    falls silent for longer; nobody else waits on it meanwhile."""
    ts = [targets.start(k, [("timeout", 2)]) for k in SLOW_KINDS]
    resp_ping = b"*1\r\n$4\r\nPING\r\n"
    loader_ping = frame(7, METHOD_PING, b"")
    with concurrent.futures.ThreadPoolExecutor(len(ts)) as pool:
        seen = dict(zip(SLOW_KINDS, pool.map(
            lambda t: slowloris(t, loader_ping if t.kind == "loader" else resp_ping), ts)))
    expect = {"served": [True] * 5, "open while trickling": True, "reply": b"+PONG\r\n",
              "closed when silent": True, "not before the timeout": True}
    for kind in SLOW_KINDS:
        want = dict(expect, reply=(7, METHOD_PING, OK)) if kind == "loader" else expect
        assert seen[kind] == want, (kind, seen[kind])
    assert ts[-1].stat("idle_disconnections") == 1


# ---- pipelines of 100,000 commands ----

PIPELINE = 100000


def pipeline_commands(n):
    """n commands and the replies they must get, in order: SET, GET of it,
    INCR of a counter, MGET of the key and a missing one (split across
    shards when partitioned)."""
    cmds, want = [], []
    for i in range(n):
        k = i % 4
        base = i - k
        if k == 0:
            cmds.append(("SET", "p:%d" % i, "v:%d" % i))
            want.append(("+", b"OK"))
        elif k == 1:
            cmds.append(("GET", "p:%d" % base))
            want.append(("$", b"v:%d" % base))
        elif k == 2:
            cmds.append(("INCR", "counter"))
            want.append((":", i // 4 + 1))
        else:
            cmds.append(("MGET", "p:%d" % base, "missing:%d" % i))
            want.append(("*", [("$", b"v:%d" % base), ("$", None)]))
    return cmds, want


@pytest.mark.parametrize("kind", ["redis"] + RESP_KINDS)
def test_pipeline_of_100000_commands_answered_in_order(targets, kind):
    """The replies redis-server gives (the reference run), in order; a
    client beside the pipeline is served meanwhile."""
    t = targets.start(kind)
    cmds, want = pipeline_commands(PIPELINE)
    data = b"".join(RespClient.pack(*c) for c in cmds)
    c = t.client(timeout=60)
    # Written from another thread while this one reads, as a client that
    # pipelines does: neither side waits for the other to finish.
    writer = threading.Thread(target=lambda: c.sock.sendall(data))
    writer.start()
    got = [c.read_reply() for _ in range(PIPELINE // 2)]
    with t.client(timeout=60) as other:
        assert other.call("GET", "p:0") == ("$", b"v:0")
    got += [c.read_reply() for _ in range(PIPELINE - PIPELINE // 2)]
    writer.join()
    bad = [(i, cmds[i], got[i], want[i]) for i in range(PIPELINE) if got[i] != want[i]]
    assert not bad, "%d of %d replies wrong, first: %r" % (len(bad), PIPELINE, bad[:3])
    assert c.call("DBSIZE") == (":", PIPELINE // 4 + 1)
    assert c.call("PING") == ("+", b"PONG")
    c.close()


def turns_pipeline(watch):
    """3,000 commands whose MULTI/EXEC blocks, WATCHes (the proxy refuses
    WATCH: a PING instead) and 100 KB replies straddle wherever a server
    cuts a client's pipeline into turns (the node: 1,000 requests or 1 MB
    of replies), with keys written in one turn and read in a later one."""
    value = b"m" * 100000
    cmds = [("SET", "big", value), ("SET", "w", "0")]
    for i in range(250):
        cmds += [("MULTI",), ("INCR", "n"), ("GET", "big"), ("SET", "k%d" % i, i),
                 ("EXEC",), ("GET", "k%d" % max(i - 100, 0)),
                 ("WATCH", "w") if watch else ("PING",),
                 ("SET", "w", i) if i % 3 == 0 else ("PING",), ("MULTI",), ("GET", "w"),
                 ("EXEC",), ("INCR", "n")]
    return cmds


@pytest.mark.parametrize("kind", ["node", "proxy-central"])
def test_pipeline_split_into_turns_answered_as_redis_others_served(targets, kind):
    """A pipeline of transactions and big replies gets redis-server's
    replies, in order, each EXEC whole; a client that asks meanwhile --
    while the pipeline's replies wait unread -- is answered as usual."""
    cmds = turns_pipeline(watch=kind == "node")
    data = b"".join(RespClient.pack(*c) for c in cmds)
    seen = {}
    for name, t in (("redis", targets.start("redis")), (kind, targets.start(kind))):
        c = t.client(timeout=60)
        c.send_raw(data)  # replies are not read yet
        with t.client(timeout=60) as other:
            servers.wait_until(lambda: other.call("GET", "k0") == ("$", b"0"), timeout=60,
                               what="the pipeline under way")
            assert other.call("PING") == ("+", b"PONG")
        seen[name] = [c.read_reply() for _ in cmds]
        assert c.call("GET", "n") == ("$", b"500")
        c.close()
    diffs = [(i, cmds[i][:2], a, b) for i, (a, b) in enumerate(zip(seen["redis"], seen[kind]))
             if a != b]
    assert not diffs, "%d replies differ from redis's, first: %r" % (len(diffs), diffs[:3])
    if kind == "node":  # the first WATCHed key was written: that EXEC is nil
        assert seen[kind][8:13] == [("+", b"OK"), ("+", b"OK"), ("+", b"OK"),
                                    ("+", b"QUEUED"), ("*", None)]


def test_loader_pipeline_of_100000_requests_all_answered(targets):
    t = targets.start("loader")
    n = PIPELINE
    data = b"".join(frame(i, METHOD_PING if i % 2 else METHOD_LOAD,
                          b"" if i % 2 else encode_load("koi:%d" % (i % 50)))
                    for i in range(1, n + 1))
    with t.client(timeout=60) as c:
        writer = threading.Thread(target=lambda: c.sock.sendall(data))
        writer.start()
        seen = {}
        for _ in range(n):
            stream, method, reply = c.recv_reply()
            seen[stream] = (method, reply.status)
        writer.join()
    assert sorted(seen) == list(range(1, n + 1))
    assert all(m == (METHOD_PING if s % 2 else METHOD_LOAD) for s, (m, _) in seen.items())
    assert {st for _, st in seen.values()} <= {OK, NOT_FOUND}


@pytest.mark.parametrize("kind", ["proxy-central", "proxy-replicated"])
def test_node_streaming_a_big_pipeline_is_not_marked_down(targets, kind):
    """node-timeout is the node's silence, not the queue ahead of a request:
    one client's pipeline of 500 MB of replies keeps the node connection
    busy for longer than a node-timeout of 500 ms, and another client's
    request behind it is answered, not failed with the node marked down."""
    t = targets.start(kind, [("node-timeout", 500)])
    value = b"w" * 100000
    c = t.client(timeout=60)
    assert c.call("SET", "big", value) == ("+", b"OK")
    got = []
    reader = threading.Thread(target=lambda: got.extend(c.read_reply() for _ in range(5000)))
    reader.start()
    c.send_raw(RespClient.pack("GET", "big") * 5000)
    servers.wait_until(lambda: int(t.info("clients")["messages_in_flight"]) > 1000,
                       timeout=60, what="the pipeline at the node")
    with t.client(timeout=60) as other:
        assert other.call("GET", "big") == ("$", value)
    reader.join()
    assert got == [("$", value)] * 5000
    nodes = t.info("nodes")
    assert not any("status=down" in v or "failures=0" not in v
                   for k, v in nodes.items() if k.startswith("node")), nodes


# ---- bulk lengths of half a gigabyte and more ----

BULK_CASES = [
    ("above_proto_max", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n"),
    ("512mb_header_alone_waits", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n"),
    ("512mb_header_then_some_bytes_waits",
     b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"x" * 100000),
    ("huge", b"*1\r\n$99999999999999999999\r\n"),
    ("negative", b"*2\r\n$3\r\nGET\r\n$-5\r\n"),
    ("count_int_max_waits", b"*2147483647\r\n"),
    ("count_over_int_max", b"*2147483648\r\n"),
    ("count_huge_then_bulk_waits", b"*1048576\r\n$3\r\nGET\r\n"),
]


@pytest.mark.parametrize("kind", RESP_KINDS)
def test_bulk_lengths_answered_like_redis_nothing_allocated(targets, kind):
    ref = targets.start("redis")
    t = targets.start(kind)
    payloads = [p for _, p in BULK_CASES]
    want = servers.exchange_raw(ref.port, payloads)
    got = servers.exchange_raw(t.port, payloads)
    diffs = ["%s: redis %r, %s %r" % (name, a, kind, b)
             for (name, _), a, b in zip(BULK_CASES, want, got) if a != b]
    assert not diffs, "\n".join(diffs)
    assert want[0] == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert want[1] == (b"", False)
    # Announcing 512 MB (and sending 100 KB of it) costs no 512 MB buffer,
    # and blocks nobody.
    base_used, base_rss = t.used_memory(), servers.rss_bytes(t.pid)
    c = t.client()
    announcers = [socket.create_connection(("127.0.0.1", t.port)) for _ in range(4)]
    for a in announcers:
        a.sendall(BULK_CASES[2][1])
    assert c.call("SET", "x", "1") == ("+", b"OK")
    assert c.call("GET", "x") == ("$", b"1")
    servers.wait_until(lambda: t.connected_clients() == 5, what="the announcers connected")
    assert t.used_memory() - base_used < 16 * MB
    assert servers.rss_bytes(t.pid) - base_rss < 64 * MB
    for a in announcers:
        r, _, _ = select.select([a], [], [], 0)
        assert not r, "an announcer got an answer or was closed"
        a.close()
    c.close()


def test_loader_frames_announcing_huge_lengths(targets):
    """A frame announcing the most the loader takes (16 MB) waits for its
    bytes without a 16 MB buffer; one announcing more (up to 4 GB) is
    refused by closing the connection, as the protocol says."""
    t = targets.start("loader")
    base_rss = servers.rss_bytes(t.pid)
    waiting = [socket.create_connection(("127.0.0.1", t.port)) for _ in range(4)]
    for w in waiting:
        w.sendall(struct.pack(">IIB", 16 * MB, 1, METHOD_LOAD) + b"\x0a" * 1000)
    refused = []
    for length in (16 * MB + 1, 512 * MB, 0xFFFFFFFF):
        s = socket.create_connection(("127.0.0.1", t.port))
        s.sendall(struct.pack(">IIB", length, 1, METHOD_LOAD))
        refused.append(sees_eof(s))
        s.close()
    assert refused == [True, True, True]
    with t.client() as c:
        assert c.ping().status == OK
    assert servers.rss_bytes(t.pid) - base_rss < 8 * MB
    for w in waiting:
        r, _, _ = select.select([w], [], [], 0)
        assert not r, "a frame still arriving was answered or closed"
        w.close()


# ---- keys and values with every byte value ----

ALL_BYTES = bytes(range(256))


def binary_commands():
    keys = [bytes([b]) for b in range(256)] + [ALL_BYTES, b"\r\n", b"", b"{\x00}\xff",
                                                 b"*1\r\n$4\r\nPING\r\n"]
    values = [ALL_BYTES[i % 256:] + ALL_BYTES[:i % 256] for i in range(len(keys))]
    values[-2] = ALL_BYTES * 64  # 16 KB
    return keys, values


@pytest.mark.parametrize("kind", ["redis"] + RESP_KINDS)
def test_binary_keys_and_values_every_byte(targets, kind):
    t = targets.start(kind)
    keys, values = binary_commands()
    c = t.client()
    assert servers.pipeline(c, [("SET", k, v) for k, v in zip(keys, values)]) == (
        [("+", b"OK")] * len(keys))
    assert servers.pipeline(c, [("GET", k) for k in keys]) == [("$", v) for v in values]
    assert c.call("MGET", *keys) == ("*", [("$", v) for v in values])
    assert c.call("EXISTS", *keys) == (":", len(keys))
    assert c.call("APPEND", b"\x00", b"\xff\x00") == (":", 258)
    assert c.call("STRLEN", b"\x00") == (":", 258)
    assert c.call("DBSIZE") == (":", len(keys))
    assert c.call("DEL", *keys[:128]) == (":", 128)
    assert c.call("MGET", *keys[:130]) == ("*", [("$", None)] * 128 + [
        ("$", values[128]), ("$", values[129])])
    if t.topo is not None and t.topo.mode == "partitioned":
        # Spread over the shards as redis cluster would put them.
        per_node = [RespClient("127.0.0.1", n.port).call("DBSIZE")[1] for n in t.topo.nodes]
        assert all(n > 0 for n in per_node) and sum(per_node) == len(keys) - 128
    c.close()


def test_loader_keys_with_every_byte_value(targets, tmp_path):
    """Every byte value after a route's prefix: a bigint route takes only
    digits, a text route any valid UTF-8 but NUL; the rest is
    INVALID_ARGUMENT -- a client error, which neither hangs the connection
    nor counts against the database (the breaker stays closed)."""
    conf = tmp_path / "loader.conf"
    conf.write_text('route koi: "SELECT row_to_json(k)::text FROM koi k WHERE kepid = '
                    '$1::bigint" ttl 300\n'
                    'route name: "SELECT row_to_json(k)::text FROM koi k WHERE kepoi_name = $1" '
                    'ttl 60\n')
    t = targets.start("loader", [], config=str(conf))
    with t.client() as c:
        for b in range(256):
            key = bytes([b])
            koi = c.load(b"koi:" + key).status
            assert koi == (NOT_FOUND if key.isdigit() else INVALID_ARGUMENT), (b, koi)
            name = c.load(b"name:" + key).status
            valid_text = b != 0 and b < 0x80
            assert name == (NOT_FOUND if valid_text else INVALID_ARGUMENT), (b, name)
        assert c.load(b"name:" + ALL_BYTES).status == INVALID_ARGUMENT
        assert c.load(b"name:" + ALL_BYTES[1:128]).status == NOT_FOUND
        assert c.load("name:K00752.01").status in (OK, NOT_FOUND)
        p = c.ping()
        assert p.status == OK and p.breaker_open is False
