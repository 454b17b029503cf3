"""Robot qpos CSV files: ``g1-csv`` (read/write) and ``seed-csv`` (read only).

``g1-csv`` — Kimodo-G1 / MuJoCo qpos rows: comma-separated, no header, one frame per row,
``7 + N`` numbers (36 for the G1): root position (m, z-up), root quaternion, the N hinge angles
(rad) in the MJCF joint order. Kimodo writes the quaternion ``w, x, y, z`` with ``%.18e``
(``numpy.savetxt``'s default) at an implied 30 fps; the Unitree LAFAN1 / GMR / BeyondMimic input
CSVs store it ``x, y, z, w`` — pass ``quat_order="xyzw"`` (it cannot be detected reliably).
The frame rate is not stored: ``fps`` (default 30) says what it is.

``seed-csv`` — BONES-SEED / soma-retargeter G1 CSV: a header ``Frame, root_translateX/Y/Z,
root_rotateX/Y/Z, <joint>_dof ...``; translation in cm, root rotation as extrinsic XYZ Euler
angles (``R = Rz Ry Rx``) in degrees, joint angles in degrees, 120 fps by default. Columns are
matched by name, so any column order works.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np

from robomotion.atomic import atomic_open
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, is_header, parse_csv_rows, read_text
from robomotion.motion import RobotMotion
from robomotion.rotations import quat_from_euler, wxyz_to_xyzw, xyzw_to_wxyz

__all__ = ["read_g1_csv", "write_g1_csv", "read_seed_csv", "G1_CSV_FPS", "SEED_CSV_FPS"]

G1_CSV_FPS = 30.0
SEED_CSV_FPS = 120.0
QuatOrder = Literal["wxyz", "xyzw"]


def _robot_joint_names(robot: str) -> tuple[str, ...]:
    from robomotion.robots import get_robot

    return get_robot(robot).joint_names


def _check_quat_order(quat_order: str, path: str | Path) -> None:
    if quat_order not in ("wxyz", "xyzw"):
        raise FormatError(f"quat_order must be 'wxyz' or 'xyzw', got '{quat_order}'", path, field="quat_order")


def _data_lines(text: str) -> tuple[list[str], int]:
    """Non-blank lines and the 1-based file line number of the first one."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return [line for line in lines[first:] if line.strip()], first + 1


