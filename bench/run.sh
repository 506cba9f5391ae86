#!/usr/bin/env bash
# `make bench`: slotcache-node beside redis-server 7, in one run on one machine.
# Absolute numbers on a shared machine are noise; the ratios are the result.
#
#   a. throughput  redis-benchmark SET/GET at -P 1 and -P 16, BENCH_RUNS times
#                  per server, servers alternating run by run; medians
#   b. memory      used_memory before/after slotcache-bench fill: bytes per key
#   d. proxy       slotcache-proxy (partitioned) beside nutcracker (ketama) over
#                  the same three redis-servers: SET/GET at -P 1 and -P 16, and
#                  the latency a proxy adds for one client (-c 1, p50)
#   c. hit ratio   one Zipf(0.99) trace replayed read-through (GET, SET on a
#                  miss) under allkeys-lru and allkeys-lfu, both servers at the
#                  same maxmemory: redis's empty used_memory + 10% of the
#                  trace's keys at redis's bytes per key from (b); then
#                  (c2) the node again at its own empty used_memory + the same
#                  number of keys at its own bytes per key, which compares the
#                  eviction policies alone at equal key capacity
#   e. readthrough the miss path: slotcache-proxy (partitioned, three nodes) with
#                  slotcache-loader on a throwaway PostgreSQL holding 200,000
#                  rows of the sample data (bench/readthrough.py); over distinct
#                  keys, loads/s with 50 clients and p50/p99 of a miss vs a hit
#                  (50 clients, and one client), BENCH_RUNS runs; medians
#   f. policies    every eviction policy of the node beside redis's: hit ratio
#                  on Zipf and shifting traces at redis's maxmemory, with the
#                  offline replay (exact LRU, Belady) beside it; bytes per key;
#                  SET/GET throughput with eviction active vs allkeys-lru
#
# Every command is printed as run; raw numbers go to build/bench/results.txt.
# Environment: BENCH_RUNS (default 3), BENCH_QUICK=1 (every size / 10, for a
# smoke run), BENCH_SECTIONS (default "throughput memory hitrate proxy
# readthrough policies"; "policy-throughput" is f3 alone),
# SC_BIN_DIR (default bin).  Exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_DIR=${SC_BIN_DIR:-bin}
NODE=$BIN_DIR/slotcache-node
PROXY=$BIN_DIR/slotcache-proxy
BENCH=$BIN_DIR/slotcache-bench
SECTIONS=${BENCH_SECTIONS:-throughput memory hitrate proxy readthrough policies}
REDIS_SERVER=$(command -v redis-server || true)
RUNS=${BENCH_RUNS:-3}
QUICK=${BENCH_QUICK:-0}
OUT_DIR=build/bench
RESULTS=$OUT_DIR/results.txt

SCALE=1
[ "$QUICK" = 1 ] && SCALE=10
CLK_TCK=$(getconf CLK_TCK)
TP_REQUESTS=$((1000000 / SCALE))
TP_KEYSPACE=$((100000 / SCALE))
FILL_KEYS=$((1000000 / SCALE))
TRACE_KEYS=$((100000 / SCALE))
TRACE_REQUESTS=$((1000000 / SCALE))
CACHE_KEYS=$((TRACE_KEYS / 10))
KEY_SIZE=16 # "key:" + 12 digits: the trace's keys and redis-benchmark's
VALUE_SIZE=100
ZIPF=0.99
SEED=1
POLICIES=(allkeys-lru allkeys-lfu)
# redis-benchmark retries a dead server forever: bound every run.
BENCHMARK_TIMEOUT=900

for f in "$NODE" "$PROXY" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "bench: $f is missing: run make first" >&2
        exit 1
    fi
done
for tool in redis-server redis-cli redis-benchmark; do
    if ! command -v "$tool" >/dev/null; then
        echo "bench: $tool is missing (Debian: redis-server, redis-tools)" >&2
        exit 1
    fi
done

