"""Client compatibility matrix (README, "Client compatibility"): every client
a Redis user is likely to point at slotcache, against a slotcache-node and a
slotcache-proxy in each mode, and against redis-server as the reference.

Each client runs the same script -- PING, SET/GET (and a 256-byte value of
every byte), MSET/MGET over keys in different slots, INCR, EXPIRE/TTL, DEL, a
pipeline of 100 commands, a missing key, an error reply (INCR on "abc") --
and the test compares what the client observed, in one canonical form, with
EXPECTED: what redis-server answers (the "redis" target proves it).  The
hiredis programs and the Node.js script hold the same script:
compat/script.c, compat/client.mjs.

Cluster clients (redis-py's RedisCluster, ioredis's Cluster, node-redis's
createCluster) need CLUSTER SLOTS: the proxy presents itself as the one node
owning every slot; a node is not a cluster and refuses them as redis-server
without cluster-enabled does, with the same error.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

import servers
from topology import Topology

ROOT = servers.ROOT
COMPAT = os.path.join(ROOT, "tests", "integration", "compat")
FLAVOUR_BIN = os.path.join(ROOT, "build", os.environ.get("SC_FLAVOUR", "release"), "tests",
                           "compat")
NPM_DIR = os.path.join(ROOT, "build", "npm")

BIN = bytes(range(256))
EXPECTED = {
    "ping": "PONG",
    "set": "OK",
    "get": "v1",
    "set_bin": "OK",
    "binary": BIN.hex(),
    "mset": "OK",
    "mget": ["m0", "m1", "m2", "m3", "m4", None],
    "set_n": "OK",
    "incr": 11,
    "expire": 1,
    "ttl": 100,  # TTL is checked as 0 < ttl <= 100: a second may pass
    "del": 2,
    "get_deleted": None,
    "pipeline": ["OK"] * 50 + [str(i) for i in range(50)],
    "missing": None,
    "set_s": "OK",
    "error": {"error": "ERR value is not an integer or out of range"},
    "after_error": "PONG",
}

TARGETS = ["redis", "node", "proxy-central", "proxy-partitioned", "proxy-replicated"]
CLIENTS = ["redis-cli", "redis-cli-c", "redis-benchmark", "redis-py", "redis-py-pipeline",
           "redis-py-cluster", "ioredis", "ioredis-cluster", "node-redis", "node-redis-resp2",
           "node-redis-cluster", "hiredis-sync", "hiredis-async"]
CLUSTER_CLIENTS = {"redis-py-cluster", "ioredis-cluster", "node-redis-cluster"}

# Cells that cannot work, for a reason the README gives.
XFAIL = {
    ("proxy-" + m, "node-redis"): "node-redis 6 opens every connection with HELLO 3 and, "
    "unlike ioredis, does not fall back to RESP2 on NOPROTO; the proxy speaks RESP2 only "
    "(pass RESP: 2, the node-redis-resp2 cell)"
    for m in ("central", "partitioned", "replicated")
}


class ProtocolRefused(AssertionError):
    """A Node.js client gave up because the server refused HELLO 3."""


def cells():
    out = []
    for t in TARGETS:
        for c in CLIENTS:
            marks = []
            if (t, c) in XFAIL:
                marks.append(pytest.mark.xfail(strict=True, raises=ProtocolRefused,
                                               reason=XFAIL[(t, c)]))
            out.append(pytest.param(t, c, marks=marks, id="%s-%s" % (t, c)))
    return out


class Target:
    """One server or topology the matrix runs against, on 127.0.0.1."""

    def __init__(self, kind):
        self.kind = kind
        self.topo = None
        self.server = None
        if kind == "redis":
            self.server = servers.start_redis()
        elif kind == "node":
            self.server = servers.start_node()
        else:
            mode = kind.split("-", 1)[1]
            self.topo = Topology(mode, 1 if mode == "central" else 3)
        self.port = self.topo.proxy.port if self.topo else self.server.port

    def is_cluster(self):
        return self.topo is not None

    def logs(self):
        if self.server:
            return self.server.log_text()
        return "\n".join(["---- proxy ----", self.topo.proxy.log_text()] +
                         ["---- node %d ----\n%s" % (n.port, n.log_text())
                          for n in self.topo.nodes])

    def stop(self):
        """Stops every process; returns the problems (a slotcache process
        that did not exit 0: an ASan report, say)."""
        problems = []
        if self.server:
            rc = self.server.stop()
            if self.kind == "node" and rc != 0:
                problems.append("slotcache-node exited with %s" % rc)
            return problems
        rc = self.topo.stop()
        if rc != 0:
            problems.append("slotcache-proxy exited with %s" % rc)
        for n in self.topo.nodes:
            if n.proc.returncode != 0:
                problems.append("slotcache-node %d exited with %s" % (n.port, n.proc.returncode))
        return problems


@pytest.fixture(scope="module")
def target(request):
    t = Target(request.param)
    yield t
    problems = t.stop()
    assert not problems, "%s\n%s" % (problems, t.logs())


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=120, **kw)


# ---- the clients, each returning the script's replies in canonical form ----

def canon_py(name, v):
    """redis-py's value for step `name` as the canonical form: redis-py turns
    +OK and +PONG into True and EXPIRE's 1 into True, and drops the ERR
    prefix of a ResponseError."""
    if isinstance(v, redis.exceptions.ResponseError):
        return {"error": ("ERR " if type(v) is redis.exceptions.ResponseError else "") + str(v)}
    if v is True:
        return {"ping": "PONG", "after_error": "PONG", "expire": 1}.get(name, "OK")
    if isinstance(v, bytes):
        return v.hex() if name == "binary" else v.decode()
    if isinstance(v, list):
        return [canon_py(name, x) for x in v]
    return v


def script_py(c, k, cluster=False):
    """The script through a redis-py client (plain or RedisCluster): each
    step as its own call, the 100 commands as one pipeline.  RedisCluster
    refuses MSET/MGET across slots by itself; its users call the
    *_nonatomic forms, which split per slot."""
    out = {}

    def step(name, fn):
        try:
            out[name] = canon_py(name, fn())
        except redis.exceptions.ResponseError as e:
            out[name] = canon_py(name, e)

    mkeys = [k("m%d" % i) for i in range(5)]
    step("ping", c.ping)
    step("set", lambda: c.set(k("k"), "v1"))
    step("get", lambda: c.get(k("k")))
    step("set_bin", lambda: c.set(k("bin"), BIN))
    step("binary", lambda: c.get(k("bin")))
    if cluster:
        # One OK per slot: the MSET of each slot answered OK.
        step("mset", lambda: set(c.mset_nonatomic({m: "m%d" % i for i, m in enumerate(mkeys)}))
             == {True})
        step("mget", lambda: c.mget_nonatomic(mkeys + [k("nosuch")]))
    else:
        step("mset", lambda: c.mset({m: "m%d" % i for i, m in enumerate(mkeys)}))
        step("mget", lambda: c.mget(mkeys + [k("nosuch")]))
    step("set_n", lambda: c.set(k("n"), "10"))
    step("incr", lambda: c.incr(k("n")))
    step("expire", lambda: c.expire(k("k"), 100))
    step("ttl", lambda: c.ttl(k("k")))
    step("del", lambda: c.delete(k("k"), k("m0")))
    step("get_deleted", lambda: c.get(k("k")))
    p = c.pipeline(transaction=False) if not cluster else c.pipeline()
    for i in range(50):
        p.set(k("p:%d" % i), i)
    for i in range(50):
        p.get(k("p:%d" % i))
    out["pipeline"] = canon_py("pipeline", p.execute())
    step("missing", lambda: c.get(k("missing")))
    step("set_s", lambda: c.set(k("s"), "abc"))
    step("error", lambda: c.incr(k("s")))
    step("after_error", c.ping)
    return out


def script_py_pipeline(c, k):
    """The whole script as one redis-py pipeline (no MULTI): the error comes
    back in its place among the results."""
    p = c.pipeline(transaction=False)
    names = []

    def q(name, call):
        names.append(name)
        call()

    mkeys = [k("m%d" % i) for i in range(5)]
    q("ping", p.ping)
    q("set", lambda: p.set(k("k"), "v1"))
    q("get", lambda: p.get(k("k")))
    q("set_bin", lambda: p.set(k("bin"), BIN))
    q("binary", lambda: p.get(k("bin")))
    q("mset", lambda: p.mset({m: "m%d" % i for i, m in enumerate(mkeys)}))
    q("mget", lambda: p.mget(mkeys + [k("nosuch")]))
    q("set_n", lambda: p.set(k("n"), "10"))
    q("incr", lambda: p.incr(k("n")))
    q("expire", lambda: p.expire(k("k"), 100))
    q("ttl", lambda: p.ttl(k("k")))
    q("del", lambda: p.delete(k("k"), k("m0")))
    q("get_deleted", lambda: p.get(k("k")))
    for i in range(50):
        q(None, lambda i=i: p.set(k("p:%d" % i), i))
    for i in range(50):
        q(None, lambda i=i: p.get(k("p:%d" % i)))
    q("missing", lambda: p.get(k("missing")))
    q("set_s", lambda: p.set(k("s"), "abc"))
    q("error", lambda: p.incr(k("s")))
    q("after_error", p.ping)
    results = p.execute(raise_on_error=False)
    assert len(results) == len(names)
    out = {"pipeline": []}
    for name, v in zip(names, results):
        if name is None:
            out["pipeline"].append(canon_py("pipeline", v))
        else:
            out[name] = canon_py(name, v)
    return out


def unrepr(s):
    """The bytes of redis-cli's quoted form of a string (sdscatrepr)."""
    assert s.startswith('"') and s.endswith('"'), s
    s, out, i = s[1:-1], bytearray(), 0
    esc = {"n": 10, "r": 13, "t": 9, "a": 7, "b": 8, '"': 34, "\\": 92}
    while i < len(s):
        if s[i] == "\\" and s[i + 1] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif s[i] == "\\":
            out.append(esc[s[i + 1]])
            i += 2
        else:
            out += s[i].encode()
            i += 1
    return bytes(out)


