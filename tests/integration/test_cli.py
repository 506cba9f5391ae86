"""slotcache-cli against real processes: `up` of each topology (a
throwaway PostgreSQL with the sample data, nodes, loader, proxy), a row read
through the proxy with redis-cli, `check` and `info` on what runs, `down`
leaving no process and no port; `create` and `check --config` on real
nodes; bad arguments; the compose files (docker-compose config); and
resharding under a live redis-py load (reshard, add-node), which needs the
proxy's PROXY MIGRATE (proxy/migrate.h).

Every `up` runs in its own directory on ports no one holds (its --port and
the ports that follow from it: cluster-tools/cli_up.h), so the suite runs
while something else has 7000.  Processes are stopped by `down` (by the
pids it recorded), and by those pids directly if `down` failed.
"""

import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
import redis
import yaml
from redis.crc import key_slot

import servers
from topology import Topology

CLI = os.path.join(servers.BIN_DIR, "slotcache-cli")
DOCKER = os.path.join(servers.ROOT, "docker")
UP_OFFSETS = servers.UP_OFFSETS
ROWS = 2000


def cli(*args, timeout=300, env=None):
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def run_dir():
    """A run directory PostgreSQL's user can reach (mkdtemp makes 0700)."""
    d = tempfile.mkdtemp(prefix="sc-cli-")
    os.chmod(d, 0o755)
    return d


def start_time(pid):
    """The process's start time (/proc/PID/stat field 22); None if it is
    gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def recorded(d):
    """The processes `up` recorded in d: [(role, pid, port, start, port2)]."""
    path = os.path.join(d, "slotcache-up.pids")
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                w = line.split()
                out.append((w[0], int(w[1]), int(w[2]), int(w[3]), int(w[4]) if len(w) > 4 else 0))
    return out


def alive(entries):
    return [e for e in entries if start_time(e[1]) == e[3]]


class Up:
    """One `slotcache-cli up` in a directory of its own; stop() runs down
    and, should down fail, signals the recorded pids itself."""

    def __init__(self, topology, rows=ROWS):
        self.dir = run_dir()
        self.port = servers.free_up_base()
        self.result = cli("up", topology, "--port", self.port, "--dir", self.dir, "--rows", rows)
        self.entries = recorded(self.dir)

    def logs(self):
        text = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                text.append("---- %s ----\n%s" % (name, servers.read_log(
                    os.path.join(self.dir, name))))
        return "\n".join(text)

    def stop(self):
        r = cli("down", "--dir", self.dir)
        for role, pid, port, start, port2 in alive(self.entries):
            os.kill(pid, 9)
        return r


@pytest.fixture
def ups(request):
    started = []

    def start(topology, **kw):
        u = Up(topology, **kw)
        started.append(u)
        return u

    yield start
    rep = getattr(request.node, "rep_call", None)
    for u in started:
        if rep is not None and rep.failed:
            print("\n---- up output ----\n%s%s\n%s" % (u.result.stdout, u.result.stderr, u.logs()))
        u.stop()
        shutil.rmtree(u.dir, ignore_errors=True)


def assert_down(u):
    """`down` stopped every recorded process and closed every port."""
    r = cli("down", "--dir", u.dir)
    assert r.returncode == 0, r.stderr
    assert u.entries, "up recorded nothing"
    assert alive(u.entries) == []
    for o in UP_OFFSETS:
        if o in (2, 3, 102, 103) and len(u.entries) < 6:
            continue  # central has one node
        assert not port_open(u.port + o), "port %d still open after down" % (u.port + o)
    assert not os.path.exists(os.path.join(u.dir, "slotcache-up.pids"))
    assert not os.path.exists(os.path.join(u.dir, "postgres"))


def table_rows(info_out):
    """info's table as {first column: [columns]}."""
    rows = {}
    for line in info_out.splitlines():
        w = line.split()
        if len(w) == 12:
            rows[w[0]] = w
    return rows


# ---- up, check, info, down ----

