"""A small client of slotcache-loader's protocol (loader/loader.proto), and the
processes the loader's tests need: a throwaway PostgreSQL cluster and the
loader itself.

Frames are `u32 length | u32 stream id | u8 method | protobuf payload`,
big-endian.  The few messages are encoded and decoded by hand (proto3 wire
format: varints and length-delimited fields) because Debian's
python3-protobuf is not installed here and these five messages do not
justify a dependency.
"""

import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402

METHOD_LOAD, METHOD_PING, METHOD_AUTH = 1, 2, 3
FRAME_HEADER = 9

# gRPC's codes, as loader.proto numbers them.
OK = 0
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16
STATUS_NAMES = {OK: "OK", 1: "CANCELLED", 2: "UNKNOWN", INVALID_ARGUMENT: "INVALID_ARGUMENT",
                DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED", NOT_FOUND: "NOT_FOUND",
                RESOURCE_EXHAUSTED: "RESOURCE_EXHAUSTED", INTERNAL: "INTERNAL",
                UNAVAILABLE: "UNAVAILABLE", UNAUTHENTICATED: "UNAUTHENTICATED"}


# ---- proto3 wire format ----

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, value):
    # proto3 leaves zero out; so do we.
    return varint(num << 3) + varint(value) if value else b""


def _read_varint(buf, i):
    shift = 0
    n = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def decode_fields(buf):
    """{field number: [values]}: ints for varints and fixed fields, bytes
    for length-delimited ones."""
    fields = {}
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(buf, i)
        elif wt == 2:
            n, i = _read_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field")
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wt)
        fields.setdefault(num, []).append(v)
    return fields


def _one(fields, num, default):
    return fields[num][-1] if num in fields else default


@dataclass
class LoadReply:
    status: int
    value: bytes = b""
    ttl: int = 0
    message: str = ""

    @property
    def status_name(self):
        return STATUS_NAMES.get(self.status, str(self.status))


@dataclass
class PingReply:
    status: int
    version: str = ""
    routes: list = field(default_factory=list)  # [(prefix, ttl)]
    breaker_open: bool = False


@dataclass
class AuthReply:
    status: int


def encode_load(key, deadline_ms=0):
    if isinstance(key, str):
        key = key.encode()
    return field_bytes(1, key) + field_varint(2, deadline_ms)


def encode_auth(secret):
    if isinstance(secret, str):
        secret = secret.encode()
    return field_bytes(1, secret)


def decode_reply(method, payload):
    f = decode_fields(payload)
    if method == METHOD_LOAD:
        return LoadReply(_one(f, 1, 0), _one(f, 2, b""), _one(f, 3, 0),
                         _one(f, 4, b"").decode(errors="replace"))
    if method == METHOD_PING:
        routes = []
        for r in f.get(3, []):
            rf = decode_fields(r)
            routes.append((_one(rf, 1, b"").decode(), _one(rf, 2, 0)))
        return PingReply(_one(f, 1, 0), _one(f, 2, b"").decode(), routes, bool(_one(f, 4, 0)))
    if method == METHOD_AUTH:
        return AuthReply(_one(f, 1, 0))
    raise ValueError("unknown method %d" % method)


def frame(stream, method, payload):
    return struct.pack(">IIB", len(payload), stream, method) + payload


class Closed(Exception):
    """The loader closed the connection."""


class LoaderClient:
    """One connection; requests may be pipelined (send_* then recv_reply)."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.next_stream = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _stream(self, stream):
        if stream is None:
            stream = self.next_stream
            self.next_stream += 1
        return stream

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, payload, stream=None):
        stream = self._stream(stream)
        self.sock.sendall(frame(stream, method, payload))
        return stream

    def send_load(self, key, deadline_ms=0, stream=None):
        return self.send(METHOD_LOAD, encode_load(key, deadline_ms), stream)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise Closed("connection closed by the loader")
            self.buf += chunk

    def recv_frame(self):
        self._fill(FRAME_HEADER)
        length, stream, method = struct.unpack(">IIB", self.buf[:FRAME_HEADER])
        self._fill(FRAME_HEADER + length)
        payload = self.buf[FRAME_HEADER:FRAME_HEADER + length]
        self.buf = self.buf[FRAME_HEADER + length:]
        return stream, method, payload

    def recv_reply(self):
        """(stream, method, decoded reply)."""
        stream, method, payload = self.recv_frame()
        return stream, method, decode_reply(method, payload)

    def _call(self, method, payload):
        stream = self.send(method, payload)
        got, m, reply = self.recv_reply()
        assert (got, m) == (stream, method), (got, m, stream, method)
        return reply

    def load(self, key, deadline_ms=0):
        return self._call(METHOD_LOAD, encode_load(key, deadline_ms))

    def ping(self):
        return self._call(METHOD_PING, b"")

    def auth(self, secret):
        return self._call(METHOD_AUTH, encode_auth(secret))

    def is_closed(self, timeout=5.0):
        """Whether the loader closes the connection within timeout (data it
        sends first is kept in self.buf)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


