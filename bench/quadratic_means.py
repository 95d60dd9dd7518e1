#!/usr/bin/env python3
"""Array workloads on Zarr: cubed-rs vs Dask vs Python Cubed.

What it measures
----------------
Each workload (``--workload``) reads float64 Zarr v3 arrays, zstd level 3,
filled with uniform random numbers U(0, 1), computes one expression and writes
the result to a Zarr array:

  quadratic   mean(a*a + b*b, axis=0)   a, b of shape (N, N), chunks (C, C)  [default]
  matmul      a @ b                     a, b of shape (N, N), chunks (C, C)
  slice-mean  mean(t[0:N/4], axis=0)    t of shape (N, M), chunks (C, M): only
              a quarter of t's chunks are needed, and the table has a column
              with the bytes each process read

and we record, per contender, the wall time, CPU time (user+sys of the child
process and everything it waited for) and peak RSS (``ru_maxrss`` of the child,
from ``os.wait4``). Contenders run one after another, each in its own process:

  cubed-rs   target/release/cubed eval ... --allowed-mem 2GB
  dask       dask.array.from_zarr + to_zarr, default threaded scheduler
  cubed-py   Python Cubed, cubed.Spec(allowed_mem="2GB"), threads executor

The outputs are then compared (np.allclose, rtol=1e-10, one block of rows at a
time) and checked against the expected mean of their elements, and a table
with wall / CPU / RSS and the wall-time ratios against cubed-rs is printed.
``--timeout S`` kills a contender after S seconds; it is then reported as
timed out (its CPU and RSS are those until it was killed).

Inputs are generated once per size into the work dir (default ``bench/work/``)
one row of chunks at a time, and reused on later runs (the quadratic and
matmul workloads share theirs).

How to run
----------
    bench/quadratic_means.sh                       # 10000:1000 and 20000:2000
    bench/quadratic_means.sh --quick --skip-rs     # 4000:1000, Dask + cubed-py only
    bench/quadratic_means.sh --sizes 8000:1000 --record   # append to BENCHMARKS.md
    bench/quadratic_means.sh --workload matmul --timeout 900   # 4000:1000 and 10000:1000
    bench/quadratic_means.sh --workload slice-mean             # 40000x2000:1000

Sizes are ``N:C`` (square arrays) or ``NxM:C`` (N rows, M columns).
The wrapper sets up ``.venv-bench`` (scripts/python-env.sh bench) and runs this
file with it. Build cubed-rs first: ``cargo build --release -p cubed``.

Note on RSS: on Linux a child's ru_maxrss starts at the RSS of the parent that
spawned it, so this driver deliberately imports only the standard library;
everything that touches numpy/zarr (input generation, the Python contenders,
verification) runs in a worker subprocess (``quadratic_means.py worker ...``).
The driver's own peak RSS is printed as the floor of the RSS column.

Note on bytes read: Linux adds the I/O counters of a reaped child to its
parent's, so the growth of the driver's ``rchar`` (/proc/self/io) while it
waits for a contender is what that contender read through read(2): page-cache
hits included, memory-mapped files not, Python's own imports included.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTENDERS = ("cubed-rs", "dask", "cubed-py")
RTOL = 1e-10


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    title: str  # the expression as shown in tables and BENCHMARKS.md
    rs_expression: str  # for `cubed eval`; {quarter} is replaced by N // 4
    inputs: tuple[str, ...]  # array names, also the order of `compute`'s arguments
    default_sizes: str
    quick_sizes: str
    square_chunks: bool  # chunks (C, C); otherwise (C, M), whole rows
    compute: Callable  # (xp, *arrays) -> result, xp: dask.array or cubed.array_api
    expected_mean: Callable[[int], float]  # mean of the result's elements, given N
    out_ndim: int
    heading: str = ""  # BENCHMARKS.md section title before the date
    report_reads: bool = False


WORKLOADS = {w.name: w for w in (
    Workload("quadratic", "mean(a*a + b*b, axis=0)", "mean(a*a + b*b, axis=0)", ("a", "b"),
             "10000:1000,20000:2000", "4000:1000", True,
             lambda xp, a, b: xp.mean(a * a + b * b, axis=0),
             lambda n: 2 / 3, 1),  # E[a^2 + b^2] = 2/3
    Workload("matmul", "a @ b", "a @ b", ("a", "b"), "4000:1000,10000:1000", "2000:1000", True,
             lambda xp, a, b: xp.matmul(a, b),
             lambda n: n / 4, 2, heading="Matmul"),  # N terms, E[a b] = 1/4
    Workload("slice-mean", "mean(t[0:N/4], axis=0)", "mean(t[0:{quarter}], axis=0)", ("t",),
             "40000x2000:1000", "8000x2000:1000", False,
             lambda xp, t: xp.mean(t[0:t.shape[0] // 4], axis=0),
             lambda n: 1 / 2, 1, heading="Slice mean", report_reads=True),
)}


@dataclasses.dataclass(frozen=True)
class Size:
    n: int  # rows
    m: int  # columns
    c: int  # rows per chunk (and columns, for square chunks)

    def label(self) -> str:
        return str(self.n) if self.n == self.m else f"{self.n}x{self.m}"

    def chunks(self, wl: Workload) -> tuple[int, int]:
        return (self.c, self.c) if wl.square_chunks else (self.c, self.m)


def chunk_label(size: Size, wl: Workload) -> str:
    rows, cols = size.chunks(wl)
    return str(rows) if rows == cols else f"{rows}x{cols}"


# --------------------------------------------------------------------------
# Driver (standard library only, see the note on RSS above)
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    size: Size
    chunk: str
    contender: str
    ok: bool
    wall_s: float = float("nan")
    cpu_s: float = float("nan")
    rss_mb: float = float("nan")
    read_mb: float = float("nan")
    output: Path | None = None
    timed_out: bool = False


@dataclasses.dataclass
class Measured:
    code: int
    wall_s: float
    cpu_s: float
    rss_mb: float
    read_mb: float
    timed_out: bool


def parse_sizes(text: str) -> list[Size]:
    """Parse ``"10000:1000,40000x2000:1000"`` into Sizes (N:C means NxN:C)."""
    sizes = []
    for item in text.split(","):
        shape, c = item.strip().split(":")
        n, _, m = shape.partition("x")
        sizes.append(Size(int(n), int(m or n), int(c)))
    return sizes


def read_chars() -> int:
    """Bytes this process and the children it reaped read (rchar of /proc/self/io)."""
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def run_measured(cmd: list[str], log_path: Path, timeout: float | None = None) -> Measured:
    """Run cmd as a child process, killed (with its process group) after
    timeout seconds, and measure it.

    stdout and stderr go to log_path. CPU and RSS come from os.wait4, i.e. they
    belong to this child (and any descendants it reaped) only.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fired = threading.Event()
    with open(log_path, "wb") as log:
        log.write(f"$ {shlex.join(cmd)}\n".encode())
        log.flush()
        read_before = read_chars()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

        def kill() -> None:
            fired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # e.g. Ctrl-C: the child is in its own session
            kill()
            os.wait4(proc.pid, 0)
            raise
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - start
        read_mb = (read_chars() - read_before) / 1e6
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    cpu = usage.ru_utime + usage.ru_stime
    rss_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    timed_out = fired.is_set() and os.WIFSIGNALED(status)
    return Measured(proc.returncode, wall, cpu, rss_mb, read_mb, timed_out)


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


