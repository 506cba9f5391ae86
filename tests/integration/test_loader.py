"""slotcache-loader against a real PostgreSQL: rows, misses, keys that look
like SQL, single flight, stream ids, deadlines, the bulkhead, the circuit
breaker through a database restart, bad frames, metrics and config errors.

The module starts its own throwaway PostgreSQL cluster (loader_client.PgCluster)
with pg_stat_statements, loads ROWS generated rows with data/load, and
starts loaders pointed at it.  Every loader is stopped with SIGTERM and must
exit 0 (under ASan that includes the leak check).
"""

import os
import random
import struct
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402
from loader_client import (DEADLINE_EXCEEDED, INVALID_ARGUMENT, METHOD_LOAD,  # noqa: E402
                           METHOD_PING, NOT_FOUND, OK, RESOURCE_EXHAUSTED, UNAUTHENTICATED,
                           UNAVAILABLE, LoaderProcess, PgCluster, data_key,
                           encode_load, frame, row_json)

ROWS = 3000
KOI_SQL = "SELECT row_to_json(k)::text FROM koi k WHERE kepid = $1::bigint"

# Routes for the tests that need more than the default one.  slow: sleeps
# $1 seconds; koislow: is koi: after half a second, so that concurrent
# requests surely overlap.
KOISLOW_SQL = ("SELECT row_to_json(k)::text FROM koi k, pg_sleep(0.5) "
               "WHERE k.kepid = $1::bigint")
ROUTES = """
route koi: "%s" ttl 300
route name: "SELECT row_to_json(k)::text FROM koi k WHERE kepoi_name = $1" ttl 60
route slow: "SELECT 'slept ' || $1::float8::text FROM pg_sleep($1::float8)" ttl 1
route koislow: "%s" ttl 300
""" % (KOI_SQL, KOISLOW_SQL)


# ---- fixtures ----

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


@pytest.fixture(scope="module")
def db(pg):
    conn = pg.connect()
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def routes_conf(tmp_path_factory):
    path = tmp_path_factory.mktemp("loader") / "routes.conf"
    path.write_text(ROUTES)
    return str(path)


def _stop_checked(request, lp):
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write("\n---- loader log (port %d) ----\n%s\n" % (lp.port, lp.log_text()))
    rc = lp.stop()
    assert rc == 0, "slotcache-loader exited with %s:\n%s" % (rc, lp.log_text())


@pytest.fixture
def start_loader(request, pg):
    """Starts loaders (default: pointed at the module's cluster, every pool
    connection up) and stops each at the end, asserting exit code 0."""
    started = []

    def start(*extra, config=None, secret=None, conninfo=None, connected=4):
        lp = LoaderProcess(conninfo or pg.conninfo(), *extra, config=config, secret=secret)
        started.append(lp)
        if connected:
            lp.wait_connected(connected)
        return lp

    yield start
    for lp in started:
        _stop_checked(request, lp)


@pytest.fixture
def loader(start_loader):
    """A loader with the default configuration (the built-in koi: route)."""
    return start_loader()


@pytest.fixture
def routes_loader(start_loader, routes_conf):
    return start_loader(config=routes_conf)


def koi_key(row):
    return "koi:%d" % data_key(row)


def expected_row(db, kepid):
    """The row as PostgreSQL renders it (another query text than the
    route's, so pg_stat_statements counts the two apart)."""
    cur = db.cursor()
    cur.execute("SELECT row_to_json(t)::text FROM koi AS t WHERE t.kepid = %s", (kepid,))
    row = cur.fetchone()
    return row[0] if row else None


def statement_calls(db, pattern):
    cur = db.cursor()
    cur.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s",
                (pattern,))
    return int(cur.fetchone()[0])


def reset_statements(db):
    db.cursor().execute("SELECT pg_stat_statements_reset()")


def koi_count(db):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM koi")
    return cur.fetchone()[0]


