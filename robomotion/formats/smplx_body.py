"""SMPL-X inputs on the user's own body: joints from their SMPL-X model files and shape (``betas``).

The built-in ``smplx22`` skeleton is one fixed body (Kimodo's), so an AMASS clip of a tall or a
short subject is posed on the wrong bone lengths when read with :func:`~robomotion.formats.amass.read_amass_npz`.
With the SMPL-X body model files (licensed by the Max Planck Institute, https://smpl-x.is.tue.mpg.de,
never shipped with robomotion) and the ``smplx`` extra (``pip install 'robomotion[smplx]'``), this
module asks the ``smplx`` package for the rest joints of a given body (gender + betas) and builds
the matching ``smplx22`` skeleton, so joints come from that body:

::

    from robomotion.formats.smplx_body import body_skeleton, read_amass_on_body
    motion = read_amass_on_body("subject_walk_poses.npz", "~/body_models")   # the file's betas and gender
    skeleton = body_skeleton("~/body_models", betas=[0.5, -1.2], gender="female")

``model_path`` is an SMPL-X model file (``SMPLX_NEUTRAL.npz``, ``.pkl`` converted without chumpy),
or a folder holding ``SMPLX_<GENDER>.npz``/``.pkl`` directly or in ``smplx/`` (the layout of the
official download). Units: metres; the skeleton's offsets are in robomotion's z-up axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.formats.amass import SKELETON_NAME, read_amass_npz
from robomotion.formats.axes import INTERNAL_TO_AMASS, vectors_to_internal
from robomotion.motion import HumanMotion
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

__all__ = ["body_skeleton", "model_file", "read_amass_on_body"]

GENDERS = ("neutral", "male", "female")
_NUM_JOINTS = 22  # pelvis + the 21 body joints; SMPL-X's joint order starts with them


def model_file(model_path: str | Path, gender: str = "neutral") -> Path:
    """The SMPL-X model file for ``gender`` under ``model_path`` (a file, or a folder of the official layout)."""
    gender = str(gender).lower()
    if gender not in GENDERS:
        raise FormatError(f"expected one of {GENDERS}, got '{gender}'", field="gender")
    path = Path(model_path).expanduser()
    if path.is_file():
        return path
    names = [f"SMPLX_{gender.upper()}.{ext}" for ext in ("npz", "pkl")]
    candidates = [folder / name for folder in (path, path / "smplx") for name in names]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FormatError(
        f"no SMPL-X model file: looked for {', '.join(str(c) for c in candidates)} (download the SMPL-X "
        "model from https://smpl-x.is.tue.mpg.de; robomotion does not ship it)",
        path,
    )


def _import_smplx():
    try:
        import smplx
        import torch
    except ImportError as exc:
        raise BackendUnavailableError(
            f"SMPL-X body models need the smplx package: pip install 'robomotion[smplx]' ({exc})"
        ) from exc
    return smplx, torch


def rest_joints(model_path: str | Path, betas=(), gender: str = "neutral") -> np.ndarray:
    """(22, 3) rest-pose joint positions of the body, metres, in the SMPL-X model's own axes (y up).

    Runs the ``smplx`` body model at zero pose with ``betas`` (fewer than the model's shape
    coefficients are padded with zeros; more are an error unless the extra ones are zero).
    """
    path = model_file(model_path, gender)
    smplx, torch = _import_smplx()
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(betas)):
        raise FormatError("betas contain NaN or inf", field="betas")
    try:
        model = smplx.create(str(path), model_type="smplx", gender=gender, ext=path.suffix[1:],
                             num_betas=max(len(betas), 1), use_pca=False)
    except (OSError, KeyError, ValueError, AssertionError) as exc:
        raise FormatError(f"not a readable SMPL-X model file: {exc}", path) from exc
    if np.any(betas[model.num_betas :] != 0):
        raise FormatError(
            f"{len(betas)} betas, but the model has {model.num_betas} shape coefficients (use a model with more, "
            "e.g. SMPL-X 2020's 300)", path, "betas"
        )
    shape = np.zeros(model.num_betas)
    shape[: min(len(betas), model.num_betas)] = betas[: model.num_betas]
    with torch.no_grad():
        output = model(betas=torch.as_tensor(shape[None], dtype=torch.float32))
    return output.joints[0, :_NUM_JOINTS].double().numpy()


def body_skeleton(model_path: str | Path, betas=(), gender: str = "neutral") -> Skeleton:
    """The ``smplx22`` skeleton of one body: bone offsets from its SMPL-X rest joints (z-up axes, metres).

    Same joint names, parents and roles as :func:`robomotion.skeletons.get_skeleton` ``("smplx22")``
    (so retargeting mappings apply); ``extras["pelvis_rest_smplx_frame"]`` is this body's rest pelvis.
    """
    joints = rest_joints(model_path, betas, gender)
    default = get_skeleton(SKELETON_NAME)
    offsets = np.zeros_like(joints)
    offsets[1:] = vectors_to_internal(joints[1:] - joints[default.parents[1:]])
    extras = {**default.extras, "pelvis_rest_smplx_frame": joints[0], "betas": np.asarray(betas, dtype=np.float64)}
    return Skeleton(default.name, default.joint_names, default.parents, offsets, default.roles, extras)


def read_amass_on_body(path: str | Path, model_path: str | Path, fps: float | None = None) -> HumanMotion:
    """An AMASS SMPL-X NPZ posed on the body it was captured with (its own ``betas`` and ``gender``).

    The joint rotations are the file's; the skeleton comes from :func:`body_skeleton`, and the root
    translation uses that body's rest pelvis (SMPL-X ``transl`` is the pelvis minus it).
    """
    motion = read_amass_npz(path, fps)
    betas = motion.metadata.get("betas", [])
    gender = str(motion.metadata.get("gender", "neutral")).lower()
    gender = gender if gender in GENDERS else "neutral"
    skeleton = body_skeleton(model_path, betas, gender)
    default_pelvis = np.asarray(motion.skeleton.extras["pelvis_rest_smplx_frame"], dtype=np.float64)
    shift = (skeleton.extras["pelvis_rest_smplx_frame"] - default_pelvis) @ INTERNAL_TO_AMASS
    metadata = {**motion.metadata, "body_model": model_file(model_path, gender).name}
    return HumanMotion(
        skeleton=skeleton,
        fps=motion.fps,
        root_translation=motion.root_translation + shift,
        local_rotations=motion.local_rotations,
        foot_contacts=motion.foot_contacts,
        metadata=metadata,
    )