def prepare_inputs(wl: Workload, work: Path, size: Size) -> tuple[dict[str, Path], float]:
    """Create (or reuse) the workload's inputs for this size; return their
    paths by name and their total size on disk in MB."""
    base = work / f"input-{size.label()}-{size.c}"
    paths = {name: base / f"{name}.zarr" for name in wl.inputs}
    stored = 0.0
    for seed, path in enumerate(paths.values(), start=1):
        start = time.perf_counter()
        info = run_worker("generate", size.n, size.m, *size.chunks(wl), path, seed)
        stored += info["stored_mb"]
        print(f"  input {path.relative_to(work)}: {info['action']} "
              f"({time.perf_counter() - start:.1f} s, {info['stored_mb']:.0f} MB on disk)")
    return paths, stored


def contender_command(name: str, args: argparse.Namespace, size: Size, inputs: dict[str, Path],
                      out: Path, tmp: Path, summary: Path) -> list[str]:
    wl = args.workload
    if name == "cubed-rs":
        cmd = [str(args.cubed_bin), "eval", wl.rs_expression.format(quarter=size.n // 4)]
        for array, path in inputs.items():
            cmd += ["--input", f"{array}={path}"]
        cmd += ["--output", str(out), "--work-dir", str(tmp), "--allowed-mem", args.allowed_mem]
        return cmd + (["--summary-json", str(summary)] if wl.report_reads else [])
    if name == "dask":
        return worker_cmd("dask", wl.name, out, *inputs.values())
    if name == "cubed-py":
        return worker_cmd("cubed-py", wl.name, out, tmp, args.allowed_mem, *inputs.values())
    raise ValueError(name)


def run_contender(name: str, args: argparse.Namespace, size: Size,
                  inputs: dict[str, Path]) -> Result:
    work, wl = args.work_dir, args.workload
    tag = {"cubed-rs": "rs", "dask": "dask", "cubed-py": "py"}[name]
    stem = f"{wl.name}-{tag}-{size.label()}"
    out, tmp = work / f"out-{stem}.zarr", work / f"tmp-{tag}"
    log, summary = work / "logs" / f"{stem}.log", work / "logs" / f"{stem}-summary.json"
    for stale in (out, tmp):
        shutil.rmtree(stale, ignore_errors=True)
    summary.unlink(missing_ok=True)
    m = run_measured(contender_command(name, args, size, inputs, out, tmp, summary), log, args.timeout)
    shutil.rmtree(tmp, ignore_errors=True)
    chunk = chunk_label(size, wl)
    if m.timed_out:
        print(f"  {name:<9} TIMED OUT after {m.wall_s:.0f} s (cpu {m.cpu_s:.0f} s, "
              f"peak RSS {m.rss_mb:.0f} MB)")
        return Result(size, chunk, name, False, m.wall_s, m.cpu_s, m.rss_mb, timed_out=True)
    if m.code != 0:
        print(f"  {name:<9} FAILED (exit code {m.code})")
        print_log_tail(log)
        return Result(size, chunk, name, ok=False)
    reads = f"  read {m.read_mb:7.0f} MB" if wl.report_reads else ""
    print(f"  {name:<9} wall {m.wall_s:7.2f} s  cpu {m.cpu_s:7.2f} s  "
          f"peak RSS {m.rss_mb:7.0f} MB{reads}")
    return Result(size, chunk, name, True, m.wall_s, m.cpu_s, m.rss_mb, m.read_mb, out)


def summary_reads(args: argparse.Namespace, size: Size, input_mb: float) -> str:
    """What cubed-rs's --summary-json says it read, against the input's size."""
    path = args.work_dir / "logs" / f"{args.workload.name}-rs-{size.label()}-summary.json"
    if not path.exists():
        return f"N={size.label()}: no cubed-rs summary ({path.name})"
    ops = json.loads(path.read_text())["ops"]
    first, total = ops[0]["bytes_read"] / 1e6, sum(op["bytes_read"] for op in ops) / 1e6
    return (f"N={size.label()}: cubed-rs summary: {first:.0f} MB read by {ops[0]['id']} "
            f"({100 * first / input_mb:.1f} % of t's {input_mb:.0f} MB as float64), "
            f"{total:.0f} MB by all {len(ops)} ops (uncompressed bytes)")


def verify(wl: Workload, size: Size, results: list[Result]) -> bool:
    """Compare all successful outputs of one size; print OK or FAIL."""
    done = [r for r in results if r.ok]
    if not done:
        print("  verify: FAIL (no contender produced an output)")
        return False
    answer = run_worker("verify", wl.name, size.n, *[f"{r.contender}={r.output}" for r in done])
    for line in answer["messages"]:
        print("  verify: " + line)
    print("  verify: " + ("OK" if answer["ok"] else "FAIL"))
    return answer["ok"]


def fmt(x: float, digits: int) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"  # x != x means NaN


def markdown_table(results: list[Result], reads: bool = False, timeout: float | None = None) -> str:
    head = "| N | chunk | contender | wall s | CPU s | peak RSS MB |"
    rows = [head + (" read MB |" if reads else "") + " wall / cubed-rs |",
            "|---:|---:|---|---:|---:|---:|" + ("---:|" if reads else "") + "---:|"]
    for r in results:
        rs = next((x for x in results if x.size == r.size and x.contender == "cubed-rs" and x.ok),
                  None)
        ratio = r.wall_s / rs.wall_s if rs and r.ok else float("nan")
        status = " (timed out)" if r.timed_out else "" if r.ok else " (FAILED)"
        wall = f"> {timeout:.0f}" if r.timed_out and timeout else fmt(r.wall_s, 2)
        if r.timed_out and rs and timeout:
            ratio_text = f"> {timeout / rs.wall_s:.2f}"
        else:
            ratio_text = fmt(ratio, 2)
        read = f" {fmt(r.read_mb, 0)} |" if reads else ""
        rows.append(f"| {r.size.label()} | {r.chunk} | {r.contender}{status} | {wall} | "
                    f"{fmt(r.cpu_s, 2)} | {fmt(r.rss_mb, 0)} |{read} {ratio_text} |")
    return "\n".join(rows)


def ratio_lines(results: list[Result]) -> list[str]:
    lines = []
    for size in dict.fromkeys(r.size for r in results):
        wall = {r.contender: r.wall_s for r in results if r.size == size and r.ok}
        if "cubed-rs" not in wall:
            continue
        for other in ("dask", "cubed-py"):
            if other in wall:
                lines.append(f"N={size.label()}: wall({other})/wall(cubed-rs) = "
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


def load_summary() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def record(args: argparse.Namespace, results: list[Result], argv: list[str], load: str,
           extra: list[str], bench_file: Path) -> None:
    """Append a dated section with the table to BENCHMARKS.md."""
    wl = args.workload
    if not bench_file.exists():
        bench_file.write_text(
            "# Benchmarks\n\n"
            "Recorded by `bench/quadratic_means.sh --record` (`--workload` picks the "
            "expression) on float64 Zarr v3 arrays, zstd level 3.\n"
            "Wall and CPU (user+sys) in seconds, peak RSS of the process in MB.\n")
    date = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())
    title = f"{wl.heading} `{wl.title}` — {date}" if wl.heading else date
    section = [f"\n## {title}\n",
               f"- machine: {machine_summary()}; load average at the start: {load}",
               f"- versions: {versions_summary()}",
               f"- command: `{' '.join(['bench/quadratic_means.sh', *argv])}`",
               *[f"- {line}" for line in extra],
               "", markdown_table(results, wl.report_reads, args.timeout), ""]
    with open(bench_file, "a") as f:
        f.write("\n".join(section))
    print(f"recorded in {bench_file}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=list(WORKLOADS), default="quadratic")
    p.add_argument("--sizes", help="N:C or NxM:C list (default: the workload's, e.g. "
                   f"{WORKLOADS['quadratic'].default_sizes} for quadratic)")
    p.add_argument("--quick", action="store_true", help="only the workload's small size "
                   f"(e.g. {WORKLOADS['quadratic'].quick_sizes})")
    p.add_argument("--work-dir", type=Path, default=REPO / "bench" / "work")
    p.add_argument("--cubed-bin", type=Path, default=REPO / "target" / "release" / "cubed")
    p.add_argument("--allowed-mem", default="2GB")
    p.add_argument("--timeout", type=float, help="kill a contender after this many seconds")
    p.add_argument("--skip-rs", action="store_true", help="do not run cubed-rs")
    p.add_argument("--skip-dask", action="store_true", help="do not run Dask")
    p.add_argument("--skip-cubed-py", action="store_true", help="do not run Python Cubed")
    p.add_argument("--record", action="store_true", help="append the results to BENCHMARKS.md")
    args = p.parse_args(argv)
    args.workload = WORKLOADS[args.workload]
    wl = args.workload
    args.sizes = parse_sizes(wl.quick_sizes if args.quick else args.sizes or wl.default_sizes)
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
    wl = args.workload
    args.work_dir.mkdir(parents=True, exist_ok=True)
    # Only 127.0.0.1: no instance-metadata lookups by AWS SDKs in the contenders.
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_METADATA_ENDPOINT"] = "http://127.0.0.1:1"
    load = load_summary()
    print(f"{wl.name}: {wl.title}; contenders: {', '.join(args.contenders)}")
    print(f"machine: {machine_summary()}; load average {load}")
    print(f"versions: {versions_summary()}")

    results: list[Result] = []
    extra = ["read MB: what the process read through read(2) (rchar: page-cache hits and "
             "Python's imports included, see the note in bench/quadratic_means.py)"
             ] if wl.report_reads else []
    all_ok = True
    for size in args.sizes:
        print(f"\nN={size.label()} C={chunk_label(size, wl)}")
        inputs, stored_mb = prepare_inputs(wl, args.work_dir, size)
        size_results = [run_contender(name, args, size, inputs) for name in args.contenders]
        verified = verify(wl, size, size_results)  # also when a contender failed: check the rest
        all_ok &= verified and all(r.ok for r in size_results)
        results += size_results
        if wl.report_reads:
            logical_mb = len(inputs) * size.n * size.m * 8 / 1e6
            extra.append(f"N={size.label()}: input {logical_mb:.0f} MB as float64, "
                         f"{stored_mb:.0f} MB on disk")
            if "cubed-rs" in args.contenders:
                extra.append(summary_reads(args, size, logical_mb))
            print("  " + "\n  ".join(extra[-2:]))

    print()
    print(markdown_table(results, wl.report_reads, args.timeout))
    for line in ratio_lines(results):
        print(line)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(driver peak RSS, the floor of the RSS column: {floor:.0f} MB)")
    if args.record:
        record(args, results, argv, load, extra, REPO / "BENCHMARKS.md")
    if not all_ok:
        print("\nFAIL: a contender failed, timed out or the results disagree")
    return 0 if all_ok else 1


# --------------------------------------------------------------------------
# Workers (run in subprocesses; these are the only places numpy/zarr are used)
# --------------------------------------------------------------------------


def worker_generate(rows: str, cols: str, chunk_rows: str, chunk_cols: str, path: str,
                    seed: str) -> dict:
    """Write a (rows, cols) float64 zstd-3 Zarr v3 array of U(0, 1) values, one
    row of chunks at a time (chunk_rows x cols values in memory), unless a
    complete one exists."""
    import numpy as np
    import zarr
    from zarr.codecs import ZstdCodec

    shape, chunks, seed = (int(rows), int(cols)), (int(chunk_rows), int(chunk_cols)), int(seed)
    marker = {"quadratic_means_seed": seed, "complete": True}

    def stored_mb() -> float:
        return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6

    try:
        arr = zarr.open_array(path, mode="r")
        if (arr.shape == shape and arr.chunks == chunks and arr.dtype == np.float64
                and all(arr.attrs.get(k) == v for k, v in marker.items())):
            return {"action": "reused", "stored_mb": stored_mb()}
    except (FileNotFoundError, ValueError, KeyError, zarr.errors.BaseZarrError):
        pass

    arr = zarr.create_array(store=path, shape=shape, chunks=chunks, dtype="float64",
                            compressors=ZstdCodec(level=3), zarr_format=3, overwrite=True)
    for row, start in enumerate(range(0, shape[0], chunks[0])):
        stop = min(start + chunks[0], shape[0])
        rng = np.random.default_rng([seed, row])
        arr[start:stop, :] = rng.random((stop - start, shape[1]))
    arr.attrs.update(marker)  # written last: an interrupted run is not reused
    return {"action": "generated", "stored_mb": stored_mb()}


def worker_dask(workload: str, out: str, *paths: str) -> dict:
    import dask.array as da

    result = WORKLOADS[workload].compute(da, *map(da.from_zarr, paths))
    da.to_zarr(result, out)  # default (threaded) scheduler
    return {"shape": list(result.shape)}


def worker_cubed_py(workload: str, out: str, tmp: str, allowed_mem: str, *paths: str) -> dict:
    import cubed
    import cubed.array_api as xp

    spec = cubed.Spec(work_dir=tmp, allowed_mem=allowed_mem, executor_name="threads")
    result = WORKLOADS[workload].compute(xp, *(cubed.from_zarr(p, spec=spec) for p in paths))
    cubed.to_zarr(result, out)
    return {"shape": list(result.shape)}


def worker_verify(workload: str, n: str, *named_paths: str) -> dict:
    """Check every output against the first one (rtol 1e-10), one block of rows
    at a time, and the mean of its elements against the expected value (1.5 %):
    for a, b ~ U(0, 1), E[a^2 + b^2] = 2/3, E[(a @ b)_ij] = N/4, E[t] = 1/2."""
    import numpy as np
    import zarr

    wl = WORKLOADS[workload]
    outputs = {}
    for item in named_paths:
        name, path = item.split("=", 1)
        outputs[name] = zarr.open_array(path, mode="r")
    (ref_name, ref), *others = outputs.items()
    messages, ok = [], True

    comparable = {name: x.shape == ref.shape for name, x in others}
    same = dict(comparable)
    diff = {name: 0.0 if comparable[name] else float("inf") for name, _ in others}
    total, step = 0.0, ref.chunks[0]
    for start in range(0, ref.shape[0], step):
        block = ref[start:start + step]
        total += float(np.sum(block))
        for name, x in others:
            if comparable[name]:
                other = x[start:start + step]
                same[name] &= bool(np.allclose(other, block, rtol=RTOL, atol=0))
                diff[name] = max(diff[name], float(np.max(np.abs(other - block) / np.abs(block))))

    overall, expected = total / ref.size, wl.expected_mean(int(n))
    sane = ref.ndim == wl.out_ndim and abs(overall - expected) < 0.015 * expected
    messages.append(f"{ref_name}: shape {ref.shape}, mean of result {overall:.6f} "
                    f"(expected ~{expected:.6f}){'' if sane else ' FAIL'}")
    ok &= sane
    for name, _ in others:
        messages.append(f"{name} vs {ref_name}: max rel diff {diff[name]:.3g} "
                        f"({'OK' if same[name] else 'FAIL'}, rtol {RTOL})")
        ok &= same[name]
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
