"""Start and stop real servers for tests: free loopback ports, stop by pid,
wait by polling, never a fixed sleep."""

import ctypes
import itertools
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Relative to the repository: servers run in their own working directories.
BIN_DIR = os.path.join(ROOT, os.environ.get("SC_BIN_DIR", "bin"))
# tests/run-valgrind.sh: our servers run under memcheck, each writing its
# report into SC_VALGRIND_LOGS; everything takes longer.
VALGRIND_LOGS = os.environ.get("SC_VALGRIND_LOGS")
SLOW = 20 if VALGRIND_LOGS else 1


_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_CAP_SYS_RESOURCE = 24


def _die_with_parent():
    """In the child before exec: a test run killed outright (a CI timeout,
    SIGKILL) must not leave its servers listening for the next run."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _preexec(nofile):
    """The child's setup before exec: die with the test run and, with
    nofile=(soft, hard), start under that open-file limit.  A lowered hard
    limit must hold for a server running as root too, so the capability
    that would let it raise the limit again (CAP_SYS_RESOURCE) leaves the
    bounding set (best effort: without CAP_SETPCAP it is not there anyway
    for a non-root server)."""
    def setup():
        _die_with_parent()
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
            ctypes.CDLL(None, use_errno=True).prctl(_PR_CAPBSET_DROP, _CAP_SYS_RESOURCE)
    return setup


def spawn(argv, workdir, logf, nofile=None):
    """A server process whose output goes to logf; it dies with the test run.
    nofile=(soft, hard) sets its RLIMIT_NOFILE."""
    name = os.path.basename(argv[0])
    if VALGRIND_LOGS and name.startswith("slotcache-"):
        argv = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                "--log-file=%s/%s.%%p.log" % (VALGRIND_LOGS, name)] + list(argv)
    return subprocess.Popen(argv, cwd=workdir, stdout=logf, stderr=subprocess.STDOUT,
                            preexec_fn=_preexec(nofile))


PORT_FLOOR = 20000
_port_rng = random.Random(os.urandom(16))  # whatever a test does to random's seed


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A free port below the kernel's ephemeral range.  Servers are restarted
    on their port (a node after kill -9, the proxy, the loader); a port the
    kernel also hands out as the source port of outgoing connections can be
    taken by one in between, and the restart then fails to bind."""
    high = _ephemeral_low()
    for _ in range(1000):
        port = _port_rng.randrange(PORT_FLOOR, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in %d-%d" % (PORT_FLOOR, high - 1))


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# The ports `slotcache-cli up --port N` takes, as offsets from N
# (cluster-tools/cli_up.h).
UP_OFFSETS = (0, 1, 2, 3, 100, 101, 102, 103, 400, 401, 432)


def free_up_base():
    """A proxy port N such that every port `up --port N` takes is free."""
    for _ in range(500):
        base = random.randrange(20000, 64000)
        if all(port_free(base + o) for o in UP_OFFSETS):
            return base
    raise RuntimeError("no free block of ports for up")


def wait_for_port(port, proc=None, timeout=10.0, log=None, ssl_context=None):
    """Polls until the server on port answers PING (over TLS with
    ssl_context, a client's ssl.SSLContext, for a TLS port)."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s; log:\n%s" % (proc.returncode, read_log(log)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw:
                s = ssl_context.wrap_socket(raw) if ssl_context is not None else raw
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return
        except OSError:  # ssl.SSLError included
            pass
        time.sleep(0.02)
    raise RuntimeError("server on port %d did not answer; log:\n%s" % (port, read_log(log)))


def read_log(path):
    if path is None or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read()[-8000:].decode(errors="replace")


class Server:
    """A server process on a free port; .stop() kills it by pid.  With
    ssl_context, port is a TLS port and is probed over TLS."""

    def __init__(self, argv, port, workdir, log, ssl_context=None, nofile=None):
        self.port = port
        self.workdir = workdir
        self.log = log
        self.ssl_context = ssl_context
        self.logf = open(log, "ab")
        self.proc = spawn(argv, workdir, self.logf, nofile=nofile)
        wait_for_port(port, self.proc, log=log, ssl_context=ssl_context)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def log_text(self):
        return read_log(self.log)


def port_args(port, ssl_context):
    """--port, or for a TLS-only server (ssl_context: how to probe it)
    --port 0 --tls-port, as redis-server reads them."""
    if ssl_context is None:
        return ["--port", str(port)]
    return ["--port", "0", "--tls-port", str(port)]


def start_node(*extra, workdir=None, port=None, ssl_context=None, nofile=None):
    """A slotcache-node; with ssl_context it listens on TLS only (port is its
    tls-port; extra carries the tls-* files)."""
    workdir = workdir or tempfile.mkdtemp(prefix="sc-node-")
    port = port or free_port()
    argv = [os.path.join(BIN_DIR, "slotcache-node")] + port_args(port, ssl_context)
    argv += ["--bind", "127.0.0.1"] + [str(a) for a in extra]
    return Server(argv, port, workdir, os.path.join(workdir, "node.log"), ssl_context,
                  nofile=nofile)


def start_redis(*extra, workdir=None, port=None, ssl_context=None, nofile=None):
    """redis-server 7 as the reference: one database (the node has one),
    nothing on disk.  ssl_context: as start_node."""
    workdir = workdir or tempfile.mkdtemp(prefix="sc-redis-")
    port = port or free_port()
    argv = [shutil.which("redis-server")] + port_args(port, ssl_context)
    argv += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "1",
             "--dir", workdir] + [str(a) for a in extra]
    return Server(argv, port, workdir, os.path.join(workdir, "redis.log"), ssl_context,
                  nofile=nofile)


# ---- helpers for the protocol, limits, eviction and client tests ----

def wait_until(cond, timeout=5.0, interval=0.02, what="a condition"):
    """Polls cond() until it returns something true, which is returned;
    fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def parse_info(text):
    """INFO's text as {field: value-string} (sections flattened)."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def info(client, section="default"):
    """INFO <section> through a RespClient, parsed."""
    t, v = client.call("INFO", section)
    assert t in "$=", (t, v)
    return parse_info(v)


def info_int(client, field, section="default"):
    return int(info(client, section)[field])


def pipeline(client, cmds):
    """Sends every command of cmds in one write and returns the replies, in
    order (cmds: a list of argument tuples)."""
    from resp_client import RespClient
    client.send_raw(b"".join(RespClient.pack(*c) for c in cmds))
    return [client.read_reply() for _ in cmds]


def exchange_raw(port, payloads, quiet=0.4, timeout=10.0, host="127.0.0.1"):
    """Sends each byte string of payloads on its own new connection (all at
    once) and reads what comes back until every connection is closed or none
    has said anything for `quiet` seconds.  Returns [(reply bytes, closed)],
    closed being True when the server closed the connection (EOF or reset)."""
    import selectors
    sel = selectors.DefaultSelector()
    socks = []
    for i, data in enumerate(payloads):
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    results = [[b"", False] for _ in payloads]
    for i, (s, data) in enumerate(zip(socks, payloads)):
        try:
            s.sendall(data)
        except OSError:
            results[i][1] = True  # refused mid-send: reset by the server
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    open_n = len(socks)
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while open_n > 0 and time.monotonic() < deadline:
        events = sel.select(timeout=0.05)
        if not events:
            if time.monotonic() - last > quiet:
                break
            continue
        for key, _ in events:
            i = key.data
            try:
                chunk = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            last = time.monotonic()
            if chunk:
                results[i][0] += chunk
            else:
                results[i][1] = True
                sel.unregister(key.fileobj)
                open_n -= 1
    sel.close()
    for s in socks:
        s.close()
    return [tuple(r) for r in results]


def non_loopback_ipv4():
    """A local IPv4 address that is not on loopback, or None."""
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        words = line.split()
        if "inet" in words:
            addr = words[words.index("inet") + 1].split("/")[0]
            if not addr.startswith("127."):
                return addr
    return None


# ---- processes seen from outside: memory, descriptors ----

ASAN = os.environ.get("SC_FLAVOUR") == "asan"


def rss_bytes(pid):
    """The resident set size of a process, from /proc."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def open_fds(pid):
    """The descriptor numbers a process has open."""
    return {int(n) for n in os.listdir("/proc/%d/fd" % pid)}


def cpu_seconds(pid):
    """User plus system CPU time a process has used, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port, path, timeout=30.0):
    """(status, body) of GET path on 127.0.0.1:port."""
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read().decode()


def nofile_limit(pid):
    return resource.prlimit(pid, resource.RLIMIT_NOFILE)


def set_nofile_soft(pid, soft):
    """Changes a running process's soft open-file limit (its hard limit
    stays, so the old soft limit can be given back)."""
    _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))


def raise_own_nofile(n):
    """This test process needs n descriptors (its side of many connections):
    raises its soft limit as far as the hard one allows; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exhaust_descriptors(pid, socks, connect):
    """Makes a running server's next accept() fail with EMFILE: fills the
    holes in its descriptor table with more connections (connect() opens
    one; they are appended to socks), then lowers its soft open-file limit
    to the first free number, so that any descriptor it frees later is
    usable again.  Returns the old soft limit."""
    while True:
        fds = open_fds(pid)
        lowest = next(n for n in itertools.count() if n not in fds)
        if lowest > max(fds):
            break
        socks.append(connect())
        wait_until(lambda: lowest in open_fds(pid), what="the hole filled")
    old = nofile_limit(pid)[0]
    set_nofile_soft(pid, lowest)
    return old


