#!/usr/bin/python3
"""The soak: clients and faults against a real stack for a set time, then
figures, and a non-zero exit on any lost acknowledged write or wrong value.

    tests/soak/soak.py --seconds 600 --fault-every 10     (make soak)
    tests/soak/soak.py --seconds 60 --fault-every 10      (make test)
    tests/soak/soak.py --mode replicated --seconds 30 --json out.json

Without --mode it runs both modes at once, each in a process of its own
with its own stack (PostgreSQL, loader, three nodes, proxy), and prints
one table for both; with --mode, one.  What runs in each (stack.py,
clients.py, faults.py) and what counts as right (model.py):

  load    N redis-py threads checking every reply against a per-key model,
          and slotcache-bench run (2 connections, open loop at 4,000
          requests/s: volume that leaves a shared machine usable);
  faults  every --fault-every seconds one of: kill -9 a node and restart
          it, SIGSTOP a node until the proxy marks it down, kill -9 the
          loader, restart PostgreSQL (stop -m fast and immediate in turn),
          restart the proxy (SIGTERM and SIGKILL in turn), and a reshard
          (partitioned) or a SIGSTOP of the loader past loader-timeout
          (replicated, which has no slots to move);
  end     the stack is left to recover, every key is read once more
          (through the proxy, and from every node of its shard directly),
          every server is stopped with SIGTERM and must exit 0 with no
          sanitizer report.

Figures: requests, errors by kind (and the redis-py ones outside every fault
window), p50/p99 latency of the redis-py requests that overlapped a fault
window (injection to recovery) and of the others,
acknowledged writes lost, lost by design (partitioned kills), wrong values
read, faults by kind and their recovery times.  The last line is
"soak: N passed, M failed" over the checks of each mode (tests/run-all.sh
adds it up).
"""

import argparse
import bisect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

import redis
from redis.crc import key_slot

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import clients  # noqa: E402
import faults  # noqa: E402
import model  # noqa: E402
import stack as stack_mod  # noqa: E402
import servers  # noqa: E402  (stack.py put tests/integration on the path)

MODES = ("replicated", "partitioned")
MISSING_KEPIDS = range(1, 41)  # kepids start at 10,000,000: these have no row
WRONG = (model.WRONG_OTHER_KEY, model.WRONG_STALE, model.WRONG_GARBAGE, model.WRONG_ROW,
         model.WRONG_NIL_ROW)


def db_rows(pg):
    """kepid -> the koi route's value (bytes), None for kepids with no row."""
    conn = pg.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT kepid, row_to_json(k)::text FROM koi k")
        rows = {kepid: text.encode() for kepid, text in cur.fetchall()}
    finally:
        conn.close()
    rows.update({k: None for k in MISSING_KEPIDS})
    return rows


def percentiles(values):
    if not values:
        return {"requests": 0, "p50": None, "p99": None}
    values = sorted(values)
    pick = lambda q: round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 3)  # noqa
    return {"requests": len(values), "p50": pick(0.50), "p99": pick(0.99)}


def latency_split(res, windows):
    """p50/p99 (ms) of successful requests by whether they overlapped a
    fault window."""
    overlaps = in_windows(windows)
    during, outside = [], []
    for start, dur, ok in zip(res.start, res.dur, res.ok):
        if ok:
            (during if overlaps(start, start + dur) else outside).append(dur)
    return {"outside faults": percentiles(outside), "during faults": percentiles(during)}


def in_windows(windows):
    """A test: whether a request that ran from start to end (monotonic)
    overlapped a fault window; one sent just before a fault meets it too."""
    spans = sorted((w[1], w[2]) for w in windows)  # one at a time: they do not overlap
    starts = [s for s, _ in spans]

    def overlaps(start, end):
        i = bisect.bisect_right(starts, end) - 1
        return i >= 0 and start <= spans[i][1]
    return overlaps


def replica_check(stack, model_clients):
    """Every node, read directly, holds for every key of its shard a value
    the model allows: after recovery each member of a shard must be
    complete (replicated: one shard of every node)."""
    owners = stack.slot_owners()
    bad = Counter()
    for port in stack.node_ports():
        addr = "127.0.0.1:%d" % port
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
        for mc in model_clients:
            for km, v in mc.read_all(r):
                mine = addr in owners[key_slot(km.key.split(clients.FIELD_SEP)[0].encode())]
                if mine and v not in km.allowed():
                    bad["node %d: %s" % (port, "lost" if v is None else "wrong")] += 1
        r.close()
    return bad


