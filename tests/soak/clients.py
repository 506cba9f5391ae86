"""The soak's load: redis-py threads that check every reply against the
model (model.py), and slotcache-bench runs for volume.

A ModelClient owns its keys (soak:<thread>:<n>, and hashes soakh:<thread>:<n>
whose fields are modelled one by one): it alone writes them, so it knows
each write's outcome when it reads.  Its operations, drawn from a seeded
generator: SET, GET, MGET and MSET of its keys, DEL, HSET, HDEL, HGET and
HGETALL of its hashes (resynchronisation and slot moves copy hashes their
own way), and GET and MGET of database keys (koi:<kepid>, some with no row)
that the proxy reads through to the loader.  Every operation is timed; every error is counted
by kind; every value read is judged.
"""

import random
import re
import subprocess
import threading
import time
from array import array
from collections import Counter

import redis

import model

SOCKET_TIMEOUT_S = 15  # well past node-timeout and loader-timeout: a hang, not a slow reply
EXAMPLES_MAX = 30

# Operation mix (weights).
OPS = [("set", 26), ("get", 20), ("mget", 8), ("mset", 5), ("del", 4), ("hset", 7), ("hdel", 2),
       ("hget", 5), ("hgetall", 4), ("koi_get", 15), ("koi_mget", 4)]
WRITES = {"set", "mset", "del", "hset", "hdel"}
HASH_FIELDS = 4
FIELD_SEP = "#"  # a hash field's model is named <hash key>#<field>


def hash_field(km):
    """(hash key, field) of a hash field's model."""
    return km.key.split(FIELD_SEP, 1)

ERROR_KINDS = [
    (re.compile(r"CLUSTERDOWN"), "CLUSTERDOWN (shard without a node)"),
    (re.compile(r"is unavailable: no reply within"), "node timed out"),
    (re.compile(r"is unavailable"), "node unavailable"),
    (re.compile(r"could not load '.*?' from the database: ([A-Z_]+)"), None),  # "load: <status>"
    (re.compile(r"write reached"), "write quorum not reached"),
    (re.compile(r"shutting down"), "proxy shutting down"),
]


def unclean(kind):
    """Whether an error kind is not one a fault explains with a clean error
    reply or a closed connection: a hang, or an error nobody expected."""
    return (kind.startswith(("client timeout", "other: ")) or "no reply in 60 s" in kind or
            "the first: other: " in kind)


def error_kind(exc):
    """A short, stable name for what went wrong, for the errors table."""
    if isinstance(exc, redis.TimeoutError):
        return "client timeout (%d s)" % SOCKET_TIMEOUT_S
    if isinstance(exc, redis.ConnectionError):
        return "connection refused or lost"
    text = str(exc)
    for pattern, kind in ERROR_KINDS:
        m = pattern.search(text)
        if m:
            return kind if kind is not None else "load: " + m.group(1)
    return "other: " + text[:70]


class Results:
    """What one client thread saw; merged after the run."""

    def __init__(self):
        self.requests = Counter()  # by operation
        self.errors = Counter()    # by kind
        self.error_at = []         # (start, end, kind, op, text) of every error, to
                                   # place it against faults
        self.verdicts = Counter()  # reads judged, by verdict
        self.examples = []         # wrong or lost reads, with context
        self.start = array("d")    # per request: start (monotonic), duration, ok
        self.dur = array("d")
        self.ok = array("b")

    def merge(self, other):
        self.requests.update(other.requests)
        self.errors.update(other.errors)
        self.error_at += other.error_at
        self.verdicts.update(other.verdicts)
        self.examples += other.examples[:max(0, EXAMPLES_MAX - len(self.examples))]
        self.start.extend(other.start)
        self.dur.extend(other.dur)
        self.ok.extend(other.ok)


