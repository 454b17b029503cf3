"""The two motion types that travel between robomotion's stages.

* :class:`HumanMotion`: a skeleton animated by a root translation and local joint rotations.
* :class:`RobotMotion`: a floating-base robot trajectory (root pose + joint angles).

Conventions: z-up world, metres, radians, seconds, quaternions ``(w, x, y, z)``. Both types
are immutable dataclasses; every operation returns a new motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from robomotion.errors import FormatError
from robomotion.foot_contacts import DEFAULT_HEIGHT_THRESHOLD, DEFAULT_SPEED_THRESHOLD, contacts_from_positions
from robomotion.rotations import (
    quat_conjugate,
    quat_continuous,
    quat_multiply,
    quat_normalize,
    quat_slerp,
    quat_to_rotvec,
)
from robomotion.skeleton import Skeleton

__all__ = ["HumanMotion", "RobotMotion", "FOOT_CONTACT_ROLES", "MAX_FPS", "MAX_FRAMES", "resample_times"]

#: Highest frame rate (frames per second) a motion may have: motion capture runs at 30-480 fps.
MAX_FPS = 10_000.0
#: Most frames a motion may have (about 4.6 hours at 30 fps); bounds memory for forged files and flags.
MAX_FRAMES = 500_000

#: Order of the 4 foot-contact channels, as in Kimodo: left heel, left toe, right heel, right toe.
FOOT_CONTACT_ROLES = ("left_ankle", "left_toe", "right_ankle", "right_toe")


def shape_text(shape: tuple[int | None, ...]) -> str:
    """An expected shape for messages: free sizes named T (frames), J (joints), then K: ``(T, J, 3, 3)``."""
    names = iter("TJK")
    return "(" + ", ".join(next(names, "N") if s is None else str(s) for s in shape) + ")"


def _check_array(value: Any, shape: tuple, name: str) -> np.ndarray:
    """Validate a float array: rank, fixed sizes (None = any) and finiteness."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise FormatError(f"expected shape {shape_text(shape)}, got {array.shape}", field=name)
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise FormatError(f"contains NaN or inf (first at index {tuple(int(i) for i in bad)})", field=name)
    return array


def _check_fps(fps: float) -> float:
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise FormatError(f"fps must be a positive number, got {fps}", field="fps")
    if fps > MAX_FPS:
        raise FormatError(f"fps must be at most {MAX_FPS:g}, got {fps:g}", field="fps")
    return fps


def resample_times(num_frames: int, fps: float, new_fps: float) -> np.ndarray:
    """Fractional source-frame indices for resampling ``num_frames`` at ``fps`` to ``new_fps``.

    The output covers the same time span ``[0, (num_frames - 1) / fps]``; the last sample is
    at or before the source's last frame.
    """
    duration = (num_frames - 1) / fps
    count = int(np.floor(duration * new_fps + 1e-9)) + 1
    if count > MAX_FRAMES:
        raise FormatError(
            f"resampling {num_frames} frames from {fps:g} to {new_fps:g} fps gives {count} frames, more than "
            f"{MAX_FRAMES}",
            field="fps",
        )
    return np.arange(count) * (fps / new_fps)


