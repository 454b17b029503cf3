"""SOMA skeleton conventions shared by the SOMA file formats.

* **Rest-pose variants** (facts sheet §4.1). Kimodo's NPZ and robomotion's ``soma77`` use the
  *standard T-pose* rest. BONES-SEED BVH files (and Kimodo's default BVH export) use the *SEED
  rest*, whose joint frames are bone-aligned: joint ``j``'s SEED frame has the global
  orientation ``O_j`` when the body stands in the standard T-pose. Converting keeps joint
  positions identical and re-expresses rotations and offsets (Kimodo axes, y-up):

  - SEED → standard: ``G_std = G_seed · O_j^T``; offsets ``o_std_j = O_parent · o_seed_j``;
  - standard → SEED: ``G_seed = G_std · O_j``;  offsets ``o_seed_j = O_parent^T · o_std_j``.

* **30 → 77 expansion** (§13.2): Kimodo's model skeleton ``soma30`` becomes ``soma77`` by
  starting from the relaxed-hands pose and overwriting the 30 joints' local rotations.

``O_j`` and the relaxed-hands pose are in the ``soma77`` skeleton's ``extras``.
"""

from __future__ import annotations

import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec, quat_normalize, quat_to_matrix
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

__all__ = [
    "seed_rest_rotations",
    "seed_offsets_from_standard",
    "standard_offsets_from_seed",
    "seed_globals_from_standard",
    "standard_globals_from_seed",
    "expand_soma30",
    "is_soma77",
]


def is_soma77(skeleton: Skeleton) -> bool:
    """Whether ``skeleton`` has soma77's joints in soma77's order and tree (any offsets)."""
    soma = get_skeleton("soma77")
    return skeleton.joint_names == soma.joint_names and np.array_equal(skeleton.parents, soma.parents)


def seed_rest_rotations() -> np.ndarray:
    """(77, 3, 3) ``O_j``: global rotation of each SEED joint frame in the standard T-pose (Kimodo axes)."""
    quats = np.asarray(get_skeleton("soma77").extras["seed_rest_global_rotations_kimodo_axes"], dtype=np.float64)
    return quat_to_matrix(quat_normalize(quats))


def _parent_rotations(parents: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``O_parent`` per joint (identity for the root)."""
    out = np.broadcast_to(np.eye(3), rotations.shape).copy()
    out[1:] = rotations[parents[1:]]
    return out


def seed_offsets_from_standard(offsets_kimodo: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """(77, 3) SEED-rest offsets from standard-T-pose offsets (both Kimodo axes, same units)."""
    parent_rot = _parent_rotations(parents, seed_rest_rotations())
    return np.einsum("jba,jb->ja", parent_rot, offsets_kimodo)


def standard_offsets_from_seed(offsets_kimodo: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """(77, 3) standard-T-pose offsets from SEED-rest offsets (both Kimodo axes, same units)."""
    parent_rot = _parent_rotations(parents, seed_rest_rotations())
    return np.einsum("jab,jb->ja", parent_rot, offsets_kimodo)


def seed_globals_from_standard(global_std: np.ndarray) -> np.ndarray:
    """(..., 77, 3, 3) SEED-convention global rotations from standard ones (Kimodo axes)."""
    return global_std @ seed_rest_rotations()


def standard_globals_from_seed(global_seed: np.ndarray) -> np.ndarray:
    """(..., 77, 3, 3) standard-convention global rotations from SEED ones (Kimodo axes)."""
    return global_seed @ np.swapaxes(seed_rest_rotations(), -1, -2)


def expand_soma30(motion: HumanMotion) -> HumanMotion:
    """A ``soma30`` motion on ``soma77``: relaxed hands, the 30 joints' rotations copied (Kimodo §13.2)."""
    soma30, soma77 = get_skeleton("soma30"), get_skeleton("soma77")
    if motion.skeleton.joint_names != soma30.joint_names:
        raise FormatError(f"expected a motion on 'soma30', got '{motion.skeleton.name}'", field="skeleton")
    index = np.asarray(soma30.extras["index_in_soma77"], dtype=np.int64)
    relaxed = quat_from_rotvec(np.asarray(soma77.extras["relaxed_hands_rotvec"], dtype=np.float64))
    local = np.broadcast_to(relaxed, (motion.num_frames, soma77.num_joints, 4)).copy()
    local[:, index] = motion.local_rotations
    return HumanMotion(
        skeleton=soma77,
        fps=motion.fps,
        root_translation=motion.root_translation,
        local_rotations=local,
        foot_contacts=motion.foot_contacts,
        metadata={**motion.metadata, "expanded_from": "soma30"},
    )
