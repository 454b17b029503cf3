"""Quality report of a retargeted clip, measured independently with MuJoCo.

Every number comes from replaying the robot motion through ``mujoco`` (``mj_fwdPosition`` per
frame on the robot-only model), not from the solver's own kinematics, so the report also checks
the solver. Used for our retargeter and for the GMR-style baseline alike.

Units in the report: centimetres for positions, rad/s for speeds, rad/s^3 and m/s^3 for jerk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import mujoco
import numpy as np
from robomotion.retarget.collision import CapsuleSet

from robomotion.atomic import write_text
from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.robots.kinematics import qpos_from_motion

__all__ = ["RetargetQuality", "evaluate_retarget"]

#: A foot geom lower than this counts as penetrating the floor, m (holosoma's threshold).
PENETRATION_TOLERANCE = 0.01
#: Joint positions beyond a limit by more than this count as violations, rad.
LIMIT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class RetargetQuality:
    """Per-clip retargeting quality (see :func:`evaluate_retarget`).

    Attributes:
        frames: number of frames.
        fps: frames per second.
        keypoint_error_mean_cm / keypoint_error_max_cm: robot body origins vs the scaled human
            keypoints they stand for (mean over frames and keypoints / worst), world frame.
        keypoint_error_local_cm: the same mean with both sides translated so that the first
            keypoint (the pelvis) coincides: the pose error without root drift.
        foot_sliding_cm: mean horizontal displacement of the foot sole site per frame, over frames
            where the *source* foot is in contact in this and the previous frame.
        foot_sliding_max_cm: worst such displacement.
        contact_frames: number of (foot, frame) pairs counted for sliding.
        lowest_foot_cm: lowest point of any foot collision geom over the clip (0 = on the floor).
        floor_penetration_frames: frames with a foot geom more than 1 cm under the floor.
        joint_limit_violations: (frame, joint) entries outside the joint range.
        self_collision_frames: frames with any MuJoCo contact between two robot geoms.
        max_joint_speed: fastest joint speed (frame-to-frame), rad/s.
        max_joint_speed_ratio: the largest speed / motor-limit ratio over joints (<= 1 is feasible).
        max_speed_joint: the joint with that ratio.
        joint_jerk: mean |third derivative| of joint angles, rad/s^3 (jitter).
        body_jerk: mean norm of the third derivative of body origin positions, m/s^3 (jitter).
    """

    frames: int
    fps: float
    keypoint_error_mean_cm: float
    keypoint_error_max_cm: float
    keypoint_error_local_cm: float
    foot_sliding_cm: float
    foot_sliding_max_cm: float
    contact_frames: int
    lowest_foot_cm: float
    floor_penetration_frames: int
    joint_limit_violations: int
    self_collision_frames: int
    max_joint_speed: float
    max_joint_speed_ratio: float
    max_speed_joint: str
    joint_jerk: float
    body_jerk: float

    def to_dict(self) -> dict:
        return asdict(self)

    def save_json(self, path: str | Path) -> Path:
        """Write the report as JSON (atomically)."""
        return write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def lines(self) -> list[str]:
        """Human-readable lines, one metric each."""
        return [
            f"keypoint error        {self.keypoint_error_mean_cm:7.2f} cm mean, {self.keypoint_error_max_cm:.2f} cm max"
            f" ({self.keypoint_error_local_cm:.2f} cm root-relative)",
            f"foot sliding          {self.foot_sliding_cm:7.3f} cm/frame over {self.contact_frames} contact frames"
            f" (max {self.foot_sliding_max_cm:.2f} cm)",
            f"lowest foot point     {self.lowest_foot_cm:7.2f} cm ({self.floor_penetration_frames} frames below -1 cm)",
            f"joint-limit violations {self.joint_limit_violations:6d}",
            f"self-collision frames {self.self_collision_frames:7d}",
            f"max joint speed       {self.max_joint_speed:7.2f} rad/s = {self.max_joint_speed_ratio:.2f} x limit"
            f" ({self.max_speed_joint})",
            f"jitter                {self.joint_jerk:7.1f} rad/s^3 joints, {self.body_jerk:.1f} m/s^3 bodies",
        ]


def _jerk_within(values: np.ndarray, fps: float, pieces: list[tuple[int, int]]) -> float:
    """Mean |third derivative| (per coordinate for (T, N), per point norm for (T, B, 3)) inside pieces."""
    jerks = []
    for start, end in pieces:
        if end - start >= 4:
            jerk = np.diff(values[start:end], n=3, axis=0) * fps**3
            jerks.append((np.abs(jerk) if jerk.ndim == 2 else np.linalg.norm(jerk, axis=-1)).reshape(-1))
    return float(np.concatenate(jerks).mean()) if jerks else 0.0


def evaluate_retarget(
    motion: RobotMotion,
    keypoint_bodies: Sequence[str] = (),
    keypoints: np.ndarray | None = None,
    foot_contacts: np.ndarray | None = None,
    pieces: Sequence[tuple[int, int]] | None = None,
) -> RetargetQuality:
    """Measure a robot motion against its scaled human keypoints and the source's foot contacts.

    Args:
        motion: the retargeted robot motion.
        keypoint_bodies: K robot body names the keypoints stand for.
        keypoints: (T, K, 3) scaled human keypoint positions, m (omit: error reported as 0).
        foot_contacts: (T, 2) source contact flags of the left and right foot (omit: no sliding).
        pieces: continuous frame ranges ``[start, end)`` of a clip with cuts (default: one piece);
            sliding, speeds and jerk are measured inside the pieces only.
    """
    spec = get_robot(motion.robot)
    model = spec.load_model(scene=False)
    data = mujoco.MjData(model)
    qpos = qpos_from_motion(motion, model)
    frames = motion.num_frames
    foot_ids = spec.body_indices(spec.foot_bodies) + 1
    capsules = CapsuleSet.from_model(model)
    foot_caps = capsules.indices_on_bodies(foot_ids)
    site_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, s) for s in spec.foot_sites]
    key_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in keypoint_bodies]
    if any(i < 0 for i in key_ids):
        raise FormatError(f"unknown keypoint bodies {list(keypoint_bodies)}", field="keypoint_bodies")

    body_pos = np.empty((frames, model.nbody, 3))
    body_rot = np.empty((frames, model.nbody, 3, 3))
    sites = np.empty((frames, 2, 3))
    collision_frames = 0
    for t in range(frames):
        data.qpos[:] = qpos[t]
        mujoco.mj_fwdPosition(model, data)
        body_pos[t] = data.xpos
        body_rot[t] = data.xmat.reshape(-1, 3, 3)
        sites[t] = data.site_xpos[site_ids]
        collision_frames += int(data.ncon > 0)

    # Foot geoms' lowest points from MuJoCo's body poses.
    rot = body_rot[:, capsules.body[foot_caps]]
    ends_a = body_pos[:, capsules.body[foot_caps]] + np.einsum("tgij,gj->tgi", rot, capsules.local_a[foot_caps])
    ends_b = body_pos[:, capsules.body[foot_caps]] + np.einsum("tgij,gj->tgi", rot, capsules.local_b[foot_caps])
    lowest = np.minimum(ends_a[..., 2], ends_b[..., 2]) - capsules.radius[foot_caps]
    lowest_per_frame = lowest.min(axis=1)

    if keypoints is not None and len(key_ids):
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.shape != (frames, len(key_ids), 3):
            raise FormatError(f"expected shape ({frames}, {len(key_ids)}, 3), got {keypoints.shape}", field="keypoints")
        robot_points = body_pos[:, key_ids]
        err = np.linalg.norm(robot_points - keypoints, axis=-1)
        local = (robot_points - robot_points[:, :1]) - (keypoints - keypoints[:, :1])
        kp_mean, kp_max, kp_local = float(err.mean()), float(err.max()), float(np.linalg.norm(local, axis=-1).mean())
    else:
        kp_mean = kp_max = kp_local = 0.0

    pieces = list(pieces) if pieces is not None else [(0, frames)]
    within = np.zeros(max(frames - 1, 0), dtype=bool)  # frame pairs (t - 1, t) inside one piece
    for start, end in pieces:
        within[start : end - 1] = True
    slide_mean = slide_max = 0.0
    count = 0
    if foot_contacts is not None and frames > 1:
        contacts = np.asarray(foot_contacts, dtype=bool)
        if contacts.shape != (frames, 2):
            raise FormatError(f"expected shape ({frames}, 2), got {contacts.shape}", field="foot_contacts")
        both = contacts[1:] & contacts[:-1] & within[:, None]
        step = np.linalg.norm(np.diff(sites[..., :2], axis=0), axis=-1)[both]
        count = int(step.size)
        if count:
            slide_mean, slide_max = float(step.mean()), float(step.max())

    lo, hi = spec.joint_limits[:, 0], spec.joint_limits[:, 1]
    joints = motion.reorder_joints(spec.joint_names).joint_pos
    violations = int(np.sum((joints < lo - LIMIT_TOLERANCE) | (joints > hi + LIMIT_TOLERANCE)))
    if within.any():
        speed = np.abs(np.diff(joints, axis=0))[within].max(axis=0) * motion.fps
    else:
        speed = np.zeros(len(spec.joint_names))
    ratio = speed / spec.velocity_limits
    worst = int(np.argmax(ratio))

    return RetargetQuality(
        frames=frames,
        fps=float(motion.fps),
        keypoint_error_mean_cm=100 * kp_mean,
        keypoint_error_max_cm=100 * kp_max,
        keypoint_error_local_cm=100 * kp_local,
        foot_sliding_cm=100 * slide_mean,
        foot_sliding_max_cm=100 * slide_max,
        contact_frames=count,
        lowest_foot_cm=100 * float(lowest_per_frame.min()),
        floor_penetration_frames=int(np.sum(lowest_per_frame < -PENETRATION_TOLERANCE)),
        joint_limit_violations=violations,
        self_collision_frames=collision_frames,
        max_joint_speed=float(speed.max()),
        max_joint_speed_ratio=float(ratio[worst]),
        max_speed_joint=spec.joint_names[worst],
        joint_jerk=_jerk_within(joints, motion.fps, pieces),
        body_jerk=_jerk_within(body_pos[:, 1:], motion.fps, pieces),
    )