def upright_share(quat_wxyz: np.ndarray) -> float:
    """Share of frames whose root z axis points up (world z component > 0.5) for ``(T, 4)`` wxyz rows."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    x, y = q[:, 1], q[:, 2]
    up_z = 1.0 - 2.0 * (x * x + y * y)  # R[2, 2]: z component of the body's z axis
    return float(np.mean(up_z > 0.5)) if len(q) else 1.0


def _warn_if_other_order_is_upright(columns: np.ndarray, quat_order: str, path: str | Path) -> None:
    """Say so (logger ``robomotion``) when the root is mostly not upright as read but is in the other order.

    A humanoid's pelvis is upright in almost every frame of a real motion; a CSV read with the wrong
    quaternion order (Unitree LAFAN1 / GMR / G1 Moves files are ``xyzw``) lies on its side.
    """
    as_read = columns if quat_order == "wxyz" else xyzw_to_wxyz(columns)
    other = xyzw_to_wxyz(columns) if quat_order == "wxyz" else columns
    if upright_share(as_read) < 0.5 and upright_share(other) > 0.9:
        other_name = "xyzw" if quat_order == "wxyz" else "wxyz"
        logging.getLogger("robomotion").warning(
            "%s: the root is not upright in most frames with quaternion order %s but is with %s; "
            "if the file is %s, read it with quat_order=%r (--quat-order %s)",
            path, quat_order, other_name, other_name, other_name, other_name,
        )


def read_g1_csv(
    path: str | Path, fps: float = G1_CSV_FPS, quat_order: QuatOrder = "wxyz", robot: str = "g1"
) -> RobotMotion:
    """Read a headerless qpos CSV (``7 + N`` columns) as a RobotMotion.

    Args:
        path: the ``.csv``.
        fps: its frame rate (not stored in the file; Kimodo and LAFAN1 use 30).
        quat_order: ``"wxyz"`` (Kimodo, MuJoCo) or ``"xyzw"`` (Unitree LAFAN1, GMR, BeyondMimic input).
        robot: the robot whose joint order the columns follow.
    """
    _check_quat_order(quat_order, path)
    names = _robot_joint_names(robot)
    lines, first = _data_lines(read_text(path))
    if lines and is_header(lines[0]):
        raise FormatError(
            "has a header row; a G1 qpos CSV has none (a BONES-SEED CSV with a header is format 'seed-csv')",
            path,
            field="header",
        )
    values = parse_csv_rows(lines, 7 + len(names), path, first)
    quat = values[:, 3:7] if quat_order == "wxyz" else xyzw_to_wxyz(values[:, 3:7])
    _warn_if_other_order_is_upright(values[:, 3:7], quat_order, path)
    with errors_name(path):
        return RobotMotion(
            robot=robot,
            fps=fps,
            root_pos=values[:, :3],
            root_quat=quat,
            joint_pos=values[:, 7:],
            joint_names=names,
            metadata={"source_file": Path(path).name, "source_format": "g1-csv", "quat_order": quat_order},
        )


def write_g1_csv(
    motion: RobotMotion, path: str | Path, quat_order: QuatOrder = "wxyz", fps: float | None = None
) -> Path:
    """Write qpos rows (``%.18e``, comma-separated, no header; atomic).

    Args:
        motion: the robot motion (joints are put in the robot's MJCF order by name).
        path: the output ``.csv``.
        quat_order: ``"wxyz"`` (Kimodo, default) or ``"xyzw"`` (Unitree LAFAN1 / BeyondMimic input).
        fps: resample to this rate first; ``None`` keeps the motion's rate (the file does not store it).
    """
    _check_quat_order(quat_order, path)
    with errors_name(path):
        motion = motion.reorder_joints(_robot_joint_names(motion.robot))
        if fps is not None:
            motion = motion.resample(fps)
    quat = motion.root_quat if quat_order == "wxyz" else wxyz_to_xyzw(motion.root_quat)
    rows = np.concatenate([motion.root_pos, quat, motion.joint_pos], axis=1)
    with atomic_open(path, "w") as handle:
        np.savetxt(handle, rows, delimiter=",")
    return Path(path)


def read_seed_csv(path: str | Path, fps: float = SEED_CSV_FPS, robot: str = "g1") -> RobotMotion:
    """Read a BONES-SEED / soma-retargeter G1 CSV (header; cm, degrees; 120 fps by default)."""
    names = _robot_joint_names(robot)
    lines, first = _data_lines(read_text(path))
    if not lines or not is_header(lines[0]):
        raise FormatError("expected a header row 'Frame, root_translateX, ...'", path, field="header")
    header = [h.strip() for h in lines[0].split(",")]
    root_columns = [f"root_translate{a}" for a in "XYZ"] + [f"root_rotate{a}" for a in "XYZ"]
    missing = [c for c in root_columns + [f"{n}_dof" for n in names] if c not in header]
    known = {"Frame", *root_columns, *(f"{n}_dof" for n in names)}
    unknown = [h for h in header if h not in known]
    if missing or unknown:
        raise FormatError(
            f"header does not match the {robot} joints: missing {missing}, unknown {unknown}", path, field="header"
        )
    values = parse_csv_rows(lines[1:], len(header), path, first + 1)
    column = {name: i for i, name in enumerate(header)}
    root_pos = values[:, [column[c] for c in root_columns[:3]]] / 100.0
    root_quat = quat_from_euler(values[:, [column[c] for c in root_columns[3:]]], "xyz", degrees=True)
    joint_pos = np.radians(values[:, [column[f"{n}_dof"] for n in names]])
    with errors_name(path):
        return RobotMotion(
            robot=robot,
            fps=fps,
            root_pos=root_pos,
            root_quat=root_quat,
            joint_pos=joint_pos,
            joint_names=names,
            metadata={"source_file": Path(path).name, "source_format": "seed-csv"},
        )
