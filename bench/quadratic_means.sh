#!/usr/bin/env bash
# Run the quadratic-means benchmark (see bench/quadratic_means.py for details).
# Builds nothing: build cubed-rs first with `cargo build --release -p cubed`,
# or pass --skip-rs. All arguments are passed to quadratic_means.py.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$REPO/scripts/python-env.sh" bench
exec "$REPO/.venv-bench/bin/python" "$REPO/bench/quadratic_means.py" "$@"
