"""Behaviour and numbers of ``robomotion.envs.validate`` on the G1: good clips pass, broken ones fail
with the right reason, and the physics underneath (inverse dynamics, contact forces, rollouts) adds up."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from robomotion.envs import ValidationConfig, ValidationReport, validate
from robomotion.envs.validation.contact_wrench import (
    GRAVITY,
    nnls_per_problem,
    nonnegative_ridge_least_squares,
    signed_distance_to_polygon,
    solve_contact_wrenches,
)
from robomotion.envs.validation.reference import prepare_reference
from robomotion.envs.validation.rollout import control_reference, simulate_tracking
from robomotion.envs.validation.sweep import point_jacobians, sweep_reference
from scipy.interpolate import interp1d

from robomotion.errors import FormatError, UnknownNameError
from robomotion.findings import exceedances, frame_runs, moving_mean
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot

FPS = 30.0


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def home(g1) -> RobotMotion:
    """The G1 standing still in its home pose for 1 s."""
    return g1.home_motion(1.0, FPS)


#: The open-loop rollouts are information only and off by default; these tests look at them too.
WITH_ROLLOUTS = ValidationConfig(rollouts=True)


@pytest.fixture(scope="module")
def home_report(home) -> ValidationReport:
    return validate(home, WITH_ROLLOUTS, progress=False)


def with_joint(motion: RobotMotion, joint: str, value: float) -> RobotMotion:
    joints = motion.joint_pos.copy()
    joints[:, motion.joint_names.index(joint)] = value
    return replace(motion, joint_pos=joints)


def failed_checks(report: ValidationReport) -> set[str]:
    return {f.check for f in report.failures}


# ------------------------------------------------------------------------------ verdicts


def test_home_pose_passes(home_report):
    assert home_report.verdict == "pass", home_report.summary()
    assert home_report.findings == [] and home_report.warnings == [] and home_report.decisive == []
    assert home_report.check("floor_offset").metrics["floor_offset_m"] == pytest.approx(0.0, abs=0.002)
    assert home_report.check("physical_consistency").metrics["max_residual_fraction"] < 0.01
    assert home_report.check("torques").metrics["peak_fraction_of_limit"] < 0.5
    assert home_report.check("assisted_rollout").metrics["mean_assist_fraction"] < 0.03
    assert home_report.check("unassisted_rollout").metrics["fall_time_s"] is None
    assert home_report.check("ground_penetration").metrics["max_depth_m"] < 0.002


def test_beyond_joint_limits_fails(home):
    report = validate(with_joint(home, "left_knee_joint", -0.5), progress=False)
    assert report.verdict == "fail"
    finding = next(f for f in report.failures if f.check == "joint_limits")
    assert "left_knee_joint" in finding.message
    assert finding.value == pytest.approx(0.5 - 0.087267, abs=1e-6)
    assert (finding.ranges[0].start, finding.ranges[0].end) == (0, home.num_frames - 1)


def test_teleport_fails(home):
    root = home.root_pos.copy()
    root[15:, 0] += 1.0  # 1 m jump between frames 14 and 15
    report = validate(replace(home, root_pos=root), progress=False)
    finding = next(f for f in report.failures if f.check == "root_teleport")
    assert finding.value == pytest.approx(1.0 * FPS)
    assert [(r.start, r.end) for r in finding.ranges] == [(15, 15)]


def test_floating_fails_on_physics(home):
    report = validate(replace(home, root_pos=home.root_pos + [0.0, 0.0, 0.3]), WITH_ROLLOUTS, progress=False)
    assert failed_checks(report) == {"physical_consistency"}
    assert "no contact within 10 cm" in report.failures[0].message
    # The rollouts see it too, but only as information: they never decide the verdict.
    assert report.check("assisted_rollout").status == "info" and not report.check("assisted_rollout").decides
    assert report.decisive == ["physical_consistency"]
    # Nothing touches the floor: a whole body weight is missing in every frame, and the spring carries it.
    assert report.check("physical_consistency").metrics["mean_residual_fraction"] == pytest.approx(1.0, abs=0.02)
    assert report.check("assisted_rollout").metrics["mean_assist_fraction"] == pytest.approx(1.0, abs=0.05)
    assert report.check("support").status == "warn"


def test_floor_penetration_fails(home):
    report = validate(replace(home, root_pos=home.root_pos - [0.0, 0.0, 0.1]), progress=False)
    finding = next(f for f in report.failures if f.check == "ground_penetration")
    assert finding.value == pytest.approx(0.1, abs=0.005)
    assert "ankle_roll_link" in finding.message


def test_arm_in_torso_self_collision_warns_when_shallow_and_fails_when_deep(home):
    """The left hand in the right hip by 8.6 cm: a tracker deviates (WARN); over 10 cm for 0.5 s fails."""
    shallow = validate(with_joint(home, "left_shoulder_roll_joint", -0.5), progress=False)
    finding = next(f for f in shallow.warnings if f.check == "self_collision")
    assert 0.05 < finding.value < ValidationConfig().self_collision_fail
    assert "left_wrist_yaw_link" in finding.message
    deep = validate(with_joint(home, "left_shoulder_roll_joint", -1.0), progress=False)
    finding = next(f for f in deep.failures if f.check == "self_collision")
    assert finding.value > ValidationConfig().self_collision_fail


def test_ballistic_flight_is_physically_consistent(g1):
    """A rigid free fall needs no contact force and no help, although nothing touches the floor."""
    times = np.arange(13) / FPS  # 0.4 s
    rising = g1.home_motion(times[-1] + 1 / FPS, FPS)
    root = rising.root_pos.copy()
    root[:, 2] += 0.5 + 1.0 * times - 0.5 * GRAVITY * times**2
    report = validate(replace(rising, root_pos=root), WITH_ROLLOUTS, progress=False)
    assert report.check("physical_consistency").metrics["max_residual_fraction"] < 0.01
    assert report.check("physical_consistency").status == "pass"
    assert report.check("assisted_rollout").metrics["mean_assist_fraction"] < 0.03
    assert report.check("support").status == "warn"  # 0.4 s of flight


def test_trajectory_recorded_from_mujoco_passes_the_dynamics(g1):
    """Validate a motion the simulator itself produced: it must be explained by contact forces."""
    motion = g1.home_motion(1.2, 50.0)
    t = np.arange(motion.num_frames) / 50.0
    joints = motion.joint_pos.copy()
    joints[:, motion.joint_names.index("left_shoulder_pitch_joint")] = 0.2 + 0.8 * np.sin(2 * np.pi * t)
    reference = prepare_reference(replace(motion, joint_pos=joints), g1, 0.2)
    sweep = sweep_reference(reference, g1, 0.02)
    wrenches = solve_contact_wrenches(reference, sweep, g1.total_mass, 0.79, 0.8)
    target = control_reference(reference, g1, 50.0, 0.2)
    feedforward = interp1d(reference.times, wrenches.joint_torque, axis=0)(target.times)
    rollout = simulate_tracking(g1, target, 0.25, 0.8, None, feedforward)
    assert rollout.fall_time is None
    recorded = RobotMotion.from_qpos("g1", 50.0, rollout.qpos, g1.joint_names)
    report = validate(recorded, WITH_ROLLOUTS, progress=False)
    assert report.check("physical_consistency").metrics["mean_residual_fraction"] < 0.02
    assert report.check("assisted_rollout").metrics["mean_assist_fraction"] < 0.03
    assert report.check("assisted_rollout").metrics["mean_body_error_m"] < 0.01
    assert failed_checks(report) == set()


# ------------------------------------------------------------------------------ physics underneath


def test_contact_forces_carry_the_weight_and_zmp_is_inside(home_report, g1):
    traces = home_report.traces
    floor, forces = traces.sweep.floor, traces.wrenches.contact_force
    vertical = np.bincount(floor.frame, weights=forces[:, 2], minlength=traces.sweep.num_frames)
    np.testing.assert_allclose(vertical, g1.total_mass * GRAVITY, rtol=0.01)
    assert np.all(traces.wrenches.support_margin < -0.03)  # ZMP at least 3 cm inside the feet
    left = np.isin(floor.body, traces.sweep.model.body("left_ankle_roll_link").id)
    share = forces[left, 2].sum() / forces[:, 2].sum()
    assert share == pytest.approx(0.5, abs=0.05)  # the even-distribution term splits the weight


def test_point_jacobians_match_mujoco(home_report):
    import mujoco

    sweep = home_report.traces.sweep
    model = sweep.model
    data = mujoco.MjData(model)
    contact = len(sweep.floor) // 2
    data.qpos[:] = home_report.traces.reference.qpos[sweep.floor.frame[contact]]
    mujoco.mj_forward(model, data)
    expected = np.zeros((3, model.nv))
    mujoco.mj_jac(model, data, expected, None, sweep.floor.pos[contact], int(sweep.floor.body[contact]))
    np.testing.assert_allclose(point_jacobians(sweep, np.array([contact]))[0], expected, atol=1e-12)


def test_batched_solver_matches_scipy_nnls(rng):
    matrices = rng.normal(size=(40, 6, 24))
    matrices[:, :, 20:] = 0.0  # padding columns stay inert
    targets = rng.normal(size=(40, 6)) * 3.0
    fast = nonnegative_ridge_least_squares(matrices, targets, 1e-2)
    np.testing.assert_allclose(fast, nnls_per_problem(matrices, targets, 1e-2), atol=1e-8)
    assert np.all(fast >= 0) and np.all(fast[:, 20:] == 0)


def test_solver_choice_does_not_change_torques(home_report, g1):
    traces = home_report.traces
    slow = solve_contact_wrenches(traces.reference, traces.sweep, g1.total_mass, 0.79, 0.8, solver=nnls_per_problem)
    np.testing.assert_allclose(slow.joint_torque, traces.wrenches.joint_torque, atol=1e-4)  # N*m


def test_signed_distance_to_polygon():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    assert signed_distance_to_polygon(square, np.array([0.5, 0.5])) == pytest.approx(-0.5)
    assert signed_distance_to_polygon(square, np.array([2.0, 0.5])) == pytest.approx(1.0)
    assert signed_distance_to_polygon(square, np.array([2.0, 2.0])) == pytest.approx(np.sqrt(2.0))
    segment = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert signed_distance_to_polygon(segment, np.array([0.5, 0.0])) == pytest.approx(0.0)
    assert signed_distance_to_polygon(segment, np.array([0.5, 0.3])) == pytest.approx(0.3)


# ------------------------------------------------------------------------------ findings and config


def test_frame_runs_and_fail_duration():
    assert [(r.start, r.end) for r in frame_runs(np.array([0, 1, 1, 0, 1, 0, 1, 1, 1], bool), 2)] == [(1, 2), (6, 8)]
    values = np.zeros(30)
    values[10:12] = 5.0  # 2 frames above the fail level: too short for 0.1 s at 30 fps -> warn
    (finding,) = exceedances("x", values, 30.0, 1.0, 2.0, 0.1, lambda t: "x")
    assert finding.severity == "warn" and (finding.ranges[0].start, finding.ranges[0].end) == (10, 11)
    values[10:14] = 5.0
    (finding,) = exceedances("x", values, 30.0, 1.0, 2.0, 0.1, lambda t: "x")
    assert finding.severity == "fail" and finding.value == 5.0
    assert exceedances("x", np.zeros(5), 30.0, 1.0, 2.0, 0.1, lambda t: "x") == []
    # A separate series may decide the failure (e.g. a moving mean): a 4-frame spike alone does not fail.
    (finding,) = exceedances("x", values, 30.0, 1.0, 2.0, 0.0, lambda t: "x", fail_values=moving_mean(values, 30.0, 1.0))
    assert finding.severity == "warn"


def test_config_from_json(tmp_path):
    path = tmp_path / "strict.json"
    path.write_text(json.dumps({"residual_fail": 0.1, "torque_feedforward": False}))
    config = ValidationConfig.from_json(path)
    assert config.residual_fail == 0.1 and config.torque_feedforward is False
    assert config.friction == ValidationConfig().friction
    path.write_text(json.dumps({"residual_fial": 0.1}))
    with pytest.raises(FormatError, match="residual_fial"):
        ValidationConfig.from_json(path)
    path.write_text(json.dumps({"friction": -1}))
    with pytest.raises(FormatError, match="friction"):
        ValidationConfig.from_json(path)


def test_bad_input_is_a_clear_error(home):
    with pytest.raises(FormatError, match="at least 5 frames"):
        validate(home.trim(0, 3), progress=False)
    with pytest.raises(FormatError, match="not joints of the g1"):
        validate(RobotMotion("g1", FPS, home.root_pos, home.root_quat, np.c_[home.joint_pos, home.joint_pos[:, :1]],
                             (*home.joint_names, "tail_joint")), progress=False)
    with pytest.raises(UnknownNameError):
        validate(replace(home, robot="h1"), progress=False)
    with pytest.raises(FormatError, match="control_hz"):
        validate(home, ValidationConfig(control_hz=60.0, rollouts=True), progress=False)


def test_report_dict_is_json_and_complete(home_report):
    data = json.loads(json.dumps(home_report.to_dict()))
    names = [c["name"] for c in data["checks"]]
    assert names == [
        "floor_offset", "joint_limits", "joint_speeds", "self_collision", "ground_penetration", "foot_sliding",
        "root_teleport", "support", "torques", "physical_consistency", "zmp", "unassisted_rollout", "assisted_rollout",
    ]
    assert [c["decides"] for c in data["checks"]][-2:] == [False, False]
    assert all(c["metrics"] for c in data["checks"])
    assert data["verdict"] == "pass" and data["decisive"] == [] and data["timings_s"]["total"] > 0
