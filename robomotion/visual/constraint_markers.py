"""Kimodo constraints as things to draw: root path points, keyframe skeletons, effector targets.

Parsing (and the Kimodo → z-up change of axes) is :mod:`robomotion.generators.constraints`;
this module only turns the typed constraints into world positions (z-up, metres) by forward
kinematics on the Kimodo skeleton with the constraint's joint count (SOMA 77/30, G1 34,
SMPL-X 22):

* root path: the constrained pelvis ground points (z = 0) and headings when given;
* keyframe poses: every joint of a ``fullbody`` constraint at its frames;
* end-effector targets: the positions of the constrained chains (hands, feet, hips).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError
from robomotion.generators.constraints import (
    END_EFFECTOR_CHAINS,
    Constraint,
    EndEffectorConstraint,
    FullBodyConstraint,
    Root2DConstraint,
    load_constraints,
)
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

__all__ = ["ConstraintMarkers", "EffectorTarget", "KeyframePose", "constraint_markers", "load_constraint_markers"]

#: Kimodo's skeletons by joint count (SOMA 77/30, G1 34, SMPL-X 22).
_SKELETON_BY_JOINTS = {77: "soma77", 30: "soma30", 34: "g1skel34", 22: "smplx22"}


@dataclass(frozen=True)
class KeyframePose:
    """A full-body keyframe: joint positions (J, 3) in metres (z-up) at ``frame``, with the skeleton's parents."""

    frame: int
    positions: np.ndarray
    parents: np.ndarray


@dataclass(frozen=True)
class EffectorTarget:
    """A constrained joint position (3,) in metres (z-up) at ``frame``; ``name`` is Kimodo's base name."""

    frame: int
    name: str
    position: np.ndarray


@dataclass(frozen=True)
class ConstraintMarkers:
    """Every constraint of a file as z-up markers.

    Attributes:
        root_frames: (K,) frames of the root-path points, sorted.
        root_points: (K, 3) pelvis ground points (z = 0), metres.
        root_headings: (K,) facing yaw (rad, about +z, 0 = +x), or None when not constrained.
        keyframes: full-body keyframe poses.
        effectors: end-effector targets.
    """

    root_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    root_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    root_headings: np.ndarray | None = None
    keyframes: tuple[KeyframePose, ...] = ()
    effectors: tuple[EffectorTarget, ...] = ()

    @property
    def frames(self) -> np.ndarray:
        """Every constrained frame, sorted and unique."""
        every = [self.root_frames, [k.frame for k in self.keyframes], [e.frame for e in self.effectors]]
        return np.unique(np.concatenate([np.asarray(f, dtype=int) for f in every]))


def _posed(constraint: FullBodyConstraint | EndEffectorConstraint) -> tuple[Skeleton, np.ndarray]:
    """The constraint's skeleton and (K, J, 3) joint positions."""
    joints = constraint.local_rotations.shape[1]
    if joints not in _SKELETON_BY_JOINTS:
        raise FormatError(
            f"{joints} joints match no Kimodo skeleton (expected one of {sorted(_SKELETON_BY_JOINTS)})",
            field="local_joints_rot",
        )
    skeleton = get_skeleton(_SKELETON_BY_JOINTS[joints])
    positions, _ = skeleton.forward_kinematics(constraint.local_rotations, constraint.root_positions)
    return skeleton, positions


def constraint_markers(constraints: Sequence[Constraint]) -> ConstraintMarkers:
    """Markers for typed constraints (see :func:`robomotion.generators.constraints.load_constraints`)."""
    root_frames, root_points, headings = [], [], []
    keyframes: list[KeyframePose] = []
    effectors: list[EffectorTarget] = []
    for constraint in constraints:
        if isinstance(constraint, Root2DConstraint):
            root_frames.append(constraint.frame_indices)
            root_points.append(np.column_stack([constraint.positions, np.zeros(len(constraint.positions))]))
            headings.append(constraint.headings)
            continue
        skeleton, positions = _posed(constraint)
        frames = constraint.frame_indices
        if isinstance(constraint, FullBodyConstraint):
            keyframes.extend(KeyframePose(int(f), p, skeleton.parents) for f, p in zip(frames, positions))
            continue
        for name in constraint.joint_names:
            for role in END_EFFECTOR_CHAINS[name]:
                if skeleton.has_role(role):
                    joint = skeleton.index(role)
                    effectors.extend(EffectorTarget(int(f), name, p[joint]) for f, p in zip(frames, positions))
    if not root_frames:
        return ConstraintMarkers(keyframes=tuple(keyframes), effectors=tuple(effectors))
    frames = np.concatenate(root_frames)
    order = np.argsort(frames, kind="stable")
    heading = np.concatenate(headings)[order] if all(h is not None for h in headings) else None
    points = np.concatenate(root_points)[order]
    return ConstraintMarkers(frames[order], points, heading, tuple(keyframes), tuple(effectors))


def load_constraint_markers(path: str | Path) -> ConstraintMarkers:
    """Read a Kimodo constraints JSON file into z-up :class:`ConstraintMarkers`."""
    return constraint_markers(load_constraints(path))
