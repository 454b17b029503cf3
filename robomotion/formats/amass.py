"""AMASS SMPL-X NPZ (``amass-npz``), as Kimodo-SMPLX writes it and GMR / AMASS tools read it.

AMASS's world is z-up with +y forward, a +90 degree turn about z from robomotion's
(:data:`~robomotion.formats.axes.INTERNAL_TO_AMASS`). Joint rotations are SMPL-X axis-angles in
the body model's own frame (Kimodo axes: y-up, +z forward), so:

* ``root_orient``: ``R_amass = M · R_root · C`` with ``M`` internal→AMASS and ``C`` Kimodo→internal
  (Kimodo's ``R_amass = Y · R_kimodo``);
* ``pose_body``: joints 1..21 of the SMPL-X body order, local axis-angles in Kimodo axes;
* ``trans``: SMPL-X ``transl`` = pelvis world position (AMASS axes) minus the rest pelvis joint
  ``J0`` of Kimodo's fixed body shape (``smplx22`` extras ``pelvis_rest_smplx_frame``).

Written keys: ``trans``, ``root_orient``, ``pose_body`` (float32), ``pose_hand`` (T, 90),
``pose_jaw`` (T, 3), ``pose_eye`` (T, 6) (float64 zeros: robomotion models no hands or face),
``betas`` (16, Kimodo's fixed shape), ``num_betas``, ``gender`` ("neutral"),
``surface_model_type`` ("smplx"), ``mocap_frame_rate``, ``mocap_time_length``. Kimodo writes the
SMPL-X mean hand pose into ``pose_hand``; those 90 numbers come from the licensed SMPL-X model
file, so robomotion writes zeros (flat hands with ``flat_hand_mean=True`` viewers, the mean pose
with ``flat_hand_mean=False``).

Reading uses ``trans``, ``root_orient``, ``pose_body`` (or the first 66 values of ``poses`` in
original AMASS files) and ``mocap_frame_rate`` / ``mocap_framerate`` (default 30). Joint
positions come from the ``smplx22`` skeleton, i.e. Kimodo's fixed body shape: a file's own
``betas`` are kept in ``metadata`` but do not change the skeleton (that needs the SMPL-X model).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robomotion.atomic import save_npz
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, float_array, frame_rate, load_npz, text_list
from robomotion.formats.axes import INTERNAL_TO_AMASS, KIMODO_TO_INTERNAL, vectors_to_internal, vectors_to_kimodo
from robomotion.motion import HumanMotion
from robomotion.pose_fit import retarget_to_skeleton
from robomotion.rotations import matrix_to_quat, matrix_to_rotvec, quat_from_rotvec, quat_to_matrix, rotvec_to_matrix
from robomotion.skeletons import get_skeleton

__all__ = ["read_amass_npz", "write_amass_npz", "SKELETON_NAME"]

SKELETON_NAME = "smplx22"
_NUM_BODY = 21
#: Offsets closer than this (metres) to smplx22's count as the same body.
_SAME_BODY_M = 1e-4


def _pelvis_rest() -> np.ndarray:
    return np.asarray(get_skeleton(SKELETON_NAME).extras["pelvis_rest_smplx_frame"], dtype=np.float64)


def read_amass_npz(path: str | Path, fps: float | None = None) -> HumanMotion:
    """Read an AMASS SMPL-X NPZ as a HumanMotion on ``smplx22``.

    Args:
        path: the ``.npz``.
        fps: override the frame rate (default: ``mocap_frame_rate``, else 30).
    """
    path = Path(path)
    data = load_npz(path)
    skeleton = get_skeleton(SKELETON_NAME)
    if "root_orient" in data and "pose_body" in data:
        root_orient = float_array(data, "root_orient", (None, 3), path)
        pose_body = float_array(data, "pose_body", (root_orient.shape[0], 3 * _NUM_BODY), path)
    elif "poses" in data:
        poses = float_array(data, "poses", (None, None), path)
        if poses.shape[1] < 3 + 3 * _NUM_BODY:
            raise FormatError(f"expected at least 66 pose values per frame, got {poses.shape[1]}", path, field="poses")
        root_orient, pose_body = poses[:, :3], poses[:, 3 : 3 + 3 * _NUM_BODY]
    else:
        raise FormatError(
            f"missing root_orient + pose_body (or poses) for an AMASS file (it has {sorted(data)})",
            path,
            field="root_orient",
        )
    if "trans" not in data:
        raise FormatError(f"missing 'trans' for an AMASS file (it has {sorted(data)})", path, field="trans")
    trans = float_array(data, "trans", (root_orient.shape[0], 3), path)
    if fps is None:
        key = "mocap_frame_rate" if "mocap_frame_rate" in data else "mocap_framerate"
        fps = frame_rate(data, key, path, default=30.0)
    root = INTERNAL_TO_AMASS.T @ rotvec_to_matrix(root_orient) @ KIMODO_TO_INTERNAL.T
    body_rotvec = vectors_to_internal(pose_body.reshape(-1, _NUM_BODY, 3))
    local = np.concatenate([matrix_to_quat(root)[:, None], quat_from_rotvec(body_rotvec)], axis=1)
    metadata: dict = {"source_file": path.name, "source_format": "amass-npz"}
    for key in ("gender", "surface_model_type"):
        values = text_list(data, key)
        if values:
            metadata[key] = values[0]
    if "betas" in data and data["betas"].dtype.kind == "f":
        metadata["betas"] = [float(b) for b in np.asarray(data["betas"]).reshape(-1)]
    with errors_name(path):
        return HumanMotion(
            skeleton=skeleton,
            fps=fps,
            root_translation=(trans + _pelvis_rest()) @ INTERNAL_TO_AMASS,
            local_rotations=local,
            metadata=metadata,
        )


def write_amass_npz(motion: HumanMotion, path: str | Path) -> Path:
    """Write an AMASS SMPL-X NPZ (``numpy.savez``; atomic).

    The motion must have the 22 SMPL-X body joints (``smplx22``, or ``smpl22`` clips). A body
    with other bone lengths is first put on ``smplx22``
    (:func:`robomotion.pose_fit.retarget_to_skeleton`), since AMASS stores one fixed shape.
    """
    target = get_skeleton(SKELETON_NAME)
    with errors_name(path):
        if set(motion.skeleton.joint_names) != set(target.joint_names):
            raise FormatError(
                f"AMASS stores the 22 SMPL-X body joints; skeleton '{motion.skeleton.name}' has other joints",
                field="skeleton",
            )
        order = motion.skeleton.indices(target.joint_names)
        if not np.allclose(motion.skeleton.offsets[order], target.offsets, atol=_SAME_BODY_M):
            motion = retarget_to_skeleton(motion, target)
            order = np.arange(target.num_joints)
    local = motion.local_rotations[:, order]
    num_frames = motion.num_frames
    root = INTERNAL_TO_AMASS @ quat_to_matrix(local[:, 0]) @ KIMODO_TO_INTERNAL
    body = vectors_to_kimodo(matrix_to_rotvec(quat_to_matrix(local[:, 1:])))
    arrays = {
        "trans": (motion.root_translation @ INTERNAL_TO_AMASS.T - _pelvis_rest()).astype(np.float32),
        "root_orient": matrix_to_rotvec(root).astype(np.float32),
        "pose_body": body.reshape(num_frames, 3 * _NUM_BODY).astype(np.float32),
        "pose_hand": np.zeros((num_frames, 90)),
        "pose_jaw": np.zeros((num_frames, 3)),
        "pose_eye": np.zeros((num_frames, 6)),
        "betas": np.asarray(target.extras["amass_betas"], dtype=np.float32),
        "num_betas": np.array(len(target.extras["amass_betas"])),
        "gender": np.array("neutral"),
        "surface_model_type": np.array("smplx"),
        "mocap_frame_rate": np.array(float(motion.fps)),
        "mocap_time_length": np.array(num_frames / motion.fps),
    }
    return save_npz(path, **arrays)
