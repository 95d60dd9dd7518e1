#!/usr/bin/env python3
"""The driver at scale, against the fake Lambda fleet (docs/FLEET.md).

Two parts, both on 127.0.0.1 only:

1. **Scale**: jobs of 10k, 100k and 1M tasks (``random((N, 16), chunks=(1,
   16)) + 1``: one blockwise op, one task per invocation) on a fleet with the
   default account limit of 1,000 and 200 ms per invocation, with
   ``--concurrency 1000``. Per job: planning time (``cubed plan``), driver
   wall time, sustained invocations per second (invocations / op wall time),
   driver CPU per invocation (user + sys of the driver process, from
   ``os.wait4``), driver peak RSS, the most invocations the fleet saw in
   flight, and the task history's size and the time the run's end waited for
   it.

2. **Model of Cubed's published quadratic means** (u, v of shape (50000, 1,
   987, 1920) float64 in chunks of (10, 1, 987, 1920), 2 GB functions, ~1,000
   at once; Cubed reports about 100 s). Zarr metadata for u and v is written
   (no chunks: the fleet reads nothing), the job runs on a fleet with the
   default model constants at ``--time-scale`` 0.05, and the wall time and
   Lambda cost are scaled back by 1 / 0.05. Assumptions: the fleet's model
   (90 MB/s of S3 per function, 250 ms cold starts, 10 ms per invocation, 2 ms
   per MB of compute), that the driver's own time is small next to the
   tasks', and arm64 prices.

    bench/fleet.sh                         # all of it
    bench/fleet.sh --sizes 10000 --record  # append the tables to BENCHMARKS.md

The fleet writes no chunks, so the runs use a local work dir and
``--no-verify``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CUBED = REPO / "target/release/cubed"
FLEET = REPO / "target/release/lambda-fleet"
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
           AWS_EC2_METADATA_DISABLED="true", AWS_METADATA_ENDPOINT="http://127.0.0.1:1")
CUBED_PUBLISHED_S = 100.0
MODEL_TIME_SCALE = 0.05


class Fleet:
    """A lambda-fleet process; its port is read from its first line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([str(FLEET), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        prefix = "listening on http://127.0.0.1:"
        if not line.startswith(prefix):
            self.stop()
            raise SystemExit(f"lambda-fleet did not start: {line!r}")
        self.endpoint = line.strip()[len("listening on "):]

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.endpoint}/fleet/stats", timeout=10) as r:
            return json.load(r)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.poll() is not None, "the fleet is still running"


def measured(cmd: list[str]) -> dict:
    """Runs cmd; wall time, CPU (user + sys) and peak RSS of that process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}\n{err}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024}


def lambda_args(fleet: Fleet, work: Path, summary: Path) -> list[str]:
    return ["--work-dir", str(work / "work"), "--runner", "lambda", "--function", "cubed-task",
            "--lambda-endpoint", fleet.endpoint, "--concurrency", "1000", "--no-verify", "-q",
            "--summary-json", str(summary)]


def scale(sizes: list[int], work: Path) -> list[dict]:
    fleet = Fleet("--overhead-ms", "200", "--threads", "1")
    rows = []
    try:
        for n in sizes:
            expr = f"random(({n}, 16), chunks=(1, 16)) + 1"
            plan = measured([str(CUBED), "plan", expr, "--work-dir", str(work / "work")])
            summary = work / f"scale-{n}.json"
            out = work / f"scale-{n}.zarr"
            shutil.rmtree(out, ignore_errors=True)
            run = measured([str(CUBED), "eval", expr, "-o", str(out), "--tasks-per-invocation", "1", *lambda_args(fleet, work, summary)])
            s = json.loads(summary.read_text())
            op = s["ops"][0]
            assert op["tasks"] == n and s["history_events"] >= n, s
            rows.append({
                "tasks": n, "plan_s": plan["wall_s"], "wall_s": run["wall_s"], "op_wall_s": op["wall_s"],
                "invocations": op["invocations"], "throttles": op["throttles"], "backups": op["backups"],
                "inv_per_s": op["invocations"] / op["wall_s"], "cpu_us_per_inv": 1e6 * run["cpu_s"] / op["invocations"],
                "rss": run["rss"], "max_in_flight": fleet.stats()["max_in_flight"],
                "history_bytes": s["history_bytes"], "history_wait_s": s["history_wait_s"],
            })
            print(json.dumps(rows[-1]), flush=True)
    finally:
        fleet.stop()
    return rows


def zarr_metadata(path: Path, shape: list[int], chunks: list[int]) -> None:
    """Zarr v3 metadata of a float64 array (no chunks written)."""
    path.mkdir(parents=True, exist_ok=True)
    meta = {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "float64",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0.0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                          {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
            "attributes": {}}
    (path / "zarr.json").write_text(json.dumps(meta))


def model(work: Path) -> dict:
    shape, chunks = [50000, 1, 987, 1920], [10, 1, 987, 1920]
    for name in ("u", "v"):
        zarr_metadata(work / f"{name}.zarr", shape, chunks)
    expr = "mean(u*u + v*v, axis=0)"
    inputs = ["-i", f"u={work / 'u.zarr'}", "-i", f"v={work / 'v.zarr'}"]
    plan_text = subprocess.run([str(CUBED), "plan", expr, *inputs, "--work-dir", str(work / "work")], env=ENV,
                               capture_output=True, text=True, check=True).stdout
    fleet = Fleet("--time-scale", str(MODEL_TIME_SCALE), "--threads", "1")
    summary = work / "model.json"
    out = work / "model-out.zarr"
    shutil.rmtree(out, ignore_errors=True)
    try:
        run = measured([str(CUBED), "eval", expr, *inputs, "-o", str(out), *lambda_args(fleet, work, summary)])
        stats = fleet.stats()
    finally:
        fleet.stop()
    s = json.loads(summary.read_text())
    scaled_cost = s["cost"]["gb_seconds"] / MODEL_TIME_SCALE * 0.0000133334 + s["cost"]["requests"] * 0.2e-6
    return {"plan": plan_text, "wall_s": run["wall_s"], "predicted_s": s["wall_s"] / MODEL_TIME_SCALE,
            "predicted_usd": scaled_cost, "gb_seconds": s["cost"]["gb_seconds"] / MODEL_TIME_SCALE,
            "requests": s["cost"]["requests"], "cold_starts": stats["cold_starts"], "max_in_flight": stats["max_in_flight"],
            "ops": [(o["id"], o["kind"], o["tasks"], round(o["wall_s"] / MODEL_TIME_SCALE, 1)) for o in s["ops"]]}


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def report(rows: list[dict], m: dict | None) -> str:
    lines = [f"## Driver at scale on the fake Lambda fleet — {time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
             "`bench/fleet.sh` (release builds; the fleet on one tokio thread beside the driver). "
             "Jobs `random((N, 16), chunks=(1, 16)) + 1`, one task per invocation, `--concurrency 1000`, "
             "fleet: account limit 1,000, 200 ms per invocation, 250 ms cold starts.", "",
             "| tasks | `cubed plan` (process) | driver wall | invocations/s | driver CPU / invocation | driver peak RSS | max in flight | throttles | history | history wait |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['tasks']:,} | {1000 * r['plan_s']:.0f} ms | {r['wall_s']:.1f} s | {r['inv_per_s']:,.0f} | {r['cpu_us_per_inv']:.0f} µs | "
                     f"{mb(r['rss'])} | {r['max_in_flight']} | {r['throttles']} | {mb(r['history_bytes'])} | {r['history_wait_s']:.2f} s |")
    if m:
        lines += ["", "Model of Cubed's published quadratic means (u, v (50000, 1, 987, 1920) float64, chunks (10, 1, 987, 1920), "
                  f"2 GB functions, 1,000 at once), run at time scale {MODEL_TIME_SCALE} and scaled back:", "",
                  f"- predicted wall time **{m['predicted_s']:.0f} s** (Cubed published: about {CUBED_PUBLISHED_S:.0f} s); "
                  f"predicted cost ${m['predicted_usd']:.2f} ({m['gb_seconds']:,.0f} GB-s, {m['requests']:,} requests); "
                  f"{m['cold_starts']} cold starts, at most {m['max_in_flight']} in flight.",
                  "- ops (id, kind, tasks, predicted wall s): " + "; ".join(f"{i} {k} {t} {w}" for i, k, t, w in m["ops"]),
                  "- assumptions: the fleet's defaults (90 MB/s of S3 per function, 250 ms cold starts, 10 ms per invocation, "
                  "2 ms of compute per MB; docs/FLEET.md), the driver's own time small next to the tasks', arm64 prices."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--no-model", action="store_true", help="skip the quadratic-means model run")
    ap.add_argument("--record", action="store_true", help="append the tables to BENCHMARKS.md")
    ap.add_argument("--work", default=str(REPO / "bench/work/fleet"))
    ap.add_argument("--profile", default="release", help="the cargo profile of the binaries (debug: a quick check)")
    args = ap.parse_args()
    global CUBED, FLEET
    CUBED, FLEET = (REPO / "target" / args.profile / b for b in ("cubed", "lambda-fleet"))
    for b in (CUBED, FLEET):
        if not b.is_file():
            raise SystemExit(f"{b} is missing: run bench/fleet.sh (it builds both)")
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = scale([int(s) for s in args.sizes.split(",") if s], work)
    m = None if args.no_model else model(work)
    text = report(rows, m)
    print(text)
    if args.record:
        with open(REPO / "BENCHMARKS.md", "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
