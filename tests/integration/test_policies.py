"""The eviction policies beyond redis's -- allkeys-/volatile- sieve, s3fifo and
wtinylfu -- and the exact LFU, as a user sees them on a running node: set with
CONFIG SET, they keep used_memory under maxmemory, evict, keep the keys a
skewed workload reads, and beat LRU's hit ratio on a Zipf read-through.

Also slotcache-bench's offline side: `replay` agrees with a brute-force LRU
and Belady written here, and `trace --shift` moves the hot set as it says.
"""

import collections
import os
import subprocess

import pytest

import servers
import test_eviction as ev
from resp_client import RespClient

NEW = ["allkeys-sieve", "allkeys-s3fifo", "allkeys-wtinylfu",
       "volatile-sieve", "volatile-s3fifo", "volatile-wtinylfu"]
EXACT = ["allkeys-lru", "allkeys-lfu"]
BENCH = os.path.join(servers.BIN_DIR, "slotcache-bench")


def bench(*args, stdout=subprocess.PIPE):
    p = subprocess.run([BENCH] + [str(a) for a in args], stdout=stdout, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p


def fields(line):
    return dict(w.split("=", 1) for w in line.split())


# ---- on a running node ----

@pytest.mark.parametrize("policy", NEW + EXACT)
def test_keeps_used_memory_under_maxmemory(node_client, policy):
    c = node_client
    limit = ev.limit_memory(c, policy)
    ttl = 3600 if policy.startswith("volatile-") else None
    n = 3 * ev.ROOM // ev.VALUE_SIZE
    keys = ["key:%05d" % i for i in range(n)]
    replies = ev.write(c, [ev.set_cmd(k, ttl) for k in keys], limit)
    assert replies == [("+", b"OK")] * n
    assert servers.info(c, "memory")["maxmemory_policy"] == policy
    evicted = ev.stat(c, "evicted_keys")
    nkeys, _ = ev.keyspace(c)
    assert evicted > 0 and nkeys == n - evicted and 0 < nkeys < n
    assert ev.used(c) <= limit + ev.TOLERANCE
    # The newest key is there, and every value left is whole.
    assert c.call("GET", keys[-1]) == ("$", ev.value_of(keys[-1]))
    ev.freeze(c)
    assert len(ev.present(c, keys)) == nkeys


@pytest.mark.parametrize("policy", [p for p in NEW if p.startswith("allkeys-")] + EXACT)
def test_keeps_the_keys_a_skewed_workload_reads(node_client, policy):
    """100 hot keys read between every 200 writes of keys never read again:
    the hot keys stay, the old cold ones go."""
    c = node_client
    limit = ev.limit_memory(c, policy)
    hot = ["hot:%03d" % i for i in range(100)]
    cold = ["cold:%05d" % i for i in range(1000)]
    ev.write(c, [ev.set_cmd(k) for k in hot + cold], limit)
    new = ["new:%05d" % i for i in range(3 * ev.ROOM // ev.VALUE_SIZE)]
    for i in range(0, len(new), 200):
        for _ in range(2):
            got = servers.pipeline(c, [("GET", k) for k in hot])
            assert got == [("$", ev.value_of(k)) for k in hot], "a hot key was evicted"
        ev.write(c, [ev.set_cmd(k) for k in new[i:i + 200]], limit)
    assert ev.stat(c, "evicted_keys") > len(cold)
    assert ev.used(c) <= limit + ev.TOLERANCE
    ev.freeze(c)
    assert ev.present(c, hot) == set(hot)
    assert len(ev.present(c, cold)) < len(cold) // 10


@pytest.mark.parametrize("policy", [p for p in NEW if p.startswith("volatile-")])
def test_volatile_never_evicts_keys_without_ttl(node_client, policy):
    ev.test_volatile_policies_never_evict_keys_without_ttl(node_client, policy)


def test_switching_between_every_policy_while_full(node_client):
    c = node_client
    limit = ev.limit_memory(c, "allkeys-lru")
    n = 0
    for policy in NEW + EXACT + ["allkeys-random", "volatile-lru", "allkeys-wtinylfu"]:
        assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
        ttl = 3600 if policy.startswith("volatile-") else None
        cmds = [ev.set_cmd("k:%06d" % (n + i), ttl) for i in range(800)]
        assert ev.write(c, cmds, limit) == [("+", b"OK")] * len(cmds), policy
        n += len(cmds)
        assert ev.used(c) <= limit + ev.TOLERANCE
    assert ev.stat(c, "evicted_keys") > 0
    assert c.call("FLUSHALL") == ("+", b"OK")
    assert ev.write(c, [ev.set_cmd("after:%d" % i) for i in range(100)], limit) == \
        [("+", b"OK")] * 100


def test_config_error_lists_redis_policies_then_ours(node, redis_ref):
    errs = []
    for port in (redis_ref.port, node.port):
        c = RespClient("127.0.0.1", port)
        t, msg = c.call("CONFIG", "SET", "maxmemory-policy", "bogus")
        assert t == "-"
        errs.append(msg.decode())
        c.close()
    want = errs[0] + ", volatile-sieve, allkeys-sieve, volatile-s3fifo, allkeys-s3fifo, " \
        "volatile-wtinylfu, allkeys-wtinylfu"
    assert errs[1] == want


def test_object_freq_still_answers_like_redis(node, redis_ref):
    seen = []
    for port in (redis_ref.port, node.port):
        c = RespClient("127.0.0.1", port)
        steps = [c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
                 c.call("SET", "f", "v"), c.call("OBJECT", "FREQ", "f"),
                 c.call("GET", "f"), c.call("OBJECT", "FREQ", "f"),
                 c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-wtinylfu")]
        seen.append(steps)
        c.close()
    assert seen[1][:5] == seen[0][:5]
    assert seen[1][2] == (":", 5) and seen[1][4] == (":", 6)


def test_new_policies_beat_lru_on_a_zipf_read_through(tmp_path, node):
    """The node holds about 600 of 5,000 keys; on a Zipf(0.99) read-through
    the frequency-aware policies hit more often than exact LRU."""
    path = tmp_path / "zipf.txt"
    with open(path, "wb") as f:
        bench("trace", "--keys", 5000, "--requests", 60000, "--zipf", 0.99, "--seed", 3,
              stdout=f)
    c = RespClient("127.0.0.1", node.port)
    ratios = {}
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-sieve", "allkeys-s3fifo",
                   "allkeys-wtinylfu"]:
        assert c.call("FLUSHALL") == ("+", b"OK")
        assert c.call("CONFIG", "SET", "maxmemory", "0") == ("+", b"OK")
        assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
        assert c.call("CONFIG", "SET", "maxmemory", str(ev.used(c) + 600 * 180)) == ("+", b"OK")
        out = fields(bench("readthrough", "--port", node.port, "--trace", path,
                           "--pipeline", 1).stdout.decode())
        ratios[policy] = float(out["hit_ratio"])
        assert ev.stat(c, "evicted_keys") > 0
    c.close()
    for policy, r in ratios.items():
        if policy != "allkeys-lru":
            assert r > ratios["allkeys-lru"] + 0.01, ratios


# ---- slotcache-bench replay and trace --shift ----

def brute_lru(keys, cap):
    held, hits = collections.OrderedDict(), 0
    for k in keys:
        if k in held:
            hits += 1
            held.move_to_end(k)
            continue
        held[k] = True
        if len(held) > cap:
            held.popitem(last=False)
    return hits


def brute_opt(keys, cap):
    """Belady: after a miss, of the keys held (the new one too) drop the one
    needed again furthest in the future (or never)."""
    nxt, last = [0] * len(keys), {}
    for i in range(len(keys) - 1, -1, -1):
        nxt[i] = last.get(keys[i], len(keys))
        last[keys[i]] = i
    held, hits = {}, 0
    for i, k in enumerate(keys):
        if k in held:
            hits += 1
        held[k] = nxt[i]
        if len(held) > cap:
            del held[max(held, key=held.get)]
    return hits


@pytest.mark.parametrize("cap", [1, 7, 60, 250])
def test_replay_agrees_with_brute_force(tmp_path, cap):
    path = tmp_path / "t.txt"
    with open(path, "wb") as f:
        bench("trace", "--keys", 400, "--requests", 8000, "--zipf", 0.8, "--seed", cap,
              stdout=f)
    keys = path.read_bytes().split()
    lines = bench("replay", "--trace", path, "--capacity-keys", cap, "--policy", "lru-exact",
                  "--policy", "opt", "--policy", "allkeys-lru", "--policy", "allkeys-wtinylfu",
                  "--policy", "volatile-sieve").stdout.decode().splitlines()
    got = {fields(line)["policy"]: fields(line) for line in lines}
    assert list(got) == ["lru-exact", "opt", "allkeys-lru", "allkeys-wtinylfu", "volatile-sieve"]
    assert int(got["lru-exact"]["hits"]) == brute_lru(keys, cap)
    assert int(got["allkeys-lru"]["hits"]) == brute_lru(keys, cap)
    assert int(got["opt"]["hits"]) == brute_opt(keys, cap)
    for f in got.values():
        assert int(f["requests"]) == len(keys)
        assert int(f["hits"]) + int(f["misses"]) == len(keys)
        assert abs(float(f["hit_ratio"]) - int(f["hits"]) / len(keys)) < 1e-4
        assert int(f["hits"]) <= int(got["opt"]["hits"])


def test_replay_rejects_what_it_cannot_run(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"a\nb\n")
    for args in (["--policy", "noeviction"], ["--policy", "bogus"], []):
        p = subprocess.run([BENCH, "replay", "--trace", str(path)] + args +
                           (["--capacity-keys", "1"] if args else []), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 1 and p.stdout == b""
    p = subprocess.run([BENCH, "replay", "--trace", str(tmp_path / "missing"),
                        "--capacity-keys", "1"], stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 1 and b"cannot open trace" in p.stderr


def test_trace_shift_moves_the_hot_set(tmp_path):
    """Every 2,000 requests the 10 most popular of 100 keys become the least
    popular: the most requested key of each block is rank 1's key of that
    block, 10 keys further on each time."""
    out = bench("trace", "--keys", 100, "--requests", 10000, "--zipf", 1.2, "--shift", 2000,
                "--shift-by", 10).stdout.split()
    for block in range(5):
        top = collections.Counter(out[block * 2000:(block + 1) * 2000]).most_common(1)[0][0]
        assert top == b"key:%012d" % (1 + 10 * block)
    plain = bench("trace", "--keys", 100, "--requests", 10000, "--zipf", 1.2).stdout.split()
    assert out[:2000] == plain[:2000] and out[2000:] != plain[2000:]
