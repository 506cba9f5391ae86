"""One face for each server the hostile-client, limit and compatibility tests
aim at: slotcache-node, slotcache-proxy in each mode (slotcache nodes behind
it), redis-server 7 as the reference, and slotcache-loader.

A target is started with directives, (name, value) pairs given as
`--name value` on the command line (node, redis, loader) or as lines of the
proxy's config file, and optionally an open-file limit (nofile=(soft,
hard)) for the process the clients talk to.  It knows its port and pid,
reads its INFO, and stops by pid.
"""

import socket

import servers
from loader_client import METHOD_PING, LoaderProcess, frame
from resp_client import RespClient
from topology import Topology

PROXY_MODES = ["central", "partitioned", "replicated"]
RESP_KINDS = ["node"] + ["proxy-" + m for m in PROXY_MODES]


class Target:
    """What every target has: the process clients talk to (self.server)."""

    @property
    def port(self):
        return self.server.port

    @property
    def pid(self):
        return self.server.pid


class RespTarget(Target):
    """slotcache-node, redis-server, or slotcache-proxy over slotcache nodes."""

    def __init__(self, kind, directives=(), nofile=None):
        self.kind = kind
        self.topo = None
        self.ctl = None
        args = [str(w) for name, value in directives for w in ("--" + name, value)]
        if kind == "node":
            self.server = servers.start_node(*args, nofile=nofile)
        elif kind == "redis":
            self.server = servers.start_redis(*args, nofile=nofile)
        else:
            mode = kind.split("-", 1)[1]
            lines = ["%s %s" % (name, value) for name, value in directives]
            self.topo = Topology(mode, 1 if mode == "central" else 3, extra=lines,
                                 proxy_nofile=nofile)
            self.server = self.topo.proxy

    def client(self, timeout=10.0):
        return RespClient("127.0.0.1", self.port, timeout=timeout)

    def info(self, section):
        """INFO through the target's control connection, which stays open
        (so that a target full of clients can still be asked)."""
        if self.ctl is not None:
            try:
                return servers.info(self.ctl, section)
            except (ConnectionError, OSError):
                self.ctl.close()  # closed by the server (timeout): open another
        self.ctl = self.client()
        return servers.info(self.ctl, section)

    def connected_clients(self):
        """Clients connected besides the control connection."""
        return int(self.info("clients")["connected_clients"]) - 1

    def stat(self, name):
        return int(self.info("stats")[name])

    def used_memory(self):
        return int(self.info("memory")["used_memory"])

    @staticmethod
    def answers(sock):
        """Whether a connection of this target answers PING."""
        sock.sendall(b"PING\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = sock.recv(64)
            if not chunk:
                return False
            got += chunk
        return got == b"+PONG\r\n"

    def log_text(self):
        text = "---- %s log (port %d) ----\n%s" % (self.kind, self.port, self.server.log_text())
        if self.topo is not None:
            for n in self.topo.nodes:
                text += "\n---- node log (port %d) ----\n%s" % (n.port, n.log_text())
        return text

    def stop(self):
        """Stops every process; returns the problems (a slotcache process
        that did not exit 0: under ASan, a leak or an error)."""
        problems = []
        if self.ctl is not None:
            self.ctl.close()
        rc = self.topo.stop() if self.topo is not None else self.server.stop()
        if rc != 0 and self.kind != "redis":
            problems.append("%s on port %d exited with %s" % (self.kind, self.port, rc))
        return problems


class LoaderTarget(Target):
    """slotcache-loader over a PostgreSQL cluster (loader_client.PgCluster)."""

    kind = "loader"

    def __init__(self, pg, directives=(), nofile=None, connected=4, config=None):
        args = [str(w) for name, value in directives for w in ("--" + name, value)]
        self.server = LoaderProcess(pg.conninfo(), *args, config=config, nofile=nofile)
        if connected:
            self.server.wait_connected(connected)

    def client(self, timeout=10.0):
        return self.server.client(timeout=timeout)

    def connected_clients(self):
        return self.server.info_int("connected_clients")

    def stat(self, name):
        return self.server.info_int(name)

    @staticmethod
    def answers(sock):
        """Whether a connection of the loader answers a Ping frame."""
        sock.sendall(frame(1, METHOD_PING, b""))
        got = b""
        while len(got) < 9 or len(got) < 9 + int.from_bytes(got[:4], "big"):
            chunk = sock.recv(4096)
            if not chunk:
                return False
            got += chunk
        return got[8] == METHOD_PING

    def log_text(self):
        return "---- loader log (port %d) ----\n%s" % (self.port, self.server.log_text())

    def stop(self):
        rc = self.server.stop()
        return [] if rc == 0 else ["loader on port %d exited with %s" % (self.port, rc)]


class TargetSet:
    """Targets a test starts; stop_all() stops them and returns problems."""

    def __init__(self, pg=None):
        self.pg = pg
        self.started = []

    def start(self, kind, directives=(), nofile=None, **kw):
        if kind == "loader":
            t = LoaderTarget(self.pg, directives, nofile=nofile, **kw)
        else:
            t = RespTarget(kind, directives, nofile=nofile)
        self.started.append(t)
        return t

    def logs(self):
        return "\n".join(t.log_text() for t in self.started)

    def stop_all(self):
        problems = []
        for t in self.started:
            problems += t.stop()
        self.started = []
        return problems


def wait_connected(target, n, timeout=30.0):
    servers.wait_until(lambda: target.connected_clients() == n, timeout=timeout,
                       what="%s to count %d clients" % (target.kind, n))


def refused(port, n=1):
    """Opens n connections at once and returns what each saw: (bytes, closed).
    A refused connection is closed, so waiting long for silence costs a
    passing test nothing and spares a loaded machine's slow close."""
    return servers.exchange_raw(port, [b""] * n, quiet=10.0, timeout=30.0)


def sees_eof(sock, timeout=10.0):
    """Whether the server closes sock within timeout (what it sends first is
    read and dropped)."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(1 << 20):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True
