"""Random perturbation of the reference state an episode starts from (BeyondMimic's reset noise).

Frames: the root position, orientation and velocities are perturbed in the world frame (the
orientation by a small world-frame rotation applied on the left); joint angles are perturbed and
clipped to the soft joint limits. The result is a MuJoCo ``qpos`` / ``qvel`` pair (root angular
velocity in the root frame, MuJoCo's free-joint convention).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mujoco
import numpy as np

__all__ = ["ResetNoise", "perturb_state"]


@dataclass(frozen=True)
class ResetNoise:
    """Half-widths of the uniform reset noise (BeyondMimic defaults).

    Attributes:
        root_pos: (x, y, z) metres.
        root_rot: (roll, pitch, yaw) radians, a world-frame rotation.
        root_lin_vel: (x, y, z) m/s, world frame.
        root_ang_vel: (x, y, z) rad/s, world frame.
        joint_pos: radians, every joint (the result is clipped to the soft limits).
    """

    root_pos: tuple[float, float, float] = (0.05, 0.05, 0.01)
    root_rot: tuple[float, float, float] = (0.1, 0.1, 0.2)
    root_lin_vel: tuple[float, float, float] = (0.5, 0.5, 0.2)
    root_ang_vel: tuple[float, float, float] = (0.52, 0.52, 0.78)
    joint_pos: float = 0.1


@functools.lru_cache(maxsize=8)
def _half_widths(noise: ResetNoise, num_joints: int) -> np.ndarray:
    """(15 + N,) read-only half-widths in draw order: root position (3), root rotation (3), joints (N),
    root angular velocity (3), root linear velocity (3)."""
    widths = np.concatenate(
        [noise.root_pos, noise.root_rot, np.full(num_joints, noise.joint_pos), noise.root_ang_vel, noise.root_lin_vel]
    )
    widths.flags.writeable = False
    return widths


def perturb_state(
    qpos: np.ndarray,
    qvel: np.ndarray,
    noise: ResetNoise,
    rng: np.random.Generator,
    joint_lower: np.ndarray,
    joint_upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy copy of a floating-base state.

    Args:
        qpos: (7 + N,) root xyz, root quat wxyz, joint angles.
        qvel: (6 + N,) root linear velocity (world), root angular velocity (root frame), joints.
        noise: the half-widths.
        rng: random generator (the environment's ``np_random``); one ``rng.random(15 + N)`` draw per
            call, in the order root position, root rotation, joints, angular then linear velocity.
        joint_lower, joint_upper: (N,) bounds the perturbed joint angles are clipped to, rad.
    """
    qpos = np.array(qpos, dtype=np.float64)
    qvel = np.array(qvel, dtype=np.float64)
    num_joints = qpos.size - 7
    half_widths = _half_widths(noise, num_joints)
    draws = (2.0 * rng.random(half_widths.size) - 1.0) * half_widths
    root_pos, root_rot, joints = draws[0:3], draws[3:6], draws[6 : 6 + num_joints]
    ang_vel, lin_vel = draws[6 + num_joints : 9 + num_joints], draws[9 + num_joints :]

    # MuJoCo's quaternion helpers (wxyz): a handful of calls on single quaternions.
    quat = qpos[3:7].copy()
    turn, new_quat, inverse, ang_vel_world = np.empty(4), np.empty(4), np.empty(4), np.empty(3)
    # Extrinsic x-y-z Euler angles: R = R_z(yaw) R_y(pitch) R_x(roll), applied in the world frame.
    mujoco.mju_euler2Quat(turn, root_rot, "XYZ")
    mujoco.mju_mulQuat(new_quat, turn, quat)
    mujoco.mju_normalize4(new_quat)
    qpos[0:3] += root_pos
    qpos[3:7] = new_quat
    qpos[7:] = np.clip(qpos[7:] + joints, joint_lower, joint_upper)

    mujoco.mju_normalize4(quat)
    mujoco.mju_rotVecQuat(ang_vel_world, qvel[3:6], quat)
    mujoco.mju_negQuat(inverse, new_quat)
    mujoco.mju_rotVecQuat(qvel[3:6], ang_vel_world + ang_vel, inverse)
    qvel[0:3] += lin_vel
    return qpos, qvel