class Run:
    """One mode's soak, start to figures."""

    def __init__(self, args, mode, workdir):
        self.args, self.mode, self.workdir = args, mode, workdir
        self.logf = open(os.path.join(workdir, "soak.log"), "a")
        self.t0 = time.monotonic()

    def log(self, text):
        line = "[%s %7.1f] %s" % (self.mode, time.monotonic() - self.t0, text)
        self.logf.write(line + "\n")
        self.logf.flush()
        if self.args.verbose:
            print(line, flush=True)

    def run(self):
        a = self.args
        self.log("starting the stack (%d rows)" % a.rows)
        st = stack_mod.Stack(self.mode, self.workdir, a.rows, self.log)
        try:
            return self.load_and_faults(st)
        except BaseException:
            st.stop()
            raise

    def load_and_faults(self, st):
        a = self.args
        rows = db_rows(st.pg)
        kepid_file = os.path.join(self.workdir, "kepids.txt")
        with open(kepid_file, "w") as f:
            f.write("".join("%d\n" % k for k in sorted(rows) if rows[k] is not None))
        excuse = st.killed_owner if self.mode == "partitioned" else None
        stop = threading.Event()
        self.t0 = t0 = time.monotonic()
        mcs = [clients.ModelClient(i, st.port, a.keys, rows, a.seed * 1000 + i, stop, excuse, t0)
               for i in range(a.threads)]
        bench = clients.BenchLoop(os.path.join(servers.BIN_DIR, "slotcache-bench"), st.port,
                                  kepid_file, self.workdir, stop)
        inj = faults.Injector(st, a.fault_every, t0 + a.seconds, a.seed, self.log)
        for t in mcs + [bench, inj]:
            t.start()
        self.log("load and faults for %d s, a fault every %g s" % (a.seconds, a.fault_every))
        time.sleep(max(0.0, t0 + a.seconds - time.monotonic()))  # the run's length
        inj.idle.wait(faults.RECOVERY_TIMEOUT_S + 60)  # the last fault's recovery, under load
        stop.set()
        for t in mcs + [bench]:
            t.join(120)
        elapsed = time.monotonic() - t0
        self.log("load stopped after %.1f s; final checks" % elapsed)
        inj.check_crashes()
        problems = st.wait_healthy(faults.RECOVERY_TIMEOUT_S)
        final, replicas = Counter(), {}
        try:
            final = self.final_checks(st, mcs)
            if not problems:
                replicas = replica_check(st, mcs)
        except Exception as e:  # noqa: BLE001 -- reported as a failure with the figures
            problems.append("final checks failed: %r" % e)
        stop_problems = st.stop()
        inj.release.set()
        return self.figures(elapsed, mcs, bench, inj, st, problems, final, replicas,
                            stop_problems)

    def final_checks(self, st, mcs):
        r = redis.Redis(host="127.0.0.1", port=st.port, socket_timeout=30)
        bad = Counter()
        now = time.monotonic()
        for mc in mcs:
            bad.update(mc.final_check(r, now))
        r.close()
        return bad

    def figures(self, elapsed, mcs, bench, inj, st, problems, final, replicas, stop_problems):
        res = clients.Results()
        for mc in mcs:
            res.merge(mc.res)
        errors = Counter(res.errors)
        errors.update(bench.errors)
        overlaps = in_windows(inj.windows)
        errors_outside = Counter(e[2] for e in res.error_at if not overlaps(e[0], e[1]))
        ends = sorted(w[2] for w in inj.windows)
        since_fault = {}  # kind -> seconds since the last recovery, at most
        outside_examples = []
        for t, end, kind, op, text in res.error_at:
            if not overlaps(t, end):
                if len(outside_examples) < clients.EXAMPLES_MAX:
                    outside_examples.append({"t": round(t - self.t0, 3), "op": op,
                                             "error": text[:160]})
                i = bisect.bisect_right(ends, t) - 1
                since = round(t - ends[i], 1) if i >= 0 else None
                prev = since_fault.get(kind, since)
                since_fault[kind] = since if prev is None or since is None else max(prev, since)
        verdicts = Counter(res.verdicts)
        lost = verdicts[model.LOST] + final[model.LOST]
        wrong = {w: verdicts[w] + final[w] for w in WRONG if verdicts[w] + final[w]}
        kinds = Counter(w[0] for w in inj.windows)
        recovery = {}
        for kind, t0, t1, _what in inj.windows:
            recovery[kind] = max(recovery.get(kind, 0), round(t1 - t0, 2))
        failures = list(inj.failures) + list(st.unexpected)
        if problems:
            failures.append("not whole at the end: " + "; ".join(problems))
        unclean = {k: n for k, n in errors.items() if clients.unclean(k)}
        checks = [
            ("%s: no acknowledged write lost" % self.mode, lost == 0),
            ("%s: no wrong value read" % self.mode, not wrong),
            ("%s: every fault recovered, no crash" % self.mode, not failures),
            ("%s: every error a clean one a fault explains, no hang" % self.mode, not unclean),
            ("%s: servers exit 0 on SIGTERM, no sanitizer report" % self.mode,
             not stop_problems),
            # A run that judged nothing proves nothing.
            ("%s: reads were judged under faults" % self.mode,
             sum(verdicts.values()) > 100 and len(inj.windows) > 0),
        ]
        checks.append(("%s: every node holds what the model allows for its shard's keys" %
                       self.mode, not replicas and not problems))
        if unclean:
            failures.append("errors no fault explains: %s" % unclean)
        return {
            "mode": self.mode, "seconds": round(elapsed, 1), "fault_every": self.args.fault_every,
            "seed": self.args.seed, "threads": self.args.threads,
            "requests": {"redis-py": sum(res.requests.values()), "bench": bench.requests,
                         "total": sum(res.requests.values()) + bench.requests,
                         "redis-py by operation": dict(res.requests),
                         "bench segments": dict(bench.segments)},
            "errors": dict(errors.most_common()),
            "redis-py errors outside fault windows": dict(errors_outside.most_common()),
            # How long after the last fault's recovery each such kind came,
            # at most (null: before the first fault): a fault's aftermath, or not.
            "outside errors, seconds after a recovery (max)": since_fault,
            "outside errors, examples": outside_examples,
            "latency_ms": latency_split(res, inj.windows),
            "time_in_faults_s": round(sum(w[2] - w[1] for w in inj.windows), 1),
            "reads_judged": sum(verdicts.values()) + sum(final.values()),
            "acked_writes_lost": lost,
            "lost_by_design": verdicts[model.LOST_BY_DESIGN],
            "wrong_values": wrong,
            "replica_divergence": dict(replicas),
            "faults": dict(kinds),
            "fault_log": [{"kind": k, "at_s": round(t0 - self.t0, 1),
                           "recovered_s": round(t1 - t0, 2), "what": w}
                          for k, t0, t1, w in inj.windows],
            "max_recovery_s": recovery,
            "failures": failures + stop_problems,
            "examples": res.examples,
            "checks": checks,
            "workdir": self.workdir,
        }