mkdir -p "$OUT_DIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench.XXXXXX")
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Run copies of the binaries: a `make` in the same tree during the run (a
# shared machine) would otherwise swap them, or catch one half-written.
mkdir -p "$TMP/bin"
cp "$NODE" "$PROXY" "$BENCH" "$TMP/bin/"
echo "binaries: $NODE, $PROXY and $BENCH, run from copies in $TMP/bin"
NODE=$TMP/bin/slotcache-node
PROXY=$TMP/bin/slotcache-proxy
BENCH=$TMP/bin/slotcache-bench

: >"$RESULTS"
record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record git "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- node common 2>/dev/null || echo +dirty)"
record host "$(uname -srm), $(nproc) cpus"
record node_version "$("$NODE" --version)"
record redis_version "$(redis-server --version)"
record quick "$QUICK"
record runs "$RUNS"

echo "slotcache bench: node $("$NODE" --version | cut -d' ' -f2), $(redis-server --version | cut -d' ' -f3), $(nproc) cpus, runs=$RUNS quick=$QUICK"
SUMMARY=()

# ---- a. throughput ----

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# bench_throughput NAME PORT PIPELINE RUN PID: one redis-benchmark run;
# appends the SET and GET requests/s to TP[name/test/P], and the server's
# (PID's) CPU time per request to TP[name/cpu/P].
#
# Requests/s on a shared machine swing by 10-20% from run to run, and at
# -P 1 they measure redis-benchmark (one thread, a core of its own out of
# two) as much as the server; the CPU time the server spends per request
# does neither (it excludes waiting), so it is measured over the same runs.
declare -A TP
bench_throughput() {
    local name=$1 port=$2 p=$3 run=$4 pid=$5 out test rps t0 ns
    t0=$(cpu_ticks "$pid")
    if ! run_logged out timeout "$BENCHMARK_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" \
        -t set,get -n "$TP_REQUESTS" -r "$TP_KEYSPACE" -d "$VALUE_SIZE" -c 50 -P "$p" --csv; then
        return 0
    fi
    ns=$(awk -v a="$t0" -v b="$(cpu_ticks "$pid")" -v hz="$CLK_TCK" -v n="$TP_REQUESTS" \
        'BEGIN { printf "%.1f", (b - a) * 1e9 / hz / (2 * n) }')
    echo "  server CPU: $ns ns per request"
    record "throughput.$name.P$p.run$run.cpu_ns_per_request" "$ns"
    TP[$name/cpu/P$p]+=" $ns"
    for test in SET GET; do
        rps=$(awk -F'"' -v t="$test" '$2 == t { print $4 }' <<<"$out")
        if ! is_number "$rps"; then
            fail_note "$name: no $test line in redis-benchmark's output"
            continue
        fi
        echo "  $test: $rps requests/s"
        record "throughput.$name.$test.P$p.run$run" "$rps"
        # the latencies too (avg min p50 p95 p99 max, ms): they tell an
        # outlier run caused by the machine from one caused by the server
        record "throughput.$name.$test.P$p.run$run.latency_ms" \
            "$(awk -F'"' -v t="$test" '$2 == t { print $6, $8, $10, $12, $14, $16 }' <<<"$out")"
        TP[$name/$test/P$p]+=" $rps"
    done
}

section_throughput() {
    local run p order name port pid rport nport rpid npid
    echo
    echo "---- a. throughput"
    start_server redis redis-tp
    rport=$SERVER_PORT rpid=$SERVER_PID
    start_server node node-tp
    nport=$SERVER_PORT npid=$SERVER_PID
    for ((run = 1; run <= RUNS; run++)); do
        order="redis slotcache"
        [ $((run % 2)) -eq 0 ] && order="slotcache redis"
        for p in 1 16; do
            for name in $order; do
                port=$rport pid=$rpid
                [ "$name" = slotcache ] && port=$nport pid=$npid
                echo "run $run/$RUNS, $name, -P $p:"
                bench_throughput "$name" "$port" "$p" "$run" "$pid"
            done
        done
    done
    stop_server "$npid" node-tp
    stop_server "$rpid" redis-tp

    table_start "a. throughput, median requests/s of $RUNS runs (redis-benchmark -c 50 -n $TP_REQUESTS -r $TP_KEYSPACE -d $VALUE_SIZE)"
    local test med_s med_r
    for p in 1 16; do
        for test in SET GET; do
            med_s=n/a med_r=n/a
            # shellcheck disable=SC2086 # the list is space-separated numbers
            [ -n "${TP[slotcache/$test/P$p]:-}" ] && med_s=$(median ${TP[slotcache/$test/P$p]})
            # shellcheck disable=SC2086
            [ -n "${TP[redis/$test/P$p]:-}" ] && med_r=$(median ${TP[redis/$test/P$p]})
            record "throughput.slotcache.$test.P$p.median" "$med_s"
            record "throughput.redis.$test.P$p.median" "$med_r"
            table_row "$test requests/s, -P $p" "$med_s" "$med_r"
            SUMMARY+=("$(printf '%-44s %s' "throughput $test -P $p (slotcache/redis)" "$(ratio "$med_s" "$med_r")")")
        done
        cpu_row throughput slotcache redis "$p"
    done
}

# cpu_row SECTION OURS ANCHOR P: the table row and summary line of the
# servers' median CPU time per request at -P P (TP[NAME/cpu/PP]).
cpu_row() {
    local section=$1 ours=$2 anchor=$3 p=$4 med_o med_a
    # shellcheck disable=SC2086 # space-separated numbers
    med_o=$(median ${TP[$ours/cpu/P$p]:-n/a})
    # shellcheck disable=SC2086
    med_a=$(median ${TP[$anchor/cpu/P$p]:-n/a})
    record "$section.$ours.P$p.cpu_ns_per_request.median" "$med_o"
    record "$section.$anchor.P$p.cpu_ns_per_request.median" "$med_a"
    table_row "server CPU ns per request, -P $p" "$med_o" "$med_a" %.1f
    SUMMARY+=("$(printf '%-44s %s' "server CPU per request, $section -P $p (lower: better)" "$(ratio "$med_o" "$med_a")")")
}

# ---- b. memory ----

declare -A MEM
# measure_fill NAME PORT: used_memory before and after a fill of FILL_KEYS keys.
measure_fill() {
    local name=$1 port=$2 out before after rss_before rss_after n
    before=$(info_field "$port" memory used_memory)
    rss_before=$(info_field "$port" memory used_memory_rss)
    if ! run_logged out "$BENCH" fill --host 127.0.0.1 --port "$port" --keys "$FILL_KEYS" \
        --key-size "$KEY_SIZE" --value-size "$VALUE_SIZE"; then
        return 0
    fi
    echo "  $out"
    after=$(info_field "$port" memory used_memory)
    rss_after=$(info_field "$port" memory used_memory_rss)
    n=$(dbsize "$port")
    if [ "$n" != "$FILL_KEYS" ]; then
        fail_note "$name: DBSIZE is $n after filling $FILL_KEYS keys"
    fi
    MEM[$name/empty]=$before
    MEM[$name/full]=$after
    MEM[$name/per_key]=$(awk -v a="$after" -v b="$before" -v n="$FILL_KEYS" 'BEGIN { printf "%.2f", (a - b) / n }')
    MEM[$name/rss_per_key]=$(awk -v a="$rss_after" -v b="$rss_before" -v n="$FILL_KEYS" 'BEGIN { printf "%.2f", (a - b) / n }')
    MEM[$name/seconds]=$(kv_field "$out" seconds)
    local k
    for k in empty full per_key rss_per_key seconds; do
        record "memory.$name.$k" "${MEM[$name/$k]}"
    done
}

section_memory() {
    local pid
    echo
    echo "---- b. memory"
    start_server redis redis-mem
    pid=$SERVER_PID
    measure_fill redis "$SERVER_PORT"
    stop_server "$pid" redis-mem
    start_server node node-mem
    pid=$SERVER_PID
    measure_fill slotcache "$SERVER_PORT"
    stop_server "$pid" node-mem

    table_start "b. memory, $FILL_KEYS keys of $KEY_SIZE bytes with $VALUE_SIZE-byte values (slotcache-bench fill)"
    table_row "used_memory, empty (bytes)" "${MEM[slotcache/empty]:-}" "${MEM[redis/empty]:-}"
    table_row "used_memory, filled (bytes)" "${MEM[slotcache/full]:-}" "${MEM[redis/full]:-}"
    table_row "bytes per key (used_memory)" "${MEM[slotcache/per_key]:-}" "${MEM[redis/per_key]:-}" %.1f
    table_row "bytes per key (used_memory_rss)" "${MEM[slotcache/rss_per_key]:-}" "${MEM[redis/rss_per_key]:-}" %.1f
    table_row "fill seconds" "${MEM[slotcache/seconds]:-}" "${MEM[redis/seconds]:-}" %.3f
    SUMMARY+=("$(printf '%-44s %s' "memory bytes/key (slotcache/redis)" "$(ratio "${MEM[slotcache/per_key]:-}" "${MEM[redis/per_key]:-}")")")
}

# ---- c. hit ratio ----

declare -A HR
# replay NAME POLICY PORT: one read-through replay of the trace, then what
# the server holds.
replay() {
    local name=$1 policy=$2 port=$3 out k
    if ! run_logged out "$BENCH" readthrough --host 127.0.0.1 --port "$port" --trace "$TMP/trace.txt" \
        --value-size "$VALUE_SIZE" --pipeline 32; then
        [ -n "$out" ] && echo "  $out"
        return 0
    fi
    echo "  $out"
    HR[$policy/$name/hit_ratio]=$(kv_field "$out" hit_ratio)
    HR[$policy/$name/client_hit_ratio]=$(kv_field "$out" client_hit_ratio)
    HR[$policy/$name/seconds]=$(kv_field "$out" seconds)
    HR[$policy/$name/keys]=$(dbsize "$port")
    HR[$policy/$name/evicted]=$(info_field "$port" stats evicted_keys)
    HR[$policy/$name/used_memory]=$(info_field "$port" memory used_memory)
    for k in hit_ratio client_hit_ratio seconds keys evicted used_memory; do
        record "hitratio.$policy.$name.$k" "${HR[$policy/$name/$k]}"
    done
}

section_hit_ratio() {
    local maxmem policy rport nport rpid npid
    echo
    echo "---- c. hit ratio"
    redis_maxmem hitratio || return 0
    maxmem=$MAXMEM
    show_cmd "$BENCH" trace --keys "$TRACE_KEYS" --requests "$TRACE_REQUESTS" --zipf "$ZIPF" --seed "$SEED"
    echo "  > $TMP/trace.txt"
    if ! "$BENCH" trace --keys "$TRACE_KEYS" --requests "$TRACE_REQUESTS" --zipf "$ZIPF" \
        --seed "$SEED" >"$TMP/trace.txt"; then
        fail_note "hit ratio: skipped, the trace could not be written"
        return 0
    fi
    for policy in "${POLICIES[@]}"; do
        start_server redis "redis-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
        rport=$SERVER_PORT rpid=$SERVER_PID
        start_server node "node-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
        nport=$SERVER_PORT npid=$SERVER_PID
        replay redis "$policy" "$rport"
        replay slotcache "$policy" "$nport"
        stop_server "$npid" "node-$policy"
        stop_server "$rpid" "redis-$policy"
    done
    hit_ratio_table "$maxmem"
    equal_capacity
}

# The same maxmemory is what a user compares, but it mixes two things: the
# fixed overhead (redis starts near 1 MB, the node near nothing, so the node
# has more room for data) and the eviction policy.  This extra run isolates
# the policy: the node gets its own empty used_memory + CACHE_KEYS x its own
# bytes per key, so both hold about CACHE_KEYS keys.
equal_capacity() {
    local maxmem policy pid
    if ! is_number "${MEM[slotcache/per_key]:-}"; then
        fail_note "equal capacity: skipped, no bytes-per-key figure for slotcache from (b)"
        return 0
    fi
    maxmem=$(awk -v e="${MEM[slotcache/empty]}" -v p="${MEM[slotcache/per_key]}" -v n="$CACHE_KEYS" \
        'BEGIN { printf "%d", e + n * p }')
    echo
    echo "equal key capacity: slotcache maxmemory $maxmem = its empty used_memory ${MEM[slotcache/empty]} + $CACHE_KEYS keys x ${MEM[slotcache/per_key]} bytes"
    record hitratio.equal_capacity.slotcache_maxmemory "$maxmem"
    for policy in "${POLICIES[@]}"; do
        start_server node "node-eq-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
        pid=$SERVER_PID
        replay slotcache-eq "$policy" "$SERVER_PORT"
        stop_server "$pid" "node-eq-$policy"
    done

    table_start "c2. hit ratio at equal key capacity (~$CACHE_KEYS keys each): slotcache maxmemory $maxmem, redis as in c"
    local s r
    for policy in "${POLICIES[@]}"; do
        s=$policy/slotcache-eq r=$policy/redis
        table_row "$policy hit ratio (server INFO)" "${HR[$s/hit_ratio]:-}" "${HR[$r/hit_ratio]:-}" %.4f
        table_row "$policy keys held at the end" "${HR[$s/keys]:-}" "${HR[$r/keys]:-}"
        SUMMARY+=("$(printf '%-44s %s' "hit ratio $policy, equal key capacity" "$(ratio "${HR[$s/hit_ratio]:-}" "${HR[$r/hit_ratio]:-}")")")
    done
}

hit_ratio_table() {
    local maxmem=$1

    table_start "c. hit ratio, Zipf($ZIPF) trace: $TRACE_REQUESTS requests over $TRACE_KEYS keys, maxmemory $maxmem (~$CACHE_KEYS keys in redis)"
    # The same maxmemory leaves each server maxmemory minus its own empty
    # used_memory for data: the row says how much of the difference in keys
    # held comes from the fixed overhead rather than from bytes per key.
    local s r
    table_row "maxmemory - empty used_memory (bytes)" \
        "$(awk -v m="$maxmem" -v e="${MEM[slotcache/empty]:-0}" 'BEGIN { print m - e }')" \
        "$(awk -v m="$maxmem" -v e="${MEM[redis/empty]}" 'BEGIN { print m - e }')"
    for policy in "${POLICIES[@]}"; do
        s=$policy/slotcache r=$policy/redis
        table_row "$policy hit ratio (server INFO)" "${HR[$s/hit_ratio]:-}" "${HR[$r/hit_ratio]:-}" %.4f
        table_row "$policy hit ratio (client)" "${HR[$s/client_hit_ratio]:-}" "${HR[$r/client_hit_ratio]:-}" %.4f
        table_row "$policy keys held at the end" "${HR[$s/keys]:-}" "${HR[$r/keys]:-}"
        table_row "$policy evicted_keys" "${HR[$s/evicted]:-}" "${HR[$r/evicted]:-}"
        table_row "$policy used_memory at the end" "${HR[$s/used_memory]:-}" "${HR[$r/used_memory]:-}"
        table_row "$policy replay seconds" "${HR[$s/seconds]:-}" "${HR[$r/seconds]:-}" %.3f
        SUMMARY+=("$(printf '%-44s %s' "hit ratio $policy (slotcache/redis)" "$(ratio "${HR[$s/hit_ratio]:-}" "${HR[$r/hit_ratio]:-}")")")
    done
}

# ---- d. proxy ----

# start_proc NAME PORT CMD...: starts a proxy process and waits for PING.
start_proc() {
    local name=$1 port=$2 log="$TMP/$1.log"
    shift 2
    show_cmd "$@"
    "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_ping "$port" "$SERVER_PID" "$log"
}

# p50_latency PORT: sets LAT to the median latency (ms) of one client, no
# pipelining, GET (a global: run_logged prints the command to stdout).
p50_latency() {
    local out
    LAT=n/a
    run_logged out timeout "$BENCHMARK_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$1" -t get \
        -n "$((TP_REQUESTS / 10))" -r "$TP_KEYSPACE" -d "$VALUE_SIZE" -c 1 -P 1 --csv || return 0
    LAT=$(awk -F'"' '$2 == "GET" { print $10 }' <<<"$out")
    echo "  GET p50: $LAT ms"
}

section_proxy() {
    local ports=() pids=() i run p name port
    echo
    echo "---- d. proxy: slotcache-proxy (partitioned) and nutcracker (ketama) over three redis-servers"
    for i in 1 2 3; do
        start_server redis "redis-shard$i"
        ports+=("$SERVER_PORT")
        pids+=("$SERVER_PID")
    done
    local pport nport sport ppid npid pid
    pport=$(free_port)
    nport=$(free_port)
    sport=$(free_port)
    cat >"$TMP/proxy.conf" <<CONF
mode partitioned
port $pport
shard 0-5460 127.0.0.1:${ports[0]}
shard 5461-10922 127.0.0.1:${ports[1]}
shard 10923-16383 127.0.0.1:${ports[2]}
CONF
    cat >"$TMP/nutcracker.yml" <<CONF
bench:
  listen: 127.0.0.1:$nport
  hash: fnv1a_64
  distribution: ketama
  redis: true
  timeout: 1000
  servers:
   - 127.0.0.1:${ports[0]}:1
   - 127.0.0.1:${ports[1]}:1
   - 127.0.0.1:${ports[2]}:1
CONF
    echo "proxy config:" && sed 's/^/    /' "$TMP/proxy.conf"
    echo "nutcracker config:" && sed 's/^/    /' "$TMP/nutcracker.yml"
    start_proc slotcache-proxy "$pport" "$PROXY" "$TMP/proxy.conf"
    ppid=$SERVER_PID
    start_proc nutcracker "$nport" nutcracker -c "$TMP/nutcracker.yml" -s "$sport" -o "$TMP/nutcracker.log"
    npid=$SERVER_PID
    for ((run = 1; run <= RUNS; run++)); do
        order="nutcracker slotcache"
        [ $((run % 2)) -eq 0 ] && order="slotcache nutcracker"
        for p in 1 16; do
            for name in $order; do
                port=$nport pid=$npid
                [ "$name" = slotcache ] && port=$pport pid=$ppid
                echo "run $run/$RUNS, $name, -P $p:"
                bench_throughput "proxy-$name" "$port" "$p" "$run" "$pid"
            done
        done
        for name in $order direct; do
            port=$nport
            [ "$name" = slotcache ] && port=$pport
            [ "$name" = direct ] && port=${ports[0]}
            echo "run $run/$RUNS, $name, one client:"
            p50_latency "$port"
            TP[lat/$name]+=" $LAT"
        done
    done
    stop_server "$ppid" slotcache-proxy
    kill "$npid" 2>/dev/null
    wait "$npid" 2>/dev/null || true
    PIDS=("${PIDS[@]/$npid/}")
    for i in 0 1 2; do
        stop_server "${pids[$i]}" "redis-shard$((i + 1))"
    done

    table_start "d. proxy throughput, median requests/s of $RUNS runs (redis-benchmark -c 50 -n $TP_REQUESTS -r $TP_KEYSPACE -d $VALUE_SIZE)" nutcracker
    local test med_s med_n
    for p in 1 16; do
        for test in SET GET; do
            # shellcheck disable=SC2086
            med_s=$(median ${TP[proxy-slotcache/$test/P$p]:-n/a})
            # shellcheck disable=SC2086
            med_n=$(median ${TP[proxy-nutcracker/$test/P$p]:-n/a})
            record "proxy.slotcache.$test.P$p.median" "$med_s"
            record "proxy.nutcracker.$test.P$p.median" "$med_n"
            table_row "$test requests/s, -P $p" "$med_s" "$med_n"
            SUMMARY+=("$(printf '%-44s %s' "proxy $test -P $p (slotcache/nutcracker)" "$(ratio "$med_s" "$med_n")")")
        done
        cpu_row proxy proxy-slotcache proxy-nutcracker "$p"
    done
    local lat_s lat_n lat_d add_s add_n
    # shellcheck disable=SC2086
    lat_s=$(median ${TP[lat/slotcache]}) lat_n=$(median ${TP[lat/nutcracker]}) lat_d=$(median ${TP[lat/direct]})
    add_s=$(awk -v a="$lat_s" -v d="$lat_d" 'BEGIN { printf "%.3f", a - d }')
    add_n=$(awk -v a="$lat_n" -v d="$lat_d" 'BEGIN { printf "%.3f", a - d }')
    table_row "GET p50 ms, one client (direct: $lat_d)" "$lat_s" "$lat_n" %.3f
    table_row "added p50 ms over direct" "$add_s" "$add_n" %.3f
    record proxy.latency.p50.slotcache "$lat_s"
    record proxy.latency.p50.nutcracker "$lat_n"
    record proxy.latency.p50.direct "$lat_d"
    SUMMARY+=("$(printf '%-44s %s' "proxy added p50 latency (slotcache/nutcracker)" "$(ratio "$add_s" "$add_n")")")
}

# ---- e. read-through ----

# bench/readthrough.py starts the stack (PostgreSQL, slotcache-loader, three
# nodes, a partitioned proxy with `loader`), runs slotcache-bench over
# distinct keys of table koi -- pass 1 every key once (all misses, each a
# load from the database), pass 2 the same keys (all hits), checked against
# the proxy's counters -- with one client and with RT_CLIENTS, and writes the
# raw figures; this records them and prints the table.  No anchor: redis has
# no read-through; the figures stand beside each other (miss vs hit).
RT_ROWS=$((200000 / SCALE))
RT_CLIENTS=50
declare -A RT

rt_row() {
    printf '%-56s | %14s\n' "$1" "$(fmt_num "${3:-%.0f}" "$2")"
}

section_readthrough() {
    local loader=$BIN_DIR/slotcache-loader raw=$TMP/readthrough.txt name value c
    echo
    echo "---- e. read-through: slotcache-proxy (partitioned, 3 nodes) -> slotcache-loader -> PostgreSQL"
    if [ ! -x "$loader" ]; then
        fail_note "read-through: skipped, $loader is missing"
        return 0
    fi
    cp "$loader" "$TMP/bin/"
    mkdir -p "$TMP/readthrough"
    local argv=(/usr/bin/python3 bench/readthrough.py --bin-dir "$TMP/bin" --rows "$RT_ROWS"
        --runs "$RUNS" --clients "$RT_CLIENTS" --single-keys "$((2000 / SCALE))"
        --workdir "$TMP/readthrough" --out "$raw")
    show_cmd "${argv[@]}"
    if ! "${argv[@]}"; then
        fail_note "read-through: bench/readthrough.py failed (its output is above)"
    fi
    [ -s "$raw" ] || return 0
    while IFS='=' read -r name value; do
        record "readthrough.$name" "$value"
        RT[$name]=$value
    done <"$raw"

    c=median.c$RT_CLIENTS
    echo
    echo "== e. read-through, medians of $RUNS runs, each over ${RT[keys_per_run]:-?} distinct keys of $RT_ROWS rows"
    printf '%-56s | %14s\n' metric value
    printf '%s\n' "---------------------------------------------------------+---------------"
    rt_row "loads/s, $RT_CLIENTS clients (pass 1: every GET a miss)" "${RT[$c.loads_per_s]:-}"
    rt_row "miss p50 us, $RT_CLIENTS clients" "${RT[$c.miss_p50_us]:-}" %.1f
    rt_row "miss p99 us, $RT_CLIENTS clients" "${RT[$c.miss_p99_us]:-}" %.1f
    rt_row "hits/s, $RT_CLIENTS clients (pass 2: same keys, all hits)" "${RT[$c.hits_per_s]:-}"
    rt_row "hit p50 us, $RT_CLIENTS clients" "${RT[$c.hit_p50_us]:-}" %.1f
    rt_row "hit p99 us, $RT_CLIENTS clients" "${RT[$c.hit_p99_us]:-}" %.1f
    rt_row "miss p50 us, one client" "${RT[median.c1.miss_p50_us]:-}" %.1f
    rt_row "miss p99 us, one client" "${RT[median.c1.miss_p99_us]:-}" %.1f
    rt_row "hit p50 us, one client" "${RT[median.c1.hit_p50_us]:-}" %.1f
    rt_row "hit p99 us, one client" "${RT[median.c1.hit_p99_us]:-}" %.1f
    rt_row "loads/s, one client" "${RT[median.c1.loads_per_s]:-}"
    rt_row "loader's SQL query p50 us (bucket upper bound)" "${RT[median.loader_query_p50_us]:-}"
    rt_row "loader's SQL query p99 us (bucket upper bound)" "${RT[median.loader_query_p99_us]:-}"
    SUMMARY+=("$(printf '%-44s %s' "read-through miss/hit p50, one client" "$(ratio "${RT[median.c1.miss_p50_us]:-}" "${RT[median.c1.hit_p50_us]:-}")")")
    SUMMARY+=("$(printf '%-44s %s' "read-through loads/s / hits/s, $RT_CLIENTS clients" "$(ratio "${RT[$c.loads_per_s]:-}" "${RT[$c.hits_per_s]:-}")")")
}

# ---- f. eviction policies ----

# Every policy of the node beside redis's two, at redis's maxmemory of (c)
# (memory for CACHE_KEYS keys in redis; measured here if (b) did not run):
#   f1  hit ratio, read-through at full speed, on four traces: Zipf 0.99 and
#       0.7, and Zipf 0.99 whose hot set moves every POL_SHIFT_EVERY requests
#       (trace --shift: the 1% (and 5%) most popular keys become the least
#       popular); beside them the same traces replayed offline at CACHE_KEYS
#       keys (slotcache-bench replay: the policies' own code, exact LRU,
#       Belady) -- issue 7's table with slotcache's rows
#   f2  bytes per key: used_memory after a fill of FILL_KEYS keys under each
#       policy (no limit), and at maxmemory after the Zipf 0.99 run (what a
#       held key costs there, the ghost and sketch included)
#   f3  redis-benchmark SET/GET -P 16 at maxmemory, eviction active (100,000
#       keys for a cache of ~16,000), BENCH_RUNS runs in rotating order;
#       medians of requests/s and of the node's CPU time per request, as a
#       ratio to allkeys-lru's in the same run
POL_NODE=(allkeys-lru allkeys-lfu allkeys-random allkeys-sieve allkeys-s3fifo allkeys-wtinylfu)
POL_REDIS=(allkeys-lru allkeys-lfu)
POL_TP=(allkeys-lru allkeys-lfu allkeys-sieve allkeys-s3fifo allkeys-wtinylfu)
POL_TRACES=(zipf0.99 zipf0.7 shift1% shift5%)
POL_SHIFT_EVERY=$((TRACE_REQUESTS / 10))
declare -A PL

# pol_trace NAME: writes $TMP/pol-NAME.txt.
pol_trace() {
    local args=(--keys "$TRACE_KEYS" --requests "$TRACE_REQUESTS" --seed "$SEED")
    case "$1" in
    zipf0.99) args+=(--zipf 0.99) ;;
    zipf0.7) args+=(--zipf 0.7) ;;
    shift1%) args+=(--zipf 0.99 --shift "$POL_SHIFT_EVERY") ;;
    shift5%) args+=(--zipf 0.99 --shift "$POL_SHIFT_EVERY" --shift-by "$((TRACE_KEYS / 20))") ;;
    esac
    show_cmd "$BENCH" trace "${args[@]}"
    echo "  > $TMP/pol-$1.txt"
    "$BENCH" trace "${args[@]}" >"$TMP/pol-$1.txt"
}

