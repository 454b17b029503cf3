"""Options of the retargeter (weights, margins, iterations), one frozen dataclass.

Weights multiply residuals before squaring, so a weight is "1 / tolerated error": a position
weight of 10 (1/m) makes a 10 cm error cost as much as a 1 rad error of a weight-1 angle term.
Smoothness weights act on physical rates (rad/s, rad/s^2, m/s, m/s^2), so they do not depend on
the frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from robomotion.retarget.foot_locks import SwingClearance

from robomotion.config import Config
from robomotion.errors import FormatError
from robomotion.foot_contacts import ContactDetection

__all__ = ["RetargetConfig"]

CONTACT_SOURCES = ("auto", "source", "detect")


@dataclass(frozen=True)
class RetargetConfig(Config):
    """Every option of :func:`robomotion.retarget.retarget`.

    A :class:`~robomotion.config.Config`: ``replace(**fields)``, ``from_dict``/``from_json`` (nested
    ``contact_detection``/``swing_clearance`` sections may be partial) and ``to_dict``.

    Attributes:
        root_position: weight of the pelvis position target (1/m).
        root_orientation: weight of the pelvis orientation target (1/rad).
        frame_orientation: weight of the other frame targets, e.g. the torso (1/rad).
        limb: weight of each bone vector (hip-knee, knee-ankle, shoulder-elbow, elbow-wrist) (1/m).
        foot_position: weight of a swinging foot's position (1/m).
        foot_orientation: weight of a swinging foot's orientation (1/rad).
        planted_position: weight of a planted foot's position (1/m).
        planted_orientation: weight of a planted foot's orientation, flat on the floor (1/rad).
        posture: pull of every joint towards the robot's home pose (1/rad); resolves redundancy.
        floor: weight of floor penetration (1/m) for every collision geom below ``floor_margin``.
        floor_margin: lowest allowed point of any collision geom, m (z = 0 is the floor).
        self_collision: weight of self-collision (1/m) for geom pairs closer than ``collision_margin``.
        collision_margin: distance kept between robot geoms that MuJoCo would let collide, m.
        velocity: weight of joint/root speeds (s/rad, s/m); 0 disables.
        acceleration: weight of joint accelerations (s^2/rad): temporal smoothness.
        root_acceleration: weight of the floating base's linear and angular accelerations
            (s^2/m, s^2/rad).
        max_iterations: Levenberg-Marquardt iterations per solver phase (each solves all frames at once).
        tolerance: a phase stops when an iteration lowers the cost by less than this fraction.
        blend_seconds: time over which a foot's targets return to the source next to a contact.
        ground_smooth_seconds: smoothing of the vertical ground-alignment offset.
        contacts: ``"auto"`` (the motion's own contact labels plus detected contacts, grown by height
            hysteresis, when it has labels; else detection), ``"source"`` (labels required, used as
            they are) or ``"detect"`` (always detect).
        contact_detection: thresholds of the contact detector.
        swing_clearance: how far moving soles are kept above the floor (speed-proportional); enforced
            by the floor penalty on the foot capsules.
        velocity_limit_scale: joint speeds are capped to this fraction of the motor limits.
        max_root_speed: a root (hip midpoint) jump faster than this between two frames, m/s, is a
            cut: the clip is split there and the pieces are solved separately.
        held_joints: robot joint name patterns (``fnmatch``) held at the home pose instead of solved
            for. Fewer unknowns make every solver step cheaper: ``("*_wrist_*_joint",)`` (the G1's
            wrists, which no target sees directly) is ~10 % faster, but the hands then cannot turn
            away from the floor and the body, so the arms fit less well (see docs/retargeting.md).
    """

    root_position: float = 10.0
    root_orientation: float = 2.0
    frame_orientation: float = 2.0
    limb: float = 10.0
    foot_position: float = 10.0
    foot_orientation: float = 1.0
    planted_position: float = 300.0
    planted_orientation: float = 20.0
    posture: float = 0.05
    floor: float = 300.0
    floor_margin: float = 0.0
    self_collision: float = 300.0
    collision_margin: float = 0.01
    velocity: float = 0.0
    acceleration: float = 0.005
    root_acceleration: float = 0.02
    max_iterations: int = 12
    tolerance: float = 0.04
    blend_seconds: float = 0.2
    ground_smooth_seconds: float = 0.3
    contacts: str = "auto"
    contact_detection: ContactDetection = field(default_factory=ContactDetection)
    swing_clearance: SwingClearance = field(default_factory=SwingClearance)
    velocity_limit_scale: float = 1.0
    max_root_speed: float = 15.0
    held_joints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                raise FormatError(f"must be non-negative, got {value}", field=f.name)
        if self.contacts not in CONTACT_SOURCES:
            raise FormatError(f"expected one of {CONTACT_SOURCES}, got '{self.contacts}'", field="contacts")
        if self.max_iterations < 1:
            raise FormatError("at least one iteration is needed", field="max_iterations")
        if isinstance(self.held_joints, str) or not all(isinstance(p, str) for p in self.held_joints):
            raise FormatError("expected a sequence of joint name patterns", field="held_joints")
