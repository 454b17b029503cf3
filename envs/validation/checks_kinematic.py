"""Kinematic checks on the reference itself (no forces): limits, speeds, collisions, floor, support.

Each check returns a :class:`~robomotion.findings.CheckResult` with its key numbers and at
most one finding per quantity. Inputs are the prepared :class:`~robomotion.envs.validation.reference.Reference`
and its :class:`~robomotion.envs.validation.sweep.ReferenceSweep`. Units: m, rad, s.
"""

from __future__ import annotations

import numpy as np
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.contact_wrench import ContactWrenches
from robomotion.envs.validation.reference import Reference, span_speeds
from robomotion.envs.validation.sweep import ReferenceSweep, point_jacobians

from robomotion.findings import (
    CheckResult,
    Finding,
    FrameRange,
    exceedances,
    frame_runs,
    moving_mean,
    threshold_check,
    worst_column,
)
from robomotion.floor import FloorEstimate
from robomotion.robots.spec import RobotSpec
from robomotion.rotations import quat_angle

__all__ = [
    "check_floor_offset",
    "check_foot_sliding",
    "check_ground_penetration",
    "check_joint_limits",
    "check_joint_speeds",
    "check_root_teleport",
    "check_self_collision",
    "check_support",
    "loaded_contacts",
]


