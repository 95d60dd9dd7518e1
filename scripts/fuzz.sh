#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets of tests/fuzz (libFuzzer through
# cargo-fuzz, on stable Rust) for a given time each, and reports executions and
# crashes per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 600 s each, targets expr plan payload chunk
#
# The seed corpora in tests/fuzz/corpus/TARGET are read, never written: new
# inputs go to $FUZZ_OUT/corpus-TARGET and crashes to $FUZZ_OUT/TARGET/
# (FUZZ_OUT defaults to target/fuzz-out). Exit status 1 when any target
# crashed. Installs cargo-fuzz (crates.io) when it is missing.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
SECONDS_EACH="${1:-600}"
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(expr plan payload chunk)
OUT="${FUZZ_OUT:-$REPO/target/fuzz-out}"
export AWS_EC2_METADATA_DISABLED=true AWS_METADATA_ENDPOINT=http://127.0.0.1:1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "[fuzz] installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
failed=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$OUT/corpus-$t" "$OUT/$t"
    log="$OUT/$t.log"
    echo "[fuzz] $t for ${SECONDS_EACH}s (log $log)" >&2
    status=0
    cargo fuzz run --fuzz-dir tests/fuzz -s none "$t" "$OUT/corpus-$t" "tests/fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=30 -artifact_prefix="$OUT/$t/" >"$log" 2>&1 || status=$?
    execs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    crashes=$(find "$OUT/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)
    echo "[fuzz] $t: $execs executions, $crashes crash(es), exit $status" >&2
    if [[ $status -ne 0 || $crashes -gt 0 ]]; then
        failed=1
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -5 >&2 || true
    fi
done
exit $failed
