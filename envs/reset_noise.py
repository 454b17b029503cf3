"""Random perturbation of the reference state an episode starts from (BeyondMimic's reset noise).

Frames: the root position, orientation and velocities are perturbed in the world frame (the
orientation by a small world-frame rotation applied on the left); joint angles are perturbed and
clipped to the soft joint limits. The result is a MuJoCo ``qpos`` / ``qvel`` pair (root angular
velocity in the root frame, MuJoCo's free-joint convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robomotion.rotations import quat_from_rotvec, quat_multiply, quat_to_matrix

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
        rng: random generator (the environment's ``np_random``).
        joint_lower, joint_upper: (N,) bounds the perturbed joint angles are clipped to, rad.
    """
    qpos = np.array(qpos, dtype=np.float64)
    qvel = np.array(qvel, dtype=np.float64)
    num_joints = qpos.size - 7

    def uniform(half_width) -> np.ndarray:
        half_width = np.asarray(half_width, dtype=np.float64)
        return (2.0 * rng.random(half_width.shape) - 1.0) * half_width

    quat = qpos[3:7].copy()
    qpos[0:3] += uniform(noise.root_pos)
    # Extrinsic x-y-z Euler angles: R = R_z(yaw) R_y(pitch) R_x(roll), applied in the world frame.
    about_x, about_y, about_z = quat_from_rotvec(np.diag(uniform(noise.root_rot)))
    new_quat = quat_multiply(quat_multiply(about_z, quat_multiply(about_y, about_x)), quat)
    qpos[3:7] = new_quat / np.linalg.norm(new_quat)
    qpos[7:] = np.clip(qpos[7:] + uniform(np.full(num_joints, noise.joint_pos)), joint_lower, joint_upper)

    ang_vel_world = quat_to_matrix(quat) @ qvel[3:6] + uniform(noise.root_ang_vel)
    qvel[0:3] += uniform(noise.root_lin_vel)
    qvel[3:6] = quat_to_matrix(qpos[3:7]).T @ ang_vel_world
    return qpos, qvel
