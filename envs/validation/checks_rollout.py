"""Checks on the closed-loop rollouts: how far open-loop tracking gets, and how much help it needs.

Rollout series (control rate) are interpolated onto the reference's frame times so that every
finding speaks in reference frames. Units: s, m, N; assistance as a fraction of body weight.
"""

from __future__ import annotations

import numpy as np
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.reference import Reference
from robomotion.envs.validation.rollout import Rollout
from scipy.ndimage import uniform_filter1d

from robomotion.findings import CheckResult, Finding, FrameRange, exceedances, frame_runs

__all__ = ["check_unassisted", "check_assisted", "sustained_assistance"]


def _on_reference_frames(reference: Reference, rollout: Rollout, series: np.ndarray) -> np.ndarray:
    return np.interp(reference.times, rollout.times, series)


def _frame_at(reference: Reference, seconds: float) -> int:
    return int(min(reference.num_frames - 1, round(seconds * reference.fps)))


def _unstable_finding(check: str, rollout: Rollout) -> list[Finding]:
    if not rollout.unstable:
        return []
    return [Finding(check, "warn", "MuJoCo reported diverging accelerations; the simulation was reset", 1.0, 0.0)]


def check_unassisted(reference: Reference, rollout: Rollout, config: ValidationConfig) -> CheckResult:
    """Open-loop PD tracking with no help: time until the pelvis leaves the height/tilt band."""
    alive = rollout.until_fall()
    end = alive.stop - 1 if alive.stop > 0 else 0
    findings = _unstable_finding("unassisted_rollout", rollout)
    fall = rollout.fall_time
    if fall is not None and fall < config.early_fall_warn_s:
        frame = _frame_at(reference, fall)
        findings.append(
            Finding(
                "unassisted_rollout",
                "warn",
                f"the robot falls {fall:.2f} s after the start without help (before {config.early_fall_warn_s:.2f} s): "
                "the first frames are far from a balanced state",
                fall,
                config.early_fall_warn_s,
                (FrameRange(0, frame),),
            )
        )
    duration = float(reference.times[-1])
    return CheckResult(
        "unassisted_rollout",
        "Open-loop PD tracking in MuJoCo, no help",
        metrics={
            "fall_time_s": fall,
            "survived_fraction": 1.0 if fall is None else fall / max(duration, 1e-9),
            "mean_body_error_m": float(rollout.body_error[alive].mean()) if alive.stop > 0 else 0.0,
            "root_drift_m": float(rollout.root_error_xy[end]),
        },
        findings=findings,
    )


def sustained_assistance(rollout: Rollout, body_weight: float, window_s: float) -> np.ndarray:
    """(S,) size of the pelvis assistance force averaged (as a vector) over ``window_s``, per body weight."""
    window = max(1, int(round(window_s / max(rollout.control_dt, 1e-9))))
    averaged = uniform_filter1d(rollout.assist_wrench[:, :3], window, axis=0, mode="nearest")
    return np.linalg.norm(averaged, axis=1) / body_weight


def _mean_finding(
    reference: Reference, value: float, warn: float, fail: float, series: np.ndarray, message: str
) -> list[Finding]:
    """A finding when a whole-clip mean exceeds ``warn``/``fail``; ranges = frames where ``series`` > ``warn``."""
    if value <= warn:
        return []
    severity, level = ("fail", fail) if value > fail else ("warn", warn)
    ranges = tuple(frame_runs(series > warn)) or (FrameRange(0, reference.num_frames - 1),)
    return [Finding("assisted_rollout", severity, message, value, level, ranges)]


def check_assisted(
    reference: Reference, rollout: Rollout, body_weight: float, config: ValidationConfig
) -> CheckResult:
    """Tracking with a pelvis spring-damper: the sustained assistance needed and the remaining error."""
    sustained = sustained_assistance(rollout, body_weight, config.assist_window_s)
    on_frames = _on_reference_frames(reference, rollout, sustained)
    error = _on_reference_frames(reference, rollout, rollout.body_error)
    torque = np.linalg.norm(rollout.assist_wrench[:, 3:], axis=1)
    instant = np.linalg.norm(rollout.assist_wrench[:, :3], axis=1) / body_weight
    mean_force = float(sustained.mean())
    mean_error = float(rollout.body_error.mean())

    findings = _unstable_finding("assisted_rollout", rollout)
    findings += _mean_finding(
        reference, mean_force, config.assist_mean_warn, config.assist_mean_fail, on_frames,
        f"the robot needs on average {mean_force * 100:.0f}% of its body weight of sustained help at the pelvis",
    )
    findings += _mean_finding(
        reference, mean_error, config.tracking_warn, config.tracking_fail, error,
        f"even with help, the tracked bodies are {mean_error * 100:.1f} cm off the reference on average",
    )
    findings += exceedances(
        "assisted_rollout", on_frames, reference.fps, config.assist_peak_warn, config.assist_peak_fail, 0.0,
        lambda t: f"the pelvis needs {on_frames[t] * 100:.0f}% of body weight of help", "% of body weight", scale=100.0,
    )
    return CheckResult(
        "assisted_rollout",
        "PD tracking with a stabilising pelvis spring-damper",
        metrics={
            "mean_assist_fraction": mean_force,
            "peak_assist_fraction": float(sustained.max()),
            "mean_instant_assist_fraction": float(instant.mean()),
            "mean_assist_force_n": mean_force * body_weight,
            "mean_assist_torque_nm": float(torque.mean()),
            "peak_assist_torque_nm": float(torque.max()),
            "mean_body_error_m": mean_error,
            "max_body_error_m": float(rollout.body_error.max()),
            "root_drift_m": float(rollout.root_error_xy[-1]),
        },
        findings=sorted(findings, key=lambda f: f.severity != "fail"),
    )
