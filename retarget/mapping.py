"""Joint-to-robot mappings: which human joints drive which robot bodies, one JSON file per source skeleton.

Files live in ``retarget/mappings/<name>.json`` (package data). Human joints are named as in the
source skeleton; a role (``"left_ankle"``, see :mod:`robomotion.skeleton`) works too. A mapping has:

* ``rest``: ``"skeleton"`` when the skeleton's rest pose is the rig's real rest (SOMA, SMPL-X,
  BVH): frames are measured relative to it; ``"upright"`` when the rest pose is unknown (joint
  positions only, e.g. the mocap pack): lateral lines count as level and ``up`` as vertical.
* ``root``: the human hip joints whose midpoint places the robot's hips (``robot_hips``), and the
  robot's floating-base body.
* ``frames``: orientation targets built from joint *positions* (robust to missing or fitted
  rotations): ``lateral`` goes from the mean of the first joint list to the mean of the second
  (towards the subject's left), ``up`` likewise (up the body). The robot body is upright and faces
  +x when the human frame equals its rest-pose value.
* ``limbs``: chains of three joints (hip-knee-ankle, shoulder-elbow-wrist) and the robot bodies
  at the same places; bone *directions* are kept, bone *lengths* become the robot's. An arm may
  set ``min_abduction`` (degrees): arms hanging closer to the body than that are swung out to it
  (fading out by 45 degrees of abduction), because the robot's hips are wider than a person's
  relative to its shoulders and hanging hands would hit them.
* ``feet``: ankle and toe joints per side and the robot foot body (contacts and foot orientation).

Every entry has an optional ``weight`` multiplier (default 1). ``posture`` (optional) maps robot
joint name patterns (``fnmatch``) to posture weights (1/rad) that replace the default pull towards
the home pose, for joints the targets barely see (e.g. the G1's wrists when the source has no
hand orientation). To support a new skeleton, copy a
file, rename the joints and list the skeleton's name under ``skeletons``.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError, UnknownNameError
from robomotion.skeleton import Skeleton

__all__ = [
    "FrameTarget",
    "FootMapping",
    "LimbMapping",
    "Mapping",
    "RootMapping",
    "list_mappings",
    "load_mapping",
    "mapping_for_skeleton",
]

#: How frame targets are referenced (see the module docstring).
REST_POLICIES = ("skeleton", "upright")


@dataclass(frozen=True)
class RootMapping:
    robot_body: str
    hips: tuple[str, str]
    robot_hips: tuple[str, str]


@dataclass(frozen=True)
class FrameTarget:
    name: str
    robot_body: str
    lateral: tuple[tuple[str, ...], tuple[str, ...]]
    up: tuple[tuple[str, ...], tuple[str, ...]]
    weight: float = 1.0


@dataclass(frozen=True)
class LimbMapping:
    name: str
    human: tuple[str, str, str]
    robot: tuple[str, str, str]
    weight: float = 1.0
    min_abduction: float = 0.0


@dataclass(frozen=True)
class FootMapping:
    side: str
    ankle: str
    toe: str
    robot_body: str


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (see the module docstring)."""

    name: str
    description: str
    skeletons: tuple[str, ...]
    robot: str
    rest: str
    root: RootMapping
    frames: tuple[FrameTarget, ...]
    limbs: tuple[LimbMapping, ...]
    feet: tuple[FootMapping, FootMapping]
    posture: tuple[tuple[str, float], ...] = ()
    path: Path | None = None

    def posture_weight(self, joint: str, default: float) -> float:
        """Posture weight of a robot joint: the first matching ``posture`` pattern, else ``default``."""
        for pattern, weight in self.posture:
            if fnmatch.fnmatchcase(joint, pattern):
                return weight
        return default

    def human_joints(self) -> list[str]:
        """Every human joint name (or role) the mapping refers to."""
        names = list(self.root.hips)
        for frame in self.frames:
            names += [*frame.lateral[0], *frame.lateral[1], *frame.up[0], *frame.up[1]]
        for limb in self.limbs:
            names += list(limb.human)
        for foot in self.feet:
            names += [foot.ankle, foot.toe]
        return list(dict.fromkeys(names))

    def robot_bodies(self) -> list[str]:
        """Every robot body name the mapping refers to."""
        names = [self.root.robot_body, *self.root.robot_hips] + [f.robot_body for f in self.frames]
        for limb in self.limbs:
            names += list(limb.robot)
        names += [foot.robot_body for foot in self.feet]
        return list(dict.fromkeys(names))

    def missing_joints(self, skeleton: Skeleton) -> list[str]:
        """Joints (or roles) of this mapping that ``skeleton`` lacks."""
        known = set(skeleton.joint_names) | set(skeleton.roles)
        return [name for name in self.human_joints() if name not in known]


def _mappings_dir() -> Path:
    return Path(str(resources.files("robomotion.retarget").joinpath("mappings")))


def list_mappings() -> list[str]:
    """Names of the shipped mapping files."""
    return sorted(p.stem for p in _mappings_dir().glob("*.json"))


def _field(data: dict, key: str, path: Path, kind: type | tuple = str):
    if key not in data:
        raise FormatError(f"missing key '{key}'", path, key)
    value = data[key]
    if not isinstance(value, kind):
        raise FormatError(f"expected {kind}, got {type(value).__name__}", path, key)
    return value


