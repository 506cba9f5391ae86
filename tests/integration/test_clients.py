"""Real clients against slotcache-node: redis-py (Debian's python3-redis),
redis-cli and redis-benchmark (redis-tools), used as their users use them.
"""

import os
import re
import subprocess
import tempfile

import pytest
import redis

import servers
from resp_client import RespClient


def rp(server, **kw):
    return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10, **kw)


def cli(server, *args, stdin=None):
    r = subprocess.run(["redis-cli", "-p", str(server.port)] + list(args), input=stdin,
                       capture_output=True, timeout=60)
    return r


# ---- redis-py ----

def test_redis_py_plain_commands(node):
    r = rp(node)
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True) is True
    assert r.set("k", "old", get=True) == b"w"
    assert r.set("ttl", "x", ex=100) is True
    assert r.set("pttl", "x", px=100000) is True
    assert r.echo("hello") == b"hello"
    assert r.dbsize() == 3
    assert r.execute_command("SELECT", 0) is True
    with pytest.raises(redis.exceptions.ResponseError, match="unknown command"):
        r.execute_command("NOSUCHCOMMAND", "a")
    with pytest.raises(redis.exceptions.ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    assert r.flushall() is True
    assert r.dbsize() == 0
    r.close()


def test_redis_py_decode_responses_and_binary(node):
    r = rp(node, decode_responses=True)
    assert r.set("naïve", "café ☕") is True
    assert r.get("naïve") == "café ☕"
    assert r.echo("x") == "x"
    b = rp(node)
    blob = bytes(range(256)) * 10
    assert b.set(b"\x00\xff", blob) is True
    assert b.get(b"\x00\xff") == blob
    assert b.get("naïve") == "café ☕".encode()
    r.close()
    b.close()


def test_redis_py_pipelines(node):
    r = rp(node)
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set("p:%d" % i, i)
    for i in range(1000):
        p.get("p:%d" % i)
    res = p.execute()
    assert res[:1000] == [True] * 1000
    assert res[1000:] == [str(i).encode() for i in range(1000)]
    # A transaction: MULTI ... EXEC, replies in order.
    with r.pipeline(transaction=True) as t:
        t.set("t", "1").get("t").set("t", "2", get=True).get("t")
        assert t.execute() == [True, b"1", b"1", b"2"]
    # An error inside the transaction is returned in place, the rest runs.
    with r.pipeline(transaction=True) as t:
        t.set("u", "1").execute_command("SET", "u")
        with pytest.raises(redis.exceptions.ResponseError):
            t.execute()
    assert r.get("u") is None  # queued with a wrong arity: EXECABORT, nothing ran
    assert r.dbsize() == 1001
    r.close()


def test_redis_py_watch_conflict_raises_watch_error(node):
    r = rp(node)
    other = rp(node)
    r.set("balance", 10)
    with r.pipeline() as p:
        p.watch("balance")
        current = int(p.get("balance"))
        other.set("balance", 999)  # someone else changes it meanwhile
        p.multi()
        p.set("balance", current + 1)
        with pytest.raises(redis.exceptions.WatchError):
            p.execute()
    assert r.get("balance") == b"999"
    # Without interference the same transaction goes through.
    with r.pipeline() as p:
        p.watch("balance")
        current = int(p.get("balance"))
        p.multi()
        p.set("balance", current + 1)
        assert p.execute() == [True]
    assert r.get("balance") == b"1000"
    # The transaction helper retries until it wins.
    calls = []

    def incr(pipe):
        v = int(pipe.get("balance"))
        if not calls:
            other.set("balance", 5)
        calls.append(v)
        pipe.multi()
        pipe.set("balance", v + 1)

    r.transaction(incr, "balance")
    assert calls == [1000, 5]
    assert r.get("balance") == b"6"
    r.close()
    other.close()


def test_redis_py_info_and_config(node):
    r = rp(node)
    r.set("a", "1")
    r.set("b", "2", ex=100)
    info = r.info()
    assert isinstance(info["used_memory"], int) and info["used_memory"] > 0
    assert info["db0"] == {"keys": 2, "expires": 1, "avg_ttl": info["db0"]["avg_ttl"]}
    assert info["connected_clients"] >= 1
    assert info["maxmemory_policy"] == "noeviction"
    assert re.match(r"^\d+\.\d+\.\d+$", str(info["redis_version"]))
    for section in ("server", "clients", "memory", "stats", "keyspace"):
        assert r.info(section), section
    stats = r.info("stats")
    before = stats["keyspace_hits"], stats["keyspace_misses"]
    r.get("a")
    r.get("nope")
    stats = r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (before[0] + 1, before[1] + 1)
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_set("maxmemory", "100mb") is True
    assert r.config_get("maxmemory") == {"maxmemory": str(100 * 1024 * 1024)}
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    assert r.config_get("maxmemory-*")["maxmemory-policy"] == "allkeys-lru"
    assert r.info("memory")["maxmemory_policy"] == "allkeys-lru"
    everything = r.config_get()
    assert everything["maxmemory"] == str(100 * 1024 * 1024) and "timeout" in everything
    with pytest.raises(redis.exceptions.ResponseError):
        r.config_set("maxmemory-policy", "sometimes")
    assert r.client_id() > 0
    assert r.client_setname("me") is True
    assert r.client_getname() == "me"
    assert any(c["name"] == "me" for c in r.client_list())
    r.close()


def test_redis_py_scan_iter_each_key_once(node):
    r = rp(node)
    c = RespClient("127.0.0.1", node.port)
    probe = c.call("SCAN", "0")
    c.close()
    if probe[0] == "-" and b"unknown command" in probe[1]:
        pytest.skip("the node has no SCAN command yet")
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.set("scan:%05d" % i, i)
    p.execute()
    seen = list(r.scan_iter(count=100))
    assert len(seen) == len(set(seen)) == 10000
    assert set(seen) == {("scan:%05d" % i).encode() for i in range(10000)}
    matched = list(r.scan_iter(match="scan:0001*", count=1000))
    assert sorted(matched) == [("scan:0001%d" % i).encode() for i in range(10)]
    r.close()


# ---- redis-cli ----

def test_redis_cli_commands(node):
    assert cli(node, "SET", "k", "v").stdout == b"OK\n"
    assert cli(node, "GET", "k").stdout == b"v\n"
    assert cli(node, "--raw", "GET", "k").stdout == b"v\n"
    assert cli(node, "--no-raw", "GET", "k").stdout == b'"v"\n'
    assert cli(node, "--no-raw", "GET", "missing").stdout == b"(nil)\n"
    assert cli(node, "SET", "bin", "a\nb").stdout == b"OK\n"
    assert cli(node, "--raw", "GET", "bin").stdout == b"a\nb\n"
    assert cli(node, "--no-raw", "GET", "bin").stdout == b'"a\\nb"\n'
    assert cli(node, "DBSIZE").stdout == b"2\n"
    r = cli(node, "NOSUCH", "x")
    assert r.stdout.startswith(b"ERR unknown command 'NOSUCH'")
    r = cli(node, "INFO", "keyspace")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "# Keyspace"
    assert lines[1] == "db0:keys=2,expires=0,avg_ttl=0"
    r = cli(node, "INFO", "server")
    assert "redis_version:" in r.stdout.decode() and "tcp_port:%d" % node.port in r.stdout.decode()
    # Commands on stdin, one a line.
    r = cli(node, stdin=b"SET a 1\nGET a\nPING\n")
    assert r.stdout == b"OK\n1\nPONG\n"


def test_redis_cli_pipe_mode_10000_sets(node):
    d = tempfile.mkdtemp(prefix="sc-pipe-")
    path = os.path.join(d, "sets.resp")
    with open(path, "wb") as f:
        for i in range(10000):
            f.write(RespClient.pack("SET", "pipe:%05d" % i, "value-%d" % i))
    with open(path, "rb") as f:
        r = subprocess.run(["redis-cli", "-p", str(node.port), "--pipe"], stdin=f,
                           capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert r.returncode == 0, (out, r.stderr)
    assert "errors: 0, replies: 10000" in out, out
    c = RespClient("127.0.0.1", node.port)
    assert c.call("DBSIZE") == (":", 10000)
    assert c.call("GET", "pipe:09999") == ("$", b"value-9999")
    c.close()


def test_redis_cli_pipe_mode_counts_errors(node):
    data = b"SET a 1\r\n" + RespClient.pack("GET") + RespClient.pack("NOSUCH") + b"GET a\r\n"
    r = subprocess.run(["redis-cli", "-p", str(node.port), "--pipe"], input=data,
                       capture_output=True, timeout=60)
    assert "errors: 2, replies: 4" in r.stdout.decode(), r.stdout


# ---- redis-benchmark ----

def test_redis_benchmark_short_run(node):
    servers.redis_benchmark(node.port, 20000)
    c = RespClient("127.0.0.1", node.port)
    # redis-benchmark writes one key (no -r) with a 3-byte value.
    t, v = c.call("GET", "key:__rand_int__")
    assert t == "$" and len(v) == 3
    assert c.call("DBSIZE") == (":", 1)
    stats = servers.info(c, "commandstats")
    for cmd in ("set", "get"):
        f = dict(kv.split("=") for kv in stats["cmdstat_" + cmd].split(","))
        assert int(f["calls"]) >= 20000 and f["failed_calls"] == "0", (cmd, f)
    c.close()
