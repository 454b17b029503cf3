"""BVH motion capture files (``bvh``): read any hierarchy, write SOMA (both rest variants) or any skeleton.

Reading
    Any hierarchy: ``ROOT``/``JOINT``/``End Site`` blocks, any rotation channel order (intrinsic,
    in channel order: ``Zrotation Yrotation Xrotation`` is ``R = Rz Ry Rx``), 3 or 6 channels per
    joint, SEED-style 6-number ``OFFSET`` lines (the first 3 are the offset). Position channels
    set the translation of the top joint; on other joints they are ignored (offsets are used, as
    Kimodo does). A ``Root`` wrapper above a single child (SOMA/BONES-SEED files) is folded into
    that child. BVH is y-up with +z forward (Kimodo axes), converted to robomotion's z-up/+x
    forward. Units: ``units="auto"`` takes centimetres when the rest pose is larger than 5 file
    units, metres otherwise (or give ``units``/``scale``).

    The result is a :class:`~robomotion.motion.HumanMotion` on a skeleton built from the file,
    named ``bvh:<root joint>``, with roles for SOMA and CMU/Mixamo-style names (hips, knees,
    ankles, toes, shoulders, elbows, wrists, head). When the hierarchy is SOMA's 77 joints, the
    motion is on ``soma77`` (standard T-pose convention; a SEED-rest file is converted, see
    :mod:`robomotion.formats.soma`; the variant is detected from the offsets unless
    ``standard_tpose`` is given). Other built-in skeletons (``smplx22``, ...) are matched by
    joint names and tree the same way.

Writing
    A SOMA motion (``soma77``, or ``soma30`` expanded with relaxed hands) is written in Kimodo's
    layout: a ``Root`` wrapper, ``Hips`` with 6 channels, 76 joints with ``Zrotation Yrotation
    Xrotation``, no End Sites, centimetres, ``Hips`` OFFSET ``0 100 0`` with absolute position
    channels, 2-space indentation, at most 6 decimals. ``standard_tpose=False`` (default) writes
    the BONES-SEED rest (offsets and rotations in SEED frames), ``True`` the standard T-pose.
    Any other skeleton gets a generic BVH (its root with 6 channels, End Sites on leaves) that
    Blender and other tools open.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robomotion.atomic import write_text
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, read_text
from robomotion.formats.axes import matrices_to_internal, matrices_to_kimodo, vectors_to_internal, vectors_to_kimodo
from robomotion.formats.soma import (
    expand_soma30,
    is_soma77,
    seed_globals_from_standard,
    seed_offsets_from_standard,
    standard_globals_from_seed,
    standard_offsets_from_seed,
)
from robomotion.motion import HumanMotion
from robomotion.rotations import matrix_to_quat, quat_from_euler, quat_to_euler, quat_to_matrix
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton, list_skeletons

__all__ = ["read_bvh", "write_bvh", "BvhJoint", "parse_bvh", "ParsedBvh"]

_UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}
#: Rest-pose extent (file units) above which ``units="auto"`` assumes centimetres.
_AUTO_CM_EXTENT = 5.0
#: A BVH hierarchy whose offsets are within this (metres) of a built-in skeleton's uses it as is.
_SAME_OFFSETS_M = 0.002
_ROTATION_CHANNELS = {"xrotation": "X", "yrotation": "Y", "zrotation": "Z"}
_POSITION_CHANNELS = {"xposition": 0, "yposition": 1, "zposition": 2}
_KIMODO_SOMA_HIPS_OFFSET_CM = (0.0, 100.0, 0.0)
_INDENT = "  "
#: A joint has at most 3 position and 3 rotation channels.
_MAX_CHANNELS = 6


# ---------------------------------------------------------------------- parsing
@dataclass
class BvhJoint:
    """One ``ROOT``/``JOINT``/``End Site`` entry.

    Attributes:
        name: joint name (End Sites: ``<parent>_end``).
        parent: index of the parent entry, -1 for the root.
        offset: (3,) OFFSET in file units and axes.
        channels: channel names as written (``Xposition`` ... ``Zrotation``).
        end_site: whether this is an End Site (no channels, no rotation).
        first_channel: column of its first channel in a MOTION row.
    """

    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end_site: bool = False
    first_channel: int = 0


@dataclass
class ParsedBvh:
    """A BVH file as written: the hierarchy, the frame time and the raw channel values."""

    joints: list[BvhJoint]
    frame_time: float
    values: np.ndarray  # (T, channels)

    @property
    def fps(self) -> float:
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 0.01 else fps


def _number(token: str, path: Path, what: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise FormatError(f"expected a number for {what}, got '{token}'", path, field="HIERARCHY") from None
    if not np.isfinite(value):
        raise FormatError(f"{what} is NaN or inf", path, field="HIERARCHY")
    return value


def _channel_count(token: str, joint: str, path: Path) -> int:
    """A ``CHANNELS`` count: an integer from 0 to 6 (3 position + 3 rotation channels at most)."""
    try:
        count = int(token)
    except ValueError:
        raise FormatError(
            f"CHANNELS count of joint '{joint}' must be an integer from 0 to 6, got '{token}'", path, field="CHANNELS"
        ) from None
    if not 0 <= count <= _MAX_CHANNELS:
        raise FormatError(
            f"CHANNELS count of joint '{joint}' must be from 0 to {_MAX_CHANNELS}, got {count}", path, field="CHANNELS"
        )
    return count


def parse_bvh(path: str | Path) -> ParsedBvh:
    """Parse a BVH file without interpreting it (see :func:`read_bvh`)."""
    path = Path(path)
    text = read_text(path)
    match = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE)
    if not text.lstrip().startswith("HIERARCHY"):
        raise FormatError("does not start with HIERARCHY (not a BVH file)", path, field="HIERARCHY")
    if match is None:
        raise FormatError("has no MOTION section (truncated?)", path, field="MOTION")
    joints = _parse_hierarchy(text[: match.start()].split()[1:], path)
    frame_time, values = _parse_motion(text[match.end() :], joints, path)
    return ParsedBvh(joints, frame_time, values)


def _parse_hierarchy(tokens: list[str], path: Path) -> list[BvhJoint]:
    joints: list[BvhJoint] = []
    stack: list[int] = []
    channel_count = 0
    i = 0

    def need(count: int) -> None:
        if i + count > len(tokens):
            raise FormatError("hierarchy ends in the middle of a block (truncated?)", path, field="HIERARCHY")

    while i < len(tokens):
        token = tokens[i]
        upper = token.upper()
        if upper in ("ROOT", "JOINT", "END"):
            need(3)
            if upper == "ROOT" and joints:
                raise FormatError("more than one ROOT (multiple skeletons are not supported)", path, field="ROOT")
            if upper != "ROOT" and not stack:
                raise FormatError(f"{token} {tokens[i + 1]} outside any ROOT block", path, field="HIERARCHY")
            if tokens[i + 2] != "{":
                raise FormatError(f"expected '{{' after {token} {tokens[i + 1]}", path, field="HIERARCHY")
            parent = stack[-1] if stack else -1
            end = upper == "END"
            name = f"{joints[parent].name}_end" if end else tokens[i + 1]
            joints.append(BvhJoint(name, parent, np.zeros(3), end_site=end))
            stack.append(len(joints) - 1)
            i += 3
        elif upper == "OFFSET":
            need(4)
            if not stack:
                raise FormatError("OFFSET outside any joint", path, field="OFFSET")
            joints[stack[-1]].offset = np.array([_number(t, path, "OFFSET") for t in tokens[i + 1 : i + 4]])
            i += 4
            while i < len(tokens) and re.fullmatch(r"[-+0-9.eE]+", tokens[i]):  # SEED's 6-number OFFSET lines
                i += 1
        elif upper == "CHANNELS":
            need(2)
            if not stack or joints[stack[-1]].end_site:
                raise FormatError("CHANNELS outside a joint", path, field="CHANNELS")
            if joints[stack[-1]].channels:
                raise FormatError(f"joint '{joints[stack[-1]].name}' has two CHANNELS lines", path, field="CHANNELS")
            count = _channel_count(tokens[i + 1], joints[stack[-1]].name, path)
            need(2 + count)
            names = tokens[i + 2 : i + 2 + count]
            for name in names:
                if name.lower() not in _ROTATION_CHANNELS and name.lower() not in _POSITION_CHANNELS:
                    raise FormatError(
                        f"unknown channel '{name}' on joint '{joints[stack[-1]].name}'", path, field="CHANNELS"
                    )
            joints[stack[-1]].channels = list(names)
            joints[stack[-1]].first_channel = channel_count
            channel_count += count
            i += 2 + count
        elif token == "}":
            if not stack:
                raise FormatError("unbalanced '}'", path, field="HIERARCHY")
            stack.pop()
            i += 1
        else:
            raise FormatError(f"unexpected token '{token}'", path, field="HIERARCHY")
    if stack:
        raise FormatError("unclosed '{' in HIERARCHY (truncated?)", path, field="HIERARCHY")
    if not joints:
        raise FormatError("HIERARCHY has no ROOT", path, field="ROOT")
    names = [j.name for j in joints]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FormatError(f"duplicate joint names {duplicates}", path, field="HIERARCHY")
    return joints


def _parse_motion(text: str, joints: list[BvhJoint], path: Path) -> tuple[float, np.ndarray]:
    frames_match = re.search(r"Frames:\s*(\S+)", text)
    time_match = re.search(r"Frame\s+Time:\s*(\S+)", text)
    if frames_match is None or time_match is None:
        raise FormatError("MOTION needs 'Frames:' and 'Frame Time:' lines (truncated?)", path, field="MOTION")
    try:
        num_frames = int(frames_match.group(1))
        frame_time = float(time_match.group(1))
    except ValueError:
        raise FormatError("'Frames:' must be an integer and 'Frame Time:' a number", path, field="MOTION") from None
    if num_frames <= 0:
        raise FormatError(f"has {num_frames} frames; a motion needs at least one", path, field="Frames")
    if not np.isfinite(frame_time) or frame_time <= 0:
        raise FormatError(
            f"Frame Time must be a positive number of seconds, got {frame_time}", path, field="Frame Time"
        )
    channels = sum(len(j.channels) for j in joints)
    if channels == 0:
        raise FormatError("the hierarchy declares no CHANNELS, so there is no motion", path, field="CHANNELS")
    body = text[time_match.end() :].split()
    try:
        values = np.array(body, dtype=np.float64)
    except ValueError:
        bad = next(
            t for t in body if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|inf)", t, re.I)
        )
        raise FormatError(f"motion data holds '{bad}', which is not a number", path, field="MOTION") from None
    if values.size != num_frames * channels:
        complete = values.size // channels if channels else 0
        raise FormatError(
            f"expected {num_frames} frames x {channels} channels = {num_frames * channels} numbers, got "
            f"{values.size} ({complete} complete frames; truncated or wrong channel count?)",
            path,
            field="MOTION",
        )
    values = values.reshape(num_frames, channels)
    if not np.all(np.isfinite(values)):
        frame, column = np.argwhere(~np.isfinite(values))[0]
        raise FormatError(f"frame {frame}, channel {column} is NaN or inf", path, field="MOTION")
    return frame_time, values


# ---------------------------------------------------------------------- interpretation
def _rotation_order(joint: BvhJoint) -> tuple[str, list[int]]:
    """The joint's rotation axes in channel order (e.g. ``"ZYX"``) and their channel columns."""
    axes = [(c, i) for i, c in enumerate(joint.channels) if c.lower() in _ROTATION_CHANNELS]
    return "".join(_ROTATION_CHANNELS[c.lower()] for c, _ in axes), [joint.first_channel + i for _, i in axes]


