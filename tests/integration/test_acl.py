"""Users and roles on the proxy (`user NAME ROLE PASSWORD` lines): who may
log in, what each role may run, the replies redis 7 gives for the same
refusals, and what a reload does to logged-in connections."""

import os
import signal
import subprocess

import pytest
import redis

import servers
from resp_client import RespClient
from topology import Topology

USERS = ("requirepass defpw", "user reader readonly rpw", "user writer readwrite wpw",
         "user ops admin opw")


def noperm(cmd):
    return "NOPERM this user has no permissions to run the '%s' command" % cmd


@pytest.fixture
def topo():
    t = Topology("partitioned", 3, extra=USERS)
    yield t
    assert t.stop() == 0


def login(t, user, password):
    c = RespClient("127.0.0.1", t.proxy.port)
    assert c.call("AUTH", user, password) == ("+", b"OK")
    return c


def err(reply):
    kind, text = reply
    assert kind == "-", reply
    return text.decode()


def test_unauthenticated_and_wrong_passwords(topo):
    c = RespClient("127.0.0.1", topo.proxy.port)
    assert err(c.call("GET", "k")) == "NOAUTH Authentication required."
    assert err(c.call("AUTH", "nope")) == \
        "WRONGPASS invalid username-password pair or user is disabled."
    assert err(c.call("AUTH", "ghost", "rpw")) == \
        "WRONGPASS invalid username-password pair or user is disabled."
    assert err(c.call("AUTH", "reader", "wpw")).startswith("WRONGPASS")
    assert c.call("AUTH", "defpw") == ("+", b"OK")
    assert c.call("ACL", "WHOAMI") == ("$", b"default")
    # A failed AUTH keeps the login there was.
    assert err(c.call("AUTH", "ops", "bad")).startswith("WRONGPASS")
    assert c.call("ACL", "WHOAMI") == ("$", b"default")
    assert c.call("AUTH", "default", "defpw") == ("+", b"OK")
    c.close()


def test_readonly_role(topo):
    w = login(topo, "writer", "wpw")
    assert w.call("SET", "k", "v") == ("+", b"OK")
    c = login(topo, "reader", "rpw")
    assert c.call("ACL", "WHOAMI") == ("$", b"reader")
    assert c.call("GET", "k") == ("$", b"v")
    assert c.call("MGET", "k", "x")[0] == "*"
    assert c.call("EXISTS", "k") == (":", 1)
    assert c.call("KEYS", "*")[0] == "*"  # a dangerous read: reads are the role's
    assert c.call("INFO", "server")[0] == "$"
    assert c.call("PROXY", "TOPOLOGY")[0] == "*"
    assert err(c.call("SET", "k", "x")) == noperm("set")
    assert err(c.call("DEL", "k")) == noperm("del")
    assert err(c.call("EXPIRE", "k", "5")) == noperm("expire")
    assert err(c.call("FLUSHALL")) == noperm("flushall")
    assert err(c.call("CONFIG", "GET", "maxmemory")) == noperm("config|get")
    assert err(c.call("PROXY", "RELOAD")) == noperm("proxy|reload")
    assert err(c.call("CLIENT", "KILL", "ID", "1")) == noperm("client|kill")
    assert err(c.call("ACL", "USERS")) == noperm("acl|users")
    assert w.call("GET", "k") == ("$", b"v")  # nothing the reader tried happened
    c.close()
    w.close()


def test_readwrite_role(topo):
    c = login(topo, "writer", "wpw")
    assert c.call("SET", "k", "v") == ("+", b"OK")
    assert c.call("MSET", "a", "1", "b", "2") == ("+", b"OK")
    assert c.call("INCR", "a") == (":", 2)
    assert c.call("DEL", "b") == (":", 1)
    assert err(c.call("FLUSHALL")) == noperm("flushall")
    assert err(c.call("FLUSHDB")) == noperm("flushdb")
    assert err(c.call("CONFIG", "SET", "maxmemory", "1mb")) == noperm("config|set")
    assert err(c.call("PROXY", "MIGRATE", "0-10", "127.0.0.1:1")) == noperm("proxy|migrate")
    assert err(c.call("PROXY", "CONFIG-REWRITE")) == noperm("proxy|config-rewrite")
    assert err(c.call("SHUTDOWN")) == noperm("shutdown")
    assert c.call("DBSIZE") == (":", 2)
    c.close()


def test_admin_role_and_default_user(topo):
    c = login(topo, "ops", "opw")
    assert c.call("SET", "k", "v") == ("+", b"OK")
    assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == ("+", b"OK")
    assert c.call("PROXY", "RELOAD") == ("+", b"OK")
    assert c.call("ACL", "USERS") == ("*", [("$", n) for n in (b"default", b"ops", b"reader",
                                                                b"writer")])
    assert c.call("FLUSHALL") == ("+", b"OK")
    assert c.call("DBSIZE") == (":", 0)
    d = login(topo, "default", "defpw")  # requirepass is the default user's, an admin
    assert d.call("FLUSHDB") == ("+", b"OK")
    c.close()
    d.close()


