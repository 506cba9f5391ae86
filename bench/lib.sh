# shellcheck shell=bash
# bench/lib.sh -- helpers for bench/run.sh (sourced, not run): servers on
# free loopback ports, the commands echoed exactly as run, raw results in a
# key=value file, and the metric | slotcache | anchor | ratio tables.
#
# The caller sets TMP (a scratch directory), RESULTS (the raw-results file),
# NODE and REDIS_SERVER (binaries) before calling anything here.

PIDS=()     # servers started and not yet stopped; the EXIT trap stops them
FAILURES=() # what went wrong, for the summary and the exit status

# Stops every server still running (by the pid we started) and removes TMP.
bench_cleanup() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    rm -rf "$TMP"
}

fail_note() {
    FAILURES+=("$1")
    echo "!! $1" >&2
}

free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Prints a command as it could be typed again: plain words as they are,
# the rest quoted by printf %q (so an empty argument shows as '').
show_cmd() {
    local line="\$" a
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then
            line+=" $a"
        else
            line+=" $(printf '%q' "$a")"
        fi
    done
    echo "$line"
    echo "# $line" >>"$RESULTS"
}

record() {
    echo "$1=$2" >>"$RESULTS"
}

# wait_ping PORT PID LOG: polls PING until PONG; fails if the process exits
# or nothing answers within 10 s.
wait_ping() {
    local port=$1 pid=$2 log=$3 i
    for ((i = 0; i < 500; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "server on port $port exited at start; log:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        sleep 0.02
    done
    echo "server on port $port did not answer PING in 10 s; log:" >&2
    tail -n 20 "$log" >&2
    return 1
}

# start_server KIND NAME [ARGS...]: starts redis-server or slotcache-node on a
# free port with ARGS added; sets SERVER_PORT and SERVER_PID (globals, so
# never call this in $(...): the server must be this shell's child).
start_server() {
    local kind=$1 name=$2
    shift 2
    local port log="$TMP/$name.log"
    port=$(free_port)
    local argv
    case "$kind" in
    redis)
        argv=("$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no
            --databases 1 --dir "$TMP" "$@")
        ;;
    node)
        argv=("$NODE" --port "$port" --bind 127.0.0.1 "$@")
        ;;
    *)
        echo "start_server: unknown kind $kind" >&2
        return 1
        ;;
    esac
    show_cmd "${argv[@]}"
    "${argv[@]}" >"$log" 2>&1 &
    SERVER_PID=$!
    # shellcheck disable=SC2034 # read by the caller
    SERVER_PORT=$port
    PIDS+=("$SERVER_PID")
    wait_ping "$port" "$SERVER_PID" "$log"
}

# stop_server PID NAME: SIGTERM and wait.  Both servers exit 0 on SIGTERM, so
# any other status (a crash earlier, a failed shutdown) is a failure to report.
stop_server() {
    local pid=$1 name=$2 rc=0 p keep=()
    if ! kill -0 "$pid" 2>/dev/null; then
        fail_note "$name (pid $pid) was not running when the section ended; log tail: $(tail -n 5 "$TMP/$name.log")"
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail_note "$name (pid $pid) exited with status $rc; log tail: $(tail -n 5 "$TMP/$name.log")"
    fi
    for p in "${PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    PIDS=(${keep[@]+"${keep[@]}"})
}

# info_field PORT SECTION FIELD: one integer field of INFO.
info_field() {
    redis-cli -h 127.0.0.1 -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"
}

dbsize() {
    redis-cli -h 127.0.0.1 -p "$1" dbsize | tr -d '\r'
}

# run_logged OUTVAR CMD...: echoes CMD, runs it, keeps its stdout in OUTVAR;
# on failure notes it (with CMD's stderr) and returns CMD's status.
run_logged() {
    # The locals have odd names: bash scoping is dynamic, so a local called
    # `out` would hide the caller's `out` from printf -v.
    local rl_var=$1 rl_out rl_rc=0
    shift
    show_cmd "$@"
    rl_out=$("$@" 2>"$TMP/last.err") || rl_rc=$?
    printf -v "$rl_var" '%s' "$rl_out"
    if [ "$rl_rc" -ne 0 ]; then
        fail_note "exit $rl_rc from: $* -- $(tail -n 3 "$TMP/last.err")"
    fi
    return "$rl_rc"
}

# kv_field 'a=1 b=2' b -> 2 (the tool's one-line reports).
kv_field() {
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

is_number() {
    [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]
}

# median: the middle value as given (latencies need their digits), or the
# mean of the two middle ones.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2];
              else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A/B to 3 decimals, "n/a" when either is not a number or B is 0.
ratio() {
    if is_number "$1" && is_number "$2" && awk -v b="$2" 'BEGIN { exit !(b != 0) }'; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'
    else
        echo n/a
    fi
}

# Tables: table_start TITLE [ANCHOR]; table_row METRIC SLOTCACHE ANCHOR [FORMAT].
# The ratio column is always slotcache / anchor (redis unless named).
table_start() {
    echo
    echo "== $1"
    printf '%-40s | %14s | %14s | %7s\n' metric slotcache "${2:-redis}" ratio
    printf '%s\n' "-----------------------------------------+----------------+----------------+--------"
}

fmt_num() {
    if is_number "$2"; then
        awk -v v="$2" -v f="$1" 'BEGIN { printf f "\n", v }'
    else
        echo "${2:-n/a}"
    fi
}

table_row() {
    local fmt=${4:-%.0f}
    printf '%-40s | %14s | %14s | %7s\n' "$1" "$(fmt_num "$fmt" "$2")" "$(fmt_num "$fmt" "$3")" \
        "$(ratio "$2" "$3")"
}