# ---- the table ----

def fmt_lat(d):
    if d["requests"] == 0:
        return "-"
    return "%.2f / %.2f" % (d["p50"], d["p99"])


def table(figs):
    cols = [f["mode"] for f in figs]
    rows = [("duration (s)", [f["seconds"] for f in figs]),
            ("faults injected (every %g s)" % figs[0]["fault_every"],
             [sum(f["faults"].values()) for f in figs])]
    for kind in sorted({k for f in figs for k in f["faults"]}):
        rows.append(("  " + kind, ["%d (max %.1f s)" % (f["faults"][kind], f["max_recovery_s"][kind])
                                   if kind in f["faults"] else "-" for f in figs]))
    rows += [("time inside fault windows (s)", [f["time_in_faults_s"] for f in figs]),
             ("requests", [f["requests"]["total"] for f in figs]),
             ("  redis-py (checked)", [f["requests"]["redis-py"] for f in figs]),
             ("  slotcache-bench", [f["requests"]["bench"] for f in figs]),
             ("errors (all kinds)", [sum(f["errors"].values()) for f in figs])]
    for kind in sorted({k for f in figs for k in f["errors"]}):
        rows.append(("  " + kind, [f["errors"].get(kind, 0) for f in figs]))
    outside = "redis-py errors outside fault windows"
    rows.append((outside, [sum(f[outside].values()) for f in figs]))
    for kind in sorted({k for f in figs for k in f[outside]}):
        rows.append(("  " + kind, [f[outside].get(kind, 0) for f in figs]))
    rows += [("latency p50 / p99 outside faults (ms)",
              [fmt_lat(f["latency_ms"]["outside faults"]) for f in figs]),
             ("latency p50 / p99 during faults (ms)",
              [fmt_lat(f["latency_ms"]["during faults"]) for f in figs]),
             ("reads judged", [f["reads_judged"] for f in figs]),
             ("acknowledged writes lost", [f["acked_writes_lost"] for f in figs]),
             ("  lost by design (node killed)", [f["lost_by_design"] for f in figs]),
             ("wrong values read", [sum(f["wrong_values"].values()) for f in figs])]
    width = max(len(r[0]) for r in rows) + 2
    colw = max(14, max(len(str(v)) for r in rows for v in r[1]) + 2)
    out = ["%-*s" % (width, "figure") + "".join("%*s" % (colw, c) for c in cols),
           "-" * (width + colw * len(cols))]
    for name, vals in rows:
        out.append("%-*s" % (width, name) + "".join("%*s" % (colw, v) for v in vals))
    return "\n".join(out)


