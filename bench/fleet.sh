#!/usr/bin/env bash
# The driver at scale against the fake Lambda fleet (see bench/fleet.py and
# docs/FLEET.md). Builds the release driver and fleet, then runs; all
# arguments go to fleet.py (--sizes 10000,100000,1000000, --no-model, --record).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
cargo build --release -p cubed --bin cubed -p cubed-e2e --bin lambda-fleet 2>&1 | tail -1
# Only 127.0.0.1: no instance-metadata lookups by AWS SDKs.
export AWS_EC2_METADATA_DISABLED=true AWS_METADATA_ENDPOINT=http://127.0.0.1:1
exec python3 "$REPO/bench/fleet.py" "$@"
