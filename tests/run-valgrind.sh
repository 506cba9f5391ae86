#!/usr/bin/env bash
# `make test-valgrind` (or tests/run-valgrind.sh [PYTEST ARGS]): the
# integration suite with every slotcache server it starts running under
# valgrind's memcheck, then every process's report read: invalid reads and
# writes, uses of uninitialised memory, definite leaks.  Prints "valgrind: N passed, M failed" (processes
# with a clean report, processes with errors) after pytest's own line, and
# exits non-zero if either shows a failure.
#
# Everything runs 20-50 times slower under valgrind: tests that measure
# time-outs against the clock may fail for that alone; the valgrind line is
# the one this run is for.
set -u
cd "$(dirname "$0")/.."

make -j"$(nproc)" V=valgrind all || exit 1
logs=build/valgrind/reports
rm -rf "$logs"
mkdir -p "$logs"

SC_BIN_DIR=build/valgrind/bin SC_FLAVOUR=valgrind SC_VALGRIND_LOGS="$PWD/$logs" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "${@:-tests/integration}"
rc=$?

clean=0
dirty=0
for f in "$logs"/*.log; do
    [ -e "$f" ] || continue
    # "ERROR SUMMARY: 0 errors" is the whole verdict, leaks included
    # (--errors-for-leak-kinds=definite makes definite leaks errors).
    if grep -q "ERROR SUMMARY: 0 errors" "$f"; then
        clean=$((clean + 1))
    elif grep -q "ERROR SUMMARY" "$f"; then
        dirty=$((dirty + 1))
        echo "---- $f"
        sed -n '/^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely lost\|Mismatched\)/,/^==[0-9]*== $/p' "$f" | head -60
    else
        # killed before it could report (SIGKILL in a fault test): nothing to read
        clean=$((clean + 1))
    fi
done
echo "valgrind: $clean passed, $dirty failed"
[ "$rc" -eq 0 ] && [ "$dirty" -eq 0 ]
