#!/usr/bin/env bash
# Lambda-runner benchmark against the local emulator (not a test):
#   - dispatch throughput and per-invocation overhead (warm instances),
#   - handler cold start and release binary size,
#   - quadratic means on the local runner vs the lambda runner over the emulator,
#     same inputs on the same S3 server (moto),
#   - all of a function's CPUs: a CPU-bound op with one invocation in flight,
#     the handler running two tasks at once (the emulator's 4096 MB function,
#     allowed_mem 2 GB) against one at a time (allowed_mem 3 GB, same plan).
#   bench/lambda.sh [--record]     (--record appends the table to BENCHMARKS.md)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
record=0
[[ "${1:-}" != "--record" ]] || record=1

scripts/python-env.sh >/dev/null
cargo build --release -p cubed -p cubed-task --bins 2>&1 | tail -1
state="$REPO/bench/work/cloud"
rm -rf "$state"
trap 'localstack/down.sh --state "$state" >/dev/null 2>&1 || true' EXIT
CUBED_LAMBDA_RELEASE=1 CUBED_S3_PORT=5077 CUBED_LAMBDA_PORT=9177 localstack/up.sh --state "$state" >/dev/null
# shellcheck disable=SC1091
source "$state/env"
B="$REPO/target/release/cubed"
W="s3://$CUBED_TEST_BUCKET/work"
LAMBDA=(--runner lambda --function cubed-task)

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
wall_of() { python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['wall_s']:.3f}\")" "$1"; }

# Cold start: the first invocation starts the function process (cargo lambda
# runs the release binary); the second one is warm.
t0=$(now); $B eval 'zeros((1,), chunks=(1,))' -o "s3://$CUBED_TEST_BUCKET/b/cold.zarr" --work-dir "$W" "${LAMBDA[@]}" -q 2>/dev/null; t1=$(now)
$B eval 'zeros((1,), chunks=(1,))' -o "s3://$CUBED_TEST_BUCKET/b/warm.zarr" --work-dir "$W" "${LAMBDA[@]}" -q 2>/dev/null; t2=$(now)
cold=$(elapsed "$t0" "$t1"); warm=$(elapsed "$t1" "$t2")
# Bring up the other instances before timing (they start one at a time).
$B eval 'zeros((64,), chunks=(1,))' -o "s3://$CUBED_TEST_BUCKET/b/warmup.zarr" --work-dir "$W" "${LAMBDA[@]}" --concurrency 8 --tasks-per-invocation 1 -q 2>/dev/null

# Dispatch: 400 one-element tasks, one per invocation; sequential for the
# per-invocation latency, 8 in flight for throughput; the local runner does the
# same tasks for the task cost itself (tiny writes to the same S3 server).
run_tasks() { $B eval 'zeros((400,), chunks=(1,), dtype=int32)' -o "s3://$CUBED_TEST_BUCKET/b/$1.zarr" --work-dir "$W" -q --summary-json "$state/$1.json" "${@:2}" 2>/dev/null; wall_of "$state/$1.json"; }
seq_wall=$(run_tasks seq "${LAMBDA[@]}" --concurrency 1 --tasks-per-invocation 1)
par_wall=$(run_tasks par "${LAMBDA[@]}" --concurrency 8 --tasks-per-invocation 1)
batched_wall=$(run_tasks batched "${LAMBDA[@]}" --concurrency 8)
local_wall=$(run_tasks local --workers 1)

# Quadratic means, N=4000, C=1000 (2 x 128 MB on the S3 server).
$B eval 'random((4000, 4000), chunks=(1000, 1000), seed=1)' -o "s3://$CUBED_TEST_BUCKET/in/a.zarr" --work-dir "$W" -q
$B eval 'random((4000, 4000), chunks=(1000, 1000), seed=2)' -o "s3://$CUBED_TEST_BUCKET/in/b.zarr" --work-dir "$W" -q
qm() { $B eval 'mean(a*a + b*b, axis=0)' -i "a=s3://$CUBED_TEST_BUCKET/in/a.zarr" -i "b=s3://$CUBED_TEST_BUCKET/in/b.zarr" -o "s3://$CUBED_TEST_BUCKET/out/$1.zarr" --work-dir "$W" -q --summary-json "$state/$1.json" "${@:2}" 2>/dev/null; wall_of "$state/$1.json"; }
qm_local=$(qm qm-local)
qm_lambda=$(qm qm-lambda "${LAMBDA[@]}" --concurrency 8)