def collect(client, n):
    """n replies: {stream: reply}, each stream answered once."""
    out = {}
    order = []
    for _ in range(n):
        stream, method, reply = client.recv_reply()
        assert method == METHOD_LOAD
        assert stream not in out, "stream %d answered twice" % stream
        out[stream] = reply
        order.append(stream)
    return out, order


# ---- rows ----

def test_load_existing_row(loader, db):
    kepid = data_key(5)
    with loader.client() as c:
        r = c.load("koi:%d" % kepid)
    assert r.status == OK, r
    assert r.ttl == 300
    want = expected_row(db, kepid)
    assert r.value.decode() == want
    row = row_json(r.value)
    assert row["kepid"] == kepid
    assert row["koi_disposition"] in ("CONFIRMED", "CANDIDATE", "FALSE POSITIVE")


def test_missing_kepid_is_not_found(loader):
    beyond = data_key(ROWS + 10)
    with loader.client() as c:
        for kepid in (9999999, beyond):
            r = c.load("koi:%d" % kepid)
            assert r.status == NOT_FOUND, (kepid, r)
            assert r.value == b""
    assert loader.info_int("not_found") == 2


def test_ping_reports_version_routes_breaker(loader):
    with loader.client() as c:
        p = c.ping()
    assert p.status == OK
    assert p.version == "0.1.0"
    assert p.routes == [("koi:", 300)]
    assert p.breaker_open is False


def test_keys_that_look_like_sql_are_just_values(loader, db):
    """The rest of the key is $1, never pasted into SQL: SQL fragments,
    quotes and spaces are a bigint that does not parse (INVALID_ARGUMENT,
    the documented answer), and the database is not counted as failing."""
    before = koi_count(db)
    keys = ["koi:1; DROP TABLE koi", "koi:'--", "koi:1 OR 1=1", 'koi:"1"', "koi:abc",
            "koi:", "koi:1)--", "koi:10000000; SELECT pg_sleep(10)", "koi:\x00"]
    with loader.client() as c:
        for key in keys:
            r = c.load(key)
            assert r.status == INVALID_ARGUMENT, (key, r)
            assert r.value == b""
            assert r.message, key
        r = c.load("koi:abc")
        assert "invalid input syntax for type bigint" in r.message, r.message
        assert c.load("nope:1").status == INVALID_ARGUMENT
        assert c.ping().breaker_open is False
    assert koi_count(db) == before
    info = loader.info()
    assert info["breaker"] == "closed"
    assert int(info["query_failures"]) == 0
    assert int(info["errors_invalid_argument"]) == len(keys) + 2


def test_text_keys_are_parameters(routes_loader, db):
    cur = db.cursor()
    kepid = data_key(4)
    cur.execute("SELECT kepoi_name FROM koi AS t WHERE t.kepid = %s", (kepid,))
    name = cur.fetchone()[0]
    with routes_loader.client() as c:
        r = c.load("name:" + name)
        assert r.status == OK, r
        assert r.ttl == 60
        assert row_json(r.value)["kepid"] == kepid
        for evil in (name + "' OR '1'='1", "x'; DROP TABLE koi; --", "' UNION SELECT 1 --",
                     name + " "):
            r = c.load("name:" + evil)
            assert r.status == NOT_FOUND, (evil, r)
    assert koi_count(db) == ROWS


# ---- single flight, streams ----

def test_single_flight_pipelined_one_query(loader, db):
    """200 Loads of one key in one write: one query, 200 answers."""
    kepid = data_key(7)
    want = expected_row(db, kepid)
    reset_statements(db)
    streams = list(range(1, 201))
    with loader.client() as c:
        c.send_raw(b"".join(frame(s, METHOD_LOAD, encode_load("koi:%d" % kepid))
                            for s in streams))
        replies, _ = collect(c, len(streams))
    assert sorted(replies) == streams
    for s, r in replies.items():
        assert r.status == OK, (s, r)
        assert r.value.decode() == want
    assert statement_calls(db, "%FROM koi k WHERE kepid = $1::bigint%") == 1
    info = loader.info()
    assert int(info["queries"]) == 1
    assert int(info["flight_joins"]) == 199