def cli_replies(text, n):
    """n replies parsed from redis-cli's --no-raw output."""
    lines = text.splitlines()
    out, i = [], 0

    def one(s):
        if s == "(nil)":
            return None
        m = re.match(r"^\(integer\) (-?\d+)$", s)
        if m:
            return int(m.group(1))
        if s.startswith("(error) "):
            return {"error": s[len("(error) "):]}
        if s.startswith('"'):
            return unrepr(s)
        return s  # a status reply: OK, PONG

    while len(out) < n:
        assert i < len(lines), "redis-cli printed %d replies of %d:\n%s" % (len(out), n, text)
        if re.match(r"^\s*1\) ", lines[i]):
            arr = []
            while i < len(lines) and re.match(r"^\s*\d+\) ", lines[i]):
                arr.append(one(re.sub(r"^\s*\d+\) ", "", lines[i])))
                i += 1
            out.append(arr)
        else:
            out.append(one(lines[i]))
            i += 1
    return out


def script_cli(target, k, flags):
    """The script through redis-cli: commands on stdin (quoted, so the
    binary value travels as \\xHH escapes), replies in --no-raw form; the
    100 commands through --pipe, which pipelines them."""
    base = ["redis-cli", "-h", "127.0.0.1", "-p", str(target.port), "--no-raw"] + flags
    mkeys = [k("m%d" % i) for i in range(5)]
    binarg = '"' + "".join("\\x%02x" % b for b in BIN) + '"'
    first = [("ping", "PING"), ("set", "SET %s v1" % k("k")), ("get", "GET %s" % k("k")),
             ("set_bin", "SET %s %s" % (k("bin"), binarg)), ("binary", "GET %s" % k("bin")),
             ("mset", "MSET " + " ".join("%s m%d" % (m, i) for i, m in enumerate(mkeys))),
             ("mget", "MGET " + " ".join(mkeys + [k("nosuch")])),
             ("set_n", "SET %s 10" % k("n")), ("incr", "INCR %s" % k("n")),
             ("expire", "EXPIRE %s 100" % k("k")), ("ttl", "TTL %s" % k("k")),
             ("del", "DEL %s %s" % (k("k"), k("m0"))), ("get_deleted", "GET %s" % k("k"))]
    last = [("pipeline_gets", "MGET " + " ".join(k("p:%d" % i) for i in range(50))),
            ("missing", "GET %s" % k("missing")), ("set_s", "SET %s abc" % k("s")),
            ("error", "INCR %s" % k("s")), ("after_error", "PING")]
    out = {}
    for steps in (first, None, last):
        if steps is None:
            pipe = "".join("SET %s %d\r\n" % (k("p:%d" % i), i) for i in range(50))
            pipe += "".join("GET %s\r\n" % k("p:%d" % i) for i in range(50))
            r = run(base + ["--pipe"], input=pipe.encode())
            text = r.stdout.decode(errors="replace")
            assert r.returncode == 0 and "errors: 0, replies: 100" in text, (text, r.stderr)
            continue
        r = run(base, input="".join(cmd + "\n" for _, cmd in steps).encode())
        assert r.returncode == 0, r.stderr
        for (name, _), v in zip(steps, cli_replies(r.stdout.decode("latin-1"), len(steps))):
            if isinstance(v, bytes):
                v = v.hex() if name == "binary" else v.decode()
            elif isinstance(v, list):
                v = [x.decode() if isinstance(x, bytes) else x for x in v]
            out[name] = v
    # --pipe shows counts only; the values it wrote are read back by MGET.
    out["pipeline"] = ["OK"] * 50 + out.pop("pipeline_gets")
    return out


