"""The RESP request reader at the byte level, differential: the same raw
bytes go to redis-server 7 and to slotcache-node, and what comes back --
the reply bytes and whether the server closed the connection -- must be the
same.  Malformed requests, inline commands, pipelines, requests split into
single bytes, big and binary values, and the limits that apply before AUTH.
"""

import os
import select

import pytest

import servers
from resp_client import RespClient

pack = RespClient.pack

# (name, bytes) sent alone on a fresh connection to each server.
MALFORMED = [
    ("mbulk_not_a_number", b"*abc\r\n"),
    ("mbulk_negative_is_empty", b"*-5\r\nPING\r\n"),
    ("mbulk_zero_is_empty", b"*0\r\nPING\r\n"),
    ("mbulk_empty_count", b"*\r\n"),
    ("mbulk_count_with_space", b"* 1\r\n"),
    ("mbulk_count_trailing_space", b"*1 \r\n"),
    ("mbulk_count_leading_zero", b"*01\r\n$4\r\nPING\r\n"),
    ("mbulk_count_over_int_max", b"*2147483648\r\n"),
    ("mbulk_count_int_max_waits", b"*2147483647\r\n"),
    ("bulk_len_not_a_number", b"*3\r\n$x\r\n"),
    ("bulk_len_not_a_number_unterminated", b"*3\r\n$x"),
    ("bulk_len_minus_one_in_mbulk", b"*2\r\n$3\r\nGET\r\n$-1\r\n"),
    ("bulk_len_minus_two", b"*1\r\n$-2\r\n"),
    ("bulk_len_minus_zero", b"*1\r\n$-0\r\n"),
    ("bulk_len_plus_sign", b"*1\r\n$+4\r\nPING\r\n"),
    ("bulk_len_empty", b"*1\r\n$\r\n"),
    ("bulk_len_space", b"*1\r\n$ 4\r\n"),
    ("bulk_len_above_proto_max", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n"),
    ("bulk_len_512mb_header_alone_waits", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n"),
    ("bulk_len_huge", b"*1\r\n$99999999999999999999\r\n"),
    ("expected_dollar_got_plus", b"*2\r\n+PING\r\n"),
    ("expected_dollar_got_colon", b"*1\r\n:1\r\n"),
    ("expected_dollar_got_star", b"*1\r\n*1\r\n"),
    ("expected_dollar_got_letter", b"*2\r\n$4\r\nECHO\r\nhello\r\n"),
    ("bytes_after_payload_not_checked", b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
    ("lf_without_cr_after_payload", b"*1\r\n$4\r\nPING\n\n"),
    ("cr_then_any_byte_ends_line", b"*1\rx$4\rxPING\r\n"),
    ("incomplete_second_request_waits", b"*1\r\n$4\r\nPING\r\n*1\r\n"),
    ("too_big_inline", b"a" * 70000),
    ("too_big_mbulk_count", b"*" + b"1" * 70000),
    ("too_big_bulk_count", b"*1\r\n$" + b"1" * 70000),
    ("inline_quotes", b'SET "a b" \'c d\'\r\nGET "a b"\r\n'),
    ("inline_escapes", b'ECHO "\\x41\\x42\\n\\t\\r\\a\\b\\\\"\r\n'),
    ("inline_bad_hex_escape_kept", b'ECHO "\\xzz"\r\n'),
    ("inline_escaped_quote", b'ECHO "a\\"b"\r\n'),
    ("inline_single_quote_escape", b"ECHO 'it\\'s'\r\n"),
    ("inline_single_quote_no_escapes", b"ECHO 'a\\nb'\r\n"),
    ("inline_empty_quoted_args", b"ECHO ''\r\nECHO \"\"\r\n"),
    ("inline_quote_then_letter", b'ECHO "foo"bar\r\n'),
    ("inline_unbalanced_double", b'ECHO "unbalanced\r\nPING\r\n'),
    ("inline_unbalanced_single", b"ECHO 'x\r\nPING\r\n"),
    ("inline_blank_lines_ignored", b"\r\n\r\n   \r\n\t\r\nPING\r\n"),
    ("inline_lf_only", b"PING\nPING\n"),
    ("inline_tabs_and_spaces", b"  ECHO\t\t  x  \r\n"),
    ("inline_unknown_command", b"NOSUCH a 'b c'\r\n"),
    ("inline_plus_prefix", b"+PING\r\n"),
    ("inline_incomplete_waits", b"PING"),
    ("error_then_more_commands", b"PING\r\n*abc\r\nPING\r\n"),
    ("unbalanced_then_more_commands", b"PING\r\nECHO \"x\r\nPING\r\n"),
]


def compare_exchanges(ref_port, our_port, cases, quiet=0.4):
    names = [c[0] for c in cases]
    payloads = [c[1] for c in cases]
    ref = servers.exchange_raw(ref_port, payloads, quiet=quiet)
    ours = servers.exchange_raw(our_port, payloads, quiet=quiet)
    diffs = []
    for name, a, b in zip(names, ref, ours):
        if a != b:
            diffs.append("%s:\n    redis:     %r closed=%s\n    slotcache: %r closed=%s" % (
                name, a[0][:300], a[1], b[0][:300], b[1]))
    return ref, diffs


def test_malformed_and_inline_requests_like_redis(node, redis_ref):
    ref, diffs = compare_exchanges(redis_ref.port, node.port, MALFORMED)
    assert not diffs, "%d of %d byte sequences answered differently:\n%s" % (
        len(diffs), len(MALFORMED), "\n".join(diffs))
    # The reference itself must have said what the cases are about, or the
    # comparison proves little.
    got = dict(zip([c[0] for c in MALFORMED], ref))
    assert got["mbulk_not_a_number"] == (
        b"-ERR Protocol error: invalid multibulk length\r\n", True)
    assert got["bulk_len_above_proto_max"] == (
        b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert got["bulk_len_512mb_header_alone_waits"] == (b"", False)
    assert got["expected_dollar_got_plus"] == (
        b"-ERR Protocol error: expected '$', got '+'\r\n", True)
    assert got["too_big_inline"] == (b"-ERR Protocol error: too big inline request\r\n", True)
    assert got["inline_unbalanced_double"] == (
        b"-ERR Protocol error: unbalanced quotes in request\r\n", True)
    assert got["error_then_more_commands"] == (
        b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", True)


def test_commands_after_a_protocol_error_are_not_run(node, redis_ref):
    payload = b"SET a 1\r\n*1\r\n$x\r\nSET b 2\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n"
    for port in (redis_ref.port, node.port):
        (reply, closed), = servers.exchange_raw(port, [payload])
        assert (reply, closed) == (b"+OK\r\n-ERR Protocol error: invalid bulk length\r\n", True)
        c = RespClient("127.0.0.1", port)
        assert [c.call("GET", k) for k in ("a", "b", "c")] == [
            ("$", b"1"), ("$", None), ("$", None)], port
        c.close()


def test_512mb_bulk_header_does_not_allocate_or_block_others(node):
    """A client that announces the largest bulk string allowed and sends
    nothing more holds no half-gigabyte buffer and blocks nobody."""
    c = RespClient("127.0.0.1", node.port)
    other = RespClient("127.0.0.1", node.port)
    before = servers.info_int(other, "used_memory", "memory")
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"x" * 100000)
    assert not c.closed_by_server(0.3)
    assert other.call("PING") == ("+", b"PONG")
    assert other.call("SET", "x", "1") == ("+", b"OK")
    after = servers.info_int(other, "used_memory", "memory")
    assert after - before < 64 * 1024 * 1024, (before, after)
    c.close()
    other.close()


def test_pipeline_of_10000_commands_answered_in_order(node, redis_ref):
    n = 10000
    cmds = []
    for i in range(n):
        k = i % 4
        if k == 0:
            cmds.append(("SET", "key:%d" % i, "value:%d" % i))
        elif k == 1:
            cmds.append(("GET", "key:%d" % (i - 1)))
        elif k == 2:
            cmds.append(("ECHO", "echo:%d" % i))
        else:
            cmds.append(("GET", "missing:%d" % i))
    replies = {}
    for name, port in (("redis", redis_ref.port), ("node", node.port)):
        c = RespClient("127.0.0.1", port)
        replies[name] = servers.pipeline(c, cmds)
        assert c.call("DBSIZE") == (":", n // 4)
        c.close()
    assert replies["node"] == replies["redis"]
    for i, r in enumerate(replies["node"]):
        k = i % 4
        expect = [("+", b"OK"), ("$", b"value:%d" % (i - 1)), ("$", b"echo:%d" % i),
                  ("$", None)][k]
        assert r == expect, (i, r)


def test_pipeline_of_10000_inline_commands(node, redis_ref):
    data = b"".join(b"ECHO %d\r\n" % i for i in range(10000))
    expect = b"".join(b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(10000))
    for port in (redis_ref.port, node.port):
        c = RespClient("127.0.0.1", port)
        c.send_raw(data)
        got = b""
        while len(got) < len(expect):
            chunk = c.sock.recv(1 << 20)
            assert chunk, "connection closed after %d bytes" % len(got)
            got += chunk
        assert got == expect
        c.close()


def nothing_to_read(sock, wait=0.0):
    r, _, _ = select.select([sock], [], [], wait)
    return not r


def send_bytewise(port, data, n_replies):
    """Sends data one byte per write; no reply may arrive before the last
    byte; then reads n_replies replies."""
    c = RespClient("127.0.0.1", port)
    for i in range(len(data) - 1):
        c.send_raw(data[i:i + 1])
        assert nothing_to_read(c.sock), "reply after only %d of %d bytes" % (i + 1, len(data))
    assert nothing_to_read(c.sock, 0.1), "reply before the last byte"
    c.send_raw(data[-1:])
    replies = [c.read_reply() for _ in range(n_replies)]
    c.close()
    return replies


def test_request_split_into_single_bytes(node, redis_ref):
    value = bytes(range(256)) + b"\r\n$5\r\n*1\r\n"
    cases = [
        (pack("SET", "split", value), 1),
        (pack("GET", "split"), 1),
        (b"ECHO \"a b\\x00\"\r\n", 1),
    ]
    for data, n in cases:
        a = send_bytewise(redis_ref.port, data, n)
        b = send_bytewise(node.port, data, n)
        assert a == b, data
    assert b == [("$", b"a b\x00")]
    # The value read back byte for byte.
    c = RespClient("127.0.0.1", node.port)
    assert c.call("GET", "split") == ("$", value)
    c.close()


def test_pipeline_split_into_single_bytes(node, redis_ref):
    """Two requests whose bytes trickle in: the first is answered as soon as
    it is whole, before the second is."""
    first = pack("SET", "k", "v")
    second = pack("GET", "k")
    for port in (redis_ref.port, node.port):
        c = RespClient("127.0.0.1", port)
        for i in range(len(first)):
            c.send_raw(first[i:i + 1])
        assert c.read_reply() == ("+", b"OK")
        for i in range(len(second) - 1):
            c.send_raw(second[i:i + 1])
        assert nothing_to_read(c.sock, 0.1)
        c.send_raw(second[-1:])
        assert c.read_reply() == ("$", b"v")
        c.close()


def test_10mb_value_roundtrip(node, redis_ref):
    value = os.urandom(1024) * (10 * 1024)
    for port in (redis_ref.port, node.port):
        c = RespClient("127.0.0.1", port, timeout=30)
        assert c.call("SET", "big", value) == ("+", b"OK")
        assert c.call("GET", "big") == ("$", value)
        # And again in a pipeline with small commands around it.
        c.send_raw(pack("PING") + pack("SET", "big2", value) + pack("GET", "big2") + pack("PING"))
        assert [c.read_reply() for _ in range(4)] == [
            ("+", b"PONG"), ("+", b"OK"), ("$", value), ("+", b"PONG")]
        c.close()


def test_binary_keys_and_values_every_byte(node, redis_ref):
    all_bytes = bytes(range(256))
    cmds = []
    for b in range(256):
        key = bytes([b])
        cmds.append(("SET", key, all_bytes[b:] + all_bytes[:b]))
    cmds.append(("SET", all_bytes, all_bytes * 4))
    cmds.append(("SET", b"\r\n", b"\r\n"))
    cmds.append(("SET", b"", b""))
    gets = [("GET", c[1]) for c in cmds]
    results = {}
    for name, port in (("redis", redis_ref.port), ("node", node.port)):
        c = RespClient("127.0.0.1", port)
        assert servers.pipeline(c, cmds) == [("+", b"OK")] * len(cmds)
        results[name] = servers.pipeline(c, gets)
        assert c.call("DBSIZE") == (":", 256 + 3)
        c.close()
    assert results["node"] == results["redis"]
    assert results["node"] == [("$", c[2]) for c in cmds[:256]] + [
        ("$", all_bytes * 4), ("$", b"\r\n"), ("$", b"")]


# ---- before AUTH ----

UNAUTH = [
    ("mbulk_11_refused", b"*11\r\n"),
    ("mbulk_10_waits", b"*10\r\n"),
    ("mbulk_11_full_request_refused", pack(*(["PING"] + ["x"] * 10))),
    ("bulk_16385_refused", b"*2\r\n$16385\r\n"),
    ("bulk_16384_waits", b"*2\r\n$16384\r\n"),
    ("noauth_ping", b"PING\r\n"),
    ("noauth_get", pack("GET", "k")),
    ("noauth_then_auth_then_11", b"AUTH secret\r\n*11\r\n"),
    ("auth_multibulk_then_11_args", pack("AUTH", "default", "secret") + pack(
        *(["ECHO"] + ["x"] * 10))),
    ("wrong_pass_then_11", b"AUTH nope\r\n*11\r\n"),
    ("inline_long_line_unauth", b"ECHO " + b"y" * 20000 + b"\r\n"),
]


def test_unauthenticated_limits_like_redis(servers_set):
    ref = servers_set.redis("--requirepass", "secret")
    ours = servers_set.node("--requirepass", "secret")
    got, diffs = compare_exchanges(ref.port, ours.port, UNAUTH)
    assert not diffs, "%d of %d byte sequences answered differently:\n%s" % (
        len(diffs), len(UNAUTH), "\n".join(diffs))
    got = dict(zip([c[0] for c in UNAUTH], got))
    assert got["mbulk_11_refused"] == (
        b"-ERR Protocol error: unauthenticated multibulk length\r\n", True)
    assert got["bulk_16385_refused"] == (
        b"-ERR Protocol error: unauthenticated bulk length\r\n", True)
    assert got["noauth_then_auth_then_11"] == (b"+OK\r\n", False)