@pytest.mark.parametrize("topology,nodes", [("central", 1), ("partitioned", 3), ("replicated", 3)])
def test_up_check_info_down(ups, topology, nodes):
    u = ups(topology)
    assert u.result.returncode == 0, u.result.stderr
    roles = sorted(e[0] for e in u.entries)
    assert roles == sorted(["postgres", "loader", "proxy"] + ["node%d" % (i + 1)
                                                               for i in range(nodes)])

    # The example up prints is a row that exists, read through to PostgreSQL.
    m = re.search(r"redis-cli -p (\d+) GET koi:(\d+)", u.result.stdout)
    assert m and int(m.group(1)) == u.port, u.result.stdout
    kepid = int(m.group(2))
    got = subprocess.run(["redis-cli", "-p", str(u.port), "GET", "koi:%d" % kepid],
                         capture_output=True, text=True, timeout=30)
    row = json.loads(got.stdout)
    assert row["kepid"] == kepid and row["kepoi_name"].startswith("K")

    c = cli("check", "--port", u.port)
    assert c.returncode == 0, c.stdout + c.stderr
    assert "all is well (%d shard(s), %d node(s))" % (3 if topology == "partitioned" else 1,
                                                     nodes) in c.stdout
    for i in range(nodes):
        assert "127.0.0.1:%d" % (u.port + 1 + i) in c.stdout

    # The row read through is cached once, whatever the topology; the
    # proxy stores it after answering, so wait for it.
    def info_with_the_row():
        i = cli("info", "--port", u.port)
        assert i.returncode == 0, i.stdout + i.stderr
        rows = table_rows(i.stdout)
        want = ["127.0.0.1:%d" % u.port]
        if topology == "replicated":  # every replica holds it
            want += ["127.0.0.1:%d" % (u.port + 1 + n) for n in range(nodes)]
        return i if all(rows[a][4] == "1" for a in want) else None
    i = servers.wait_until(info_with_the_row, timeout=10, what="info to count the cached row")
    rows = table_rows(i.stdout)
    assert rows["127.0.0.1:%d" % u.port][2] == "proxy"
    assert "mode %s" % topology in i.stdout and "loader connected" in i.stdout
    for n in range(nodes):
        node = rows["127.0.0.1:%d" % (u.port + 1 + n)]
        assert node[3] == "up" and node[6] == "256.00M" and node[7] == "allkeys-wtinylfu"

    # Every process's /metrics is valid exposition text, and the proxy's
    # per-node families name each node once.
    proxy = scrape(u.port + 100)
    assert proxy["slotcache_proxy_keyspace_misses"][0][1] >= 1
    up_nodes = {labels for labels, v in proxy["slotcache_proxy_node_up"] if v == 1}
    assert len(up_nodes) == nodes
    assert scrape(u.port + 401)["slotcache_loader_queries"][0][1] >= 1
    keys = sum(scrape(u.port + 101 + n)["slotcache_node_keys"][0][1] for n in range(nodes))
    assert keys == (nodes if topology == "replicated" else 1)

    assert_down(u)


def test_up_twice_and_port_taken(ups):
    u = ups("central")
    assert u.result.returncode == 0, u.result.stderr
    again = cli("up", "central", "--port", u.port, "--dir", u.dir)
    assert again.returncode == 1
    assert "already up" in again.stderr
    assert len(alive(u.entries)) == len(u.entries)  # the first is untouched
    assert_down(u)

    # A fixed port someone else holds: a clear message, nothing started.
    base = servers.free_up_base()
    d = run_dir()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", base + 400))
        s.listen()
        r = cli("up", "partitioned", "--port", base, "--dir", d)
    assert r.returncode == 1
    assert "%d (loader)" % (base + 400) in r.stderr and "in use" in r.stderr
    assert recorded(d) == []
    assert not any(port_open(base + o) for o in UP_OFFSETS if o != 400)
    shutil.rmtree(d, ignore_errors=True)


