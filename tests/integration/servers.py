"""Start and stop real servers for tests: free loopback ports, stop by pid,
wait by polling, never a fixed sleep."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SC_BIN_DIR", os.path.join(ROOT, "bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=10.0, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s; log:\n%s" % (proc.returncode, read_log(log)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("server on port %d did not answer; log:\n%s" % (port, read_log(log)))


def read_log(path):
    if path is None or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read()[-8000:].decode(errors="replace")


class Server:
    """A server process on a free port; .stop() kills it by pid."""

    def __init__(self, argv, port, workdir, log):
        self.port = port
        self.workdir = workdir
        self.log = log
        self.logf = open(log, "ab")
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.logf, stderr=subprocess.STDOUT)
        wait_for_port(port, self.proc, log=log)

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
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def log_text(self):
        return read_log(self.log)


def start_node(*extra, workdir=None):
    workdir = workdir or tempfile.mkdtemp(prefix="sc-node-")
    port = free_port()
    argv = [os.path.join(BIN_DIR, "slotcache-node"), "--port", str(port), "--bind", "127.0.0.1"]
    argv += [str(a) for a in extra]
    return Server(argv, port, workdir, os.path.join(workdir, "node.log"))


def start_redis(*extra, workdir=None):
    """redis-server 7 as the reference: one database (the node has one),
    nothing on disk."""
    workdir = workdir or tempfile.mkdtemp(prefix="sc-redis-")
    port = free_port()
    argv = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--databases", "1", "--dir", workdir]
    argv += [str(a) for a in extra]
    return Server(argv, port, workdir, os.path.join(workdir, "redis.log"))
