"""The tracking environment's per-control-step work around the physics, as numba kernels.

A control step of :class:`~robomotion.envs.tracking.G1TrackingEnv` costs four MuJoCo physics steps
plus the Python side: applying the action, the nine reward terms, three termination checks and
the policy observation. As numpy code that side is ~30 calls on arrays of a few dozen numbers, each
paying numpy's fixed per-call cost (more right after the physics, which evicts the caches); here
it is two compiled calls that read MuJoCo's state through the simulation's views, index the
reference tables at the current frame and write into preallocated outputs:

* :func:`apply_action` (before the physics): clip the action and turn it into PD targets;
* :func:`evaluate_step` (after the physics): the policy observation, the weighted reward terms and
  the first failed termination check, in one pass. It composes the term functions of
  :mod:`robomotion.envs.tracking.terms` (the same compiled functions the term tests check against
  hand-computed values).

Frames and units: z-up world, metres, radians, seconds; quaternions ``(w, x, y, z)``; rotation
matrices (MuJoCo ``xmat`` rows reshaped to 3x3) act on column vectors. ``B`` tracked bodies, ``N``
joints, ``E`` end effectors, ``T`` reference frames, ``K`` command offsets. Compiled with
``cache=True``: the first call in a fresh installation compiles (a few seconds), later processes
load the cached machine code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from robomotion.envs.tracking.terms import (
    anchor_height_failed,
    anchor_tilt_failed,
    end_effector_height_failed,
    joint_limit_violation,
    squared_norm,
    tracking_errors,
)

__all__ = ["NO_FAILURE", "apply_action", "evaluate_step"]

#: :func:`evaluate_step`'s return value when no termination check failed; otherwise it returns the
#: index of the failed check in :data:`~robomotion.envs.tracking.terms.TERMINATION_TERMS`.
NO_FAILURE = -1


@njit(cache=True)
def apply_action(
    action: np.ndarray,
    bound: float,
    default_joint_pos: np.ndarray,
    action_scale: np.ndarray,
    clipped: np.ndarray,
    targets: np.ndarray,
) -> None:
    """Clip ``action`` (N,) to ``[-bound, bound]`` into ``clipped`` and write the PD targets
    ``default_joint_pos + action_scale * clipped`` (rad) into ``targets`` (NaN propagates, as in numpy)."""
    for j in range(action.shape[0]):
        value = np.minimum(np.maximum(action[j], -bound), bound)
        clipped[j] = value
        targets[j] = default_joint_pos[j] + action_scale[j] * value


@njit(cache=True)
def evaluate_step(
    frame: int,
    ref_command: np.ndarray,
    ref_anchor_pos: np.ndarray,
    ref_anchor_quat: np.ndarray,
    ref_anchor_mat: np.ndarray,
    ref_body_offsets: np.ndarray,
    ref_body_quat: np.ndarray,
    ref_body_vel: np.ndarray,
    ref_end_effector_z: np.ndarray,
    body_pos: np.ndarray,
    body_quat: np.ndarray,
    body_vel: np.ndarray,
    anchor_mat: np.ndarray,
    root_mat: np.ndarray,
    root_ang_vel: np.ndarray,
    joint_pos: np.ndarray,
    joint_vel: np.ndarray,
    self_contacts: np.ndarray,
    action: np.ndarray,
    last_action: np.ndarray,
    anchor: int,
    end_effectors: np.ndarray,
    default_joint_pos: np.ndarray,
    neg_inv_sigma_sq: np.ndarray,
    weights_dt: np.ndarray,
    soft_middle: np.ndarray,
    soft_half: np.ndarray,
    max_self_collisions: float,
    thresholds: np.ndarray,
    noise: np.ndarray,
    noise_start: int,
    terms: np.ndarray,
    noise_free: np.ndarray,
    out: np.ndarray,
) -> int:
    """Observe and score the robot's state against reference ``frame``.

    Args:
        frame: the reference frame the state is compared with.
        ref_command: (T, K * 2N) reference joint positions then velocities at each command offset.
        ref_anchor_pos, ref_anchor_quat, ref_anchor_mat: (T, 3), (T, 4), (T, 3, 3) reference anchor poses.
        ref_body_offsets: (T, B, 4) homogeneous body offsets from the reference anchor
            (:func:`~robomotion.envs.tracking.terms.reanchor_positions`).
        ref_body_quat: (T, B, 4) reference body orientations.
        ref_body_vel: (T, 2B, 3) reference body linear then angular velocities, world.
        ref_end_effector_z: (T, E) reference end-effector heights, m.
        body_pos, body_quat, body_vel: (B, 3), (B, 4), (2B, 3) the robot's tracked bodies, world.
        anchor_mat, root_mat: (3, 3) the robot anchor's and root's orientations.
        root_ang_vel: (3,) root angular velocity in the root frame, rad/s.
        joint_pos, joint_vel: (N,) joint positions (rad) and velocities (rad/s).
        self_contacts: (1,) number of robot-robot contacts.
        action, last_action: (N,) this step's and the previous step's (clipped) actions.
        anchor: index of the anchor among the tracked bodies; end_effectors: (E,) their indices.
        default_joint_pos: (N,) the default (home) joint positions, rad.
        neg_inv_sigma_sq: (6,) ``-1 / sigma^2`` of the tracking terms.
        weights_dt: (9,) ``weight * dt`` of every term, in ``REWARD_TERMS`` order.
        soft_middle, soft_half: (N,) soft joint-limit midpoints and half-widths, rad.
        max_self_collisions: cap on the self-contact count.
        thresholds: (3,) failure thresholds in ``TERMINATION_TERMS`` order (``inf`` disables one).
        noise: (L,) observation noise (``L = 0``: none), added to the observation's elements
            ``noise_start, ..., noise_start + L - 1``.
        terms: output, (9,) the weighted terms ``weight * term * dt`` in ``REWARD_TERMS`` order.
        noise_free: output, (S,) with ``S >=`` the observation size: its head receives the
            observation without noise (the head of a privileged observation, or a scratch buffer).
        out: output, (K * 2N + 15 + 3N,) float32, the policy observation with noise, segments in
            :func:`~robomotion.envs.tracking.observations.policy_layout` order.

    Returns:
        The index in ``TERMINATION_TERMS`` of the first failed check, or :data:`NO_FAILURE`.
    """
    # ---- policy observation
    command = ref_command[frame]
    at = command.shape[0]
    out[:at] = command
    ref_pos, ref_mat = ref_anchor_pos[frame], ref_anchor_mat[frame]
    for i in range(3):
        # Reference anchor position and first two orientation columns in the robot anchor frame: R^T v.
        position = column0 = column1 = 0.0
        for k in range(3):
            position += anchor_mat[k, i] * (ref_pos[k] - body_pos[anchor, k])
            column0 += anchor_mat[k, i] * ref_mat[k, 0]
            column1 += anchor_mat[k, i] * ref_mat[k, 1]
        out[at + i] = position
        out[at + 3 + i] = column0
        out[at + 6 + i] = column1
        out[at + 9 + i] = -root_mat[2, i]  # gravity (0, 0, -1) in the root frame: -R^T e_z
        out[at + 12 + i] = root_ang_vel[i]
    at += 15
    num_joints = joint_pos.shape[0]
    for j in range(num_joints):
        out[at + j] = joint_pos[j] - default_joint_pos[j]
        out[at + num_joints + j] = joint_vel[j]
        out[at + 2 * num_joints + j] = action[j]
    noise_free[: out.shape[0]] = out
    for k in range(noise.shape[0]):
        out[noise_start + k] += noise[k]

    # ---- reward terms
    errors = tracking_errors(
        ref_pos,
        ref_anchor_quat[frame],
        ref_mat,
        ref_body_offsets[frame],
        ref_body_quat[frame],
        ref_body_vel[frame],
        body_pos[anchor],
        body_quat[anchor],
        anchor_mat,
        body_pos,
        body_quat,
        body_vel,
    )
    for k in range(6):
        terms[k] = weights_dt[k] * math.exp(errors[k] * neg_inv_sigma_sq[k])
    terms[6] = weights_dt[6] * squared_norm(action - last_action)
    terms[7] = weights_dt[7] * joint_limit_violation(joint_pos, soft_middle, soft_half)
    terms[8] = weights_dt[8] * min(self_contacts[0], max_self_collisions)

    # ---- terminations, in TERMINATION_TERMS order
    if anchor_height_failed(ref_pos[2], body_pos[anchor, 2], thresholds[0]):
        return 0
    if anchor_tilt_failed(ref_mat, anchor_mat, thresholds[1]):
        return 1
    heights = np.empty(end_effectors.shape[0])
    for e in range(end_effectors.shape[0]):
        heights[e] = body_pos[end_effectors[e], 2]
    if end_effector_height_failed(ref_end_effector_z[frame], heights, thresholds[2]):
        return 2
    return NO_FAILURE
