"""The motion representation of ``robomotion-small``: one feature vector per frame.

Frames: z-up world, +x forward, +y left, metres, radians, seconds. The *heading* of a pose is
the yaw of the direction the hips face: with ``l = left_hip - right_hip`` projected on the
ground, forward is ``l x z`` and ``heading = atan2(forward_y, forward_x)`` (0 = facing +x).

Layout per frame (``J`` joints, pelvis = joint 0), in this order:

=============  ========  =============================================================
group          width     content
=============  ========  =============================================================
root_xy        2         pelvis ground position, world (canonical) frame, m
heading        2         ``cos, sin`` of the heading, world (canonical) frame
root_z         1         pelvis height above the floor, m
root_vel       3         heading rate (rad/s), planar pelvis velocity in the heading frame (m/s)
joint_pos      3 (J-1)   joints 1..J-1: ground offset from the pelvis in the heading frame, absolute z
rot6d          6 J       joint 0: pelvis rotation relative to the heading frame; others: local rotations
joint_vel      3 J       joint velocities in the heading frame, m/s
contacts       4         foot contacts: left ankle, left toe, right ankle, right toe (0/1)
=============  ========  =============================================================

Only ``root_xy`` and ``heading`` depend on where the motion is in the world, so moving a
motion (e.g. to the canonical start: pelvis at the origin facing +x at frame 0) only touches
those four channels (:func:`transform_global`). Decoding uses ``root_xy``, ``heading``,
``root_z`` and ``rot6d``, then forward kinematics, so positions and rotations agree;
``joint_pos``, velocities and ``root_vel`` are redundant targets that help the network.
6-D rotations are the first two matrix columns (:func:`robomotion.rotations.matrix_to_6d`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from robomotion.motion import HumanMotion
from robomotion.rotations import matrix_to_6d, matrix_to_quat, quat_to_matrix, sixd_to_matrix
from robomotion.skeleton import Skeleton, forward_kinematics_matrices

__all__ = [
    "FeatureLayout",
    "heading_from_positions",
    "encode_motion",
    "encode_poses",
    "decode_features",
    "transform_global",
    "canonicalize",
    "yaw_matrix",
]

#: Order of the feature groups in a frame vector.
GROUPS = ("root_xy", "heading", "root_z", "root_vel", "joint_pos", "rot6d", "joint_vel", "contacts")


@dataclass(frozen=True)
class FeatureLayout:
    """Slices of the per-frame feature vector for a skeleton with ``num_joints`` joints."""

    num_joints: int

    @cached_property
    def widths(self) -> dict[str, int]:
        j = self.num_joints
        return {
            "root_xy": 2,
            "heading": 2,
            "root_z": 1,
            "root_vel": 3,
            "joint_pos": 3 * (j - 1),
            "rot6d": 6 * j,
            "joint_vel": 3 * j,
            "contacts": 4,
        }

    @cached_property
    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name in GROUPS:
            out[name] = slice(start, start + self.widths[name])
            start += self.widths[name]
        return out

    @property
    def dim(self) -> int:
        return sum(self.widths.values())

    def __getitem__(self, group: str) -> slice:
        return self.slices[group]

    def joint_position_channels(self, joint: int) -> np.ndarray:
        """Channel indices of joint ``joint``'s position (the pelvis maps to root_xy + root_z)."""
        if joint == 0:
            return np.r_[np.arange(0, 2), self["root_z"].start]
        start = self["joint_pos"].start + 3 * (joint - 1)
        return np.arange(start, start + 3)

    def rotation_channels(self, joint: int) -> np.ndarray:
        start = self["rot6d"].start + 6 * joint
        return np.arange(start, start + 6)

    def channels(self, *groups: str) -> np.ndarray:
        """Channel indices of whole groups, concatenated."""
        return np.concatenate([np.arange(self[g].start, self[g].stop) for g in groups])

    @property
    def pose_groups(self) -> tuple[str, ...]:
        """Groups a single pose determines (no temporal differences, no contacts)."""
        return ("root_xy", "heading", "root_z", "joint_pos", "rot6d")


def yaw_matrix(yaw: np.ndarray) -> np.ndarray:
    """(..., 2, 2) planar rotation matrices for yaw angles (radians, about +z)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def heading_from_positions(positions: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Heading (radians, 0 = facing +x) per frame from the hip joints; positions (..., J, 3)."""
    left = positions[..., skeleton.index("left_hip"), :] - positions[..., skeleton.index("right_hip"), :]
    return np.arctan2(-left[..., 0], left[..., 1])


