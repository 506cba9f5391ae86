"""Descriptors and maxclients on slotcache-node (beside redis-server 7),
slotcache-proxy (each mode, slotcache nodes behind it) and slotcache-loader:

- each server raises its own open-file limit to maxclients + its reserve,
  as redis-server does, and holds 10,000 idle connections while a normal
  client is still answered;
- under a hard limit it cannot raise, it lowers maxclients to fit and says
  so (redis's log lines), and the connection beyond it gets redis's
  "-ERR max number of clients reached" (the loader closes it);
- when descriptors run out at run time all the same, a new connection gets
  the same error (the loader: closed), the connected clients keep working,
  and connections are accepted again once a descriptor is free.
"""

import os
import subprocess
import threading
import time

import pytest

import servers
from targets import RESP_KINDS, refused, wait_connected

ALL_KINDS = RESP_KINDS + ["loader"]
LOW = (64, 64)
IDLE = 2000 if servers.ASAN else 10000
MAXCLIENTS_REPLY = b"-ERR max number of clients reached\r\n"


def reserve_of(t):
    """Descriptors a server keeps for itself beyond maxclients: redis's 32,
    plus the proxy's node connections and one to the loader, plus the
    loader's database connections (4 by default)."""
    if t.kind == "loader":
        return 32 + 4
    if t.kind.startswith("proxy"):
        return 32 + len(t.topo.nodes) + 1
    return 32


def maxclients_of(t):
    if t.kind == "loader":
        return int(t.server.info()["maxclients"])
    return int(t.info("clients")["maxclients"])


def room_of(t):
    """Clients the tests may connect: maxclients, less the control
    connection a RESP target keeps for INFO."""
    return maxclients_of(t) - (0 if t.kind == "loader" else 1)


def expected_refusal(t):
    """What a connection beyond the limit sees: redis's error, or (loader)
    the connection closed before anything is said."""
    return (b"", True) if t.kind == "loader" else (MAXCLIENTS_REPLY, True)


def fill(t, n):
    """n more connections, each shown to be served."""
    socks = servers.open_connections(t.port, n)
    for s in socks:
        assert t.answers(s), "a connection of %s was not answered" % t.kind
    return socks


# ---- the limit fits maxclients, or maxclients fits the limit ----

@pytest.mark.parametrize("kind", ["redis", "node"])
def test_low_hard_limit_lowers_maxclients_like_redis(targets, kind):
    t = targets.start(kind, nofile=LOW)
    c = t.client()
    seen = [c.call("CONFIG", "GET", "maxclients"),
            c.call("CONFIG", "SET", "maxclients", "100"),
            c.call("CONFIG", "GET", "maxclients"),
            c.call("CONFIG", "SET", "maxclients", "10"),
            c.call("CONFIG", "GET", "maxclients"),
            c.call("CONFIG", "SET", "maxclients", "33"),
            c.call("CONFIG", "GET", "maxclients")]
    c.close()
    assert seen == [
        ("*", [("$", b"maxclients"), ("$", b"32")]),
        ("-", b"ERR CONFIG SET failed (possibly related to argument 'maxclients') - The "
              b"operating system is not able to handle the specified number of clients, try "
              b"with 32"),
        ("*", [("$", b"maxclients"), ("$", b"32")]),
        ("+", b"OK"),
        ("*", [("$", b"maxclients"), ("$", b"10")]),
        ("-", b"ERR CONFIG SET failed (possibly related to argument 'maxclients') - The "
              b"operating system is not able to handle the specified number of clients, try "
              b"with 32"),
        ("*", [("$", b"maxclients"), ("$", b"10")]),
    ]
    log = t.server.log_text()
    assert "You requested maxclients of 10000 requiring at least 10032 max file descriptors." in log
    assert ("Current maximum open files is 64. maxclients has been reduced to 32 to compensate "
            "for low ulimit." in log), log


@pytest.mark.parametrize("kind", ["redis"] + ALL_KINDS)
def test_low_hard_limit_then_maxclients_refuses_and_recovers(targets, kind):
    """Under a 64-descriptor hard limit: the server serves as many clients
    as fit, refuses the next with redis's error (the loader: closes it),
    keeps serving the others, and takes a new one when one leaves."""
    t = targets.start(kind, nofile=LOW)
    reserve = 32 if kind == "redis" else reserve_of(t)
    assert maxclients_of(t) == 64 - reserve
    room = room_of(t)
    wait_connected(t, 0)
    socks = fill(t, room)
    wait_connected(t, room)
    assert refused(t.port, 2) == [expected_refusal(t)] * 2
    for s in socks:
        assert t.answers(s)
    socks.pop().close()
    wait_connected(t, room - 1)
    socks += fill(t, 1)
    assert refused(t.port) == [expected_refusal(t)]
    for s in socks:
        s.close()
    wait_connected(t, 0)
    assert t.stat("rejected_connections") == 3
    if kind != "redis":
        assert "maxclients has been reduced to %d" % (64 - reserve) in t.server.log_text()


