"""Observation layouts of the tracking environment: named segments of one flat float32 vector.

Every control step the compiled step kernel writes one **feature vector** (all quantities any
layout may use, noise-free), then gathers the policy observation from it by an index array and adds
noise. A layout is a list of segments, each taking one feature (possibly reordered), so the same
kernel serves every layout. Features, in order (N joints, K command frames):

==================  ========  ==============================================================
feature             size      meaning
==================  ========  ==============================================================
``command``         K * 2N    reference joint positions (rad) then velocities (rad/s) at each
                              command frame (control steps ahead of now; clamped at the clip end)
``anchor_pos``      3         reference anchor (torso) position in the robot anchor frame, m
``anchor_ori``      6         ``m = R_robot_anchor^T R_ref_anchor``: ``m[:, :2]`` flattened
                              row-major ``[m00, m01, m10, m11, m20, m21]`` (mjlab)
``base_lin_vel``    3         pelvis IMU linear velocity in the pelvis frame, m/s (velocimeter)
``gravity``         3         unit gravity direction in the pelvis frame
``base_ang_vel``    3         pelvis angular velocity in the pelvis frame, rad/s
``joint_pos``       N         joint positions minus the default pose, rad
``joint_vel``       N         joint velocities, rad/s
``actions``         N         the previous action (policy units)
==================  ========  ==============================================================

Named layouts (``TrackingConfig.observation``):

* ``"mjlab"`` (default; 160 for the G1): mjlab / BeyondMimic's actor observation, segments
  ``command`` (current frame only), ``motion_anchor_pos_b``, ``motion_anchor_ori_b``,
  ``base_lin_vel``, ``base_ang_vel``, ``joint_pos``, ``joint_vel``, ``actions``;
  critic (286): ``command``, ``motion_anchor_pos_b``, ``motion_anchor_ori_b``, ``body_pos``,
  ``body_ori``, ``base_lin_vel``, ``base_ang_vel``, ``joint_pos``, ``joint_vel``, ``actions``.
* ``"mjlab-no-state-estimation"`` (154): the same without ``motion_anchor_pos_b`` and
  ``base_lin_vel``.
* ``"robomotion-v0"`` (334 with the default command offsets 0, 1, 5, 10): this project's first
  layout: ``command`` (K frames), ``anchor_pos``, ``anchor_ori`` (6-D column-stacked ``[c0, c1]``),
  ``gravity``, ``base_ang_vel``, ``joint_pos``, ``joint_vel``, ``last_action``; critic: the policy
  segments plus ``base_lin_vel``, ``body_pos``, ``body_ori`` (column-stacked).

Critic-only features (computed in Python when ``privileged_obs`` is on): ``body_pos`` (3B, the
tracked robot bodies in the robot anchor frame, m) and ``body_ori`` (6B, their orientations in the
anchor frame, row-major as ``anchor_ori``).

Frames: world z-up; the "robot anchor frame" is the robot's torso frame; rotation matrices act on
column vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OBSERVATIONS",
    "ObservationLayout",
    "ObservationNoise",
    "Segment",
    "command_frames",
    "feature_layout",
    "policy_layout",
    "pose_in_frame",
    "privileged_layout",
]

#: Observation layouts by name (``TrackingConfig.observation``).
OBSERVATIONS = ("mjlab", "mjlab-no-state-estimation", "robomotion-v0")

#: Column-stacked 6-D order ``[c0, c1]`` from the row-major ``[m00, m01, m10, m11, m20, m21]``.
_COLUMNS = np.array([0, 2, 4, 1, 3, 5])


@dataclass(frozen=True)
class Segment:
    """One segment of an observation: ``name``, ``size``, the ``feature`` it is taken from, and
    ``columns``: reorder the feature's 6-D orientations from row-major to column-stacked."""

    name: str
    size: int
    feature: str
    columns: bool = False