def _interp_linear(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    lo = np.clip(np.floor(times).astype(int), 0, len(values) - 1)
    hi = np.clip(lo + 1, 0, len(values) - 1)
    w = (times - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    return values[lo] * (1 - w) + values[hi] * w


def _interp_slerp(quats: np.ndarray, times: np.ndarray) -> np.ndarray:
    lo = np.clip(np.floor(times).astype(int), 0, len(quats) - 1)
    hi = np.clip(lo + 1, 0, len(quats) - 1)
    w = (times - lo).reshape((-1,) + (1,) * (quats.ndim - 2))
    return quat_slerp(quats[lo], quats[hi], w)


@dataclass(frozen=True, eq=False)
class HumanMotion:
    """A skeleton animation.

    Attributes:
        skeleton: the joint tree and rest offsets.
        fps: frames per second.
        root_translation: (T, 3) world position of the root joint, metres, z-up.
        local_rotations: (T, J, 4) local joint rotations relative to the rest pose
            (w, x, y, z); the root's entry is its global rotation.
        foot_contacts: optional (T, 4) booleans in :data:`FOOT_CONTACT_ROLES` order, when the
            source provides them (e.g. a generator); otherwise estimate with
            :meth:`estimate_foot_contacts`.
        metadata: free-form provenance (``texts``, ``source``, ...), JSON-serialisable values.
    """

    skeleton: Skeleton
    fps: float
    root_translation: np.ndarray
    local_rotations: np.ndarray
    foot_contacts: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        num_joints = self.skeleton.num_joints
        fps = _check_fps(self.fps)
        rotations = _check_array(self.local_rotations, (None, num_joints, 4), "local_rotations")
        frames = rotations.shape[0]
        if frames == 0:
            raise FormatError("a motion needs at least one frame", field="local_rotations")
        norms = np.linalg.norm(rotations, axis=-1)
        if np.any(norms < 1e-6):
            raise FormatError("contains zero-length quaternions", field="local_rotations")
        translation = _check_array(self.root_translation, (frames, 3), "root_translation")
        contacts = self.foot_contacts
        if contacts is not None:
            contacts = np.asarray(contacts)
            if contacts.shape != (frames, 4):
                raise FormatError(f"expected shape ({frames}, 4), got {contacts.shape}", field="foot_contacts")
            contacts = contacts.astype(bool)
        object.__setattr__(self, "fps", fps)
        object.__setattr__(self, "local_rotations", quat_normalize(rotations))
        object.__setattr__(self, "root_translation", translation)
        object.__setattr__(self, "foot_contacts", contacts)
        object.__setattr__(self, "metadata", dict(self.metadata))

    # ------------------------------------------------------------------ basics
    @property
    def num_frames(self) -> int:
        return int(self.local_rotations.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to one frame past the last sample (``T / fps``)."""
        return self.num_frames / self.fps

    @cached_property
    def _fk(self) -> tuple[np.ndarray, np.ndarray]:
        return self.skeleton.forward_kinematics(self.local_rotations, self.root_translation)

    @property
    def global_positions(self) -> np.ndarray:
        """(T, J, 3) world joint positions, metres."""
        return self._fk[0]

    @property
    def global_rotations(self) -> np.ndarray:
        """(T, J, 4) world joint orientations (w, x, y, z)."""
        return self._fk[1]

    def joint_positions(self, names: Sequence[str]) -> np.ndarray:
        """(T, K, 3) world positions of joints given by name or role."""
        return self.global_positions[:, self.skeleton.indices(names)]

    # ------------------------------------------------------------------ contacts
    def estimate_foot_contacts(
        self,
        height_threshold: float = DEFAULT_HEIGHT_THRESHOLD,
        speed_threshold: float = DEFAULT_SPEED_THRESHOLD,
    ) -> np.ndarray:
        """(T, 4) contact flags for [left ankle, left toe, right ankle, right toe] (slow and low)."""
        feet = self.joint_positions(FOOT_CONTACT_ROLES)
        return contacts_from_positions(feet, self.fps, height_threshold, speed_threshold)

    def contacts(self) -> np.ndarray:
        """The source's foot contacts if present, otherwise the heuristic estimate."""
        return self.foot_contacts if self.foot_contacts is not None else self.estimate_foot_contacts()

    # ------------------------------------------------------------------ editing
    def resample(self, fps: float) -> HumanMotion:
        """The same motion at another frame rate (linear root, slerp rotations)."""
        fps = _check_fps(fps)
        if np.isclose(fps, self.fps):
            return self
        times = resample_times(self.num_frames, self.fps, fps)
        rotations = _interp_slerp(quat_continuous(self.local_rotations), times)
        contacts = None
        if self.foot_contacts is not None:
            contacts = self.foot_contacts[np.clip(np.round(times).astype(int), 0, self.num_frames - 1)]
        return replace(
            self,
            fps=fps,
            root_translation=_interp_linear(self.root_translation, times),
            local_rotations=rotations,
            foot_contacts=contacts,
        )

    def trim(self, start: int = 0, end: int | None = None) -> HumanMotion:
        """Frames ``[start, end)`` (Python slice semantics, at least one frame)."""
        frames = slice(start, end)
        if len(range(*frames.indices(self.num_frames))) == 0:
            raise FormatError(f"trim [{start}, {end}) of a {self.num_frames}-frame motion is empty", field="frames")
        return replace(
            self,
            root_translation=self.root_translation[frames],
            local_rotations=self.local_rotations[frames],
            foot_contacts=None if self.foot_contacts is None else self.foot_contacts[frames],
        )

    @staticmethod
    def concatenate(motions: Sequence[HumanMotion]) -> HumanMotion:
        """Play ``motions`` one after another (same skeleton and fps required)."""
        if not motions:
            raise FormatError("nothing to concatenate", field="motions")
        first = motions[0]
        for other in motions[1:]:
            if other.skeleton.joint_names != first.skeleton.joint_names:
                raise FormatError("cannot concatenate motions on different skeletons", field="skeleton")
            if not np.isclose(other.fps, first.fps):
                raise FormatError(f"cannot concatenate {first.fps} fps and {other.fps} fps motions", field="fps")
        contacts = None
        if all(m.foot_contacts is not None for m in motions):
            contacts = np.concatenate([m.foot_contacts for m in motions])
        return replace(
            first,
            root_translation=np.concatenate([m.root_translation for m in motions]),
            local_rotations=np.concatenate([m.local_rotations for m in motions]),
            foot_contacts=contacts,
        )


@dataclass(frozen=True, eq=False)
class RobotMotion:
    """A floating-base robot trajectory.

    Attributes:
        robot: robot name, e.g. ``"g1"`` (see :mod:`robomotion.robots`).
        fps: frames per second.
        root_pos: (T, 3) world position of the floating base (pelvis), metres, z-up.
        root_quat: (T, 4) world orientation of the floating base (w, x, y, z).
        joint_pos: (T, N) hinge angles in radians, in ``joint_names`` order.
        joint_names: the N joint names (for the G1: the model's 29 joints in MJCF order).
        metadata: free-form provenance, JSON-serialisable values.
    """

    robot: str
    fps: float
    root_pos: np.ndarray
    root_quat: np.ndarray
    joint_pos: np.ndarray
    joint_names: tuple[str, ...]
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        fps = _check_fps(self.fps)
        names = tuple(str(n) for n in self.joint_names)
        joint_pos = _check_array(self.joint_pos, (None, len(names)), "joint_pos")
        frames = joint_pos.shape[0]
        if frames == 0:
            raise FormatError("a motion needs at least one frame", field="joint_pos")
        root_pos = _check_array(self.root_pos, (frames, 3), "root_pos")
        root_quat = _check_array(self.root_quat, (frames, 4), "root_quat")
        if np.any(np.linalg.norm(root_quat, axis=-1) < 1e-6):
            raise FormatError("contains zero-length quaternions", field="root_quat")
        if len(set(names)) != len(names):
            raise FormatError("duplicate joint names", field="joint_names")
        object.__setattr__(self, "fps", fps)
        object.__setattr__(self, "joint_names", names)
        object.__setattr__(self, "joint_pos", joint_pos)
        object.__setattr__(self, "root_pos", root_pos)
        object.__setattr__(self, "root_quat", quat_continuous(quat_normalize(root_quat)))
        object.__setattr__(self, "metadata", dict(self.metadata))

    # ------------------------------------------------------------------ basics
    @property
    def num_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def duration(self) -> float:
        """``T / fps`` seconds."""
        return self.num_frames / self.fps

    def qpos(self) -> np.ndarray:
        """(T, 7 + N) MuJoCo generalised positions: root xyz, root quat wxyz, joints."""
        return np.concatenate([self.root_pos, self.root_quat, self.joint_pos], axis=1)

    @classmethod
    def from_qpos(
        cls, robot: str, fps: float, qpos: np.ndarray, joint_names: Sequence[str], metadata: dict | None = None
    ) -> RobotMotion:
        """Build from (T, 7 + N) MuJoCo qpos rows (root quaternion w, x, y, z)."""
        qpos = _check_array(qpos, (None, 7 + len(joint_names)), "qpos")
        return cls(robot, fps, qpos[:, :3], qpos[:, 3:7], qpos[:, 7:], tuple(joint_names), metadata or {})

    # ------------------------------------------------------------------ velocities
    def joint_velocities(self) -> np.ndarray:
        """(T, N) joint velocities (rad/s) by central finite differences."""
        if self.num_frames < 2:
            return np.zeros_like(self.joint_pos)
        return np.gradient(self.joint_pos, 1.0 / self.fps, axis=0)

    def root_linear_velocity(self) -> np.ndarray:
        """(T, 3) world-frame base linear velocity (m/s) by central finite differences."""
        if self.num_frames < 2:
            return np.zeros_like(self.root_pos)
        return np.gradient(self.root_pos, 1.0 / self.fps, axis=0)

    def root_angular_velocity(self) -> np.ndarray:
        """(T, 3) world-frame base angular velocity (rad/s): log(q[t+1] q[t-1]^-1) / (2 dt)."""
        q = self.root_quat
        if self.num_frames < 2:
            return np.zeros((self.num_frames, 3))
        nxt = np.concatenate([q[1:], q[-1:]])
        prv = np.concatenate([q[:1], q[:-1]])
        steps = np.full(self.num_frames, 2.0)
        steps[0] = steps[-1] = 1.0
        delta = quat_to_rotvec(quat_multiply(nxt, quat_conjugate(prv)))
        return delta * (self.fps / steps)[:, None]

    # ------------------------------------------------------------------ editing
    def resample(self, fps: float) -> RobotMotion:
        """The same trajectory at another frame rate (linear joints/position, slerp root)."""
        fps = _check_fps(fps)
        if np.isclose(fps, self.fps):
            return self
        times = resample_times(self.num_frames, self.fps, fps)
        return replace(
            self,
            fps=fps,
            root_pos=_interp_linear(self.root_pos, times),
            root_quat=_interp_slerp(self.root_quat, times),
            joint_pos=_interp_linear(self.joint_pos, times),
        )

    def trim(self, start: int = 0, end: int | None = None) -> RobotMotion:
        """Frames ``[start, end)`` (Python slice semantics, at least one frame)."""
        frames = slice(start, end)
        if len(range(*frames.indices(self.num_frames))) == 0:
            raise FormatError(f"trim [{start}, {end}) of a {self.num_frames}-frame motion is empty", field="frames")
        return replace(
            self, root_pos=self.root_pos[frames], root_quat=self.root_quat[frames], joint_pos=self.joint_pos[frames]
        )

    def reorder_joints(self, joint_names: Sequence[str]) -> RobotMotion:
        """The same motion with joints in another order (every name must exist)."""
        missing = [n for n in joint_names if n not in self.joint_names]
        if missing:
            raise FormatError(f"joints {missing} not in this motion", field="joint_names")
        order = [self.joint_names.index(n) for n in joint_names]
        return replace(self, joint_pos=self.joint_pos[:, order], joint_names=tuple(joint_names))