def _names(value, path: Path, key: str, count: int | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise FormatError("expected a non-empty list of joint names", path, key)
    if count is not None and len(value) != count:
        raise FormatError(f"expected {count} names, got {len(value)}", path, key)
    return tuple(value)


def _weight(entry: dict, path: Path, key: str) -> float:
    weight = entry.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or weight < 0:
        raise FormatError(f"weight must be a non-negative number, got {weight!r}", path, key)
    return float(weight)


def _degrees(entry: dict, path: Path, key: str) -> float:
    value = entry.get("min_abduction", 0.0)
    if not isinstance(value, (int, float)) or not 0 <= value < 90:
        raise FormatError(f"expected degrees in [0, 90), got {value!r}", path, key)
    return float(np.radians(value))


def parse_mapping(data: dict, path: Path) -> Mapping:
    """Validate and convert the JSON content of a mapping file."""
    root = _field(data, "root", path, dict)
    frames = []
    for i, entry in enumerate(_field(data, "frames", path, list)):
        key = f"frames[{i}]"
        pair = entry.get("lateral"), entry.get("up")
        if any(not isinstance(p, list) or len(p) != 2 for p in pair):
            raise FormatError("'lateral' and 'up' must be [from_joints, to_joints]", path, key)
        frames.append(
            FrameTarget(
                name=_field(entry, "name", path),
                robot_body=_field(entry, "robot_body", path),
                lateral=(_names(pair[0][0], path, key), _names(pair[0][1], path, key)),
                up=(_names(pair[1][0], path, key), _names(pair[1][1], path, key)),
                weight=_weight(entry, path, key),
            )
        )
    limbs = [
        LimbMapping(
            name=_field(entry, "name", path),
            human=_names(entry.get("human"), path, f"limbs[{i}].human", 3),
            robot=_names(entry.get("robot"), path, f"limbs[{i}].robot", 3),
            weight=_weight(entry, path, f"limbs[{i}]"),
            min_abduction=_degrees(entry, path, f"limbs[{i}].min_abduction"),
        )
        for i, entry in enumerate(_field(data, "limbs", path, list))
    ]
    feet = [
        FootMapping(
            side=_field(entry, "side", path),
            ankle=_field(entry, "ankle", path),
            toe=_field(entry, "toe", path),
            robot_body=_field(entry, "robot_body", path),
        )
        for entry in _field(data, "feet", path, list)
    ]
    posture = data.get("posture", {})
    if not isinstance(posture, dict) or not all(isinstance(w, (int, float)) and w >= 0 for w in posture.values()):
        raise FormatError("expected {joint pattern: non-negative weight}", path, "posture")
    rest = data.get("rest", "skeleton")
    if rest not in REST_POLICIES:
        raise FormatError(f"expected one of {REST_POLICIES}, got {rest!r}", path, "rest")
    if [f.side for f in feet] != ["left", "right"]:
        raise FormatError("expected two feet, 'left' then 'right'", path, "feet")
    return Mapping(
        name=_field(data, "name", path),
        description=str(data.get("description", "")),
        skeletons=_names(_field(data, "skeletons", path, list), path, "skeletons"),
        robot=_field(data, "robot", path),
        rest=rest,
        root=RootMapping(
            robot_body=_field(root, "robot_body", path),
            hips=_names(root.get("hips"), path, "root.hips", 2),
            robot_hips=_names(root.get("robot_hips"), path, "root.robot_hips", 2),
        ),
        frames=tuple(frames),
        limbs=tuple(limbs),
        feet=(feet[0], feet[1]),
        posture=tuple((str(k), float(v)) for k, v in posture.items()),
        path=path,
    )


@cache
def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``"smpl22"``) or any mapping file by path."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = _mappings_dir() / f"{name_or_path}.json"
        if not path.is_file():
            raise UnknownNameError("retarget mapping", name_or_path, list_mappings())
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FormatError(f"cannot read mapping: {exc}", path) from exc
    if not isinstance(data, dict):
        raise FormatError("expected a JSON object", path)
    return parse_mapping(data, path)


def mapping_for_skeleton(skeleton: Skeleton, robot: str = "g1") -> Mapping:
    """The mapping for ``skeleton``: one that lists its name, else the first whose joints it has.

    Raises :class:`FormatError` naming the skeleton and what each mapping lacks.
    """
    mappings = [m for m in (load_mapping(n) for n in list_mappings()) if m.robot == robot]
    for mapping in mappings:
        if skeleton.name in mapping.skeletons:
            missing = mapping.missing_joints(skeleton)
            if missing:
                raise FormatError(
                    f"skeleton '{skeleton.name}' lacks joints {missing} that mapping '{mapping.name}' needs",
                    mapping.path,
                    "skeletons",
                )
            return mapping
    for mapping in mappings:
        if not mapping.missing_joints(skeleton):
            return mapping
    reasons = "; ".join(f"{m.name} lacks {m.missing_joints(skeleton)[:4]}" for m in mappings)
    raise FormatError(
        f"no retarget mapping to '{robot}' fits skeleton '{skeleton.name}' ({skeleton.num_joints} joints: "
        f"{', '.join(skeleton.joint_names[:8])}, ...): {reasons}. Add a file to retarget/mappings/.",
        field="skeleton",
    )