def test_transactions_refuse_what_the_role_may_not_queue(topo):
    c = login(topo, "writer", "wpw")
    assert c.call("MULTI") == ("+", b"OK")
    assert c.call("SET", "{t}a", "1") == ("+", b"QUEUED")
    assert err(c.call("FLUSHALL")) == noperm("flushall")
    assert err(c.call("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert c.call("EXISTS", "{t}a") == (":", 0)
    c.close()


def test_hello_auth_client_list_and_reset(topo):
    c = RespClient("127.0.0.1", topo.proxy.port)
    kind, _ = c.call("HELLO", "2", "AUTH", "reader", "rpw", "SETNAME", "dash")
    assert kind == "*"
    assert err(c.call("SET", "k", "v")) == noperm("set")
    o = login(topo, "ops", "opw")
    listing = o.call("CLIENT", "LIST")[1].decode()
    assert any("name=dash" in l and "user=reader" in l for l in listing.splitlines()), listing
    assert err(c.call("HELLO", "2", "AUTH", "reader", "bad")).startswith("WRONGPASS")
    assert c.call("RESET") == ("+", b"RESET")
    assert err(c.call("GET", "k")) == "NOAUTH Authentication required."
    c.close()
    o.close()


def test_redis_py_with_username(topo):
    r = redis.Redis(port=topo.proxy.port, username="writer", password="wpw")
    assert r.set("x", "1") and r.get("x") == b"1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        r.flushall()
    with pytest.raises(redis.RedisError, match="WRONGPASS"):
        redis.Redis(port=topo.proxy.port, username="writer", password="no").ping()


def test_reload_closes_connections_of_removed_users(topo):
    reader = login(topo, "reader", "rpw")
    writer = login(topo, "writer", "wpw")
    lines = [l for l in topo.config_lines() if not l.startswith("user reader")]
    lines = [l.replace("user ops admin opw", "user ops admin newpw") for l in lines]
    topo.write_config(lines)
    ops = login(topo, "ops", "opw")  # the running password, until the reload
    assert ops.call("PROXY", "RELOAD") == ("+", b"OK")
    with pytest.raises((ConnectionError, OSError, EOFError)):
        reader.call("GET", "k")  # its user is gone: closed, as redis's ACL DELUSER does
    assert writer.call("SET", "k", "v") == ("+", b"OK")  # still logged in
    assert ops.call("ACL", "WHOAMI") == ("$", b"ops")  # a new password keeps old logins
    c = RespClient("127.0.0.1", topo.proxy.port)
    assert err(c.call("AUTH", "ops", "opw")).startswith("WRONGPASS")
    assert c.call("AUTH", "ops", "newpw") == ("+", b"OK")
    assert err(c.call("AUTH", "reader", "rpw")).startswith("WRONGPASS")
    for x in (c, writer, ops):
        x.close()


def test_default_user_may_be_readonly_without_password():
    t = Topology("central", 1, extra=("user default readonly nopass", "user ops admin opw"))
    try:
        c = RespClient("127.0.0.1", t.proxy.port)
        assert c.call("GET", "k") == ("$", None)  # logged in as default from the start
        assert err(c.call("SET", "k", "v")) == noperm("set")
        assert err(c.call("AUTH", "x")).startswith("ERR AUTH <password> called without any "
                                                   "password configured for the default user")
        assert c.call("AUTH", "ops", "opw") == ("+", b"OK")
        assert c.call("SET", "k", "v") == ("+", b"OK")
        c.close()
    finally:
        assert t.stop() == 0


@pytest.mark.parametrize("line,words", [
    ("user x superuser pw", "unknown role 'superuser'"),
    ("user x admin", "user takes NAME ROLE PASSWORD"),
    ("user x admin pw extra", "user takes NAME ROLE PASSWORD"),
])
def test_bad_user_lines_refused_at_startup(line, words):
    port = servers.free_port()
    d = servers.tempfile.mkdtemp(prefix="sc-acl-")
    conf = os.path.join(d, "proxy.conf")
    with open(conf, "w") as f:
        f.write("mode central\nnode 127.0.0.1:%d\n%s\n" % (servers.free_port(), line))
    p = subprocess.run([os.path.join(servers.BIN_DIR, "slotcache-proxy"), conf, "--port",
                        str(port)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and words in p.stderr, p.stderr


def test_user_defined_twice_refused():
    d = servers.tempfile.mkdtemp(prefix="sc-acl-")
    conf = os.path.join(d, "proxy.conf")
    with open(conf, "w") as f:
        f.write("mode central\nnode 127.0.0.1:%d\nuser a admin x\nuser a readonly y\n" %
                servers.free_port())
    p = subprocess.run([os.path.join(servers.BIN_DIR, "slotcache-proxy"), conf, "--port",
                        str(servers.free_port())], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "user 'a' is defined twice" in p.stderr, p.stderr


def test_refusals_read_as_redis_7s():
    """The same refusals from redis-server 7 with an equivalent user."""
    ref = servers.start_redis()
    t = Topology("central", 1, extra=USERS)
    try:
        admin = RespClient("127.0.0.1", ref.port)
        assert admin.call("ACL", "SETUSER", "reader", "on", ">rpw", "~*", "+@all", "-@write",
                          "-@admin")[0] == "+"
        admin.close()
        replies = []
        for port in (ref.port, t.proxy.port):
            c = RespClient("127.0.0.1", port)
            out = [c.call("AUTH", "reader", "bad"), c.call("AUTH", "reader", "rpw"),
                   c.call("SET", "k", "v"), c.call("FLUSHALL"), c.call("CONFIG", "GET", "x"),
                   c.call("GET", "k"), c.call("ACL", "WHOAMI")]
            c.close()
            replies.append(out)
        assert replies[0] == replies[1]
    finally:
        ref.stop()
        assert t.stop() == 0