def _local_rotations(joints: list[BvhJoint], values: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3) rotation of every joint's rotation channels (intrinsic, in channel order).

    Joints sharing a channel order are converted in one batch; joints without rotation
    channels (End Sites) get the identity.
    """
    local = np.broadcast_to(np.eye(3), (values.shape[0], len(joints), 3, 3)).copy()
    groups: dict[str, list[tuple[int, list[int]]]] = {}
    for index, joint in enumerate(joints):
        order, columns = _rotation_order(joint)
        if order:
            groups.setdefault(order, []).append((index, columns))
    for order, members in groups.items():
        angles = np.stack([values[:, columns] for _, columns in members], axis=1)  # (T, K, len(order))
        if len(order) < 3:  # scipy wants three axes: pad with unused ones at zero angle
            extra = "".join(a for a in "XYZ" if a not in order)[: 3 - len(order)]
            order += extra
            angles = np.concatenate([angles, np.zeros(angles.shape[:2] + (len(extra),))], axis=-1)
        local[:, [index for index, _ in members]] = quat_to_matrix(quat_from_euler(angles, order, degrees=True))
    return local


def _position(joint: BvhJoint, values: np.ndarray) -> np.ndarray | None:
    """(T, 3) position channels of a joint (missing axes from its OFFSET), or None without any."""
    columns = {
        (_POSITION_CHANNELS[c.lower()]): i for i, c in enumerate(joint.channels) if c.lower() in _POSITION_CHANNELS
    }
    if not columns:
        return None
    out = np.broadcast_to(joint.offset, (values.shape[0], 3)).copy()
    for axis, i in columns.items():
        out[:, axis] = values[:, joint.first_channel + i]
    return out


def _is_wrapper(parsed: ParsedBvh) -> bool:
    """A top joint that only carries its single child (SOMA's ``Root``) and never moves it."""
    joints = parsed.joints
    children = [j for j in joints if j.parent == 0 and not j.end_site]
    if len(children) != 1:
        return False
    root = joints[0]
    channel_values = parsed.values[:, root.first_channel : root.first_channel + len(root.channels)]
    return root.name.lower() == "root" or (not np.any(channel_values) and not np.any(root.offset))


def _scale(parsed: ParsedBvh, units: str, scale: float | None, path: Path) -> float:
    if scale is not None:
        if not np.isfinite(scale) or scale <= 0:
            raise FormatError(f"scale must be a positive number, got {scale}", path, field="scale")
        return float(scale)
    if units in _UNITS:
        return _UNITS[units]
    if units != "auto":
        raise FormatError(f"units must be one of {sorted(_UNITS)} or 'auto', got '{units}'", path, field="units")
    rest = np.zeros((len(parsed.joints), 3))
    for i, joint in enumerate(parsed.joints):
        if joint.parent >= 0:
            rest[i] = rest[joint.parent] + joint.offset
    extent = float(np.max(rest.max(axis=0) - rest.min(axis=0)))
    return 0.01 if extent > _AUTO_CM_EXTENT else 1.0


def read_bvh(
    path: str | Path,
    units: str = "auto",
    scale: float | None = None,
    end_sites: bool = False,
    standard_tpose: bool | None = None,
) -> HumanMotion:
    """Read a BVH file as a HumanMotion.

    Args:
        path: the ``.bvh``.
        units: ``"auto"``, ``"m"``, ``"cm"`` or ``"mm"`` (file units).
        scale: metres per file unit (overrides ``units``).
        end_sites: keep End Sites as extra (leaf) joints named ``<parent>_end``.
        standard_tpose: for SOMA files, ``True`` = standard T-pose rest, ``False`` = BONES-SEED
            rest; ``None`` detects it from the offsets.
    """
    path = Path(path)
    parsed = parse_bvh(path)
    metres = _scale(parsed, units, scale, path)
    keep = [i for i, j in enumerate(parsed.joints) if end_sites or not j.end_site]
    wrapper = _is_wrapper(parsed)
    if wrapper:
        keep = keep[1:]
    # FK in file axes: global rotations of every kept joint, translation of the top joint.
    values = parsed.values
    num_frames = values.shape[0]
    local = _local_rotations(parsed.joints, values)
    global_rot: dict[int, np.ndarray] = {}
    for i, joint in enumerate(parsed.joints):
        global_rot[i] = local[:, i] if joint.parent < 0 else global_rot[joint.parent] @ local[:, i]
    top = keep[0]
    top_joint = parsed.joints[top]
    translation = _position(top_joint, values)
    if translation is None:
        translation = np.broadcast_to(top_joint.offset, (num_frames, 3)).copy()
    if wrapper:
        root = parsed.joints[0]
        root_pos = _position(root, values)
        root_pos = np.broadcast_to(root.offset, (num_frames, 3)) if root_pos is None else root_pos
        translation = root_pos + np.einsum("tij,tj->ti", global_rot[0], translation)
    index = {old: new for new, old in enumerate(keep)}
    names = tuple(parsed.joints[i].name for i in keep)
    parents = np.array([-1] + [index[parsed.joints[i].parent] for i in keep[1:]])
    offsets = np.array([np.zeros(3)] + [parsed.joints[i].offset for i in keep[1:]]) * metres
    globals_file = np.stack([global_rot[i] for i in keep], axis=1)
    with errors_name(path):
        return _to_motion(path, names, parents, offsets, globals_file, translation * metres, parsed.fps, standard_tpose)


def _to_motion(
    path: Path,
    names: tuple[str, ...],
    parents: np.ndarray,
    offsets_file: np.ndarray,
    globals_file: np.ndarray,
    translation_file: np.ndarray,
    fps: float,
    standard_tpose: bool | None,
) -> HumanMotion:
    """Build the skeleton and motion (file axes = Kimodo axes → robomotion axes)."""
    metadata = {"source_file": path.name, "source_format": "bvh"}
    match = _matching_builtin(names, parents)
    builtin = None
    if match is not None:
        builtin, order = match
        offsets_file, globals_file, parents = offsets_file[order], globals_file[:, order], builtin.parents
    if builtin is not None and builtin.name == "soma77":
        if standard_tpose is None:
            standard_tpose = _closer_to_standard(offsets_file, builtin)
        if not standard_tpose:
            offsets_file = standard_offsets_from_seed(offsets_file, parents)
            globals_file = standard_globals_from_seed(globals_file)
        metadata["bvh_rest"] = "standard-tpose" if standard_tpose else "seed"
    offsets = vectors_to_internal(offsets_file)
    if builtin is not None:
        same = np.allclose(offsets, builtin.offsets, atol=_SAME_OFFSETS_M)
        skeleton = builtin if same else builtin.with_offsets(offsets)
    else:
        skeleton = Skeleton(f"bvh:{names[0]}", names, parents, offsets, roles=guess_roles(names, parents))
    global_int = matrices_to_internal(globals_file)
    return HumanMotion(
        skeleton=skeleton,
        fps=fps,
        root_translation=vectors_to_internal(translation_file),
        local_rotations=skeleton.local_from_global(global_int),
        metadata=metadata,
    )


def _matching_builtin(names: tuple[str, ...], parents: np.ndarray) -> tuple[Skeleton, np.ndarray] | None:
    """A built-in skeleton with the same joints and tree (any joint order), and the index map.

    Returns ``(skeleton, order)`` with ``names[order[k]] == skeleton.joint_names[k]``.
    """
    parent_of = {n: (names[p] if p >= 0 else None) for n, p in zip(names, parents)}
    for name in list_skeletons():
        skeleton = get_skeleton(name)
        if set(skeleton.joint_names) != set(names):
            continue
        if all(
            parent_of[n] == (skeleton.joint_names[p] if p >= 0 else None)
            for n, p in zip(skeleton.joint_names, skeleton.parents)
        ):
            order = np.array([names.index(n) for n in skeleton.joint_names])
            return (get_skeleton("smplx22") if name == "smpl22" else skeleton), order
    return None


def _closer_to_standard(offsets_file: np.ndarray, soma: Skeleton) -> bool:
    """Whether SOMA offsets (Kimodo axes, metres) look like the T-pose rest rather than SEED's."""
    standard = vectors_to_kimodo(soma.offsets)
    seed = np.asarray(soma.extras["seed_rest_offsets_cm_kimodo_axes"]) / 100.0
    return np.abs(offsets_file - standard).sum() <= np.abs(offsets_file - seed).sum()


# ---------------------------------------------------------------------- roles
#: Role → candidate joint names (compared without case, separators or ``namespace:`` prefixes).
#: CMU/Mixamo names first; SOMA's (where ``LeftLeg`` is the hip) are used when ``LeftShin`` exists.
_CMU_ROLES = {
    "pelvis": ["hips", "pelvis", "hip"],
    "spine": ["spine", "lowerback", "spine1", "waist"],
    "neck": ["neck", "neck1"],
    "head": ["head"],
    "left_hip": ["leftupleg", "leftthigh", "lthigh", "lupleg", "lefthip"],
    "right_hip": ["rightupleg", "rightthigh", "rthigh", "rupleg", "righthip"],
    "left_knee": ["leftleg", "leftshin", "leftcalf", "lcalf", "lshin", "leftknee", "leftlowleg"],
    "right_knee": ["rightleg", "rightshin", "rightcalf", "rcalf", "rshin", "rightknee", "rightlowleg"],
    "left_ankle": ["leftfoot", "leftankle", "lfoot"],
    "right_ankle": ["rightfoot", "rightankle", "rfoot"],
    "left_toe": ["lefttoebase", "lefttoe", "lefttoes", "ltoebase", "ltoe"],
    "right_toe": ["righttoebase", "righttoe", "righttoes", "rtoebase", "rtoe"],
    "left_collar": ["leftshoulder", "leftclavicle", "leftcollar", "lclavicle", "lcollar"],
    "right_collar": ["rightshoulder", "rightclavicle", "rightcollar", "rclavicle", "rcollar"],
    "left_shoulder": ["leftarm", "leftupperarm", "lupperarm", "luparm", "lhumerus"],
    "right_shoulder": ["rightarm", "rightupperarm", "rupperarm", "ruparm", "rhumerus"],
    "left_elbow": ["leftforearm", "leftlowerarm", "lforearm", "lelbow", "leftelbow"],
    "right_elbow": ["rightforearm", "rightlowerarm", "rforearm", "relbow", "rightelbow"],
    "left_wrist": ["lefthand", "leftwrist", "lhand", "lwrist"],
    "right_wrist": ["righthand", "rightwrist", "rhand", "rwrist"],
}


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.split(":")[-1].lower().replace("cc_base_", ""))


