"""Kimodo's G1 34-joint skeleton (``g1skel34``) ↔ :class:`~robomotion.motion.RobotMotion`.

Kimodo stores G1 motions as rotation matrices on ``g1skel34`` (29 hinge joints, the pelvis and
4 end points) and converts them to MuJoCo ``qpos`` with a per-hinge rule (Kimodo
``exports/mujoco``, facts sheet §5.1), reproduced here exactly, in Kimodo's axes:

* ``a``: the hinge axis of the MJCF joint in Kimodo axes; ``O``: the joint's MJCF body ``quat``
  in Kimodo axes (identity when the body has none); ``n = normalize(O^T a)``.
* export (local rotation ``L`` → angle): ``R = O^T L``, Euler-projection angles
  ``e = (atan2(R21, R22), atan2(R02, R00), atan2(R10, R11))`` about x, y, z, then ``q = n · e``;
* import (angle → local rotation): ``L = O · AxisAngle(q n)`` (= ``Rot_a(q) · O``).

MuJoCo itself composes ``O · Rot_a(q)``; the two agree wherever ``O`` turns about the hinge axis
(knees, shoulder roll) and differ slightly at the hip-roll and shoulder-pitch joints. That
mismatch is Kimodo's reference behaviour: reproducing it makes our G1 files interchangeable with
Kimodo's. Export followed by import is exact for joints whose ``n`` is a coordinate axis of the
Euler projection and close (not exact) for the tilted ones; see ``docs/formats.md``.

The axes, joints and body quaternions come from our G1 model (``robomotion.robots``), never
from hard-coded tables. The root: ``g1skel34``'s pelvis rotation and position are the MuJoCo
free joint's (robomotion's internal axes are MuJoCo's).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from robomotion.errors import FormatError
from robomotion.formats.axes import matrices_to_internal, matrices_to_kimodo, vectors_to_kimodo
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import matrix_to_quat, quat_normalize, quat_to_matrix, rotvec_to_matrix
from robomotion.skeletons import get_skeleton

__all__ = ["G1Hinges", "g1_hinges", "robot_from_g1skel", "g1skel_from_robot", "SKELETON_NAME"]

SKELETON_NAME = "g1skel34"


@dataclass(frozen=True)
class G1Hinges:
    """Per-hinge constants of Kimodo's G1 rule, in Kimodo axes.

    Attributes:
        joint_names: the robot's hinge joints (MJCF order).
        skeleton_index: (N,) index of each hinge's ``*_skel`` joint in ``g1skel34``.
        body_rot: (N, 3, 3) ``O``, the hinge body's MJCF rotation in Kimodo axes.
        axis: (N, 3) ``n = normalize(O^T a)``.
    """

    joint_names: tuple[str, ...]
    skeleton_index: np.ndarray
    body_rot: np.ndarray
    axis: np.ndarray


@functools.cache
def g1_hinges(robot: str = "g1") -> G1Hinges:
    """The constants of the hinge rule, read from the robot's MuJoCo model."""
    from robomotion.robots import get_robot

    spec = get_robot(robot)
    model = spec.load_model(scene=False)
    skeleton = get_skeleton(SKELETON_NAME)
    body_rot, axis, index = [], [], []
    for name in spec.joint_names:
        joint_id = model.joint(name).id
        skel_name = name.removesuffix("_joint") + "_skel"
        index.append(skeleton.index(skel_name))
        rot = matrices_to_kimodo(quat_to_matrix(model.body_quat[model.jnt_bodyid[joint_id]]))
        hinge = vectors_to_kimodo(model.jnt_axis[joint_id])
        n = rot.T @ hinge
        body_rot.append(rot)
        axis.append(n / np.linalg.norm(n))
    return G1Hinges(tuple(spec.joint_names), np.array(index), np.array(body_rot), np.array(axis))


def _euler_projection(r: np.ndarray) -> np.ndarray:
    """(..., 3) Kimodo's per-axis angles of rotation matrices (..., 3, 3)."""
    return np.stack(
        [
            np.arctan2(r[..., 2, 1], r[..., 2, 2]),
            np.arctan2(r[..., 0, 2], r[..., 0, 0]),
            np.arctan2(r[..., 1, 0], r[..., 1, 1]),
        ],
        axis=-1,
    )


def robot_from_g1skel(motion: HumanMotion, robot: str = "g1") -> RobotMotion:
    """A ``g1skel34`` motion as a robot trajectory (MuJoCo qpos), by Kimodo's export rule.

    The toe and hand-roll end points are dropped (they have no hinge).
    """
    if motion.skeleton.joint_names != get_skeleton(SKELETON_NAME).joint_names:
        raise FormatError(f"expected a motion on '{SKELETON_NAME}', got '{motion.skeleton.name}'", field="skeleton")
    hinges = g1_hinges(robot)
    local_k = matrices_to_kimodo(quat_to_matrix(motion.local_rotations[:, hinges.skeleton_index]))
    relative = np.swapaxes(hinges.body_rot, -1, -2) @ local_k
    angles = np.sum(_euler_projection(relative) * hinges.axis, axis=-1)
    return RobotMotion(
        robot=robot,
        fps=motion.fps,
        root_pos=motion.root_translation,
        root_quat=motion.local_rotations[:, 0],
        joint_pos=angles,
        joint_names=hinges.joint_names,
        metadata={**motion.metadata, "converted_from": SKELETON_NAME},
    )


def g1skel_from_robot(motion: RobotMotion) -> HumanMotion:
    """A robot trajectory as a ``g1skel34`` motion, by Kimodo's import rule (end points identity)."""
    hinges = g1_hinges(motion.robot)
    motion = motion.reorder_joints(hinges.joint_names)
    skeleton = get_skeleton(SKELETON_NAME)
    local_k = hinges.body_rot @ rotvec_to_matrix(motion.joint_pos[..., None] * hinges.axis)
    local = np.zeros((motion.num_frames, skeleton.num_joints, 4))
    local[..., 0] = 1.0
    local[:, 0] = quat_normalize(motion.root_quat)
    local[:, hinges.skeleton_index] = matrix_to_quat(matrices_to_internal(local_k))
    return HumanMotion(
        skeleton=skeleton,
        fps=motion.fps,
        root_translation=motion.root_pos,
        local_rotations=local,
        metadata={**motion.metadata, "converted_from": motion.robot},
    )
