"""A first guess for the solver: limb angles read off the target bone directions, per frame.

Starting the Levenberg-Marquardt solve from the home pose wastes iterations on large rotations
(a deep squat, arms raised). Each leg and arm of a humanoid with pitch-roll-yaw hips/shoulders and a
hinge knee/elbow gets closed-form angles instead: the thigh (upper arm) direction in the pelvis
(torso) target frame gives pitch and roll, the angle between the two bones gives the knee (elbow)
flexion, and the ankle keeps the foot level with the pelvis. Joints are found by name (Unitree
naming: ``<side>_hip_pitch_joint``, ...); joints that do not exist keep their home angle. The
guess ignores small link offsets and twist (yaw joints stay at home); the solver does the rest.

Frames: z-up world; the bone directions are unit vectors in world coordinates.
"""

from __future__ import annotations

import numpy as np
from robomotion.retarget.scaling import RetargetTargets

__all__ = ["initial_joint_angles"]


def _pitch_roll(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch (about y, first) and roll (about x) that turn a bone hanging along -z to ``direction``.

    ``R_y(pitch) R_x(roll) (0, 0, -1) = (-cos(roll) sin(pitch), sin(roll), -cos(roll) cos(pitch))``.
    """
    roll = np.arcsin(np.clip(direction[..., 1], -1.0, 1.0))
    pitch = np.arctan2(-direction[..., 0], -direction[..., 2])
    return pitch, roll


def _flexion(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Angle (rad) between two bone directions: 0 for a straight limb."""
    return np.arccos(np.clip(np.sum(first * second, axis=-1), -1.0, 1.0))


def initial_joint_angles(
    targets: RetargetTargets, joint_names: tuple[str, ...], home: np.ndarray, limits: np.ndarray, body_names: list[str]
) -> np.ndarray:
    """(T, N) joint angles: closed-form limb angles where the names match, the home pose elsewhere.

    Args:
        targets: the solver targets (limb bone vectors and frame orientations).
        joint_names: the robot's N hinge names.
        home: (N,) home angles, rad.
        limits: (N, 2) joint limits, rad.
        body_names: names of the robot bodies by MuJoCo id (to recognise the limbs' first bodies).
    """
    frames = targets.num_frames
    out = np.tile(home, (frames, 1))
    column = {name: i for i, name in enumerate(joint_names)}
    directions = targets.limb_vec / np.maximum(np.linalg.norm(targets.limb_vec, axis=-1, keepdims=True), 1e-9)
    for s in range(0, len(targets.limb_parent) - 1, 2):
        first_body = body_names[int(targets.limb_parent[s])]
        side = "left" if first_body.startswith("left") else "right"
        kind = "hip" if "hip" in first_body else "shoulder" if "shoulder" in first_body else None
        if kind is None:
            continue
        frame = targets.orient_rot[:, targets.limb_frame[s]]
        upper = np.einsum("tji,tj->ti", frame, directions[:, s])  # in the pelvis / torso frame
        pitch, roll = _pitch_roll(upper)
        bend = _flexion(directions[:, s], directions[:, s + 1])
        if kind == "hip":
            angles = {"hip_pitch": pitch, "hip_roll": roll, "knee": bend}
            angles |= {"ankle_pitch": -(pitch + bend), "ankle_roll": -roll}  # sole parallel to the pelvis
        else:
            angles = {"shoulder_pitch": pitch, "shoulder_roll": roll, "elbow": np.pi / 2 - bend}
        for joint, value in angles.items():
            name = f"{side}_{joint}_joint"
            if name in column:
                out[:, column[name]] = value
    return np.clip(out, limits[:, 0], limits[:, 1])
