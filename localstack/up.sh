#!/usr/bin/env bash
# Starts a local cloud on 127.0.0.1, with no Docker: a real S3-compatible
# server and the Lambda Invoke API (cargo lambda watch) serving the cubed-task
# function, which talks to that S3 server.
#
#   localstack/up.sh [--s3 moto|localstack] [--state DIR]
#
# Waits until both answer, creates the bucket, writes the environment to use
# to DIR/env (and prints it), and the PIDs it started to DIR/pids, which
# localstack/down.sh stops. Ports and names from the environment:
#   CUBED_S3_PORT (moto 5055, localstack 4566), CUBED_LAMBDA_PORT (9100),
#   CUBED_BUCKET (cubed-test), CUBED_LAMBDA_CONCURRENCY (8),
#   CUBED_LAMBDA_RELEASE=1 to serve the release build of the function,
#   CUBED_FUNCTION_ENV="K=V,K2=V2" for extra function environment (e.g. CUBED_FAULTS).
# Needs scripts/python-env.sh (moto, cargo-lambda) and, for --s3 localstack,
# scripts/python-env.sh localstack.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

s3=moto
state="$REPO/.localstack-run"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --s3) s3="$2"; shift 2 ;;
        --state) state="$2"; shift 2 ;;
        *) echo "usage: $0 [--s3 moto|localstack] [--state DIR]" >&2; exit 2 ;;
    esac
done
case "$s3" in
    moto) s3_port="${CUBED_S3_PORT:-5055}" ;;
    localstack) s3_port="${CUBED_S3_PORT:-4566}" ;;
    *) echo "unknown --s3 '$s3': use moto or localstack" >&2; exit 2 ;;
esac
lambda_port="${CUBED_LAMBDA_PORT:-9100}"
bucket="${CUBED_BUCKET:-cubed-test}"
concurrency="${CUBED_LAMBDA_CONCURRENCY:-8}"
venv="$REPO/.venv"
mkdir -p "$state"
if [[ -s "$state/pids" ]]; then
    echo "a stack is already recorded in $state/pids: run localstack/down.sh --state $state first" >&2
    exit 1
fi
: >"$state/pids"
log() { echo "[localstack] $*" >&2; }
fail() { log "$*"; "$REPO/localstack/down.sh" --state "$state" >/dev/null 2>&1 || true; exit 1; }

# wait_http URL SECONDS: until the URL answers (any HTTP status).
wait_http() {
    local deadline=$((SECONDS + $2))
    until curl -s -o /dev/null "$1"; do
        [[ $SECONDS -lt $deadline ]] || return 1
        sleep 0.2
    done
}

[[ -f "$venv/.requirements.stamp" ]] || fail "no ready $venv: run scripts/python-env.sh"
if [[ "$s3" == moto ]]; then
    log "starting moto S3 on 127.0.0.1:$s3_port"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$state/s3.log" 2>&1 &
else
    [[ -f "$REPO/.venv-localstack/.requirements.stamp" ]] || fail "no ready .venv-localstack: run scripts/python-env.sh localstack"
    log "starting LocalStack S3 on 127.0.0.1:$s3_port"
    # hypercorn + an explicit listen address keep it on loopback.
    GATEWAY_SERVER=hypercorn GATEWAY_LISTEN="127.0.0.1:$s3_port" SERVICES=s3 DNS_ADDRESS=0 DISABLE_EVENTS=1 \
        LOCALSTACK_VOLUME_DIR="$state/localstack-volume" FILESYSTEM_ROOT="$state/localstack-fs" \
        "$REPO/.venv-localstack/bin/python" -m localstack.runtime.main >"$state/s3.log" 2>&1 &
fi
echo $! >>"$state/pids"
wait_http "http://127.0.0.1:$s3_port/" 60 || fail "S3 server did not come up (see $state/s3.log)"
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test -X PUT "http://127.0.0.1:$s3_port/$bucket" -o /dev/null ||
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test -I "http://127.0.0.1:$s3_port/$bucket" -o /dev/null ||
    fail "cannot create bucket $bucket"
log "bucket s3://$bucket ready"

log "starting cargo lambda watch on 127.0.0.1:$lambda_port (function cubed-task)"
release=()
[[ "${CUBED_LAMBDA_RELEASE:-0}" != 1 ]] || release=(--release)
(cd "$REPO" && exec "$venv/bin/cargo-lambda" lambda watch "${release[@]}" --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    --concurrency "$concurrency" --ignore-changes \
    --env-var "AWS_ENDPOINT_URL=http://127.0.0.1:$s3_port,AWS_ACCESS_KEY_ID=test,AWS_SECRET_ACCESS_KEY=test,AWS_REGION=us-east-1${CUBED_FUNCTION_ENV:+,$CUBED_FUNCTION_ENV}" \
    >"$state/lambda.log" 2>&1) &
echo $! >>"$state/pids"
wait_http "http://127.0.0.1:$lambda_port/" 120 || fail "cargo lambda watch did not come up (see $state/lambda.log)"

cat >"$state/env" <<ENV
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port
export AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:$lambda_port
export CUBED_TEST_BUCKET=$bucket
ENV
log "up; environment (also in $state/env):"
cat "$state/env"
