"""Kinematic checks on the reference itself (no forces): limits, speeds, collisions, floor, support.

Each check returns a :class:`~robomotion.findings.CheckResult` with its key numbers and at
most one finding per quantity. Inputs are the prepared :class:`~robomotion.envs.validation.reference.Reference`
and its :class:`~robomotion.envs.validation.sweep.ReferenceSweep`. Units: m, rad, s.
"""

from __future__ import annotations

import numpy as np
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.reference import Reference
from robomotion.envs.validation.sweep import ReferenceSweep, point_jacobians

from robomotion.findings import CheckResult, Finding, exceedances, frame_runs, threshold_check, worst_column
from robomotion.robots.spec import RobotSpec
from robomotion.rotations import quat_angle

__all__ = [
    "check_joint_limits",
    "check_joint_speeds",
    "check_self_collision",
    "check_ground_penetration",
    "check_foot_sliding",
    "check_root_teleport",
    "check_support",
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
        config.joint_limit_warn, config.joint_limit_fail, 0.0, describe, " rad"
    )


def check_joint_speeds(reference: Reference, spec: RobotSpec, config: ValidationConfig) -> CheckResult:
    """Smoothed joint speeds against the motors' velocity limits (fraction of the limit)."""
    speeds = np.abs(reference.qvel[:, 6:])
    ratio = speeds / spec.velocity_limits[None, :]
    per_frame, worst_joint = worst_column(ratio)
    names = spec.joint_names

    def describe(t: int) -> str:
        j = worst_joint[t]
        return f"{names[j]} turns at {speeds[t, j]:.1f} rad/s (limit {spec.velocity_limits[j]:.0f} rad/s)"

    peak = int(per_frame.argmax())
    metrics = {
        "peak_fraction_of_limit": float(per_frame.max()),
        "worst_joint": names[worst_joint[peak]],
        "peak_speed_rad_s": float(speeds[peak, worst_joint[peak]]),
    }
    return threshold_check(
        "joint_speeds", "Joint speeds within the motors' velocity limits", metrics, per_frame, reference.fps,
        config.joint_speed_warn, config.joint_speed_fail, config.fail_min_s, describe, "%", scale=100.0
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
    """Depth of robot geoms below the floor; fails on a single frame deeper than ``ground_penetration_fail``."""
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
        config.ground_penetration_fail, 0.0, describe, " m"
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


def check_foot_sliding(reference: Reference, sweep: ReferenceSweep, config: ValidationConfig) -> CheckResult:
    """Sliding of body points that touch the floor (a planted or rolling foot does not slide)."""
    floor = sweep.floor
    touching = floor.dist < config.slide_distance
    slip = np.where(touching, contact_slip_speeds(reference, sweep), 0.0)
    per_frame, where = _per_frame_max(slip, floor.frame, reference.num_frames)
    model = sweep.model
    touching_frames = np.zeros(reference.num_frames, dtype=bool)
    touching_frames[floor.frame[touching]] = True
    sliding = per_frame > config.foot_slide_warn

    def describe(t: int) -> str:
        body = model.body(int(floor.body[where[t]])).name
        within = f"within {config.slide_distance * 100:g} cm"
        return f"{body} slides at {per_frame[t]:.2f} m/s while touching the floor ({within})"

    metrics = {
        "peak_slip_speed_m_s": float(per_frame.max()),
        "sliding_fraction_of_contact_frames": float(sliding.sum() / max(1, touching_frames.sum())),
        "slide_distance_m": float(np.sum(per_frame * sliding) / reference.fps),
    }
    return threshold_check(
        "foot_sliding", "Bodies touching the floor do not slide", metrics, per_frame, reference.fps,
        config.foot_slide_warn, config.foot_slide_fail, config.fail_min_s, describe, " m/s"
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