# ---- processes: a throwaway PostgreSQL, the loader ----

ROOT = servers.ROOT
DATA_LOAD = os.path.join(ROOT, "data", "load")


def _pg_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PgCluster:
    """A PostgreSQL cluster of its own in a temp dir, on a free 127.0.0.1
    port, with pg_stat_statements preloaded.  As root (PostgreSQL refuses to
    run as root) the cluster belongs to the `postgres` user and its commands
    run through runuser.  Started and stopped with pg_ctl, which signals the
    postmaster by the pid in its pid file."""

    def __init__(self):
        self.bindir = _pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (package postgresql)")
        self.dir = tempfile.mkdtemp(prefix="sc-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = servers.free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        self.start()

    def _run(self, prog, *args, check=True):
        argv = self.as_user + [os.path.join(self.bindir, prog)] + list(args)
        r = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s\n%s" % (prog, r.returncode, r.stdout,
                                                             r.stderr, self.log_text()))
        return r

    def start(self):
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 "
                "-c shared_preload_libraries=pg_stat_statements "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" %
                (self.port, self.dir))
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", opts,
                  "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def running(self):
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def destroy(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        return servers.read_log(self.log)

    def env(self):
        env = dict(os.environ)
        env.update(PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER="postgres",
                   PGDATABASE="postgres")
        return env

    def conninfo(self):
        return "host=127.0.0.1 port=%d user=postgres dbname=postgres" % self.port

    def connect(self):
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                dbname="postgres")
        conn.autocommit = True
        return conn

    def load_rows(self, rows):
        subprocess.run([DATA_LOAD, "--rows", str(rows)], env=self.env(), check=True,
                       capture_output=True, timeout=300)


def data_key(row):
    """The kepid of generated row `row` (data/load --print-key)."""
    out = subprocess.run([DATA_LOAD, "--print-key", str(row)], check=True,
                         capture_output=True, text=True, timeout=60)
    return int(out.stdout)


class LoaderProcess(servers.Server):
    """slotcache-loader on free 127.0.0.1 ports (RPC and metrics), stopped
    by pid (servers.Server.stop: SIGTERM, exit code 0 is a clean shutdown);
    waited for by polling Ping, which servers.Server's RESP probe cannot
    do."""

    def __init__(self, conninfo, *extra, config=None, secret=None, workdir=None, port=None,
                 nofile=None):
        self.secret = secret
        workdir = workdir or tempfile.mkdtemp(prefix="sc-loader-")
        self.metrics_port = servers.free_port()
        port = port or servers.free_port()
        argv = [os.path.join(servers.BIN_DIR, "slotcache-loader")]
        if config is not None:
            argv.append(config)
        argv += ["--port", str(port), "--bind", "127.0.0.1", "--postgres", conninfo,
                 "--metrics-port", str(self.metrics_port)]
        if secret is not None:
            argv += ["--secret", secret]
        argv += [str(a) for a in extra]
        self.port, self.workdir = port, workdir
        self.log = os.path.join(workdir, "loader.log")
        self.logf = open(self.log, "ab")
        self.proc = servers.spawn(argv, workdir, self.logf, nofile=nofile)
        self._wait_ping()

    def _wait_ping(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("slotcache-loader exited with %s; log:\n%s" %
                                   (self.proc.returncode, self.log_text()))
            try:
                with self.client(timeout=1.0) as c:
                    if c.ping().status == OK:
                        return
            except (OSError, Closed):
                pass
            time.sleep(0.02)
        raise RuntimeError("slotcache-loader did not answer Ping; log:\n" + self.log_text())

    def client(self, timeout=10.0, auth=True):
        """A connection, authenticated when the loader has a secret (unless
        auth is False)."""
        c = LoaderClient("127.0.0.1", self.port, timeout=timeout)
        if auth and self.secret is not None:
            status = c.auth(self.secret).status
            assert status == OK, STATUS_NAMES.get(status, status)
        return c

    def http(self, path):
        url = "http://127.0.0.1:%d%s" % (self.metrics_port, path)
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.headers.get("Content-Type"), r.read().decode()

    def info(self):
        return servers.parse_info(self.http("/")[1])

    def info_int(self, name):
        return int(self.info()[name])

    def metrics(self):
        """{sample name (with labels): value} from /metrics."""
        out = {}
        for line in self.http("/metrics")[1].splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def wait_connected(self, n=1, timeout=20.0):
        servers.wait_until(lambda: self.info_int("pg_connections_up") >= n, timeout=timeout,
                           what="%d PostgreSQL connection(s) up" % n)


def row_json(value):
    return json.loads(value.decode() if isinstance(value, bytes) else value)
