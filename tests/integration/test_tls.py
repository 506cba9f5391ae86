"""TLS on slotcache-node and slotcache-proxy, as real TLS clients see it:
redis-cli --tls and redis-py with ssl against TLS ports, and a proxy that
talks TLS to its nodes in each mode.  Where redis-server 7 (Debian's is built
with TLS) does the same thing, the same steps run against it and the
observations must agree.

Certificates come from a throwaway CA made once per test session (certs.py).
"""

import os
import socket
import ssl
import subprocess

import pytest
import redis

import certs
import servers
import targets
from resp_client import RespClient
from topology import Topology

KINDS = ["redis", "node"]
MODES = ["central", "partitioned", "replicated"]
BIG = 10 * 1024 * 1024
PIPELINE = 10000


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return certs.Pki(tmp_path_factory.mktemp("pki"))


def tls_server(servers_set, kind, pki, *extra, auth="yes"):
    """A TLS-only slotcache-node or redis-server with our certificates."""
    return servers_set.start(kind, *(pki.server_args(auth) + list(extra)),
                             ssl_context=pki.context())


def both(servers_set, pki, *extra, **kw):
    return {k: tls_server(servers_set, k, pki, *extra, **kw) for k in KINDS}


def tls_client(server, pki, **kw):
    """A raw RESP client over TLS (replies as typed tuples)."""
    return RespClient("127.0.0.1", server.port, timeout=30, ssl_context=pki.context(**kw))


def py_client(port, pki, **kw):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=60, **pki.redis_kwargs(**kw))


def cli(port, pki, *args, **kw):
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + pki.cli_args(**kw) + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def connected_clients(c):
    return servers.info_int(c, "connected_clients", "clients")


def refused(client_factory):
    """Whether a TLS client is turned away: the handshake fails, or (TLS
    1.3, where the client finishes first) its first command finds the
    connection closed."""
    try:
        c = client_factory()
        reply = c.call("PING")
    except OSError:  # ssl.SSLError, ConnectionError, ConnectionResetError
        return True
    c.close()
    return reply != ("+", b"PONG")


# ---- clients against a TLS node, beside redis-server ----

CLI_SCRIPT = [
    ["SET", "greeting", "hello"],
    ["GET", "greeting"],
    ["INCR", "n"],
    ["INCRBY", "n", "41"],
    ["MGET", "greeting", "n", "missing"],
    ["HSET", "h", "f", "v"],
    ["HGETALL", "h"],
    ["DEL", "greeting", "n"],
    ["EXISTS", "greeting"],
    ["CONFIG", "GET", "tls-auth-clients"],
    ["PING"],
]


def test_redis_cli_over_tls_matches_redis(servers_set, pki):
    seen = {k: [cli(s.port, pki, *cmd)[:2] for cmd in CLI_SCRIPT]
            for k, s in both(servers_set, pki).items()}
    assert seen["node"] == seen["redis"]
    assert seen["node"][1] == (0, "hello\n")
    assert seen["node"][4] == (0, "hello\n42\n\n")
    assert seen["node"][-1] == (0, "PONG\n")


def test_redis_cli_without_a_certificate_or_with_the_wrong_ca_is_refused(servers_set, pki):
    for kind, s in both(servers_set, pki).items():
        rc, out, err = cli(s.port, pki, "PING", cert=False)
        assert "PONG" not in out, kind
        rc, out, err = cli(s.port, pki, "PING", ca=pki.other_ca)
        assert "PONG" not in out, kind
        assert "certificate verify failed" in out + err, (kind, out, err)
        assert cli(s.port, pki, "PING")[:2] == (0, "PONG\n"), kind


def redis_py_script(r):
    """What a redis-py user does, with every reply kept for comparison."""
    out = [r.set("a", "1"), r.get("a"), r.mset({"b": "2", "c": "3"}),
           r.mget("a", "b", "c", "nope")]
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("p%d" % i, i)
        p.incr("ctr")
    p.mget(["p%d" % i for i in range(200)])
    out.append(p.execute())
    p = r.pipeline(transaction=True)
    p.incr("t")
    p.get("t")
    out.append(p.execute())
    out += [r.hset("h", mapping={"x": "1", "y": "2"}), sorted(r.hgetall("h").items())]
    try:
        r.incr("h")
    except redis.ResponseError as e:
        out.append(str(e))
    out += [r.expire("a", 100), r.ttl("a"), r.delete("a", "b", "nope"), r.dbsize()]
    return out


