"""The tracking environment's per-control-step work around the physics, as numba kernels.

A control step of :class:`~robomotion.envs.tracking.G1TrackingEnv` costs four MuJoCo physics steps
plus the Python side: applying the action, the nine built-in reward terms, three termination checks
and the policy observation. As numpy code that side is ~30 calls on arrays of a few dozen numbers,
each paying numpy's fixed per-call cost (more right after the physics, which evicts the caches);
here it is two compiled calls that read MuJoCo's state through the simulation's views, index the
reference tables at the current frame and write into preallocated outputs:

* :func:`apply_action` (before the physics): clip the action and turn it into PD targets;
* :func:`evaluate_step` (after the physics): the feature vector and the policy observation gathered
  from it, the weighted built-in reward terms and the first failed termination check, in one pass.
  It composes the term functions of :mod:`robomotion.envs.tracking.terms` (the same compiled
  functions the term tests check against hand-computed values).

The inputs come in four bundles (:class:`ReferenceTables`, :class:`RobotState`,
:class:`TaskParams`, :class:`StepBuffers`), built once per environment (the tables once per clip);
user-declared reward and termination terms run in Python after the kernel
(:mod:`robomotion.envs.tracking.terms`).

Frames and units: z-up world, metres, radians, seconds; quaternions ``(w, x, y, z)``; rotation
matrices (MuJoCo ``xmat`` rows reshaped to 3x3) act on column vectors. ``B`` tracked bodies, ``N``
joints, ``E`` end effectors, ``T`` reference frames, ``K`` command frames. Compiled with
``cache=True``: the first call in a fresh installation compiles (a few seconds), later processes
load the cached machine code.
"""

from __future__ import annotations

import math
from typing import NamedTuple

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

__all__ = [
    "NO_FAILURE",
    "ReferenceTables",
    "RobotState",
    "StepBuffers",
    "TaskParams",
    "apply_action",
    "evaluate_step",
]

#: :func:`evaluate_step`'s return value when no termination check failed; otherwise it returns the
#: index of the failed check in :data:`~robomotion.envs.tracking.terms.TERMINATION_TERMS`.
NO_FAILURE = -1


class ReferenceTables(NamedTuple):
    """Per-frame reference quantities of one clip (C order, float64).

    Attributes:
        command: (T, K * 2N) reference joint positions then velocities at each command frame.
        anchor_pos, anchor_quat, anchor_mat: (T, 3), (T, 4), (T, 3, 3) reference anchor poses.
        body_offsets: (T, B, 4) homogeneous body offsets from the reference anchor
            (:func:`~robomotion.envs.tracking.terms.reanchor_positions`).
        body_quat: (T, B, 4) reference body orientations.
        body_vel: (T, 2B, 3) reference body linear then angular velocities, world.
        end_effector_z: (T, E) reference end-effector heights, m.
    """

    command: np.ndarray
    anchor_pos: np.ndarray
    anchor_quat: np.ndarray
    anchor_mat: np.ndarray
    body_offsets: np.ndarray
    body_quat: np.ndarray
    body_vel: np.ndarray
    end_effector_z: np.ndarray


class RobotState(NamedTuple):
    """Views of the simulated robot (:class:`~robomotion.envs.tracking.sim.TrackingSimulation`).

    Attributes:
        body_pos, body_quat, body_vel: (B, 3), (B, 4), (2B, 3) the robot's tracked bodies, world.
        anchor_mat, root_mat: (3, 3) the robot anchor's and root's orientations.
        root_ang_vel: (3,) root angular velocity in the root frame, rad/s.
        base_lin_vel: (3,) pelvis IMU linear velocity in the pelvis frame, m/s.
        joint_pos, joint_vel: (N,) joint positions (rad) and velocities (rad/s).
        self_collision: (1,) the self-collision term's count.
    """

    body_pos: np.ndarray
    body_quat: np.ndarray
    body_vel: np.ndarray
    anchor_mat: np.ndarray
    root_mat: np.ndarray
    root_ang_vel: np.ndarray
    base_lin_vel: np.ndarray
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    self_collision: np.ndarray


class TaskParams(NamedTuple):
    """Constants of the task.

    Attributes:
        anchor: index of the anchor among the tracked bodies; end_effectors: (E,) their indices.
        default_joint_pos: (N,) the default joint positions, rad.
        neg_inv_sigma_sq: (6,) ``-1 / sigma^2`` of the tracking terms.
        weights_dt: (9,) ``weight * dt`` of every built-in term, in ``REWARD_TERMS`` order.
        soft_middle, soft_half: (N,) soft joint-limit midpoints and half-widths, rad.
        max_self_collisions: (1,) cap on the self-collision count.
        thresholds: (3,) failure thresholds in ``TERMINATION_TERMS`` order (``inf`` disables one).
        obs_index: (S,) the observation's element ``i`` is feature ``obs_index[i]``.
    """

    anchor: int
    end_effectors: np.ndarray
    default_joint_pos: np.ndarray
    neg_inv_sigma_sq: np.ndarray
    weights_dt: np.ndarray
    soft_middle: np.ndarray
    soft_half: np.ndarray
    max_self_collisions: np.ndarray
    thresholds: np.ndarray
    obs_index: np.ndarray


