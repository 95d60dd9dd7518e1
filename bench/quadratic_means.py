#!/usr/bin/env python3
"""Quadratic-means benchmark: cubed-rs vs Dask vs Python Cubed.

What it measures
----------------
For two float64 Zarr v3 arrays ``a`` and ``b`` of shape (N, N), chunks (C, C),
zstd level 3, filled with uniform random numbers, each contender computes

    mean(a*a + b*b, axis=0)          # shape (N,), written to a Zarr array

and we record, per contender, the wall time, CPU time (user+sys of the child
process and everything it waited for) and peak RSS (``ru_maxrss`` of the child,
from ``os.wait4``). Contenders run one after another, each in its own process:

  cubed-rs   target/release/cubed eval ... --allowed-mem 2GB
  dask       dask.array.from_zarr + to_zarr, default threaded scheduler
  cubed-py   Python Cubed, cubed.Spec(allowed_mem="2GB"), threads executor

The three outputs are then compared (np.allclose, rtol=1e-10) and a table with
wall / CPU / RSS and the wall-time ratios against cubed-rs is printed.

Inputs are generated once per size into the work dir (default ``bench/work/``)
one row of chunks at a time, and reused on later runs.

How to run
----------
    bench/quadratic_means.sh                       # 10000:1000 and 20000:2000
    bench/quadratic_means.sh --quick --skip-rs     # 4000:1000, Dask + cubed-py only
    bench/quadratic_means.sh --sizes 8000:1000 --record   # append to BENCHMARKS.md

The wrapper sets up ``.venv-bench`` (scripts/python-env.sh bench) and runs this
file with it. Build cubed-rs first: ``cargo build --release -p cubed``.

Note on RSS: on Linux a child's ru_maxrss starts at the RSS of the parent that
spawned it, so this driver deliberately imports only the standard library;
everything that touches numpy/zarr (input generation, the Python contenders,
verification) runs in a worker subprocess (``quadratic_means.py worker ...``).
The driver's own peak RSS is printed as the floor of the RSS column.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPRESSION = "mean(a*a + b*b, axis=0)"
DEFAULT_SIZES = "10000:1000,20000:2000"
QUICK_SIZES = "4000:1000"
CONTENDERS = ("cubed-rs", "dask", "cubed-py")
RTOL = 1e-10


# --------------------------------------------------------------------------
# Driver (standard library only, see the note on RSS above)
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    n: int
    chunk: int
    contender: str
    ok: bool
    wall_s: float = float("nan")
    cpu_s: float = float("nan")
    rss_mb: float = float("nan")
    output: Path | None = None


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Parse ``"10000:1000,20000:2000"`` into [(10000, 1000), (20000, 2000)]."""
    sizes = []
    for item in text.split(","):
        n, c = item.strip().split(":")
        sizes.append((int(n), int(c)))
    return sizes


def run_measured(cmd: list[str], log_path: Path) -> tuple[int, float, float, float]:
    """Run cmd as a child process; return (exit code, wall s, cpu s, peak RSS MB).

    stdout and stderr go to log_path. CPU and RSS come from os.wait4, i.e. they
    belong to this child (and any descendants it reaped) only.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        log.write(f"$ {shlex.join(cmd)}\n".encode())
        log.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    cpu = usage.ru_utime + usage.ru_stime
    rss_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    return proc.returncode, wall, cpu, rss_mb


def print_log_tail(log_path: Path, lines: int = 25) -> None:
    text = log_path.read_text(errors="replace").splitlines()
    print(f"    --- last {lines} lines of {log_path} ---")
    for line in text[-lines:]:
        print("    " + line)


def worker_cmd(*args: object) -> list[str]:
    """Command line that runs this file's worker mode with the current Python."""
    return [sys.executable, str(Path(__file__).resolve()), "worker", *map(str, args)]


