"""slotcache-bench, the tool behind `make bench`: its numbers are only as good
as these properties.

- trace: the same seed gives the same file byte for byte, another seed
  another file; rank 1 (key <prefix>000000000001) is the most frequent key,
  at about its Zipf probability.
- fill: exactly N keys, every key key-size bytes, every value value-size bytes.
- readthrough: the server's hit ratio (INFO deltas) equals the client's, and
  both equal a sequential replay's: without maxmemory, the first request of
  each key misses and every later one hits, whatever the pipeline depth.

- run (the load generator): a seed fixes every connection's requests;
  hot-set, shifting, Zipf, scan and trace workloads have their shape; what
  --dry-run prints is what a run sends; the open loop holds its rate and
  times requests from their intended send (a stalled server shows in the
  latencies); against a plain node the server's hit ratio equals the
  client's; CSV and JSON are well formed and agree with each other; through
  a read-through proxy, --classify pass labels pass 1 misses and pass 2 hits
  and fails when the counters disagree; bad arguments exit 1 with a message.

Each runs against redis-server (the anchor the bench compares with) and
slotcache-node.
"""

import collections
import csv
import json
import os
import re
import signal
import subprocess
import time

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


# ---- run: the load generator ----

def run_report(out):
    """slotcache-bench run's stdout -> [{field: value} per pass line]."""
    return [report(line) for line in out.splitlines() if line.startswith(b"pass=")]


def dry(*args):
    """The requests a run would send: [(connection, command, key)]."""
    out = bench("run", "--dry-run", 1, *args).stdout.decode()
    return [tuple(line.split(" ")) for line in out.splitlines()]


def key_number(key):
    return int(key.split(":")[1])


@pytest.mark.parametrize("workload", [
    ["--workload", "zipf", "--alpha", "0.8"],
    ["--workload", "uniform"],
    ["--workload", "hotset", "--hot-requests", "70", "--hot-keys", "5"],
    ["--workload", "shifting", "--shift-every", "300"],
])
def test_run_workloads_are_seeded_and_repeatable(workload):
    args = ["--keys", 500, "--requests", 2000, "--write-ratio", "0.2"] + workload
    a = dry(*args, "--seed", 5, "--clients", 4)
    assert a == dry(*args, "--seed", 5, "--clients", 4)
    assert [r[1:] for r in a] != [r[1:] for r in dry(*args, "--seed", 6, "--clients", 4)]
    # request j goes to connection j mod C, and its key does not depend on C:
    # each connection sends the same requests in the same order every run
    assert [int(c) for c, _, _ in a] == [j % 4 for j in range(2000)]
    assert [r[1:] for r in a] == [r[1:] for r in dry(*args, "--seed", 5, "--clients", 1)]
    assert all(re.fullmatch(r"key:\d{12}", k) and 1 <= key_number(k) <= 500 for _, _, k in a)
    sets = sum(1 for _, cmd, _ in a if cmd == "SET")
    assert 300 < sets < 500  # 20% of 2000


def test_run_hotset_shape():
    keys, requests = 1000, 40000
    reqs = dry("--workload", "hotset", "--keys", keys, "--hot-keys", 10, "--hot-requests", 80,
               "--requests", requests)
    counts = collections.Counter(key_number(k) for _, _, k in reqs)
    hot = sum(n for k, n in counts.items() if k <= 100)
    assert abs(hot / requests - 0.80) < 0.015
    # uniform within each set: every hot key near 320 draws, cold keys near 8.9
    assert all(230 < counts[k] < 420 for k in range(1, 101))
    assert len([k for k in counts if k > 100]) > 850


def test_run_shifting_moves_the_hot_set():
    keys, every = 1000, 4000
    reqs = dry("--workload", "shifting", "--keys", keys, "--hot-keys", 5, "--hot-requests", 90,
               "--shift-every", every, "--requests", 4 * every)
    for w in range(4):
        window = [key_number(k) for _, _, k in reqs[w * every:(w + 1) * every]]
        hot = range(w * 50 + 1, w * 50 + 51)  # the hot set moves on by its size
        share = sum(1 for k in window if k in hot) / every
        assert abs(share - 0.90) < 0.03, (w, share)
        if w > 0:  # the previous window's hot keys are cold now
            old = range((w - 1) * 50 + 1, (w - 1) * 50 + 51)
            assert sum(1 for k in window if k in old) / every < 0.02


