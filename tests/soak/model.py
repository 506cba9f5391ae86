"""What a client may read back: the soak's correctness model.

Every key the soak's redis-py clients write has exactly one writer thread,
so a key's writes are sequential and the writer knows, when it reads, the
outcome of each of them:

  acknowledged  the proxy answered it with success (+OK, an integer for DEL);
  unknown       it failed (an error reply, a timeout, a broken connection):
                it may or may not have been applied, now or later.

A read of the key is RIGHT when it returns
  - the value of the last acknowledged write (nil if that was a DEL, or if
    there was none yet), or
  - the value of a write issued after it whose outcome is unknown.
Anything else is WRONG, in one of these ways:
  - another key's value (values carry their key's name),
  - a value this key never had written (garbage),
  - an older value than the last acknowledged write (stale),
  - nil although the last acknowledged write set a value (LOST).

A lost write is excused only in partitioned mode, and only when a node that
owned the key's slot was killed (kill -9) between the moment the
acknowledged write was sent and the moment the read was answered: a
partitioned shard of one node keeps its keys in that node's memory alone,
so its death loses them by design.  The key is then absent, as if deleted
at that moment, and later reads are checked against that.  In replicated
mode nothing excuses a lost write: every write reaches every live replica,
and a replica that comes back is refilled before it serves a read.

Database rows (koi:<kepid>, read-only for everyone) must read back as the
row, or nil for a kepid with no row; nil for a row that exists is WRONG
(the loader or database being unavailable is an error reply, never nil).

This module is pure logic: no sockets, no clocks of its own.
"""

SEP = "|"

# Verdicts of a read.
OK = "ok"
LOST = "lost"                  # nil, though an acknowledged write set a value
LOST_BY_DESIGN = "lost-by-design"  # the same, excused by a kill of its node
WRONG_OTHER_KEY = "wrong: another key's value"
WRONG_STALE = "wrong: older than the last acknowledged write"
WRONG_GARBAGE = "wrong: a value never written"
WRONG_ROW = "wrong: not the database row"
WRONG_NIL_ROW = "wrong: nil for a row that exists"


def make_value(key, seq, pad):
    """The value of write number seq of key: it names its key and its
    place in the key's history, so a wrong read says how it is wrong."""
    return ("%s%s%d%s%s" % (key, SEP, seq, SEP, pad)).encode()


def value_seq(key, value):
    """(the key the value belongs to, its write number), or (None, None)
    for bytes no writer produced."""
    try:
        text = value.decode()
        k, seq, _pad = text.rsplit(SEP, 2)
        return k, int(seq)
    except (UnicodeDecodeError, ValueError):
        return None, None


class KeyModel:
    """The writes of one key and what a read of it may return."""

    __slots__ = ("key", "seq", "acked", "acked_seq", "acked_sent", "unknown")

    def __init__(self, key):
        self.key = key
        self.seq = 0            # writes issued so far
        self.acked = None       # value of the last acknowledged write (None: absent)
        self.acked_seq = 0      # its write number (0: none yet)
        self.acked_sent = None  # when it was sent (None: no acknowledged value)
        self.unknown = []       # values of later writes of unknown outcome

    def next_value(self, pad):
        self.seq += 1
        return self.seq, make_value(self.key, self.seq, pad)

    def acknowledged(self, seq, value, sent):
        """Write seq (value None for a DEL) succeeded: it supersedes every
        earlier write, acknowledged or not."""
        self.acked, self.acked_seq, self.acked_sent = value, seq, sent
        self.unknown = []

    def failed(self, value):
        """A write failed: it may be applied, so its value may be read."""
        self.unknown.append(value)

    def allowed(self):
        return [self.acked] + self.unknown

    def check(self, got, read_end, excuse=None):
        """The verdict on a read that returned got (bytes or None) and was
        answered at read_end.  excuse(key, since, until) says whether a kill
        of the key's node in that window explains a lost value (partitioned
        mode); a read it explains makes the key absent from then on."""
        if got in self.allowed():
            return OK
        if got is None:
            if excuse is not None and excuse(self.key, self.acked_sent, read_end):
                # Absent from now on, as if deleted; a write of unknown
                # outcome may still be applied after this read.
                self.acked, self.acked_sent = None, read_end
                return LOST_BY_DESIGN
            return LOST
        owner, seq = value_seq(self.key, got)
        if owner != self.key:
            return WRONG_OTHER_KEY if owner is not None else WRONG_GARBAGE
        if seq is not None and seq <= self.acked_seq:  # (equal: the value a kill lost)
            return WRONG_STALE
        return WRONG_GARBAGE


def check_row(got, row):
    """The verdict on a read of a database key: row is the route's value
    for it as PostgreSQL renders it (row_to_json text, the same bytes on
    every call), None when the database has no row."""
    if got is None:
        return OK if row is None else WRONG_NIL_ROW
    return OK if got == row else WRONG_ROW