def guess_roles(names: tuple[str, ...], parents: np.ndarray) -> dict[str, str]:
    """Skeleton roles from joint names (SOMA or CMU/Mixamo-style); ``chest`` = the neck's parent."""
    plain = {_plain(n): n for n in names}
    if "leftshin" in plain and "leftleg" in plain:  # SOMA naming: Leg = hip, Shin = knee
        soma = get_skeleton("soma77").roles
        roles = {role: joint for role, joint in soma.items() if joint in names}
    else:
        roles = {}
        for role, candidates in _CMU_ROLES.items():
            found = next((plain[c] for c in candidates if c in plain), None)
            if found is not None and found not in roles.values():
                roles[role] = found
    if "neck" in roles and "chest" not in roles:
        parent = parents[names.index(roles["neck"])]
        if parent >= 0:
            roles["chest"] = names[parent]
    return roles


# ---------------------------------------------------------------------- writing
def _fmt(values: np.ndarray) -> str:
    """Space-separated numbers with at most 6 decimals, trailing zeros trimmed."""
    return _trim(" ".join(np.char.mod("%.6f", np.asarray(values, dtype=np.float64).ravel())))


def _fmt_rows(rows: np.ndarray) -> str:
    """One line per row, every number with 6 decimals (one C-level format call per row)."""
    rows = np.asarray(rows, dtype=np.float64)
    line = " ".join(["%.6f"] * rows.shape[1])
    return "\n".join(line % tuple(row) for row in rows.tolist())