# All of a function's CPUs: 32 tasks of exp(sin(a)) on 1000^2 chunks, one
# invocation in flight, 8 tasks per invocation. The emulator gives the function
# 4096 MB: 2 tasks at once with allowed_mem 2 GB, 1 with 3 GB (same plan: the
# op's projection fits both). Best of 2.
cpu() { $B eval 'exp(sin(a)) * 2' -i "a=s3://$CUBED_TEST_BUCKET/in/c.zarr" -o "s3://$CUBED_TEST_BUCKET/out/$1.zarr" --work-dir "$W" -q --summary-json "$state/$1.json" --overwrite "${@:2}" 2>/dev/null; wall_of "$state/$1.json"; }
best() { python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
$B eval 'random((8000, 4000), chunks=(1000, 1000), seed=3)' -o "s3://$CUBED_TEST_BUCKET/in/c.zarr" --work-dir "$W" -q
one=(--concurrency 1 --tasks-per-invocation 8)
cpu_one=$(best "$(cpu cpu-one "${LAMBDA[@]}" "${one[@]}" --allowed-mem 3GB)" "$(cpu cpu-one "${LAMBDA[@]}" "${one[@]}" --allowed-mem 3GB)")
cpu_two=$(best "$(cpu cpu-two "${LAMBDA[@]}" "${one[@]}" --allowed-mem 2GB)" "$(cpu cpu-two "${LAMBDA[@]}" "${one[@]}" --allowed-mem 2GB)")
cpu_local=$(best "$(cpu cpu-local --workers 1)" "$(cpu cpu-local --workers 1)")

size=$(stat -c %s target/release/cubed-task)
strip -o "$state/bootstrap" target/release/cubed-task
stripped=$(stat -c %s "$state/bootstrap")

table=$(python3 - "$cold" "$warm" "$seq_wall" "$par_wall" "$batched_wall" "$local_wall" "$qm_local" "$qm_lambda" "$cpu_local" "$cpu_one" "$cpu_two" "$size" "$stripped" <<'PY'
import sys
cold, warm, seq, par, batched, local, qm_local, qm_lambda, cpu_local, cpu_one, cpu_two = map(float, sys.argv[1:12])
size, stripped = map(int, sys.argv[12:14])
n = 400
rows = [
    ("first job on a fresh emulator (cargo run + process start + 1 task; not Lambda's cold start)", f"{cold:.2f} s"),
    ("same job, warm", f"{warm:.2f} s"),
    ("400 tiny tasks, local runner, 1 worker", f"{local:.2f} s ({n/local:.0f} tasks/s)"),
    ("400 tiny tasks, lambda, 1 in flight, 1 task/invoke", f"{seq:.2f} s ({seq/n*1000:.1f} ms per invocation)"),
    ("400 tiny tasks, lambda, 8 in flight, 1 task/invoke", f"{par:.2f} s ({n/par:.0f} tasks/s)"),
    ("400 tiny tasks, lambda, 8 in flight, auto batching", f"{batched:.2f} s ({n/batched:.0f} tasks/s)"),
    ("per-invocation overhead over the local task cost", f"{(seq - local)/n*1000:.1f} ms"),
    ("quadratic means 4000^2, local runner", f"{qm_local:.2f} s"),
    ("quadratic means 4000^2, lambda runner (8 in flight)", f"{qm_lambda:.2f} s (x{qm_lambda/qm_local:.2f} of local)"),
    ("exp(sin(a)) * 2, 32 tasks of 8 MB, local runner, 1 worker", f"{cpu_local:.2f} s"),
    ("same, lambda, 1 invocation in flight, tasks one at a time", f"{cpu_one:.2f} s"),
    ("same, lambda, 1 invocation in flight, 2 tasks at once", f"{cpu_two:.2f} s (x{cpu_one/cpu_two:.2f} faster than one at a time)"),
    ("release handler binary", f"{size/1e6:.1f} MB ({stripped/1e6:.1f} MB stripped)"),
]
print("| measure | value |\n|---|---|")
for k, v in rows:
    print(f"| {k} | {v} |")
PY
)
echo "$table"
if [[ $record -eq 1 ]]; then
    {
        echo
        echo "## Lambda runner over the emulator — $(date -u)"
        echo
        echo "- machine: nproc $(nproc), $(free -g | awk '/Mem:/ {print $2}') GiB; S3: moto; Lambda: cargo lambda watch (release build, 8 instances); command: \`bench/lambda.sh --record\`"
        echo "- the emulator runs every instance on this 2-core machine, so parallel numbers show dispatch overhead, not Lambda's scale-out"
        echo
        echo "$table"
    } >>BENCHMARKS.md
    echo "recorded in BENCHMARKS.md"
fi