# pol_readthrough KIND POLICY TRACE PORT: one read-through run; keeps the hit
# ratio, the keys held and used_memory.
pol_readthrough() {
    local kind=$1 policy=$2 trace=$3 port=$4 out k
    run_logged out "$BENCH" readthrough --host 127.0.0.1 --port "$port" \
        --trace "$TMP/pol-$trace.txt" --value-size "$VALUE_SIZE" --pipeline 32 || return 0
    echo "  $out"
    PL[$kind/$policy/$trace/hit_ratio]=$(kv_field "$out" hit_ratio)
    PL[$kind/$policy/$trace/keys]=$(dbsize "$port")
    PL[$kind/$policy/$trace/used_memory]=$(info_field "$port" memory used_memory)
    for k in hit_ratio keys used_memory; do
        record "policies.$kind.$policy.$trace.$k" "${PL[$kind/$policy/$trace/$k]}"
    done
}

# pol_replay TRACE: the offline replay of every policy at CACHE_KEYS keys.
pol_replay() {
    local trace=$1 out line p args=()
    for p in "${POL_NODE[@]}" lru-exact opt; do
        args+=(--policy "$p")
    done
    run_logged out "$BENCH" replay --trace "$TMP/pol-$trace.txt" --capacity-keys "$CACHE_KEYS" \
        "${args[@]}" || return 0
    while read -r line; do
        echo "  $line"
        p=$(kv_field "$line" policy)
        PL[replay/$p/$trace/hit_ratio]=$(kv_field "$line" hit_ratio)
        record "policies.replay.$p.$trace.hit_ratio" "${PL[replay/$p/$trace/hit_ratio]}"
    done <<<"$out"
}

