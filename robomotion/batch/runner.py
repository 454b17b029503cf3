"""Run a manifest: resume, schedule rows on an engine, retry crashed workers, collect one table.

Layout of the output folder::

    DIR/rows/<id>-<key>/      one folder per row: human.npz, g1.csv, retarget_quality.json,
                              report/report.html ..., and result.json (written last)
    DIR/results.parquet       one row per manifest row (status, error, outputs, verdict, numbers, timings)
    DIR/results.jsonl         the same rows as JSON lines
    DIR/summary.html          verdict counts, worst clips linking their reports, metric distributions

A row is done when its ``result.json`` exists (it is written atomically after every other file of
the row), so a run killed at any point never leaves a half-written row that looks done;
``resume=True`` skips rows whose content key already has a done ``result.json``.
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robomotion.batch.engines import Completion, make_engine
from robomotion.batch.manifest import BadRow, ManifestRow, read_manifest
from robomotion.batch.steps import ROBOT_FORMATS, RowTask, WorkerContext, parse_steps, run_row
from robomotion.errors import FormatError

__all__ = ["BatchResult", "run_and_store", "run_batch", "schedule"]

RESULT_FILE = "result.json"

#: Row outcomes in the order they are reported.
OUTCOMES = ("pass", "warn", "fail", "done", "error", "pending", "not run")


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes:
        rows: one flat dict per manifest row, in manifest order (the rows of ``results.parquet``).
        files: the written tables and summary, by kind (``parquet``, ``jsonl``, ``html``).
        engine: which engine ran the rows.
        seconds: wall time of the whole batch.
    """

    rows: list[dict[str, Any]]
    files: dict[str, Path] = field(default_factory=dict)
    engine: str = ""
    seconds: float = 0.0

    @property
    def falls(self) -> int:
        """Rows where the play step's policy fell."""
        return sum(1 for r in self.rows if r.get("play.survived") is False)

    def counts(self) -> dict[str, int]:
        """Rows by outcome: ``pass``/``warn``/``fail`` verdicts, ``done`` without a verdict, ``error``."""
        counts = Counter(
            "error" if r["status"] == "error" else r.get("verdict") or r["status"] for r in self.rows
        )
        return dict(counts)

    def lines(self) -> list[str]:
        """A printable summary: error rows, totals, then policy falls (play step)."""
        out = [f"ERROR row {r['row']} ({r['id']}): {r['error']}" for r in self.rows if r["status"] == "error"]
        counts = self.counts()
        resumed = sum(1 for r in self.rows if r.get("resumed"))
        out.append(
            f"{len(self.rows)} rows in {self.seconds:.1f} s on {self.engine}: "
            + ", ".join(f"{counts[k]} {k}" for k in OUTCOMES if k in counts)
            + (f" ({resumed} resumed)" if resumed else "")
        )
        played = [r["play.survived"] for r in self.rows if r.get("play.survived") is not None]
        if played:
            out.append(f"play: the policy fell in {played.count(False)} of {len(played)} rows")
        return out


def schedule(
    engine: Any,
    payloads: dict[Any, Any],
    function: Callable[[Any, Any], Any],
    retries: int,
    on_result: Callable[[Any, Completion, int], None],
) -> None:
    """Run ``function(payload, context)`` for every payload on ``engine``.

    A task whose worker dies is run again, at most ``retries`` more times; then (or when it
    succeeds or raises) ``on_result(task_id, completion, attempts)`` is called once for it.
    """
    queue = deque(payloads)
    attempts: Counter = Counter()
    in_flight = 0
    while queue or in_flight:
        while queue and in_flight < engine.capacity:
            task_id = queue.popleft()
            attempts[task_id] += 1
            engine.submit(task_id, function, payloads[task_id])
            in_flight += 1
        for completion in engine.wait():
            in_flight -= 1
            if completion.crash is not None and attempts[completion.task_id] <= retries:
                queue.appendleft(completion.task_id)
                continue
            on_result(completion.task_id, completion, attempts[completion.task_id])


def run_and_store(task: RowTask, context: WorkerContext) -> dict[str, Any]:
    """Worker side: run the row, then write its ``result.json`` last (atomically)."""
    from robomotion.atomic import write_text

    result = run_row(task, context)
    write_text(task.folder / RESULT_FILE, json.dumps({"key": task.key, **result}, default=str) + "\n")
    return result


def _stored_result(task: RowTask) -> dict[str, Any] | None:
    path = task.folder / RESULT_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if stored.get("key") != task.key or stored.get("status") != "done":
        return None
    stored.pop("key")
    return stored