def _trim(text: str) -> str:
    text = re.sub(r"(\.\d*?)0+(?=\s|$)", r"\1", text)  # 1.500000 -> 1.5, 2.000000 -> 2.
    text = re.sub(r"\.(?=\s|$)", "", text)  # 2. -> 2
    return re.sub(r"(?<!\S)-0(?=\s|$)", "0", text)  # -0 -> 0


def _euler_zyx_degrees(rotations: np.ndarray) -> np.ndarray:
    """(..., 3) intrinsic Z, Y, X angles (degrees) of rotation matrices (..., 3, 3)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Gimbal lock detected")
        return quat_to_euler(matrix_to_quat(rotations), "ZYX", degrees=True)


def _hierarchy(
    names: tuple[str, ...],
    parents: np.ndarray,
    offsets_cm: np.ndarray,
    end_sites: dict[int, np.ndarray],
    wrapper: bool,
    root_offset_cm: np.ndarray,
) -> list[str]:
    rotation = "Zrotation Yrotation Xrotation"
    six = f"CHANNELS 6 Xposition Yposition Zposition {rotation}"
    lines = ["HIERARCHY"]
    depth = 0
    if wrapper:
        lines += ["ROOT Root", "{", f"{_INDENT}OFFSET 0 0 0", f"{_INDENT}{six}"]
        depth = 1

    # Depth-first without recursion (a 3000-joint chain must not hit Python's recursion limit):
    # the stack holds joints to open and closing work ("close", joint) to do after their children.
    stack: list[tuple[str, int, int]] = [("open", 0, depth)]
    while stack:
        action, joint, level = stack.pop()
        pad = _INDENT * level
        if action == "close":
            if joint in end_sites:
                inner = pad + _INDENT
                lines.extend(
                    [f"{inner}End Site", f"{inner}{{", f"{inner}{_INDENT}OFFSET {_fmt(end_sites[joint])}", f"{inner}}}"]
                )
            lines.append(f"{pad}}}")
            continue
        keyword = "JOINT" if joint > 0 or wrapper else "ROOT"
        offset = root_offset_cm if joint == 0 else offsets_cm[joint]
        lines.extend([f"{pad}{keyword} {names[joint]}", f"{pad}{{", f"{pad}{_INDENT}OFFSET {_fmt(offset)}"])
        lines.append(f"{pad}{_INDENT}{six if joint == 0 else 'CHANNELS 3 ' + rotation}")
        stack.append(("close", joint, level))
        stack.extend(("open", int(child), level + 1) for child in reversed(np.flatnonzero(parents == joint).tolist()))
    if wrapper:
        lines.append("}")
    return lines


def _depth_first(parents: np.ndarray) -> list[int]:
    """Joint indices in the depth-first order a BVH hierarchy lists them (children by index)."""
    order: list[int] = []
    stack = [0]
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(reversed(np.flatnonzero(parents == joint).tolist()))
    return order


def write_bvh(motion: HumanMotion, path: str | Path, standard_tpose: bool = False) -> Path:
    """Write a BVH file (centimetres, y-up; atomic).

    Args:
        motion: any HumanMotion; SOMA motions (``soma77``, or ``soma30`` expanded with relaxed
            hands) use Kimodo's SOMA layout, other skeletons a generic layout.
        path: the output ``.bvh``.
        standard_tpose: SOMA only: write the standard T-pose rest instead of the BONES-SEED rest.
    """
    with errors_name(path):
        if motion.skeleton.joint_names == get_skeleton("soma30").joint_names:
            motion = expand_soma30(motion)
    skeleton = motion.skeleton
    soma = is_soma77(skeleton)
    offsets_cm = vectors_to_kimodo(skeleton.offsets) * 100.0
    global_k = matrices_to_kimodo(quat_to_matrix(motion.global_rotations))
    if soma and not standard_tpose:
        offsets_cm = seed_offsets_from_standard(offsets_cm, skeleton.parents)
        global_k = seed_globals_from_standard(global_k)
    local_k = global_k.copy()
    local_k[:, 1:] = np.swapaxes(global_k[:, skeleton.parents[1:]], -1, -2) @ global_k[:, 1:]
    if soma:
        end_sites: dict[int, np.ndarray] = {}
        root_offset = np.array(_KIMODO_SOMA_HIPS_OFFSET_CM)
    else:  # a short End Site continuing each leaf bone gives Blender a bone tail
        end_sites = {j: 0.5 * offsets_cm[j] for j in range(skeleton.num_joints) if not np.any(skeleton.parents == j)}
        root_offset = np.zeros(3)
    lines = _hierarchy(skeleton.joint_names, skeleton.parents, offsets_cm, end_sites, soma, root_offset)
    root_cm = vectors_to_kimodo(motion.root_translation) * 100.0
    angles = _euler_zyx_degrees(local_k[:, _depth_first(skeleton.parents)])  # (T, J, 3) Z, Y, X, file order
    rows = np.concatenate([root_cm, angles.reshape(motion.num_frames, -1)], axis=1)
    if soma:
        rows = np.concatenate([np.zeros((motion.num_frames, 6)), rows], axis=1)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps!r}"]
    return write_text(path, "\n".join(lines) + "\n" + _fmt_rows(rows) + "\n")