def _per_frame_max(values: np.ndarray, frame: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Max of ``values`` (K,) per frame (0 where a frame has none) and the index of that maximum (-1 if none)."""
    best = np.zeros(num_frames)
    where = np.full(num_frames, -1)
    if values.size:
        order = np.lexsort((values, frame))  # by frame, then value: the last of each frame is its max
        last = np.r_[frame[order][1:] != frame[order][:-1], True]
        chosen = order[last]
        positive = values[chosen] > 0
        best[frame[chosen][positive]] = values[chosen][positive]
        where[frame[chosen][positive]] = chosen[positive]
    return best, where


def check_floor_offset(
    reference: Reference, floor: FloorEstimate, shift: float, config: ValidationConfig
) -> CheckResult:
    """The clip's contact level (see :mod:`robomotion.floor`): a warning when it is off z = 0.

    Offsets up to ``floor_offset_max`` are corrected before the contact checks run (they judge the
    clip relative to its own floor); larger ones are judged as given.
    """
    offset = floor.offset
    findings = []
    if abs(offset) > config.floor_offset_warn:
        where = "above" if offset > 0 else "below"
        judged = (
            f"contact checks judged relative to it (the clip was moved {abs(shift) * 100:.1f} cm "
            f"{'down' if shift > 0 else 'up'})" if shift else
            f"more than {config.floor_offset_max * 100:g} cm: contact checks judged against z = 0"
        )
        findings.append(Finding(
            "floor_offset", "warn",
            f"the clip stands {abs(offset) * 100:.1f} cm {where} the floor; {judged}; "
            "fix it with `robomotion convert IN OUT --align-floor`",
            abs(offset), config.floor_offset_warn, (FrameRange(0, reference.num_frames - 1),),
        ))
    return CheckResult(
        "floor_offset",
        "The clip stands on the floor (z = 0)",
        metrics={"floor_offset_m": offset, "shift_applied_m": shift, "quantile": floor.quantile},
        findings=findings,
        series=floor.lowest - shift,
    )


def check_joint_limits(reference: Reference, spec: RobotSpec, config: ValidationConfig) -> CheckResult:
    """Joint angles outside the joint ranges (rad); fails on a single frame beyond ``joint_limit_fail``."""
    joints = reference.motion.joint_pos
    lower, upper = spec.joint_limits[:, 0], spec.joint_limits[:, 1]
    beyond = np.maximum(lower - joints, joints - upper).clip(min=0.0)
    per_frame, worst_joint = worst_column(beyond)
    names = spec.joint_names

    def describe(t: int) -> str:
        j = worst_joint[t]
        return f"{names[j]} at {joints[t, j]:.3f} rad, outside its range [{lower[j]:.3f}, {upper[j]:.3f}]"

    peak_joint = names[int(beyond.max(axis=0).argmax())] if per_frame.max() > 0 else None
    metrics = {
        "max_violation_rad": float(per_frame.max()),
        "worst_joint": peak_joint,
        "frames_beyond": int(np.count_nonzero(per_frame > 0)),
        "joints_beyond": [names[j] for j in np.flatnonzero(beyond.max(axis=0) > 0)],
    }
    return threshold_check(
        "joint_limits", "Joint angles within the joint ranges", metrics, per_frame, reference.fps,
        config.joint_limit_warn, config.joint_limit_fail, config.joint_limit_fail_min_s, describe, " rad"
    )


def check_joint_speeds(reference: Reference, spec: RobotSpec, config: ValidationConfig) -> CheckResult:
    """Joint speeds (central differences over ``joint_speed_span_s``, at least a frame either side)
    against the motors' velocity limits (fraction of the limit); fails on the ``joint_speed_window_s``
    moving mean of the worst joint's fraction (a fast oscillation's speed crosses zero twice a period,
    while another joint is at its fastest)."""
    speeds = span_speeds(reference.motion.joint_pos, reference.fps, config.joint_speed_span_s)
    ratio = speeds / spec.velocity_limits[None, :]
    per_frame, worst_joint = worst_column(ratio)
    sustained = moving_mean(per_frame, reference.fps, config.joint_speed_window_s)
    names = spec.joint_names

    def describe(t: int) -> str:
        j = worst_joint[t]
        return f"{names[j]} turns at {speeds[t, j]:.1f} rad/s (limit {spec.velocity_limits[j]:.0f} rad/s)"

    peak = int(per_frame.argmax())
    metrics = {
        "peak_fraction_of_limit": float(per_frame.max()),
        "sustained_fraction_of_limit": float(sustained.max()),
        "worst_joint": names[worst_joint[peak]],
        "peak_speed_rad_s": float(speeds[peak, worst_joint[peak]]),
    }
    return threshold_check(
        "joint_speeds", "Joint speeds within the motors' velocity limits", metrics, per_frame, reference.fps,
        config.joint_speed_warn, config.joint_speed_fail, 0.0, describe, "%", scale=100.0, fail_values=sustained
    )


def check_self_collision(reference: Reference, sweep: ReferenceSweep, config: ValidationConfig) -> CheckResult:
    """Penetration between robot geoms (MuJoCo contacts; adjacent bodies and excluded pairs ignored)."""
    contacts = sweep.self_contacts
    depth, where = _per_frame_max(contacts.depth, contacts.frame, reference.num_frames)
    model = sweep.model

    def pair(k: int) -> str:
        bodies = (model.geom_bodyid[contacts.geom1[k]], model.geom_bodyid[contacts.geom2[k]])
        return " and ".join(model.body(int(b)).name for b in bodies)

    def describe(t: int) -> str:
        return f"{pair(where[t])} overlap by {depth[t] * 100:.1f} cm"

    worst = int(depth.argmax())
    metrics = {
        "max_depth_m": float(depth.max()),
        "worst_pair": pair(where[worst]) if where[worst] >= 0 else None,
        "frames_in_collision": int(np.count_nonzero(depth > 0)),
    }
    return threshold_check(
        "self_collision", "No robot body passes through another", metrics, depth, reference.fps,
        config.self_collision_warn, config.self_collision_fail, config.self_collision_fail_min_s, describe, " m"
    )


def check_ground_penetration(reference: Reference, sweep: ReferenceSweep, config: ValidationConfig) -> CheckResult:
    """Depth of robot geoms below the floor; fails when deeper than ``ground_penetration_fail`` for
    ``ground_penetration_fail_min_s``."""
    floor = sweep.floor
    depth, where = _per_frame_max(-floor.dist, floor.frame, reference.num_frames)
    model = sweep.model

    def describe(t: int) -> str:
        return f"{model.body(int(floor.body[where[t]])).name} is {depth[t] * 100:.1f} cm below the floor"

    metrics = {
        "max_depth_m": float(depth.max()),
        "frames_below_1cm": int(np.count_nonzero(depth > 0.01)),
    }
    return threshold_check(
        "ground_penetration", "No body below the floor", metrics, depth, reference.fps, config.ground_penetration_warn,
        config.ground_penetration_fail, config.ground_penetration_fail_min_s, describe, " m"
    )


def contact_slip_speeds(reference: Reference, sweep: ReferenceSweep) -> np.ndarray:
    """(K,) horizontal speed (m/s) of the robot's material point at each floor contact of the sweep."""
    floor = sweep.floor
    if len(floor) == 0:
        return np.zeros(0)
    velocity = np.einsum("kij,kj->ki", point_jacobians(sweep, np.arange(len(floor))), reference.qvel[floor.frame])
    normal = floor.basis[:, 0]
    tangential = velocity - np.sum(velocity * normal, axis=1, keepdims=True) * normal
    return np.linalg.norm(tangential, axis=1)


