#!/usr/bin/env bash
# make down: stop exactly what `make up` started (by the pids it recorded).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=run
for pidfile in "$RUN"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "stopped $(basename "$pidfile" .pid) (pid $pid)"
    fi
    rm -f "$pidfile"
done