def test_run_zipf_rank_one_is_the_most_requested():
    keys, requests, alpha = 1000, 30000, 0.99
    counts = collections.Counter(k for _, _, k in dry("--workload", "zipf", "--keys", keys,
                                                      "--alpha", alpha, "--requests", requests))
    assert counts.most_common(1)[0][0] == "key:000000000001"
    p1 = 1.0 / sum(r ** -alpha for r in range(1, keys + 1))
    assert abs(counts["key:000000000001"] / requests - p1) < 0.1 * p1


def test_run_scan_key_file_and_trace(tmp_path):
    kepids = tmp_path / "kepids"
    kepids.write_text("10000000\n10000004\n10000008\n")
    assert dry("--workload", "scan", "--key-file", kepids, "--clients", 2) == [
        ("0", "GET", "koi:10000000"), ("1", "GET", "koi:10000004"), ("0", "GET", "koi:10000008")]
    assert [k for _, _, k in dry("--workload", "scan", "--key-file", kepids, "--keys", 2,
                                 "--key-prefix", "", "--requests", 3)] == [
        "10000000", "10000004", "10000000"]
    assert [k for _, _, k in dry("--workload", "scan", "--keys", 2,
                                 "--key-format", "user:%05d:x%%")] == [
        "user:00001:x%", "user:00002:x%"]
    path = trace(tmp_path, "t", keys=50, requests=300, seed=3)
    lines = path.read_text().split()
    assert [k for _, _, k in dry("--workload", "trace", "--trace", path, "--clients", 3)] == lines


def test_run_sends_what_dry_run_prints(server):
    s, c = server
    args = ["--workload", "uniform", "--keys", 3000, "--requests", 2000, "--write-ratio", 1,
            "--value-size", 7, "--seed", 11]
    written = {k for _, _, k in dry(*args)}
    out = run_report(bench("run", "--port", s.port, "--clients", 3, "--pipeline", 16,
                           *args).stdout)
    assert out[0]["sets"] == "2000" and out[0]["gets"] == "0"
    assert c.call("DBSIZE") == (":", len(written))
    k = sorted(written)[0]
    assert c.call("STRLEN", k) == (":", 7)


@pytest.mark.parametrize("loop", [["--pipeline", 1], ["--pipeline", 8], ["--rate", 20000]])
def test_run_hit_ratio_counters_equal_the_clients_count(server, loop, tmp_path):
    s, _ = server
    # a zipf mix of GETs and SETs: later GETs of a key written before hit
    path = tmp_path / "r.json"
    out = run_report(bench("run", "--port", s.port, "--keys", 500, "--requests", 6000,
                           "--write-ratio", "0.3", "--clients", 4, "--json", path,
                           *loop).stdout)[0]
    assert out["counters_agree"] == "1"
    assert (out["hits"], out["misses"]) == (out["client_hits"], out["client_nils"])
    assert int(out["hits"]) > 0 and int(out["misses"]) > 0
    assert out["hit_ratio"] == out["client_hit_ratio"]
    p = json.loads(path.read_text())["passes"][0]
    assert p["server"]["hit_ratio"] == p["client"]["hit_ratio"] == float(out["hit_ratio"])
    assert p["server"]["loads"] is None  # a node has no loader
    lat = p["latency_us"]
    assert lat["get_hit"]["count"] == int(out["hits"])
    assert lat["get_miss"]["count"] == int(out["misses"])
    assert lat["set"]["count"] == int(out["sets"]) == 6000 - int(out["gets"])


