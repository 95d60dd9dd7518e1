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
cargo test --workspace
