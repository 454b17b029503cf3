"""The validation checks as data: what each one needs, whether it decides the verdict, its cap.

:data:`DEFAULT_CHECKS` is the list :func:`~robomotion.envs.validation.api.validate` runs. A check is a
:class:`Check`: a name, a function from :class:`CheckInputs` to a
:class:`~robomotion.findings.CheckResult`, the stage whose results it needs, whether its findings
count for the verdict, and the most severe finding it may give. Add your own without touching the
pipeline::

    from robomotion.envs.validation.checks import DEFAULT_CHECKS, Check, CheckInputs
    from robomotion.findings import threshold_check

    def pelvis_height(inputs: CheckInputs):
        z = inputs.reference.motion.root_pos[:, 2]
        return threshold_check("pelvis_height", "Pelvis not too low", {"min_m": float(z.min())},
                               0.5 - z, inputs.reference.fps, 0.1, 0.3, 0.5,
                               lambda t: f"the pelvis is at {z[t]:.2f} m", " m")

    report = validate(motion, checks=[*DEFAULT_CHECKS, Check("pelvis_height", pelvis_height)])
    report = validate(motion, checks=[c.with_cap("warn") if c.name == "torques" else c for c in DEFAULT_CHECKS])

Stages (cheapest first): ``"kinematics"`` (the reference and its MuJoCo sweep), ``"dynamics"``
(+ contact forces and torques), ``"rollouts"`` (+ the open-loop PD rollouts, only run when
``ValidationConfig.rollouts`` is on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from robomotion.envs.validation import checks_dynamic, checks_kinematic, checks_rollout
from robomotion.envs.validation.config import ValidationConfig
from robomotion.envs.validation.contact_wrench import ContactWrenches
from robomotion.envs.validation.reference import Reference
from robomotion.envs.validation.rollout import Rollout
from robomotion.envs.validation.sweep import ReferenceSweep

from robomotion.findings import CheckResult, Finding, Severity, capped
from robomotion.floor import FloorEstimate
from robomotion.robots.spec import RobotSpec

__all__ = ["Check", "CheckInputs", "DEFAULT_CHECKS", "Stage", "run_check"]

Stage = Literal["kinematics", "dynamics", "rollouts"]


@dataclass(frozen=True, eq=False)
class CheckInputs:
    """Everything a check may read. Stages a check does not need may be ``None``.

    Attributes:
        reference: the clip as judged (floor-aligned when its offset was small), MuJoCo state trajectories.
        spec: the robot.
        config: thresholds.
        sweep: per-frame MuJoCo geometry and inverse dynamics.
        floor: the clip's floor estimate (on the clip as given).
        floor_shift: how far the clip was moved down before judging, m (0 when not aligned).
        wrenches: contact forces, residual, torques, ZMP with contacts within ``contact_distance``
            (stage ``"dynamics"``).
        support_wrenches: the same with every body within ``support_distance`` allowed to push.
        unassisted, assisted: the open-loop PD rollouts (stage ``"rollouts"``).
    """

    reference: Reference
    spec: RobotSpec
    config: ValidationConfig
    sweep: ReferenceSweep
    floor: FloorEstimate
    floor_shift: float
    wrenches: ContactWrenches | None = None
    support_wrenches: ContactWrenches | None = None
    unassisted: Rollout | None = None
    assisted: Rollout | None = None


@dataclass(frozen=True)
class Check:
    """One validation check, as data.

    Attributes:
        name: identifier in reports (``"torques"``).
        run: computes the check's result from :class:`CheckInputs`.
        stage: the most expensive stage whose results ``run`` reads.
        decides: ``False`` turns every finding into ``"info"``: reported, never part of the verdict.
        cap: the most severe finding it may give (``"warn"`` demotes a failing check to a warning).
    """

    name: str
    run: Callable[[CheckInputs], CheckResult]
    stage: Stage = "kinematics"
    decides: bool = True
    cap: Severity = "fail"

    def with_cap(self, cap: Severity) -> Check:
        """This check with findings no more severe than ``cap``."""
        return replace(self, cap=cap)


def run_check(check: Check, inputs: CheckInputs) -> CheckResult:
    """Run ``check`` and apply its ``cap`` and ``decides`` to the findings."""
    result = check.run(inputs)
    cap: Severity = check.cap if check.decides else "info"
    result.findings = [
        f if capped(f.severity, cap) == f.severity else Finding(f.check, capped(f.severity, cap), f.message, f.value,
                                                                f.threshold, f.ranges)
        for f in result.findings
    ]
    result.decides = check.decides
    return result


def _calls(function: Callable[..., CheckResult], *needs: str) -> Callable[[CheckInputs], CheckResult]:
    """Adapter: ``run(inputs)`` calls ``function(reference, <the named inputs...>, config)``."""

    def run(inputs: CheckInputs) -> CheckResult:
        return function(inputs.reference, *(getattr(inputs, name) for name in needs), inputs.config)

    run.__name__ = function.__name__
    return run


#: The checks ``validate`` runs by default, in report order.
DEFAULT_CHECKS: tuple[Check, ...] = (
    Check("floor_offset", _calls(checks_kinematic.check_floor_offset, "floor", "floor_shift")),
    Check("joint_limits", _calls(checks_kinematic.check_joint_limits, "spec")),
    Check("joint_speeds", _calls(checks_kinematic.check_joint_speeds, "spec")),
    Check("self_collision", _calls(checks_kinematic.check_self_collision, "sweep")),
    Check("ground_penetration", _calls(checks_kinematic.check_ground_penetration, "sweep")),
    Check("foot_sliding", _calls(checks_kinematic.check_foot_sliding, "sweep", "wrenches"), "dynamics"),
    Check("root_teleport", _calls(checks_kinematic.check_root_teleport)),
    Check("support", _calls(checks_kinematic.check_support, "sweep")),
    Check("torques", _calls(checks_dynamic.check_torques, "wrenches", "spec"), "dynamics"),
    Check("physical_consistency",
          _calls(checks_dynamic.check_physical_consistency, "wrenches", "support_wrenches"), "dynamics"),
    Check("zmp", _calls(checks_dynamic.check_zmp, "wrenches"), "dynamics"),
    Check("unassisted_rollout", _calls(checks_rollout.check_unassisted, "unassisted"), "rollouts",
          decides=False),
    Check("assisted_rollout",
          lambda i: checks_rollout.check_assisted(i.reference, i.assisted, i.wrenches.body_weight, i.config),
          "rollouts", decides=False),
)