def test_run_csv_and_json_are_well_formed_and_agree(node, tmp_path):
    c, j = tmp_path / "r.csv", tmp_path / "r.json"
    bench("run", "--port", node.port, "--workload", "hotset", "--keys", 300, "--requests", 3000,
          "--write-ratio", "0.5", "--clients", 2, "--passes", 2, "--csv", c, "--json", j)
    rows = list(csv.DictReader(c.open()))
    doc = json.loads(j.read_text())
    assert doc["config"]["workload"] == "hotset" and doc["config"]["passes"] == 2
    assert doc["config"]["hot_keys"] == 30 and doc["config"]["loop"] == "closed"
    assert len(rows) == 2 and len(doc["passes"]) == 2
    for row, p in zip(rows, doc["passes"]):
        assert int(row["pass"]) == p["pass"]
        assert int(row["requests"]) == p["requests"] == 3000
        assert int(row["gets"]) + int(row["sets"]) == 3000
        assert float(row["hit_ratio"]) == p["server"]["hit_ratio"]
        assert row["loads"] == "" and p["server"]["loads"] is None
        for cls in ("get_hit", "get_miss", "set"):
            lat = p["latency_us"][cls]
            assert int(row[cls + "_count"]) == lat["count"]
            if lat["count"] == 0:
                continue
            values = [lat[q] for q in ("p50", "p90", "p99", "p999", "max")]
            assert values == sorted(values) and values[0] > 0
            assert [float(row["%s_%s_us" % (cls, q)]) for q in
                    ("p50", "p90", "p99", "p999", "max")] == values
    # pass 2 re-sends pass 1's requests: the keys written in pass 1 now hit
    assert doc["passes"][1]["server"]["hit_ratio"] > doc["passes"][0]["server"]["hit_ratio"]


def test_run_open_loop_holds_its_rate(node):
    rate, requests = 2000, 3000
    p = bench("run", "--port", node.port, "--workload", "uniform", "--keys", 100,
              "--requests", requests, "--clients", 4, "--rate", rate, "--progress", 1)
    out = run_report(p.stdout)[0]
    # request j is due at j / rate: the last at 1.4995 s, so the run lasts
    # that long at least and, on a server this fast, not much longer
    assert 1.49 < float(out["seconds"]) < 1.5 * 1.1
    assert abs(float(out["throughput"]) - rate) < 0.1 * rate
    assert out["requests"] == str(requests)
    assert b"\rpass 1: " in p.stderr  # the progress line


def test_run_open_loop_counts_a_stall_from_the_intended_send(node):
    """Coordinated omission: requests due while the server is stopped are
    timed from when they were due, so a 300 ms stall at 1000 requests/s
    puts about 300 requests between 0 and 300 ms late."""
    argv = [BENCH, "run", "--port", str(node.port), "--workload", "uniform", "--keys", 100,
            "--requests", 2000, "--rate", 1000, "--json", "/dev/stdout"]
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)  # not a wait for the server: the stall comes mid-run
        os.kill(node.pid, signal.SIGSTOP)
        time.sleep(0.3)
    finally:
        os.kill(node.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out[out.index(b'{"config"'):])
    lat = doc["passes"][0]["latency_us"]["get_miss"]  # nothing was written: all nil
    assert lat["count"] == 2000
    assert lat["max"] > 250000
    assert lat["p90"] > 20000  # ~15% of the requests were due during the stall


def test_run_classify_pass_fails_on_a_warm_cache(node):
    args = ["--port", node.port, "--workload", "scan", "--keys", 200]
    bench("run", *args, "--write-ratio", 1)  # every key cached
    p = bench("run", *args, "--passes", 2, "--classify", "pass", check=False)
    assert p.returncode == 1
    assert b"pass 1 was to be all misses, but the server counted 200 hits" in p.stderr


@pytest.fixture(scope="module")
def readthrough_stack():
    """PostgreSQL with 3000 rows, a loader, three nodes and a partitioned
    proxy with `loader` (the stack of test_readthrough.py)."""
    from loader_client import LoaderProcess, PgCluster, DATA_LOAD
    from topology import Topology
    pg = PgCluster()
    loader = topo = None
    try:
        pg.load_rows(3000)
        loader = LoaderProcess(pg.conninfo())
        loader.wait_connected(1)
        topo = Topology("partitioned", 3, extra=("loader 127.0.0.1:%d" % loader.port,))
        port = topo.proxy.port
        servers.wait_until(lambda: b"loader_routes:1" in RespClient("127.0.0.1", port).call(
            "INFO", "loader")[1], timeout=20, what="the proxy learned the routes")
        kepids = subprocess.run([DATA_LOAD, "--print-keys", "3000"], check=True,
                                capture_output=True, text=True).stdout.split()
        yield port, kepids
    finally:
        if topo is not None:
            topo.stop()
        if loader is not None:
            loader.stop()
        pg.destroy()


