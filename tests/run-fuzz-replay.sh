#!/usr/bin/env bash
# tests/run-fuzz-replay.sh DIR CORPUS: replays each harness's saved inputs
# through its plain-main() build (DIR/replay_fuzz_*, built by `make` with gcc,
# so this runs without clang, in the release and the ASan flavour).
#
# DIR/replay_<harness> runs over CORPUS/<harness>/.  Output and counting are
# run-unit.sh's: each binary's output indented, then "fuzz-replay: N passed,
# M failed" (inputs).  A harness that aborts (a broken invariant, a
# sanitizer report), exits non-zero or has no corpus is one more failure,
# and the exit status is non-zero.
set -u
# shellcheck source=tests/run-unit.sh
source "$(dirname "$0")/run-unit.sh"

dir=${1:?usage: tests/run-fuzz-replay.sh DIR CORPUS}
corpus=${2:?usage: tests/run-fuzz-replay.sh DIR CORPUS}
n=0

for bin in "$dir"/replay_fuzz_*; do
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
        continue
    fi
    n=$((n + 1))
    harness=$(basename "$bin")
    harness=${harness#replay_}
    if [ ! -d "$corpus/$harness" ]; then
        echo "    $harness: no corpus directory $corpus/$harness"
        failed=$((failed + 1))
        bad+=("$harness (no corpus)")
        continue
    fi
    if ! run_counted "$harness" "$bin" "$corpus/$harness"; then
        # An abort ends the run before the summary: replay the inputs one by
        # one to name those that fail.
        for input in "$corpus/$harness"/*; do
            "$bin" "$input" >/dev/null 2>&1 || echo "    $harness: fails on $input"
        done
    fi
done
if [ "$n" -eq 0 ]; then
    echo "    no replay_fuzz_* binaries in $dir"
    failed=$((failed + 1))
    bad+=("$dir (empty)")
fi
finish fuzz-replay
