#!/usr/bin/env bash
# Installs what the tests need (a Python venv with zarr-python) and runs every
# test of the workspace. This is the README's test command and what CI runs.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

scripts/python-env.sh
# The end-to-end tests drive the `cubed` binary as a separate process.
cargo build --workspace --bins
cargo test --workspace