pol_hit_ratios() {
    local maxmem=$1 trace policy pid
    for trace in "${POL_TRACES[@]}"; do
        pol_trace "$trace" || { fail_note "policies: trace $trace could not be written" && continue; }
        for policy in "${POL_REDIS[@]}"; do
            start_server redis "pol-redis-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
            pid=$SERVER_PID
            pol_readthrough redis "$policy" "$trace" "$SERVER_PORT"
            stop_server "$pid" "pol-redis-$policy"
        done
        for policy in "${POL_NODE[@]}"; do
            start_server node "pol-node-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
            pid=$SERVER_PID
            pol_readthrough node "$policy" "$trace" "$SERVER_PORT"
            stop_server "$pid" "pol-node-$policy"
        done
        pol_replay "$trace"
    done
}

pol_memory() {
    local policy pid
    for policy in "${POL_NODE[@]}"; do
        start_server node "pol-mem-$policy" --maxmemory-policy "$policy"
        pid=$SERVER_PID
        measure_fill "policy-$policy" "$SERVER_PORT"
        stop_server "$pid" "pol-mem-$policy"
    done
}

# Each policy's requests/s and node CPU time per request (bench_throughput).
pol_throughput() {
    local maxmem=$1 run i n=${#POL_TP[@]} policy pid
    for ((run = 1; run <= RUNS; run++)); do
        for ((i = 0; i < n; i++)); do
            policy=${POL_TP[$(((i + run - 1) % n))]}
            start_server node "pol-tp-$policy" --maxmemory "$maxmem" --maxmemory-policy "$policy"
            pid=$SERVER_PID
            echo "run $run/$RUNS, $policy, -P 16, maxmemory $maxmem:"
            bench_throughput "policy-$policy" "$SERVER_PORT" 16 "$run" "$pid"
            record "policies.throughput.$policy.run$run.evicted_keys" "$(info_field "$SERVER_PORT" stats evicted_keys)"
            stop_server "$pid" "pol-tp-$policy"
        done
    done
}

# pol_row LABEL KIND POLICY [FIELD FORMAT]: one row of f1, a column per trace.
pol_row() {
    local label=$1 kind=$2 policy=$3 field=${4:-hit_ratio} fmt=${5:-%.4f} trace cells=()
    for trace in "${POL_TRACES[@]}"; do
        cells+=("$(fmt_num "$fmt" "${PL[$kind/$policy/$trace/$field]:-}")")
    done
    printf '%-50s | %9s | %9s | %9s | %9s\n' "$label" "${cells[@]}"
}

pol_tables() {
    local maxmem=$1 policy trace best="" bestv=0 v
    echo
    echo "== f1. hit ratio: $TRACE_REQUESTS requests over $TRACE_KEYS keys; shift: the hot set moves every $POL_SHIFT_EVERY requests"
    echo "   read-through at full speed, every server at maxmemory $maxmem (~$CACHE_KEYS keys in redis)"
    printf '%-50s | %9s | %9s | %9s | %9s\n' policy "${POL_TRACES[@]}"
    printf '%s\n' "---------------------------------------------------+-----------+-----------+-----------+----------"
    for policy in "${POL_REDIS[@]}"; do
        pol_row "redis-server $policy" redis "$policy"
    done
    for policy in "${POL_NODE[@]}"; do
        pol_row "slotcache-node $policy" node "$policy"
    done
    for policy in "${POL_NODE[@]}"; do
        pol_row "  keys held at the end, $policy" node "$policy" keys %.0f
    done
    echo "   offline replay at $CACHE_KEYS keys (slotcache-bench replay)"
    pol_row "exact LRU (lru-exact)" replay lru-exact
    for policy in "${POL_NODE[@]}"; do
        pol_row "$policy (the node's module)" replay "$policy"
    done
    pol_row "Belady's optimum (opt)" replay opt

    table_start "f2. bytes per key: used_memory after a fill of $FILL_KEYS keys (no limit), and per key held at maxmemory (Zipf 0.99)" allkeys-lru
    for policy in "${POL_NODE[@]}"; do
        table_row "$policy, fill" "${MEM[policy-$policy/per_key]:-}" "${MEM[policy-allkeys-lru/per_key]:-}" %.1f
        v=$(awk -v u="${PL[node/$policy/zipf0.99/used_memory]:-}" -v k="${PL[node/$policy/zipf0.99/keys]:-}" \
            'BEGIN { if (k > 0) printf "%.1f", u / k; else print "n/a" }')
        PL[node/$policy/held_per_key]=$v
        record "policies.memory.$policy.per_key_held" "$v"
    done
    for policy in "${POL_NODE[@]}"; do
        table_row "$policy, held at maxmemory" "${PL[node/$policy/held_per_key]}" \
            "${PL[node/allkeys-lru/held_per_key]}" %.1f
    done

    # The best new policy by issue 7's measure: the highest mean hit ratio
    # on the two Zipf traces; its shifting figures are shown too.
    for policy in allkeys-sieve allkeys-s3fifo allkeys-wtinylfu; do
        v=0
        for trace in zipf0.99 zipf0.7; do
            v=$(awk -v s="$v" -v h="${PL[node/$policy/$trace/hit_ratio]:-0}" 'BEGIN { print s + h }')
        done
        if awk -v a="$v" -v b="$bestv" 'BEGIN { exit !(a > b) }'; then
            best=$policy bestv=$v
        fi
    done
    [ -n "$best" ] || return 0
    record policies.best "$best"
    for trace in "${POL_TRACES[@]}"; do
        SUMMARY+=("$(printf '%-44s %s' "hit ratio $trace, $best/redis allkeys-lru" "$(ratio "${PL[node/$best/$trace/hit_ratio]:-}" "${PL[redis/allkeys-lru/$trace/hit_ratio]:-}")")")
        SUMMARY+=("$(printf '%-44s %s' "hit ratio $trace, $best/node allkeys-lru" "$(ratio "${PL[node/$best/$trace/hit_ratio]:-}" "${PL[node/allkeys-lru/$trace/hit_ratio]:-}")")")
    done
}

# pol_tp_table MAXMEM: f3, each policy's throughput beside allkeys-lru's.
pol_tp_table() {
    local maxmem=$1 policy med_s med_g med_c base_s base_g base_c
    table_start "f3. throughput at maxmemory $maxmem with eviction active, medians of $RUNS runs (-P 16)" allkeys-lru
    # shellcheck disable=SC2086 # space-separated numbers
    base_s=$(median ${TP[policy-allkeys-lru/SET/P16]:-n/a})
    # shellcheck disable=SC2086
    base_g=$(median ${TP[policy-allkeys-lru/GET/P16]:-n/a})
    # shellcheck disable=SC2086
    base_c=$(median ${TP[policy-allkeys-lru/cpu/P16]:-n/a})
    for policy in "${POL_TP[@]}"; do
        # shellcheck disable=SC2086
        med_s=$(median ${TP[policy-$policy/SET/P16]:-n/a})
        # shellcheck disable=SC2086
        med_g=$(median ${TP[policy-$policy/GET/P16]:-n/a})
        # shellcheck disable=SC2086
        med_c=$(median ${TP[policy-$policy/cpu/P16]:-n/a})
        record "policies.throughput.$policy.SET.P16.median" "$med_s"
        record "policies.throughput.$policy.GET.P16.median" "$med_g"
        record "policies.throughput.$policy.cpu_ns_per_request.median" "$med_c"
        table_row "$policy SET requests/s" "$med_s" "$base_s"
        table_row "$policy GET requests/s" "$med_g" "$base_g"
        table_row "$policy node CPU ns per request" "$med_c" "$base_c" %.1f
        [ "$policy" = allkeys-lru ] && continue
        SUMMARY+=("$(printf '%-44s %s' "throughput SET -P 16, $policy/allkeys-lru" "$(ratio "$med_s" "$base_s")")")
        SUMMARY+=("$(printf '%-44s %s' "throughput GET -P 16, $policy/allkeys-lru" "$(ratio "$med_g" "$base_g")")")
        SUMMARY+=("$(printf '%-44s %s' "node CPU per request, $policy/allkeys-lru" "$(ratio "$med_c" "$base_c")")")
    done
}

# redis_maxmem SECTION: sets MAXMEM to redis's empty used_memory + CACHE_KEYS
# x its bytes per key (measured here if section b did not run) and records
# it as SECTION.maxmemory; returns 1 if it cannot.
redis_maxmem() {
    local section=$1 pid
    if ! is_number "${MEM[redis/per_key]:-}"; then
        start_server redis redis-pol-mem
        pid=$SERVER_PID
        measure_fill redis "$SERVER_PORT"
        stop_server "$pid" redis-pol-mem
    fi
    if ! is_number "${MEM[redis/per_key]:-}"; then
        fail_note "$section: skipped, no bytes-per-key figure for redis"
        return 1
    fi
    MAXMEM=$(awk -v e="${MEM[redis/empty]}" -v p="${MEM[redis/per_key]}" -v n="$CACHE_KEYS" \
        'BEGIN { printf "%d", e + n * p }')
    echo "maxmemory $MAXMEM = redis empty used_memory ${MEM[redis/empty]} + $CACHE_KEYS keys x ${MEM[redis/per_key]} bytes"
    record "$section.maxmemory" "$MAXMEM"
}

section_policies() {
    echo
    echo "---- f. eviction policies"
    redis_maxmem policies || return 0
    pol_hit_ratios "$MAXMEM"
    pol_memory
    pol_throughput "$MAXMEM"
    pol_tables "$MAXMEM"
    pol_tp_table "$MAXMEM"
}

# f3 alone (BENCH_SECTIONS=policy-throughput): the policies' cost in
# requests/s, without the long hit-ratio replays.
section_policy_throughput() {
    echo
    echo "---- f3. eviction policies, throughput"
    redis_maxmem policies || return 0
    pol_throughput "$MAXMEM"
    pol_tp_table "$MAXMEM"
}

for section in $SECTIONS; do
    case "$section" in
    throughput) section_throughput ;;
    memory) section_memory ;;
    hitrate) section_hit_ratio ;;
    proxy) section_proxy ;;
    readthrough) section_readthrough ;;
    policies) section_policies ;;
    policy-throughput) section_policy_throughput ;;
    *) fail_note "unknown section $section" ;;
    esac
done

echo
echo "== summary (ratio = slotcache / redis; above 1 is better for throughput and hit ratio, below 1 for memory)"
printf '%s\n' "${SUMMARY[@]}"
printf '%s\n' "${SUMMARY[@]}" | sed 's/^/# summary: /' >>"$RESULTS"
echo "raw numbers: $RESULTS"
if [ ${#FAILURES[@]} -gt 0 ]; then
    echo
    echo "FAILED (${#FAILURES[@]}):"
    printf '  %s\n' "${FAILURES[@]}"
    printf '# failure: %s\n' "${FAILURES[@]}" >>"$RESULTS"
    exit 1
fi