def test_up_failure_stops_what_it_started(tmp_path):
    """A loader that will not start: up says why, shows its log, and stops
    PostgreSQL and the nodes it had started."""
    root = tmp_path / "root"
    (root / "docker").mkdir(parents=True)
    shutil.copytree(os.path.join(DOCKER, "config"), root / "docker" / "config")
    with open(root / "docker" / "config" / "loader.conf", "a") as f:
        f.write("no-such-directive 1\n")
    os.symlink(os.path.join(servers.ROOT, "data"), root / "data")
    d = run_dir()
    base = servers.free_up_base()
    env = dict(os.environ, SLOTCACHE_ROOT=str(root))
    r = cli("up", "partitioned", "--port", base, "--dir", d, "--rows", 100, env=env)
    entries = recorded(os.path.join(d))
    try:
        assert r.returncode == 1
        assert "slotcache-loader (loader) exited" in r.stderr
        assert "no-such-directive" in r.stderr  # the loader's own words, from its log
        assert alive(entries) == []
        assert not any(port_open(base + o) for o in UP_OFFSETS)
    finally:
        for e in alive(entries):
            os.kill(e[1], 9)
        shutil.rmtree(d, ignore_errors=True)


def test_down_without_up():
    d = run_dir()
    r = cli("down", "--dir", d)
    assert r.returncode == 0 and "nothing to stop" in r.stdout
    os.rmdir(d)
    r = cli("down", "--dir", d)
    assert r.returncode == 1 and "not a run directory" in r.stderr


# ---- create, check --config, check finding problems ----

def test_create_and_check_config(tmp_path):
    nodes = [servers.start_node() for _ in range(4)]
    try:
        addrs = ["127.0.0.1:%d" % n.port for n in nodes]
        out = tmp_path / "proxy.conf"
        base = os.path.join(DOCKER, "config", "proxy.conf")
        r = cli("create", "--mode", "partitioned", "--replicas", "1", "--base", base,
                "--out", out, *addrs)
        assert r.returncode == 0, r.stderr
        text = out.read_text()
        assert "health-interval" in text  # the base's settings came along
        shards = re.findall(r"^shard (\S+) (.+)$", text, re.M)
        assert [m.split() for _, m in shards] == [addrs[0:2], addrs[2:4]]
        assert [s for s, _ in shards] == ["0-8191", "8192-16383"]

        c = cli("check", "--config", out)
        assert c.returncode == 0, c.stdout + c.stderr
        assert "all is well (2 shard(s), 4 node(s))" in c.stdout

        # A replica that holds a key its primary does not: they disagree.
        redis.Redis(port=nodes[1].port).set("stray", "1")
        c = cli("check", "--config", out)
        assert c.returncode == 1
        assert "shard 0: replicas disagree on key counts" in c.stdout

        nodes[3].stop()
        c = cli("check", "--config", out)
        assert c.returncode == 1
        assert "node %s (shard 1) does not answer" % addrs[3] in c.stdout
    finally:
        for n in nodes:
            n.stop()


def test_create_output_covers_every_slot():
    r = cli("create", "--mode", "partitioned", *["127.0.0.1:%d" % p for p in range(7001, 7008)])
    assert r.returncode == 0, r.stderr
    owned = []
    for spec in re.findall(r"^shard (\S+) ", r.stdout, re.M):
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            owned.extend(range(int(lo), int(hi or lo) + 1))
    assert sorted(owned) == list(range(16384))
    sizes = [len(re.findall(",", s)) for s in re.findall(r"^shard (\S+) ", r.stdout, re.M)]
    assert sizes == [0] * 7  # one range each
    r = cli("create", "--mode", "central", "127.0.0.1:7001")
    assert r.returncode == 0 and "mode central\nnode 127.0.0.1:7001\n" in r.stdout


def test_check_and_info_through_a_proxy_with_a_node_down():
    topo = Topology("partitioned", 3)
    try:
        r = cli("check", "--port", topo.proxy.port)
        assert r.returncode == 0, r.stdout
        topo.nodes[1].stop()
        servers.wait_until(lambda: cli("check", "--port", topo.proxy.port).returncode == 1,
                           timeout=10, what="check to notice the node down")
        r = cli("check", "--port", topo.proxy.port)
        assert "node 127.0.0.1:%d (shard 1) does not answer" % topo.nodes[1].port in r.stdout
        i = cli("info", "--port", topo.proxy.port)
        assert i.returncode == 1
        assert table_rows(i.stdout)["127.0.0.1:%d" % topo.nodes[1].port][3] == "no-reply"
    finally:
        topo.stop()


