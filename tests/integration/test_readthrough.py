"""Read-through to PostgreSQL, end to end: clients -> slotcache-proxy ->
slotcache-node / slotcache-loader -> a throwaway PostgreSQL loaded with the
sample data.  Each test asserts what a client sees, what PostgreSQL ran
(pg_stat_statements) and what the proxy's INFO counts."""

import json
import signal
import threading
import time
import urllib.request

import pytest
import redis

import servers
from loader_client import LoaderProcess, PgCluster, data_key
from resp_client import RespClient
from topology import Topology

ROWS = 2000
KOI_QUERY = "WHERE kepid = $1::bigint"  # the loader's statement, not the tests' own


def wait_until(cond, timeout=20.0, what="condition"):
    servers.wait_until(cond, timeout=timeout, what=what)


@pytest.fixture(scope="module")
def pg():
    cluster = PgCluster()
    try:
        conn = cluster.connect()
        conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.close()
        cluster.load_rows(ROWS)
        yield cluster
    finally:
        cluster.destroy()


def koi_calls(pg):
    """Executions of the koi route's statement so far."""
    conn = pg.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s",
                    ("%" + KOI_QUERY + "%",))
        return int(cur.fetchone()[0])
    finally:
        conn.close()


def db_row(pg, kepid):
    conn = pg.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT row_to_json(k)::text FROM koi k WHERE kepid = %s", (kepid,))
        row = cur.fetchone()
        return json.loads(row[0]) if row else None
    finally:
        conn.close()


def proxy_info(port):
    c = RespClient("127.0.0.1", port)
    try:
        text = c.call("INFO", "all")[1].decode()
    finally:
        c.close()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def stat(port, name):
    return int(proxy_info(port)[name])


class Stack:
    """A partitioned proxy over three nodes, with a loader on PostgreSQL."""

    def __init__(self, pg, *extra, loader=None):
        self.loader = loader or LoaderProcess(pg.conninfo())
        self.loader.wait_connected(1)
        self.metrics_port = servers.free_port()
        self.topo = Topology("partitioned", 3, extra=(
            "loader 127.0.0.1:%d" % self.loader.port, "loader-ping-interval 200",
            "loader-timeout 3000", "metrics-port %d" % self.metrics_port) + extra)
        self.port = self.topo.proxy.port
        wait_until(lambda: stat(self.port, "loader_routes") >= 1, what="proxy learned routes")

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=15)

    def node_for(self, key):
        for i in range(3):
            if redis.Redis(port=self.topo.nodes[i].port).exists(key):
                return i
        return None

    def stop(self):
        rc_proxy = self.topo.stop()
        rc_loader = self.loader.stop()
        assert rc_proxy == 0 and rc_loader == 0, (rc_proxy, rc_loader, self.loader.log_text())


@pytest.fixture
def stack(pg):
    s = Stack(pg)
    yield s
    s.stop()


def test_miss_then_hit_json_equals_row_ttl_set(stack, pg):
    kepid = data_key(5)
    key = "koi:%d" % kepid
    r = stack.client()
    calls = koi_calls(pg)
    first = r.get(key)
    assert json.loads(first) == db_row(pg, kepid)
    assert koi_calls(pg) == calls + 1
    info = proxy_info(stack.port)
    assert int(info["keyspace_misses"]) == 1 and int(info["loads"]) == 1
    assert int(info["loads_found"]) == 1
    # stored on the shard that owns the key, with the route's TTL
    wait_until(lambda: stack.node_for(key) is not None, what="value stored on its node")
    assert 290 < r.ttl(key) <= 300
    assert r.get(key) == first
    assert koi_calls(pg) == calls + 1
    info = proxy_info(stack.port)
    assert int(info["keyspace_hits"]) == 1 and int(info["loads"]) == 1
    assert int(info["load_latency_avg_us"]) > 0


def test_200_concurrent_misses_cost_one_query(stack, pg):
    kepid = data_key(17)
    key = "koi:%d" % kepid
    clients = [RespClient("127.0.0.1", stack.port) for _ in range(200)]
    calls = koi_calls(pg)
    for c in clients:  # all 200 GETs are in flight before any reply is read
        c.send_raw(RespClient.pack("GET", key))
    replies = [c.read_reply() for c in clients]
    for c in clients:
        c.close()
    assert {t for t, _ in replies} == {"$"}
    assert len({v for _, v in replies}) == 1
    assert json.loads(replies[0][1]) == db_row(pg, kepid)
    assert koi_calls(pg) == calls + 1
    info = proxy_info(stack.port)
    assert int(info["loads"]) + int(info["keyspace_hits"]) == 200 or int(info["loads_joined"]) > 0


def test_missing_row_is_nil_and_queried_once(stack, pg):
    r = stack.client()
    calls = koi_calls(pg)
    assert r.get("koi:1") is None  # kepids start at 10,000,000
    for _ in range(10):
        assert r.get("koi:1") is None
    assert koi_calls(pg) == calls + 1
    assert stat(stack.port, "negative_cache_hits") == 10
    assert stack.node_for("koi:1") is None  # nothing cached for a missing row


