#!/usr/bin/env bash
# Fault-tolerance benchmark (not a test), local runner, local files:
#   - 5 % of tasks 10x slower (CUBED_FAULTS), backups on vs off, same run;
#   - the cost of resume: skipping a fully computed op of 10,000 chunks.
#   bench/fault_tolerance.sh [--record]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
cargo build --release -p cubed --bin cubed 2>&1 | tail -1
B="$REPO/target/release/cubed"
W="$REPO/bench/work/ft"
rm -rf "$W" && mkdir -p "$W"
wall_of() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"{s['wall_s']:.2f} {sum(o['backups'] for o in s['ops'])} {sum(o['skipped'] for o in s['ops'])}\")" "$1"; }

$B eval 'random((8000, 8000), chunks=(800, 800), seed=1)' -o "$W/a.zarr" --work-dir "$W/work" -q
straggle() {
    CUBED_FAULTS="slow=0.05x10;seed=5" $B eval 'sqrt(a) * exp(-a) + sin(a)' -i "a=$W/a.zarr" -o "$W/$1.zarr" --work-dir "$W/work" \
        --workers 8 -q --summary-json "$W/$1.json" "${@:2}"
    wall_of "$W/$1.json"
}
read -r off_wall _ _ <<<"$(straggle off --no-backups)"
read -r on_wall on_backups _ <<<"$(straggle on)"

$B eval 'zeros((10000, 1000), chunks=(100, 10), dtype=int32) + 1' -o "$W/z.zarr" --work-dir "$W/work" -q --summary-json "$W/z1.json"
read -r full_wall _ _ <<<"$(wall_of "$W/z1.json")"
$B eval 'zeros((10000, 1000), chunks=(100, 10), dtype=int32) + 1' -o "$W/z.zarr" --work-dir "$W/work" -q --resume --summary-json "$W/z2.json"
read -r resume_wall _ skipped <<<"$(wall_of "$W/z2.json")"

table=$(cat <<TABLE
| measure | value |
|---|---|
| 100 tasks, 5 % 10x slower, backups off (8 workers) | ${off_wall} s |
| same, backups on | ${on_wall} s (${on_backups} backups; off/on = $(python3 -c "print(f'{$off_wall/$on_wall:.2f}')")) |
| op of 10,000 chunks, computed | ${full_wall} s |
| same op resumed, every chunk present (${skipped} tasks skipped) | ${resume_wall} s |
TABLE
)
echo "$table"
if [[ "${1:-}" == "--record" ]]; then
    {
        echo
        echo "## Fault tolerance — $(date -u)"
        echo
        echo "- machine: nproc $(nproc); local runner, local files; command: \`bench/fault_tolerance.sh --record\`"
        echo
        echo "$table"
    } >>BENCHMARKS.md
    echo "recorded in BENCHMARKS.md"
fi
