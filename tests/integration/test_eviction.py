"""maxmemory and expiry as a user sees them: INFO's used_memory,
evicted_keys and expired_keys, the OOM error, and which keys are still
there afterwards.

Each eviction test gives the node a limit a couple of megabytes above what it
uses when empty (CONFIG SET maxmemory), writes several times that, and looks.
"""

import random
import time

import pytest

import servers
from resp_client import RespClient

POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
            "volatile-lfu", "volatile-random", "volatile-ttl"]
VOLATILE = [p for p in POLICIES if p.startswith("volatile-")]
OOM = b"OOM command not allowed when used memory > 'maxmemory'."

VALUE_SIZE = 1000
ROOM = 2 * 1024 * 1024      # maxmemory = used_memory when empty + ROOM
TOLERANCE = 64 * 1024       # one value and the bookkeeping of one command
BATCH = 100                 # commands per pipelined write


def used(c):
    return servers.info_int(c, "used_memory", "memory")


def stat(c, name):
    return servers.info_int(c, name, "stats")


def keyspace(c):
    """(keys, keys with a TTL) from INFO keyspace."""
    db0 = servers.info(c, "keyspace").get("db0")
    if db0 is None:
        return 0, 0
    f = dict(kv.split("=") for kv in db0.split(","))
    return int(f["keys"]), int(f["expires"])


def limit_memory(c, policy, room=ROOM):
    """Sets the policy and a maxmemory room bytes above the current use;
    returns the limit."""
    assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
    limit = used(c) + room
    assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
    return limit


def set_cmd(key, ttl=None, size=VALUE_SIZE):
    cmd = ("SET", key, ("%s:" % key).encode().ljust(size, b"."))
    return cmd + ("EX", str(ttl)) if ttl is not None else cmd


def value_of(key, size=VALUE_SIZE):
    return ("%s:" % key).encode().ljust(size, b".")


def write(c, cmds, limit=None):
    """Writes cmds in pipelined batches; after each batch, if limit is given,
    used_memory must be within it.  Returns every reply."""
    replies = []
    for i in range(0, len(cmds), BATCH):
        replies += servers.pipeline(c, cmds[i:i + BATCH])
        if limit is not None:
            u = used(c)
            assert u <= limit + TOLERANCE, "used_memory %d is %d over maxmemory %d" % (
                u, u - limit, limit)
    return replies


def freeze(c):
    """Lifts maxmemory so that reading the keys back evicts none: replies
    count in used_memory too, and a server at its limit evicts a little on
    every read."""
    assert c.call("CONFIG", "SET", "maxmemory", "0") == ("+", b"OK")


def present(c, keys):
    """Which of keys still hold their value."""
    replies = []
    for i in range(0, len(keys), 500):
        replies += servers.pipeline(c, [("GET", k) for k in keys[i:i + 500]])
    out = set()
    for k, r in zip(keys, replies):
        if r[1] is not None:
            assert r == ("$", value_of(k)), (k, r[1][:40])
            out.add(k)
    return out


# ---- every policy keeps to the limit ----

@pytest.mark.parametrize("policy", POLICIES)
def test_policy_keeps_used_memory_under_maxmemory(node_client, policy):
    c = node_client
    limit = limit_memory(c, policy)
    ttl = 3600 if policy.startswith("volatile-") else None
    n = 3 * ROOM // VALUE_SIZE
    keys = ["key:%05d" % i for i in range(n)]
    replies = write(c, [set_cmd(k, ttl) for k in keys], limit)
    assert servers.info(c, "memory")["maxmemory_policy"] == policy
    assert servers.info_int(c, "maxmemory", "memory") == limit
    assert used(c) <= limit + TOLERANCE
    nkeys, _ = keyspace(c)
    if policy == "noeviction":
        assert stat(c, "evicted_keys") == 0
        assert all(r in (("+", b"OK"), ("-", OOM)) for r in replies)
        ok = [k for k, r in zip(keys, replies) if r == ("+", b"OK")]
        # Full, it stays full: nearly every SET after the first refusal is
        # refused (one may fit in when a client buffer is freed).
        first = replies.index(("-", OOM))
        assert replies[first:].count(("-", OOM)) >= (len(replies) - first) * 0.95
        assert nkeys == len(ok)
        # Reads still work, and every key written is there.
        assert c.call("GET", keys[0]) == ("$", value_of(keys[0]))
        freeze(c)
        assert present(c, keys) == set(ok)
    else:
        assert replies == [("+", b"OK")] * n
        evicted = stat(c, "evicted_keys")
        assert evicted > 0
        assert nkeys == n - evicted
        assert 0 < nkeys < n
        # The newest key is there, and so are the values that are left.
        assert c.call("GET", keys[-1]) == ("$", value_of(keys[-1]))
        freeze(c)
        assert len(present(c, keys)) == nkeys