def test_single_flight_concurrent_connections(routes_loader, db):
    """200 Loads of one key from 8 connections at once, while its (slow)
    query runs: exactly one query in PostgreSQL, every request answered."""
    kepid = data_key(11)
    key = "koislow:%d" % kepid
    want = expected_row(db, kepid)
    reset_statements(db)
    nconn, per = 8, 25
    barrier = threading.Barrier(nconn)
    results = [None] * nconn
    errors = []

    def worker(i):
        try:
            with routes_loader.client() as c:
                barrier.wait(timeout=10)
                c.send_raw(b"".join(frame(s, METHOD_LOAD, encode_load(key, 10000))
                                    for s in range(1, per + 1)))
                results[i] = collect(c, per)[0]
        except Exception as e:  # reported below, with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(nconn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    for replies in results:
        assert sorted(replies) == list(range(1, per + 1))
        assert all(r.status == OK and r.value.decode() == want for r in replies.values())
    assert statement_calls(db, "%koi k, pg_sleep(%") == 1
    assert routes_loader.info_int("flight_joins") == nconn * per - 1


def test_many_in_flight_matched_by_stream_id(start_loader, routes_conf, db):
    """Hundreds of requests in flight on one connection, stream ids in no
    order, answers in any order, each matched to its request.  (The
    bulkhead is raised: 170 distinct koi: queries at once are more than the
    default 64.)"""
    lp = start_loader("--bulkhead", "1000", config=routes_conf)
    rng = random.Random(42)
    rows = rng.sample(range(ROWS), 150)
    kepids = [data_key(r) for r in rows]
    reqs = [("slow:0.4", "slow")]
    reqs += [("koi:%d" % k, k) for k in kepids]
    reqs += [("koi:%d" % (9000000 + i), "missing") for i in range(20)]
    reqs += [("koi:x%d" % i, "invalid") for i in range(10)]
    streams = rng.sample(range(1, 2 ** 32), len(reqs))
    cur = db.cursor()
    cur.execute("SELECT t.kepid, row_to_json(t)::text FROM koi AS t WHERE t.kepid = ANY(%s)",
                (kepids,))
    want = dict(cur.fetchall())
    with lp.client() as c:
        c.send_raw(b"".join(frame(s, METHOD_LOAD, encode_load(key))
                            for s, (key, _) in zip(streams, reqs)))
        replies, order = collect(c, len(reqs))
    assert set(replies) == set(streams)
    for s, (key, what) in zip(streams, reqs):
        r = replies[s]
        if what == "slow":
            assert r.status == OK and r.value == b"slept 0.4", r
        elif what == "missing":
            assert r.status == NOT_FOUND, (key, r)
        elif what == "invalid":
            assert r.status == INVALID_ARGUMENT, (key, r)
        else:
            assert r.status == OK, (key, r)
            assert r.value.decode() == want[what]
    # The slow request went first and was not answered first: replies do not
    # wait for the requests before them.
    assert order[0] != streams[0]
    assert order.index(streams[0]) > 0


# ---- deadlines, bulkhead ----

def test_deadline_shorter_than_query(routes_loader):
    with routes_loader.client() as c:
        t0 = time.monotonic()
        r = c.load("slow:1.5", deadline_ms=200)
        took = time.monotonic() - t0
        assert r.status == DEADLINE_EXCEEDED, r
        assert "200 ms" in r.message
        assert 0.15 <= took < 1.2, took
        # The connection goes on, and a generous deadline waits for the answer.
        r = c.load("slow:0.2", deadline_ms=5000)
        assert r.status == OK and r.value == b"slept 0.2", r
    assert routes_loader.info_int("deadline_exceeded") == 1


