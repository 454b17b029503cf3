"""Reference clips for imitation: robot motions resampled to the control rate, with body trajectories.

A :class:`ReferenceClip` holds everything the tracking environment reads from a reference at a
control step, precomputed once so that a step only indexes arrays:

* the MuJoCo state to initialise the robot from (``qpos``, ``qvel``),
* joint positions and velocities (the policy's command),
* world poses and velocities of the tracked bodies (rewards, terminations, observations).

A :class:`MotionLibrary` is a list of clips with sampling weights (one clip is a library of one).

Frames and units: z-up world, metres, radians, seconds, quaternions ``(w, x, y, z)``. The root
angular velocity inside ``qvel`` is in the root body frame (MuJoCo's free-joint convention); every
other velocity is in the world frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.robots import RobotSpec
from robomotion.robots.kinematics import body_trajectories
from robomotion.rotations import quat_apply, quat_conjugate

__all__ = ["ReferenceClip", "MotionLibrary", "MotionSource", "reference_clip"]

#: What the environment accepts as ``motion=``: a file, a motion, or a list of them.
MotionSource = str | PathLike | RobotMotion | Sequence[str | PathLike | RobotMotion]


@dataclass(frozen=True, eq=False)
class ReferenceClip:
    """One reference motion at the control rate (T frames, N joints, B tracked bodies).

    Attributes:
        name: a label for logs (file stem or motion metadata).
        fps: frames per second (= the environment's control rate).
        qpos: (T, 7 + N) MuJoCo generalised positions (root xyz, root quat wxyz, joints).
        qvel: (T, 6 + N) MuJoCo generalised velocities (root linear velocity in world,
            root angular velocity in the root frame, joint velocities), by finite differences.
        joint_pos: (T, N) joint angles, rad, in the robot's joint order.
        joint_vel: (T, N) joint velocities, rad/s.
        body_names: the B tracked body names.
        body_pos: (T, B, 3) world body positions, m.
        body_quat: (T, B, 4) world body orientations, wxyz.
        body_lin_vel: (T, B, 3) world body linear velocities, m/s.
        body_ang_vel: (T, B, 3) world body angular velocities, rad/s.
    """

    name: str
    fps: float
    qpos: np.ndarray
    qvel: np.ndarray
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    body_names: tuple[str, ...]
    body_pos: np.ndarray
    body_quat: np.ndarray
    body_lin_vel: np.ndarray
    body_ang_vel: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.qpos.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame, ``(T - 1) / fps``."""
        return (self.num_frames - 1) / self.fps


def reference_clip(motion: RobotMotion, robot: RobotSpec, fps: float, name: str | None = None) -> ReferenceClip:
    """Precompute a :class:`ReferenceClip` of ``motion`` at ``fps`` for ``robot``.

    The motion is resampled to ``fps`` (linear joints and root position, slerp root rotation),
    its joints are put in the robot's order (by name), velocities are central finite
    differences, and the tracked bodies' trajectories come from MuJoCo forward kinematics.
    """
    if motion.robot != robot.name:
        raise FormatError(f"motion is for robot '{motion.robot}', the environment simulates '{robot.name}'",
                          field="robot")
    motion = motion.reorder_joints(robot.joint_names).resample(fps)
    if motion.num_frames < 2:
        raise FormatError(f"a reference needs at least 2 frames at {fps:g} fps, got {motion.num_frames}",
                          field="joint_pos")
    bodies = body_trajectories(motion, bodies=robot.tracked_bodies)
    root_ang_vel_local = quat_apply(quat_conjugate(motion.root_quat), motion.root_angular_velocity())
    joint_vel = motion.joint_velocities()
    qvel = np.concatenate([motion.root_linear_velocity(), root_ang_vel_local, joint_vel], axis=1)
    label = name or str(motion.metadata.get("name") or motion.metadata.get("source") or "motion")
    return ReferenceClip(
        name=label,
        fps=float(fps),
        qpos=motion.qpos(),
        qvel=qvel,
        joint_pos=motion.joint_pos,
        joint_vel=joint_vel,
        body_names=bodies.body_names,
        # C order, so that a frame's (B, 3) rows are contiguous: the step's numpy calls are faster.
        body_pos=np.ascontiguousarray(bodies.pos),
        body_quat=np.ascontiguousarray(bodies.quat),
        body_lin_vel=np.ascontiguousarray(bodies.lin_vel),
        body_ang_vel=np.ascontiguousarray(bodies.ang_vel),
    )


def _load(source: str | PathLike | RobotMotion) -> tuple[RobotMotion, str | None]:
    if isinstance(source, RobotMotion):
        return source, None
    if isinstance(source, str | PathLike):
        from robomotion.formats import load_motion

        path = Path(source)
        motion = load_motion(path)
        if not isinstance(motion, RobotMotion):
            raise FormatError(f"expected a robot motion, got a {type(motion).__name__}", path)
        return motion, path.stem
    raise FormatError(f"expected a file path or a RobotMotion, got {type(source).__name__}", field="motion")


@dataclass(frozen=True, eq=False)
class MotionLibrary:
    """Reference clips and the probability of starting an episode on each.

    Attributes:
        clips: the reference clips (all at the same control rate).
        weights: (C,) clip sampling probabilities (sum to 1).
    """

    clips: tuple[ReferenceClip, ...]
    weights: np.ndarray

    def __post_init__(self) -> None:
        if not self.clips:
            raise FormatError("a motion library needs at least one clip", field="motion")
        weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        if weights.shape != (len(self.clips),):
            raise FormatError(f"expected {len(self.clips)} weights, got {weights.shape[0]}", field="weights")
        if np.any(~np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise FormatError(f"weights must be non-negative with a positive sum, got {weights.tolist()}",
                              field="weights")
        weights = weights / weights.sum()
        weights.flags.writeable = False
        object.__setattr__(self, "clips", tuple(self.clips))
        object.__setattr__(self, "weights", weights)

    @classmethod
    def from_source(
        cls,
        source: MotionSource,
        robot: RobotSpec,
        fps: float,
        weights: Sequence[float] | None = None,
    ) -> MotionLibrary:
        """Build from a file path, a :class:`RobotMotion` or a list of them.

        Args:
            source: what to imitate; files are read with :func:`robomotion.formats.load_motion`.
            robot: the simulated robot (motions must be for it; joints are matched by name).
            fps: the control rate the clips are resampled to.
            weights: optional per-clip sampling weights (default: every clip equally likely).
        """
        items = [source] if isinstance(source, str | PathLike | RobotMotion) else list(source)
        if not items:
            raise FormatError("the motion list is empty", field="motion")
        clips = []
        for index, item in enumerate(items):
            motion, stem = _load(item)
            name = stem or (None if len(items) == 1 else f"clip{index}")
            clips.append(reference_clip(motion, robot, fps, name=name))
        return cls(tuple(clips), np.ones(len(clips)) if weights is None else np.asarray(weights, dtype=np.float64))

    @property
    def num_clips(self) -> int:
        return len(self.clips)

    @property
    def fps(self) -> float:
        return self.clips[0].fps

    @property
    def clip_names(self) -> tuple[str, ...]:
        return tuple(clip.name for clip in self.clips)

    @property
    def total_duration(self) -> float:
        """Sum of the clip durations, seconds."""
        return float(sum(clip.duration for clip in self.clips))
