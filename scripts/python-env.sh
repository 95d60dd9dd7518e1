#!/usr/bin/env bash
# Create or update the Python virtualenvs used by cubed-rs tests and benchmarks.
#
#   scripts/python-env.sh            -> $REPO/.venv (scripts/requirements-test.txt,
#                                       plus scripts/requirements-nodeps.txt with --no-deps:
#                                       cargo-lambda without the 100 MB zig toolchain)
#   scripts/python-env.sh bench      -> also $REPO/.venv-bench (scripts/requirements-bench.txt)
#   scripts/python-env.sh localstack -> also $REPO/.venv-localstack (Python 3.13,
#                                       scripts/requirements-localstack.txt)
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

# ensure_venv DIR REQUIREMENTS_FILE SMOKE_TEST_PYTHON_CODE [NODEPS_REQUIREMENTS_FILE]
# (PYTHON may be overridden per call: PYTHON=python3.13 ensure_venv ...)
ensure_venv() {
    local venv="$1" reqs="$2" smoke="$3" nodeps="${4:-}"
    local stamp="$venv/.requirements.stamp"
    local want
    want="$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"$'\n'"$(cat "$reqs")"
    [[ -z "$nodeps" ]] || want+=$'\n'"$(cat "$nodeps")"

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
    if [[ -n "$nodeps" ]]; then
        "$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --no-deps -r "$nodeps"
    fi
    log "$venv: pip finished in $((SECONDS - start))s"

    log "$venv: smoke test"
    "$venv/bin/python" -c "$smoke"

    printf '%s' "$want" >"$stamp"
    log "$venv: ready"
}

# A Python 3.13 interpreter for LocalStack: $LOCALSTACK_PYTHON, pyenv's 3.13.x, or python3.13.
python313() {
    local candidate
    for candidate in "${LOCALSTACK_PYTHON:-}" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 python3.13; do
        if [[ -n "$candidate" ]] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "[python-env] LocalStack needs Python 3.13: set LOCALSTACK_PYTHON or install it (pyenv install 3.13)" >&2
    exit 1
}

main() {
    local with_bench=0 with_localstack=0
    case "${1:-}" in
        "") ;;
        bench) with_bench=1 ;;
        localstack) with_localstack=1 ;;
        *) usage ;;
    esac
    [[ $# -le 1 ]] || usage

    ensure_venv "$REPO/.venv" "$REPO/scripts/requirements-test.txt" '
import zarr, numpy, numcodecs, s3fs, boto3, moto, moto.server, cfnlint, shutil, sys, os
assert zarr.__version__.startswith("3."), zarr.__version__
assert os.path.exists(os.path.join(os.path.dirname(sys.executable), "cargo-lambda")), "cargo-lambda missing"
print("  zarr", zarr.__version__, "numpy", numpy.__version__, "numcodecs", numcodecs.__version__,
      "s3fs", s3fs.__version__, "moto", moto.__version__)' "$REPO/scripts/requirements-nodeps.txt"

    if [[ $with_bench -eq 1 ]]; then
        ensure_venv "$REPO/.venv-bench" "$REPO/scripts/requirements-bench.txt" '
import zarr, numpy, dask, dask.array, cubed
assert zarr.__version__.startswith("3."), zarr.__version__
print("  zarr", zarr.__version__, "numpy", numpy.__version__, "dask", dask.__version__,
      "cubed", cubed.__version__)'
    fi

    if [[ $with_localstack -eq 1 ]]; then
        PYTHON="$(python313)" ensure_venv "$REPO/.venv-localstack" "$REPO/scripts/requirements-localstack.txt" '
import localstack.runtime.main
print("  localstack-core ready")'
    fi
}

main "$@"
