"""``validate``: can a tracking policy learn this reference? One verdict, with reasons.

FAIL means physically impossible for the robot (support no contact can give, speeds or torques far
beyond the motors, teleports, deep or lasting floor penetration, joints far past their range); WARN
lists defects a tracker deviates from but tolerates; PASS is clean. The definition and the
confusion table it was calibrated on are in ``docs/validation.md``.

Stages, all on the robot's own MuJoCo model, each computed only if a check needs it:

1. **Floor**: the clip's contact level (:mod:`robomotion.floor`); offsets up to
   ``floor_offset_max`` are removed before judging, so contact checks are relative to the clip's floor.
2. **Kinematics**: the reference and a per-frame MuJoCo sweep (contacts, self-collisions, Jacobians,
   inverse dynamics).
3. **Dynamics**: feasible contact forces (contacts within ``contact_distance``, and a tolerant set
   within ``support_distance``), required torques, the unexplained wrench, the zero-moment point.
4. **Rollouts** (only with ``ValidationConfig.rollouts``): open-loop PD tracking with and without a
   pelvis spring; information only, never part of the verdict.

The checks are data (:data:`~robomotion.envs.validation.checks.DEFAULT_CHECKS`); the verdict is the
worst finding of the checks that decide. Thresholds live in
:class:`~robomotion.envs.validation.config.ValidationConfig`.

Example::

    from robomotion.envs import validate
    report = validate(motion, report_dir="out/validation")   # JSON + HTML + plots + video
    print(report.verdict, report.decisive, report.summary())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from robomotion.envs.validation.checks import DEFAULT_CHECKS, Check, CheckInputs, run_check
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.contact_wrench import ContactWrenches, solve_contact_wrenches
from robomotion.envs.validation.reference import Reference, prepare_reference
from robomotion.envs.validation.rollout import PelvisAssist, Rollout, control_reference, simulate_tracking
from robomotion.envs.validation.sweep import ReferenceSweep, sweep_reference, within
from scipy.interpolate import interp1d

from robomotion.findings import CheckResult, Finding, Severity, worst_severity
from robomotion.floor import FloorEstimate, align_floor, estimate_floor
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot

__all__ = ["DEFAULT_CHECKS", "Check", "ValidationConfig", "ValidationReport", "ValidationTraces", "validate"]

#: The unassisted rollout stops this long after a fall (enough to see it in the video), s.
_AFTER_FALL_S = 1.0


@dataclass(frozen=True, eq=False)
class ValidationTraces:
    """The intermediate results behind a report (for plots and further analysis; not in the JSON).

    ``wrenches`` is ``None`` when no check needed dynamics; the rollouts are ``None`` unless
    ``ValidationConfig.rollouts`` was on."""

    reference: Reference
    sweep: ReferenceSweep
    wrenches: ContactWrenches | None
    unassisted: Rollout | None
    assisted: Rollout | None
    floor: FloorEstimate


@dataclass(eq=False)
class ValidationReport:
    """The outcome of :func:`validate`.

    Attributes:
        verdict: ``"pass"``, ``"warn"`` or ``"fail"``.
        motion: what was validated (robot, fps, frames, duration, metadata).
        checks: every check's numbers and findings, in the order they ran.
        config: the thresholds used.
        timings: wall seconds per stage (and ``total``).
        traces: intermediate arrays (reference, MuJoCo sweep, contact forces, rollouts).
        files: report files written (``json``, ``html``, plots, ``video``), if a folder was given.
        notes: remarks on the run itself (e.g. a video that could not be rendered).
    """

    verdict: Severity
    motion: dict
    checks: list[CheckResult]
    config: ValidationConfig
    timings: dict[str, float]
    traces: ValidationTraces
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """All findings, failures first."""
        found = [f for check in self.checks for f in check.findings]
        rank = {"fail": 0, "warn": 1, "info": 2}
        return sorted(found, key=lambda f: rank.get(f.severity, 3))

    @property
    def decisive(self) -> list[str]:
        """Names of the checks whose findings set the verdict (empty for a pass)."""
        return [c.name for c in self.checks if c.decides and c.status == self.verdict and self.verdict != "pass"]

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "fail"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warn"]

    def check(self, name: str) -> CheckResult:
        """The result of check ``name`` (e.g. ``"torques"``)."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(f"no check '{name}'; checks are {[c.name for c in self.checks]}")

    def to_dict(self) -> dict:
        """JSON-serialisable report (no arrays)."""
        fps = float(self.motion["fps"])
        return {
            "verdict": self.verdict,
            "decisive": self.decisive,
            "motion": self.motion,
            "findings": [f.to_dict(fps) for f in self.findings],
            "checks": [c.to_dict(fps) for c in self.checks],
            "config": self.config.to_dict(),
            "timings_s": self.timings,
            "files": {key: str(path) for key, path in self.files.items()},
            "notes": self.notes,
        }

    def summary(self) -> str:
        """A few lines for a terminal: verdict, then one line per finding."""
        lines = [f"verdict: {self.verdict.upper()} ({self.motion['frames']} frames, {self.motion['duration_s']:.2f} s)"]
        lines += [f"  {f.severity.upper():4s} {f.check}: {f.message}" for f in self.findings]
        if not self.findings:
            lines.append("  all checks passed")
        return "\n".join(lines)