class ModelClient(threading.Thread):
    def __init__(self, idx, port, nkeys, rows, seed, stop, excuse, t0):
        super().__init__(name="model-%d" % idx, daemon=True)
        self.port = port
        self.keys = [model.KeyModel("soak:%d:%d" % (idx, i)) for i in range(nkeys)]
        self.hashes = [[model.KeyModel("soakh:%d:%d%sf%d" % (idx, i, FIELD_SEP, f))
                        for f in range(HASH_FIELDS)] for i in range(max(1, nkeys // 4))]
        self.rows = rows  # kepid -> row dict, None for the kepids with no row
        self.kepids = sorted(rows)
        self.rnd = random.Random(seed)
        self.stop_event = stop
        self.excuse = excuse
        self.t0 = t0
        self.res = Results()
        names, weights = zip(*OPS)
        self.op_names, self.op_cum = names, list(_cumulative(weights))

    def run(self):
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=SOCKET_TIMEOUT_S,
                        socket_connect_timeout=SOCKET_TIMEOUT_S)
        while not self.stop_event.is_set():
            op = self.rnd.choices(self.op_names, cum_weights=self.op_cum)[0]
            self.one(r, op)
        r.close()

    def one(self, r, op):
        pending = self.prepare(op)
        start = time.monotonic()
        ok, e = True, None
        try:
            reply = self.send(r, op, pending)
        except redis.RedisError as exc:
            ok, e = False, exc
            if op in WRITES:
                for km, _seq, value in pending:
                    km.failed(value)
        end = time.monotonic()
        if not ok:
            self.error(start, end, op, e)
        self.res.requests[op] += 1
        self.res.start.append(start)
        self.res.dur.append(end - start)
        self.res.ok.append(1 if ok else 0)
        if ok:
            self.judge(op, pending, reply, start, end)
        elif isinstance(e, redis.ConnectionError):
            self.stop_event.wait(0.05)  # the proxy is restarting: retry soon, not in a spin

    def error(self, start, end, op, exc, suffix=""):
        kind = error_kind(exc) + suffix
        self.res.errors[kind] += 1
        self.res.error_at.append((start, end, kind, op, "%s: %s" % (type(exc).__name__, exc)))

    def prepare(self, op):
        """The keys of the operation and, for writes, their new values."""
        if op in ("koi_get", "koi_mget"):
            n = 1 if op == "koi_get" else self.rnd.randint(2, 6)
            return self.rnd.sample(self.kepids, n)
        if op.startswith("h"):
            fields = self.rnd.choice(self.hashes)
            n = {"hset": self.rnd.randint(1, 2), "hgetall": HASH_FIELDS}.get(op, 1)
            kms = self.rnd.sample(fields, n) if op != "hgetall" else fields
        else:
            n = {"mget": self.rnd.randint(2, 6), "mset": self.rnd.randint(2, 4)}.get(op, 1)
            kms = self.rnd.sample(self.keys, n)
        if op in ("del", "hdel"):
            return [(km, km.next_value("")[0], None) for km in kms]
        if op in WRITES:
            pad = "%08x" % self.rnd.getrandbits(32)
            return [(km,) + km.next_value(pad) for km in kms]
        return kms

    @staticmethod
    def send(r, op, pending):
        if op == "set":
            km, _seq, value = pending[0]
            return r.set(km.key, value)
        if op == "mset":
            return r.mset({km.key: value for km, _seq, value in pending})
        if op == "del":
            return r.delete(pending[0][0].key)
        if op == "hset":
            h = hash_field(pending[0][0])[0]
            return r.hset(h, mapping={hash_field(km)[1]: value for km, _seq, value in pending})
        if op == "hdel":
            return r.hdel(*hash_field(pending[0][0]))
        if op == "hget":
            return [r.hget(*hash_field(pending[0]))]
        if op == "hgetall":
            got = r.hgetall(hash_field(pending[0])[0])
            return [got.get(hash_field(km)[1].encode()) for km in pending]
        if op in ("get", "mget"):
            return [r.get(pending[0].key)] if op == "get" else r.mget([km.key for km in pending])
        keys = ["koi:%d" % k for k in pending]
        return [r.get(keys[0])] if op == "koi_get" else r.mget(keys)

    def judge(self, op, pending, reply, start, end):
        if op in WRITES:
            for km, seq, value in pending:
                km.acknowledged(seq, value, start)
            return
        for i, item in enumerate(pending):
            got = reply[i]
            if isinstance(got, redis.RedisError):
                # MGET: a key whose load failed is an error in its place
                # of the array (redis-py hands it over as the exception).
                self.error(start, end, op, got, " (in MGET)")
                continue
            if op.startswith("koi"):
                verdict = model.check_row(got, self.rows[item])
                what = "koi:%d" % item
            else:
                before = (item.acked, list(item.unknown))
                verdict = item.check(got, end, self.excuse)
                what = item.key
            self.res.verdicts[verdict] += 1
            if verdict != model.OK and verdict != model.LOST_BY_DESIGN and \
                    len(self.res.examples) < EXAMPLES_MAX:
                example = {"t": round(start - self.t0, 3), "op": op, "key": what,
                           "verdict": verdict, "got": _short(got)}
                if not op.startswith("koi"):
                    example["acked"] = _short(before[0])
                    example["unknown"] = [_short(v) for v in before[1][-3:]]
                self.res.examples.append(example)

    def read_all(self, r):
        """[(model, value read)] for every key and hash field, through r
        (the proxy, or a node directly)."""
        out = []
        for i in range(0, len(self.keys), 50):
            batch = self.keys[i:i + 50]
            out += zip(batch, r.mget([km.key for km in batch]))
        for fields in self.hashes:
            got = r.hgetall(hash_field(fields[0])[0])
            out += [(km, got.get(hash_field(km)[1].encode())) for km in fields]
        return out

    def final_check(self, r, end_time):
        """Reads every key once more (after the last fault's recovery)."""
        bad = Counter()
        for km, v in self.read_all(r):
            verdict = km.check(v, end_time, self.excuse)
            if verdict not in (model.OK, model.LOST_BY_DESIGN):
                bad[verdict] += 1
                if len(self.res.examples) < EXAMPLES_MAX:
                    self.res.examples.append({"t": "final", "key": km.key, "verdict": verdict,
                                              "got": _short(v), "acked": _short(km.acked)})
        return bad


def _cumulative(weights):
    total = 0
    for w in weights:
        total += w
        yield total


def _short(v):
    if v is None:
        return None
    s = v.decode(errors="replace") if isinstance(v, bytes) else str(v)
    return s if len(s) <= 80 else s[:77] + "..."


class BenchLoop(threading.Thread):
    """slotcache-bench run, in segments of a few seconds until stopped:
    volume beside the model clients.  Segments alternate between writes and
    reads of bench:<n> keys and reads of koi:<kepid> (read-through).  A
    segment that loses its connection (a proxy restart) ends early; its
    requests are not counted, its failure is."""

    SEGMENT_S = 5

    def __init__(self, bench, port, kepid_file, workdir, stop, clients=2, rate=4000):
        super().__init__(name="bench", daemon=True)
        self.bench, self.port = bench, port
        self.kepid_file = kepid_file
        self.workdir = workdir
        self.stop_event = stop
        self.clients = clients
        self.rate = rate  # requests/s: load, without starving a shared machine
        self.requests = 0
        self.errors = Counter()
        self.segments = Counter()
        self.proc = None

    def argv(self, n, json_path):
        argv = [self.bench, "run", "--host", "127.0.0.1", "--port", str(self.port),
                "--duration", str(self.SEGMENT_S), "--clients", str(self.clients),
                "--rate", str(self.rate), "--progress", "0", "--json", json_path, "--seed", str(n + 1)]
        if n % 2 == 0:
            return argv + ["--workload", "zipf", "--keys", "20000", "--key-format", "bench:%d",
                           "--write-ratio", "0.2", "--value-size", "64"]
        return argv + ["--workload", "uniform", "--key-file", self.kepid_file,
                       "--key-prefix", "koi:", "--write-ratio", "0"]

    def run(self):
        import json
        import os
        n = 0
        while not self.stop_event.is_set():
            path = os.path.join(self.workdir, "bench-segment.json")
            if os.path.exists(path):
                os.unlink(path)
            started = time.monotonic()
            self.proc = subprocess.Popen(self.argv(n, path), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)
            _out, err = self.proc.communicate()
            n += 1
            passes = []
            try:
                with open(path) as f:
                    passes = json.load(f).get("passes", [])
            except (OSError, ValueError):
                pass  # none, or cut short: the segment aborted
            for p in passes:
                self.requests += p["requests"]
                if p["errors"]:
                    self.errors["bench: error replies, the first: " +
                                _bench_first_error(err)] += p["errors"]
            if self.proc.returncode == 0:
                self.segments["completed"] += 1
            elif passes:
                self.segments["completed with error replies"] += 1
            else:
                self.segments["aborted"] += 1
                self.errors["bench: " + _bench_failure(err)] += 1
                # Nothing to connect to (the proxy is restarting): do not spin.
                if time.monotonic() - started < 0.5:
                    self.stop_event.wait(0.2)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()


def _bench_first_error(stderr):
    """The kind of the first error reply of a pass, from slotcache-bench's
    "pass N: M error replies; the first: GET: <error>"."""
    m = re.search(r"the first: (?:GET|SET): (.*)", stderr)
    if m is None:
        return "?"
    return error_kind(redis.ResponseError(m.group(1)))


def _bench_failure(stderr):
    if "cannot connect" in stderr or re.search(r"connection\b.*\b(lost|refused|reset)", stderr,
                                               re.IGNORECASE):
        return "connection refused or lost"
    if "no reply" in stderr:
        return "no reply in 60 s"
    return "failed: " + stderr.strip().splitlines()[-1][-70:] if stderr.strip() else "failed"
