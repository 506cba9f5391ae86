"""The processes a soak runs against, and the faults done to them.

A stack is what `slotcache-cli up` starts, built from the integration
tests' helpers so that it runs on free loopback ports in a directory of its
own: a throwaway PostgreSQL with the koi sample data (loader_client.PgCluster),
slotcache-loader on it, three slotcache-nodes and a slotcache-proxy with
`loader` set (topology.Topology).  Replicated: one shard of three nodes.
Partitioned: three shards, one of two nodes (a primary and a replica, so
that resynchronisation and slot moves into and out of a shard of several
nodes are exercised too, and losing its keys is never excused) and two of
one node (whose keys die with it, by design).

Each fault method does its damage and returns; wait_healthy() says when the
stack is whole again.  Processes are stopped by pid and waited for by
polling; the only timed waits are a fault's own duration.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import servers  # noqa: E402
from loader_client import LoaderProcess, PgCluster  # noqa: E402
from redis.crc import key_slot  # noqa: E402
from resp_client import RespClient  # noqa: E402
from topology import Topology  # noqa: E402

NODES = {"replicated": 3, "partitioned": 4}
# Partitioned: which nodes (by index) make each shard, and its slots.
SHARDS = [("0-5460", (0, 3)), ("5461-10921", (1,)), ("10922-16383", (2,))]
NODE_TIMEOUT_MS = 1000
LOADER_TIMEOUT_MS = 2000
# Short, so that rows expire from the cache and are read through again
# all along the run, not only in its first seconds.
ROUTE_TTL_S = 20
KOI_ROUTE = 'route koi: "SELECT row_to_json(k)::text FROM koi k WHERE kepid = $1::bigint" ttl %d'


def spec_slots(spec):
    """'0-5,9' -> {0, 1, 2, 3, 4, 5, 9}."""
    out = set()
    for part in spec.split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


class SoakTopology(Topology):
    """Topology with the partitioned layout of SHARDS."""

    def config_lines(self):
        if self.mode != "partitioned":
            return super().config_lines()
        lines = super().config_lines()
        addrs = self.node_addrs()
        return [l for l in lines if not l.startswith("shard ")] + [
            "shard %s %s" % (slots, " ".join(addrs[i] for i in members))
            for slots, members in SHARDS]


class OwnerHistory:
    """Which shard (its members) owned each slot when: the maps seen,
    each valid over a time interval.  A reshard's new map is valid from the
    moment it started and the old one until it ended, so during the move
    both the source and the target count as owners."""

    def __init__(self, owners, now):
        self.maps = [[now, float("inf"), owners]]
        self.lock = threading.Lock()

    def changed(self, owners, started, ended):
        with self.lock:
            self.maps[-1][1] = ended
            self.maps.append([started, float("inf"), owners])

    def owners(self, slot, since, until):
        with self.lock:
            return {m[slot] for f, t, m in self.maps if f <= until and t >= since}


class Stack:
    def __init__(self, mode, workdir, rows, log):
        self.mode = mode
        self.workdir = workdir
        self.log = log
        self.kills = []  # (monotonic time, node address) of every kill -9 of a node
        self.kills_lock = threading.Lock()
        self.unexpected = []  # processes found dead that no fault killed
        self.pg = PgCluster()
        self.pg.load_rows(rows)
        self.loader_conf = os.path.join(workdir, "loader.conf")
        with open(self.loader_conf, "w") as f:
            f.write(KOI_ROUTE % ROUTE_TTL_S + "\n")
        self.loader_dir = os.path.join(workdir, "loader")
        os.makedirs(self.loader_dir)
        self.loader = LoaderProcess(self.pg.conninfo(), config=self.loader_conf,
                                    workdir=self.loader_dir)
        self.loader.wait_connected(1)
        extra = ("loader 127.0.0.1:%d" % self.loader.port, "loader-ping-interval 200",
                 "loader-timeout %d" % LOADER_TIMEOUT_MS, "node-timeout %d" % NODE_TIMEOUT_MS)
        self.topo = SoakTopology(mode, NODES[mode], extra=extra, workdir=workdir)
        self.port = self.topo.proxy.port
        self.history = None
        if mode == "partitioned":
            self.history = OwnerHistory(self.slot_owners(), time.monotonic())

    # ---- looking at the proxy ----

    def proxy_info(self, section):
        c = RespClient("127.0.0.1", self.port, timeout=10)
        try:
            kind, text = c.call("INFO", section)
        finally:
            c.close()
        if kind not in "$=":
            raise RuntimeError("INFO %s: %r" % (section, text))
        return servers.parse_info(text)

    def node_lines(self):
        """[{addr, slots, status, ...}] from INFO nodes."""
        out = []
        for name, value in self.proxy_info("nodes").items():
            if name.startswith("node"):
                out.append(dict(kv.split("=", 1) for kv in value.split(",") if "=" in kv)
                           | {"slots": value.split("slots=", 1)[1].split(",status=", 1)[0]})
        return out

    def slot_owners(self):
        """The proxy's map: for each slot, its shard's members (a tuple)."""
        shards = {}
        for n in self.node_lines():
            members, slots = shards.setdefault(n["shard"], ([], n["slots"]))
            members.append(n["addr"])
        owners = [None] * 16384
        for members, slots in shards.values():
            for s in spec_slots(slots):
                owners[s] = tuple(members)
        return owners

    def addr(self, i):
        return "127.0.0.1:%d" % self.topo.nodes[i].port

    def health_problems(self):
        """What keeps the stack from being whole, as text; [] when whole."""
        problems = []
        for i, n in enumerate(self.topo.nodes):
            if not n.alive():
                problems.append("node %s exited (%s)" % (self.addr(i), n.proc.returncode))
        if not self.loader.alive():
            problems.append("loader exited (%s)" % self.loader.proc.returncode)
        if not self.topo.proxy.alive():
            problems.append("proxy exited (%s)" % self.topo.proxy.proc.returncode)
            return problems
        try:
            for n in self.node_lines():
                if n["status"] != "up":
                    problems.append("node %s is %s" % (n["addr"], n["status"]))
            li = self.proxy_info("loader")
            if li.get("loader_connected") != "1" or int(li.get("loader_routes", "0")) < 1:
                problems.append("proxy not connected to the loader")
            if li.get("loader_breaker_open") != "0":
                problems.append("loader's breaker open")
        except (OSError, RuntimeError, ConnectionError) as e:
            problems.append("proxy INFO: %s" % e)
        return problems

    def revive(self):
        """Restarts every server found dead, which no fault left dead: each
        is a crash, returned as text with the end of its log."""
        crashes = []
        for i, n in enumerate(self.topo.nodes):
            if not n.alive():
                crashes.append("node %s died (%s):\n%s" % (self.addr(i), n.proc.returncode,
                                                           n.log_text()[-3000:]))
                with self.kills_lock:  # its keys are gone, as after a kill
                    self.kills.append((time.monotonic(), self.addr(i)))
                self.topo.restart_node(i)
        if not self.loader.alive():
            crashes.append("loader died (%s):\n%s" % (self.loader.proc.returncode,
                                                      self.loader.log_text()[-3000:]))
            self.loader = LoaderProcess(self.pg.conninfo(), config=self.loader_conf,
                                        port=self.loader.port, workdir=self.loader_dir)
        if not self.topo.proxy.alive():
            crashes.append("proxy died (%s):\n%s" % (self.topo.proxy.proc.returncode,
                                                     self.topo.proxy.log_text()[-3000:]))
            self.topo.start_proxy(port=self.port)
        if not self.pg.running():
            crashes.append("PostgreSQL is not running:\n%s" % self.pg.log_text()[-3000:])
            self.pg.start()
        return crashes

    def wait_healthy(self, timeout):
        """Polls until the stack is whole; returns the problems left after
        timeout seconds ([] when it became whole)."""
        deadline = time.monotonic() + timeout
        while True:
            problems = self.health_problems()
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(0.1)

    def wait_node_status(self, addr, status, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if any(n["addr"] == addr and n["status"] == status for n in self.node_lines()):
                    return True
            except (OSError, RuntimeError):
                pass
            time.sleep(0.05)
        return False

    # ---- faults ----

    def kill_node(self, i):
        """kill -9 node i and start it again on its port, empty."""
        addr = self.addr(i)
        with self.kills_lock:
            self.kills.append((time.monotonic(), addr))
        self.topo.nodes[i].stop(signal.SIGKILL)
        self.topo.restart_node(i)
        return "kill -9 node %s, restarted" % addr

    def stop_node(self, i):
        """SIGSTOP node i until the proxy has marked it down (it waited
        node-timeout for a reply), then SIGCONT."""
        addr = self.addr(i)
        proc = self.topo.nodes[i].proc
        proc.send_signal(signal.SIGSTOP)
        try:
            marked = self.wait_node_status(addr, "down")
        finally:
            proc.send_signal(signal.SIGCONT)
        return "SIGSTOP node %s until %s, SIGCONT" % (
            addr, "marked down" if marked else "30 s (never marked down)")

    def restart_loader(self):
        port = self.loader.port
        self.loader.stop(signal.SIGKILL)
        self.loader = LoaderProcess(self.pg.conninfo(), config=self.loader_conf, port=port,
                                    workdir=self.loader_dir)
        return "kill -9 loader, restarted"

    def hang_loader(self):
        """SIGSTOP the loader past the proxy's loader-timeout, then SIGCONT."""
        self.loader.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(LOADER_TIMEOUT_MS * 1.5 / 1000)  # the fault's duration
        finally:
            self.loader.proc.send_signal(signal.SIGCONT)
        return "SIGSTOP loader %.1f s, SIGCONT" % (LOADER_TIMEOUT_MS * 1.5 / 1000)

    def restart_postgres(self, mode):
        """pg_ctl stop -m fast (clients told, a clean shutdown) or immediate
        (a crash: recovery at the next start), then start."""
        self.pg.stop(mode)
        self.pg.start()
        return "pg_ctl stop -m %s, start" % mode

    def restart_proxy(self, sig):
        """Stops the proxy (SIGTERM: it must exit 0; SIGKILL) and starts it
        again on its port from its config file (which a reshard rewrote)."""
        rc = self.topo.proxy.stop(sig)
        self.topo.start_proxy(port=self.port)
        if sig == signal.SIGTERM and rc != 0:
            self.unexpected.append("proxy exited with %s on SIGTERM" % rc)
        return "proxy %s (exit %s), restarted" % (signal.Signals(sig).name, rc)

    def reshard(self, nslots):
        """slotcache-cli reshard: nslots slots from the shard owning the
        most to the one owning the fewest (each named by its first node)."""
        count = Counter(self.slot_owners())
        src = max(count, key=count.get)[0]
        dst = min(count, key=count.get)[0]
        started = time.monotonic()
        r = subprocess.run([os.path.join(servers.BIN_DIR, "slotcache-cli"), "reshard", "--port",
                            str(self.port), "--from", src, "--to", dst, "--slots", str(nslots)],
                           capture_output=True, text=True, timeout=600)
        self.history.changed(self.slot_owners(), started, time.monotonic())
        if r.returncode != 0:
            self.unexpected.append("reshard %s -> %s failed: %s" % (src, dst, r.stderr.strip()))
        return "reshard %d slots %s -> %s (exit %d)" % (nslots, src, dst, r.returncode)

    # ---- what the checks need ----

    def killed_owner(self, key, since, until):
        """Whether the only node of a shard that owned key's slot was killed
        in [since, until]: the excuse for a lost write in partitioned mode.
        (A shard of two nodes loses nothing to one kill: faults come one at
        a time and the next waits until the killed node is refilled.)"""
        if self.history is None or since is None:
            return False
        slot = key_slot(key.split("#", 1)[0].encode())  # a hash field: its hash's key
        alone = {m[0] for m in self.history.owners(slot, since, until) if len(m) == 1}
        with self.kills_lock:
            return any(since <= t <= until and a in alone for t, a in self.kills)

    def node_ports(self):
        return [n.port for n in self.topo.nodes]

    # ---- the end ----

    def stop(self):
        """Stops everything by pid; returns problems: a server that did not
        exit 0 on SIGTERM, or whose log has a sanitizer report."""
        problems = []
        procs = [("proxy", self.topo.proxy)] + [
            ("node %s" % self.addr(i), n) for i, n in enumerate(self.topo.nodes)] + [
            ("loader", self.loader)]
        for name, p in procs:
            rc = p.stop()
            if rc != 0:
                problems.append("%s exited with %s" % (name, rc))
        problems += sanitizer_reports(self.workdir)
        self.pg.destroy()
        return problems


SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"runtime error:", b"ERROR: LeakSanitizer")


def sanitizer_reports(workdir):
    """Logs under workdir (every process ever started, restarts included)
    that hold a sanitizer report."""
    found = []
    for root, _dirs, files in os.walk(workdir):
        for name in files:
            if name.endswith(".log"):
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    text = f.read()
                for marker in SANITIZER_MARKERS:
                    if marker in text:
                        found.append("%s in %s" % (marker.decode(), path))
    return found