def test_keys_with_quotes_spaces_and_sql_are_just_keys(stack, pg):
    r = stack.client()
    for key in ["koi:1; DROP TABLE koi", "koi:'--", 'koi:" OR 1=1 --', "koi:a b",
                "koi:1' OR '1'='1", "koi:\x00\xff"]:
        assert r.get(key) is None, key
    conn = pg.connect()
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM koi")
    assert cur.fetchone()[0] == ROWS
    conn.close()
    assert r.get("koi:%d" % data_key(3)) is not None


def test_mget_reads_through_each_missing_key(stack, pg):
    r = stack.client()
    kepids = [data_key(i) for i in (100, 200, 300, 400)]
    keys = ["koi:%d" % k for k in kepids] + ["koi:2", "plain-missing"]
    r.set("plain-present", "x")
    values = r.mget(keys + ["plain-present"])
    for kepid, v in zip(kepids, values):
        assert json.loads(v) == db_row(pg, kepid)
    assert values[4] is None and values[5] is None and values[6] == b"x"
    assert r.mget(keys[:4]) == values[:4]  # now cached


def test_shard_down_keys_still_read_from_the_database(stack, pg):
    r = stack.client()
    kepid = data_key(42)
    key = "koi:%d" % kepid
    assert json.loads(r.get(key)) == db_row(pg, kepid)
    wait_until(lambda: stack.node_for(key) is not None, what="value cached")
    stack.topo.nodes[stack.node_for(key)].stop(signal.SIGKILL)
    direct = stat(stack.port, "loads_direct")
    for _ in range(3):  # the first may still go to the dead node and be retried
        assert json.loads(r.get(key)) == db_row(pg, kepid)
    assert stat(stack.port, "loads_direct") > direct
    with pytest.raises(redis.ResponseError, match="shard"):
        r.set(key, "x")  # writes still need the shard


def test_loader_down_is_an_error_not_nil_then_recovers(pg):
    s = Stack(pg)
    try:
        r = s.client()
        port = s.loader.port
        s.loader.stop()
        with pytest.raises(redis.ResponseError, match="could not load .* UNAVAILABLE"):
            r.get("koi:%d" % data_key(7))
        assert stat(s.port, "load_errors") >= 1
        s.loader = LoaderProcess(pg.conninfo(), port=port)
        s.loader.wait_connected(1)
        wait_until(lambda: _loads_ok(r, "koi:%d" % data_key(7)), what="proxy back to the loader")
    finally:
        s.stop()


def _loads_ok(r, key):
    try:
        return r.get(key) is not None
    except redis.ResponseError:
        return False


def test_database_stopped_breaker_opens_then_recovers():
    pg = PgCluster()
    try:
        pg.connect().cursor().execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        pg.load_rows(200)
        loader = LoaderProcess(pg.conninfo(), "--breaker-failures", "3",
                               "--breaker-cooldown", "500", "--query-timeout", "1000")
        s = Stack(pg, loader=loader)
        try:
            r = s.client()
            assert r.get("koi:%d" % data_key(1)) is not None
            pg.stop("immediate")
            errors = 0
            for i in range(2, 12):
                try:
                    r.get("koi:%d" % data_key(i))
                except redis.ResponseError as e:
                    assert "UNAVAILABLE" in str(e)
                    errors += 1
            assert errors == 10  # never a nil that would look like "no such row"
            wait_until(lambda: stat(s.port, "loader_breaker_open") == 1, what="breaker open")
            pg.start()
            wait_until(lambda: _loads_ok(r, "koi:%d" % data_key(20)), timeout=30,
                       what="recovery without restarting anything")
            wait_until(lambda: stat(s.port, "loader_breaker_open") == 0, what="breaker closed")
        finally:
            s.stop()
    finally:
        pg.destroy()


def latency_summary(port):
    """slotcache_proxy_request_latency_seconds from /metrics: {(kind, quantile or field): value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as f:
        text = f.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("slotcache_proxy_request_latency_seconds"):
            name, value = line.rsplit(" ", 1)
            kind = name.split('kind="')[1].split('"')[0]
            q = name.split('quantile="')[1].split('"')[0] if "quantile" in name else \
                name.split("{")[0].rsplit("_", 1)[1]
            out[(kind, q)] = float(value)
    return out


def test_hit_and_miss_latencies_are_told_apart(stack, pg):
    """A client cannot tell a read-through miss from a hit (both answer the
    value); the proxy's latencystats can, and CONFIG RESETSTAT clears them."""
    r = stack.client()
    keys = ["koi:%d" % data_key(100 + i) for i in range(5)]
    r.get(keys[0])  # before the reset: not counted
    assert r.config_resetstat()
    for k in keys[1:]:
        assert r.get(k) is not None  # 4 misses, read through
    for k in keys[1:]:
        wait_until(lambda: stack.node_for(k) is not None, what="value stored")
    for _ in range(5):
        for k in keys:
            assert r.get(k) is not None  # 25 hits
    assert r.get("nokey") is None  # no route: a plain miss
    info = proxy_info(stack.port)
    assert int(info["keyspace_hits"]) == 25 and int(info["keyspace_misses"]) == 5
    for name in ("all", "get", "get_hit", "get_miss", "other"):
        fields = dict(kv.split("=") for kv in info["latency_percentiles_usec_%s" % name].split(","))
        assert sorted(fields) == ["p50", "p90", "p99", "p99.9"]
        assert float(fields["p50"]) <= float(fields["p99.9"])
    # A load's database query shows in the misses' tail and not in the hits'.
    s = latency_summary(stack.metrics_port)
    assert s[("get_hit", "count")] == 25 and s[("get_miss", "count")] == 5
    assert s[("get", "count")] == 30
    assert s[("get_miss", "0.99")] >= s[("get_hit", "0.5")]
    assert "latency_percentiles_usec_get" not in redis_default_info(stack.port)


