"""One-look summaries of motions (what ``robomotion info`` prints).

All values are plain Python numbers and strings (JSON-serialisable): metres, seconds, radians.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robomotion.motion import HumanMotion, RobotMotion

__all__ = ["describe", "format_summary"]


def _travel(root: np.ndarray) -> dict[str, float]:
    """Horizontal path length, net displacement and height range of a root trajectory (T, 3)."""
    steps = np.linalg.norm(np.diff(root[:, :2], axis=0), axis=-1)
    return {
        "root_path_length_m": float(steps.sum()),
        "root_displacement_m": float(np.linalg.norm(root[-1, :2] - root[0, :2])),
        "root_height_min_m": float(root[:, 2].min()),
        "root_height_max_m": float(root[:, 2].max()),
    }


def describe(motion: HumanMotion | RobotMotion) -> dict[str, Any]:
    """A summary of a motion: type, size, timing, root travel and (robots) joint ranges vs limits.

    Robot joints are compared with the robot model's limits when the robot is known
    (``robomotion.robots``); ``joints_outside_limits`` lists each offending joint with the largest
    excursion (rad) and the fraction of frames outside.
    """
    summary: dict[str, Any] = {
        "frames": motion.num_frames,
        "fps": float(motion.fps),
        "duration_s": float(motion.duration),
    }
    if isinstance(motion, HumanMotion):
        skeleton = motion.skeleton
        summary.update(type="human", skeleton=skeleton.name, joints=skeleton.num_joints)
        summary.update(_travel(motion.root_translation))
        positions = motion.global_positions
        summary["lowest_joint_height_m"] = float(positions[..., 2].min())
        summary["highest_joint_height_m"] = float(positions[..., 2].max())
        if motion.metadata.get("texts"):
            summary["texts"] = [str(t) for t in motion.metadata["texts"]]
        return summary
    summary.update(type="robot", robot=motion.robot, joints=motion.num_joints)
    summary.update(_travel(motion.root_pos))
    summary["joint_min_rad"] = dict(zip(motion.joint_names, motion.joint_pos.min(axis=0).round(4).tolist()))
    summary["joint_max_rad"] = dict(zip(motion.joint_names, motion.joint_pos.max(axis=0).round(4).tolist()))
    limits = _limits(motion)
    if limits is not None:
        low, high = limits[:, 0], limits[:, 1]
        below = np.maximum(low - motion.joint_pos, 0.0)
        above = np.maximum(motion.joint_pos - high, 0.0)
        excursion = np.maximum(below, above)
        outside = {}
        for j, name in enumerate(motion.joint_names):
            if excursion[:, j].max() > 0:
                outside[name] = {
                    "max_excursion_rad": float(excursion[:, j].max()),
                    "fraction_of_frames": float(np.mean(excursion[:, j] > 0)),
                }
        summary["joints_outside_limits"] = outside
    return summary


def _limits(motion: RobotMotion) -> np.ndarray | None:
    """(N, 2) limits of the motion's joints from the robot model, or None for an unknown robot."""
    from robomotion.errors import UnknownNameError
    from robomotion.robots import get_robot

    try:
        spec = get_robot(motion.robot)
    except UnknownNameError:
        return None
    if not set(motion.joint_names) <= set(spec.joint_names):
        return None
    return spec.joint_limits[spec.joint_indices(motion.joint_names)]


def format_summary(summary: dict[str, Any], format_name: str | None = None) -> str:
    """Human-readable lines for a :func:`describe` summary."""
    lines = []
    if format_name:
        lines.append(f"format     {format_name}")
    if summary["type"] == "human":
        lines.append(f"skeleton   {summary['skeleton']} ({summary['joints']} joints)")
    else:
        lines.append(f"robot      {summary['robot']} ({summary['joints']} joints)")
    lines.append(f"frames     {summary['frames']} at {summary['fps']:g} fps = {summary['duration_s']:.3f} s")
    lines.append(
        f"root       travels {summary['root_path_length_m']:.3f} m (net {summary['root_displacement_m']:.3f} m), "
        f"height {summary['root_height_min_m']:.3f} .. {summary['root_height_max_m']:.3f} m"
    )
    if summary["type"] == "human":
        lines.append(
            f"joints     height {summary['lowest_joint_height_m']:.3f} .. {summary['highest_joint_height_m']:.3f} m"
        )
        for text in summary.get("texts", []):
            lines.append(f"text       {text}")
        return "\n".join(lines)
    lines.append("joint                          min rad   max rad")
    for name in summary["joint_min_rad"]:
        flag = ""
        outside = summary.get("joints_outside_limits", {}).get(name)
        if outside:
            excursion, fraction = outside["max_excursion_rad"], outside["fraction_of_frames"]
            flag = f"  OUTSIDE LIMITS by {excursion:.3f} rad in {fraction:.0%} of frames"
        lines.append(f"{name:<30} {summary['joint_min_rad'][name]:>8.3f}  {summary['joint_max_rad'][name]:>8.3f}{flag}")
    if "joints_outside_limits" in summary:
        count = len(summary["joints_outside_limits"])
        lines.append(
            f"limits     {count} joint(s) outside the model's limits"
            if count
            else "limits     all joints within the model's limits"
        )
    return "\n".join(lines)