def script_node(target, client, k):
    env = dict(os.environ, SC_NPM_DIR=NPM_DIR)
    r = run(["node", os.path.join(COMPAT, "client.mjs"), client, "127.0.0.1", str(target.port),
             k("")[:-1]], env=env)
    if r.returncode != 0 and b"NOPROTO" in r.stderr:
        raise ProtocolRefused(r.stderr.decode(errors="replace"))
    assert r.returncode == 0, (r.stdout, r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)


def script_hiredis(target, which, k):
    r = run([os.path.join(FLAVOUR_BIN, "hiredis_" + which), "127.0.0.1", str(target.port),
             k("")[:-1]])
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def run_script(target, client, k):
    if client in ("redis-cli", "redis-cli-c"):
        return script_cli(target, k, ["-c"] if client == "redis-cli-c" else [])
    if client in ("redis-py", "redis-py-pipeline"):
        c = redis.Redis(host="127.0.0.1", port=target.port, socket_timeout=10)
        try:
            return script_py(c, k) if client == "redis-py" else script_py_pipeline(c, k)
        finally:
            c.close()
    if client == "redis-py-cluster":
        c = RedisCluster(host="127.0.0.1", port=target.port, socket_timeout=10)
        try:
            return script_py(c, k, cluster=True)
        finally:
            c.close()
    if client.startswith(("ioredis", "node-redis")):
        return script_node(target, client, k)
    if client.startswith("hiredis-"):
        return script_hiredis(target, client.split("-", 1)[1], k)
    raise AssertionError(client)


