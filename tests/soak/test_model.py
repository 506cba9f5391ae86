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
