"""Motion file formats: read and write the files other robotics tools use.

::

    from robomotion.formats import load_motion, save_motion, detect_format, FORMATS
    motion = load_motion("walk.npz")                     # format from suffix and contents
    save_motion(motion, "walk.csv")                      # atomic write; returns the path
    save_motion(robot_motion, "walk_bm.npz", format="beyondmimic-npz", fps=50)

=====================  =========  =====================================================
format                 motion     files
=====================  =========  =====================================================
``kimodo-npz``         both       Kimodo NPZ (SOMA 77/30, SMPL-X 22; G1 34 ↔ RobotMotion)
``g1-csv``             robot      MuJoCo qpos CSV, 36 columns (Kimodo wxyz; ``quat_order="xyzw"``)
``seed-csv``           robot      BONES-SEED / soma-retargeter G1 CSV with header (read only)
``beyondmimic-npz``    robot      BeyondMimic / mjlab motion NPZ (+ joint and body names)
``amass-npz``          human      AMASS SMPL-X NPZ (smplx22)
``bvh``                human      BVH: any hierarchy in; SOMA (both rest variants) or any skeleton out
``mocap-npz``          human      the open mocap pack's clips (positions + texts; rotations fitted)
=====================  =========  =====================================================

Readers validate everything and raise :class:`~robomotion.errors.FormatError` naming the file,
the field and what was expected; writers write atomically (temporary file + rename).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from robomotion.errors import FormatError, UnknownNameError
from robomotion.motion import HumanMotion, RobotMotion

__all__ = [
    "FORMATS",
    "Format",
    "Motion",
    "describe",
    "detect_format",
    "get_format",
    "load_motion",
    "output_format",
    "save_motion",
]

Motion = HumanMotion | RobotMotion


@dataclass(frozen=True)
class Format:
    """One file format.

    Attributes:
        name: the name used by ``format=`` and the CLI's ``--from/--to``.
        description: one line for ``--help`` and docs.
        suffixes: file suffixes (lower case, with the dot).
        motion: which motion type it carries: ``"human"``, ``"robot"`` or ``"both"``.
        module: the ``robomotion.formats`` module implementing it (imported on first use).
        reader: reader function name in ``module`` (``None``: write-only).
        writer: writer function name in ``module`` (``None``: read-only).
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    motion: Literal["human", "robot", "both"]
    module: str
    reader: str | None
    writer: str | None

    def _function(self, attribute: str | None, action: str) -> Callable[..., Any]:
        if attribute is None:
            raise FormatError(f"format '{self.name}' cannot be {action} by robomotion", field="format")
        return getattr(importlib.import_module(f"robomotion.formats.{self.module}"), attribute)

    def read(self, path: str | Path, **options: Any) -> Motion:
        """Read ``path`` in this format."""
        return self._function(self.reader, "read")(path, **options)

    def write(self, motion: Motion, path: str | Path, **options: Any) -> Path:
        """Write ``motion`` to ``path`` in this format (atomically)."""
        return Path(self._function(self.writer, "written")(motion, path, **options))

    def accepts(self, motion: Motion) -> bool:
        """Whether this format stores ``motion``'s type."""
        kind = "robot" if isinstance(motion, RobotMotion) else "human"
        return self.motion in (kind, "both")


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "kimodo-npz",
            "Kimodo NPZ (posed_joints, rotation matrices; SOMA/SMPL-X/G1)",
            (".npz",),
            "both",
            "kimodo",
            "read_kimodo_npz",
            "write_kimodo_npz",
        ),
        Format(
            "g1-csv",
            "G1 MuJoCo qpos CSV, 36 columns, no header (Kimodo wxyz or Unitree/LAFAN xyzw)",
            (".csv",),
            "robot",
            "g1_csv",
            "read_g1_csv",
            "write_g1_csv",
        ),
        Format(
            "seed-csv",
            "BONES-SEED / soma-retargeter G1 CSV with header (cm, degrees; read only)",
            (".csv",),
            "robot",
            "g1_csv",
            "read_seed_csv",
            None,
        ),
        Format(
            "beyondmimic-npz",
            "BeyondMimic / mjlab motion NPZ (body poses and velocities, 50 fps)",
            (".npz",),
            "robot",
            "beyondmimic",
            "read_beyondmimic_npz",
            "write_beyondmimic_npz",
        ),
        Format(
            "amass-npz",
            "AMASS SMPL-X NPZ (trans, root_orient, pose_body, betas)",
            (".npz",),
            "human",
            "amass",
            "read_amass_npz",
            "write_amass_npz",
        ),
        Format(
            "bvh",
            "BVH motion capture (any hierarchy; SOMA rest variants)",
            (".bvh",),
            "human",
            "bvh",
            "read_bvh",
            "write_bvh",
        ),
        Format(
            "mocap-npz",
            "open mocap pack clip (22 SMPL joint positions + texts)",
            (".npz",),
            "human",
            "mocap",
            "read_mocap_npz",
            "write_mocap_npz",
        ),
    )
}