def test_info_watch_count():
    topo = Topology("central", 1)
    try:
        r = cli("info", "--port", topo.proxy.port, "--watch", "1", "--count", "2")
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("NODE ") == 2 and r.stdout.count("every 1s") == 2
    finally:
        topo.stop()


# ---- bad arguments ----

CLOSED = None


def closed_port():
    global CLOSED
    if CLOSED is None:
        CLOSED = servers.free_port()
    return CLOSED


@pytest.mark.parametrize("args,status,words", [
    ([], 2, "usage: slotcache-cli COMMAND"),
    (["frob"], 2, "unknown command 'frob'"),
    (["up"], 2, "which topology"),
    (["up", "ring"], 2, "unknown topology 'ring'"),
    (["up", "central", "--port", "0"], 2, "--port"),
    (["up", "central", "--port", "65535"], 2, "--port"),
    (["up", "central", "--rows"], 2, "--rows needs a value"),
    (["create", "--mode", "partitioned"], 2, "no node addresses"),
    (["create", "--mode", "ring", "h:1"], 2, "--mode must be"),
    (["create", "--mode", "partitioned", "--replicas", "1", "h:1", "h:2", "h:3"], 2,
     "do not divide"),
    (["create", "--mode", "central", "h:1", "h:2"], 2, "takes one node"),
    (["create", "--mode", "partitioned", "h"], 2, "'h' is not HOST:PORT"),
    (["check", "--bogus"], 2, "unknown option '--bogus'"),
    (["check", "--config", "x", "--port", "7000"], 2, "give one"),
    (["reshard", "--from", "a:1"], 2, "required"),
    (["reshard", "--slots", "20000", "--from", "a:1", "--to", "b:1"], 2, "--slots"),
    (["add-node"], 2, "required"),
    (["info", "--watch", "0"], 2, "--watch"),
    (["check", "--config", "/nonexistent/proxy.conf"], 1, "No such file"),
    (["check", "--port", "CLOSED"], 1, "cannot connect to 127.0.0.1:CLOSED"),
    (["info", "--port", "CLOSED"], 1, "cannot connect"),
    (["reshard", "--port", "CLOSED", "--from", "a:1", "--to", "b:1", "--slots", "1"], 1,
     "cannot connect"),
    (["add-node", "--port", "CLOSED", "127.0.0.1:1"], 1, "cannot connect"),
    (["del-node", "--port", "CLOSED", "127.0.0.1:1"], 1, "cannot connect"),
])
def test_bad_arguments(args, status, words):
    p = str(closed_port())
    args = [a.replace("CLOSED", p) for a in args]
    words = words.replace("CLOSED", p)
    r = cli(*args)
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr)
    assert words in r.stderr, r.stderr


def test_moves_refused_outside_partitioned_mode():
    topo = Topology("replicated", 2)
    try:
        r = cli("reshard", "--port", topo.proxy.port, "--from", topo.node_addrs()[0], "--to",
                "127.0.0.1:1", "--slots", "10")
        assert r.returncode == 1 and "mode replicated" in r.stderr
    finally:
        topo.stop()


# ---- the compose files ----

COMPOSE = ["central.yml", "partitioned.yml", "replicated.yml"]


