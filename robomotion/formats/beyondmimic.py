"""BeyondMimic / mjlab motion NPZ (``beyondmimic-npz``): the reference motions tracking policies train on.

Written like mjlab's ``csv_to_npz``: the qpos trajectory is resampled to ``fps`` (50 by default;
linear for positions and joints, slerp for the root quaternion, sample times ``0, dt, ...``
strictly below the clip's duration, so the last input frame may be dropped), replayed through
forward kinematics of our G1 MuJoCo model (:func:`robomotion.robots.kinematics.body_trajectories`)
and saved with ``numpy.savez``:

====================  ===============  ==============================================
key                   shape            content
====================  ===============  ==============================================
``fps``               (1,)             frame rate
``joint_pos``         (T, N) f32       hinge angles, rad, MJCF order
``joint_vel``         (T, N) f32       rad/s, central differences
``body_pos_w``        (T, B, 3) f32    world body positions, m (all B bodies, MJCF order)
``body_quat_w``       (T, B, 4) f32    world body orientations (w, x, y, z)
``body_lin_vel_w``    (T, B, 3) f32    m/s
``body_ang_vel_w``    (T, B, 3) f32    rad/s, ``log(q[t+1] q[t-1]^-1) / 2dt``
``joint_names``       (N,) str         robomotion addition (holosoma does the same), so the
``body_names``        (B,) str         file is not tied to one simulator's ordering
====================  ===============  ==============================================

Reading takes the root pose from the root body (pelvis) and the joints by name when the names
are present (otherwise the robot's MJCF order is assumed, as mjlab does).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robomotion.atomic import save_npz
from robomotion.errors import FormatError
from robomotion.formats._io import errors_name, float_array, frame_rate, load_npz, require_keys, text_list
from robomotion.motion import RobotMotion, resample_times

__all__ = ["read_beyondmimic_npz", "write_beyondmimic_npz", "BEYONDMIMIC_FPS", "resample_like_mjlab"]

#: mjlab's default output frame rate.
BEYONDMIMIC_FPS = 50.0
_REQUIRED = ("fps", "joint_pos", "body_pos_w", "body_quat_w")


def resample_like_mjlab(motion: RobotMotion, fps: float) -> RobotMotion:
    """Resample as mjlab's ``csv_to_npz`` does: sample times strictly below the clip's duration.

    An unchanged frame rate returns the motion as it is.
    """
    if np.isclose(fps, motion.fps):
        return motion
    resampled = motion.resample(fps)
    duration = (motion.num_frames - 1) / motion.fps
    last_time = resample_times(motion.num_frames, motion.fps, fps)[-1] / motion.fps
    if resampled.num_frames > 1 and np.isclose(last_time, duration, rtol=0.0, atol=1e-9):
        resampled = resampled.trim(0, resampled.num_frames - 1)
    return resampled


def write_beyondmimic_npz(motion: RobotMotion, path: str | Path, fps: float = BEYONDMIMIC_FPS) -> Path:
    """Write a BeyondMimic / mjlab motion NPZ (atomic).

    Args:
        motion: the robot motion (joints matched to the model by name).
        path: the output ``.npz``.
        fps: output frame rate (mjlab's default 50); the motion is resampled as mjlab does.
    """
    from robomotion.robots import get_robot
    from robomotion.robots.kinematics import body_trajectories

    spec = get_robot(motion.robot)
    with errors_name(path):
        motion = resample_like_mjlab(motion.reorder_joints(spec.joint_names), fps)
        bodies = body_trajectories(motion, bodies=spec.body_names)
    arrays = {
        "fps": np.array([motion.fps]),
        "joint_pos": motion.joint_pos.astype(np.float32),
        "joint_vel": motion.joint_velocities().astype(np.float32),
        "body_pos_w": bodies.pos.astype(np.float32),
        "body_quat_w": bodies.quat.astype(np.float32),
        "body_lin_vel_w": bodies.lin_vel.astype(np.float32),
        "body_ang_vel_w": bodies.ang_vel.astype(np.float32),
        "joint_names": np.array(spec.joint_names),
        "body_names": np.array(bodies.body_names),
    }
    return save_npz(path, **arrays)


def read_beyondmimic_npz(path: str | Path, robot: str = "g1") -> RobotMotion:
    """Read a BeyondMimic / mjlab motion NPZ as a RobotMotion of ``robot``.

    The root pose is the root body's (``pelvis``) world pose; joints are matched by
    ``joint_names`` when present (unknown names are an error), else taken in MJCF order.
    """
    from robomotion.robots import get_robot

    spec = get_robot(robot)
    data = load_npz(path)
    require_keys(data, _REQUIRED, path, "BeyondMimic motion")
    fps = frame_rate(data, "fps", path)
    joint_pos = float_array(data, "joint_pos", (None, None), path)
    num_frames = joint_pos.shape[0]
    body_pos = float_array(data, "body_pos_w", (num_frames, None, 3), path)
    body_quat = float_array(data, "body_quat_w", (num_frames, body_pos.shape[1], 4), path)
    joint_names = text_list(data, "joint_names") or list(spec.joint_names)
    if len(joint_names) != joint_pos.shape[1]:
        raise FormatError(
            f"joint_pos has {joint_pos.shape[1]} columns but there are {len(joint_names)} joint names"
            + ("" if "joint_names" in data else f" (no joint_names: assumed the {robot}'s {spec.num_joints} joints)"),
            path,
            field="joint_pos",
        )
    unknown = sorted(set(joint_names) - set(spec.joint_names))
    if unknown:
        raise FormatError(f"unknown joint names {unknown} for robot '{robot}'", path, field="joint_names")
    body_names = text_list(data, "body_names")
    if body_names:
        if len(body_names) != body_pos.shape[1]:
            raise FormatError(f"{len(body_names)} body names for {body_pos.shape[1]} bodies", path, field="body_names")
        if spec.root_body not in body_names:
            raise FormatError(f"root body '{spec.root_body}' not in body_names", path, field="body_names")
        root = body_names.index(spec.root_body)
    else:
        root = 0  # MuJoCo / mjlab order: the floating base comes first
    with errors_name(path):
        motion = RobotMotion(
            robot=robot,
            fps=fps,
            root_pos=body_pos[:, root],
            root_quat=body_quat[:, root],
            joint_pos=joint_pos,
            joint_names=tuple(joint_names),
            metadata={"source_file": Path(path).name, "source_format": "beyondmimic-npz"},
        )
        return motion.reorder_joints(spec.joint_names) if set(joint_names) == set(spec.joint_names) else motion
