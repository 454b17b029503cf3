"""Reward and termination terms of the motion-tracking task, as small pure functions.

The terms follow BeyondMimic (HybridRobotics/whole_body_tracking) and its MuJoCo re-implementation
in mjlab (``tasks/tracking/mdp/rewards.py``, ``terminations.py``, ``commands.py``):

* six exponential tracking terms ``exp(-error / sigma**2)``: the anchor body's position and
  orientation (global), and the tracked bodies' positions and orientations (re-anchored reference,
  see :func:`heading_alignment`) and linear and angular velocities (global), each multiplied by its
  weight and by the control period ``dt``; a perfect step earns ``(0.5 + 0.5 + 1 + 1 + 1 + 1) * 0.02``;
* penalties on the action rate, on joints outside their soft limits (90 % of the range) and on
  self-collisions (mjlab: the number of physics steps of the control step in which a self-contact
  pushes with more than 10 N);
* failure terminations on the anchor height error, the anchor tilt error and the end-effector height
  error.

Frames and units: world z-up, metres, radians, seconds; quaternions ``(w, x, y, z)``, unit norm (as
MuJoCo's ``xquat``); rotation matrices act on column vectors. Per-body arrays are ``(B, 3)`` /
``(B, 4)``; a single body is ``(3,)`` / ``(4,)``.

Terms are declared as data, mjlab's style: :data:`BUILTIN_REWARDS` and :data:`BUILTIN_TERMINATIONS`
list the built-in terms (name, function, weight or threshold, parameters); they are fused into the
compiled step kernel for speed. A user adds a term without touching the kernel by passing
:class:`RewardTerm` / :class:`TerminationTerm` objects (a Python function of the environment) in
``TrackingConfig.rewards`` / ``TrackingConfig.terminations``::

    def pelvis_height(env, target=0.75):
        return (env.sim.body_pos[0, 2] - target) ** 2
    config = TrackingConfig(rewards=(RewardTerm("pelvis_height", pelvis_height, weight=-1.0,
                                                params={"target": 0.78}),))

The built-in terms are the environment's hot path (once per control step, on arrays of a few dozen numbers,
right after four physics steps), so they are compiled with numba (``njit(cache=True)``) as plain
loops. The environment's fused step kernel (:mod:`robomotion.envs.tracking.kernel`) calls these very
functions, and they stay callable from Python. They are pure: no state, no MuJoCo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "BUILTIN_REWARDS",
    "BUILTIN_TERMINATIONS",
    "REWARD_TERMS",
    "TERMINATION_TERMS",
    "RewardConfig",
    "RewardTerm",
    "TerminationConfig",
    "TerminationTerm",
    "anchor_height_failed",
    "anchor_tilt_failed",
    "end_effector_height_failed",
    "heading_alignment",
    "joint_limit_violation",
    "reanchor_orientations",
    "reanchor_positions",
    "soft_joint_limits",
    "squared_norm",
    "tracking_errors",
]

#: Names of the reward terms, in the order they are reported in ``info["reward_terms"]``.
REWARD_TERMS = (
    "anchor_pos",
    "anchor_ori",
    "body_pos",
    "body_ori",
    "body_lin_vel",
    "body_ang_vel",
    "action_rate",
    "joint_limit",
    "self_collision",
)

#: Names of the failure terminations, as reported in ``info["termination"]``.
TERMINATION_TERMS = ("anchor_height", "anchor_tilt", "end_effector_height")


@dataclass(frozen=True)
class RewardConfig:
    """Standard deviations and weights of the tracking reward (BeyondMimic / mjlab defaults).

    Sigmas are in the unit of the error (m, rad, m/s, rad/s). Each weight multiplies its term and
    the control period ``dt``; penalties have negative weights. ``soft_limit_factor`` shrinks each
    joint range about its midpoint to the soft range of the joint-limit penalty;
    ``max_self_collisions`` caps the self-contact count (mjlab's contact sensor has 10 slots).

    The self-collision term is mjlab's: the number of physics steps of the control step (0 to 4) in
    which a robot-robot contact pushes with more than ``self_collision_force`` newtons, weight -10.
    ``self_collision_force=None`` counts every self-contact after the step instead (light touches
    too: on the G1 the hands rest next to the hip capsules), as ``robomotion-v0`` did at weight -0.1.
    """

    anchor_pos_sigma: float = 0.3
    anchor_ori_sigma: float = 0.4
    body_pos_sigma: float = 0.3
    body_ori_sigma: float = 0.4
    body_lin_vel_sigma: float = 1.0
    body_ang_vel_sigma: float = 3.14
    anchor_pos_weight: float = 0.5
    anchor_ori_weight: float = 0.5
    body_pos_weight: float = 1.0
    body_ori_weight: float = 1.0
    body_lin_vel_weight: float = 1.0
    body_ang_vel_weight: float = 1.0
    action_rate_weight: float = -0.1
    joint_limit_weight: float = -10.0
    self_collision_weight: float = -10.0
    self_collision_force: float | None = 10.0
    soft_limit_factor: float = 0.9
    max_self_collisions: int = 10

    def __post_init__(self) -> None:
        for item in fields(self):
            if item.name.endswith("_sigma") and not getattr(self, item.name) > 0:
                raise ValueError(f"RewardConfig.{item.name} must be positive, got {getattr(self, item.name)}")
        if not 0 < self.soft_limit_factor <= 1:
            raise ValueError(f"RewardConfig.soft_limit_factor must be in (0, 1], got {self.soft_limit_factor}")

    def weights(self) -> tuple[float, ...]:
        """Weights in :data:`REWARD_TERMS` order."""
        return tuple(float(getattr(self, f"{name}_weight")) for name in REWARD_TERMS)

    def sigmas(self) -> np.ndarray:
        """(6,) sigmas of the tracking terms (the first six of :data:`REWARD_TERMS`)."""
        return np.array([getattr(self, f"{name}_sigma") for name in REWARD_TERMS[:6]])


@dataclass(frozen=True)
class TerminationConfig:
    """Failure thresholds (BeyondMimic / mjlab defaults); ``None`` disables a check.

    Attributes:
        anchor_height: max |reference - robot| anchor height, metres.
        anchor_tilt: max |reference - robot| z component of gravity in the anchor frame (unitless,
            in [0, 2]; 0.8 is roughly a 37 degree roll/pitch mismatch near upright).
        end_effector_height: max |reference - robot| height of any end-effector body, metres.
    """

    anchor_height: float | None = 0.25
    anchor_tilt: float | None = 0.8
    end_effector_height: float | None = 0.25


@dataclass(frozen=True)
class RewardTerm:
    """A reward term as data (mjlab's ``RewardTermCfg``): ``weight * func(env, **params) * dt``.

    Attributes:
        name: the key in ``info["reward_terms"]`` (must not clash with a built-in term).
        func: ``func(env, **params) -> float``: the raw term of the current state (``env`` is the
            :class:`~robomotion.envs.tracking.env.G1TrackingEnv`, after the physics, with
            ``env.sim`` views, ``env.reference_frame()`` and ``env.last_action``/``env.action``).
        weight: multiplies the term (negative for a penalty).
        params: keyword arguments of ``func``.
    """

    name: str
    func: Callable[..., float]
    weight: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TerminationTerm:
    """A failure termination as data (mjlab's ``TerminationTermCfg``): the episode ends (terminated)
    when ``func(env, **params)`` is true; ``info["termination"]`` is ``name``."""

    name: str
    func: Callable[..., bool]
    params: Mapping[str, Any] = field(default_factory=dict)

# ---------------------------------------------------------------------- re-anchoring
@njit(cache=True)
def heading_alignment(robot_anchor_mat: np.ndarray, ref_anchor_mat: np.ndarray) -> float:
    """Yaw (rad) of ``robot_anchor * inverse(ref_anchor)``: the heading that turns the reference onto the robot.

    This is mjlab's ``yaw_quat(quat_mul(robot_anchor_quat_w, quat_inv(anchor_quat_w)))`` as an
    angle: ``atan2(D[1, 0], D[0, 0])`` with ``D = R_robot @ R_ref^T``.

    Args:
        robot_anchor_mat: (3, 3) robot anchor orientation, world.
        ref_anchor_mat: (3, 3) reference anchor orientation, world.
    """
    d00 = d10 = 0.0
    for k in range(3):
        d00 += robot_anchor_mat[0, k] * ref_anchor_mat[0, k]
        d10 += robot_anchor_mat[1, k] * ref_anchor_mat[0, k]
    return math.atan2(d10, d00)


@njit(cache=True)
def reanchor_positions(
    ref_offsets: np.ndarray, robot_anchor_pos: np.ndarray, ref_anchor_z: float, yaw: float
) -> np.ndarray:
    """Reference body positions moved onto the robot anchor (mjlab ``body_pos_relative_w``).

    The reference anchor goes to the robot anchor's x, y (keeping its own height ``ref_anchor_z``)
    and the reference turns by ``yaw`` about +z. Global x/y/heading drift is therefore not punished
    by the body terms, only by the two anchor terms.

    Args:
        ref_offsets: (B, 4) homogeneous offsets ``[p_ref_b - p_ref_anchor, 1]`` of the reference
            bodies from the reference anchor, world axes, m.
        robot_anchor_pos: (3,) robot anchor position, world, m.
        ref_anchor_z: reference anchor height, m.
        yaw: heading from :func:`heading_alignment`, rad.

    Returns:
        (B, 3) re-anchored reference body positions, world, m.
    """
    c, s = math.cos(yaw), math.sin(yaw)
    x, y = robot_anchor_pos[0], robot_anchor_pos[1]
    out = np.empty((ref_offsets.shape[0], 3))
    for b in range(ref_offsets.shape[0]):
        # The affine map R_z(yaw) o + w t on the homogeneous offset (o, w), t = (x, y, ref_anchor_z).
        ox, oy, oz, w = ref_offsets[b, 0], ref_offsets[b, 1], ref_offsets[b, 2], ref_offsets[b, 3]
        out[b, 0] = c * ox - s * oy + w * x
        out[b, 1] = s * ox + c * oy + w * y
        out[b, 2] = oz + w * ref_anchor_z
    return out


@njit(cache=True)
def reanchor_orientations(ref_quat: np.ndarray, yaw: float) -> np.ndarray:
    """Reference body orientations turned by ``yaw`` about +z: ``q_yaw * q_ref`` for each (B, 4) row."""
    c, s = math.cos(0.5 * yaw), math.sin(0.5 * yaw)
    out = np.empty((ref_quat.shape[0], 4))
    for b in range(ref_quat.shape[0]):
        # Hamilton product (c, 0, 0, s) * (w, x, y, z).
        w, x, y, z = ref_quat[b, 0], ref_quat[b, 1], ref_quat[b, 2], ref_quat[b, 3]
        out[b, 0] = c * w - s * z
        out[b, 1] = c * x - s * y
        out[b, 2] = c * y + s * x
        out[b, 3] = c * z + s * w
    return out


# ---------------------------------------------------------------------- tracking rewards
@njit(cache=True)
def _half_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Half the geodesic angle (rad) between unit quaternions (4,): ``acos(min(|<a, b>|, 1))``."""
    dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
    return math.acos(min(abs(dot), 1.0))


@njit(cache=True)
def tracking_errors(
    ref_anchor_pos: np.ndarray,
    ref_anchor_quat: np.ndarray,
    ref_anchor_mat: np.ndarray,
    ref_offsets: np.ndarray,
    ref_body_quat: np.ndarray,
    ref_body_vel: np.ndarray,
    anchor_pos: np.ndarray,
    anchor_quat: np.ndarray,
    anchor_mat: np.ndarray,
    body_pos: np.ndarray,
    body_quat: np.ndarray,
    body_vel: np.ndarray,
) -> np.ndarray:
    """The six squared tracking errors, in :data:`REWARD_TERMS` order.

    1. anchor position, ``|p_ref_a - p_a|^2`` (m^2, global);
    2. anchor orientation, ``angle(q_ref_a, q_a)^2`` (rad^2, global);
    3. body positions, ``mean_b |p~_b - p_b|^2`` against the re-anchored reference (m^2);
    4. body orientations, ``mean_b angle(q~_b, q_b)^2`` against the re-anchored reference (rad^2);
    5. body linear velocities, ``mean_b |v_ref_b - v_b|^2`` ((m/s)^2, global);
    6. body angular velocities, ``mean_b |w_ref_b - w_b|^2`` ((rad/s)^2, global).

    Angles are geodesic, ``2 acos |<q_ref, q>|`` (sign-invariant). The rewards are
    ``exp(-error / sigma^2)``.

    Args:
        ref_anchor_pos, ref_anchor_quat, ref_anchor_mat: (3,), (4,), (3, 3) reference anchor pose.
        ref_offsets: (B, 4) homogeneous reference body offsets from the reference anchor
            (see :func:`reanchor_positions`).
        ref_body_quat: (B, 4) reference body orientations.
        ref_body_vel: (2B, 3) reference linear velocities (B rows) then angular velocities (B rows).
        anchor_pos, anchor_quat, anchor_mat: the robot anchor's pose.
        body_pos, body_quat: (B, 3), (B, 4) robot body poses.
        body_vel: (2B, 3) robot linear then angular velocities.
    """
    num_bodies = body_pos.shape[0]
    yaw = heading_alignment(anchor_mat, ref_anchor_mat)
    ref_pos = reanchor_positions(ref_offsets, anchor_pos, ref_anchor_pos[2], yaw)
    ref_quat = reanchor_orientations(ref_body_quat, yaw)
    errors = np.zeros(6)
    for k in range(3):
        errors[0] += (ref_anchor_pos[k] - anchor_pos[k]) ** 2
    errors[1] = 4.0 * _half_angle(ref_anchor_quat, anchor_quat) ** 2
    for b in range(num_bodies):
        for k in range(3):
            errors[2] += (ref_pos[b, k] - body_pos[b, k]) ** 2
            errors[4] += (ref_body_vel[b, k] - body_vel[b, k]) ** 2
            errors[5] += (ref_body_vel[num_bodies + b, k] - body_vel[num_bodies + b, k]) ** 2
        errors[3] += 4.0 * _half_angle(ref_quat[b], body_quat[b]) ** 2
    errors[2:] /= num_bodies
    return errors


# ---------------------------------------------------------------------- penalties
@njit(cache=True)
def squared_norm(vector: np.ndarray) -> float:
    """``sum_i v_i^2``; the action-rate penalty is ``squared_norm(action - last_action)``."""
    total = 0.0
    for value in vector:
        total += value * value
    return total


def soft_joint_limits(limits: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and half-widths (rad) of joint ranges shrunk about their middle to ``factor`` of the width.

    Args:
        limits: (N, 2) lower and upper joint positions, rad.
        factor: kept fraction of each range (BeyondMimic: 0.9).
    """
    limits = np.asarray(limits, dtype=np.float64)
    return limits.mean(axis=1), 0.5 * (limits[:, 1] - limits[:, 0]) * factor


@njit(cache=True)
def joint_limit_violation(joint_pos: np.ndarray, middle: np.ndarray, half_width: np.ndarray) -> float:
    """Total distance (rad) of the joints outside their soft limits (0 when all are inside)."""
    total = 0.0
    for j in range(joint_pos.shape[0]):
        total += max(abs(joint_pos[j] - middle[j]) - half_width[j], 0.0)
    return total


# ---------------------------------------------------------------------- terminations
@njit(cache=True)
def anchor_height_failed(ref_anchor_z: float, anchor_z: float, threshold: float | None) -> bool:
    """True when the anchor height error exceeds ``threshold`` metres (never when ``None``)."""
    if threshold is None:
        return False
    return abs(ref_anchor_z - anchor_z) > threshold


@njit(cache=True)
def anchor_tilt_failed(ref_anchor_mat: np.ndarray, anchor_mat: np.ndarray, threshold: float | None) -> bool:
    """True when the anchors' projected gravity z components differ by more than ``threshold``.

    The z component of the unit gravity ``(0, 0, -1)`` expressed in a body frame ``R`` is
    ``-R[2, 2]``: -1 upright, +1 upside down. Heading does not enter.
    """
    if threshold is None:
        return False
    return abs(anchor_mat[2, 2] - ref_anchor_mat[2, 2]) > threshold


@njit(cache=True)
def end_effector_height_failed(ref_heights: np.ndarray, heights: np.ndarray, threshold: float | None) -> bool:
    """True when any end-effector height error exceeds ``threshold`` metres.

    Re-anchoring moves the reference only horizontally and turns it about +z, so the re-anchored
    heights equal the reference's own world heights.
    """
    if threshold is None:
        return False
    for e in range(heights.shape[0]):
        if abs(ref_heights[e] - heights[e]) > threshold:
            return True
    return False


# ---------------------------------------------------------------------- the built-in terms, as data
#: The built-in reward terms (fused into :func:`~robomotion.envs.tracking.kernel.evaluate_step`):
#: name, the function computing the raw value, and where its weight and parameters live in
#: :class:`RewardConfig` (``<name>_weight``, ``<name>_sigma``). Documentation and introspection:
#: change them through ``RewardConfig``, add terms with :class:`RewardTerm`.
BUILTIN_REWARDS: tuple[tuple[str, Callable[..., Any], tuple[str, ...]], ...] = (
    ("anchor_pos", tracking_errors, ("anchor_pos_weight", "anchor_pos_sigma")),
    ("anchor_ori", tracking_errors, ("anchor_ori_weight", "anchor_ori_sigma")),
    ("body_pos", tracking_errors, ("body_pos_weight", "body_pos_sigma")),
    ("body_ori", tracking_errors, ("body_ori_weight", "body_ori_sigma")),
    ("body_lin_vel", tracking_errors, ("body_lin_vel_weight", "body_lin_vel_sigma")),
    ("body_ang_vel", tracking_errors, ("body_ang_vel_weight", "body_ang_vel_sigma")),
    ("action_rate", squared_norm, ("action_rate_weight",)),
    ("joint_limit", joint_limit_violation, ("joint_limit_weight", "soft_limit_factor")),
    ("self_collision", None, ("self_collision_weight", "self_collision_force", "max_self_collisions")),
)

#: The built-in failure terminations (fused into the kernel): name, function, threshold field of
#: :class:`TerminationConfig`.
BUILTIN_TERMINATIONS: tuple[tuple[str, Callable[..., bool], str], ...] = (
    ("anchor_height", anchor_height_failed, "anchor_height"),
    ("anchor_tilt", anchor_tilt_failed, "anchor_tilt"),
    ("end_effector_height", end_effector_height_failed, "end_effector_height"),
)