class _Stopwatch:
    """Wall time per named stage, with an optional progress bar over the stages."""

    def __init__(self, stages: int, progress: bool | None):
        from tqdm.auto import tqdm

        self.timings: dict[str, float] = {}
        disable = None if progress is None else not progress
        self._bar = tqdm(total=stages, desc="validate", unit="stage", disable=disable, leave=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._bar.set_postfix_str(name)
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        self._bar.update(1)

    def run(self, name: str, check: Callable[[], CheckResult]) -> CheckResult:
        with self.stage(name):
            start = time.perf_counter()
            result = check()
            result.seconds = time.perf_counter() - start
        return result

    def close(self) -> None:
        self._bar.close()


def _motion_summary(motion: RobotMotion, floor_shift: float) -> dict:
    return {
        "robot": motion.robot,
        "fps": motion.fps,
        "frames": motion.num_frames,
        "duration_s": motion.duration,
        "floor_shift_m": floor_shift,
        "metadata": motion.metadata,
    }


def _judged_motion(motion: RobotMotion, config: ValidationConfig) -> tuple[RobotMotion, FloorEstimate, float]:
    """The motion as judged: moved down by its floor offset when that is at most ``floor_offset_max``."""
    floor = estimate_floor(motion)
    if 0.0 < abs(floor.offset) <= config.floor_offset_max:
        return align_floor(motion, floor.offset), floor, floor.offset
    return motion, floor, 0.0


def validate(
    motion: RobotMotion,
    config: ValidationConfig | None = None,
    report_dir: str | Path | None = None,
    *,
    checks: Sequence[Check] | None = None,
    video: bool = True,
    video_size: tuple[int, int] = (320, 240),
    progress: bool | None = None,
) -> ValidationReport:
    """Validate ``motion`` on its robot's MuJoCo model and return a :class:`ValidationReport`.

    Args:
        motion: the reference (its ``robot`` picks the model; joints are matched by name).
        config: thresholds and settings (default :class:`ValidationConfig`).
        report_dir: if given, write ``report.json``, ``report.html``, plots and a video there.
        checks: the checks to run (default :data:`~robomotion.envs.validation.checks.DEFAULT_CHECKS`);
            checks of the ``"rollouts"`` stage run only when ``config.rollouts`` is on.
        video: render the video (only with ``report_dir``).
        video_size: (width, height) of each video panel, pixels.
        progress: progress bar (``None``: only on a terminal).

    Raises:
        FormatError: the motion does not fit the robot (unknown joints, too short).
        UnknownNameError: unknown robot.
    """
    config = config or ValidationConfig()
    checks = tuple(DEFAULT_CHECKS if checks is None else checks)
    if not config.rollouts:
        checks = tuple(c for c in checks if c.stage != "rollouts")
    needed = {c.stage for c in checks}
    dynamics = bool(needed & {"dynamics", "rollouts"})
    rollouts = "rollouts" in needed
    spec = get_robot(motion.robot)
    watch = _Stopwatch(stages=2 + len(checks) + dynamics + 3 * rollouts + (report_dir is not None), progress=progress)
    start = time.perf_counter()
    try:
        with watch.stage("reference"):
            prepare_reference(motion, spec, config.smoothing_window_s)  # bad input fails before anything else
            judged, floor, shift = _judged_motion(motion, config)
            reference = prepare_reference(judged, spec, config.smoothing_window_s)
        with watch.stage("sweep"):
            wide = sweep_reference(reference, spec, max(config.contact_distance, config.support_distance))
            sweep = within(wide, config.contact_distance)
        inputs = CheckInputs(reference, spec, config, sweep, floor, shift)
        results = [watch.run(c.name, lambda c=c: run_check(c, inputs)) for c in checks if c.stage == "kinematics"]
        if dynamics:
            with watch.stage("contact_wrench"):
                wrenches, support = (
                    solve_contact_wrenches(reference, part, spec.total_mass, float(spec.home_root_pos[2]),
                                           config.friction, zmp=part is sweep)
                    for part in (sweep, within(wide, config.support_distance))
                )
            inputs = replace(inputs, wrenches=wrenches, support_wrenches=support)
            results += [watch.run(c.name, lambda c=c: run_check(c, inputs)) for c in checks if c.stage == "dynamics"]
        if rollouts:
            inputs = replace(inputs, **_rollouts(reference, spec, config, inputs.wrenches, watch))
            results += [watch.run(c.name, lambda c=c: run_check(c, inputs)) for c in checks if c.stage == "rollouts"]
        order = {c.name: k for k, c in enumerate(checks)}
        results.sort(key=lambda r: order.get(r.name, len(order)))
        report = ValidationReport(
            verdict=worst_severity(r.status for r in results if r.decides),
            motion=_motion_summary(reference.motion, shift),
            checks=results,
            config=config,
            timings=watch.timings,
            traces=ValidationTraces(reference, sweep, inputs.wrenches, inputs.unassisted, inputs.assisted, floor),
        )
        report.timings["total"] = time.perf_counter() - start
        if report_dir is not None:
            from robomotion.envs.validation.report import write_report

            with watch.stage("report"):
                report.files = write_report(report, Path(report_dir), video, video_size, progress)
            report.timings["total"] = time.perf_counter() - start
    finally:
        watch.close()
    return report


def _rollouts(
    reference: Reference, spec, config: ValidationConfig, wrenches: ContactWrenches, watch: _Stopwatch
) -> dict[str, Rollout]:
    """The open-loop PD rollouts, without and with the pelvis spring (information only)."""
    with watch.stage("control_reference"):
        target = control_reference(reference, spec, config.control_hz, config.smoothing_window_s)
        feedforward = None
        if config.torque_feedforward:
            torque = wrenches.joint_torque
            feedforward = interp1d(reference.times, torque, axis=0, bounds_error=False,
                                   fill_value=(torque[0], torque[-1]))(target.times)
    with watch.stage("rollout_unassisted"):
        unassisted = simulate_tracking(
            spec, target, config.fall_height, config.fall_tilt, None, feedforward, after_fall_s=_AFTER_FALL_S
        )
    assist = PelvisAssist(
        config.assist_stiffness, config.assist_damping, config.assist_rot_stiffness, config.assist_rot_damping
    )
    with watch.stage("rollout_assisted"):
        assisted = simulate_tracking(spec, target, config.fall_height, config.fall_tilt, assist, feedforward)
    return {"unassisted": unassisted, "assisted": assisted}
