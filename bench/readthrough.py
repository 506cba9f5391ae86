#!/usr/bin/python3
"""make bench, section readthrough: the miss path through the proxy.

Starts a throwaway PostgreSQL loaded with the sample data (data/load), a
slotcache-loader on it, three slotcache-nodes and a partitioned
slotcache-proxy with `loader` configured -- the stack of
tests/integration/test_readthrough.py, built with the same helpers -- then
runs slotcache-bench over distinct keys of the table:

  pass 1  every key of the run's slice once, 50 clients: each GET misses and
          is loaded from PostgreSQL -> loads/s, miss p50/p99
  pass 2  the same keys again: each GET hits -> hits/s, hit p50/p99

With 50 closed-loop clients on a small machine, latency is mostly queueing
(50 requests in flight / throughput), the same for hits and misses; so each
run first does the same two passes with one client over a few keys of its
own, which gives what a miss costs over a hit when nothing waits.

`slotcache-bench run --workload scan --passes 2 --classify pass` does both
and fails unless the proxy's keyspace_hits/keyspace_misses say pass 1 was
all misses and pass 2 all hits (a GET through read-through returns the row
either way, so the reply cannot tell).  Each run takes its own slice of the
table's keys, so every run starts cold without restarting anything.

Prints every command as run and a progress note per step; writes the raw
figures, one `name=value` a line, to --out (bench/run.sh records them and
prints the table).  Exits 1 if anything failed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "bin"),
                    help="where slotcache-node, -proxy, -loader and -bench are")
    ap.add_argument("--rows", type=int, default=200000, help="rows of table koi to load")
    ap.add_argument("--runs", type=int, default=3, help="runs, each over its own keys")
    ap.add_argument("--keys", type=int, default=0,
                    help="distinct keys per run (default: rows / runs)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--single-keys", type=int, default=2000,
                    help="keys of each run's one-client passes (taken from its slice)")
    ap.add_argument("--workdir", required=True, help="scratch directory (logs, key files)")
    ap.add_argument("--out", required=True, help="file for the raw name=value figures")
    args = ap.parse_args()
    args.keys = args.keys or args.rows // args.runs
    if args.runs < 1 or args.keys * args.runs > args.rows or args.keys <= args.single_keys:
        ap.error("--keys x --runs must be at most --rows, and --keys above --single-keys")
    return args


def show(argv):
    print("$ " + " ".join(str(a) for a in argv), flush=True)


def kepids(rows):
    """The kepid of every row, in row order (data/load --print-keys)."""
    out = subprocess.run([os.path.join(ROOT, "data", "load"), "--print-keys", str(rows)],
                         check=True, capture_output=True, timeout=300)
    return out.stdout.decode().split()


def bench_run(bench, port, key_file, clients, json_path):
    argv = [bench, "run", "--port", str(port), "--key-file", key_file, "--key-prefix", "koi:",
            "--workload", "scan", "--clients", str(clients), "--passes", "2",
            "--classify", "pass", "--json", json_path]
    show(argv)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1800)
    sys.stdout.write(p.stdout.decode(errors="replace"))
    if p.returncode != 0:
        raise RuntimeError("slotcache-bench exited %d: %s" % (p.returncode,
                                                               p.stderr.decode(errors="replace")))
    with open(json_path) as f:
        return json.load(f)


def pass_figures(prefix, report):
    """name -> value from slotcache-bench's JSON of a miss pass and a hit pass."""
    miss, hit = report["passes"]
    ml, hl = miss["latency_us"]["get_miss"], hit["latency_us"]["get_hit"]
    return {
        prefix + "loads_per_s": miss["throughput"],
        prefix + "miss_p50_us": ml["p50"],
        prefix + "miss_p99_us": ml["p99"],
        prefix + "hits_per_s": hit["throughput"],
        prefix + "hit_p50_us": hl["p50"],
        prefix + "hit_p99_us": hl["p99"],
        prefix + "proxy_loads": miss["server"]["loads"],
    }


def loader_figures(before, after):
    """The SQL queries of a run (the loader's count) and the loader's query
    latency percentiles (upper bounds of power-of-two buckets, cumulative)."""
    return {
        "sql_queries": int(after["queries"]) - int(before["queries"]),
        "loader_query_p50_us": int(after["query_latency_p50_us"]),
        "loader_query_p99_us": int(after["query_latency_p99_us"]),
    }


def write_keys(path, keys):
    with open(path, "w") as f:
        f.write("\n".join(keys) + "\n")


