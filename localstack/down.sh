#!/usr/bin/env bash
# Stops exactly the processes localstack/up.sh started (recorded in DIR/pids),
# with their children (cargo lambda watch's function processes).
#   localstack/down.sh [--state DIR]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$REPO/.localstack-run"
[[ "${1:-}" != "--state" ]] || state="$2"
[[ -f "$state/pids" ]] || { echo "[localstack] nothing recorded in $state/pids" >&2; exit 0; }
# Every recorded PID and its descendants, children first.
tree() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do tree "$child"; done
    echo "$1"
}
pids=()
while read -r pid; do
    [[ -n "$pid" ]] && pids+=($(tree "$pid"))
done <"$state/pids"
alive() { kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
# A server that ignores SIGTERM (LocalStack can hang in its shutdown) gets SIGKILL after 10 s.
for _ in $(seq 1 100); do
    left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    [[ ${#left[@]} -eq 0 ]] && break
    sleep 0.1
done
for pid in "${left[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
sleep 0.2
for pid in "${pids[@]}"; do
    if alive "$pid"; then echo "[localstack] process $pid is still running" >&2; exit 1; fi
done
rm -f "$state/pids"
echo "[localstack] stopped ${#pids[@]} process(es)" >&2
