#!/usr/bin/env bash
# `make test`: builds and runs every test, first under the release flags and
# then under ASan+UBSan, then a bounded libFuzzer run.  Each stage prints a
# "<stage>: N passed, M failed" line; the last line is the total, and the exit
# status is non-zero if any stage failed or reported a failure.
set -u
cd "$(dirname "$0")/.."

RESULTS=build/test-results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
failed_stages=()

# stage NAME COMMAND...: runs the command, keeps its output in the results
# directory, and records the stage as failed if it exits non-zero.
stage() {
    local name=$1
    shift
    echo "==== $name: $*"
    "$@" 2>&1 | tee "$RESULTS/$name.log"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        failed_stages+=("$name (exit $rc)")
    fi
}

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for flavour in release asan; do
    bindir=bin
    [ "$flavour" = asan ] && bindir=build/asan/bin
    stage "build-$flavour" make -j"$JOBS" V="$flavour" all
    stage "unit-$flavour" tests/run-unit.sh "build/$flavour/tests"
    stage "fuzz-replay-$flavour" tests/run-fuzz-replay.sh "build/$flavour/tests" tests/fuzz/corpus
    stage "integration-$flavour" env SC_BIN_DIR="$bindir" SC_FLAVOUR="$flavour" \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
    # The soak (tests/soak/soak.py): both modes at once for SOAK_SECONDS, a
    # fault every 10 s; it fails on any lost acknowledged write or wrong
    # value.  In both flavours, like every other test: under ASan it also
    # checks every fault path and shutdown for memory errors and leaks (it
    # found a leak there that the integration suite did not).
    stage "soak-$flavour" env SC_BIN_DIR="$bindir" /usr/bin/python3 tests/soak/soak.py \
        --seconds "${SOAK_SECONDS:-60}" --fault-every 10 --out "$RESULTS/soak-$flavour"
done
stage soak-model /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/soak/test_model.py
stage fuzz make fuzz-run FUZZ_SECONDS="$FUZZ_SECONDS"

echo "==== summary"
passed=0
failed=0
for log in "$RESULTS"/*.log; do
    while read -r p f; do
        passed=$((passed + p))
        failed=$((failed + f))
    done < <(sed -nE 's/^[A-Za-z0-9_.-]+: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log")
done
for s in "${failed_stages[@]}"; do
    echo "failed stage: $s"
done
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_stages[@]} -eq 0 ]
