"""slotcache-node under its limits, as a user sees them: maxclients, idle
timeout, output and query buffer limits, proto-max-bulk-len, passwords,
protected mode, killing and listing clients, and how the process starts and
stops.  Where redis-server 7 does the same thing, the same steps run against
it and the observations must agree.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import servers
from resp_client import RespClient
from targets import sees_eof

KINDS = ["redis", "node"]


def connect(server, timeout=10.0):
    return RespClient("127.0.0.1", server.port, timeout=timeout)


def connected_clients(c):
    return servers.info_int(c, "connected_clients", "clients")


def port_closed(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def both(servers_set, *args):
    """The same options on redis-server and on the node: {kind: server}."""
    return {k: servers_set.start(k, *args) for k in KINDS}


# ---- maxclients ----

def maxclients_scenario(server):
    seen = []
    first = connect(server)
    servers.wait_until(lambda: connected_clients(first) == 1, what="the port probe to go")
    clients = [first] + [connect(server) for _ in range(4)]
    seen.append([c.call("PING") for c in clients])
    (reply, closed), = servers.exchange_raw(server.port, [b"PING\r\n"])
    seen.append((reply, closed))
    seen.append([c.call("PING") for c in clients])
    seen.append(servers.info(first, "stats")["rejected_connections"])
    clients.pop().close()
    # A slot is free again once the server has seen the close.
    servers.wait_until(lambda: connected_clients(first) == 4, what="the close to be seen")
    late = connect(server)
    seen.append(late.call("PING"))
    late.close()
    for c in clients:
        c.close()
    return seen


def test_maxclients_refuses_the_extra_connection(servers_set):
    srv = both(servers_set, "--maxclients", "5")
    seen = {k: maxclients_scenario(s) for k, s in srv.items()}
    assert seen["node"] == seen["redis"]
    assert seen["node"] == [
        [("+", b"PONG")] * 5,
        (b"-ERR max number of clients reached\r\n", True),
        [("+", b"PONG")] * 5,
        "1",
        ("+", b"PONG"),
    ]


def test_maxclients_lowered_at_run_time(servers_set):
    seen = {}
    for kind, s in both(servers_set).items():
        a = connect(s)
        servers.wait_until(lambda: connected_clients(a) == 1, what="the port probe to go")
        b = connect(s)
        steps = [a.call("CONFIG", "SET", "maxclients", "2"), a.call("CONFIG", "GET", "maxclients")]
        steps.append(servers.exchange_raw(s.port, [b"PING\r\n"])[0])
        steps.append(b.call("PING"))
        seen[kind] = steps
        a.close()
        b.close()
    assert seen["node"] == seen["redis"]
    assert seen["node"][2] == (b"-ERR max number of clients reached\r\n", True)


# ---- idle timeout ----

def test_idle_client_closed_after_timeout_active_one_kept(servers_set):
    srv = both(servers_set, "--timeout", "1")
    idle = {k: connect(s) for k, s in srv.items()}
    active = {k: connect(s) for k, s in srv.items()}
    for k in KINDS:
        assert idle[k].call("PING") == ("+", b"PONG")
    start = time.monotonic()
    # Not before the timeout ...
    for k in KINDS:
        assert not idle[k].closed_by_server(0.35), "%s closed an idle client before 1 s" % k
    # ... but soon after it, while the active clients keep talking.
    closed_at = {}
    while time.monotonic() - start < 6 and len(closed_at) < len(KINDS):
        for k in KINDS:
            assert active[k].call("PING") == ("+", b"PONG"), k
            if k not in closed_at and idle[k].closed_by_server(0.05):
                closed_at[k] = time.monotonic() - start
    for k in KINDS:
        assert k in closed_at, "%s never closed the idle client" % k
        assert 0.9 <= closed_at[k] <= 5, (k, closed_at[k])
    # The active ones outlive the timeout.
    until = time.monotonic() + 1.6
    while time.monotonic() < until:
        for k in KINDS:
            assert active[k].call("PING") == ("+", b"PONG"), k
        time.sleep(0.2)
    for k in KINDS:
        assert active[k].call("CONFIG", "GET", "timeout") == (
            "*", [("$", b"timeout"), ("$", b"1")])
        assert connected_clients(active[k]) == 1, k
        active[k].close()


# ---- output buffer limit ----

@pytest.mark.parametrize("form", ["one-argument", "words"])
def test_output_buffer_limit_from_command_line(servers_set, form):
    """redis-server accepts the limit as one quoted argument or as words."""
    if form == "one-argument":
        args = ("--client-output-buffer-limit", "normal 1mb 2mb 3")
    else:
        args = ("--client-output-buffer-limit", "normal", "1mb", "2mb", "3")
    got = {}
    for kind in KINDS:
        try:
            s = servers_set.start(kind, *args)
        except RuntimeError as e:
            pytest.fail("%s refused %r:\n%s" % (kind, args, e))
        c = connect(s)
        got[kind] = c.call("CONFIG", "GET", "client-output-buffer-limit")
        c.close()
    assert got["node"] == got["redis"]
    assert got["node"][1][1][1].startswith(b"normal 1048576 2097152 3 ")


def slow_reader(port, value_key, n_gets):
    """A client that pipelines n_gets GETs and never reads the replies."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"".join(RespClient.pack("GET", value_key) for _ in range(n_gets)))
    return s


