"""Known-impossible motions: a real clip corrupted in exactly one physically impossible way.

Each corruption takes a robot motion and returns a copy that no robot (the G1 here) can perform,
for one known reason, with a magnitude clearly beyond what real references do. They are the
negative half of the validation's labelled corpus (:mod:`robomotion.envs.validation.corpus`): the
verdict must be ``fail`` on every one of them, with a reason that names the defect.

The defect acts in a *window* of the clip (default: 2 s in the middle), entered and left smoothly
(0.25 s cosine ramps) wherever a jump would add a second defect (a teleport):

========================  =====================================================  =====================
kind                      what is done                                           check that must fail
========================  =====================================================  =====================
``teleport``              the pelvis (whole body) jumps 0.6 m sideways in one     ``root_teleport``
                          frame and stays there
``float``                 the whole body rises 0.4 m for the window (seconds      ``physical_consistency``
                          of floating, nothing holds it up)
``sink``                  the whole body sinks 0.2 m into the floor               ``ground_penetration``
``speedup``               the clip plays k times faster, k such that in a         ``joint_speeds``
                          quarter of the frames a joint turns at >= 2.5x its
                          motor's limit (clips that need k > 12 are skipped)
``joint_range``           one joint (knee, elbow or hip) driven 0.8 rad past      ``joint_limits``
                          its range
``root_slide``            the whole body glides 1.5 m/s sideways while the        ``foot_sliding``
                          feet stay on the floor (skating under load)
``lean``                  the whole body tilts 40 degrees about the point         ``physical_consistency``
                          between its feet and holds it (centre of mass far
                          outside the feet, nothing to hold it)
``shake``                 every joint oscillates 0.4 rad at 4 Hz (~250 rad/s^2:   ``torques``
                          torques far beyond the motors)
========================  =====================================================  =====================

Units: metres, radians, seconds; quaternions (w, x, y, z); z up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from robomotion.envs.validation.reference import span_speeds

from robomotion.errors import UnknownNameError
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_apply, quat_from_rotvec, quat_multiply

__all__ = ["CORRUPTIONS", "EXPECTED_CHECK", "NotApplicable", "corrupt", "window_mask"]

#: Seconds of the cosine ramps in and out of a window.
RAMP_S = 0.25
#: Default window length, seconds.
WINDOW_S = 2.0
#: Highest frame rate of a sped-up clip, Hz.
SPEEDUP_FPS_MAX = 300.0


def window_mask(num_frames: int, fps: float, window_s: float = WINDOW_S, ramp_s: float = RAMP_S) -> np.ndarray:
    """(T,) weight in [0, 1]: 1 inside a ``window_s`` window centred in the clip, cosine ramps of
    ``ramp_s`` at its edges, 0 elsewhere (the window shrinks to fit a short clip)."""
    t = np.arange(num_frames) / fps
    duration = (num_frames - 1) / fps
    window = min(window_s, 0.8 * duration)
    ramp = min(ramp_s, window / 4)
    start = 0.5 * (duration - window)
    inside = np.clip((t - start) / ramp, 0.0, 1.0) * np.clip((start + window - t) / ramp, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * inside)


def _with(motion: RobotMotion, kind: str, **arrays: np.ndarray) -> RobotMotion:
    metadata = dict(motion.metadata)
    metadata["corruption"] = kind
    return replace(motion, metadata=metadata, **arrays)


def teleport(motion: RobotMotion, distance: float = 0.6) -> RobotMotion:
    """The whole body jumps ``distance`` m sideways (y) between two frames in the middle."""
    root = motion.root_pos.copy()
    root[motion.num_frames // 2 :, 1] += distance
    return _with(motion, "teleport", root_pos=root)


def float_up(motion: RobotMotion, height: float = 0.4) -> RobotMotion:
    """The whole body rises ``height`` m for the window (smoothly): floating with no support."""
    root = motion.root_pos.copy()
    root[:, 2] += height * window_mask(motion.num_frames, motion.fps)
    return _with(motion, "float", root_pos=root)


def sink(motion: RobotMotion, depth: float = 0.2) -> RobotMotion:
    """The whole body sinks ``depth`` m into the floor for the window (smoothly)."""
    root = motion.root_pos.copy()
    root[:, 2] -= depth * window_mask(motion.num_frames, motion.fps)
    return _with(motion, "sink", root_pos=root)


class NotApplicable(ValueError):
    """The corruption cannot make this clip impossible (e.g. a clip too calm to speed up enough)."""


def speedup(motion: RobotMotion, times_limit: float = 2.5, max_factor: float = 12.0) -> RobotMotion:
    """The clip played ``k`` times faster (every frame kept, at ``k`` times the frame rate), ``k``
    such that in a quarter of the frames some joint turns at ``times_limit`` times its motor's
    velocity limit (central differences, as the ``joint_speeds`` check measures).

    Raises:
        NotApplicable: that needs more than ``max_factor`` (a clip that barely moves).
    """
    spec = get_robot(motion.robot)
    joints = motion.reorder_joints(spec.joint_names).joint_pos
    ratio = (span_speeds(joints, motion.fps, 0.0) / spec.velocity_limits[None, :]).max(axis=1)
    factor = max(2.0, times_limit / max(float(np.quantile(ratio, 0.75)), 1e-9))
    if factor > max_factor:
        raise NotApplicable(f"needs a {factor:.0f}x speed-up (more than {max_factor:g}x)")
    # Keep every frame (a higher frame rate), up to SPEEDUP_FPS_MAX: resampling a 10x faster walk back to
    # 30 fps would alias its steps into jumps no speed estimate can see.
    faster = replace(motion, fps=motion.fps * factor)
    if faster.fps > SPEEDUP_FPS_MAX:
        faster = faster.resample(SPEEDUP_FPS_MAX)
    metadata = dict(faster.metadata)
    metadata["speedup_factor"] = float(factor)
    return _with(replace(faster, metadata=metadata), "speedup")


#: Joints driven past their range, in order of preference.
_RANGE_JOINTS = ("left_knee_joint", "right_elbow_joint", "left_hip_pitch_joint")


def joint_range(motion: RobotMotion, beyond: float = 0.8, joint: str | None = None) -> RobotMotion:
    """One joint moved ``beyond`` rad past the nearer end of its range during the window."""
    spec = get_robot(motion.robot)
    name = joint or next(j for j in _RANGE_JOINTS if j in motion.joint_names)
    column = motion.joint_names.index(name)
    lower, upper = spec.joint_limits[spec.joint_names.index(name)]
    values = motion.joint_pos[:, column]
    weight = window_mask(motion.num_frames, motion.fps)
    mid = values[np.argmax(weight)]
    goal = upper + beyond if upper - mid < mid - lower else lower - beyond
    joints = motion.joint_pos.copy()
    joints[:, column] = values + weight * (goal - values)
    metadata = dict(motion.metadata)
    metadata["corrupted_joint"] = name
    return _with(replace(motion, metadata=metadata), "joint_range", joint_pos=joints)


def root_slide(motion: RobotMotion, speed: float = 1.5) -> RobotMotion:
    """The whole body glides sideways at ``speed`` m/s during the window (feet sliding on the floor)."""
    weight = window_mask(motion.num_frames, motion.fps)
    offset = np.cumsum(weight) * speed / motion.fps
    root = motion.root_pos.copy()
    root[:, 1] += offset
    return _with(motion, "root_slide", root_pos=root)


def lean(motion: RobotMotion, angle: float = np.radians(40.0)) -> RobotMotion:
    """The whole body tilted forward by ``angle`` about the floor point below the pelvis, in the window."""
    weight = window_mask(motion.num_frames, motion.fps)
    pivot = motion.root_pos.copy()
    pivot[:, 2] = 0.0
    axis = quat_apply(motion.root_quat, np.array([0.0, 1.0, 0.0]))  # the pelvis's left axis, made horizontal
    axis[:, 2] = 0.0
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
    tilt = quat_from_rotvec(axis * (angle * weight)[:, None])
    root = pivot + quat_apply(tilt, motion.root_pos - pivot)
    return _with(motion, "lean", root_pos=root, root_quat=quat_multiply(tilt, motion.root_quat))


def shake(motion: RobotMotion, amplitude: float = 0.4, frequency: float = 4.0) -> RobotMotion:
    """Every joint oscillates ``amplitude`` rad at ``frequency`` Hz during the window."""
    weight = window_mask(motion.num_frames, motion.fps)
    t = np.arange(motion.num_frames) / motion.fps
    phase = np.linspace(0.0, np.pi, motion.num_joints, endpoint=False)
    wave = np.sin(2 * np.pi * frequency * t[:, None] + phase[None, :])
    return _with(motion, "shake", joint_pos=motion.joint_pos + amplitude * weight[:, None] * wave)


#: Every corruption by kind.
CORRUPTIONS: dict[str, Callable[[RobotMotion], RobotMotion]] = {
    "teleport": teleport,
    "float": float_up,
    "sink": sink,
    "speedup": speedup,
    "joint_range": joint_range,
    "root_slide": root_slide,
    "lean": lean,
    "shake": shake,
}

#: The check whose failure names each kind of defect.
EXPECTED_CHECK: dict[str, str] = {
    "teleport": "root_teleport",
    "float": "physical_consistency",
    "sink": "ground_penetration",
    "speedup": "joint_speeds",
    "joint_range": "joint_limits",
    "root_slide": "foot_sliding",
    "lean": "physical_consistency",
    "shake": "torques",
}


def corrupt(motion: RobotMotion, kind: str) -> RobotMotion:
    """``motion`` with the defect ``kind`` (a key of :data:`CORRUPTIONS`)."""
    if kind not in CORRUPTIONS:
        raise UnknownNameError("corruption", kind, list(CORRUPTIONS))
    return CORRUPTIONS[kind](motion)
