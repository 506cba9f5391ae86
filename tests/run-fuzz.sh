#!/usr/bin/env bash
# tests/run-fuzz.sh BUILD_DIR SECONDS: runs each libFuzzer harness built by
# `make fuzz` (BUILD_DIR/fuzz_*) for SECONDS seconds.
#
# Each harness works in BUILD_DIR/corpus/<harness>/, seeded from
# tests/fuzz/corpus/<harness>/ (copied, never overwriting what earlier runs
# found), so generated inputs never land in the repository.  Crash inputs go
# to BUILD_DIR/artifacts/<harness>/ and the log to BUILD_DIR/<harness>.log.
# A harness passes when libFuzzer exits 0.  The last line is
# "fuzz: N passed, M failed" (harnesses); on a finding the exit status is
# non-zero and the crash file's path is printed.
set -u

build=${1:?usage: tests/run-fuzz.sh BUILD_DIR SECONDS}
seconds=${2:?usage: tests/run-fuzz.sh BUILD_DIR SECONDS}
seeds="$(dirname "$0")/fuzz/corpus"
passed=0
failed=0

shopt -s nullglob
bins=()
for bin in "$build"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] && bins+=("$bin")
done
if [ ${#bins[@]} -eq 0 ]; then
    echo "run-fuzz: no fuzz_* harnesses in $build (make fuzz builds them)" >&2
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi

for bin in "${bins[@]}"; do
    h=$(basename "$bin")
    corpus="$build/corpus/$h"
    artifacts="$build/artifacts/$h"
    log="$build/$h.log"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$seeds/$h" ]; then
        cp -n "$seeds/$h"/* "$corpus"/ 2>/dev/null
    else
        echo "    $h: no seed corpus in $seeds/$h"
    fi
    start=$(date +%s)
    # One input (<= 4 KB) runs in milliseconds: the 60 s per-input limit
    # still catches a real hang without calling a stall of a loaded CI
    # machine one.
    "$bin" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "    $h: ok in ${took}s, ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs"
    else
        failed=$((failed + 1))
        echo "    $h: FAILED (exit $rc) after ${took}s; log: $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*ASSERTION FAILED|.*runtime error)' "$log" |
            head -n 5 | sed 's/^/        /'
        crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
        echo "    $h: crash input: ${crash:-(none written; see the log)}"
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