def test_redis_py_with_ssl_matches_redis(servers_set, pki):
    seen = {k: redis_py_script(py_client(s.port, pki))
            for k, s in both(servers_set, pki).items()}
    assert seen["node"] == seen["redis"]
    assert seen["node"][3] == [b"1", b"2", b"3", None]
    assert seen["node"][4][-1] == [str(i).encode() for i in range(200)]


def test_node_serves_plain_and_tls_ports_at_once(servers_set, pki):
    tls_port = servers.free_port()
    s = servers_set.node(*pki.server_args(), "--tls-port", tls_port)
    plain = RespClient("127.0.0.1", s.port)
    secure = RespClient("127.0.0.1", tls_port, ssl_context=pki.context())
    assert plain.call("SET", "k", "v") == ("+", b"OK")
    assert secure.call("GET", "k") == ("$", b"v")
    assert servers.info(secure, "server")["tcp_port"] == str(s.port)
    assert secure.call("CONFIG", "GET", "tls-port") == (
        "*", [("$", b"tls-port"), ("$", str(tls_port).encode())])
    servers.wait_until(lambda: connected_clients(plain) == 2, what="the probes to go")
    plain.close()
    secure.close()


# ---- who may connect ----


def test_out_of_descriptors_a_tls_connection_is_closed_and_counted(servers_set, pki):
    """Descriptors run out: the listener takes a waiting connection into its
    spare descriptor to refuse it.  On the TLS port nothing can be written
    before a handshake, so it is closed without a word (redis too); it
    counts in rejected_connections, and the clients connected keep working."""
    tls_port = servers.free_port()
    s = servers_set.node(*pki.server_args(), "--tls-port", tls_port)
    plain = RespClient("127.0.0.1", s.port)
    secure = RespClient("127.0.0.1", tls_port, ssl_context=pki.context())
    socks = []
    old = servers.exhaust_descriptors(
        s.pid, socks, lambda: socket.create_connection(("127.0.0.1", s.port), timeout=30))
    try:
        assert targets.refused(tls_port, 2) == [(b"", True)] * 2
        assert secure.call("PING") == ("+", b"PONG")
        assert plain.call("PING") == ("+", b"PONG")
    finally:
        servers.set_nofile_soft(s.pid, old)
    assert servers.info_int(plain, "rejected_connections", "stats") == 2
    for k in socks:
        k.close()
    with RespClient("127.0.0.1", tls_port, ssl_context=pki.context()) as again:
        assert again.call("PING") == ("+", b"PONG")
    plain.close()
    secure.close()

@pytest.mark.parametrize("kind", KINDS)
def test_auth_clients_yes_refuses_a_client_without_certificate(servers_set, pki, kind):
    s = tls_server(servers_set, kind, pki)
    good = tls_client(s, pki)
    assert good.call("SET", "k", "v") == ("+", b"OK")
    assert refused(lambda: tls_client(s, pki, cert=False))
    with pytest.raises(redis.ConnectionError):
        py_client(s.port, pki, cert=False).ping()
    # The server keeps serving: the client already connected, and new ones.
    assert good.call("GET", "k") == ("$", b"v")
    late = tls_client(s, pki)
    assert late.call("GET", "k") == ("$", b"v")
    servers.wait_until(lambda: connected_clients(good) == 2, what="the refused ones to go")
    assert s.alive()


@pytest.mark.parametrize("kind", KINDS)
def test_auth_clients_optional_and_no(servers_set, pki, kind):
    optional = tls_server(servers_set, kind, pki, auth="optional")
    no = tls_server(servers_set, kind, pki, auth="no")
    foreign = pki.context(cert=False)
    foreign.load_cert_chain(pki.other_crt, pki.other_key)
    for s in (optional, no):
        assert tls_client(s, pki, cert=False).call("PING") == ("+", b"PONG")
        assert tls_client(s, pki).call("PING") == ("+", b"PONG")
    # optional: a certificate need not come, but one that comes must verify ...
    assert refused(lambda: RespClient("127.0.0.1", optional.port, ssl_context=foreign))
    # ... no: none is asked for, so that one is never looked at.
    assert RespClient("127.0.0.1", no.port, ssl_context=foreign).call("PING") == ("+", b"PONG")


