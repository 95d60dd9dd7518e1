#!/usr/bin/env bash
# Installs what the tests need and runs every test of the workspace. This is
# the README's test command and what CI runs. Installed by the project's own
# scripts: .venv (zarr-python, moto, cargo-lambda, cfn-lint), .venv-localstack
# (LocalStack's S3, Python 3.13) and GNU parallel (apt). The Lambda end-to-end tests start and stop
# their own local clouds (localstack/up.sh, down.sh).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

scripts/python-env.sh localstack
# GNU parallel, for the batch-runner tests (Debian package).
if ! command -v parallel >/dev/null; then
    echo "[test] installing GNU parallel" >&2
    apt-get update -qq && apt-get install -y -qq parallel >/dev/null
fi
# The end-to-end tests drive the `cubed` binary as a separate process.
cargo build --workspace --bins
# Every process a local cloud of the tests started is logged here ("PID
# START", START its start time in /proc/PID/stat, so a reused PID is not
# mistaken for it), and must be gone when the suite ends.
export CUBED_TEST_PID_LOG="${CUBED_TEST_PID_LOG:-$(mktemp -t cubed-test-pids.XXXXXX)}"
status=0
cargo test --workspace || status=$?
# Field 3 of /proc/PID/stat after the command name is the state, field 22 the start time.
proc_fields() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $1, $20}'; }
left=()
while read -r pid start; do
    [[ -n "$pid" ]] || continue
    read -r state now_start <<<"$(proc_fields "$pid")" || true
    if [[ -n "${state:-}" && "$state" != Z && "${now_start:-}" == "$start" ]]; then left+=("$pid"); fi
done <"$CUBED_TEST_PID_LOG"
if [[ ${#left[@]} -gt 0 ]]; then
    echo "[test] processes started by the tests are still running: ${left[*]}" >&2
    ps -o pid,stat,rss,args -p "$(IFS=,; echo "${left[*]}")" >&2 || true
    status=1
else
    echo "[test] none of the $(sort -u "$CUBED_TEST_PID_LOG" | grep -c . || true) process(es) the local clouds started is left" >&2
fi
exit "$status"
