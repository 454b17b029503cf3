"""The one documented configuration of :func:`robomotion.envs.validate`: every threshold in one place.

Each threshold pair ``*_warn`` / ``*_fail`` turns a per-frame quantity into findings: frames where
the quantity exceeds the level, grouped into frame ranges. A ``fail`` level may need the excess to
last ``*_fail_min_s`` seconds, so one noisy frame does not sink a whole clip. Units are SI: metres,
radians, seconds, newtons; torques and speeds are also given as fractions of the motor's limits.

A ``fail`` level means physically impossible for the robot (a tracking policy cannot learn it); the
fail levels were tuned on the train split of the labelled corpus (``benchmarks/trackability.py``,
``docs/validation.md``): real clips tracking policies handle, and corruptions no robot can do.
Where a warn level comes from another tool it says so (ProtoMotions' motion filters, holosoma's
retargeting evaluation, BeyondMimic's tracking terminations).

A :class:`~robomotion.config.Config`: override any field with ``config.replace(field=value)``, a dict
(:meth:`ValidationConfig.from_dict`) or a JSON file (``robomotion validate MOTION --config my.json``)
holding a subset of the fields; unknown keys are an error that lists the valid ones.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from robomotion.config import Config
from robomotion.errors import FormatError

__all__ = ["ValidationConfig"]


@dataclass(frozen=True)
class ValidationConfig(Config):
    """Thresholds and settings of the validation checks (SI units).

    Reference preparation:
        smoothing_window_s: Savitzky-Golay window (seconds) for the finite-difference velocities and
            accelerations of the reference; at least 5 frames are used.

    Floor (see :mod:`robomotion.floor`):
        floor_offset_warn: warn when the clip's contact level is further than this from z = 0 (m).
        floor_offset_max: offsets up to this are removed before the contact checks (judged relative to
            the clip's own floor); larger ones are judged against z = 0 (m).

    Contacts (kinematic reference, no physics):
        contact_distance: a robot geom within this distance of the floor counts as touching it (m).
        support_distance: for the failing level of ``physical_consistency``, bodies within this
            distance may push: a foot a few cm up is a defect a tracker fixes, not missing support (m).
        friction: Coulomb friction coefficient of the linearised friction cone (rubber on floor ~0.8).

    Kinematic checks on the reference:
        joint_limit_warn / joint_limit_fail: joint position beyond its range (rad); the fail level must
            last ``joint_limit_fail_min_s`` (s).
        joint_speed_warn / joint_speed_fail: joint speed as a fraction of the motor's velocity limit;
            warn on any frame, fail on the ``joint_speed_window_s`` moving mean of the worst joint's (s). Speeds are
            differences over ``joint_speed_span_s`` (s; 0 = one frame either side).
        self_collision_warn / self_collision_fail: penetration depth between two robot geoms (m).
        self_collision_fail_min_s: how long the ``self_collision_fail`` depth must last (s). (ProtoMotions
            rejects clips with > 3 cm on more than 10 frames; the karate clips real policies track
            overlap capsules by up to 9 cm, so that is a warning here.)
        ground_penetration_warn / ground_penetration_fail: depth of any robot geom below the floor (m);
            holosoma counts a frame as penetrating at 1 cm; the fail level must last
            ``ground_penetration_fail_min_s`` (s).
        slide_distance: a body point within this distance of the floor (m) counts as touching it for
            the sliding check (stricter than ``contact_distance``: a foot swinging 1.5 cm above the
            floor may carry load in the force check but does not slide).
        foot_slide_warn / foot_slide_fail: horizontal speed of a body point on the floor (m/s); a planted
            foot has ~0, rolling heel-to-toe included; the fail level must last ``foot_slide_fail_min_s``.
        loaded_fraction: a body pushing on the floor with at least this fraction of body weight (in the
            contact-force solution) counts as on the floor for the sliding check, however high.
        root_speed_warn / root_speed_fail: pelvis speed between consecutive frames (m/s): a teleport;
            the G1 walks below ~2 m/s, ProtoMotions rejects bodies faster than 15 m/s.
        root_angular_speed_fail: pelvis angular speed between consecutive frames (rad/s).
        unsupported_warn_s: longest stretch with no body touching the floor before a warning (s).

    Dynamics along the reference (inverse dynamics, contact forces):
        torque_warn / torque_fail: required joint torque as a fraction of the effort limit; warn on any
            frame, fail on the ``torque_window_s`` moving mean (s).
        residual_warn / residual_fail: base wrench that no feasible contact force explains, as a
            fraction of body weight (the physical-consistency score); moments count after dividing by
            the standing pelvis height. Warn per frame (contacts within ``contact_distance``); fail on
            the ``residual_window_s`` moving mean with contacts within ``support_distance``.
        zmp_margin_warn: zero-moment point outside the support polygon by more than this (m).

    Closed-loop rollouts (information only, never part of the verdict; MuJoCo, PD actuators, 200 Hz
    physics, ``control_hz`` targets):
        rollouts: run them (off by default: open-loop tracking without balance falls on most real
            clips and measures the missing controller, not the reference).
        control_hz: rate at which joint targets change; a divisor of the model's 200 Hz physics rate.
        torque_feedforward: add the joint torques inverse dynamics says the reference needs to the PD
            law (``tau = tau_ref + kp (q_ref - q) + kd (qdot_ref - qdot)``). Off = PD with velocity
            feed-forward only, under which the G1's soft 10 Hz gains sag ~0.2 rad at the knees.
        fall_height: |pelvis height - reference pelvis height| that counts as a fall (m);
            BeyondMimic terminates at 0.25 m on its anchor.
        fall_tilt: angle between the simulated and the reference pelvis up-axis that counts as a fall (rad).
        early_fall_warn_s: warn when the unassisted robot falls sooner than this (s). Open-loop PD
            tracking has no balance feedback, so a later fall is reported but is no defect of the clip.
        assist_stiffness / assist_damping: translational spring (N/m) and damper (N*s/m) pulling the
            pelvis toward the reference pelvis in the assisted rollout.
        assist_rot_stiffness / assist_rot_damping: rotational spring (N*m/rad) and damper (N*m*s/rad).
        assist_window_s: the assistance force is averaged (as a vector) over this window before its size
            is taken: the *sustained* help, in which oscillations and impacts cancel (s).
        assist_mean_warn / assist_mean_fail: clip mean of the sustained assistance, fraction of body weight.
            A trajectory recorded from MuJoCo itself needs ~0.08 (the tracking noise floor), a clip that
            floats 1.0.
        assist_peak_warn / assist_peak_fail: peak of the sustained assistance, fraction of body weight.
        tracking_warn / tracking_fail: mean tracked-body position error of the assisted rollout (m).

    The teleport levels fail on a single frame.
    """

    smoothing_window_s: float = 0.2

    floor_offset_warn: float = 0.02
    floor_offset_max: float = 0.05

    contact_distance: float = 0.02
    friction: float = 0.8

    joint_limit_warn: float = 0.01
    joint_limit_fail: float = 0.25
    joint_limit_fail_min_s: float = 0.1
    joint_speed_warn: float = 0.8
    joint_speed_fail: float = 1.5
    joint_speed_window_s: float = 0.1
    joint_speed_span_s: float = 0.0
    self_collision_warn: float = 0.01
    self_collision_fail: float = 0.10
    self_collision_fail_min_s: float = 0.5
    ground_penetration_warn: float = 0.01
    ground_penetration_fail: float = 0.05
    ground_penetration_fail_min_s: float = 0.1
    slide_distance: float = 0.005
    foot_slide_warn: float = 0.3
    foot_slide_fail: float = 0.75
    foot_slide_fail_min_s: float = 0.5
    loaded_fraction: float = 0.1
    root_speed_warn: float = 4.0
    root_speed_fail: float = 8.0
    root_angular_speed_fail: float = 25.0
    unsupported_warn_s: float = 0.3

    torque_warn: float = 0.9
    torque_fail: float = 1.5
    torque_window_s: float = 0.5
    residual_warn: float = 0.1
    residual_fail: float = 0.5
    residual_window_s: float = 1.0
    support_distance: float = 0.10
    zmp_margin_warn: float = 0.03

    rollouts: bool = False
    control_hz: float = 50.0
    torque_feedforward: bool = True
    fall_height: float = 0.25
    fall_tilt: float = 0.8
    early_fall_warn_s: float = 0.5
    assist_stiffness: float = 6000.0
    assist_damping: float = 900.0
    assist_rot_stiffness: float = 600.0
    assist_rot_damping: float = 100.0
    assist_window_s: float = 0.25
    assist_mean_warn: float = 0.15
    assist_mean_fail: float = 0.5
    assist_peak_warn: float = 1.0
    assist_peak_fail: float = 2.0
    tracking_warn: float = 0.05
    tracking_fail: float = 0.15

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "bool":
                if not isinstance(value, bool):
                    raise FormatError(f"must be true or false, got {value!r}", field=item.name)
            elif isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise FormatError(f"must be a non-negative number, got {value!r}", field=item.name)
        if self.control_hz <= 0:
            raise FormatError("must be positive", field="control_hz")
