#!/usr/bin/env bash
# Create or update the Python virtualenvs used by cubed-rs tests and benchmarks.
#
#   scripts/python-env.sh          -> $REPO/.venv        (scripts/requirements-test.txt)
#   scripts/python-env.sh bench    -> also $REPO/.venv-bench (scripts/requirements-bench.txt)
#
# Idempotent: each venv keeps a stamp file with the requirement list and the
# Python version it was built from; when both match, pip is not run at all.
# Each requirement file is installed with ONE pip command, because s3fs and moto
# both constrain botocore and only a joint resolve satisfies them.
#
# Environment: PYTHON (default python3) picks the base interpreter.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

log() { echo "[python-env] $*" >&2; }

usage() {
    echo "usage: $0 [bench]" >&2
    exit 2
}

# ensure_venv DIR REQUIREMENTS_FILE SMOKE_TEST_PYTHON_CODE
ensure_venv() {
    local venv="$1" reqs="$2" smoke="$3"
    local stamp="$venv/.requirements.stamp"
    local want
    want="$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"$'\n'"$(cat "$reqs")"

    if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        log "$venv: interpreter is broken, recreating"
        rm -rf "$venv"
    fi

    if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        log "$venv: up to date with $(basename "$reqs") (stamp matches), skipping install"
        return 0
    fi

    if [[ ! -x "$venv/bin/python" ]]; then
        log "$venv: creating with $("$PYTHON" --version 2>&1) ($(command -v "$PYTHON"))"
        "$PYTHON" -m venv "$venv"
    else
        log "$venv: requirements changed or not yet stamped, updating"
    fi

    rm -f "$stamp"
    log "$venv: pip install -r $reqs"
    local start=$SECONDS
    "$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check -r "$reqs"
    log "$venv: pip finished in $((SECONDS - start))s"

    log "$venv: smoke test"
    "$venv/bin/python" -c "$smoke"

    printf '%s' "$want" >"$stamp"
    log "$venv: ready"
}

main() {
    local with_bench=0
    case "${1:-}" in
        "") ;;
        bench) with_bench=1 ;;
        *) usage ;;
    esac
    [[ $# -le 1 ]] || usage

    ensure_venv "$REPO/.venv" "$REPO/scripts/requirements-test.txt" '
import zarr, numpy, numcodecs, s3fs, boto3, moto, moto.server
assert zarr.__version__.startswith("3."), zarr.__version__
print("  zarr", zarr.__version__, "numpy", numpy.__version__, "numcodecs", numcodecs.__version__,
      "s3fs", s3fs.__version__, "moto", moto.__version__)'

    if [[ $with_bench -eq 1 ]]; then
        ensure_venv "$REPO/.venv-bench" "$REPO/scripts/requirements-bench.txt" '
import zarr, numpy, dask, dask.array, cubed
assert zarr.__version__.startswith("3."), zarr.__version__
print("  zarr", zarr.__version__, "numpy", numpy.__version__, "dask", dask.__version__,
      "cubed", cubed.__version__)'
    fi
}

main "$@"