def run_worker(*args: object) -> dict:
    """Run an unmeasured worker (generate / verify) and return its JSON answer."""
    proc = subprocess.run(worker_cmd(*args), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {args[0]} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def prepare_inputs(work: Path, n: int, c: int) -> tuple[Path, Path]:
    """Create (or reuse) a.zarr and b.zarr for this size; return their paths."""
    base = work / f"input-{n}-{c}"
    paths = (base / "a.zarr", base / "b.zarr")
    for seed, path in enumerate(paths, start=1):
        start = time.perf_counter()
        info = run_worker("generate", n, c, path, seed)
        print(f"  input {path.relative_to(work)}: {info['action']} "
              f"({time.perf_counter() - start:.1f} s, {info['stored_mb']:.0f} MB on disk)")
    return paths


def contender_command(name: str, args: argparse.Namespace, a: Path, b: Path,
                      out: Path, tmp: Path) -> list[str]:
    if name == "cubed-rs":
        return [str(args.cubed_bin), "eval", EXPRESSION,
                "--input", f"a={a}", "--input", f"b={b}",
                "--output", str(out), "--work-dir", str(tmp),
                "--allowed-mem", args.allowed_mem]
    if name == "dask":
        return worker_cmd("dask", a, b, out)
    if name == "cubed-py":
        return worker_cmd("cubed-py", a, b, out, tmp, args.allowed_mem)
    raise ValueError(name)


def run_contender(name: str, args: argparse.Namespace, n: int, c: int,
                  a: Path, b: Path) -> Result:
    work = args.work_dir
    tag = {"cubed-rs": "rs", "dask": "dask", "cubed-py": "py"}[name]
    out, tmp = work / f"out-{tag}-{n}.zarr", work / f"tmp-{tag}"
    for stale in (out, tmp):
        shutil.rmtree(stale, ignore_errors=True)
    log = work / "logs" / f"{tag}-{n}.log"
    code, wall, cpu, rss = run_measured(contender_command(name, args, a, b, out, tmp), log)
    shutil.rmtree(tmp, ignore_errors=True)
    if code != 0:
        print(f"  {name:<9} FAILED (exit code {code})")
        print_log_tail(log)
        return Result(n, c, name, ok=False)
    print(f"  {name:<9} wall {wall:7.2f} s  cpu {cpu:7.2f} s  peak RSS {rss:7.0f} MB")
    return Result(n, c, name, True, wall, cpu, rss, out)


def verify(results: list[Result]) -> bool:
    """Compare all successful outputs of one size; print OK or FAIL."""
    done = [r for r in results if r.ok]
    if not done:
        print("  verify: FAIL (no contender produced an output)")
        return False
    answer = run_worker("verify", *[f"{r.contender}={r.output}" for r in done])
    for line in answer["messages"]:
        print("  verify: " + line)
    print("  verify: " + ("OK" if answer["ok"] else "FAIL"))
    return answer["ok"]


def fmt(x: float, digits: int) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"  # x != x means NaN


def markdown_table(results: list[Result]) -> str:
    rows = ["| N | chunk | contender | wall s | CPU s | peak RSS MB | wall / cubed-rs |",
            "|---:|---:|---|---:|---:|---:|---:|"]
    for r in results:
        rs = next((x for x in results if x.n == r.n and x.contender == "cubed-rs" and x.ok), None)
        ratio = r.wall_s / rs.wall_s if rs and r.ok else float("nan")
        status = "" if r.ok else " (FAILED)"
        rows.append(f"| {r.n} | {r.chunk} | {r.contender}{status} | {fmt(r.wall_s, 2)} | "
                    f"{fmt(r.cpu_s, 2)} | {fmt(r.rss_mb, 0)} | {fmt(ratio, 2)} |")
    return "\n".join(rows)


def ratio_lines(results: list[Result]) -> list[str]:
    lines = []
    for n in dict.fromkeys(r.n for r in results):
        wall = {r.contender: r.wall_s for r in results if r.n == n and r.ok}
        if "cubed-rs" not in wall:
            continue
        for other in ("dask", "cubed-py"):
            if other in wall:
                lines.append(f"N={n}: wall({other})/wall(cubed-rs) = "
                             f"{wall[other] / wall['cubed-rs']:.2f}")
    return lines


def machine_summary() -> str:
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return (f"nproc {len(os.sched_getaffinity(0))}, memory {mem_kib / 2**20:.1f} GiB, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}")


def versions_summary() -> str:
    parts = []
    for pkg in ("dask", "cubed", "zarr", "numpy"):
        try:
            parts.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{pkg} missing")
    git = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    commit = git.stdout.strip() if git.returncode == 0 else "no commit"
    return f"cubed-rs {commit}, " + ", ".join(parts)


def record(results: list[Result], argv: list[str], bench_file: Path) -> None:
    """Append a dated section with the table to BENCHMARKS.md."""
    if not bench_file.exists():
        bench_file.write_text(
            "# Benchmarks\n\n"
            "Recorded by `bench/quadratic_means.sh --record`: "
            f"`{EXPRESSION}` on two float64 (N, N) Zarr v3 arrays, zstd level 3.\n"
            "Wall and CPU (user+sys) in seconds, peak RSS of the process in MB.\n")
    date = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())
    section = [f"\n## {date}\n",
               f"- machine: {machine_summary()}",
               f"- versions: {versions_summary()}",
               f"- command: `{' '.join(['bench/quadratic_means.sh', *argv])}`",
               "", markdown_table(results), ""]
    with open(bench_file, "a") as f:
        f.write("\n".join(section))
    print(f"recorded in {bench_file}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"N:C list (default {DEFAULT_SIZES})")
    p.add_argument("--quick", action="store_true", help=f"only {QUICK_SIZES}")
    p.add_argument("--work-dir", type=Path, default=REPO / "bench" / "work")
    p.add_argument("--cubed-bin", type=Path, default=REPO / "target" / "release" / "cubed")
    p.add_argument("--allowed-mem", default="2GB")
    p.add_argument("--skip-rs", action="store_true", help="do not run cubed-rs")
    p.add_argument("--skip-dask", action="store_true", help="do not run Dask")
    p.add_argument("--skip-cubed-py", action="store_true", help="do not run Python Cubed")
    p.add_argument("--record", action="store_true", help="append the results to BENCHMARKS.md")
    args = p.parse_args(argv)
    args.sizes = parse_sizes(QUICK_SIZES if args.quick else args.sizes)
    args.work_dir = args.work_dir.resolve()
    args.cubed_bin = args.cubed_bin.resolve()
    skip = {"cubed-rs": args.skip_rs, "dask": args.skip_dask, "cubed-py": args.skip_cubed_py}
    args.contenders = [c for c in CONTENDERS if not skip[c]]
    return args


def check_prerequisites(args: argparse.Namespace) -> None:
    if "cubed-rs" in args.contenders and not os.access(args.cubed_bin, os.X_OK):
        print(f"cubed-rs binary not found at {args.cubed_bin}.\n"
              "Build it with:  cargo build --release -p cubed\n"
              "(or pass --cubed-bin PATH, or --skip-rs to leave it out)", file=sys.stderr)
        raise SystemExit(2)
    missing = [m for m in ("numpy", "zarr", "dask", "cubed") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"{sys.executable} lacks {', '.join(missing)}; run via bench/quadratic_means.sh "
              "(it sets up .venv-bench with scripts/python-env.sh bench)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    check_prerequisites(args)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    print(f"quadratic means: {EXPRESSION}; contenders: {', '.join(args.contenders)}")
    print(f"machine: {machine_summary()}")
    print(f"versions: {versions_summary()}")

    results: list[Result] = []
    all_ok = True
    for n, c in args.sizes:
        print(f"\nN={n} C={c}")
        a, b = prepare_inputs(args.work_dir, n, c)
        size_results = [run_contender(name, args, n, c, a, b) for name in args.contenders]
        verified = verify(size_results)  # also when a contender failed: check the rest
        all_ok &= verified and all(r.ok for r in size_results)
        results += size_results

    print()
    print(markdown_table(results))
    for line in ratio_lines(results):
        print(line)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(driver peak RSS, the floor of the RSS column: {floor:.0f} MB)")
    if args.record:
        record(results, argv, REPO / "BENCHMARKS.md")
    if not all_ok:
        print("\nFAIL: a contender failed or the results disagree")
    return 0 if all_ok else 1


# --------------------------------------------------------------------------
# Workers (run in subprocesses; these are the only places numpy/zarr are used)
# --------------------------------------------------------------------------


def worker_generate(n: str, c: str, path: str, seed: str) -> dict:
    """Write an (n, n) float64 zstd-3 Zarr v3 array of U(0, 1) values, one row of
    chunks at a time (c x n values in memory), unless a complete one exists."""
    import numpy as np
    import zarr
    from zarr.codecs import ZstdCodec

    n, c, seed = int(n), int(c), int(seed)
    marker = {"quadratic_means_seed": seed, "complete": True}

    def stored_mb() -> float:
        return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6

    try:
        arr = zarr.open_array(path, mode="r")
        if (arr.shape == (n, n) and arr.chunks == (c, c) and arr.dtype == np.float64
                and all(arr.attrs.get(k) == v for k, v in marker.items())):
            return {"action": "reused", "stored_mb": stored_mb()}
    except (FileNotFoundError, ValueError, KeyError, zarr.errors.BaseZarrError):
        pass

    arr = zarr.create_array(store=path, shape=(n, n), chunks=(c, c), dtype="float64",
                            compressors=ZstdCodec(level=3), zarr_format=3, overwrite=True)
    for row, start in enumerate(range(0, n, c)):
        stop = min(start + c, n)
        rng = np.random.default_rng([seed, row])
        arr[start:stop, :] = rng.random((stop - start, n))
    arr.attrs.update(marker)  # written last: an interrupted run is not reused
    return {"action": "generated", "stored_mb": stored_mb()}


def worker_dask(a_path: str, b_path: str, out: str) -> dict:
    import dask.array as da

    a, b = da.from_zarr(a_path), da.from_zarr(b_path)
    result = (a * a + b * b).mean(axis=0)
    da.to_zarr(result, out)  # default (threaded) scheduler
    return {"shape": list(result.shape)}


def worker_cubed_py(a_path: str, b_path: str, out: str, tmp: str, allowed_mem: str) -> dict:
    import cubed
    import cubed.array_api as xp

    spec = cubed.Spec(work_dir=tmp, allowed_mem=allowed_mem, executor_name="threads")
    a, b = cubed.from_zarr(a_path, spec=spec), cubed.from_zarr(b_path, spec=spec)
    result = xp.mean(a * a + b * b, axis=0)
    cubed.to_zarr(result, out)
    return {"shape": list(result.shape)}


def worker_verify(*named_paths: str) -> dict:
    """Check every output against the first one (rtol 1e-10) and against the
    expected value: for a, b ~ U(0, 1), E[a^2 + b^2] = 2/3."""
    import numpy as np
    import zarr

    outputs = {}
    for item in named_paths:
        name, path = item.split("=", 1)
        outputs[name] = zarr.open_array(path, mode="r")[...]
    (ref_name, ref), *others = outputs.items()
    messages, ok = [], True

    overall = float(np.mean(ref))
    sane = ref.ndim == 1 and abs(overall - 2 / 3) < 0.01
    messages.append(f"{ref_name}: shape {ref.shape}, mean of result {overall:.6f} "
                    f"(expected ~0.666667){'' if sane else ' FAIL'}")
    ok &= sane
    for name, x in others:
        same = x.shape == ref.shape and bool(np.allclose(x, ref, rtol=RTOL, atol=0))
        diff = float(np.max(np.abs(x - ref) / np.abs(ref))) if x.shape == ref.shape else float("inf")
        messages.append(f"{name} vs {ref_name}: max rel diff {diff:.3g} "
                        f"({'OK' if same else 'FAIL'}, rtol {RTOL})")
        ok &= same
    return {"ok": bool(ok), "messages": messages}


WORKERS = {
    "generate": worker_generate,
    "dask": worker_dask,
    "cubed-py": worker_cubed_py,
    "verify": worker_verify,
}


def worker_main(mode: str, *args: str) -> int:
    answer = WORKERS[mode](*args)
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(worker_main(*sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
