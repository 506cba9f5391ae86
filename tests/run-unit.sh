#!/usr/bin/env bash
# tests/run-unit.sh DIR: runs every DIR/test_* unit-test binary and sums
# their results into "unit: N passed, M failed"; exits non-zero if any check
# failed or any binary failed.
#
# Each binary's output is shown indented, so that only the stage's own line
# starts a line (tests/run-all.sh adds up every such line of a stage's log).
# A binary that exits non-zero, or dies before printing its "<suite>: N
# passed, M failed" line (a crash, a sanitizer report), counts as a failure.
#
# Sourced (tests/run-fuzz-replay.sh), it only defines run_counted and finish.
set -u

passed=0
failed=0
bad=()

# run_counted NAME COMMAND...: runs a binary that ends with "<suite>: N
# passed, M failed", shows its output indented and adds its counts to the
# totals.  Returns non-zero, and counts one more failure if its own counts
# do not already show one, when the binary exits non-zero or never printed
# that line.
run_counted() {
    local name=$1
    shift
    local out rc summary p=0 f=0
    out=$("$@" 2>&1)
    rc=$?
    # shellcheck disable=SC2001 # a sed over all lines reads better here
    sed 's/^/    /' <<<"$out" # indented: see the top of this file
    summary=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n 1)
    if [ -n "$summary" ]; then
        read -r p f < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$summary")
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ -n "$summary" ] && [ "$rc" -eq 0 ]; then
        return 0
    fi
    if [ -z "$summary" ] || [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
    fi
    bad+=("$name (exit $rc)")
    return 1
}

# finish LABEL: lists the binaries that failed, prints the stage's line and
# returns non-zero if anything failed.
finish() {
    local b
    for b in "${bad[@]}"; do
        echo "    failed: $b"
    done
    echo "$1: $passed passed, $failed failed"
    [ ${#bad[@]} -eq 0 ] && [ "$failed" -eq 0 ]
}

main() {
    local dir=${1:?usage: tests/run-unit.sh DIR}
    local bin n=0

    for bin in "$dir"/test_*; do
        if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
            continue # a .d file next to the binaries
        fi
        n=$((n + 1))
        run_counted "$(basename "$bin")" "$bin"
    done
    if [ "$n" -eq 0 ]; then
        echo "    no test_* binaries in $dir"
        failed=$((failed + 1))
        bad+=("$dir (empty)")
    fi
    finish unit
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