def _rotate_xy(yaw: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Rotate (..., 2) vectors by per-frame yaw (...,) or broadcastable."""
    return np.einsum("...ij,...j->...i", yaw_matrix(yaw), xy)


def _pose_channels(
    layout: FeatureLayout, positions: np.ndarray, local_mats: np.ndarray, heading: np.ndarray
) -> np.ndarray:
    """Fill the pose groups for frames (T, ...); other channels are zero."""
    frames, num_joints = positions.shape[:2]
    out = np.zeros((frames, layout.dim))
    root = positions[:, 0]
    out[:, layout["root_xy"]] = root[:, :2]
    out[:, layout["heading"]] = np.stack([np.cos(heading), np.sin(heading)], -1)
    out[:, layout["root_z"]] = root[:, 2:3]
    rel = positions[:, 1:, :2] - root[:, None, :2]
    rel = _rotate_xy(-heading[:, None], rel)
    joint_pos = np.concatenate([rel, positions[:, 1:, 2:3]], axis=-1)
    out[:, layout["joint_pos"]] = joint_pos.reshape(frames, -1)
    mats = local_mats.copy()
    unyaw = np.zeros((frames, 3, 3))
    unyaw[:, :2, :2] = yaw_matrix(-heading)
    unyaw[:, 2, 2] = 1.0
    mats[:, 0] = unyaw @ mats[:, 0]
    out[:, layout["rot6d"]] = matrix_to_6d(mats).reshape(frames, -1)
    return out


def encode_poses(local_rotations: np.ndarray, root_positions: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Pose channels (K, D) of single poses (keyframes); temporal channels are zero.

    Args:
        local_rotations: (K, J, 4) local rotations (w, x, y, z) or (K, J, 3, 3) matrices.
        root_positions: (K, 3) pelvis world positions, metres.
    """
    local = np.asarray(local_rotations, dtype=np.float64)
    mats = local if local.shape[-2:] == (3, 3) else quat_to_matrix(local)
    positions, _ = forward_kinematics_matrices(skeleton, mats, np.asarray(root_positions, dtype=np.float64))
    heading = heading_from_positions(positions, skeleton)
    return _pose_channels(FeatureLayout(skeleton.num_joints), positions, mats, heading)


def _forward_difference(values: np.ndarray, fps: float) -> np.ndarray:
    """(values[t+1] - values[t]) * fps along axis 0, last frame repeated; zeros for 1 frame."""
    if values.shape[0] < 2:
        return np.zeros_like(values)
    diff = np.diff(values, axis=0) * fps
    return np.concatenate([diff, diff[-1:]], axis=0)


def encode_motion(motion: HumanMotion, contacts: np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (T, D) of a motion, in the motion's own world frame.

    ``contacts`` (T, 4) overrides the motion's own/estimated foot contacts.
    """
    skeleton = motion.skeleton
    layout = FeatureLayout(skeleton.num_joints)
    mats = quat_to_matrix(motion.local_rotations)
    positions = motion.global_positions
    heading = np.unwrap(heading_from_positions(positions, skeleton))
    out = _pose_channels(layout, positions, mats, heading)
    fps = motion.fps
    root_vel = _forward_difference(positions[:, 0], fps)
    out[:, layout["root_vel"]] = np.concatenate(
        [_forward_difference(heading[:, None], fps), _rotate_xy(-heading, root_vel[:, :2])], axis=-1
    )
    vel = _forward_difference(positions, fps)
    vel_xy = _rotate_xy(-heading[:, None], vel[..., :2])
    out[:, layout["joint_vel"]] = np.concatenate([vel_xy, vel[..., 2:]], -1).reshape(len(vel), -1)
    if contacts is None:
        contacts = motion.contacts()
    out[:, layout["contacts"]] = np.asarray(contacts, dtype=np.float64)
    return out


def decode_features(
    features: np.ndarray, skeleton: Skeleton, fps: float, metadata: dict | None = None
) -> HumanMotion:
    """A :class:`HumanMotion` from features (T, D): root from root_xy/heading/root_z, then FK."""
    features = np.asarray(features, dtype=np.float64)
    layout = FeatureLayout(skeleton.num_joints)
    frames = features.shape[0]
    mats = sixd_to_matrix(features[:, layout["rot6d"]].reshape(frames, skeleton.num_joints, 6))
    cos_sin = features[:, layout["heading"]]
    heading = np.arctan2(cos_sin[:, 1], cos_sin[:, 0])
    yaw = np.zeros((frames, 3, 3))
    yaw[:, :2, :2] = yaw_matrix(heading)
    yaw[:, 2, 2] = 1.0
    mats[:, 0] = yaw @ mats[:, 0]
    root = np.concatenate([features[:, layout["root_xy"]], features[:, layout["root_z"]]], axis=-1)
    contacts = features[:, layout["contacts"]] > 0.5
    return HumanMotion(
        skeleton=skeleton,
        fps=fps,
        root_translation=root,
        local_rotations=matrix_to_quat(mats),
        foot_contacts=contacts,
        metadata=metadata or {},
    )


def transform_global(features: np.ndarray, yaw: float, translation: np.ndarray, layout: FeatureLayout) -> np.ndarray:
    """Move features rigidly on the ground: ``xy' = R(yaw) xy + translation``, heading += yaw.

    Works on (..., D) arrays; only the root_xy and heading channels change.
    """
    out = np.array(features, dtype=np.float64, copy=True)
    rot = yaw_matrix(np.asarray(yaw, dtype=np.float64))
    out[..., layout["root_xy"]] = out[..., layout["root_xy"]] @ rot.T + np.asarray(translation)
    out[..., layout["heading"]] = out[..., layout["heading"]] @ rot.T
    return out


def canonicalize(features: np.ndarray, layout: FeatureLayout, frame: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """Move features (T, D) so frame ``frame`` has the pelvis at xy = 0 and heading 0.

    Returns the moved features and the (yaw, translation) that maps canonical back to the
    original frame (pass them to :func:`transform_global` to undo).
    """
    cos_sin = features[frame, layout["heading"]]
    yaw0 = float(np.arctan2(cos_sin[1], cos_sin[0]))
    xy0 = np.array(features[frame, layout["root_xy"]], dtype=np.float64)
    rot = yaw_matrix(np.asarray(-yaw0))
    canonical = transform_global(features, -yaw0, -(rot @ xy0), layout)
    return canonical, yaw0, xy0