def loaded_contacts(sweep: ReferenceSweep, wrenches: ContactWrenches, fraction: float) -> np.ndarray:
    """(K,) floor contacts on a body that pushes on the floor with at least ``fraction`` of body
    weight in that frame (normal force summed over the body's contacts)."""
    floor = sweep.floor
    if len(floor) == 0:
        return np.zeros(0, dtype=bool)
    normal = np.sum(wrenches.contact_force * floor.basis[:, 0], axis=1)
    key = floor.frame * sweep.model.nbody + floor.body
    unique, group = np.unique(key, return_inverse=True)
    load = np.bincount(group, weights=normal, minlength=len(unique))
    return load[group] >= fraction * wrenches.body_weight


def check_foot_sliding(
    reference: Reference, sweep: ReferenceSweep, wrenches: ContactWrenches, config: ValidationConfig
) -> CheckResult:
    """Sliding of body points on the floor: points within ``slide_distance`` of it, and every contact
    point of a body that carries load (a planted or rolling foot does not slide; a loaded foot that
    glides needs friction the floor does not give)."""
    floor = sweep.floor
    touching = (floor.dist < config.slide_distance) | loaded_contacts(sweep, wrenches, config.loaded_fraction)
    slip = np.where(touching, contact_slip_speeds(reference, sweep), 0.0)
    per_frame, where = _per_frame_max(slip, floor.frame, reference.num_frames)
    model = sweep.model
    touching_frames = np.zeros(reference.num_frames, dtype=bool)
    touching_frames[floor.frame[touching]] = True
    sliding = per_frame > config.foot_slide_warn

    def describe(t: int) -> str:
        body = model.body(int(floor.body[where[t]])).name
        return f"{body} slides at {per_frame[t]:.2f} m/s while on the floor"

    metrics = {
        "peak_slip_speed_m_s": float(per_frame.max()),
        "sliding_fraction_of_contact_frames": float(sliding.sum() / max(1, touching_frames.sum())),
        "slide_distance_m": float(np.sum(per_frame * sliding) / reference.fps),
    }
    return threshold_check(
        "foot_sliding", "Bodies on the floor do not slide", metrics, per_frame, reference.fps,
        config.foot_slide_warn, config.foot_slide_fail, config.foot_slide_fail_min_s, describe, " m/s"
    )


def check_root_teleport(reference: Reference, config: ValidationConfig) -> CheckResult:
    """Pelvis jumps between consecutive frames (raw differences, no smoothing to hide them)."""
    motion = reference.motion
    speed = np.r_[0.0, np.linalg.norm(np.diff(motion.root_pos, axis=0), axis=1) * motion.fps]
    spin = np.r_[0.0, quat_angle(motion.root_quat[1:], motion.root_quat[:-1]) * motion.fps]

    def moved(t: int) -> str:
        return f"the pelvis moves {speed[t] / motion.fps:.2f} m in one frame ({speed[t]:.1f} m/s)"

    def turned(t: int) -> str:
        return f"the pelvis turns {spin[t] / motion.fps:.2f} rad in one frame ({spin[t]:.1f} rad/s)"

    findings = exceedances(
        "root_teleport", speed, motion.fps, config.root_speed_warn, config.root_speed_fail, 0.0, moved, " m/s"
    ) + exceedances(
        "root_teleport", spin, motion.fps, config.root_angular_speed_fail, config.root_angular_speed_fail, 0.0,
        turned, " rad/s",
    )
    return CheckResult(
        "root_teleport",
        "The pelvis moves continuously",
        metrics={"peak_speed_m_s": float(speed.max()), "peak_angular_speed_rad_s": float(spin.max())},
        findings=sorted(findings, key=lambda f: f.severity != "fail"),
    )


def check_support(reference: Reference, sweep: ReferenceSweep, config: ValidationConfig) -> CheckResult:
    """Stretches with no body touching the floor (flight); long ones are a warning."""
    supported = np.zeros(reference.num_frames, dtype=bool)
    supported[sweep.floor.frame] = True
    flights = frame_runs(~supported)
    longest = max((r.end - r.start + 1 for r in flights), default=0) / reference.fps
    long_flights = tuple(r for r in flights if (r.end - r.start + 1) / reference.fps > config.unsupported_warn_s)
    findings = []
    if long_flights:
        findings.append(
            Finding(
                "support",
                "warn",
                f"no body touches the floor for {longest:.2f} s (longer than {config.unsupported_warn_s:.2f} s), "
                f"{long_flights[0].describe(reference.fps)}"
                + (f" and {len(long_flights) - 1} more" if len(long_flights) > 1 else ""),
                longest,
                config.unsupported_warn_s,
                long_flights,
            )
        )
    return CheckResult(
        "support",
        "The robot is supported by the floor",
        metrics={
            "unsupported_fraction": float(1.0 - supported.mean()),
            "longest_unsupported_s": float(longest),
        },
        findings=findings,
    )