@pytest.mark.parametrize("kind", KINDS)
def test_output_buffer_hard_limit_disconnects_slow_reader(servers_set, kind):
    s = servers_set.start(kind)
    c = connect(s)
    other = connect(s)
    value = b"v" * 100000
    assert c.call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0") == ("+", b"OK")
    assert c.call("SET", "big", value) == ("+", b"OK")
    base = servers.info_int(c, "used_memory", "memory")
    servers.wait_until(lambda: connected_clients(c) == 2, what="the port probe to go")
    slow = slow_reader(s.port, "big", 2000)  # 200 MB of replies
    # It is dropped ...
    assert sees_eof(slow), "the slow reader is still connected"
    slow.close()
    servers.wait_until(lambda: connected_clients(c) == 2, what="the slow reader to be gone")
    # ... its replies are freed ...
    servers.wait_until(lambda: servers.info_int(c, "used_memory", "memory") < base + 512 * 1024,
                       what="used_memory to come back down")
    # ... and nobody else noticed.
    assert other.call("GET", "big") == ("$", value)
    assert other.call("PING") == ("+", b"PONG")
    if kind == "node":
        assert servers.info(c, "stats")["client_output_buffer_limit_disconnections"] == "1"
    c.close()
    other.close()


@pytest.mark.parametrize("kind", KINDS)
def test_output_buffer_soft_limit_disconnects_after_its_seconds(servers_set, kind):
    s = servers_set.start(kind)
    c = connect(s)
    assert c.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 512kb 1") == (
        "+", b"OK")
    assert c.call("SET", "big", b"s" * 50000) == ("+", b"OK")
    slow = socket.create_connection(("127.0.0.1", s.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    servers.wait_until(lambda: connected_clients(c) == 2, what="the slow reader to connect")
    start = time.monotonic()
    dropped_at = None
    # Keep asking (and never reading) so that the buffer stays over the soft limit.
    while time.monotonic() - start < 6:
        try:
            slow.sendall(RespClient.pack("GET", "big") * 20)
        except OSError:
            dropped_at = time.monotonic() - start
            break
        time.sleep(0.1)
        if servers.info(c, "clients")["connected_clients"] == "1":
            dropped_at = time.monotonic() - start
            break
    slow.close()
    assert dropped_at is not None, "over the soft limit for 6 s and still connected"
    assert dropped_at >= 0.9, "dropped after %.2f s, before the soft limit's 1 s" % dropped_at
    assert c.call("PING") == ("+", b"PONG")
    c.close()


def test_slow_reader_without_limit_memory_returns_when_it_goes(node):
    """With no output limit (the default) a reader that does not read makes
    the node buffer its replies; they are freed when it goes."""
    c = RespClient("127.0.0.1", node.port)
    assert c.call("CONFIG", "GET", "client-output-buffer-limit")[1][1][1].startswith(
        b"normal 0 0 0 ")
    assert c.call("SET", "big", b"w" * 100000) == ("+", b"OK")
    base = servers.info_int(c, "used_memory", "memory")
    slow = slow_reader(node.port, "big", 300)  # 30 MB of replies
    servers.wait_until(lambda: servers.info_int(c, "used_memory", "memory") > base + 10 * 2**20,
                       what="the replies to be buffered")
    assert connected_clients(c) == 2
    slow.close()
    servers.wait_until(lambda: servers.info_int(c, "used_memory", "memory") < base + 512 * 1024,
                       what="used_memory to come back down")
    assert c.call("GET", "big") == ("$", b"w" * 100000)
    c.close()


# ---- query buffer limit, proto-max-bulk-len ----

def test_query_buffer_limit_closes_client_with_big_pending_argument(servers_set):
    seen = {}
    for kind, s in both(servers_set).items():
        c = connect(s)
        steps = [c.call("CONFIG", "SET", "client-query-buffer-limit", "1mb")]
        payload = b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$3000000\r\n" + b"x" * 2000000
        steps.append(servers.exchange_raw(s.port, [payload], quiet=1.0)[0])
        steps.append(c.call("GET", "q"))
        steps.append(c.call("SET", "ok", "1"))
        seen[kind] = steps
        if kind == "node":
            assert servers.info(c, "stats")["client_query_buffer_limit_disconnections"] == "1"
        c.close()
    assert seen["node"] == seen["redis"]
    assert seen["node"][1] == (b"", True)


def test_query_buffer_limit_counts_only_unparsed_bytes(servers_set):
    """redis moves each argument out of the query buffer as it is parsed, so
    a command with many small arguments is not cut by the limit, however long
    it is in all; only bytes not yet parsed count."""
    words = ["SET", "many", "v"] + ["GET"] * 250000  # 2.25 MB; GET may repeat
    seen = {}
    for kind, s in both(servers_set).items():
        c = connect(s)
        assert c.call("CONFIG", "SET", "client-query-buffer-limit", "1mb") == ("+", b"OK")
        big = connect(s, timeout=5.0)
        try:
            big.send_raw(RespClient.pack(*words))
            reply = big.read_reply()
        except (ConnectionError, OSError) as e:
            reply = ("closed", type(e).__name__)
        seen[kind] = [reply, c.call("GET", "many")]
        big.close()
        c.close()
    assert seen["node"] == seen["redis"] == [("$", None), ("$", b"v")]


def test_proto_max_bulk_len_config_set(servers_set):
    seen = {}
    over = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"
    for kind, s in both(servers_set).items():
        c = connect(s)
        steps = [c.call("CONFIG", "SET", "proto-max-bulk-len", "1mb"),
                 c.call("CONFIG", "GET", "proto-max-bulk-len")]
        # Exactly the limit is fine ...
        steps.append(c.call("SET", "k", b"a" * 1048576))
        # ... one byte more is refused on a new connection ...
        steps.append(servers.exchange_raw(s.port, [over])[0])
        # ... and on the connection that set it.
        c.send_raw(over)
        c.sock.settimeout(2.0)
        try:
            steps.append((c.read_reply(), c.closed_by_server(1.0)))
        except socket.timeout:
            steps.append(("no reply in 2 s", None))
        except (ConnectionError, OSError):
            steps.append(("closed", None))
        d = connect(s)
        steps.append(d.call("GET", "k")[1] == b"a" * 1048576)
        d.close()
        seen[kind] = steps
    assert seen["node"] == seen["redis"]
    assert seen["node"][3] == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert seen["node"][4] == (("-", b"ERR Protocol error: invalid bulk length"), True)


@pytest.mark.parametrize("name", ["proto-max-bulk-len", "client-query-buffer-limit"])
def test_limits_below_one_megabyte_refused_like_redis(servers_set, name):
    seen = {}
    for kind, s in both(servers_set).items():
        c = connect(s)
        seen[kind] = [c.call("CONFIG", "SET", name, "1000"), c.call("CONFIG", "GET", name)]
        c.close()
    assert seen["node"] == seen["redis"]


# ---- passwords ----

def hello_shape(reply):
    """A HELLO reply with the parts that differ between servers (id,
    version) blanked."""
    t, v = reply
    if t == "%":
        v = [(k, (":", 0) if k[1] == b"id" else ("$", b"x") if k[1] == b"version" else val)
             for k, val in v]
    elif t == "*" and v:
        v = list(v)
        for i in range(0, len(v), 2):
            if v[i][1] == b"id":
                v[i + 1] = (":", 0)
            elif v[i][1] == b"version":
                v[i + 1] = ("$", b"x")
    return (t, v)


AUTH_STEPS = [
    ("PING",), ("GET", "k"), ("SET", "k", "v"), ("MULTI",), ("CLIENT", "ID"), ("ECHO", "x"),
    ("HELLO", "3"), ("HELLO", "3", "AUTH", "default", "wrong"),
    ("HELLO", "3", "AUTH", "someone", "secret"), ("AUTH", "wrong"), ("AUTH", "a", "b", "c"),
    ("AUTH", "someone", "secret"), ("GET", "k"), ("AUTH", "secret"), ("GET", "k"),
    ("SET", "k", "v"), ("GET", "k"), ("AUTH", "default", "secret"), ("AUTH", "wrong"),
    ("GET", "k"), ("HELLO", "3"), ("GET", "missing"), ("HELLO", "2"), ("GET", "missing"),
]


def test_requirepass_auth_and_hello_like_redis(servers_set):
    seen = {}
    for kind, s in both(servers_set, "--requirepass", "secret").items():
        c = connect(s)
        seen[kind] = [(step, hello_shape(c.call(*step))) for step in AUTH_STEPS]
        # A second connection authenticates with HELLO ... AUTH in one go.
        d = connect(s)
        seen[kind].append(hello_shape(d.call("HELLO", "2", "AUTH", "default", "secret",
                                             "SETNAME", "second")))
        seen[kind].append(d.call("CLIENT", "GETNAME"))
        seen[kind].append(d.call("GET", "k"))
        c.close()
        d.close()
    diffs = ["%r\n    redis:     %r\n    slotcache: %r" % (a[0], a[1], b[1])
             for a, b in zip(seen["redis"], seen["node"]) if a != b]
    assert not diffs, "%d replies differ:\n%s" % (len(diffs), "\n".join(diffs))
    node = dict((step, r) for step, r in seen["node"][:len(AUTH_STEPS)])
    assert seen["node"][0][1] == ("-", b"NOAUTH Authentication required.")
    assert node[("AUTH", "wrong")] == (
        "-", b"WRONGPASS invalid username-password pair or user is disabled.")
    assert seen["node"][-1] == ("$", b"v")


def test_requirepass_changed_at_run_time(servers_set):
    seen = {}
    for kind, s in both(servers_set).items():
        a = connect(s)
        steps = [a.call("SET", "k", "v"), a.call("CONFIG", "SET", "requirepass", "pw2"),
                 a.call("GET", "k")]  # already in: stays in
        b = connect(s)
        steps += [b.call("GET", "k"), b.call("AUTH", "nope"), b.call("AUTH", "pw2"),
                  b.call("GET", "k"), a.call("CONFIG", "SET", "requirepass", ""),
                  a.call("CONFIG", "GET", "requirepass")]
        e = connect(s)
        steps += [e.call("GET", "k"), e.call("AUTH", "pw2")]
        seen[kind] = steps
        for x in (a, b, e):
            x.close()
    assert seen["node"] == seen["redis"]
    assert seen["node"][3] == ("-", b"NOAUTH Authentication required.")


def test_redis_py_with_password(servers_set):
    import redis
    s = servers_set.node("--requirepass", "secret")
    r = redis.Redis(host="127.0.0.1", port=s.port, password="secret")
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    bad = redis.Redis(host="127.0.0.1", port=s.port, password="nope")
    with pytest.raises(redis.exceptions.ResponseError, match="^WRONGPASS"):
        bad.get("k")
    anon = redis.Redis(host="127.0.0.1", port=s.port)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anon.get("k")
    r.close()


# ---- protected mode ----

def test_protected_mode_option_reported(servers_set):
    seen = {}
    for kind, s in both(servers_set).items():
        c = connect(s)
        seen[kind] = [c.call("CONFIG", "GET", "protected-mode"),
                      c.call("CONFIG", "SET", "protected-mode", "no"),
                      c.call("CONFIG", "GET", "protected-mode"),
                      c.call("CONFIG", "SET", "protected-mode", "maybe")[0]]
        c.close()
    assert seen["node"] == seen["redis"]
    assert seen["node"][0] == ("*", [("$", b"protected-mode"), ("$", b"yes")])


def test_protected_mode_refuses_non_loopback_clients(servers_set):
    addr = servers.non_loopback_ipv4()
    if addr is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    bind = "127.0.0.1 %s" % addr
    for kind in KINDS:
        s = servers_set.start(kind, "--bind", bind)
        (reply, closed), = servers.exchange_raw(s.port, [b"PING\r\n"], host=addr)
        assert reply.startswith(b"-DENIED ") and b"protected mode" in reply, (kind, reply)
        assert closed, kind
        # Loopback is fine; and once protected mode is off, so is the outside.
        c = connect(s)
        assert c.call("PING") == ("+", b"PONG")
        assert c.call("CONFIG", "SET", "protected-mode", "no") == ("+", b"OK")
        assert servers.exchange_raw(s.port, [b"PING\r\n"], host=addr) == [(b"+PONG\r\n", False)]
        c.close()
        # A password lifts it too (and then AUTH is required).
        s2 = servers_set.start(kind, "--bind", bind, "--requirepass", "pw")
        assert servers.exchange_raw(s2.port, [b"PING\r\nAUTH pw\r\nPING\r\n"], host=addr) == [
            (b"-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n", False)], kind


# ---- QUIT, CLIENT KILL, CLIENT LIST ----

def test_quit_like_redis(node, redis_ref):
    cases = [b"QUIT\r\n", b"PING\r\nQUIT\r\nPING\r\n", b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n",
             b"QUIT extra args\r\n"]
    ref = servers.exchange_raw(redis_ref.port, cases)
    ours = servers.exchange_raw(node.port, cases)
    assert ours == ref
    assert ours[1] == (b"+PONG\r\n+OK\r\n", True)


def client_kill_scenario(server):
    a = connect(server)
    b = connect(server)
    c = connect(server)
    killer = connect(server)
    steps = []
    aid = a.call("CLIENT", "ID")[1]
    steps.append(killer.call("CLIENT", "KILL", "ID", str(aid)))
    steps.append(a.closed_by_server(2.0))
    steps.append(killer.call("CLIENT", "KILL", "ID", str(aid)))
    b_addr = "%s:%d" % b.sock.getsockname()
    steps.append(killer.call("CLIENT", "KILL", b_addr))
    steps.append(b.closed_by_server(2.0))
    steps.append(killer.call("CLIENT", "KILL", b_addr))
    steps.append(killer.call("CLIENT", "KILL", "ADDR", b_addr))
    # The victim's next read is EOF, its next command fails.
    try:
        a.call("PING")
        steps.append("a still answered")
    except (ConnectionError, OSError):
        steps.append("a closed")
    my_id = killer.call("CLIENT", "ID")[1]
    steps.append(killer.call("CLIENT", "KILL", "ID", str(my_id)))  # SKIPME yes by default
    steps.append(killer.call("CLIENT", "KILL", "ID", "nan"))
    steps.append(killer.call("CLIENT", "KILL", "NOSUCHFILTER", "x"))
    c_addr = "%s:%d" % c.sock.getsockname()
    steps.append(killer.call("CLIENT", "KILL", "ADDR", c_addr, "SKIPME", "no"))
    steps.append(c.closed_by_server(2.0))
    steps.append(killer.call("PING"))
    for x in (a, b, c, killer):
        x.close()
    return steps


def test_client_kill_like_redis(node, redis_ref):
    ref = client_kill_scenario(redis_ref)
    ours = client_kill_scenario(node)
    assert ours == ref
    assert ours[:2] == [(":", 1), True]


CLIENT_LIST_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
                      "psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem",
                      "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user",
                      "redir", "resp"]


def parse_client_line(line):
    fields = []
    for word in line.split(" "):
        k, _, v = word.partition("=")
        fields.append((k, v))
    return fields


def test_client_list_fields(node, redis_ref):
    names = {}
    for kind, server in (("redis", redis_ref), ("node", node)):
        a = connect(server)
        b = connect(server)
        servers.wait_until(lambda: connected_clients(a) == 2, what="the port probe to go")
        assert b.call("CLIENT", "SETNAME", "second") == ("+", b"OK")
        assert b.call("HELLO", "3")[0] == "%"
        aid = a.call("CLIENT", "ID")[1]
        t, text = a.call("CLIENT", "LIST")
        lines = text.decode().strip("\r\n").split("\n")
        assert len(lines) == 2, (kind, lines)
        rows = {dict(parse_client_line(l))["id"]: parse_client_line(l) for l in lines}
        mine = dict(rows[str(aid)])
        names[kind] = [k for k, _ in rows[str(aid)]]
        assert mine["addr"] == "%s:%d" % a.sock.getsockname(), kind
        assert mine["laddr"] == "127.0.0.1:%d" % server.port, kind
        assert mine["name"] == "" and mine["db"] == "0" and mine["resp"] == "2", (kind, mine)
        assert mine["cmd"] == "client|list", (kind, mine)
        assert mine["flags"] == "N" and mine["multi"] == "-1", (kind, mine)
        assert int(mine["fd"]) > 0 and int(mine["age"]) >= 0 and int(mine["idle"]) >= 0
        other = dict(next(r for i, r in rows.items() if i != str(aid)))
        assert other["name"] == "second" and other["resp"] == "3", (kind, other)
        assert other["cmd"] == "hello", (kind, other)
        # CLIENT INFO is this connection's line.
        info_line = dict(parse_client_line(a.call("CLIENT", "INFO")[1].decode().strip()))
        assert info_line["id"] == str(aid) and info_line["cmd"] == "client|info"
        # Filters: by id, by type.
        t, only = a.call("CLIENT", "LIST", "ID", str(aid))
        assert only.decode().count("\n") == 1 and ("id=%d " % aid) in only.decode(), kind
        a.close()
        b.close()
    assert names["node"] == names["redis"] == CLIENT_LIST_FIELDS


# ---- the process: SHUTDOWN, SIGTERM, configuration errors ----

@pytest.mark.parametrize("words", [["SHUTDOWN"], ["SHUTDOWN", "NOSAVE"], ["SHUTDOWN", "NOW"]])
def test_shutdown_command_exits_0_and_closes_port(servers_set, words):
    s = servers_set.node()
    c = connect(s)
    bystander = connect(s)
    assert c.call("SET", "k", "v") == ("+", b"OK")
    c.send_raw(RespClient.pack(*words))
    assert c.closed_by_server(5.0), "SHUTDOWN left the connection open"
    assert c.buf == b"", "SHUTDOWN answered %r; redis says nothing" % c.buf
    assert s.proc.wait(timeout=10) == 0
    assert bystander.closed_by_server(1.0)
    assert port_closed(s.port)


def test_shutdown_abort_and_bad_args_like_redis(node, redis_ref):
    seen = {}
    for kind, server in (("redis", redis_ref), ("node", node)):
        c = connect(server)
        seen[kind] = [c.call("SHUTDOWN", "ABORT"), c.call("SHUTDOWN", "BOGUS"), c.call("PING")]
        c.close()
    assert seen["node"] == seen["redis"]


def test_sigterm_exits_cleanly(servers_set):
    s = servers_set.node()
    c = connect(s)
    half = connect(s)
    assert c.call("SET", "k", b"x" * 100000) == ("+", b"OK")
    half.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$100\r\nabc")  # a request cut short
    slow = slow_reader(s.port, "k", 200)  # and replies nobody reads
    servers.wait_until(lambda: connected_clients(c) == 3, what="the clients to connect")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=10) == 0, s.log_text()
    assert c.closed_by_server(1.0) and half.closed_by_server(1.0)
    assert port_closed(s.port)
    slow.close()


