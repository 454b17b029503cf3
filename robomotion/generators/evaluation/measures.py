"""What a human motion does, measured on its joint positions (metres, z-up, floor at z = 0).

These measurements are the vocabulary of the text-agreement rules
(:mod:`robomotion.generators.evaluation.suite`): travel speed and direction relative to the
body's initial facing, turning, flight and clearance, which hand or foot rises, pelvis drop,
hands meeting, and whether the body floats (no joint near the floor for longer than a jump)
or tumbles (trunk upside down).

Facing comes from the hips (:func:`robomotion.generators.features.heading_from_positions`);
yaw is counter-clockwise seen from above, so a person facing +x who turns left gains yaw and
their left is +y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from robomotion.generators.features import heading_from_positions
from robomotion.motion import HumanMotion

__all__ = ["GroundingLimits", "MotionMeasures", "measure_motion", "off_floor_runs"]

#: Lowest joint above this height (m) = no body part on the floor (joint centres: a flat foot's
#: toe joint sits 0-5 cm up, a lying pelvis ~10 cm).
OFF_FLOOR_HEIGHT = 0.10


@dataclass(frozen=True)
class GroundingLimits:
    """What counts as floating or tumbling.

    Attributes:
        off_floor_height: lowest joint above this (m) = no body on the floor.
        max_flight: longest allowed time with no body on the floor (s); longer = floating
            (a 0.8 s flight is a 0.78 m jump, more than any in the data).
        tumble_angle: trunk (pelvis -> neck) tilt from vertical beyond this (degrees) = upside down.
    """

    off_floor_height: float = OFF_FLOOR_HEIGHT
    max_flight: float = 0.8
    tumble_angle: float = 110.0


def off_floor_runs(lowest: np.ndarray, height: float) -> list[tuple[int, int]]:
    """(start, end) frame runs where ``lowest`` (T,) is above ``height``; end exclusive."""
    flags = np.concatenate([[False], lowest > height, [False]])
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


@dataclass(frozen=True)
class MotionMeasures:
    """Summary of one motion (see the module docstring for frames and signs).

    Attributes:
        duration: seconds.
        forward_speed: mean pelvis velocity along the initial facing (m/s; < 0 = backward).
        left_speed: mean pelvis velocity along the initial left (m/s; < 0 = to the right).
        travel_speed: path length of the pelvis ground point low-passed over 1 s, per second (m/s).
        net_turn: facing change from the first to the last second (degrees, + = left).
        path_turn: summed change of the travel direction while moving (degrees, + = left).
        longest_flight: longest time with both feet off the floor (s).
        flight_clearance: highest lowest-foot-joint height during a flight of >= 0.1 s (m).
        longest_off_floor: longest time with no joint near the floor (s).
        max_tilt: largest trunk tilt from vertical (degrees).
        pelvis_drop: standing pelvis height minus the lowest pelvis height while a foot is down (m).
        ankle_lift: per side, the highest ankle height above the other ankle while the other
            foot is on the floor (m), as {"left": .., "right": ..}.
        foot_up_share: per side, share of frames with that toe >= 10 cm above the other toe.
        hand_above_head: per side, share of frames with that wrist above the head joint.
        hand_above_shoulder: per side, share of frames with that wrist 5 cm above its shoulder.
        hand_wave_speed: per side, mean horizontal wrist speed relative to the shoulder while
            the wrist is above the shoulder (m/s).
        hand_reach: per side, the farthest the wrist gets in front of the chest along the
            facing, above the pelvis (m).
        hands_meet: number of separate episodes with the wrists within 15 cm of each other
            above the pelvis.
    """

    duration: float
    forward_speed: float
    left_speed: float
    travel_speed: float
    net_turn: float
    path_turn: float
    longest_flight: float
    flight_clearance: float
    longest_off_floor: float
    max_tilt: float
    pelvis_drop: float
    ankle_lift: dict
    foot_up_share: dict
    hand_above_head: dict
    hand_above_shoulder: dict
    hand_wave_speed: dict
    hand_reach: dict
    hands_meet: int

    def floats(self, limits: GroundingLimits = GroundingLimits()) -> bool:
        """No body on the floor for longer than ``limits.max_flight``."""
        return self.longest_off_floor > limits.max_flight

    def tumbles(self, limits: GroundingLimits = GroundingLimits()) -> bool:
        """The trunk goes upside down."""
        return self.max_tilt > limits.tumble_angle

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


#: The per-side (``{"left": x, "right": y}``) fields of :class:`MotionMeasures`.
_PER_SIDE_FIELDS = (
    "ankle_lift", "foot_up_share", "hand_above_head", "hand_above_shoulder", "hand_wave_speed", "hand_reach",
)


def _runs_longest(flags: np.ndarray) -> int:
    runs = off_floor_runs(flags.astype(float), 0.5)
    return max((b - a for a, b in runs), default=0)


def measure_motion(motion: HumanMotion, limits: GroundingLimits = GroundingLimits()) -> MotionMeasures:
    """Measure ``motion`` (any skeleton with the SMPL-style roles: hips, ankles, toes, wrists, head)."""
    pos = motion.global_positions
    fps, frames = motion.fps, motion.num_frames
    sk = motion.skeleton
    j = {role: sk.index(role) for role in (
        "pelvis", "neck", "head", "left_ankle", "right_ankle", "left_toe", "right_toe",
        "left_wrist", "right_wrist", "left_shoulder", "right_shoulder", "chest")}
    yaw = np.unwrap(heading_from_positions(pos, sk))
    window = max(1, round(fps))
    yaw_s = uniform_filter1d(yaw, window, mode="nearest")
    forward0 = np.array([np.cos(yaw_s[0]), np.sin(yaw_s[0])])
    left0 = np.array([-forward0[1], forward0[0]])
    root = pos[:, j["pelvis"], :2]
    seconds = frames / fps
    elapsed = max(frames - 1, 1) / fps
    net = root[-1] - root[0]
    smooth = uniform_filter1d(root, window, axis=0, mode="nearest")
    step = np.diff(smooth, axis=0)
    travel = float(np.linalg.norm(step, axis=1).sum()) / seconds
    # Travel direction turns only while moving (>= 0.2 m/s), counted per frame.
    moving = np.linalg.norm(step, axis=1) * fps > 0.2
    direction = np.unwrap(np.arctan2(step[:, 1], step[:, 0]))
    path_turn = float(np.degrees(np.sum(np.diff(direction)[moving[1:] & moving[:-1]]))) if len(step) > 2 else 0.0

    z = pos[..., 2]
    feet = z[:, [j["left_ankle"], j["left_toe"], j["right_ankle"], j["right_toe"]]]
    # A foot is off the floor when its toe is >= 8 cm and its ankle >= 13 cm up.
    left_up = (feet[:, 1] > 0.08) & (feet[:, 0] > 0.13)
    right_up = (feet[:, 3] > 0.08) & (feet[:, 2] > 0.13)
    flight = left_up & right_up
    flight_runs = off_floor_runs(flight.astype(float), 0.5)
    clearance = max((float(feet[a:b].min(axis=1).max()) for a, b in flight_runs if b - a >= 0.1 * fps), default=0.0)
    lowest = z.min(axis=1)
    off_floor = max((b - a for a, b in off_floor_runs(lowest, limits.off_floor_height)), default=0) / fps

    trunk = pos[:, j["neck"]] - pos[:, j["pelvis"]]
    tilt = np.degrees(np.arccos(np.clip(trunk[:, 2] / np.maximum(np.linalg.norm(trunk, axis=1), 1e-9), -1, 1)))
    pelvis_z = z[:, j["pelvis"]]
    grounded = ~(left_up & right_up)
    standing = float(np.percentile(pelvis_z, 90))
    drop = standing - float(pelvis_z[grounded].min()) if grounded.any() else 0.0

    facing = np.stack([np.cos(yaw), np.sin(yaw)], axis=-1)
    sides = ("left", "right")
    other = {"left": "right", "right": "left"}
    per_side: dict[str, dict[str, float]] = {name: {} for name in _PER_SIDE_FIELDS}
    down = {"left": ~left_up, "right": ~right_up}
    for side in sides:
        lift = z[:, j[f"{side}_ankle"]] - z[:, j[f"{other[side]}_ankle"]]
        support = down[other[side]]
        per_side["ankle_lift"][side] = float(lift[support].max()) if support.any() else 0.0
        per_side["foot_up_share"][side] = float(np.mean(z[:, j[f"{side}_toe"]] - z[:, j[f"{other[side]}_toe"]] >= 0.10))
        wrist = pos[:, j[f"{side}_wrist"]]
        shoulder = pos[:, j[f"{side}_shoulder"]]
        per_side["hand_above_head"][side] = float(np.mean(wrist[:, 2] > pos[:, j["head"], 2]))
        raised = wrist[:, 2] > shoulder[:, 2] + 0.05
        per_side["hand_above_shoulder"][side] = float(np.mean(raised))
        rel = wrist[:, :2] - shoulder[:, :2]
        speed = np.linalg.norm(np.gradient(rel, axis=0), axis=1) * fps
        per_side["hand_wave_speed"][side] = float(speed[raised].mean()) if raised.any() else 0.0
        ahead = np.sum((wrist[:, :2] - pos[:, j["chest"], :2]) * facing, axis=1)
        valid = wrist[:, 2] > pelvis_z
        per_side["hand_reach"][side] = float(ahead[valid].max()) if valid.any() else 0.0
    gap = np.linalg.norm(pos[:, j["left_wrist"]] - pos[:, j["right_wrist"]], axis=1)
    meet = (gap < 0.15) & (pos[:, j["left_wrist"], 2] > pelvis_z)
    meets = len(off_floor_runs(meet.astype(float), 0.5))

    return MotionMeasures(
        duration=seconds,
        forward_speed=float(net @ forward0) / elapsed,
        left_speed=float(net @ left0) / elapsed,
        travel_speed=travel,
        net_turn=float(np.degrees(yaw_s[-1] - yaw_s[0])),
        path_turn=path_turn,
        longest_flight=_runs_longest(flight) / fps,
        flight_clearance=clearance,
        longest_off_floor=off_floor,
        max_tilt=float(tilt.max()),
        pelvis_drop=max(drop, 0.0),
        **per_side,
        hands_meet=meets,
    )