def test_run_classify_pass_through_a_read_through_proxy(readthrough_stack, tmp_path):
    port, kepids = readthrough_stack
    keys = tmp_path / "kepids"
    keys.write_text("\n".join(kepids[:1000]) + "\n")
    j = tmp_path / "r.json"
    args = ["--port", port, "--workload", "scan", "--key-file", keys, "--clients", 8,
            "--passes", 2, "--classify", "pass"]
    out = run_report(bench("run", *args, "--json", j).stdout)
    miss, hit = json.loads(j.read_text())["passes"]
    # every GET of pass 1 missed and was loaded (the client saw rows, not nils)
    assert miss["server"] == {"hits": 0, "misses": 1000, "hit_ratio": 0.0, "loads": 1000}
    assert miss["client"]["nils"] == 0 and out[0]["counters_agree"] == "0"
    assert miss["latency_us"]["get_miss"]["count"] == 1000
    assert miss["latency_us"]["get_hit"]["count"] == 0
    assert hit["server"] == {"hits": 1000, "misses": 0, "hit_ratio": 1.0, "loads": 0}
    assert hit["latency_us"]["get_hit"]["count"] == 1000
    # the same keys again are cached: pass 1 is not all misses any more
    p = bench("run", *args, check=False)
    assert p.returncode == 1 and b"pass 1 was to be all misses" in p.stderr


@pytest.mark.parametrize("args,message", [
    (["--workload", "nosuch"], b"unknown --workload 'nosuch'"),
    (["--classify", "latency"], b"unknown --classify"),
    (["--workload", "uniform", "--alpha", "1"], b"--alpha applies to --workload zipf only"),
    (["--hot-keys", "5"], b"--hot-keys applies to"),
    (["--workload", "hotset", "--shift-every", "5"], b"--shift-every applies to"),
    (["--workload", "hotset", "--hot-requests", "101"], b"--hot-requests: expected a number"),
    (["--workload", "trace"], b"--workload trace needs --trace FILE"),
    (["--workload", "trace", "--trace", "/dev/null", "--keys", "5"], b"--keys applies to"),
    (["--trace", "/dev/null"], b"--trace applies to --workload trace only"),
    (["--key-file", "/nonexistent/keys"], b"cannot open key file /nonexistent/keys"),
    (["--key-format", "k:%s"], b"--key-format 'k:%s'"),
    (["--key-format", "k:%d:%d"], b"--key-format"),
    (["--key-format", "k"], b"has no %d"),
    (["--key-prefix", "x:"], b"--key-prefix applies to --key-file only"),
    (["--rate", "100", "--pipeline", "4"], b"--pipeline is for the closed loop"),
    (["--rate", "0"], b"--rate: expected a number"),
    (["--clients", "0"], b"--clients: expected an integer"),
    (["--clients", "100000"], b"--clients: expected an integer"),
    (["--write-ratio", "1.5"], b"--write-ratio"),
    (["--classify", "pass"], b"--classify pass labels pass 1's GETs misses"),
    (["--workload", "scan", "--classify", "pass", "--passes", "2", "--requests", "20000"],
     b"--classify pass labels"),
    (["--dry-run", "1", "--duration", "2"], b"--dry-run needs a number of --requests"),
    (["--csv", "/nonexistent/dir/x.csv"], b"cannot write /nonexistent/dir/x.csv"),
    (["--requests"], b"--requests needs a value"),
])
def test_run_bad_arguments_exit_1_with_a_message(args, message):
    p = bench("run", "--port", 1, *args, check=False)
    assert p.returncode == 1
    assert message in p.stderr, p.stderr
    assert p.stdout == b""


def test_run_unreachable_server_is_a_clear_error(tmp_path):
    port = servers.free_port()
    c = tmp_path / "r.csv"
    p = bench("run", "--port", port, "--requests", 10, "--csv", c, check=False)
    assert p.returncode == 1
    assert b"cannot connect to 127.0.0.1:%d" % port in p.stderr
    assert p.stdout == b""