class StepBuffers(NamedTuple):
    """Per-step inputs and outputs that live as long as the environment.

    Attributes:
        action, last_action: (N,) this step's and the previous step's (clipped) actions.
        terms: output, (9,) the weighted built-in terms ``weight * term * dt``.
        features: output, (F,) the noise-free feature vector
            (:func:`~robomotion.envs.tracking.observations.feature_layout`).
    """

    action: np.ndarray
    last_action: np.ndarray
    terms: np.ndarray
    features: np.ndarray


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
def _write_features(frame: int, ref: ReferenceTables, state: RobotState, params: TaskParams,
                    buffers: StepBuffers) -> None:
    """The feature vector of the current state against reference ``frame`` into ``buffers.features``."""
    features = buffers.features
    command = ref.command[frame]
    at = command.shape[0]
    features[:at] = command
    ref_pos, ref_mat = ref.anchor_pos[frame], ref.anchor_mat[frame]
    anchor_mat, root_mat, anchor = state.anchor_mat, state.root_mat, params.anchor
    for i in range(3):
        # Reference anchor position and orientation in the robot anchor frame: R^T v, m = R^T R_ref.
        position = 0.0
        for k in range(3):
            position += anchor_mat[k, i] * (ref_pos[k] - state.body_pos[anchor, k])
        features[at + i] = position
        for c in range(2):
            value = 0.0
            for k in range(3):
                value += anchor_mat[k, i] * ref_mat[k, c]
            features[at + 3 + 2 * i + c] = value  # m[:, :2] row-major
        features[at + 9 + i] = state.base_lin_vel[i]
        features[at + 12 + i] = -root_mat[2, i]  # gravity (0, 0, -1) in the root frame: -R^T e_z
        features[at + 15 + i] = state.root_ang_vel[i]
    at += 18
    num_joints = state.joint_pos.shape[0]
    for j in range(num_joints):
        features[at + j] = state.joint_pos[j] - params.default_joint_pos[j]
        features[at + num_joints + j] = state.joint_vel[j]
        features[at + 2 * num_joints + j] = buffers.action[j]


@njit(cache=True)
def evaluate_step(
    frame: int,
    ref: ReferenceTables,
    state: RobotState,
    params: TaskParams,
    buffers: StepBuffers,
    noise: np.ndarray,
    noise_start: int,
    out: np.ndarray,
) -> int:
    """Observe and score the robot's state against reference ``frame``.

    Args:
        frame: the reference frame the state is compared with.
        ref, state, params: the reference tables, the robot's state views, the task's constants.
        buffers: the actions in, the weighted built-in terms and the feature vector out.
        noise: (L,) observation noise (``L = 0``: none), added to the observation's elements
            ``noise_start, ..., noise_start + L - 1``.
        out: output, (S,) float32, the policy observation with noise, ``features[params.obs_index]``.

    Returns:
        The index in ``TERMINATION_TERMS`` of the first failed check, or :data:`NO_FAILURE`.
    """
    # ---- observation
    _write_features(frame, ref, state, params, buffers)
    features, index = buffers.features, params.obs_index
    for i in range(out.shape[0]):
        out[i] = features[index[i]]
    for k in range(noise.shape[0]):
        out[noise_start + k] += noise[k]

    # ---- built-in reward terms
    anchor, terms, weights_dt = params.anchor, buffers.terms, params.weights_dt
    ref_pos, ref_mat = ref.anchor_pos[frame], ref.anchor_mat[frame]
    errors = tracking_errors(
        ref_pos,
        ref.anchor_quat[frame],
        ref_mat,
        ref.body_offsets[frame],
        ref.body_quat[frame],
        ref.body_vel[frame],
        state.body_pos[anchor],
        state.body_quat[anchor],
        state.anchor_mat,
        state.body_pos,
        state.body_quat,
        state.body_vel,
    )
    for k in range(6):
        terms[k] = weights_dt[k] * math.exp(errors[k] * params.neg_inv_sigma_sq[k])
    terms[6] = weights_dt[6] * squared_norm(buffers.action - buffers.last_action)
    terms[7] = weights_dt[7] * joint_limit_violation(state.joint_pos, params.soft_middle, params.soft_half)
    terms[8] = weights_dt[8] * min(state.self_collision[0], params.max_self_collisions[0])

    # ---- terminations, in TERMINATION_TERMS order
    thresholds = params.thresholds
    if anchor_height_failed(ref_pos[2], state.body_pos[anchor, 2], thresholds[0]):
        return 0
    if anchor_tilt_failed(ref_mat, state.anchor_mat, thresholds[1]):
        return 1
    end_effectors = params.end_effectors
    heights = np.empty(end_effectors.shape[0])
    for e in range(end_effectors.shape[0]):
        heights[e] = state.body_pos[end_effectors[e], 2]
    if end_effector_height_failed(ref.end_effector_z[frame], heights, thresholds[2]):
        return 2
    return NO_FAILURE
