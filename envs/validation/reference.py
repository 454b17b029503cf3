"""A reference motion in MuJoCo's generalised coordinates, with smoothed velocities and accelerations.

Finite differences of a kinematic clip are noisy (30 fps, float32 sources), and inverse dynamics
differentiates twice, so velocities and accelerations come from a Savitzky-Golay filter (local
quadratic fits over ``smoothing_window_s``). Positions are kept exactly as given.

MuJoCo's free joint conventions: ``qvel[:3]`` is the pelvis linear velocity in the world frame,
``qvel[3:6]`` its angular velocity in the *pelvis* frame; ``qacc`` likewise. Units: m, rad, s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.robots.spec import RobotSpec
from robomotion.rotations import quat_conjugate, quat_multiply

__all__ = ["Reference", "prepare_reference", "MIN_FRAMES", "span_speeds"]

#: Fewest frames a clip needs for a second-order smoothed derivative.
MIN_FRAMES = 5


@dataclass(frozen=True, eq=False)
class Reference:
    """The clip to validate, in the robot's joint order, as MuJoCo state trajectories.

    Attributes:
        motion: the input motion with joints reordered to ``spec.joint_names``.
        qpos: (T, 7 + N) generalised positions: pelvis xyz (m), pelvis quaternion (w, x, y, z), joints (rad).
        qvel: (T, 6 + N) smoothed generalised velocities (m/s, rad/s; MuJoCo free-joint convention).
        qacc: (T, 6 + N) smoothed generalised accelerations (m/s^2, rad/s^2).
    """

    motion: RobotMotion
    qpos: np.ndarray
    qvel: np.ndarray
    qacc: np.ndarray

    @property
    def fps(self) -> float:
        return self.motion.fps

    @property
    def num_frames(self) -> int:
        return self.motion.num_frames

    @property
    def times(self) -> np.ndarray:
        """(T,) time of each frame, seconds from the first."""
        return np.arange(self.num_frames) / self.fps


def _window(num_frames: int, fps: float, window_s: float) -> int:
    window = max(MIN_FRAMES, int(round(window_s * fps)) | 1)
    return min(window, num_frames if num_frames % 2 else num_frames - 1)


def smoothed_derivatives(values: np.ndarray, fps: float, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """First and second time derivatives of ``values`` (T, ...) along axis 0 (Savitzky-Golay, quadratic)."""
    window = _window(values.shape[0], fps, window_s)
    first = savgol_filter(values, window, 2, deriv=1, delta=1.0 / fps, axis=0, mode="interp")
    second = savgol_filter(values, window, 2, deriv=2, delta=1.0 / fps, axis=0, mode="interp")
    return first, second


def span_speeds(values: np.ndarray, fps: float, span_s: float) -> np.ndarray:
    """(T, ...) |change of ``values`` over ``span_s``| / ``span_s``, centred (one-sided at the ends);
    at least one frame either side (``span_s=0``: central differences).

    The average speed over a short span: unlike a smoothing filter it does not shrink a fast move
    that lasts about as long as the filter window. Units: those of ``values`` per second.
    """
    values = np.asarray(values, dtype=np.float64)
    half = max(1, int(round(0.5 * span_s * fps)))
    frames = np.arange(len(values))
    ahead, behind = np.minimum(frames + half, len(values) - 1), np.maximum(frames - half, 0)
    span = np.maximum(ahead - behind, 1) / fps
    return np.abs(values[ahead] - values[behind]) / span.reshape((-1,) + (1,) * (values.ndim - 1))


def prepare_reference(motion: RobotMotion, spec: RobotSpec, smoothing_window_s: float) -> Reference:
    """Check ``motion`` against ``spec`` and build its smoothed MuJoCo state trajectories.

    Raises:
        FormatError: the motion is for another robot, lacks or adds joints, or is too short.
    """
    if motion.robot != spec.name:
        raise FormatError(f"motion is for robot '{motion.robot}', expected '{spec.name}'", field="robot")
    extra = sorted(set(motion.joint_names) - set(spec.joint_names))
    if extra:
        raise FormatError(f"joints {extra} are not joints of the {spec.name}", field="joint_names")
    if motion.num_frames < MIN_FRAMES:
        raise FormatError(
            f"validation needs at least {MIN_FRAMES} frames, got {motion.num_frames}", field="joint_pos"
        )
    motion = motion.reorder_joints(spec.joint_names)
    fps = motion.fps

    root_vel, root_acc = smoothed_derivatives(motion.root_pos, fps, smoothing_window_s)
    joint_vel, joint_acc = smoothed_derivatives(motion.joint_pos, fps, smoothing_window_s)
    # Angular velocity/acceleration in the pelvis frame from the smoothed quaternion derivatives:
    # omega = 2 vec(q* dq/dt), alpha = 2 vec(q* d2q/dt2) (the q*' q' term is a pure scalar).
    quat_dot, quat_ddot = smoothed_derivatives(motion.root_quat, fps, smoothing_window_s)
    conjugate = quat_conjugate(motion.root_quat)
    angular_vel = 2.0 * quat_multiply(conjugate, quat_dot)[:, 1:]
    angular_acc = 2.0 * quat_multiply(conjugate, quat_ddot)[:, 1:]

    return Reference(
        motion=motion,
        qpos=motion.qpos(),
        qvel=np.concatenate([root_vel, angular_vel, joint_vel], axis=1),
        qacc=np.concatenate([root_acc, angular_acc, joint_acc], axis=1),
    )
