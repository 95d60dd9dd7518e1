#!/usr/bin/env bash
# Installs what the tests need and runs every test of the workspace. This is
# the README's test command and what CI runs. Installed by the project's own
# scripts: .venv (zarr-python, moto, cargo-lambda, cfn-lint) and .venv-localstack
# (LocalStack's S3, Python 3.13). The Lambda end-to-end tests start and stop
# their own local clouds (localstack/up.sh, down.sh).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

scripts/python-env.sh localstack
# The end-to-end tests drive the `cubed` binary as a separate process.
cargo build --workspace --bins
cargo test --workspace
