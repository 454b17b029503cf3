"""Retarget many files in parallel processes: progress bar, per-clip failure reports, a summary.

Each input is read with :func:`robomotion.formats.load_motion`, retargeted with
:func:`~robomotion.retarget.api.retarget_with_report`, written with
:func:`robomotion.formats.save_motion` and its quality report stored as JSON next to it
(``<output>.quality.json``). A clip that fails is reported with its error and skipped; the others
go on. Nothing is silently dropped: every input appears in the summary as done or failed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from robomotion.errors import FormatError

__all__ = [
    "BatchItem",
    "BatchSummary",
    "human_motion_files",
    "output_path_for",
    "retarget_file",
    "retarget_files",
    "summary_json",
]

#: Output suffix of each robot format.
SUFFIXES = {"g1-csv": ".csv", "beyondmimic-npz": ".npz", "kimodo-npz": ".npz"}


@dataclass(frozen=True)
class BatchItem:
    """The outcome of one input file.

    Attributes:
        source: the input file.
        output: the written robot motion (``None`` when it failed).
        error: one-line error message when it failed.
        quality: the quality report as a dict (done clips).
        frames: number of frames retargeted.
        seconds: wall time of this clip (read, retarget, write).
    """

    source: Path
    output: Path | None = None
    error: str | None = None
    quality: dict = field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BatchSummary:
    """All outcomes of :func:`retarget_files`, in input order."""

    items: tuple[BatchItem, ...]

    @property
    def failed(self) -> list[BatchItem]:
        return [item for item in self.items if not item.ok]

    @property
    def done(self) -> list[BatchItem]:
        return [item for item in self.items if item.ok]

    def lines(self) -> list[str]:
        """A printable summary: one line per failure, then totals."""
        out = [f"FAILED {item.source}: {item.error}" for item in self.failed]
        frames = sum(item.frames for item in self.done)
        seconds = sum(item.seconds for item in self.done)
        out.append(
            f"{len(self.done)} retargeted ({frames} frames in {seconds:.1f} s of worker time, reading and "
            f"writing included), {len(self.failed)} failed"
        )
        return out


def human_motion_files(folder: Path) -> list[Path]:
    """Files under ``folder`` (recursively) with a suffix of a human motion format, sorted."""
    from robomotion.formats import FORMATS

    suffixes = {s for f in FORMATS.values() if f.motion in ("human", "both") for s in f.suffixes}
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def output_path_for(source: Path, input_root: Path, output_root: Path, format_name: str) -> Path:
    """``output_root / <source relative to input_root>`` with the output format's suffix."""
    if format_name not in SUFFIXES:
        raise FormatError(f"expected one of {sorted(SUFFIXES)}, got '{format_name}'", field="format")
    return (output_root / source.relative_to(input_root)).with_suffix(SUFFIXES[format_name])


def retarget_file(source: Path, output: Path, robot: str, format_name: str, options: dict) -> BatchItem:
    """Retarget one file; errors become a failed :class:`BatchItem` (never raised).

    ``options`` are :class:`RetargetConfig` options, plus ``align_floor=True`` to move the result so
    its feet meet z = 0 (:func:`robomotion.floor.align_floor`)."""
    import time

    from robomotion.retarget.api import retarget_with_report
    from threadpoolctl import threadpool_limits

    from robomotion.floor import align_floor
    from robomotion.formats import load_motion, save_motion
    from robomotion.motion import HumanMotion

    start = time.perf_counter()
    try:
        motion = load_motion(source)
        if not isinstance(motion, HumanMotion):
            raise FormatError(f"holds a robot motion ({motion.robot}), not a human motion to retarget", source)
        options = dict(options)
        align = options.pop("align_floor", False)
        with threadpool_limits(1):
            result = retarget_with_report(motion, robot=robot, **options)
        robot_motion = align_floor(result.motion) if align else result.motion
        written = save_motion(robot_motion, output, format=format_name)
        result.quality.save_json(written.with_name(written.name + ".quality.json"))
    except Exception as exc:  # noqa: BLE001 - a failed clip is reported, never fatal for the batch
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return BatchItem(source, error=f"{type(exc).__name__}: {message}", seconds=time.perf_counter() - start)
    return BatchItem(
        source,
        output=written,
        quality=result.quality.to_dict(),
        frames=motion.num_frames,
        seconds=time.perf_counter() - start,
    )


def retarget_files(
    jobs: Sequence[tuple[Path, Path]],
    robot: str = "g1",
    format_name: str = "g1-csv",
    processes: int = 1,
    options: dict | None = None,
    progress: bool = True,
) -> BatchSummary:
    """Retarget ``(source, output)`` pairs, in ``processes`` worker processes.

    Args:
        jobs: input files and where to write each result.
        robot: robot name.
        format_name: robot output format (``g1-csv``, ``beyondmimic-npz`` or ``kimodo-npz``).
        processes: worker processes (1: run here, in this process).
        options: :class:`~robomotion.retarget.config.RetargetConfig` fields to override.
        progress: show a tqdm progress bar.
    """
    from tqdm import tqdm

    options = dict(options or {})
    if format_name not in SUFFIXES:
        raise FormatError(f"expected one of {sorted(SUFFIXES)}, got '{format_name}'", field="format")
    results: dict[int, BatchItem] = {}
    bar = tqdm(total=len(jobs), unit="clip", desc="retarget", disable=not progress)
    if processes <= 1:
        for i, (source, output) in enumerate(jobs):
            results[i] = retarget_file(Path(source), Path(output), robot, format_name, options)
            bar.update(1)
    else:
        context = multiprocessing.get_context("spawn")
        workers = min(processes, len(jobs), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=context) as pool:
            futures = {
                pool.submit(retarget_file, Path(source), Path(output), robot, format_name, options): i
                for i, (source, output) in enumerate(jobs)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    bar.close()
    return BatchSummary(tuple(results[i] for i in range(len(jobs))))


def summary_json(summary: BatchSummary) -> str:
    """The summary as JSON text (for ``--summary`` files)."""
    return json.dumps(
        [
            {
                "source": str(item.source),
                "output": None if item.output is None else str(item.output),
                "error": item.error,
                "frames": item.frames,
                "seconds": round(item.seconds, 3),
                "quality": item.quality,
            }
            for item in summary.items
        ],
        indent=2,
    )