def compose_config(name):
    r = subprocess.run(["docker-compose", "-f", os.path.join(DOCKER, name), "config"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


@pytest.mark.parametrize("name,nodes", [("central.yml", 1), ("partitioned.yml", 3),
                                        ("replicated.yml", 3)])
def test_compose_file_validates(name, nodes):
    cfg = compose_config(name)
    svc = cfg["services"]
    mode = name.split(".")[0]
    assert {"postgres", "seed", "loader", "proxy", "prometheus", "grafana"} <= set(svc)
    assert sorted(s for s in svc if s.startswith("node")) == ["node%d" % (i + 1)
                                                             for i in range(nodes)]
    assert svc["postgres"]["image"].startswith("postgres:")
    config_dir = os.path.join(DOCKER, "config")
    for s in ["loader", "proxy", "seed"] + ["node%d" % (i + 1) for i in range(nodes)]:
        assert svc[s]["build"]["target"] == "runtime"
        text = json.dumps(svc[s].get("command", "")) + json.dumps(svc[s].get("entrypoint", ""))
        # The same files `up` runs with: every /etc/slotcache/X.conf exists in docker/config.
        for conf in re.findall(r"/etc/slotcache/([a-z]+\.conf)", text):
            assert os.path.exists(os.path.join(config_dir, conf)), conf
        if s != "seed":
            mounts = [v if isinstance(v, str) else "%s:%s" % (v["source"], v["target"])
                      for v in svc[s].get("volumes", [])]
            assert any(m.startswith(config_dir + ":/etc/slotcache") for m in mounts), mounts
    assert "/etc/slotcache/node.conf" in json.dumps(svc["node1"]["command"])
    assert "/etc/slotcache/loader.conf" in json.dumps(svc["loader"]["command"])
    proxy = json.dumps(svc["proxy"]["command"]) + json.dumps(svc["proxy"].get("entrypoint", ""))
    assert "--mode %s" % mode in proxy and "/etc/slotcache/proxy.conf" in proxy
    for i in range(nodes):
        assert "node%d:700%d" % (i + 1, i + 1) in proxy


PROM_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
PROM_SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*)\})?'
                         r" (\S+)(?: -?\d+)?$")


def parse_prometheus(text):
    """Prometheus text format 0.0.4, strictly: {name: [(labels, value)]}.
    Each name has at most one HELP and one TYPE line, before its samples,
    and its samples are not interleaved with another family's."""
    families, typed, helped, done = {}, set(), set(), set()
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            w = line.split(" ", 3)
            name = w[2]
            assert PROM_NAME.match(name), line
            seen = typed if w[1] == "TYPE" else helped
            assert name not in seen, "second %s line for %s" % (w[1], name)
            assert name not in families, "%s after %s's samples" % (w[1], name)
            if w[1] == "TYPE":
                assert w[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
            seen.add(name)
            continue
        if line.startswith("#") or line == "":
            continue
        m = PROM_SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name = re.sub(r"_(bucket|sum|count)$", "", m.group(1)) if m.group(1) not in typed \
            else m.group(1)
        if name != current:
            assert name not in done, "samples of %s are split" % name
            if current is not None:
                done.add(current)
            current = name
        families.setdefault(m.group(1), []).append((m.group(2) or "", float(m.group(3))))
    return families


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        assert r.status == 200
        return parse_prometheus(r.read().decode())


def test_prometheus_and_grafana_agree_with_the_metrics(ups):
    with open(os.path.join(DOCKER, "prometheus", "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    targets = {t for job in prom["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]}
    targets |= {"%s:%d" % (name, sd["port"]) for job in prom["scrape_configs"]
                for sd in job.get("dns_sd_configs", []) for name in sd["names"]}
    assert {"proxy:7100", "loader:7401", "node1:7101", "node2:7102", "node3:7103"} <= targets
    cfg = compose_config("partitioned.yml")
    for service, port in (("proxy", 7100), ("loader", 7401), ("node1", 7101), ("node2", 7102),
                          ("node3", 7103)):
        assert "--metrics-port" in json.dumps(cfg["services"][service]["command"])
        assert str(port) in json.dumps(cfg["services"][service]["command"])

    # What the processes really export, scraped from a running topology.
    u = ups("partitioned")
    assert u.result.returncode == 0, u.result.stderr
    exported = set()
    for port in (u.port + 100, u.port + 101, u.port + 102, u.port + 103, u.port + 401):
        exported |= set(scrape(port))

    with open(os.path.join(DOCKER, "grafana", "dashboards", "slotcache.json")) as f:
        dash = json.load(f)
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p.get("targets", []))
    used = set(re.findall(r"\bslotcache_(?:proxy|loader|node)_[a-z0-9_]+", exprs))
    missing = {n for n in used if n not in exported and
               re.sub(r"_(bucket|sum|count)$", "", n) not in exported}
    assert missing == set(), "the dashboard asks for metrics nobody exports: %s" % missing
    for needed in ("keyspace_hits", "keyspace_misses", "node_latency_seconds_avg",
                   "slotcache_node_evicted_keys_total"):
        assert needed in exprs


