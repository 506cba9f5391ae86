"""The soak's judge, judged: each way a read can be wrong is caught, and
each way it can be right is let through (model.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import model  # noqa: E402


def written(km, n, pad="p"):
    """n acknowledged SETs of km; returns their values."""
    out = []
    for i in range(n):
        seq, v = km.next_value(pad)
        km.acknowledged(seq, v, sent=float(i))
        out.append(v)
    return out


def test_never_written_reads_nil():
    km = model.KeyModel("k")
    assert km.check(None, 1.0) == model.OK
    assert km.check(model.make_value("k", 1, "x"), 1.0) == model.WRONG_GARBAGE


def test_last_acknowledged_write_is_right_older_is_stale():
    km = model.KeyModel("k")
    v1, v2 = written(km, 2)
    assert km.check(v2, 9.0) == model.OK
    assert km.check(v1, 9.0) == model.WRONG_STALE


def test_nil_after_an_acknowledged_set_is_lost():
    km = model.KeyModel("k")
    written(km, 1)
    assert km.check(None, 9.0) == model.LOST


def test_failed_writes_may_or_may_not_be_applied():
    km = model.KeyModel("k")
    (v1,) = written(km, 1)
    seq, v2 = km.next_value("p")
    km.failed(v2)
    seq, v3 = km.next_value("p")
    km.failed(v3)
    for v in (v1, v2, v3):
        assert km.check(v, 9.0) == model.OK
    # a later acknowledged write supersedes them all
    seq, v4 = km.next_value("p")
    km.acknowledged(seq, v4, 10.0)
    for v in (v1, v2, v3):
        assert km.check(v, 11.0) == model.WRONG_STALE
    assert km.check(v4, 11.0) == model.OK


def test_del_acknowledged_makes_nil_right_and_the_value_stale():
    km = model.KeyModel("k")
    (v1,) = written(km, 1)
    seq, _ = km.next_value("")
    km.acknowledged(seq, None, 5.0)
    assert km.check(None, 6.0) == model.OK
    assert km.check(v1, 6.0) == model.WRONG_STALE


def test_failed_del_allows_nil():
    km = model.KeyModel("k")
    written(km, 1)
    seq, _ = km.next_value("")
    km.failed(None)
    assert km.check(None, 6.0) == model.OK


def test_another_keys_value_and_garbage():
    km = model.KeyModel("k")
    written(km, 1)
    assert km.check(model.make_value("other", 1, "p"), 2.0) == model.WRONG_OTHER_KEY
    assert km.check(b"\xff\x00junk", 2.0) == model.WRONG_GARBAGE
    assert km.check(model.make_value("k", 7, "p"), 2.0) == model.WRONG_GARBAGE  # never issued


def test_a_kill_excuses_a_lost_write_only_inside_its_window():
    km = model.KeyModel("k")
    seq, v = km.next_value("p")
    km.acknowledged(seq, v, sent=10.0)
    calls = []

    def excuse(key, since, until):
        calls.append((key, since, until))
        return since <= 12.0 <= until  # the node was killed at t=12

    assert km.check(None, 11.0, excuse) == model.LOST  # before the kill: lost
    assert km.check(None, 13.0, excuse) == model.LOST_BY_DESIGN
    assert calls[0] == ("k", 10.0, 11.0)
    # the key is now absent: nil is right, the lost value would be stale
    assert km.check(None, 14.0, excuse) == model.OK
    assert km.check(v, 14.0, excuse) == model.WRONG_STALE


def test_rows():
    row = b'{"kepid":10000001}'
    assert model.check_row(row, row) == model.OK
    assert model.check_row(None, None) == model.OK
    assert model.check_row(None, row) == model.WRONG_NIL_ROW
    assert model.check_row(b'{"kepid":10000002}', row) == model.WRONG_ROW
    assert model.check_row(b"x", None) == model.WRONG_ROW


def test_a_kill_keeps_writes_of_unknown_outcome_possible():
    km = model.KeyModel("k")
    written(km, 1)
    seq, v2 = km.next_value("p")
    km.failed(v2)  # e.g. a timeout: it may still be applied after the kill
    assert km.check(None, 13.0, lambda key, since, until: True) == model.LOST_BY_DESIGN
    assert km.check(v2, 14.0) == model.OK


# ---- the model wired to replies (clients.ModelClient) ----

class FakeProxy:
    """Stands in for the proxy's redis-py client: stores SETs and answers
    GETs with what the test says (the stored value, an older one, nil)."""

    def __init__(self):
        self.history = []
        self.answer = "latest"
        self.fail_next_set = None

    def set(self, key, value):
        self.history.append(value)
        if self.fail_next_set is not None:
            exc, self.fail_next_set = self.fail_next_set, None
            raise exc
        return True

    def get(self, key):
        if self.answer == "nil" or not self.history:
            return None
        return self.history[-2 if self.answer == "older" else -1]


def model_client():
    import threading
    import clients
    return clients.ModelClient(0, 0, 1, {1: None}, 1, threading.Event(), None, 0.0)


def test_a_client_judges_a_stale_read_and_a_lost_write():
    mc, r = model_client(), FakeProxy()
    mc.one(r, "set")
    mc.one(r, "set")
    mc.one(r, "get")
    assert mc.res.verdicts == {model.OK: 1}
    r.answer = "older"
    mc.one(r, "get")
    r.answer = "nil"
    mc.one(r, "get")
    assert mc.res.verdicts == {model.OK: 1, model.WRONG_STALE: 1, model.LOST: 1}
    assert [e["verdict"] for e in mc.res.examples] == [model.WRONG_STALE, model.LOST]


def test_a_client_allows_a_failed_write_applied_and_counts_its_error():
    import redis
    mc, r = model_client(), FakeProxy()
    mc.one(r, "set")
    r.fail_next_set = redis.TimeoutError("no reply")
    mc.one(r, "set")  # applied, though the client saw a timeout
    mc.one(r, "get")
    r.answer = "older"
    mc.one(r, "get")
    assert mc.res.verdicts == {model.OK: 2}
    assert sum(mc.res.errors.values()) == 1 and len(mc.res.error_at) == 1


def test_hangs_and_unknown_errors_are_unclean():
    import clients
    import redis
    for exc in (redis.TimeoutError("Timeout reading from socket"),
                redis.ResponseError("ERR slotcache-proxy: bad reply from a node")):
        assert clients.unclean(clients.error_kind(exc))
    assert clients.unclean("bench: no reply in 60 s")
    for exc in (redis.ConnectionError("Connection closed by server."),
                redis.ResponseError("CLUSTERDOWN slotcache-proxy: shard 1 (slots 0-5) has no "
                                    "node available"),
                redis.ResponseError("slotcache-proxy: could not load 'koi:1' from the database: "
                                    "UNAVAILABLE: loader not reachable")):
        assert not clients.unclean(clients.error_kind(exc))