def test_default_deadline(start_loader, routes_conf):
    lp = start_loader("--default-deadline", "300", config=routes_conf)
    with lp.client() as c:
        t0 = time.monotonic()
        r = c.load("slow:2")
        assert r.status == DEADLINE_EXCEEDED, r
        assert time.monotonic() - t0 < 1.5


def test_bulkhead_beyond_limit_is_resource_exhausted(start_loader, routes_conf):
    lp = start_loader("--bulkhead", "2", config=routes_conf)
    koi = koi_key(3)
    with lp.client() as c:
        s1 = c.send_load("slow:0.6")
        s2 = c.send_load("slow:0.61")
        s3 = c.send_load("slow:0.62")   # a third query of the route: refused
        s4 = c.send_load("slow:0.6")    # joins s1's query: no new query, not refused
        s5 = c.send_load(koi)           # another route has its own bulkhead
        replies, order = collect(c, 5)
    assert replies[s3].status == RESOURCE_EXHAUSTED, replies[s3]
    assert "bulkhead" in replies[s3].message
    for s in (s1, s2, s4, s5):
        assert replies[s].status == OK, replies[s]
    assert replies[s1].value == replies[s4].value == b"slept 0.6"
    assert order.index(s3) < order.index(s1)
    info = lp.info()
    assert int(info["bulkhead_rejected"]) == 1
    assert int(info["queries"]) == 3
    # Once the queries are done the route takes new ones.
    with lp.client() as c:
        assert c.load("slow:0.01").status == OK


# ---- the database going away ----

def test_postgres_down_breaker_opens_then_recovers(request, routes_conf):
    own = PgCluster()
    lp = None
    try:
        own.load_rows(100)
        key = "koi:%d" % data_key(3)
        lp = LoaderProcess(own.conninfo(), "--pool-size", "2", "--breaker-failures", "3",
                           "--breaker-cooldown", "500", config=routes_conf)
        lp.wait_connected(2)
        with lp.client() as c:
            assert c.load(key).status == OK
            # A query running when PostgreSQL stops fails UNAVAILABLE, at once.
            watch = own.connect()
            s = c.send_load("slow:30", deadline_ms=20000)
            servers.wait_until(lambda: _sleeping(watch), timeout=10, what="pg_sleep running")
            watch.close()
            own.stop("fast")
            t0 = time.monotonic()
            got, _, r = c.recv_reply()
            assert got == s and r.status == UNAVAILABLE, r
            assert time.monotonic() - t0 < 5
            # Loads keep failing UNAVAILABLE until the breaker opens.
            seen = []

            def breaker_open():
                seen.append(c.load(key, deadline_ms=3000))
                return c.ping().breaker_open

            servers.wait_until(breaker_open, timeout=15, what="the breaker to open")
            assert all(r.status == UNAVAILABLE for r in seen), seen
            m = lp.metrics()
            assert m["slotcache_loader_breaker_opens"] >= 1
            assert m["slotcache_loader_breaker_state"] in (1, 2)
            assert m["slotcache_loader_pg_connections_up"] == 0
            # Open, it fails fast.
            t0 = time.monotonic()
            r = c.load(key, deadline_ms=3000)
            assert r.status == UNAVAILABLE, r
            assert time.monotonic() - t0 < 1.0
            # PostgreSQL comes back; the loader reconnects and closes the
            # breaker by itself.
            own.start()
            servers.wait_until(lambda: c.load(key, deadline_ms=3000).status == OK, timeout=30,
                               what="loads to succeed again")
            assert c.ping().breaker_open is False
        lp.wait_connected(2)
        assert lp.info()["breaker"] == "closed"
        assert "Circuit breaker open" in lp.log_text()
        assert "Circuit breaker closed" in lp.log_text()
    finally:
        if lp is not None:
            _stop_checked(request, lp)
        own.destroy()