#: NPZ key sets that identify each format, tested in this order (AMASS before Kimodo, as Kimodo does).
_NPZ_SIGNATURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("amass-npz", ("trans", "root_orient", "pose_body")),
    ("amass-npz", ("trans", "poses")),
    ("beyondmimic-npz", ("joint_pos", "body_pos_w", "body_quat_w")),
    ("mocap-npz", ("positions", "joint_names")),
    ("kimodo-npz", ("local_rot_mats",)),
    ("kimodo-npz", ("posed_joints",)),
)


def get_format(name: str) -> Format:
    """The :class:`Format` called ``name``."""
    if name not in FORMATS:
        raise UnknownNameError("format", name, list(FORMATS))
    return FORMATS[name]


def detect_format(path: str | Path) -> str:
    """The format name of an existing file, from its suffix and contents.

    ``.bvh`` → ``bvh``; ``.csv`` → ``seed-csv`` when the first line is a header, else ``g1-csv``;
    ``.npz`` → by its keys (AMASS, BeyondMimic, mocap pack, Kimodo).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FormatError("file not found", path)
    if suffix == ".bvh":
        return "bvh"
    if suffix == ".csv":
        from robomotion.formats._io import is_header, read_first_line

        return "seed-csv" if is_header(read_first_line(path)) else "g1-csv"
    if suffix == ".npz":
        from robomotion.formats._io import npz_keys

        keys = set(npz_keys(path))
        for name, required in _NPZ_SIGNATURES:
            if keys.issuperset(required):
                return name
        raise FormatError(
            f"unrecognised NPZ keys {sorted(keys)}; expected Kimodo (posed_joints/local_rot_mats), AMASS "
            f"(trans, root_orient, pose_body), BeyondMimic (joint_pos, body_pos_w, body_quat_w) or mocap-pack "
            f"(positions, joint_names) keys",
            path,
            field="keys",
        )
    known = sorted({s for f in FORMATS.values() for s in f.suffixes})
    raise FormatError(f"unknown suffix '{suffix}'; expected one of {known} (or pass format=...)", path)


def output_format(motion: Motion, path: str | Path) -> str:
    """The format :func:`save_motion` picks for ``path`` when none is given.

    ``.csv`` → ``g1-csv``; ``.bvh`` → ``bvh``; ``.npz`` → a name hint (``amass``, ``beyondmimic``/``_bm``,
    ``mocap``, ``kimodo`` in the file name) or else ``beyondmimic-npz`` for robot motions and
    ``kimodo-npz`` for human motions.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "g1-csv"
    if suffix == ".bvh":
        return "bvh"
    if suffix == ".npz":
        stem = path.stem.lower()
        for hint, name in (
            ("amass", "amass-npz"),
            ("beyondmimic", "beyondmimic-npz"),
            ("_bm", "beyondmimic-npz"),
            ("mocap", "mocap-npz"),
            ("kimodo", "kimodo-npz"),
        ):
            if hint in stem:
                return name
        return "beyondmimic-npz" if isinstance(motion, RobotMotion) else "kimodo-npz"
    known = sorted({s for f in FORMATS.values() for s in f.suffixes})
    raise FormatError(f"unknown suffix '{suffix}'; expected one of {known} (or pass format=...)", path)


def load_motion(path: str | Path, format: str | None = None, **options: Any) -> Motion:
    """Read a motion file.

    Args:
        path: the file.
        format: a name from :data:`FORMATS`; ``None`` detects it (:func:`detect_format`).
        **options: format options (e.g. ``fps=`` for CSVs, ``quat_order="xyzw"``,
            ``as_robot=False`` for Kimodo G1 files, ``units="cm"`` for BVH).

    Returns:
        :class:`~robomotion.motion.HumanMotion` or :class:`~robomotion.motion.RobotMotion`.
    """
    name = format or detect_format(path)
    return get_format(name).read(path, **options)


def save_motion(motion: Motion, path: str | Path, format: str | None = None, **options: Any) -> Path:
    """Write ``motion`` to ``path`` atomically (a failed write leaves no file behind).

    Args:
        motion: a HumanMotion or RobotMotion the format can store.
        path: the output file.
        format: a name from :data:`FORMATS`; ``None`` picks one (:func:`output_format`).
        **options: format options (e.g. ``fps=50`` for BeyondMimic, ``quat_order="xyzw"``,
            ``standard_tpose=True`` for SOMA BVH).

    Returns:
        The written path.
    """
    spec = get_format(format or output_format(motion, path))
    if not spec.accepts(motion):
        kind = "robot" if isinstance(motion, RobotMotion) else "human"
        hint = (
            "retarget it to a robot first (robomotion retarget)"
            if kind == "human"
            else "it stores human skeleton motions"
        )
        raise FormatError(f"format '{spec.name}' cannot store a {kind} motion: {hint}", path, field="format")
    return spec.write(motion, path, **options)


def describe(motion: Motion) -> dict[str, Any]:
    """A JSON-serialisable summary of a motion (see :func:`robomotion.formats.summary.describe`)."""
    from robomotion.formats.summary import describe as _describe

    return _describe(motion)