def one_run(args, run, keys, bench, port, loader):
    """Figures of one run: one client over the first --single-keys keys of
    its slice, then --clients clients over the rest."""
    lo, hi = run * args.keys, (run + 1) * args.keys
    mid = lo + args.single_keys
    print("run %d/%d: keys koi:<kepid> of rows %d..%d (one client), %d..%d (%d clients)" %
          (run + 1, args.runs, lo, mid - 1, mid, hi - 1, args.clients), flush=True)
    fig = {}
    before = loader.info()
    for prefix, clients, a, b in (("c1.", 1, lo, mid), ("c%d." % args.clients, args.clients,
                                                        mid, hi)):
        key_file = os.path.join(args.workdir, "keys.%d.%s" % (run, prefix.rstrip(".")))
        write_keys(key_file, keys[a:b])
        report = bench_run(bench, port, key_file, clients, key_file + ".json")
        fig.update(pass_figures(prefix, report))
    fig.update(loader_figures(before, loader.info()))
    # distinct keys that all exist: one SQL query per key, no more (no
    # single-flight joins, no negative cache), or the figures are not loads
    if fig["sql_queries"] != args.keys:
        raise RuntimeError("run %d: %d SQL queries for %d distinct keys" %
                           (run + 1, fig["sql_queries"], args.keys))
    return fig


def main():
    args = parse_args()
    os.environ["SC_BIN_DIR"] = os.path.abspath(args.bin_dir)
    import servers  # noqa: E402  (reads SC_BIN_DIR)
    from loader_client import LoaderProcess, PgCluster  # noqa: E402
    from topology import Topology  # noqa: E402

    bench = os.path.join(servers.BIN_DIR, "slotcache-bench")
    raw = {"rows": args.rows, "runs": args.runs, "keys_per_run": args.keys,
           "single_client_keys": args.single_keys, "clients": args.clients}
    per_run = []
    pg = loader = topo = None
    ok = False
    try:
        print("PostgreSQL: a throwaway cluster (tests/integration/loader_client.py PgCluster)",
              flush=True)
        pg = PgCluster()
        t = time.monotonic()
        show([os.path.join(ROOT, "data", "load"), "--rows", args.rows])
        pg.load_rows(args.rows)
        raw["data_load_seconds"] = "%.1f" % (time.monotonic() - t)
        keys = kepids(args.rows)
        loader = LoaderProcess(pg.conninfo(), workdir=args.workdir)
        loader.wait_connected(1)
        print("loader on port %d; nodes and proxy (partitioned, loader configured):" %
              loader.port, flush=True)
        topo = Topology("partitioned", 3, workdir=args.workdir, extra=(
            "loader 127.0.0.1:%d" % loader.port, "loader-timeout 5000"))
        with open(topo.config_path) as f:
            sys.stdout.write("".join("    " + line for line in f))
        servers.wait_until(lambda: proxy_stat(servers, topo.proxy.port, "loader_routes") >= 1,
                           timeout=20, what="the proxy learned the loader's routes")
        for run in range(args.runs):
            per_run.append(one_run(args, run, keys, bench, topo.proxy.port, loader))
        ok = True
    except (OSError, RuntimeError, AssertionError, subprocess.SubprocessError) as e:
        print("readthrough: %s" % e, file=sys.stderr)
        for name, proc in (("slotcache-loader", loader), ("slotcache-proxy",
                                                           topo and topo.proxy)):
            if proc is not None:
                print("---- %s log (tail) ----\n%s" % (name, proc.log_text()[-2000:]),
                      file=sys.stderr)
    finally:
        rcs = []
        if topo is not None:
            rcs.append(("proxy and nodes", topo.stop()))
        if loader is not None:
            rcs.append(("slotcache-loader", loader.stop()))
        if pg is not None:
            pg.destroy()
        for name, rc in rcs:
            if rc != 0:
                print("%s exited with status %s" % (name, rc), file=sys.stderr)
                ok = False
    for i, fig in enumerate(per_run):
        for name, value in fig.items():
            raw["run%d.%s" % (i + 1, name)] = value
    for name in (per_run[0] if per_run else {}):
        raw["median.%s" % name] = fmt(statistics.median(f[name] for f in per_run))
    with open(args.out, "w") as f:
        for name, value in raw.items():
            f.write("%s=%s\n" % (name, value))
    return 0 if ok else 1


def fmt(v):
    return "%d" % v if float(v).is_integer() else "%.1f" % v


def proxy_stat(servers, port, name):
    from resp_client import RespClient
    c = RespClient("127.0.0.1", port)
    try:
        return int(servers.parse_info(c.call("INFO", "loader")[1]).get(name, -1))
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