def test_a_paused_loader_reads_answers_before_it_times_queries_out(start_loader, routes_conf, pg):
    """A loader paused (SIGSTOP, a VM pause) past query-timeout + grace,
    while PostgreSQL's answer waits in its socket, must take the answer,
    not drop the connection as silent: its timers run before its sockets
    are read when it resumes.  The soak saw every connection dropped and
    the breaker opened after a 3 s SIGSTOP of the loader."""
    import signal
    lp = start_loader("--pool-size", "1", "--query-timeout", "500", config=routes_conf,
                      connected=1)
    watch = pg.connect()
    try:
        with lp.client() as c:
            s = c.send_load("slow:0.3", deadline_ms=20000)
            servers.wait_until(lambda: _sleeping(watch), timeout=10, what="pg_sleep running")
            lp.proc.send_signal(signal.SIGSTOP)
            try:
                time.sleep(2.5)  # the pause: past query-timeout + grace (1.5 s)
            finally:
                lp.proc.send_signal(signal.SIGCONT)
            got, _, r = c.recv_reply()
            assert got == s and r.status == OK and r.value == b"slept 0.3", r
        info = lp.info()
        assert info["pg_disconnects"] == "0", info
        assert info["query_timeouts"] == "0" and info["breaker"] == "closed", info
    finally:
        watch.close()


def _sleeping(conn):
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep($1%' "
                "AND state = 'active'")
    return cur.fetchone()[0] > 0


def test_no_postgres_loads_unavailable(request, start_loader):
    """No database at all: Loads are UNAVAILABLE (never hang), Ping works."""
    dead = "host=127.0.0.1 port=%d user=postgres dbname=postgres" % servers.free_port()
    lp = start_loader("--breaker-failures", "2", conninfo=dead, connected=0)
    with lp.client() as c:
        for _ in range(3):
            r = c.load("koi:10000000", deadline_ms=3000)
            assert r.status == UNAVAILABLE, r
        p = c.ping()
        assert p.status == OK and p.breaker_open is True
    assert lp.info_int("pg_connect_failures") >= 1


# ---- protocol errors, auth ----

def test_bad_frames(loader):
    key = koi_key(2)
    with loader.client() as good:
        assert good.load(key).status == OK
        # A length beyond the frame limit: closed, the stream cannot be trusted.
        with loader.client() as c:
            c.send_raw(struct.pack(">IIB", 0xFFFFFFF0, 1, METHOD_LOAD))
            assert c.is_closed()
        # An unknown method: closed.
        with loader.client() as c:
            c.send_raw(frame(1, 9, b""))
            assert c.is_closed()
        # A payload that is not the method's message: a clear error, and the
        # connection goes on.
        with loader.client() as c:
            c.send(METHOD_LOAD, b"\xff\xff\xff\xff", stream=7)
            s, m, r = c.recv_reply()
            assert (s, m) == (7, METHOD_LOAD)
            assert r.status == INVALID_ARGUMENT and "malformed" in r.message, r
            c.send(METHOD_PING, b"\x0a\xff", stream=8)
            s, m, r = c.recv_reply()
            assert (s, m, r.status) == (8, METHOD_PING, INVALID_ARGUMENT)
            assert c.load(key).status == OK
        # Half a frame, then hang up.
        with loader.client() as c:
            c.send_raw(frame(1, METHOD_LOAD, encode_load(key))[:12])
        # Garbage bytes.
        with loader.client() as c:
            c.send_raw(b"GET / HTTP/1.1\r\n\r\n")
            assert c.is_closed()
        assert good.load(key).status == OK
        assert good.ping().status == OK
    assert loader.alive()
    assert loader.info_int("errors_protocol") >= 5


def test_secret_required_first(start_loader):
    lp = start_loader(secret="s3cret")
    key = koi_key(1)
    with lp.client(auth=False) as c:
        r = c.load(key)
        assert r.status == UNAUTHENTICATED, r
        assert c.is_closed()
    with lp.client(auth=False) as c:
        assert c.auth("wrong").status == UNAUTHENTICATED
        assert c.is_closed()
    with lp.client(auth=False) as c:
        assert c.auth("s3cret").status == OK
        assert c.load(key).status == OK
        assert c.ping().status == OK
    assert lp.info_int("errors_unauthenticated") == 2