# ---- the matrix ----

@pytest.fixture(scope="session", autouse=True)
def clients_present():
    """Every client must be there: a missing one is a broken build (make
    compat-npm, make all), never a silent skip."""
    missing = [p for p in ("redis-cli", "redis-benchmark", "node") if shutil.which(p) is None]
    for f in ("hiredis_sync", "hiredis_async"):
        if not os.access(os.path.join(FLAVOUR_BIN, f), os.X_OK):
            missing.append(os.path.join(FLAVOUR_BIN, f) + " (make)")
    for pkg in ("ioredis", "redis"):
        if not os.path.exists(os.path.join(NPM_DIR, "node_modules", pkg, "package.json")):
            missing.append("npm package %s in build/npm (make compat-npm)" % pkg)
    assert not missing, "clients missing: %s" % ", ".join(missing)


def check_benchmark(target):
    servers.redis_benchmark(target.port, 2000)
    # Without -r it writes one key, with a 3-byte value.
    c = redis.Redis(host="127.0.0.1", port=target.port, socket_timeout=10)
    v = c.get("key:__rand_int__")
    assert isinstance(v, bytes) and len(v) == 3, v
    c.close()


def check_cluster_refused(target, client, k):
    """A cluster client against a server that is not a cluster: it fails to
    connect, and the server's answer to CLUSTER SLOTS is redis-server's."""
    c = redis.Redis(host="127.0.0.1", port=target.port, socket_timeout=10)
    with pytest.raises(redis.exceptions.ResponseError,
                       match="^This instance has cluster support disabled$"):
        c.execute_command("CLUSTER", "SLOTS")
    c.close()
    if client == "redis-py-cluster":
        with pytest.raises(redis.exceptions.RedisClusterException,
                           match="Cluster mode is not enabled on this node"):
            RedisCluster(host="127.0.0.1", port=target.port, socket_timeout=10)
    else:
        with pytest.raises(AssertionError, match="root nodes are unavailable|refresh slots cache"):
            script_node(target, client, k)


@pytest.mark.parametrize("target,client", cells(), indirect=["target"])
def test_client(target, client):
    prefix = "compat:" + client
    k = lambda name: "%s:%s" % (prefix, name)  # noqa: E731
    if client == "redis-benchmark":
        check_benchmark(target)
        return
    if client in CLUSTER_CLIENTS and not target.is_cluster():
        check_cluster_refused(target, client, k)
        return
    if target.kind == "proxy-partitioned":
        # The MSET/MGET keys span shards (three shards of 5461 slots).
        assert len({key_slot(k("m%d" % i).encode()) // 5461 for i in range(5)}) > 1
    got = run_script(target, client, k)
    ttl = got.pop("ttl", None)
    assert isinstance(ttl, int) and 0 < ttl <= 100, ttl
    want = dict(EXPECTED)
    del want["ttl"]
    assert got == want
    # What the client wrote is there for any other client.
    c = redis.Redis(host="127.0.0.1", port=target.port, socket_timeout=10)
    assert c.get(k("n")) == b"11" and c.get(k("bin")) == BIN
    assert c.mget([k("m1"), k("p:49"), k("m0")]) == [b"m1", b"49", None]
    c.close()
