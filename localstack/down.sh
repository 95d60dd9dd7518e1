#!/usr/bin/env bash
# Stops exactly the processes localstack/up.sh started (recorded in DIR/pids),
# with their children (cargo lambda watch's function processes).
#   localstack/down.sh [--state DIR]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$REPO/.localstack-run"
[[ "${1:-}" != "--state" ]] || state="$2"
[[ -f "$state/pids" ]] || { echo "[localstack] nothing recorded in $state/pids" >&2; exit 0; }
kill_tree() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
while read -r pid; do
    [[ -n "$pid" ]] && kill_tree "$pid"
done <"$state/pids"
rm -f "$state/pids"
echo "[localstack] stopped" >&2