# ---- resharding under load ----

class Load:
    """Clients reading and writing through the proxy until stopped; every
    value written is remembered, every error and wrong value counted."""

    def __init__(self, port, threads=4):
        self.port = port
        self.stop_flag = threading.Event()
        self.errors = []
        self.written = {}
        self.lock = threading.Lock()
        self.ops = 0
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, t):
        c = redis.Redis(port=self.port, socket_timeout=10)
        rnd = random.Random(t)
        mine = []
        i = 0
        while not self.stop_flag.is_set():
            try:
                key = "load:%d:%d" % (t, i)
                value = "v%d-%d" % (i, rnd.randrange(1 << 30))
                c.set(key, value)
                with self.lock:
                    self.written[key] = value
                mine.append((key, value))
                i += 1
                k, v = mine[rnd.randrange(len(mine))]
                got = c.get(k)
                if got is None or got.decode() != v:
                    self.errors.append("GET %s: %r, wrote %r" % (k, got, v))
                with self.lock:
                    self.ops += 2
            except redis.RedisError as e:
                self.errors.append("%s: %s" % (type(e).__name__, e))

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=30)


def check_map(port):
    """check's printed shard map: [(slots spec, [member addrs])]."""
    r = cli("check", "--port", port)
    assert r.returncode == 0, r.stdout + r.stderr
    shards = []
    for line in r.stdout.splitlines():
        m = re.match(r"shard \d+: (\d+) slots: (\S+)", line)
        if m:
            shards.append((m.group(2), []))
        elif line.startswith("    ") and shards:
            shards[-1][1].append(line.split()[0])
    return shards


