"""Observation layout of the tracking environment: named segments of one flat float32 vector.

Policy observation, in order (N joints, K command frames, default K = 4 at offsets 0, 1, 5, 10):

==================  ========  ==============================================================
segment             size      meaning
==================  ========  ==============================================================
``command``         K * 2N    reference joint positions (rad) then velocities (rad/s) at each
                              command offset (control steps ahead of now; clamped at the clip end)
``anchor_pos``      3         reference anchor (torso) position in the robot anchor frame, m
``anchor_ori``      6         reference anchor orientation in the robot anchor frame, first two
                              rotation-matrix columns ``[c0, c1]`` (:func:`~robomotion.rotations.matrix_to_6d`)
``gravity``         3         unit gravity direction in the root (pelvis) frame
``base_ang_vel``    3         root angular velocity in the root frame, rad/s
``joint_pos``       N         joint positions minus the default pose, rad
``joint_vel``       N         joint velocities, rad/s
``last_action``     N         the previous action (policy units)
==================  ========  ==============================================================

The privileged (critic) observation appends, noise-free:

==================  ========  ==============================================================
``base_lin_vel``    3         root linear velocity in the root frame, m/s
``body_pos``        3B        tracked robot body positions in the robot anchor frame, m
``body_ori``        6B        tracked robot body orientations in the robot anchor frame (6-D)
==================  ========  ==============================================================

Frames: world z-up; "robot anchor frame" is the robot's torso frame. The helpers below are pure
numpy on rotation matrices (MuJoCo's ``xmat`` rows reshaped to 3x3, acting on column vectors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robomotion.rotations import matrix_to_6d

__all__ = [
    "ObservationLayout",
    "ObservationNoise",
    "policy_layout",
    "privileged_layout",
    "pose_in_frame",
]


@dataclass(frozen=True)
class ObservationLayout:
    """Names and sizes of the segments of a flat observation vector, in order."""

    segments: tuple[tuple[str, int], ...]

    @property
    def size(self) -> int:
        return sum(size for _, size in self.segments)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.segments)

    def slices(self) -> dict[str, slice]:
        """``{name: slice}`` into the flat vector."""
        out, start = {}, 0
        for name, size in self.segments:
            out[name] = slice(start, start + size)
            start += size
        return out

    def split(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """Named views of a flat observation (or of a (..., size) batch of them)."""
        observation = np.asarray(observation)
        if observation.shape[-1] != self.size:
            raise ValueError(f"expected observations of size {self.size}, got {observation.shape[-1]}")
        return {name: observation[..., part] for name, part in self.slices().items()}


def policy_layout(num_joints: int, command_offsets: Sequence[int]) -> ObservationLayout:
    """The policy observation's layout (see the module docstring)."""
    return ObservationLayout(
        (
            ("command", 2 * num_joints * len(command_offsets)),
            ("anchor_pos", 3),
            ("anchor_ori", 6),
            ("gravity", 3),
            ("base_ang_vel", 3),
            ("joint_pos", num_joints),
            ("joint_vel", num_joints),
            ("last_action", num_joints),
        )
    )


def privileged_layout(num_joints: int, command_offsets: Sequence[int], num_bodies: int) -> ObservationLayout:
    """The critic's observation: the policy's segments plus base linear velocity and body poses."""
    extra = (("base_lin_vel", 3), ("body_pos", 3 * num_bodies), ("body_ori", 6 * num_bodies))
    return ObservationLayout(policy_layout(num_joints, command_offsets).segments + extra)


@dataclass(frozen=True)
class ObservationNoise:
    """Half-widths of the uniform noise added to policy observations (BeyondMimic defaults).

    Units follow the segments (m, unitless 6-D, rad/s, rad). The command and the last action
    are never noisy; the privileged observation is always noise-free.
    """

    anchor_pos: float = 0.25
    anchor_ori: float = 0.05
    gravity: float = 0.05
    base_ang_vel: float = 0.2
    joint_pos: float = 0.01
    joint_vel: float = 0.5

    def half_widths(self, layout: ObservationLayout) -> np.ndarray:
        """(layout.size,) per-element noise half-width (0 for noise-free segments)."""
        widths = np.zeros(layout.size)
        for name, part in layout.slices().items():
            widths[part] = getattr(self, name, 0.0)
        return widths

    def noisy_span(self, layout: ObservationLayout) -> tuple[int, np.ndarray]:
        """The smallest contiguous range of the layout holding every noisy element: its start index and
        its (L,) half-widths (``L = 0`` when nothing is noisy). Drawing noise only for this range (the
        default layout's 73 elements from ``anchor_pos`` to ``joint_vel``, not all 334) is what the
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
        ``R^T (pos - p)`` (..., 3) and the first two columns of ``R^T mat`` as ``[c0, c1]`` (..., 6).
    """
    local_pos = (np.asarray(pos) - frame_pos) @ frame_mat
    return local_pos, matrix_to_6d(frame_mat.T @ np.asarray(mat))
