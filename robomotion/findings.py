"""What a validation check returns: numbers, and findings (warn/fail, with reasons and frame ranges).

Frames are indices of the *reference* motion (its own fps); ranges are inclusive ``[start, end]``
and also given in seconds. :func:`exceedances` is the one rule every threshold check uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "Severity",
    "FrameRange",
    "Finding",
    "CheckResult",
    "frame_runs",
    "exceedances",
    "threshold_check",
    "worst_column",
    "worst_severity",
    "capped",
    "moving_mean",
]

#: ``info``: a finding of a check that never decides the verdict (e.g. the open-loop rollouts).
Severity = Literal["pass", "info", "warn", "fail"]
_RANK = {"pass": 0, "info": 1, "warn": 2, "fail": 3}


def worst_severity(severities) -> Severity:
    """The most severe of ``severities`` (``"pass"`` when empty)."""
    return max(severities, key=_RANK.__getitem__, default="pass")


def capped(severity: Severity, cap: Severity) -> Severity:
    """``severity``, lowered to ``cap`` when it is more severe."""
    return cap if _RANK[severity] > _RANK[cap] else severity


@dataclass(frozen=True)
class FrameRange:
    """Inclusive frame range ``[start, end]`` of the reference motion."""

    start: int
    end: int

    def to_dict(self, fps: float) -> dict[str, float]:
        return {"start": self.start, "end": self.end, "start_s": self.start / fps, "end_s": self.end / fps}

    def describe(self, fps: float) -> str:
        if self.start == self.end:
            return f"frame {self.start} ({self.start / fps:.2f} s)"
        return f"frames {self.start}-{self.end} ({self.start / fps:.2f}-{self.end / fps:.2f} s)"


@dataclass(frozen=True)
class Finding:
    """One reason for a ``warn`` or ``fail`` verdict.

    Attributes:
        check: name of the check that raised it (e.g. ``"joint_limits"``).
        severity: ``"warn"`` or ``"fail"`` (``"info"`` from a check that does not decide the verdict).
        message: what is wrong, in words, with the worst value and where it happens.
        value: the worst value of the checked quantity.
        threshold: the level it exceeded (same unit as ``value``).
        ranges: where it happens, as reference frame ranges.
    """

    check: str
    severity: Severity
    message: str
    value: float
    threshold: float
    ranges: tuple[FrameRange, ...] = ()

    def to_dict(self, fps: float) -> dict:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "value": float(self.value),
            "threshold": float(self.threshold),
            "ranges": [r.to_dict(fps) for r in self.ranges],
        }


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: short identifier (``"torques"``).
        title: one line for people (``"Joint torques vs effort limits"``).
        metrics: key numbers (JSON-serialisable scalars, strings or short lists).
        findings: warnings and failures, most severe first.
        seconds: wall time spent in this check.
        series: the per-frame quantity the check judged (for plots and calibration; not in the JSON).
        decides: whether the check's findings count for the verdict.
    """

    name: str
    title: str
    metrics: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    series: np.ndarray | None = None
    decides: bool = True

    @property
    def status(self) -> Severity:
        return worst_severity(f.severity for f in self.findings)

    def to_dict(self, fps: float) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "decides": self.decides,
            "metrics": self.metrics,
            "findings": [f.to_dict(fps) for f in self.findings],
            "seconds": self.seconds,
        }


def frame_runs(mask: np.ndarray, min_length: int = 1) -> list[FrameRange]:
    """Maximal runs of ``True`` in a 1-D boolean array that are at least ``min_length`` long."""
    mask = np.asarray(mask, dtype=bool)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [FrameRange(int(s), int(e)) for s, e in zip(starts, ends) if e - s + 1 >= min_length]


def _describe_ranges(ranges: list[FrameRange], fps: float, shown: int = 3) -> str:
    text = ", ".join(r.describe(fps) for r in ranges[:shown])
    return text + (f" and {len(ranges) - shown} more" if len(ranges) > shown else "")


def exceedances(
    check: str,
    values: np.ndarray,
    fps: float,
    warn: float,
    fail: float,
    fail_min_s: float,
    describe: Callable[[int], str],
    unit: str = "",
    scale: float = 1.0,
    fail_values: np.ndarray | None = None,
) -> list[Finding]:
    """Findings for the frames where ``values`` (T,) exceed ``warn`` or ``fail``.

    A ``fail`` needs at least one run of ``fail_min_s`` seconds above ``fail`` (at least one frame)
    in ``fail_values`` (default: ``values``; e.g. a moving mean of them, see :func:`moving_mean`);
    otherwise frames above ``warn`` (or a too-short excess over ``fail``) give a ``warn``. At most
    one finding is returned.

    Args:
        check: the check's name.
        values: per-frame quantity; NaN frames are ignored.
        fps: frame rate of ``values``.
        warn, fail: levels in the unit of ``values``.
        fail_min_s: minimum duration of a failing run, seconds.
        describe: text for the worst frame's culprit, given its index (e.g. the joint's name).
        unit: unit shown after numbers in the message.
        scale: factor applied to numbers in the message only (e.g. 100 for percentages).
    """
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-np.inf)
    judged = values if fail_values is None else np.nan_to_num(np.asarray(fail_values, dtype=np.float64), nan=-np.inf)
    if values.size == 0 or not (np.any(values > warn) or np.any(judged > fail)):
        return []
    fail_runs = frame_runs(judged > fail, max(1, int(round(fail_min_s * fps))))
    worst = int(np.argmax(judged if fail_runs and fail_values is not None else values))
    peak = float(judged[worst] if fail_runs and fail_values is not None else values[worst])
    if fail_runs:
        severity, level, ranges = "fail", fail, fail_runs
    else:
        severity, level, ranges = "warn", warn, frame_runs(values > warn)
    frames = sum(r.end - r.start + 1 for r in ranges)
    message = (
        f"{describe(worst)} at {FrameRange(worst, worst).describe(fps)}; over {level * scale:.3g}{unit} "
        f"(worst {peak * scale:.3g}{unit}) in {frames} frame{'s' if frames != 1 else ''}: "
        + _describe_ranges(ranges, fps)
    )
    return [Finding(check, severity, message, peak, level, tuple(ranges))]


def moving_mean(values: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """(T, ...) mean of ``values`` over a window of ``seconds`` along time (axis 0), in every frame:
    the window centred on the frame, moved inward at the clip's ends so it always lies inside the
    clip (the whole clip when it is shorter). The level a quantity is *sustained* at: a brief spike
    averages out, a steady excess stays, and a spike at an end is not counted twice."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    frames = len(values)
    if frames == 0:
        return values
    window = min(frames, max(1, int(round(seconds * fps))))
    sums = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    start = np.clip(np.arange(frames) - window // 2, 0, frames - window)
    return (sums[start + window] - sums[start]) / window


def threshold_check(name: str, title: str, metrics: dict, *args, **kwargs) -> CheckResult:
    """A :class:`CheckResult` with ``metrics`` whose findings are ``exceedances(name, *args, **kwargs)``
    (``args[0]``, the per-frame values, is kept as its ``series``)."""
    return CheckResult(name, title, metrics=metrics, findings=exceedances(name, *args, **kwargs),
                       series=np.asarray(args[0], dtype=np.float64))


def worst_column(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``values`` (T, N): the largest value and its column (e.g. the worst joint per frame)."""
    return values.max(axis=1), values.argmax(axis=1)
