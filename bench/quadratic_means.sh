#!/usr/bin/env bash
# Run the quadratic-means benchmark, or another workload with --workload matmul|slice-mean
# (see bench/quadratic_means.py for details).
# Builds nothing: build cubed-rs first with `cargo build --release -p cubed`,
# or pass --skip-rs. All arguments are passed to quadratic_means.py.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$REPO/scripts/python-env.sh" bench
# Only 127.0.0.1: no instance-metadata lookups by AWS SDKs.
export AWS_EC2_METADATA_DISABLED=true AWS_METADATA_ENDPOINT=http://127.0.0.1:1
exec "$REPO/.venv-bench/bin/python" "$REPO/bench/quadratic_means.py" "$@"