def fill_until_oom(c, prefix, ttl=None, max_keys=20000):
    """Writes keys until a SET is refused -- in pipelined batches, then one
    at a time, so that the refusal is not only the batch's own request bytes
    counting in used_memory.  Returns the keys written."""
    written = []
    i = 0
    while i < max_keys:
        keys = ["%s%05d" % (prefix, j) for j in range(i, i + BATCH)]
        i += BATCH
        replies = servers.pipeline(c, [set_cmd(k, ttl) for k in keys])
        written += [k for k, r in zip(keys, replies) if r == ("+", b"OK")]
        assert all(r in (("+", b"OK"), ("-", OOM)) for r in replies), replies
        if ("-", OOM) in replies:
            break
    while i < max_keys:
        k = "%s%05d" % (prefix, i)
        i += 1
        r = c.call(*set_cmd(k, ttl))
        if r == ("-", OOM):
            return written
        assert r == ("+", b"OK"), r
        written.append(k)
    raise AssertionError("%d keys written and never refused" % max_keys)


@pytest.mark.parametrize("policy", ["noeviction"] + VOLATILE)
def test_oom_error_like_redis_when_nothing_can_go(node, redis_ref, policy):
    """noeviction, and the volatile policies when no key has a TTL: over the
    limit, writes are refused with redis's error; reads still work."""
    seen = {}
    keys = ["p:%05d" % i for i in range(1500)]
    for kind, server in (("redis", redis_ref), ("node", node)):
        c = RespClient("127.0.0.1", server.port)
        assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
        write(c, [set_cmd(k) for k in keys])
        # A limit well under what the keys use: nothing may be evicted.
        limit = used(c) - 512 * 1024
        steps = [c.call("CONFIG", "SET", "maxmemory", str(limit)),
                 c.call("SET", "one-more", "x"),
                 c.call("SET", keys[0], "small"),  # may grow memory: refused too
                 c.call("SET", "with-ttl", "x", "EX", "100"),
                 c.call("GET", keys[-1]) == ("$", value_of(keys[-1])),
                 c.call("GET", "nosuchkey"),
                 c.call("PING"),
                 c.call("DBSIZE"),
                 stat(c, "evicted_keys")]
        c.send_raw(b"MULTI\r\nSET a b\r\nEXEC\r\n")
        steps.append([c.read_reply() for _ in range(3)])
        # Lifting the limit lets writes in again.
        steps.append(c.call("CONFIG", "SET", "maxmemory", "0"))
        steps.append(c.call("SET", "one-more", "x"))
        seen[kind] = steps
        c.close()
    assert seen["node"] == seen["redis"]
    assert seen["node"][1] == ("-", OOM)
    assert seen["node"][7:9] == [(":", 1500), 0]