def spec_slots(spec):
    out = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def test_reshard_and_add_node_under_load():
    topo = Topology("partitioned", 3)
    extra = servers.start_node()
    load = None
    try:
        port = topo.proxy.port
        c = redis.Redis(port=port)
        # Keys with TTLs, written before the moves: they must move with them.
        # Enough of them that each move takes a while under the load.
        ttl_keys = {"ttl:%d" % i: "t%d" % i for i in range(30000)}
        pipe = c.pipeline(transaction=False)
        for i, (k, v) in enumerate(ttl_keys.items()):
            pipe.set(k, v, ex=3600)
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        load = Load(port)
        servers.wait_until(lambda: load.ops > 2000, timeout=30, what="load to start")

        a, b = topo.node_addrs()[0], topo.node_addrs()[1]
        r = cli("reshard", "--port", port, "--from", a, "--to", b, "--slots", 4000, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        r = cli("add-node", "--port", port, "127.0.0.1:%d" % extra.port, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        ops = load.ops
        servers.wait_until(lambda: load.ops > ops + 2000, timeout=30, what="load after the moves")
        load.stop()

        assert load.errors == [], load.errors[:20]
        for k, v in list(load.written.items()) + list(ttl_keys.items()):
            assert c.get(k) == v.encode(), k
        pipe = c.pipeline(transaction=False)
        for k in ttl_keys:
            pipe.ttl(k)
        assert all(0 < t <= 3600 for t in pipe.execute())

        shards = check_map(port)
        assert len(shards) == 4
        by_member = {members[0]: spec_slots(spec) for spec, members in shards}
        assert len(by_member["127.0.0.1:%d" % extra.port]) == 16384 // 4
        assert sum(len(s) for s in by_member.values()) == 16384
        # Ownership is what check says: every key is on the node of its slot.
        nodes = {addr: redis.Redis(port=int(addr.rsplit(":", 1)[1])) for addr in by_member}
        for k in random.Random(1).sample(sorted(load.written), min(2000, len(load.written))):
            owner = [a for a, s in by_member.items() if key_slot(k.encode()) in s]
            assert len(owner) == 1
            assert nodes[owner[0]].get(k) == load.written[k].encode(), (k, owner)
        total = sum(n.dbsize() for n in nodes.values())
        assert total == len(load.written) + len(ttl_keys)  # moved keys left their source
        # The proxy wrote its new map to its config file: a restart keeps it.
        with open(topo.config_path) as f:
            lines = re.findall(r"^shard (\S+) (.+)$", f.read(), re.M)
        assert sorted((spec, m.split()) for spec, m in lines) == sorted(shards)
    finally:
        if load is not None:
            load.stop()
        extra.stop()
        topo.stop()


def test_del_node_under_load():
    topo = Topology("partitioned", 3)
    load = None
    try:
        port = topo.proxy.port
        load = Load(port, threads=2)
        servers.wait_until(lambda: load.ops > 1000, timeout=30, what="load to start")
        gone = topo.node_addrs()[1]
        r = cli("del-node", "--port", port, gone, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        ops = load.ops
        servers.wait_until(lambda: load.ops > ops + 1000, timeout=30, what="load after the move")
        load.stop()
        assert load.errors == [], load.errors[:20]
        c = redis.Redis(port=port)
        for k, v in load.written.items():
            assert c.get(k) == v.encode(), k
        shards = check_map(port)
        assert [m for _, m in shards] == [[a] for a in topo.node_addrs() if a != gone]
        counts = [len(spec_slots(spec)) for spec, _ in shards]
        assert sum(counts) == 16384 and max(counts) - min(counts) <= 1
        assert redis.Redis(port=topo.nodes[1].port).dbsize() == 0
    finally:
        if load is not None:
            load.stop()
        topo.stop()


def test_move_refusals():
    """Moves that cannot be done are refused before anything moves."""
    topo = Topology("partitioned", 2)
    busy = servers.start_node()
    try:
        port = topo.proxy.port
        a, b = topo.node_addrs()
        before = check_map(port)
        redis.Redis(port=busy.port).set("stale", "1")
        cases = [
            (["reshard", "--from", a, "--to", b, "--slots", 9000], "fewer than --slots 9000"),
            (["reshard", "--from", a, "--to", a, "--slots", 1], "same shard"),
            (["reshard", "--from", "127.0.0.1:1", "--to", b, "--slots", 1], "not in the shard map"),
            (["add-node", a], "already in shard"),
            (["add-node", "127.0.0.1:%d" % busy.port], "must be empty"),
            (["add-node", "127.0.0.1:%d" % servers.free_port()], "cannot connect"),
            (["del-node", "127.0.0.1:1"], "not in the shard map"),
        ]
        for args, words in cases:
            r = cli(args[0], "--port", port, *args[1:])
            assert r.returncode == 1 and words in r.stderr, (args, r.stdout, r.stderr)
        assert check_map(port) == before
        r = cli("del-node", "--port", port, a)
        assert r.returncode == 0, r.stderr
        r = cli("del-node", "--port", port, b)
        assert r.returncode == 1 and "only shard" in r.stderr
    finally:
        busy.stop()
        topo.stop()


def test_fragmented_shard_keeps_its_slots():
    """The longest slot lists there are (every other slot: 8192 single
    slots a shard): check sees every slot owned, the rewritten config file
    names them all, and a proxy restarted from it routes as before."""
    topo = Topology("partitioned", 2)
    try:
        port = topo.proxy.port
        c = redis.Redis(port=port)
        c.mset({"k%d" % i: i for i in range(2000)})
        c.execute_command("PROXY", "MIGRATE", ",".join(str(s) for s in range(0, 8192, 2)),
                          topo.node_addrs()[1])
        servers.wait_until(lambda: b"state:done" in c.execute_command("PROXY", "MIGRATIONS"),
                           timeout=30, what="the move")
        shards = check_map(port)
        assert sum(len(spec_slots(spec)) for spec, _ in shards) == 16384
        with open(topo.config_path) as f:
            lines = re.findall(r"^shard (\S+) ", f.read(), re.M)
        assert sorted(s for spec in lines for s in spec_slots(spec)) == list(range(16384))
        assert max(len(spec) for spec in lines) > 16000  # past every fixed buffer it once met
        topo.proxy.stop()
        port = topo.start_proxy().port
        assert check_map(port) == shards
        c = redis.Redis(port=port)
        assert c.mget(["k%d" % i for i in range(2000)]) == [b"%d" % i for i in range(2000)]
    finally:
        topo.stop()
