"""cluster-tools/hitrate-matrix --quick: three topologies started with
slotcache-cli up, PostgreSQL behind them, two policies at two cache sizes.
The figures must be sane: hit ratios in [0, 1], rising with the cache size
for LRU on Zipf, never above Belady's optimum of the same trace."""

import csv
import os
import subprocess
import tempfile

import servers

MATRIX = os.path.join(servers.ROOT, "cluster-tools", "hitrate-matrix")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_quick_matrix_writes_sane_figures_and_charts():
    out = tempfile.mkdtemp(prefix="sc-hitrate-")
    p = subprocess.run(["/usr/bin/python3", MATRIX, "--quick", "--out", out,
                        "--port", str(servers.free_up_base()),
                        "--bin-dir", servers.BIN_DIR],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]

    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    topologies = {r["topology"] for r in rows}
    assert topologies == {"central", "partitioned", "replicated"}
    assert {r["policy"] for r in rows} >= {"allkeys-lru"}
    by = {}
    for r in rows:
        hr, opt = float(r["hit_ratio"]), float(r["opt_hit_ratio"])
        assert 0 <= hr <= 1 and 0 <= opt <= 1, r
        assert hr <= opt, "above the optimum: %s" % r
        assert float(r["lru_exact_hit_ratio"]) <= opt, r
        assert int(r["errors"]) == 0, r
        assert int(r["hits"]) + int(r["misses"]) == int(r["requests"]) > 0, r
        assert float(r["get_miss_p50_us"]) > 0 and float(r["get_hit_p99_us"]) > 0, r
        by[(r["topology"], r["policy"], int(r["size_pct"]))] = hr
    sizes = sorted({int(r["size_pct"]) for r in rows})
    assert len(sizes) >= 2
    for t in topologies:
        lru = [by[(t, "allkeys-lru", s)] for s in sizes]
        assert lru == sorted(lru) and lru[-1] > lru[0], (t, lru)

    for name in ("hitratio-zipf.png", "latency.png", "throughput.png"):
        path = os.path.join(out, name)
        with open(path, "rb") as f:
            assert f.read(8) == PNG_MAGIC, name
        assert os.path.getsize(path) > 5000, name  # a drawn chart, not an empty canvas
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    assert "## Hit ratio, workload zipf" in report and "![" in report
    assert "| partitioned | allkeys-lru |" in report
