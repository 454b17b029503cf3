"""Kimodo constraints (JSON) as typed objects, in robomotion's frame.

Kimodo's constraints file (``kimodo_gen --constraints``) is a JSON array of objects with a
``type`` (``root2d``, ``fullbody``, ``left-hand``, ``right-hand``, ``left-foot``,
``right-foot``, ``end-effector``) and ``frame_indices`` (0-based frames of the whole clip).
Kimodo writes them in its axes (y-up, +Z forward, character's left = +X, metres); this module
converts to robomotion's (z-up, +x forward, +y left): ``p = (z_k, x_k, y_k)``, axis-angle
vectors likewise, and a Kimodo heading ``[cos t, sin t]`` is the same yaw angle ``t`` in our
frame (0 = facing +x, +pi/2 = facing +y, the character's initial left).

The canonical frame is Kimodo's: at frame 0 the pelvis is over the origin, facing +x.

Typed objects:

* :class:`Root2DConstraint`: pelvis ground position (and optionally heading) at frames.
* :class:`FullBodyConstraint`: whole poses (local rotations + pelvis position) at frames;
  MotionGPT-style "initial pose / last pose / key poses" are these
  (:func:`initial_pose`, :func:`final_pose`, :func:`key_poses`).
* :class:`EndEffectorConstraint`: poses whose hand/foot/hip chains are constrained
  (``joint_names`` from :data:`END_EFFECTOR_NAMES`); ``left-hand`` etc. are shorthands.

:func:`load_constraints` reads a file or a list of dicts and raises
:class:`~robomotion.errors.FormatError` naming the entry and field; :func:`save_constraints`
writes Kimodo's format back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union

import numpy as np

from robomotion.atomic import write_text
from robomotion.errors import FormatError
from robomotion.formats.axes import vectors_to_internal, vectors_to_kimodo
from robomotion.jsonio import read_json
from robomotion.motion import MAX_FRAMES, HumanMotion
from robomotion.rotations import quat_from_rotvec, quat_to_rotvec
from robomotion.skeleton import Skeleton

__all__ = [
    "END_EFFECTOR_CHAINS",
    "END_EFFECTOR_NAMES",
    "CONSTRAINT_TYPES",
    "Constraint",
    "Root2DConstraint",
    "FullBodyConstraint",
    "EndEffectorConstraint",
    "load_constraints",
    "save_constraints",
    "constraints_to_json",
    "initial_pose",
    "final_pose",
    "key_poses",
    "root_waypoints",
]

#: Kimodo end-effector base names -> the skeleton roles whose positions they constrain
#: (the first one's global rotation is constrained too).
END_EFFECTOR_CHAINS: dict[str, tuple[str, ...]] = {
    "LeftFoot": ("left_ankle", "left_toe"),
    "RightFoot": ("right_ankle", "right_toe"),
    "LeftHand": ("left_wrist",),
    "RightHand": ("right_wrist",),
    "Hips": ("pelvis",),
}
END_EFFECTOR_NAMES = tuple(END_EFFECTOR_CHAINS)
_SHORTHANDS = {"left-hand": "LeftHand", "right-hand": "RightHand", "left-foot": "LeftFoot", "right-foot": "RightFoot"}
CONSTRAINT_TYPES = ("root2d", "fullbody", *_SHORTHANDS, "end-effector")



def _frames(value: np.ndarray) -> np.ndarray:
    return np.asarray(value, dtype=np.int64).reshape(-1)


@dataclass(frozen=True, eq=False)
class Root2DConstraint:
    """Pelvis ground position (and optionally heading) at frames.

    Attributes:
        frame_indices: (K,) 0-based frames of the whole generated timeline.
        positions: (K, 2) pelvis x, y in the canonical frame, metres.
        headings: optional (K,) heading yaw, radians (0 = facing +x).
    """

    frame_indices: np.ndarray
    positions: np.ndarray
    headings: np.ndarray | None = None
    type: str = field(default="root2d", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_indices", _frames(self.frame_indices))
        object.__setattr__(self, "positions", np.asarray(self.positions, dtype=np.float64).reshape(-1, 2))
        if self.headings is not None:
            object.__setattr__(self, "headings", np.asarray(self.headings, dtype=np.float64).reshape(-1))

    def select(self, keep: np.ndarray, offset: int) -> Root2DConstraint:
        """Entries where ``keep`` is true, frames shifted by ``offset``."""
        return Root2DConstraint(
            self.frame_indices[keep] + offset,
            self.positions[keep],
            None if self.headings is None else self.headings[keep],
        )


@dataclass(frozen=True, eq=False)
class FullBodyConstraint:
    """Whole poses at frames.

    Attributes:
        frame_indices: (K,) 0-based frames.
        local_rotations: (K, J, 4) local joint rotations (w, x, y, z) on the model skeleton.
        root_positions: (K, 3) pelvis world positions, metres.
        root_xy: optional (K, 2) pelvis ground target (Kimodo's ``smooth_root_2d``); defaults
            to ``root_positions[:, :2]``.
    """

    frame_indices: np.ndarray
    local_rotations: np.ndarray
    root_positions: np.ndarray
    root_xy: np.ndarray | None = None
    type: str = field(default="fullbody", init=False)

    def __post_init__(self) -> None:
        _init_pose_fields(self)

    def select(self, keep: np.ndarray, offset: int) -> FullBodyConstraint:
        return replace(self, **_selected_pose_fields(self, keep, offset))


@dataclass(frozen=True, eq=False)
class EndEffectorConstraint:
    """Poses of which only the named chains (and the root) are constrained.

    Attributes:
        frame_indices, local_rotations, root_positions, root_xy: as :class:`FullBodyConstraint`.
        joint_names: base names from :data:`END_EFFECTOR_NAMES` (``LeftFoot``, ``RightHand``, ...).
        type: ``end-effector`` or a shorthand (``left-hand``, ``right-foot``, ...), kept for saving.
    """

    frame_indices: np.ndarray
    local_rotations: np.ndarray
    root_positions: np.ndarray
    joint_names: tuple[str, ...]
    root_xy: np.ndarray | None = None
    type: str = "end-effector"

    def __post_init__(self) -> None:
        _init_pose_fields(self)
        names = tuple(str(n) for n in self.joint_names)
        unknown = [n for n in names if n not in END_EFFECTOR_CHAINS]
        if unknown or not names:
            raise FormatError(f"joint_names must be a non-empty subset of {list(END_EFFECTOR_NAMES)}, got {list(names)}")
        object.__setattr__(self, "joint_names", names)

    def select(self, keep: np.ndarray, offset: int) -> EndEffectorConstraint:
        return replace(self, **_selected_pose_fields(self, keep, offset))


Constraint = Union[Root2DConstraint, FullBodyConstraint, EndEffectorConstraint]


def _init_pose_fields(obj: Any) -> None:
    object.__setattr__(obj, "frame_indices", _frames(obj.frame_indices))
    object.__setattr__(obj, "local_rotations", np.asarray(obj.local_rotations, dtype=np.float64))
    object.__setattr__(obj, "root_positions", np.asarray(obj.root_positions, dtype=np.float64).reshape(-1, 3))
    xy = obj.root_positions[:, :2] if obj.root_xy is None else np.asarray(obj.root_xy, dtype=np.float64).reshape(-1, 2)
    object.__setattr__(obj, "root_xy", xy)


def _selected_pose_fields(obj: Any, keep: np.ndarray, offset: int) -> dict:
    return {
        "frame_indices": obj.frame_indices[keep] + offset,
        "local_rotations": obj.local_rotations[keep],
        "root_positions": obj.root_positions[keep],
        "root_xy": obj.root_xy[keep],
    }


# ---------------------------------------------------------------------- loading
def _array(entry: dict, key: str, shape: tuple, where: tuple[str | None, str]) -> np.ndarray:
    path, label = where
    field_name = f"{label}.{key}"
    if key not in entry:
        raise FormatError(f"missing required field '{key}'", path, field_name)
    try:
        value = np.asarray(entry[key], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise FormatError("must be a nested list of numbers", path, field_name) from None
    if value.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
        pretty = "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"
        raise FormatError(f"expected shape {pretty}, got {list(value.shape)}", path, field_name)
    if not np.all(np.isfinite(value)):
        raise FormatError("contains NaN or inf", path, field_name)
    return value


def _entry_frames(entry: dict, where: tuple[str | None, str]) -> np.ndarray:
    path, label = where
    raw = entry.get("frame_indices")
    if raw is None:
        raise FormatError("missing required field 'frame_indices'", path, f"{label}.frame_indices")
    values = np.asarray(raw)
    if values.ndim != 1 or values.size == 0 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in raw):
        raise FormatError("must be a non-empty list of integers", path, f"{label}.frame_indices")
    if np.any(values < 0):
        raise FormatError("frame indices must be >= 0", path, f"{label}.frame_indices")
    if np.any(values >= MAX_FRAMES):
        raise FormatError(f"frame indices must be < {MAX_FRAMES}", path, f"{label}.frame_indices")
    return values.astype(np.int64)


def _accepted_joint_counts(skeleton: Skeleton | None) -> tuple[int, ...]:
    """Joint counts ``local_joints_rot`` may have for a model skeleton (SOMA77 also takes Kimodo's 30)."""
    if skeleton is None:
        return ()
    return (77, 30) if skeleton.name == "soma77" else (skeleton.num_joints,)


def _entry_pose(entry: dict, count: int, skeleton: Skeleton | None, where: tuple[str | None, str]) -> dict:
    path, label = where
    rotvecs = _array(entry, "local_joints_rot", (count, None, 3), where)
    joints = rotvecs.shape[1]
    accepted = _accepted_joint_counts(skeleton)
    if accepted and joints not in accepted:
        raise FormatError(
            f"has {joints} joints but the model skeleton '{skeleton.name}' takes {' or '.join(map(str, accepted))}",
            path,
            f"{label}.local_joints_rot",
        )
    root = _array(entry, "root_positions", (count, 3), where)
    out = {"local_rotations": quat_from_rotvec(vectors_to_internal(rotvecs)), "root_positions": vectors_to_internal(root)}
    if "smooth_root_2d" in entry:
        xz = _array(entry, "smooth_root_2d", (count, None), where)
        out["root_xy"] = xz[:, [1, 0]]
    return out


def _parse_entry(entry: Any, index: int, skeleton: Skeleton | None, path: str | None) -> Constraint:
    if not isinstance(entry, dict):
        raise FormatError(f"entry {index} must be an object, got {type(entry).__name__}", path, f"[{index}]")
    kind = entry.get("type")
    label = f"[{index}]"
    if kind not in CONSTRAINT_TYPES:
        raise FormatError(f"entry {index}: unknown type {kind!r}; expected one of {list(CONSTRAINT_TYPES)}", path, f"{label}.type")
    label = f"[{index}] ({kind})"
    where = (path, label)
    frames = _entry_frames(entry, where)
    count = len(frames)
    if kind == "root2d":
        xz = _array(entry, "smooth_root_2d", (count, None), where)
        if xz.shape[1] < 2:
            raise FormatError("needs 2 values [x, z] per row", path, f"{label}.smooth_root_2d")
        headings = None
        if entry.get("global_root_heading") is not None:
            cs = _array(entry, "global_root_heading", (count, 2), where)
            headings = np.arctan2(cs[:, 1], cs[:, 0])
        return Root2DConstraint(frames, xz[:, [1, 0]], headings)
    pose = _entry_pose(entry, count, skeleton, where)
    if kind == "fullbody":
        return FullBodyConstraint(frames, **pose)
    if kind == "end-effector":
        names = entry.get("joint_names")
        if not isinstance(names, list) or not names or any(n not in END_EFFECTOR_CHAINS for n in names):
            raise FormatError(
                f"must be a non-empty list of names from {list(END_EFFECTOR_NAMES)}, got {names!r}",
                path,
                f"{label}.joint_names",
            )
        return EndEffectorConstraint(frames, joint_names=tuple(names), **pose)
    return EndEffectorConstraint(frames, joint_names=(_SHORTHANDS[kind],), type=kind, **pose)


def load_constraints(source: str | Path | Sequence[dict], skeleton: Skeleton | None = None) -> list[Constraint]:
    """Constraints from a Kimodo JSON file (path) or an already parsed list of dicts.

    Args:
        source: path of the JSON file, or its parsed list.
        skeleton: the model skeleton; its joint count is checked against ``local_joints_rot``.

    Raises:
        FormatError: unreadable JSON, not a list, unknown type, missing/mis-shaped field.
    """
    path = None
    data = source
    if isinstance(source, (str, Path)):
        path = str(source)
        data = read_json(source, "constraints file")
    if not isinstance(data, list):
        raise FormatError(f"a constraints file must be a JSON array of objects, got {type(data).__name__}", path)
    return [_parse_entry(entry, i, skeleton, path) for i, entry in enumerate(data)]


def _pose_json(c: FullBodyConstraint | EndEffectorConstraint) -> dict:
    return {
        "frame_indices": c.frame_indices.tolist(),
        "root_positions": vectors_to_kimodo(c.root_positions).tolist(),
        "smooth_root_2d": c.root_xy[:, [1, 0]].tolist(),
        "local_joints_rot": vectors_to_kimodo(quat_to_rotvec(c.local_rotations)).tolist(),
    }


def constraints_to_json(constraints: Sequence[Constraint]) -> list[dict]:
    """Kimodo's JSON list (Kimodo axes) for typed constraints."""
    out = []
    for c in constraints:
        if isinstance(c, Root2DConstraint):
            item = {"type": "root2d", "frame_indices": c.frame_indices.tolist(), "smooth_root_2d": c.positions[:, [1, 0]].tolist()}
            if c.headings is not None:
                item["global_root_heading"] = np.stack([np.cos(c.headings), np.sin(c.headings)], -1).tolist()
        elif isinstance(c, FullBodyConstraint):
            item = {"type": "fullbody", **_pose_json(c)}
        else:
            item = {"type": c.type, **_pose_json(c)}
            if c.type == "end-effector":
                item["joint_names"] = list(c.joint_names)
        out.append(item)
    return out


def save_constraints(path: str | Path, constraints: Sequence[Constraint]) -> Path:
    """Write constraints as a Kimodo JSON file (indent 2), atomically."""
    return write_text(path, json.dumps(constraints_to_json(constraints), indent=2) + "\n")


# ---------------------------------------------------------------------- helpers
def key_poses(motion: HumanMotion, source_frames: Sequence[int], target_frames: Sequence[int] | None = None) -> FullBodyConstraint:
    """Full-body keyframes copied from ``motion`` (frames ``source_frames``), placed at ``target_frames``.

    The poses keep their world position; move ``motion`` first to place them elsewhere.
    """
    source = np.asarray(source_frames, dtype=np.int64).reshape(-1)
    if np.any(source < 0) or np.any(source >= motion.num_frames):
        raise FormatError(f"source frames {source.tolist()} outside the motion's {motion.num_frames} frames", field="frames")
    target = source if target_frames is None else np.asarray(target_frames, dtype=np.int64).reshape(-1)
    if target.shape != source.shape:
        raise FormatError("source_frames and target_frames differ in length", field="target_frames")
    return FullBodyConstraint(target, motion.local_rotations[source], motion.root_translation[source])


def initial_pose(motion: HumanMotion, source_frame: int = 0) -> FullBodyConstraint:
    """MotionGPT-style "initial pose": frame ``source_frame`` of ``motion`` at frame 0."""
    return key_poses(motion, [source_frame], [0])


def final_pose(motion: HumanMotion, at_frame: int, source_frame: int = -1) -> FullBodyConstraint:
    """MotionGPT-style "last pose": a frame of ``motion`` (default its last) at ``at_frame``."""
    return key_poses(motion, [source_frame % motion.num_frames], [at_frame])


def root_waypoints(frame_indices: Sequence[int], positions: np.ndarray, headings: Sequence[float] | None = None) -> Root2DConstraint:
    """Pelvis ground waypoints (x, y metres, canonical frame), optionally with headings (radians)."""
    return Root2DConstraint(np.asarray(frame_indices), np.asarray(positions, dtype=np.float64), headings)
