#!/usr/bin/env bash
# make up: start slotcache locally with sensible defaults and say where to
# connect.  Until the proxy exists this is one node: 127.0.0.1:7000,
# maxmemory 256mb, allkeys-lru (a cache should evict, not answer OOM).
# State lives in run/ (pid, log); `make down` stops what this started.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-7000}
RUN=run
mkdir -p "$RUN"
if [ -f "$RUN/node.pid" ] && kill -0 "$(cat "$RUN/node.pid")" 2>/dev/null; then
    echo "slotcache is already up (pid $(cat "$RUN/node.pid")); 'make down' stops it" >&2
    exit 1
fi
bin/slotcache-node --port "$PORT" --maxmemory 256mb --maxmemory-policy allkeys-lru \
    --logfile "$PWD/$RUN/node.log" --pidfile "$PWD/$RUN/node.pid" &
pid=$!
echo "$pid" > "$RUN/node.pid"
for _ in $(seq 100); do
    if redis-cli -p "$PORT" ping >/dev/null 2>&1; then
        echo "slotcache-node is up on 127.0.0.1:$PORT (pid $pid, log $RUN/node.log)"
        echo "try:  redis-cli -p $PORT SET greeting hello && redis-cli -p $PORT GET greeting"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "slotcache-node exited; log:" >&2
        cat "$RUN/node.log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "slotcache-node did not answer on port $PORT" >&2
exit 1