# ---- running modes ----

def run_one(args):
    workdir = tempfile.mkdtemp(prefix="sc-soak-%s-" % args.mode)
    fig = Run(args, args.mode, workdir).run()
    passed = all(ok for _, ok in fig["checks"])
    if passed and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
        fig["workdir"] = None
    with open(args.json, "w") as f:
        json.dump(fig, f, indent=1)
    return 0 if passed else 1


def run_all(args):
    """Each mode in a child process, all at once: one run's length for both."""
    os.makedirs(args.out, exist_ok=True)
    children = []
    for mode in args.modes:
        path = os.path.join(args.out, "soak-%s.json" % mode)
        if os.path.exists(path):
            os.unlink(path)
        argv = [sys.executable, os.path.abspath(__file__), "--mode", mode, "--json", path,
                "--seconds", str(args.seconds), "--fault-every", str(args.fault_every),
                "--seed", str(args.seed), "--threads", str(args.threads),
                "--keys", str(args.keys), "--rows", str(args.rows)]
        argv += ["--keep"] if args.keep else []
        argv += ["--verbose"] if args.verbose else []
        children.append((mode, path, subprocess.Popen(argv)))
    figs, broken = [], []
    for mode, path, p in children:
        rc = p.wait()
        if os.path.exists(path):
            with open(path) as f:
                figs.append(json.load(f))
        else:
            broken.append("%s: the soak itself failed (exit %s), no figures" % (mode, rc))
    return report(args, figs, broken)


def report(args, figs, broken):
    passed = failed = 0
    if figs:
        text = table(figs)
        print(text)
        with open(os.path.join(args.out, "soak-figures.txt"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(args.out, "soak-figures.json"), "w") as f:
            json.dump(figs, f, indent=1)
    for fig in figs:
        for name, ok in fig["checks"]:
            print("%s %s" % ("ok  " if ok else "FAIL", name))
            passed += ok
            failed += not ok
        if not all(ok for _, ok in fig["checks"]):
            for line in fig["failures"]:
                print("  %s: %s" % (fig["mode"], line))
            for ex in fig["examples"][:15]:
                print("  %s: %s" % (fig["mode"], json.dumps(ex)))
            for kind, n in fig["replica_divergence"].items():
                print("  %s: %s: %d keys" % (fig["mode"], kind, n))
            print("  %s: logs in %s" % (fig["mode"], fig["workdir"]))
    for line in broken:
        print("FAIL " + line)
        failed += 1
    print("soak: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--fault-every", type=float, default=10)
    p.add_argument("--mode", choices=MODES, help="one mode, in this process")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=6, help="redis-py client threads")
    p.add_argument("--keys", type=int, default=200, help="keys per client thread")
    p.add_argument("--rows", type=int, default=5000, help="koi rows in PostgreSQL")
    p.add_argument("--out", default=os.path.join(servers.ROOT, "build", "soak"),
                   help="where the figures go (table and JSON)")
    p.add_argument("--json", help="with --mode: where this mode's figures go")
    p.add_argument("--keep", action="store_true", help="keep the run directories")
    p.add_argument("--verbose", action="store_true", help="print the fault log as it goes")
    args = p.parse_args()
    if args.mode:
        if not args.json:
            p.error("--mode needs --json")
        return run_one(args)
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