@pytest.mark.parametrize("kind", ["redis", "node", "proxy-central", "loader"])
def test_limit_too_low_to_start_exits_1_like_redis(kind, tmp_path, request):
    """A limit at or below the reserve cannot serve one client: the server
    says so and exits 1, as redis-server does."""
    port = servers.free_port()
    if kind == "redis":
        argv = ["redis-server", "--port", str(port), "--save", "", "--bind", "127.0.0.1"]
        limit = 32
    elif kind == "node":
        argv = [os.path.join(servers.BIN_DIR, "slotcache-node"), "--port", str(port)]
        limit = 32
    elif kind == "proxy-central":
        conf = tmp_path / "p.conf"
        conf.write_text("mode central\nnode 127.0.0.1:%d\n" % servers.free_port())
        argv = [os.path.join(servers.BIN_DIR, "slotcache-proxy"), str(conf), "--port", str(port)]
        limit = 34  # 32 + one node + the loader
    else:
        pg = request.getfixturevalue("pg_koi")
        argv = [os.path.join(servers.BIN_DIR, "slotcache-loader"), "--port", str(port),
                "--postgres", pg.conninfo()]
        limit = 36  # 32 + four database connections
    log = tmp_path / "server.log"
    with open(log, "wb") as logf:
        p = servers.spawn(argv, str(tmp_path), logf, nofile=(limit, limit))
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            pytest.fail("%s started under a limit of %d:\n%s" % (kind, limit, log.read_text()))
    assert rc == 1, log.read_text()
    assert ("Your current 'ulimit -n' of %d is not enough for the server to start. Please "
            "increase your open file limit to at least" % limit in log.read_text()), log.read_text()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_idle_connections_all_accepted_and_others_served(targets, kind):
    """IDLE (10,000; 2,000 under ASan) idle connections, with the server
    started under a common soft limit of 1024: it raises its own limit to
    maxclients + its reserve (redis's "Increased maximum number of open
    files"), accepts them all, and a normal client is still answered."""
    have = servers.raise_own_nofile(IDLE + 512)
    if have < IDLE + 256:
        pytest.skip("this process may open only %d descriptors" % have)
    hard = servers.nofile_limit(0)[1]
    maxclients = IDLE + 100
    t = targets.start(kind, [("maxclients", maxclients)], nofile=(1024, hard))
    want = maxclients + reserve_of(t)
    assert ("Increased maximum number of open files to %d (it was originally set to 1024)"
            % want) in t.server.log_text()
    assert servers.nofile_limit(t.pid)[0] == want
    wait_connected(t, 0)
    idle = servers.open_connections(t.port, IDLE)
    try:
        wait_connected(t, IDLE)
        # Accepted, not waiting in the backlog: a sample of them answers.
        for s in idle[::IDLE // 20] + idle[-1:]:
            assert t.answers(s)
        if kind == "loader":
            with t.client() as c:
                assert c.ping().status == 0
                assert c.load("koi:zz").status_name == "INVALID_ARGUMENT"
        else:
            c = t.client()
            assert c.call("SET", "k", "v") == ("+", b"OK")
            assert c.call("GET", "k") == ("$", b"v")
            assert c.call("PING") == ("+", b"PONG")
            c.close()
    finally:
        for s in idle:
            s.close()
    wait_connected(t, 0)


# ---- descriptors running out at run time ----

def free_one(t, socks):
    """Closes a connection and waits for the server to close its side."""
    held = len(servers.open_fds(t.pid))
    socks.pop().close()
    servers.wait_until(lambda: len(servers.open_fds(t.pid)) < held, what="a descriptor freed")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_descriptors_run_out_new_clients_refused_others_kept(targets, kind):
    metrics_port = servers.free_port()
    t = targets.start(kind, [] if kind == "loader" else [("metrics-port", metrics_port)])
    if kind == "loader":
        metrics_port = t.server.metrics_port
    socks = fill(t, 8)
    if kind.startswith("proxy"):
        # Every node connection open before descriptors run out.
        c = t.client()
        for i in range(64):
            assert c.call("SET", "warm%d" % i, i) == ("+", b"OK")
        c.close()
    wait_connected(t, 8)
    scrape = {}
    th = None
    old = servers.exhaust_descriptors(t.pid, socks, lambda: fill(t, 1)[0])
    try:
        assert refused(t.port, 3) == [expected_refusal(t)] * 3
        for s in socks:
            assert t.answers(s)
        # A scrape of the metrics port waits for a descriptor too, and the
        # server does not spin on the listening socket meanwhile.
        th = threading.Thread(target=lambda: scrape.update(r=servers.http_get(metrics_port,
                                                                                "/metrics")))
        th.start()
        cpu = servers.cpu_seconds(t.pid)
        time.sleep(1.0)  # a window to measure CPU in, not a wait for the server
        assert servers.cpu_seconds(t.pid) - cpu < 0.5, "busy while out of descriptors"
        assert th.is_alive(), "the scrape was answered without a descriptor"
        # Descriptors come free: the scrape is answered, then a new client.
        free_one(t, socks)
        free_one(t, socks)
        th.join(timeout=30)
        assert scrape["r"][0] == 200
        n = len(socks)
        socks += fill(t, 1)
    finally:
        servers.set_nofile_soft(t.pid, old)
        if th is not None:
            th.join(timeout=30)
    assert t.stat("rejected_connections") == 3
    wait_connected(t, n + 1)
    for s in socks:
        s.close()
    if kind != "loader":
        c = t.client()
        assert c.call("GET", "warm7" if kind.startswith("proxy") else "nope") == (
            "$", b"7" if kind.startswith("proxy") else None)
        c.close()
