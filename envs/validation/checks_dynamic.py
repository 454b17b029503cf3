"""Dynamic checks on the reference: required torques, physical consistency, zero-moment point.

All three read the :class:`~robomotion.envs.validation.contact_wrench.ContactWrenches` solved for the
reference (inverse dynamics with feasible contact forces). Units: N, N*m, m.
"""

from __future__ import annotations

import numpy as np
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.contact_wrench import ContactWrenches
from robomotion.envs.validation.reference import Reference

from robomotion.findings import CheckResult, moving_mean, threshold_check, worst_column
from robomotion.robots.spec import RobotSpec

__all__ = ["check_physical_consistency", "check_torques", "check_zmp"]


def check_torques(
    reference: Reference, wrenches: ContactWrenches, spec: RobotSpec, config: ValidationConfig
) -> CheckResult:
    """Joint torques the reference needs (after contact forces) against the effort limits.

    Warns on any frame above ``torque_warn``; fails where the ``torque_window_s`` moving mean of the
    worst joint's |torque| / limit stays above ``torque_fail`` (brief peaks a tracker rides through
    average out)."""
    torque = np.abs(wrenches.joint_torque)
    ratio = torque / spec.effort_limits[None, :]
    per_frame, worst_joint = worst_column(ratio)
    sustained = moving_mean(ratio, reference.fps, config.torque_window_s).max(axis=1) if len(ratio) else per_frame
    names = spec.joint_names
    peak_per_joint = ratio.max(axis=0)
    top = np.argsort(peak_per_joint)[::-1][:5]

    def describe(t: int) -> str:
        j = worst_joint[t]
        return f"{names[j]} needs {torque[t, j]:.0f} N*m (limit {spec.effort_limits[j]:.0f} N*m)"

    metrics = {
        "peak_fraction_of_limit": float(per_frame.max()),
        "sustained_fraction_of_limit": float(sustained.max()),
        "worst_joint": names[int(peak_per_joint.argmax())],
        "frames_over_limit": int(np.count_nonzero(per_frame > 1.0)),
        "peak_fraction_by_joint": {names[j]: float(peak_per_joint[j]) for j in top},
    }
    return threshold_check(
        "torques", "Required joint torques within the effort limits", metrics, per_frame, reference.fps,
        config.torque_warn, config.torque_fail, 0.0, describe, "%", scale=100.0, fail_values=sustained
    )


def check_physical_consistency(
    reference: Reference, wrenches: ContactWrenches, support: ContactWrenches, config: ValidationConfig
) -> CheckResult:
    """Base wrench that no feasible contact force explains, as a fraction of body weight.

    Warns on the per-frame residual with contacts within ``contact_distance``. Fails where the
    ``residual_window_s`` moving mean of the residual stays above ``residual_fail`` even when every
    body within ``support_distance`` of the floor may push (``support``): support no contact can
    give, not a foot a few centimetres off the floor that a tracker simply puts down.
    """
    residual = wrenches.residual_fraction
    tolerant = support.residual_fraction
    sustained = moving_mean(tolerant, reference.fps, config.residual_window_s)
    force = np.linalg.norm(wrenches.residual[:, :3], axis=1)

    def describe(t: int) -> str:
        if sustained[t] > config.residual_fail:
            return (
                f"for {config.residual_window_s:g} s on average {sustained[t] * 100:.0f}% of body weight is missing "
                f"that no contact within {config.support_distance * 100:g} cm of the floor can give"
            )
        where = "with no body touching the floor" if not wrenches.supported[t] else "with the bodies touching the floor"
        return (
            f"contacts cannot explain the motion {where}: {residual[t] * 100:.0f}% of body weight "
            f"({force[t]:.0f} N of force) is missing"
        )

    metrics = {
        "mean_residual_fraction": float(residual.mean()),
        "p95_residual_fraction": float(np.percentile(residual, 95)),
        "max_residual_fraction": float(residual.max()),
        "mean_residual_force_n": float(force.mean()),
        "sustained_unsupported_fraction": float(sustained.max()),
    }
    return threshold_check(
        "physical_consistency", "Feasible contact forces explain the motion", metrics, residual, reference.fps,
        config.residual_warn, config.residual_fail, 0.0, describe, "% of body weight", scale=100.0,
        fail_values=sustained,
    )


def check_zmp(reference: Reference, wrenches: ContactWrenches, config: ValidationConfig) -> CheckResult:
    """Zero-moment point against the support polygon (a warning: the residual check decides)."""
    margin = wrenches.support_margin
    defined = ~np.isnan(margin)

    def describe(t: int) -> str:
        return f"the zero-moment point is {margin[t] * 100:.1f} cm outside the support polygon"

    metrics = {
        "frames_with_zmp": int(defined.sum()),
        "outside_fraction": float(np.mean(margin[defined] > config.zmp_margin_warn)) if defined.any() else 0.0,
        "max_outside_m": float(np.nanmax(margin)) if defined.any() else None,
    }
    return threshold_check(
        "zmp", "Zero-moment point inside the support polygon", metrics, margin, reference.fps, config.zmp_margin_warn,
        np.inf, 0.0, describe, " m"
    )