@dataclass(frozen=True)
class ObservationLayout:
    """Named segments of a flat observation vector, in order."""

    segments: tuple[Segment, ...]

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.segments)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(segment.name for segment in self.segments)

    def slices(self) -> dict[str, slice]:
        """``{name: slice}`` into the flat vector."""
        out, start = {}, 0
        for segment in self.segments:
            out[segment.name] = slice(start, start + segment.size)
            start += segment.size
        return out

    def split(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """Named views of a flat observation (or of a (..., size) batch of them)."""
        observation = np.asarray(observation)
        if observation.shape[-1] != self.size:
            raise ValueError(f"expected observations of size {self.size}, got {observation.shape[-1]}")
        return {name: observation[..., part] for name, part in self.slices().items()}

    def gather_index(self, features: ObservationLayout) -> np.ndarray:
        """(size,) int64: element ``i`` of this layout is element ``index[i]`` of the ``features`` vector."""
        where = features.slices()
        parts = []
        for segment in self.segments:
            part = np.arange(where[segment.feature].start, where[segment.feature].stop)
            if part.size != segment.size:
                raise ValueError(f"segment {segment.name} ({segment.size}) does not match feature "
                                 f"{segment.feature} ({part.size})")
            if segment.columns:
                part = part.reshape(-1, 6)[:, _COLUMNS].reshape(-1)
            parts.append(part)
        return np.concatenate(parts).astype(np.int64)


def command_frames(observation: str, command_offsets: Sequence[int]) -> tuple[int, ...]:
    """Control steps ahead of now whose reference the ``command`` holds: mjlab's layouts use the
    current frame only, ``robomotion-v0`` the configured ``command_offsets``."""
    return tuple(command_offsets) if observation == "robomotion-v0" else (0,)


def feature_layout(num_joints: int, num_command_frames: int, num_bodies: int = 0) -> ObservationLayout:
    """The kernel's feature vector (see the module docstring); with ``num_bodies``, the critic-only
    ``body_pos`` and ``body_ori`` features follow."""
    n = num_joints
    segments = [
        Segment("command", 2 * n * num_command_frames, "command"),
        Segment("anchor_pos", 3, "anchor_pos"),
        Segment("anchor_ori", 6, "anchor_ori"),
        Segment("base_lin_vel", 3, "base_lin_vel"),
        Segment("gravity", 3, "gravity"),
        Segment("base_ang_vel", 3, "base_ang_vel"),
        Segment("joint_pos", n, "joint_pos"),
        Segment("joint_vel", n, "joint_vel"),
        Segment("actions", n, "actions"),
    ]
    if num_bodies:
        segments += [Segment("body_pos", 3 * num_bodies, "body_pos"), Segment("body_ori", 6 * num_bodies, "body_ori")]
    return ObservationLayout(tuple(segments))


def _check(observation: str) -> None:
    if observation not in OBSERVATIONS:
        raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")


def policy_layout(num_joints: int, command_offsets: Sequence[int] = (0,), observation: str = "mjlab") -> ObservationLayout:
    """The policy (actor) observation of the named layout (see the module docstring)."""
    _check(observation)
    n, frames = num_joints, len(command_frames(observation, command_offsets))
    command = Segment("command", 2 * n * frames, "command")
    if observation == "robomotion-v0":
        return ObservationLayout((
            command,
            Segment("anchor_pos", 3, "anchor_pos"),
            Segment("anchor_ori", 6, "anchor_ori", columns=True),
            Segment("gravity", 3, "gravity"),
            Segment("base_ang_vel", 3, "base_ang_vel"),
            Segment("joint_pos", n, "joint_pos"),
            Segment("joint_vel", n, "joint_vel"),
            Segment("last_action", n, "actions"),
        ))
    state = observation == "mjlab"
    segments = [command]
    if state:
        segments.append(Segment("motion_anchor_pos_b", 3, "anchor_pos"))
    segments.append(Segment("motion_anchor_ori_b", 6, "anchor_ori"))
    if state:
        segments.append(Segment("base_lin_vel", 3, "base_lin_vel"))
    segments += [
        Segment("base_ang_vel", 3, "base_ang_vel"),
        Segment("joint_pos", n, "joint_pos"),
        Segment("joint_vel", n, "joint_vel"),
        Segment("actions", n, "actions"),
    ]
    return ObservationLayout(tuple(segments))


def privileged_layout(
    num_joints: int, command_offsets: Sequence[int], num_bodies: int, observation: str = "mjlab"
) -> ObservationLayout:
    """The critic's noise-free observation of the named layout (see the module docstring)."""
    _check(observation)
    bodies = (Segment("body_pos", 3 * num_bodies, "body_pos"),
              Segment("body_ori", 6 * num_bodies, "body_ori", columns=observation == "robomotion-v0"))
    if observation == "robomotion-v0":
        policy = policy_layout(num_joints, command_offsets, observation)
        return ObservationLayout(policy.segments + (Segment("base_lin_vel", 3, "base_lin_vel"),) + bodies)
    actor = policy_layout(num_joints, command_offsets, "mjlab").segments
    # mjlab's critic: the actor's terms (all of them, noise-free) with the body poses after the anchor's
    return ObservationLayout(actor[:3] + bodies + actor[3:])


@dataclass(frozen=True)
class ObservationNoise:
    """Half-widths of the uniform noise added to policy observations, per feature (mjlab defaults).

    Units follow the features (m, unitless 6-D, m/s, rad/s, rad). The command and the previous
    action are never noisy; the privileged observation is always noise-free.
    """

    anchor_pos: float = 0.25
    anchor_ori: float = 0.05
    base_lin_vel: float = 0.5
    gravity: float = 0.05
    base_ang_vel: float = 0.2
    joint_pos: float = 0.01
    joint_vel: float = 0.5

    def half_widths(self, layout: ObservationLayout) -> np.ndarray:
        """(layout.size,) per-element noise half-width (0 for noise-free segments)."""
        widths = np.zeros(layout.size)
        for segment, part in zip(layout.segments, layout.slices().values()):
            widths[part] = getattr(self, segment.feature, 0.0)
        return widths

    def noisy_span(self, layout: ObservationLayout) -> tuple[int, np.ndarray]:
        """The smallest contiguous range of the layout holding every noisy element: its start index and
        its (L,) half-widths (``L = 0`` when nothing is noisy). Drawing noise only for this range (73
        elements from ``motion_anchor_pos_b`` to ``joint_vel`` in mjlab's layout) is what the
        environment does."""
        widths = self.half_widths(layout)
        noisy = np.flatnonzero(widths)
        if noisy.size == 0:
            return 0, widths[:0]
        return int(noisy[0]), widths[noisy[0] : noisy[-1] + 1]


def pose_in_frame(
    frame_pos: np.ndarray, frame_mat: np.ndarray, pos: np.ndarray, mat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Express world poses in a body frame.

    Args:
        frame_pos: (3,) frame origin, world, m.
        frame_mat: (3, 3) frame orientation (columns = frame axes in world).
        pos: (..., 3) world positions, m.
        mat: (..., 3, 3) world orientations.

    Returns:
        ``R^T (pos - p)`` (..., 3) and ``(R^T mat)[..., :, :2]`` flattened row-major (..., 6)
        (mjlab's ``robot_body_ori_b``).
    """
    local_pos = (np.asarray(pos) - frame_pos) @ frame_mat
    local = frame_mat.T @ np.asarray(mat)
    return local_pos, local[..., :, :2].reshape(local.shape[:-2] + (6,))