def _base(row: ManifestRow | BadRow, steps: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(row, BadRow):
        return {"row": row.index, "id": row.id, "key": None, "kind": None, "input": row.input,
                "steps": ",".join(steps), "status": "error", "error": row.error, "error_step": "manifest"}
    task = row.task
    return {
        "row": row.index,
        "id": row.id,
        "key": task.key,
        "kind": "prompt" if task.prompt is not None else "motion",
        "input": task.prompt if task.prompt is not None else str(task.motion),
        "seed": task.seed if task.prompt is not None else None,
        "duration_s": task.duration,
        "model": task.model,
        "steps": ",".join(steps),
        "folder": str(Path("rows") / task.folder.name),
    }


def run_batch(
    manifest: str | Path,
    output: str | Path,
    steps: str | tuple[str, ...] = ("generate", "retarget", "validate"),
    *,
    ray: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    retries: int = 2,
    robot: str = "g1",
    robot_format: str = "g1-csv",
    video: bool = False,
    report: str = "html",
    options: dict[str, dict[str, Any]] | None = None,
    checkpoint: float | None = 60.0,
    progress: bool = True,
) -> BatchResult:
    """Run every row of ``manifest`` through ``steps`` and write the results under ``output``.

    Args:
        manifest: CSV, JSON lines or Parquet file (see :mod:`robomotion.batch.manifest`).
        output: output folder (created).
        steps: names or ``"generate,retarget,validate"``; any subset of
            :data:`~robomotion.batch.steps.ORDER`, run in that order.
        ray: ``None``: local process pool; ``"auto"``: join or start a local Ray; an address: join it.
        workers: worker processes / Ray actors (default: the CPUs of this machine / of the cluster).
        resume: skip rows whose content key already has a done result in ``output``.
        retries: how many times a row whose worker died is run again before it is an error row.
        robot: robot name; robot_format: ``g1-csv`` or ``beyondmimic-npz``.
        video: render each validation report's reference video (slow; off by default).
        report: ``"html"`` full validation reports (page and plots), ``"json"`` only ``report.json``.
        options: per-step options for every row (a row's own win), e.g. ``{"play": {"policy": path}}``.
        checkpoint: rewrite the tables and the summary at most every this many seconds while rows
            finish (rows still to run: status ``pending``), so a long run can be looked at; ``None``:
            only at the end.
        progress: show a progress bar with rate and ETA.

    Raises:
        FormatError / RobomotionError: the manifest or the settings are unusable (not a bad row:
        those become error rows).
    """
    from tqdm import tqdm

    from robomotion.batch.results import write_results

    start = time.perf_counter()
    steps = parse_steps(steps)
    if robot_format not in ROBOT_FORMATS:
        raise FormatError(f"expected one of {sorted(ROBOT_FORMATS)}, got '{robot_format}'", field="format")
    if report not in ("html", "json"):
        raise FormatError(f"expected html or json, got '{report}'", field="report")
    if workers is not None and workers < 1:
        raise FormatError(f"must be at least 1, got {workers}", field="workers")
    if retries < 0:
        raise FormatError(f"must be 0 or more, got {retries}", field="retries")
    output = Path(output)
    rows = read_manifest(manifest, output, steps, robot, robot_format, video, report, options)
    output.mkdir(parents=True, exist_ok=True)
    table = [_base(row, steps) for row in rows]
    by_key: dict[str, list[int]] = {}
    tasks: dict[str, RowTask] = {}
    for position, row in enumerate(rows):
        if isinstance(row, ManifestRow):
            by_key.setdefault(row.task.key, []).append(position)
            tasks[row.task.key] = row.task
    finished = 0

    def fill(key: str, result: dict[str, Any], attempts: int, resumed: bool) -> None:
        nonlocal finished
        for position in by_key[key]:
            table[position].update(result, attempts=attempts, resumed=resumed)
            finished += 1

    pending = {}
    for key, task in tasks.items():
        stored = _stored_result(task) if resume else None
        if stored is not None:
            fill(key, stored, 0, True)
        else:
            pending[key] = task
    bar = tqdm(total=len(table), initial=finished + sum(isinstance(r, BadRow) for r in rows), unit="row",
               desc="batch", disable=not progress, smoothing=0.1)
    engine_name = "no engine (nothing left to run)"
    written = time.perf_counter()
    try:
        if pending:
            bar.set_description(f"batch (starting {'Ray' if ray else 'workers'})")
            engine = make_engine(ray, workers, WorkerContext, len(pending))
            engine_name = engine.description
            bar.set_description(f"batch ({engine_name})")
            verdicts: Counter = Counter()

            def on_result(key: str, completion: Completion, attempts: int) -> None:
                if completion.value is not None:
                    result = completion.value
                elif completion.crash is not None:
                    result = {"status": "error", "error_step": "worker",
                              "error": f"worker: {completion.crash}; gave up after {attempts} attempts"}
                else:
                    result = {"status": "error", "error_step": "worker", "error": f"worker: {completion.error}"}
                fill(key, result, attempts, False)
                verdicts["error" if result["status"] == "error" else result.get("verdict") or "done"] += 1
                bar.set_postfix(verdicts, refresh=False)
                bar.update(len(by_key[key]))
                nonlocal written
                if checkpoint is not None and time.perf_counter() - written >= checkpoint:
                    snapshot = [{**entry, "status": entry.get("status", "pending")} for entry in table]
                    write_results(BatchResult(snapshot, engine=engine_name, seconds=time.perf_counter() - start),
                                  output)
                    written = time.perf_counter()

            try:
                schedule(engine, pending, run_and_store, retries, on_result)
            finally:
                engine.close()
    finally:
        bar.close()
        for entry in table:
            entry.setdefault("status", "not run")
        result = BatchResult(table, engine=engine_name, seconds=time.perf_counter() - start)
        result.files = write_results(result, output)
    return result