def redis_default_info(port):
    c = RespClient("127.0.0.1", port)
    try:
        return c.call("INFO")[1].decode()
    finally:
        c.close()


def test_a_proxy_that_has_not_heard_the_routes_yet_still_reads_through(pg):
    """A proxy learns the loader's routes from its first Ping reply.  A miss
    before that must not be answered nil as if the key had no route: the
    soak found koi rows read back nil right after a proxy restart.  The
    loader is stopped (SIGSTOP) while the proxy starts, so its Ping hangs."""
    loader = LoaderProcess(pg.conninfo())
    loader.wait_connected(1)
    loader.proc.send_signal(signal.SIGSTOP)
    topo = None
    try:
        topo = Topology("partitioned", 3, extra=("loader 127.0.0.1:%d" % loader.port,
                                                 "loader-timeout 10000"))
        assert stat(topo.proxy.port, "loader_routes") == 0
        kepid = data_key(11)
        c = RespClient("127.0.0.1", topo.proxy.port)
        c.send_raw(RespClient.pack("GET", "koi:%d" % kepid) + RespClient.pack("GET", "plain"))
        loader.proc.send_signal(signal.SIGCONT)
        kind, value = c.read_reply()
        assert kind == "$" and value is not None, (kind, value)
        assert json.loads(value) == db_row(pg, kepid)
        assert c.read_reply() == ("$", None)  # no route: the loader says so, nil
        c.close()
        assert stat(topo.proxy.port, "loader_routes") == 1
    finally:
        loader.proc.send_signal(signal.SIGCONT)
        if topo is not None:
            assert topo.stop() == 0
        assert loader.stop() == 0


def test_misses_before_the_routes_are_known_are_errors_while_the_loader_is_down(pg):
    """Without the routes the proxy cannot tell a database key from another;
    with the loader unreachable it says so rather than answer nil."""
    topo = Topology("central", 1, extra=("loader 127.0.0.1:%d" % servers.free_port(),))
    try:
        c = RespClient("127.0.0.1", topo.proxy.port)
        kind, text = c.call("GET", "koi:%d" % data_key(12))
        assert kind == "-" and b"UNAVAILABLE" in text, (kind, text)
        assert c.call("SET", "plain", "1") == ("+", b"OK")
        assert c.call("GET", "plain") == ("$", b"1")  # hits never ask the loader
        c.close()
    finally:
        assert topo.stop() == 0


def test_proxy_stops_cleanly_while_a_replicated_store_waits(pg):
    """A read-through value is stored on every replica; a SIGTERM while one
    replica has not answered that store must still free the load's state
    (the soak found it leaked, which ASan's leak check turns into a
    non-zero exit).  The first read goes to the first replica, so stopping
    the second one holds only the store; only the proxy's own INFO sections
    are read, which ask no node."""

    def local_stat(section, name):
        c = RespClient("127.0.0.1", topo.proxy.port)
        try:
            return int(servers.parse_info(c.call("INFO", section)[1])[name])
        finally:
            c.close()

    loader = LoaderProcess(pg.conninfo())
    loader.wait_connected(1)
    topo = Topology("replicated", 2, extra=("loader 127.0.0.1:%d" % loader.port,
                                            "node-timeout 60000"))
    stopped = topo.nodes[1].proc
    try:
        wait_until(lambda: local_stat("loader", "loader_routes") >= 1, what="routes")
        stopped.send_signal(signal.SIGSTOP)
        kepid = data_key(13)
        c = RespClient("127.0.0.1", topo.proxy.port)
        kind, value = c.call("GET", "koi:%d" % kepid)
        assert kind == "$" and json.loads(value) == db_row(pg, kepid)
        c.close()
        assert local_stat("stats", "loads_found") == 1
        assert topo.proxy.stop() == 0, topo.proxy.log_text()
    finally:
        stopped.send_signal(signal.SIGCONT)
        topo.stop()
        assert loader.stop() == 0
