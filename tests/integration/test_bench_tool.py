"""slotcache-bench, the tool behind `make bench`: its numbers are only as good
as these properties.

- trace: the same seed gives the same file byte for byte, another seed
  another file; rank 1 (key <prefix>000000000001) is the most frequent key,
  at about its Zipf probability.
- fill: exactly N keys, every key key-size bytes, every value value-size bytes.
- readthrough: the server's hit ratio (INFO deltas) equals the client's, and
  both equal a sequential replay's: without maxmemory, the first request of
  each key misses and every later one hits, whatever the pipeline depth.

Each runs against redis-server (the anchor the bench compares with) and
slotcache-node.
"""

import collections
import os
import re
import subprocess

import pytest

import servers
from resp_client import RespClient

BENCH = os.path.join(servers.BIN_DIR, "slotcache-bench")


def bench(*args, check=True, stdout=subprocess.PIPE):
    p = subprocess.run([BENCH] + [str(a) for a in args], stdout=stdout, stderr=subprocess.PIPE,
                       timeout=120)
    if check:
        assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p


def report(line):
    """'a=1 b=0.5' -> {'a': '1', 'b': '0.5'}"""
    return dict(w.split("=", 1) for w in line.decode().split())


def trace(tmp_path, name, keys=1000, requests=20000, zipf=0.99, seed=1, prefix=None):
    path = tmp_path / name
    extra = ["--prefix", prefix] if prefix is not None else []
    with open(path, "wb") as f:
        bench("trace", "--keys", keys, "--requests", requests, "--zipf", zipf, "--seed", seed,
              *extra, stdout=f)
    return path


@pytest.fixture(params=["redis", "node"])
def server(request):
    s = request.getfixturevalue("redis_ref" if request.param == "redis" else "node")
    c = RespClient("127.0.0.1", s.port)
    assert c.call("FLUSHALL") == ("+", b"OK")
    yield s, c
    c.close()


def test_trace_is_deterministic(tmp_path):
    a = trace(tmp_path, "a", seed=42).read_bytes()
    b = trace(tmp_path, "b", seed=42).read_bytes()
    c = trace(tmp_path, "c", seed=43).read_bytes()
    assert a == b
    assert a != c
    lines = a.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 20001
    assert all(re.fullmatch(rb"key:\d{12}", k) for k in lines[:-1])
    assert all(1 <= int(k[4:]) <= 1000 for k in lines[:-1])


def test_trace_prefix(tmp_path):
    lines = trace(tmp_path, "p", requests=10, prefix="user:").read_bytes().split()
    assert len(lines) == 10 and all(re.fullmatch(rb"user:\d{12}", k) for k in lines)


def test_trace_is_zipf_skewed(tmp_path):
    keys, requests, alpha = 1000, 50000, 0.99
    counts = collections.Counter(trace(tmp_path, "t", keys, requests, alpha).read_bytes().split())
    ranked = [k for k, _ in counts.most_common()]
    assert ranked[0] == b"key:000000000001"
    assert counts[b"key:000000000001"] > counts[b"key:000000000002"] > counts[b"key:000000000010"]
    # rank 1's share is 1/H(N, alpha): about 13% here; 50000 draws put it within 5%.
    p1 = 1.0 / sum(r ** -alpha for r in range(1, keys + 1))
    assert abs(counts[b"key:000000000001"] / requests - p1) < 0.05 * p1


def test_trace_uniform_when_alpha_is_zero(tmp_path):
    counts = collections.Counter(trace(tmp_path, "u", 10, 20000, 0).read_bytes().split())
    assert len(counts) == 10
    assert all(1700 < n < 2300 for n in counts.values())


def test_fill_writes_exact_keys_and_sizes(server):
    s, c = server
    out = report(bench("fill", "--port", s.port, "--keys", 1500, "--key-size", 20,
                       "--value-size", 37, "--pipeline", 64).stdout)
    assert out["keys"] == "1500"
    assert c.call("DBSIZE") == (":", 1500)
    t, keys = c.call("KEYS", "*")
    assert t == "*" and len(keys) == 1500 and len(set(keys[i][1] for i in range(1500))) == 1500
    assert {len(k[1]) for k in keys} == {20}
    for k in keys[:50]:
        assert c.call("STRLEN", k[1]) == (":", 37)


def test_fill_rejects_keys_too_short_for_n():
    p = bench("fill", "--port", 1, "--keys", 1000, "--key-size", 2, check=False)
    assert p.returncode == 1
    assert b"key-size" in p.stderr


@pytest.mark.parametrize("pipeline", [1, 32, 1000])
def test_readthrough_counts_match_a_sequential_replay(server, tmp_path, pipeline):
    s, c = server
    path = trace(tmp_path, "rt", keys=500, requests=6000, seed=7)
    keys = path.read_bytes().split()
    # sequential replay against an unbounded cache: a key's first GET misses
    misses = len(set(keys))
    hits = len(keys) - misses
    out = report(bench("readthrough", "--port", s.port, "--trace", path, "--value-size", 10,
                       "--pipeline", pipeline).stdout)
    assert int(out["requests"]) == len(keys)
    assert (int(out["hits"]), int(out["misses"])) == (hits, misses)
    assert (int(out["client_hits"]), int(out["client_misses"])) == (hits, misses)
    assert out["hit_ratio"] == out["client_hit_ratio"] == "%.4f" % (hits / len(keys))
    assert out["errors"] == "0"
    assert c.call("DBSIZE") == (":", misses)
    assert c.call("STRLEN", keys[0]) == (":", 10)


def test_readthrough_second_pass_hits_everything(server, tmp_path):
    s, _ = server
    path = trace(tmp_path, "rt2", keys=200, requests=2000, seed=9)
    bench("readthrough", "--port", s.port, "--trace", path)
    out = report(bench("readthrough", "--port", s.port, "--trace", path).stdout)
    assert out["misses"] == "0" and out["hit_ratio"] == "1.0000"


def test_unreachable_server_is_a_clear_error(tmp_path):
    path = trace(tmp_path, "x", requests=10)
    port = servers.free_port()
    for args in (["readthrough", "--port", port, "--trace", path], ["fill", "--port", port,
                                                                   "--keys", 10]):
        p = bench(*args, check=False)
        assert p.returncode == 1
        assert b"cannot connect to 127.0.0.1:%d" % port in p.stderr
        assert p.stdout == b""


@pytest.mark.parametrize("args", [
    [],
    ["nosuch"],
    ["trace", "--keys", "10", "--requests", "10"],
    ["trace", "--keys", "0", "--requests", "10", "--zipf", "1"],
    ["trace", "--keys", "10", "--requests", "10", "--zipf", "abc"],
    ["trace", "--keys", "10", "--requests", "10", "--zipf", "1", "--bogus", "1"],
    ["trace", "--keys", "10", "--requests"],
    ["readthrough", "--port", "1"],
    ["readthrough", "--trace", "/nonexistent/trace", "--port", "1"],
    ["fill", "--keys", "10", "--port", "70000"],
])
def test_bad_arguments_exit_1_with_a_message(args):
    p = bench(*args, check=False)
    assert p.returncode == 1
    assert p.stderr.strip() != b""