# ---- metrics, config ----

def test_metrics_prometheus_and_info(loader):
    with loader.client() as c:
        assert c.load(koi_key(1)).status == OK
        assert c.load(koi_key(2)).status == OK
        assert c.load("koi:9999999").status == NOT_FOUND
        assert c.load("koi:zz").status == INVALID_ARGUMENT
    ctype, text = loader.http("/metrics")
    assert ctype.startswith("text/plain")
    assert "# TYPE slotcache_loader_queries counter" in text
    assert "# TYPE slotcache_loader_pg_connections_up gauge" in text
    m = loader.metrics()
    assert m["slotcache_loader_load_requests"] == 4
    assert m["slotcache_loader_queries"] == 4
    assert m["slotcache_loader_rows_found"] == 2
    assert m["slotcache_loader_not_found"] == 1
    assert m["slotcache_loader_errors_invalid_argument"] == 1
    assert m["slotcache_loader_deadline_exceeded"] == 0
    assert m["slotcache_loader_bulkhead_rejected"] == 0
    assert m["slotcache_loader_flight_joins"] == 0
    assert m["slotcache_loader_breaker_state"] == 0
    assert m["slotcache_loader_breaker_opens"] == 0
    assert m["slotcache_loader_pg_connections_up"] == 4
    p50, p99 = (m["slotcache_loader_query_latency_%s_us" % p] for p in ("p50", "p99"))
    assert p99 >= p50 > 0
    assert m["slotcache_loader_query_latency_mean_us"] > 0
    assert m['slotcache_loader_route_queries_in_flight{route="koi:"}'] == 0
    info = loader.info()
    assert info["breaker"] == "closed"
    assert info["pg_connections_up"] == "4"
    assert info["route0"].startswith("prefix=koi:,ttl=300")
    with pytest.raises(Exception):
        loader.http("/nope")


def _run_loader(*args):
    return subprocess.run([os.path.join(servers.BIN_DIR, "slotcache-loader")] + list(args),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("line", [
    'route koi: "SELECT 1" ttl 300',
    'route koi: "SELECT $1, $2" ttl 300',
    'route koi: "SELECT $1" ttl soon',
    'route koi: "SELECT $1" 300',
    'pool-size 0',
    'no-such-directive yes',
    'route koi: "SELECT $1 ttl 300',
])
def test_bad_config_line_exits_1_with_file_line(tmp_path, line):
    conf = tmp_path / "loader.conf"
    conf.write_text("# a loader\nport 0\n%s\nbulkhead 8\n" % line)
    r = _run_loader(str(conf))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "%s:3:" % conf in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_non_loopback_bind_needs_a_secret(start_loader):
    r = _run_loader("--port", "0", "--bind", "0.0.0.0")
    assert r.returncode == 1
    assert "secret" in r.stderr and "0.0.0.0" in r.stderr, r.stderr
    # With a secret it starts (and a client must Auth).
    lp = start_loader("--bind", "0.0.0.0", secret="x", connected=1)
    with lp.client() as c:
        assert c.load(koi_key(0)).status == OK


def test_route_from_command_line_replaces_default(start_loader):
    lp = start_loader("--route", "kepler:", "SELECT kepler_name FROM koi WHERE kepid = $1::bigint",
                      "ttl", "42", connected=1)
    with lp.client() as c:
        p = c.ping()
        assert p.routes == [("kepler:", 42)]
        assert c.load(koi_key(0)).status == INVALID_ARGUMENT  # koi: is gone
        r = c.load("kepler:%d" % data_key(0))
        assert r.status in (OK, NOT_FOUND), r  # NULL kepler_name: NOT_FOUND
        assert r.ttl in (0, 42)
