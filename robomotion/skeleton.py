"""Kinematic skeletons and batched forward kinematics.

A :class:`Skeleton` is a tree of joints with fixed rest offsets. Frames: z-up world, metres.
Local joint rotations are relative to the rest pose (identity = rest pose), as unit
quaternions ``(w, x, y, z)``; the root's local rotation is its global rotation.

Forward kinematics runs over all frames at once (one vectorised step per joint, joints in
topological order), never a Python loop per frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from robomotion.errors import FormatError, UnknownNameError
from robomotion.rotations import matrix_to_quat, quat_to_matrix

__all__ = ["Skeleton", "forward_kinematics_matrices"]


@dataclass(frozen=True, eq=False)
class Skeleton:
    """A joint tree with rest offsets.

    Attributes:
        name: registry name, e.g. ``"soma77"``, ``"smplx22"``.
        joint_names: joint names in index order; index 0 is the root.
        parents: (J,) parent index per joint, ``-1`` for the root; every parent index is
            smaller than its child's (topological order).
        offsets: (J, 3) rest offset of each joint from its parent, metres, expressed in the
            parent's rest frame (z-up world axes at rest). The root's entry is its rest position
            relative to the motion's root translation and is normally zero.
        roles: semantic joints used by generic code, e.g. ``{"left_ankle": "LeftFoot",
            "left_toe": "LeftToeBase", "left_hip": "LeftLeg", "head": "Head", ...}``.
        extras: format-specific rest data (e.g. the BONES-SEED BVH rest layout for SOMA).
    """

    name: str
    joint_names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    roles: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.joint_names)
        parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        offsets = np.asarray(self.offsets, dtype=np.float64)
        num = len(names)
        if num == 0:
            raise FormatError("a skeleton needs at least one joint", field="joint_names")
        if len(set(names)) != num:
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise FormatError(f"duplicate joint names {dupes}", field="joint_names")
        if parents.shape != (num,):
            raise FormatError(f"expected {num} parents, got shape {parents.shape}", field="parents")
        if parents[0] != -1 or np.any(parents[1:] < 0):
            raise FormatError("joint 0 must be the only root (parent -1)", field="parents")
        if np.any(parents[1:] >= np.arange(1, num)):
            raise FormatError("parents must come before their children", field="parents")
        if offsets.shape != (num, 3):
            raise FormatError(f"expected offsets of shape ({num}, 3), got {offsets.shape}", field="offsets")
        if not np.all(np.isfinite(offsets)):
            raise FormatError("offsets contain NaN or inf", field="offsets")
        for role, joint in self.roles.items():
            if joint not in names:
                raise FormatError(f"role '{role}' names unknown joint '{joint}'", field="roles")
        parents.setflags(write=False)
        offsets.setflags(write=False)
        object.__setattr__(self, "joint_names", names)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "roles", dict(self.roles))
        object.__setattr__(self, "extras", {k: np.asarray(v) for k, v in self.extras.items()})

    # ------------------------------------------------------------------ names
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, name: str) -> int:
        """Index of a joint by name or role (``"left_ankle"`` resolves through ``roles``)."""
        if name in self.roles:
            name = self.roles[name]
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise UnknownNameError(f"joint of skeleton '{self.name}'", name, self.joint_names) from None

    def indices(self, names: Sequence[str]) -> np.ndarray:
        """Indices of several joints (names or roles)."""
        return np.array([self.index(n) for n in names], dtype=np.int64)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def children(self, joint: int) -> np.ndarray:
        return np.flatnonzero(self.parents == joint)

    # ------------------------------------------------------------------ geometry
    def bone_lengths(self) -> np.ndarray:
        """(J,) length of each joint's offset from its parent (root: 0), metres."""
        lengths = np.linalg.norm(self.offsets, axis=-1)
        lengths[0] = 0.0
        return lengths

    def rest_positions(self) -> np.ndarray:
        """(J, 3) joint positions in the rest pose with the root at the origin."""
        positions = np.zeros((self.num_joints, 3))
        for j in range(1, self.num_joints):
            positions[j] = positions[self.parents[j]] + self.offsets[j]
        return positions

    def with_offsets(self, offsets: np.ndarray, name: str | None = None) -> Skeleton:
        """A copy with other rest offsets (e.g. a subject's own bone lengths)."""
        return Skeleton(
            name=name or self.name,
            joint_names=self.joint_names,
            parents=self.parents,
            offsets=offsets,
            roles=self.roles,
            extras=self.extras,
        )

    def height(self) -> float:
        """Rest-pose vertical extent (max z - min z of joint centres), metres."""
        z = self.rest_positions()[:, 2]
        return float(z.max() - z.min())

    # ------------------------------------------------------------------ kinematics
    def forward_kinematics(
        self, local_rotations: np.ndarray, root_translation: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Global joint positions and rotations from local rotations.

        Args:
            local_rotations: (..., J, 4) local rotations (w, x, y, z), or (..., J, 3, 3) matrices.
            root_translation: (..., 3) world position of the root joint, metres.

        Returns:
            positions (..., J, 3) in metres and global rotations (..., J, 4) (w, x, y, z).
        """
        local = np.asarray(local_rotations, dtype=np.float64)
        mats = local if local.shape[-2:] == (3, 3) else quat_to_matrix(local)
        positions, global_mats = forward_kinematics_matrices(self, mats, root_translation)
        return positions, matrix_to_quat(global_mats)

    def local_from_global(self, global_rotations: np.ndarray) -> np.ndarray:
        """Local rotations (..., J, 4) from global rotations (..., J, 4) (or (..., J, 3, 3))."""
        glob = np.asarray(global_rotations, dtype=np.float64)
        mats = glob if glob.shape[-2:] == (3, 3) else quat_to_matrix(glob)
        local = mats.copy()
        parent_mats = mats[..., self.parents[1:], :, :]
        local[..., 1:, :, :] = np.swapaxes(parent_mats, -1, -2) @ mats[..., 1:, :, :]
        return matrix_to_quat(local)


def forward_kinematics_matrices(
    skeleton: Skeleton, local_mats: np.ndarray, root_translation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics on rotation matrices.

    Args:
        skeleton: the joint tree.
        local_mats: (..., J, 3, 3) local rotation matrices.
        root_translation: (..., 3) root world positions, metres.

    Returns:
        positions (..., J, 3) and global rotation matrices (..., J, 3, 3).
    """
    local_mats = np.asarray(local_mats, dtype=np.float64)
    root_translation = np.asarray(root_translation, dtype=np.float64)
    num = skeleton.num_joints
    if local_mats.shape[-3:] != (num, 3, 3):
        raise FormatError(
            f"expected local rotations for {num} joints of '{skeleton.name}', got shape {local_mats.shape}",
            field="local_rotations",
        )
    batch = local_mats.shape[:-3]
    if root_translation.shape != batch + (3,):
        raise FormatError(
            f"expected root translation of shape {batch + (3,)}, got {root_translation.shape}",
            field="root_translation",
        )
    global_mats = np.empty_like(local_mats)
    positions = np.empty(batch + (num, 3))
    global_mats[..., 0, :, :] = local_mats[..., 0, :, :]
    positions[..., 0, :] = root_translation + np.einsum(
        "...ij,j->...i", local_mats[..., 0, :, :], skeleton.offsets[0]
    )
    for j in range(1, num):
        p = skeleton.parents[j]
        parent_rot = global_mats[..., p, :, :]
        global_mats[..., j, :, :] = parent_rot @ local_mats[..., j, :, :]
        positions[..., j, :] = positions[..., p, :] + parent_rot @ skeleton.offsets[j]
    return positions, global_mats