@pytest.mark.parametrize("kind", KINDS)
def test_client_that_trusts_another_ca_fails_verification(servers_set, pki, kind):
    s = tls_server(servers_set, kind, pki)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        py_client(s.port, pki, ca=pki.other_ca).ping()
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_client(s, pki, ca=pki.other_ca)
    assert py_client(s.port, pki).ping() is True


@pytest.mark.parametrize("kind", KINDS)
def test_plain_text_client_on_the_tls_port_is_closed(servers_set, pki, kind):
    s = tls_server(servers_set, kind, pki)
    good = tls_client(s, pki)
    results = servers.exchange_raw(s.port, [b"PING\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                            b"*1\r\n$4\r\nPING\r\n" * 1000], quiet=10)
    for reply, closed in results:
        assert closed
        assert b"PONG" not in reply
    assert good.call("PING") == ("+", b"PONG")
    assert tls_client(s, pki).call("PING") == ("+", b"PONG")
    assert s.alive()


@pytest.mark.parametrize("kind", KINDS)
def test_stalled_handshakes_count_against_maxclients(servers_set, pki, kind):
    s = tls_server(servers_set, kind, pki, "--maxclients", "3")
    good = tls_client(s, pki)
    servers.wait_until(lambda: connected_clients(good) == 1, what="the port probe to go")
    stalled = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(2)]
    servers.wait_until(lambda: connected_clients(good) == 3, what="the stalled handshakes")
    # Full: a fourth TLS client is dropped (nothing can be said before a handshake).
    assert refused(lambda: tls_client(s, pki))
    assert servers.info(good, "stats")["rejected_connections"] == "1"
    assert good.call("PING") == ("+", b"PONG")
    for st in stalled:
        st.close()
    servers.wait_until(lambda: connected_clients(good) == 1, what="the stalled ones to go")
    assert tls_client(s, pki).call("PING") == ("+", b"PONG")


def test_stalled_handshake_is_closed_at_the_timeout(servers_set, pki):
    # Long enough for the good client's own handshake, however slow the build.
    s = tls_server(servers_set, "node", pki, "--tls-handshake-timeout", 1000 * servers.SLOW)
    stalled = socket.create_connection(("127.0.0.1", s.port))
    half = socket.create_connection(("127.0.0.1", s.port))
    half.sendall(b"\x16\x03\x01\x02\x00")  # a ClientHello's record header, then nothing
    good = tls_client(s, pki)
    for sock in (stalled, half):
        sock.settimeout(60)
        assert sock.recv(1024) == b""  # closed by the server, not by us
    # ...while a client that finished its handshake is not subject to it.
    assert good.call("PING") == ("+", b"PONG")
    assert connected_clients(good) == 1


# ---- protocol versions, ciphers, keys ----

@pytest.mark.parametrize("kind", KINDS)
def test_tls_protocols_and_ciphersuites(servers_set, pki, kind):
    suite = "TLS_CHACHA20_POLY1305_SHA256"
    v12 = tls_server(servers_set, kind, pki, "--tls-protocols", "TLSv1.2")
    v13 = tls_server(servers_set, kind, pki, "--tls-protocols", "TLSv1.3",
                     "--tls-ciphersuites", suite)
    c = tls_client(v12, pki)
    assert c.sock.version() == "TLSv1.2"
    assert c.call("PING") == ("+", b"PONG")
    assert refused(lambda: tls_client(v12, pki, minimum_version=ssl.TLSVersion.TLSv1_3))
    c = tls_client(v13, pki)
    assert (c.sock.version(), c.sock.cipher()[0]) == ("TLSv1.3", suite)
    assert refused(lambda: tls_client(v13, pki, maximum_version=ssl.TLSVersion.TLSv1_2))


def test_encrypted_key_with_its_passphrase(servers_set, pki):
    s = servers_set.node("--tls-cert-file", pki.server_crt, "--tls-key-file", pki.server_key_enc,
                         "--tls-key-file-pass", certs.PASSPHRASE, "--tls-ca-cert-file", pki.ca,
                         ssl_context=pki.context())
    assert tls_client(s, pki).call("PING") == ("+", b"PONG")


def bad_configs(pki, tmp):
    garbage = os.path.join(tmp, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    cert = ["--tls-cert-file", pki.server_crt]
    key = ["--tls-key-file", pki.server_key]
    ca = ["--tls-ca-cert-file", pki.ca]
    # (what, flags, words the message must hold, whether redis refuses it too:
    # redis would ask a terminal for a missing passphrase)
    return [
        ("missing cert", ["--tls-cert-file", "/nonexistent/s.crt"] + key + ca,
         ["tls-cert-file", "/nonexistent/s.crt", "No such file"], True),
        ("missing key", cert + ["--tls-key-file", "/nonexistent/s.key"] + ca,
         ["tls-key-file", "/nonexistent/s.key"], True),
        ("garbage key", cert + ["--tls-key-file", garbage] + ca, ["tls-key-file", garbage], True),
        ("key of another cert", cert + ["--tls-key-file", pki.client_key] + ca,
         ["tls-key-file %s is not the key of tls-cert-file" % pki.client_key], True),
        ("encrypted key, no passphrase", cert + ["--tls-key-file", pki.server_key_enc] + ca,
         ["tls-key-file"], False),
        ("wrong passphrase", cert + ["--tls-key-file", pki.server_key_enc,
                                     "--tls-key-file-pass", "nope"] + ca, ["tls-key-file"], True),
        ("no CA", cert + key, ["tls-ca-cert-file"], True),
        ("missing CA dir", cert + key + ["--tls-ca-cert-dir", "/nonexistent/cas"],
         ["tls-ca-cert-dir", "/nonexistent/cas"], False),  # redis starts: no CA at all
        ("unknown protocol", cert + key + ca + ["--tls-protocols", "TLSv9"], ["TLSv9"], True),
        ("no cipher", cert + key + ca + ["--tls-ciphers", "NOSUCHCIPHER"], ["tls-ciphers"], True),
        ("bad auth-clients", cert + key + ca + ["--tls-auth-clients", "sometimes"],
         ["tls-auth-clients"], True),
    ]


def run_binary(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def test_bad_tls_config_exits_1_with_a_clear_message(pki, tmp_path):
    for what, flags, words, redis_too in bad_configs(pki, str(tmp_path)):
        port = ["--port", "0", "--tls-port", str(servers.free_port()), "--bind", "127.0.0.1"]
        r = run_binary([os.path.join(servers.BIN_DIR, "slotcache-node")] + port + flags)
        assert r.returncode == 1, (what, r.returncode, r.stderr)
        for w in words:
            assert w in r.stderr, (what, w, r.stderr)
        if redis_too:
            rr = run_binary(["redis-server"] + port + ["--save", ""] + flags)
            assert rr.returncode == 1, (what, rr.stdout)


def test_proxy_bad_tls_config_exits_1(pki, tmp_path):
    conf = tmp_path / "proxy.conf"
    cases = [
        (["tls-port %d" % servers.free_port(), "tls-cert-file /nonexistent/p.crt",
          "tls-key-file %s" % pki.server_key, "tls-ca-cert-file %s" % pki.ca],
         "tls-cert-file /nonexistent/p.crt"),
        (["tls-nodes yes"], "tls-ca-cert-file"),
        (["tls-nodes yes", "tls-ca-cert-file %s" % pki.ca,
          "tls-client-cert-file %s" % pki.client_crt, "tls-client-key-file %s" % pki.server_key],
         "is not the key of tls-client-cert-file"),
    ]
    for lines, words in cases:
        conf.write_text("mode central\nnode 127.0.0.1:1\nport 0\n" + "\n".join(lines) + "\n")
        r = run_binary([os.path.join(servers.BIN_DIR, "slotcache-proxy"), str(conf)])
        assert r.returncode == 1, (lines, r.stderr)
        assert words in r.stderr, (lines, r.stderr)


# ---- much data, both directions (SSL_ERROR_WANT_READ/WANT_WRITE, SSL_pending) ----

def big_and_long(r):
    """A 10 MB value and a pipeline of 10,000 commands, answered correctly."""
    value = os.urandom(BIG)
    assert r.set("big", value) is True
    assert r.get("big") == value
    assert r.strlen("big") == BIG
    p = r.pipeline(transaction=False)
    half = PIPELINE // 2
    for i in range(half):
        p.set("k%d" % i, "v%d" % i)
    for i in range(half):
        p.get("k%d" % i)
    replies = p.execute()
    assert replies[:half] == [True] * half
    assert replies[half:] == [b"v%d" % i for i in range(half)]


def test_node_big_value_and_long_pipeline(servers_set, pki):
    big_and_long(py_client(tls_server(servers_set, "node", pki).port, pki))


def test_reader_that_falls_behind_gets_every_reply(servers_set, pki):
    """Replies pile up while the client does not read (the node's writes
    block); another client is served meanwhile; then every byte arrives."""
    s = tls_server(servers_set, "node", pki)
    slow = tls_client(s, pki)
    value = os.urandom(1 << 20)
    assert slow.call("SET", "v", value) == ("+", b"OK")
    n = 40
    slow.send_raw(RespClient.pack("GET", "v") * n)
    other = tls_client(s, pki)
    assert other.call("PING") == ("+", b"PONG")
    assert all(slow.read_reply() == ("$", value) for _ in range(n))
    assert slow.call("PING") == ("+", b"PONG")



def test_pipeline_in_one_write_cut_into_turns_gets_every_reply(servers_set, pki):
    """5,000 inline INCRs in one write: one read takes more than a turn's
    1,000 requests, and OpenSSL holds the rest of the pipeline, which no
    socket event announces; the next turns still find it, in order.  A
    client that asks meanwhile is served."""
    s = tls_server(servers_set, "node", pki)
    c = tls_client(s, pki)
    n = 5000
    c.send_raw(b"INCR n\r\n" * n)
    with tls_client(s, pki) as other:
        assert other.call("PING") == ("+", b"PONG")
    got = [c.read_reply() for _ in range(n)]
    bad = [(i, r) for i, r in enumerate(got) if r != (":", i + 1)]
    assert not bad, "%d of %d replies wrong, first: %r" % (len(bad), n, bad[:3])
    assert c.call("GET", "n") == ("$", b"%d" % n)
    c.close()


# ---- the proxy: TLS to clients and to nodes ----

def tls_topology(pki, mode, kind="slotcache", nnodes=None, extra=(), node_auth="yes",
                 proxy_tls=True):
    n = nnodes or (1 if mode == "central" else 3)
    return Topology(mode, n, node_kind=kind, node_extra=pki.server_args(node_auth),
                    extra=pki.proxy_lines() + list(extra), node_ssl=pki.context(),
                    proxy_ssl=pki.context() if proxy_tls else None)


@pytest.fixture
def topologies(request):
    """Topologies a test starts; stopped after it (proxy log printed if it failed)."""
    started = []
    yield started
    rep = getattr(request.node, "rep_call", None)
    for t in started:
        if rep is not None and rep.failed:
            print(servers.read_log(os.path.join(t.workdir, "proxy.log")))
        assert t.stop() == 0


def info_nodes(port, ctx=None):
    c = RespClient("127.0.0.1", port, ssl_context=ctx)
    try:
        return c.call("INFO", "nodes")[1].decode()
    finally:
        c.close()


@pytest.mark.parametrize("mode,kind", [(m, "slotcache") for m in MODES] + [("partitioned", "redis")])
def test_proxy_over_tls_in_each_mode(topologies, pki, mode, kind):
    t = tls_topology(pki, mode, kind)
    topologies.append(t)
    r = py_client(t.proxy.port, pki)
    keys = ["key:%d" % i for i in range(300)]
    assert r.mset({k: k.upper() for k in keys}) is True
    assert r.mget(keys + ["nope"]) == [k.upper().encode() for k in keys] + [None]
    assert r.set("one", "1") is True and r.get("one") == b"1"
    p = r.pipeline(transaction=False)
    for _ in range(1000):
        p.incr("ctr")
    assert p.execute() == list(range(1, 1001))
    big_and_long(r)
    assert cli(t.proxy.port, pki, "GET", "key:7")[:2] == (0, "KEY:7\n")
    # The keys are on the nodes, which only speak TLS.
    stored = [py_client(n.port, pki).dbsize() for n in t.nodes]
    total = len(keys) + 3 + PIPELINE // 2  # + one, ctr, big
    if mode == "replicated":
        assert stored == [total] * len(t.nodes)
    else:
        assert sum(stored) == total
    nodes = info_nodes(t.proxy.port, pki.context())
    assert nodes.count("status=up") == len(t.nodes), nodes


def test_redis_cli_through_proxy_matches_redis_over_tls(topologies, servers_set, pki):
    t = tls_topology(pki, "partitioned")
    topologies.append(t)
    ref = tls_server(servers_set, "redis", pki)
    seen = [[cli(port, pki, *cmd)[:2] for cmd in CLI_SCRIPT[:-2]] for port in (t.proxy.port,
                                                                                ref.port)]
    assert seen[0] == seen[1]


def test_replica_is_resynchronised_over_tls(topologies, pki):
    t = tls_topology(pki, "replicated", nnodes=2)
    topologies.append(t)
    r = py_client(t.proxy.port, pki)
    ctx = pki.context()
    assert r.mset({"a%d" % i: i for i in range(500)}) is True
    t.nodes[1].stop()
    servers.wait_until(lambda: "status=down" in info_nodes(t.proxy.port, ctx), timeout=30,
                       what="the replica marked down")
    assert r.mset({"b%d" % i: i for i in range(100)}) is True
    t.restart_node(1)
    servers.wait_until(lambda: "status=up" in info_nodes(t.proxy.port, ctx).split("node0_1:")[1],
                       timeout=60, what="the replica back and refilled")
    assert py_client(t.nodes[1].port, pki).dbsize() == 600
    assert "resyncs=1" in info_nodes(t.proxy.port, ctx)


def test_slots_move_to_a_new_node_over_tls(topologies, servers_set, pki):
    t = tls_topology(pki, "partitioned", nnodes=1)
    topologies.append(t)
    r = py_client(t.proxy.port, pki)
    keys = {"m%d" % i: "v%d" % i for i in range(400)}
    assert r.mset(keys) is True
    new = tls_server(servers_set, "node", pki)
    assert r.execute_command("PROXY", "MIGRATE", "0-8191", "127.0.0.1:%d" % new.port) == b"OK"

    def state():
        text = r.execute_command("PROXY", "MIGRATIONS").decode()
        return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

    servers.wait_until(lambda: state()["state"] in ("done", "failed"), timeout=60,
                       what="the move to finish")
    assert state()["state"] == "done", state()
    moved = py_client(new.port, pki).dbsize()
    assert 0 < moved < len(keys)
    assert py_client(t.nodes[0].port, pki).dbsize() == len(keys) - moved
    assert r.mget(list(keys)) == [v.encode() for v in keys.values()]


NO_CERT = ['tls-cert-file ""', 'tls-key-file ""']
DISTRUST = {
    # The proxy trusts a CA that did not sign the node's certificate.
    "wrong-ca": (lambda pki: ["tls-ca-cert-file %s" % pki.other_ca],
                 "TLS handshake failed: certificate verify failed"),
    # The node asks for a certificate the proxy does not have.
    "no-client-certificate": (lambda pki: NO_CERT, "certificate required"),
}


@pytest.mark.parametrize("case", sorted(DISTRUST))
def test_node_the_proxy_cannot_handshake_with_is_down_with_the_reason(topologies, pki, case):
    lines, reason = DISTRUST[case]
    t = tls_topology(pki, "central", extra=lines(pki), proxy_tls=False)
    topologies.append(t)
    r = redis.Redis(host="127.0.0.1", port=t.proxy.port, socket_timeout=30)
    with pytest.raises(redis.ResponseError, match=reason):
        r.get("k")
    nodes = info_nodes(t.proxy.port)
    assert "status=down" in nodes and reason in nodes, nodes


def test_proxy_without_certificate_serves_nodes_that_ask_for_none(topologies, pki):
    t = tls_topology(pki, "central", extra=NO_CERT, node_auth="no", proxy_tls=False)
    topologies.append(t)
    r = redis.Redis(host="127.0.0.1", port=t.proxy.port, socket_timeout=30)
    assert r.set("k", "v") is True and r.get("k") == b"v"
