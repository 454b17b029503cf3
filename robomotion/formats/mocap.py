"""The open mocap pack's clip format (``mocap-npz``): global joint positions with text labels.

One compressed ``.npz`` per clip (see the pack's README):

=====================  ==================  ==============================================
key                    type                meaning
=====================  ==================  ==============================================
``positions``          float32 (T, 22, 3)  global joint positions, metres, z-up
``joint_names``        str (22,)           SMPL body joint order (:data:`smpl22`)
``parents``            int (22,)           parent indices
``fps``                float scalar        30.0 in the pack
``texts``              str (n,)            English descriptions
``source``, ...        str                 provenance (kept in ``metadata``)
=====================  ==================  ==============================================

Reading fits local rotations to the positions (:func:`robomotion.pose_fit.fit_pose`) on the
``smpl22`` skeleton with the clip's own bone lengths, so the result is a normal
:class:`~robomotion.motion.HumanMotion` every rotation-based format and the retargeter accept.
Writing stores forward-kinematics positions of a motion on any skeleton with the 22 SMPL joint
names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robomotion.atomic import save_npz
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, float_array, frame_rate, load_npz, require_keys, text_list
from robomotion.motion import HumanMotion
from robomotion.pose_fit import motion_from_positions
from robomotion.skeletons import get_skeleton

__all__ = ["read_mocap_npz", "write_mocap_npz", "MOCAP_KEYS"]

#: Keys that identify a mocap-pack clip.
MOCAP_KEYS = ("positions", "joint_names")
#: Provenance strings copied into ``metadata`` (lists for arrays, strings for scalars).
_TEXT_FIELDS = ("source", "license", "original_file", "notes", "cmu_trial", "cmu_description", "action")
_LIST_FIELDS = ("texts", "synthesized_joints")


def read_mocap_npz(path: str | Path, skeleton: str = "smpl22") -> HumanMotion:
    """A mocap-pack clip as a :class:`HumanMotion` with fitted local rotations.

    Args:
        path: the clip's ``.npz``.
        skeleton: built-in template skeleton whose joint names the clip uses (``smpl22``).

    Returns:
        A motion on the template with the clip's bone lengths; ``metadata`` holds ``texts``,
        ``source`` and the other provenance fields, and ``pose_fit`` (mean/max position error).
    """
    template = get_skeleton(skeleton)
    data = load_npz(path)
    require_keys(data, MOCAP_KEYS, path, "mocap-npz")
    names = [str(n) for n in np.asarray(data["joint_names"]).reshape(-1)]
    unknown = sorted(set(names) - set(template.joint_names))
    missing = [n for n in template.joint_names if n not in names]
    if unknown or missing:
        raise FormatError(
            f"joint names do not match '{template.name}': unknown {unknown}, missing {missing}",
            path,
            field="joint_names",
        )
    positions = float_array(data, "positions", (None, len(names), 3), path)
    order = [names.index(n) for n in template.joint_names]
    fps = frame_rate(data, "fps", path, default=30.0)
    metadata: dict = {key: text_list(data, key) for key in _LIST_FIELDS if key in data}
    for key in _TEXT_FIELDS:
        values = text_list(data, key)
        if values:
            metadata[key] = values[0]
    metadata["source_file"] = Path(path).name
    with errors_name(path):
        return motion_from_positions(template, positions[:, order], fps, metadata)


def write_mocap_npz(motion: HumanMotion, path: str | Path) -> Path:
    """Write a motion's FK joint positions in the mocap-pack layout (compressed, atomic).

    The motion's skeleton must have the 22 SMPL joint names (``smpl22`` / ``smplx22``).
    ``metadata["texts"]`` and the provenance strings are written when present.
    """
    template = get_skeleton("smpl22")
    skeleton = motion.skeleton
    if set(skeleton.joint_names) != set(template.joint_names):
        raise FormatError(
            f"mocap-npz stores the 22 SMPL joints; skeleton '{skeleton.name}' has other joints "
            f"(retarget it to smplx22 first)",
            path,
            field="skeleton",
        )
    order = skeleton.indices(template.joint_names)
    arrays: dict[str, np.ndarray] = {
        "positions": motion.global_positions[:, order].astype(np.float32),
        "joint_names": np.array(template.joint_names),
        "parents": template.parents.astype(np.int32),
        "fps": np.float64(motion.fps),
        "texts": np.array([str(t) for t in motion.metadata.get("texts", [])], dtype=str),
    }
    for key in _TEXT_FIELDS:
        if isinstance(motion.metadata.get(key), str):
            arrays[key] = np.array(motion.metadata[key])
    return save_npz(path, compressed=True, **arrays)