@pytest.mark.parametrize("policy", VOLATILE)
def test_volatile_policies_never_evict_keys_without_ttl(node_client, policy):
    c = node_client
    limit = limit_memory(c, policy)
    persistent = ["keep:%05d" % i for i in range(ROOM // VALUE_SIZE // 2)]
    write(c, [set_cmd(k) for k in persistent], limit)
    volatile = ["vol:%05d" % i for i in range(2 * ROOM // VALUE_SIZE)]
    assert write(c, [set_cmd(k, 3600) for k in volatile], limit) == [("+", b"OK")] * len(volatile)
    assert stat(c, "evicted_keys") > 0
    nkeys, nvol = keyspace(c)
    assert nkeys - nvol == len(persistent)
    assert 0 < nvol < len(volatile)
    # More keys without a TTL push the volatile ones out, then are refused.
    more = fill_until_oom(c, "more:")
    assert len(more) > 0
    assert keyspace(c)[1] == 0, "refused while keys with a TTL were left"
    assert used(c) <= limit + TOLERANCE
    freeze(c)
    assert present(c, persistent) == set(persistent)
    assert present(c, more) == set(more)
    assert present(c, volatile) == set()


# ---- which keys go ----

def test_allkeys_lru_keeps_keys_read_recently(node_client):
    c = node_client
    limit = limit_memory(c, "allkeys-lru")
    hot = ["hot:%03d" % i for i in range(100)]
    cold = ["cold:%05d" % i for i in range(1000)]
    write(c, [set_cmd(k) for k in hot + cold], limit)
    new = ["new:%05d" % i for i in range(3 * ROOM // VALUE_SIZE)]
    for i in range(0, len(new), 200):
        write(c, [set_cmd(k) for k in new[i:i + 200]], limit)
        assert present(c, hot) == set(hot), "a hot key was evicted after %d writes" % (i + 200)
    assert stat(c, "evicted_keys") > len(cold)
    freeze(c)
    assert present(c, cold) == set(), "keys unread since the start outlived hot ones"
    # The newest writes are there; the oldest new ones went before them.
    assert present(c, new[-200:]) == set(new[-200:])
    assert len(present(c, new[:200])) == 0


def test_allkeys_lfu_keeps_keys_read_often(node_client):
    c = node_client
    limit = limit_memory(c, "allkeys-lfu")
    hot = ["hot:%03d" % i for i in range(100)]
    cold = ["cold:%05d" % i for i in range(1000)]
    write(c, [set_cmd(k) for k in hot + cold], limit)
    # 100 reads each: a logarithmic counter well above a new key's.
    for _ in range(100):
        assert all(r[0] == "$" and r[1] for r in servers.pipeline(c, [("GET", k) for k in hot]))
    # Many new keys, each written once and never read: they and the cold
    # keys are the ones to go, though the hot ones were not read lately.
    new = ["new:%05d" % i for i in range(3 * ROOM // VALUE_SIZE)]
    write(c, [set_cmd(k) for k in new], limit)
    assert stat(c, "evicted_keys") > len(cold)
    freeze(c)
    assert present(c, hot) == set(hot)
    assert len(present(c, cold)) < len(cold) // 2


def test_volatile_ttl_evicts_the_soonest_expiring_first(node_client):
    c = node_client
    limit = limit_memory(c, "volatile-ttl")
    rng = random.Random(7)
    n = ROOM // VALUE_SIZE // 3
    soon = {"soon:%05d" % i: rng.randrange(1000, 2000) for i in range(n)}
    late = {"late:%05d" % i: rng.randrange(50000, 60000) for i in range(n)}
    keys = list(soon) + list(late)
    rng.shuffle(keys)
    ttl = dict(soon, **late)
    write(c, [set_cmd(k, ttl[k]) for k in keys], limit)
    assert stat(c, "evicted_keys") == 0
    # Keys expiring later still push out about a third of the soon ones.
    for i in range(0, 20 * n, 50):
        if stat(c, "evicted_keys") >= n // 3:
            break
        write(c, [set_cmd("extra:%05d" % j, 100000) for j in range(i, i + 50)], limit)
    evicted = stat(c, "evicted_keys")
    assert evicted >= n // 3
    freeze(c)
    left = present(c, keys)
    gone = set(keys) - left
    # The victim is the soonest-expiring key of a sampled pool, as in redis:
    # now and then a sample holds only keys that expire later, the extras
    # (whose TTL is the longest of all) included.
    gone_extra = evicted - len(gone)
    assert 0 <= gone_extra <= max(2, evicted // 50), (
        "%d of %d evicted keys were the extras, which expire last" % (gone_extra, evicted))
    gone_late = gone & set(late)
    assert len(gone_late) <= max(2, len(gone) // 50), (
        "%d of %d evicted keys had the latest expiry" % (len(gone_late), len(gone)))
    # Among the soon ones too, those that went expire sooner than those left.
    gone_soon = [soon[k] for k in gone if k in soon]
    left_soon = [soon[k] for k in left if k in soon]
    assert gone_soon and left_soon
    mean_gone = sum(gone_soon) / len(gone_soon)
    mean_left = sum(left_soon) / len(left_soon)
    # (typically 250 apart; a random choice would put them within 25 of each other)
    assert mean_gone < mean_left - 80, (mean_gone, mean_left)


# ---- changing the limit and the policy at run time ----

def test_policy_switch_at_run_time_while_full(node_client):
    c = node_client
    limit = limit_memory(c, "noeviction")
    written = fill_until_oom(c, "k:")
    assert c.call("SET", "after", "x") == ("-", OOM)
    assert stat(c, "evicted_keys") == 0
    # allkeys-lru: the same write now succeeds by evicting.
    assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == ("+", b"OK")
    assert c.call("CONFIG", "GET", "maxmemory-policy") == (
        "*", [("$", b"maxmemory-policy"), ("$", b"allkeys-lru")])
    assert write(c, [set_cmd("lru:%04d" % i) for i in range(500)], limit) == [("+", b"OK")] * 500
    evicted = stat(c, "evicted_keys")
    assert evicted > 0
    # The keys written under noeviction were the least recently used.
    assert keyspace(c)[0] == len(written) + 500 - evicted
    assert c.call("CONFIG", "SET", "maxmemory", "0") == ("+", b"OK")
    assert present(c, ["lru:%04d" % i for i in range(500)]) == set(
        "lru:%04d" % i for i in range(500))
    assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
    # volatile-lru with no key having a TTL: full again.
    assert c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru") == ("+", b"OK")
    assert fill_until_oom(c, "vlru:", max_keys=3000) is not None
    assert c.call("SET", "after", "x") == ("-", OOM)
    # allkeys-lfu, allkeys-random: writable again.
    for policy in ("allkeys-lfu", "allkeys-random"):
        assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
        assert write(c, [set_cmd("%s:%04d" % (policy, i)) for i in range(300)], limit) == [
            ("+", b"OK")] * 300
        assert servers.info(c, "memory")["maxmemory_policy"] == policy
    assert stat(c, "evicted_keys") > evicted
    assert c.call("CONFIG", "SET", "maxmemory-policy", "lru-ish")[0] == "-"
    assert used(c) <= limit + TOLERANCE


def test_lowering_maxmemory_evicts_at_once(node_client):
    c = node_client
    assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == ("+", b"OK")
    base = used(c)
    keys = ["k:%05d" % i for i in range(3000)]
    write(c, [set_cmd(k) for k in keys])
    assert used(c) > base + 2 * 1024 * 1024
    limit = base + 1024 * 1024
    assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
    assert used(c) <= limit + TOLERANCE
    evicted = stat(c, "evicted_keys")
    assert evicted > 1000
    assert keyspace(c)[0] == 3000 - evicted


def object_or_skip(c, *args):
    r = c.call("OBJECT", *args)
    if r[0] == "-" and r[1].startswith(b"ERR unknown command"):
        pytest.skip("the node has no OBJECT command yet")
    return r


def test_object_freq_follows_reads_under_lfu(node, redis_ref):
    seen = {}
    for kind, server in (("redis", redis_ref), ("node", node)):
        c = RespClient("127.0.0.1", server.port)
        assert c.call("SET", "k", "v") == ("+", b"OK")
        steps = [object_or_skip(c, "FREQ", "k")[0]]  # not LFU: an error
        assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == ("+", b"OK")
        for key in ("hot", "cold"):
            assert c.call("SET", key, "v") == ("+", b"OK")
        for _ in range(200):
            c.call("GET", "hot")
        hot = object_or_skip(c, "FREQ", "hot")
        cold = object_or_skip(c, "FREQ", "cold")
        steps += [hot[0], cold, hot[1] > cold[1] + 1,
                  object_or_skip(c, "IDLETIME", "hot")[0],  # LFU: an error
                  object_or_skip(c, "FREQ", "missing")]
        seen[kind] = steps
        c.close()
    assert seen["node"] == seen["redis"]


def test_object_idletime_under_lru(node_client):
    c = node_client
    assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == ("+", b"OK")
    assert c.call("SET", "old", "v") == ("+", b"OK")
    assert c.call("SET", "new", "v") == ("+", b"OK")
    assert object_or_skip(c, "IDLETIME", "old") == (":", 0)
    servers.wait_until(lambda: object_or_skip(c, "IDLETIME", "old")[1] >= 2, timeout=5,
                       interval=0.2, what="OBJECT IDLETIME to reach 2")
    assert c.call("GET", "new") == ("$", b"v")
    assert object_or_skip(c, "IDLETIME", "new") == (":", 0)


# ---- expiry ----

@pytest.mark.parametrize("kind", ["redis", "node"])
def test_active_expiry_removes_unread_keys(servers_set, kind):
    s = servers_set.start(kind)
    c = RespClient("127.0.0.1", s.port)
    base_expired = stat(c, "expired_keys")
    cmds = [("SET", "ttl:%04d" % i, "v", "PX", "100") for i in range(1000)]
    cmds += [("SET", "stay:%03d" % i, "v") for i in range(10)]
    cmds += [("SET", "long:%03d" % i, "v", "EX", "1000") for i in range(10)]
    assert servers.pipeline(c, cmds) == [("+", b"OK")] * len(cmds)
    assert c.call("DBSIZE")[1] > 1000 - 1  # not gone yet (unless the machine is very slow)
    # Nobody reads them; DBSIZE shrinks to what has no or a long TTL.
    servers.wait_until(lambda: c.call("DBSIZE") == (":", 20), timeout=10,
                       what="the 1000 keys with a 100 ms TTL to expire unread")
    assert stat(c, "expired_keys") - base_expired == 1000
    assert keyspace(c) == (20, 10)
    assert c.call("GET", "stay:000") == ("$", b"v")
    assert c.call("GET", "long:000") == ("$", b"v")
    c.close()


def test_lazy_expiry_on_get(servers_set):
    """With the background cycle slowed to once a second, a read of a key
    whose TTL has passed -- still counted by DBSIZE, so not yet removed by
    the cycle -- finds it gone, removes it and counts it expired."""
    s = servers_set.node("--hz", "1")
    c = RespClient("127.0.0.1", s.port)
    assert c.call("SET", "other", "v") == ("+", b"OK")
    for attempt in range(8):
        assert c.call("SET", "short", "v", "PX", "100") == ("+", b"OK")
        assert c.call("GET", "short") == ("$", b"v")
        expired = stat(c, "expired_keys")
        misses = stat(c, "keyspace_misses")
        time.sleep(0.12)
        if c.call("DBSIZE") != (":", 2):
            continue  # the background cycle got there first: try again
        assert c.call("GET", "short") == ("$", None)
        assert c.call("DBSIZE") == (":", 1)
        assert stat(c, "expired_keys") == expired + 1
        assert stat(c, "keyspace_misses") == misses + 1
        break
    else:
        pytest.fail("the background cycle removed the key before every read")
    assert c.call("GET", "other") == ("$", b"v")
    # SET ... GET on a key whose TTL has passed sees nothing either.
    assert c.call("SET", "short2", "v", "PX", "50") == ("+", b"OK")
    time.sleep(0.07)
    assert c.call("SET", "short2", "new", "GET") == ("$", None)
    assert c.call("GET", "short2") == ("$", b"new")
    c.close()
