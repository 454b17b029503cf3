"""Kimodo NPZ (``kimodo-npz``): NVIDIA Kimodo's motion files.

Kimodo writes one ``numpy.savez`` archive per motion, in its own axes (y-up, +z forward, +x
left), at an implied 30 fps, with no joint names (the skeleton follows from the joint count J):

=======================  ==============  ==============================================
key                      shape           content
=======================  ==============  ==============================================
``posed_joints``         (T, J, 3) f32   global joint positions, metres
``global_rot_mats``      (T, J, 3, 3)    global joint rotations
``local_rot_mats``       (T, J, 3, 3)    parent-relative rotations; identity = rest pose
``foot_contacts``        (T, 4) bool     [left heel, left toe, right heel, right toe] (SOMA
                                         model output has 6: toe-end copies, dropped here)
``smooth_root_pos``      (T, 3) f32      smoothed pelvis ground track, pelvis height
``root_positions``       (T, 3) f32      pelvis trajectory
``global_root_heading``  (T, 2) f32      ``[cos θ, sin θ]``, θ from the hips (0 = facing +z)
=======================  ==============  ==============================================

J: 77 or 30 → SOMA (``soma77`` / ``soma30``), 34 → Kimodo's G1 (``g1skel34``), 22 → SMPL-X
(``smplx22``). Kimodo's demo files carry only ``posed_joints``, ``global_rot_mats`` and
``foot_contacts``; a leading batch dimension is accepted (sample 0 is used), as Kimodo does.
A 34-joint file loads as a :class:`~robomotion.motion.RobotMotion` for the G1 by default
(Kimodo's per-hinge rule, :mod:`robomotion.formats.kimodo_g1`); ``as_robot=False`` keeps the
:class:`~robomotion.motion.HumanMotion` on ``g1skel34``.

Writing produces the 7-key form at 30 fps (other rates are resampled). ``smooth_root_pos`` is a
simple stand-in for Kimodo's ADMM trajectory smoother: the pelvis ground track filtered by a
Gaussian of ``SMOOTH_ROOT_SIGMA_S`` seconds (height unchanged).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from robomotion.atomic import save_npz
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, float_array, load_npz
from robomotion.formats.axes import matrices_to_internal, matrices_to_kimodo, vectors_to_internal, vectors_to_kimodo
from robomotion.formats.kimodo_g1 import SKELETON_NAME as G1_SKELETON
from robomotion.formats.kimodo_g1 import g1skel_from_robot, robot_from_g1skel
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import matrix_to_6d, matrix_to_quat, quat_to_matrix, sixd_to_matrix
from robomotion.skeleton import Skeleton, forward_kinematics_matrices
from robomotion.skeletons import get_skeleton

__all__ = ["read_kimodo_npz", "write_kimodo_npz", "KIMODO_FPS", "SKELETON_BY_JOINT_COUNT", "kimodo_arrays"]

#: Kimodo's fixed frame rate (not stored in the file).
KIMODO_FPS = 30.0
#: Skeleton inferred from the joint count J, as Kimodo does.
SKELETON_BY_JOINT_COUNT = {77: "soma77", 30: "soma30", 34: G1_SKELETON, 22: "smplx22"}
#: Width (seconds) of the Gaussian used for ``smooth_root_pos``.
SMOOTH_ROOT_SIGMA_S = 0.2
#: posed_joints vs our FK beyond this (metres) means the file is not on the built-in skeleton.
_FK_TOLERANCE_M = 0.01
#: Bone offsets within this (metres) of a built-in skeleton's are written as that skeleton.
_SAME_OFFSETS_M = 1e-4
#: A rotation matrix's determinant must be within this of 1 (float32 files are ~1e-6 off).
_DETERMINANT_TOLERANCE = 0.05


def _skeleton_for(num_joints: int, requested: str | None, path: Path) -> Skeleton:
    if requested is not None:
        skeleton = get_skeleton(requested)
        if skeleton.num_joints != num_joints:
            raise FormatError(
                f"skeleton '{requested}' has {skeleton.num_joints} joints but the file has {num_joints}",
                path,
                field="skeleton",
            )
        return skeleton
    if num_joints not in SKELETON_BY_JOINT_COUNT:
        raise FormatError(
            f"unsupported skeleton with J={num_joints} joints; Kimodo files have 77 or 30 (SOMA), "
            f"34 (G1) or 22 (SMPL-X) joints",
            path,
            field="posed_joints",
        )
    return get_skeleton(SKELETON_BY_JOINT_COUNT[num_joints])


def _first_sample(data: dict[str, np.ndarray], key: str, rank: int) -> np.ndarray | None:
    """``data[key]`` without a leading batch dimension (sample 0), or ``None`` when absent."""
    if key not in data:
        return None
    value = data[key]
    if value.ndim == rank + 1:
        if value.shape[0] == 0:
            raise FormatError("has an empty batch dimension", field=key)
        value = value[0]
    return value


def read_kimodo_npz(
    path: str | Path, skeleton: str | None = None, as_robot: bool = True, fps: float = KIMODO_FPS, robot: str = "g1"
) -> HumanMotion | RobotMotion:
    """Read a Kimodo NPZ (7-key CLI form or 3-key demo form).

    Args:
        path: the ``.npz``.
        skeleton: force a built-in skeleton (default: inferred from the joint count).
        as_robot: a ``g1skel34`` file becomes a RobotMotion of ``robot`` (Kimodo's hinge rule);
            ``False`` keeps the HumanMotion on ``g1skel34``.
        fps: the frame rate (Kimodo files imply 30).
        robot: the robot for G1 files.

    Returns:
        HumanMotion on the inferred skeleton (or RobotMotion for G1 files). ``metadata`` holds
        ``posed_joints_max_error_m``: the largest distance between the file's ``posed_joints`` and
        our forward kinematics of its rotations (a check that the skeleton is the right one).
    """
    path = Path(path)
    data = load_npz(path)
    with errors_name(path):
        arrays = {
            key: _first_sample(data, key, rank)
            for key, rank in (
                ("posed_joints", 3),
                ("global_rot_mats", 4),
                ("local_rot_mats", 4),
                ("root_positions", 2),
                ("foot_contacts", 2),
            )
        }
    batched = any(key in data and data[key].ndim > rank for key, rank in (("posed_joints", 3), ("local_rot_mats", 4)))
    data = {k: v for k, v in arrays.items() if v is not None}
    has_local = "local_rot_mats" in data and ("root_positions" in data or "posed_joints" in data)
    if not has_local and not ("posed_joints" in data and "global_rot_mats" in data):
        raise FormatError(
            f"needs local_rot_mats + root_positions or posed_joints + global_rot_mats (has {sorted(data)})",
            path,
            field="local_rot_mats",
        )
    rot_key = "local_rot_mats" if has_local else "global_rot_mats"
    # float32 matrices are not exactly orthonormal: re-orthonormalise with Kimodo's own 6-D
    # Gram-Schmidt (first two columns), which is exact to ~1e-7 and 5x cheaper than an SVD projection.
    rotations = sixd_to_matrix(matrix_to_6d(_rotation_matrices(data, rot_key, path)))
    num_frames, num_joints = rotations.shape[:2]
    skel = _skeleton_for(num_joints, skeleton, path)
    posed = None
    if "posed_joints" in data:
        posed = float_array(data, "posed_joints", (num_frames, num_joints, 3), path)
    if has_local:
        local = matrices_to_internal(rotations)
    else:
        local = quat_to_matrix(skel.local_from_global(matrices_to_internal(rotations)))
    if "root_positions" in data and has_local:
        root = vectors_to_internal(float_array(data, "root_positions", (num_frames, 3), path))
    else:
        root = vectors_to_internal(posed[:, 0])
    contacts = _read_contacts(data, num_frames, path)
    with errors_name(path):
        motion = HumanMotion(
            skeleton=skel,
            fps=fps,
            root_translation=root,
            local_rotations=matrix_to_quat(local),
            foot_contacts=contacts,
            metadata={"source_file": path.name, "source_format": "kimodo-npz"},
        )
    if posed is not None:
        fk_positions = forward_kinematics_matrices(skel, local, root)[0]
        error = np.linalg.norm(fk_positions - vectors_to_internal(posed), axis=-1).max()
        motion.metadata["posed_joints_max_error_m"] = float(error)
        if error > _FK_TOLERANCE_M:
            raise FormatError(
                f"posed_joints differ from forward kinematics of the rotations on '{skel.name}' by "
                f"{error * 100:.1f} cm; the file is not on Kimodo's {skel.name} skeleton",
                path,
                field="posed_joints",
            )
    if batched:
        motion.metadata["batch_sample"] = 0
    if skel.name == G1_SKELETON and as_robot:
        with errors_name(path):
            return robot_from_g1skel(motion, robot)
    return motion


def _rotation_matrices(data: dict[str, np.ndarray], key: str, path: Path) -> np.ndarray:
    """(T, J, 3, 3) ``data[key]``, refused unless every matrix is (close to) a rotation (det ≈ 1)."""
    matrices = float_array(data, key, (None, None, 3, 3), path)
    # A rotation's entries lie in [-1, 1]; checking them first keeps huge values from overflowing
    # the determinant into NaN, which no comparison would catch.
    with np.errstate(all="ignore"):
        entries_ok = np.all(np.abs(matrices) <= 1.0 + _DETERMINANT_TOLERANCE, axis=(-2, -1))
        determinants = np.where(entries_ok, np.linalg.det(np.where(entries_ok[..., None, None], matrices, 0.0)), np.inf)
    bad = ~(np.abs(determinants - 1.0) <= _DETERMINANT_TOLERANCE)
    if np.any(bad):
        frame, joint = (int(i) for i in np.argwhere(bad)[0])
        why = (f"determinant {determinants[frame, joint]:.3g}, expected 1" if entries_ok[frame, joint] else
               f"entry {np.abs(matrices[frame, joint]).max():.3g}, a rotation's lie in [-1, 1]")
        raise FormatError(
            f"frame {frame}, joint {joint} is not a rotation matrix ({why})",
            path,
            field=key,
        )
    return matrices


def _read_contacts(data: dict[str, np.ndarray], num_frames: int, path: Path) -> np.ndarray | None:
    if "foot_contacts" not in data:
        return None
    contacts = np.asarray(data["foot_contacts"])
    if contacts.ndim != 2 or contacts.shape[0] != num_frames or contacts.shape[1] not in (4, 6):
        raise FormatError(
            f"expected shape ({num_frames}, 4) or ({num_frames}, 6), got {contacts.shape}", path, field="foot_contacts"
        )
    if contacts.dtype.kind not in "biuf":
        raise FormatError(f"expected booleans or 0/1 numbers, got {contacts.dtype}", path, field="foot_contacts")
    if contacts.shape[1] == 6:  # SOMA model output: [L heel, L toe, L toe-end, R heel, R toe, R toe-end]
        contacts = contacts[:, [0, 1, 3, 4]]
    return contacts.astype(np.float64) > 0.5


def _heading(positions_k: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, 2) ``[cos θ, sin θ]`` with θ = atan2(d_z, -d_x), d = right hip - left hip (Kimodo axes)."""
    d = positions_k[:, skeleton.index("right_hip")] - positions_k[:, skeleton.index("left_hip")]
    theta = np.arctan2(d[:, 2], -d[:, 0])
    return np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def kimodo_arrays(motion: HumanMotion) -> dict[str, np.ndarray]:
    """The 7 Kimodo arrays of a HumanMotion (float32 / bool, Kimodo axes, the motion's own frames)."""
    skeleton = motion.skeleton
    positions = vectors_to_kimodo(motion.global_positions)
    global_mats = matrices_to_kimodo(quat_to_matrix(motion.global_rotations))
    local_mats = matrices_to_kimodo(quat_to_matrix(motion.local_rotations))
    root = positions[:, 0]
    smooth = root.copy()
    if motion.num_frames > 1:
        sigma = SMOOTH_ROOT_SIGMA_S * motion.fps
        smooth[:, [0, 2]] = gaussian_filter1d(root[:, [0, 2]], sigma, axis=0, mode="nearest")
    return {
        "posed_joints": positions.astype(np.float32),
        "global_rot_mats": global_mats.astype(np.float32),
        "local_rot_mats": local_mats.astype(np.float32),
        "foot_contacts": motion.contacts().astype(bool),
        "smooth_root_pos": smooth.astype(np.float32),
        "root_positions": root.astype(np.float32),
        "global_root_heading": _heading(positions, skeleton).astype(np.float32),
    }


def _on_builtin_skeleton(motion: HumanMotion, path: str | Path) -> HumanMotion:
    """``motion`` on the built-in Kimodo skeleton with its joint names, bone lengths included.

    A Kimodo file has no skeleton: readers rebuild it from the joint count. A motion with the
    right joints but its own bone lengths (a mocap-pack clip, a BVH) is therefore first put on
    the built-in skeleton (:func:`robomotion.pose_fit.retarget_to_skeleton`), so the file's
    ``posed_joints`` agree with the forward kinematics of its rotations and the file reads back.
    """
    names = motion.skeleton.joint_names
    for skeleton_name in SKELETON_BY_JOINT_COUNT.values():
        builtin = get_skeleton(skeleton_name)
        if set(names) != set(builtin.joint_names):
            continue
        if names == builtin.joint_names and np.allclose(motion.skeleton.offsets, builtin.offsets, atol=_SAME_OFFSETS_M):
            return motion
        from robomotion.pose_fit import retarget_to_skeleton

        return retarget_to_skeleton(motion, builtin)
    raise FormatError(
        f"Kimodo NPZ stores SOMA 77/30, G1 34 or SMPL-X 22 joint skeletons; '{motion.skeleton.name}' "
        f"({len(names)} joints) is none of them",
        path,
        field="skeleton",
    )


def write_kimodo_npz(motion: HumanMotion | RobotMotion, path: str | Path) -> Path:
    """Write the 7-key Kimodo NPZ (``numpy.savez``, float32, 30 fps; atomic).

    A RobotMotion of the G1 is written on ``g1skel34`` (Kimodo's hinge rule). A HumanMotion
    must be on a Kimodo skeleton (SOMA 77/30, SMPL-X 22 or the SMPL 22 topology, G1 34), by
    joint names; motions at other frame rates are resampled to 30 fps (Kimodo has no fps field).
    """
    with errors_name(path):
        if isinstance(motion, RobotMotion):
            motion = g1skel_from_robot(motion)
        motion = _on_builtin_skeleton(motion, path)
        motion = motion.resample(KIMODO_FPS)
        return save_npz(path, **kimodo_arrays(motion))