def open_connections(port, n, host="127.0.0.1"):
    """n idle TCP connections to port (closed by the caller)."""
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection((host, port), timeout=30))
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


class ServerSet:
    """Servers a test starts with its own options; stop_all() stops them
    by pid and returns the problems found (a node that did not exit 0)."""

    def __init__(self):
        self.started = []

    def node(self, *extra, **kw):
        s = start_node(*extra, **kw)
        self.started.append(("node", s))
        return s

    def redis(self, *extra, **kw):
        s = start_redis(*extra, **kw)
        self.started.append(("redis", s))
        return s

    def start(self, kind, *extra, **kw):
        return self.node(*extra, **kw) if kind == "node" else self.redis(*extra, **kw)

    def stop_all(self):
        problems = []
        for kind, s in self.started:
            rc = s.stop()
            if kind == "node" and rc != 0:
                problems.append("slotcache-node (port %d) exited with %s:\n%s" % (
                    s.port, rc, s.log_text()))
        self.started = []
        return problems

    def logs(self):
        return "\n".join("---- %s log (port %d) ----\n%s" % (k, s.port, s.log_text())
                         for k, s in self.started)


def redis_benchmark(port, requests):
    """Runs `redis-benchmark -t set,get -n REQUESTS -q` against port, checks
    that it ran clean (exit 0, no error in its output) and returns its
    requests/s as {"SET": .., "GET": ..}.  Without -r it writes one key,
    key:__rand_int__, with a 3-byte value."""
    r = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "set,get",
                        "-n", str(requests), "-q"], capture_output=True, timeout=120)
    out = r.stdout.decode(errors="replace").replace("\r", "\n")
    assert r.returncode == 0, (out, r.stderr)
    assert "error" not in out.lower() and not r.stderr.strip(), (out, r.stderr)
    rates = {t: float(v) for t, v in
             re.findall(r"^(SET|GET): ([\d.]+) requests per second", out, re.M)}
    assert set(rates) == {"SET", "GET"} and all(v > 0 for v in rates.values()), out
    return rates