def run_node_argv(args, timeout=10):
    argv = [os.path.join(servers.BIN_DIR, "slotcache-node")] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def test_bad_config_file_line_exits_1_with_file_and_line():
    d = tempfile.mkdtemp(prefix="sc-conf-")
    cases = [
        ("port 0\n# comment\n\nnosuchdirective yes\n", 4, "nosuchdirective"),
        ("port 0\nmaxmemory lots\n", 2, "maxmemory"),
        ("maxmemory-policy sometimes\n", 1, "maxmemory-policy"),
        ("port 0\ntimeout \"unbalanced\n", 2, None),
        ("maxclients 0\n", 1, "maxclients"),
    ]
    for i, (text, line, word) in enumerate(cases):
        path = os.path.join(d, "bad%d.conf" % i)
        with open(path, "w") as f:
            f.write(text)
        r = run_node_argv([path])
        assert r.returncode == 1, (text, r.returncode, r.stderr)
        assert "%s:%d:" % (path, line) in r.stderr, (text, r.stderr)
        if word:
            assert word in r.stderr, (text, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        # redis-server refuses the same files.
        rr = subprocess.run(["redis-server", path], capture_output=True, text=True, timeout=10)
        assert rr.returncode == 1, (text, rr.stdout)


def test_missing_config_file_exits_1():
    r = run_node_argv(["/nonexistent/slotcache.conf"])
    assert r.returncode == 1
    assert "/nonexistent/slotcache.conf" in r.stderr


@pytest.mark.parametrize("args", [["--nosuchflag", "1"], ["--port"], ["--port", "x"],
                                  ["--maxmemory-policy", "sometimes"], ["--port", "1", "stray"],
                                  ["--"]])
def test_bad_command_line_exits_1(args):
    r = run_node_argv(args + ["--bind", "127.0.0.1"])
    assert r.returncode == 1, (args, r.returncode, r.stderr)
    assert r.stderr.strip(), args
    flag = next((a for a in args if a.startswith("--") and len(a) > 2), None)
    if flag:
        assert flag in r.stderr, (args, r.stderr)


def test_config_file_then_command_line_overrides(servers_set):
    d = tempfile.mkdtemp(prefix="sc-conf-")
    path = os.path.join(d, "node.conf")
    with open(path, "w") as f:
        f.write("# a node\nmaxmemory 10mb\nmaxmemory-policy allkeys-lru\ntimeout 7\n"
                "client-output-buffer-limit normal 1mb 2mb 3\n")
    port = servers.free_port()
    argv = [os.path.join(servers.BIN_DIR, "slotcache-node"), path, "--port", str(port),
            "--bind", "127.0.0.1", "--timeout", "9"]
    s = servers.Server(argv, port, d, os.path.join(d, "node.log"))
    servers_set.started.append(("node", s))
    c = RespClient("127.0.0.1", port)
    assert c.call("CONFIG", "GET", "maxmemory") == ("*", [("$", b"maxmemory"), ("$", b"10485760")])
    assert c.call("CONFIG", "GET", "timeout") == ("*", [("$", b"timeout"), ("$", b"9")])
    assert c.call("CONFIG", "GET", "maxmemory-policy")[1][1] == ("$", b"allkeys-lru")
    assert c.call("CONFIG", "GET", "client-output-buffer-limit")[1][1][1].startswith(
        b"normal 1048576 2097152 3 ")
    assert servers.info(c, "server")["config_file"] == path
    c.close()
