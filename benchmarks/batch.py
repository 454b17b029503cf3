"""Throughput of ``robomotion batch``: rows/s with 1 and 2 local workers, Ray vs the local pool.

Rows are prompt rows run through ``generate,retarget,validate`` (the shipped ``robomotion-small``
generator, ``--seconds`` long clips, validation writing ``report.json`` only), the steps a
dataset job runs. Every engine first runs one warm-up row per worker (process start, imports,
model load: a one-off cost per worker, reported separately), then the timed rows; throughput is
timed rows / wall time.

Baselines in the same run: 2 local workers against 1 (scaling; ideal 2.0 on a 2-core machine),
and Ray with the same number of actors against the local pool. The per-row overhead of each
engine is measured with an empty task (a round trip that does no work), so it does not drown
in the row's own time.

Run: ``python benchmarks/batch.py [--rows 8] [--seconds 2] [--no-ray]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from robomotion.batch.engines import make_engine
from robomotion.batch.manifest import ManifestRow, read_manifest
from robomotion.batch.runner import run_and_store, schedule
from robomotion.batch.steps import WorkerContext

PROMPTS = ("a person walks forward", "a person turns around", "a person jumps", "a person waves with the right hand",
           "a person walks backwards", "a person kicks", "a person squats down", "a person steps to the left")


def _nothing(payload: int, context: object) -> int:
    """An empty task: measures what an engine adds per row."""
    return payload


def _tasks(folder: Path, rows: int, seconds: float, tag: str) -> dict:
    records = [{"id": f"{tag}{i}", "prompt": PROMPTS[i % len(PROMPTS)], "seed": i, "duration": seconds}
               for i in range(rows)]
    manifest = folder / f"{tag}.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    parsed = read_manifest(manifest, folder / tag, ("generate", "retarget", "validate"), report="json")
    return {row.task.key: row.task for row in parsed if isinstance(row, ManifestRow)}


def _run(engine, tasks: dict) -> float:
    """Wall seconds to run ``tasks`` on ``engine``; fails loudly if a row errs."""
    failed = []

    def check(key, completion, attempts):
        if completion.value is None or completion.value["status"] != "done":
            failed.append((key, completion))

    start = time.perf_counter()
    schedule(engine, tasks, run_and_store, 0, check)
    elapsed = time.perf_counter() - start
    if failed:
        raise RuntimeError(f"rows failed: {failed[:2]}")
    return elapsed


def _overhead(engine, count: int) -> float:
    """Seconds per empty task, every worker kept busy (what the engine adds to each row)."""
    start = time.perf_counter()
    schedule(engine, dict(enumerate(range(count))), _nothing, 0, lambda *_: None)
    return (time.perf_counter() - start) / count


def measure(ray: str | None, workers: int, rows: int, seconds: float, folder: Path) -> dict:
    tag = f"{'ray' if ray else 'local'}{workers}"
    start = time.perf_counter()
    engine = make_engine(ray, workers, WorkerContext)
    try:
        warm = _run(engine, _tasks(folder, workers, seconds, f"{tag}warm"))
        startup = time.perf_counter() - start
        elapsed = _run(engine, _tasks(folder, rows, seconds, tag))
        overhead = _overhead(engine, 200)
    finally:
        engine.close()
    result = {"engine": engine.description, "startup_s": startup, "warmup_row_s": warm, "rows": rows,
              "seconds": elapsed, "rows_per_s": rows / elapsed, "overhead_ms": 1000 * overhead}
    print(f"{engine.description:45s} {rows / elapsed:6.3f} rows/s ({elapsed:6.1f} s for {rows} rows; start-up "
          f"and first row {startup:5.1f} s; empty-task round trip {1000 * overhead:6.2f} ms)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8, help="timed rows per engine")
    parser.add_argument("--seconds", type=float, default=2.0, help="clip length (s)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray measurements")
    args = parser.parse_args()
    print(f"{args.rows} rows of generate,retarget,validate ({args.seconds:g} s clips, report.json only); "
          f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = measure(None, 1, args.rows, args.seconds, folder)
        two = measure(None, 2, args.rows, args.seconds, folder)
        print(f"scaling: 2 local workers / 1 = {two['rows_per_s'] / one['rows_per_s']:.2f}x (ideal 2.00x)")
        print(f"per row and worker: {args.seconds / (1 / one['rows_per_s']):.2f} s of clip per wall second; "
              f"projected: N workers ~ N x {one['rows_per_s']:.3f} rows/s")
        if not args.no_ray:
            ray = measure("auto", 2, args.rows, args.seconds, folder)
            print(f"Ray / local pool with 2 workers: {ray['rows_per_s'] / two['rows_per_s']:.2f}x rows/s; "
                  f"per-row overhead {ray['overhead_ms']:.2f} ms on Ray vs {two['overhead_ms']:.2f} ms local "
                  f"(+{ray['overhead_ms'] - two['overhead_ms']:.2f} ms, "
                  f"{(ray['overhead_ms'] - two['overhead_ms']) / 10 / (1 / ray['rows_per_s']):.3f}% of a row)")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes share these cores)")


if __name__ == "__main__":
    main()
