"""The whole-clip IK solver: exactness on reachable targets, gradients, limits, robustness."""

from __future__ import annotations

import numpy as np
import pytest
from robomotion.retarget.api import robot_context
from robomotion.retarget.config import RetargetConfig
from robomotion.retarget.kernels import clip_clearances
from robomotion.retarget.scaling import RetargetTargets
from robomotion.retarget.solver import SolverState, WholeClipSolver, limit_joint_speed

from robomotion.robots import get_robot


def _smooth_g1_motion(frames: int, fps: float, rng: np.random.Generator) -> SolverState:
    """A smooth G1 trajectory around the home pose with the arms out, lifted off the floor.

    Within the joint limits, above the floor and free of self-contact (checked by the tests),
    so every target is reachable without any penalty becoming active.
    """
    g1 = get_robot("g1")
    t = np.arange(frames)[:, None] / fps
    phase = rng.uniform(0, 2 * np.pi, size=g1.num_joints)
    center = g1.home_joint_pos.copy()
    center[g1.joint_indices(["left_shoulder_roll_joint", "right_shoulder_roll_joint"])] = [0.6, -0.6]
    center[g1.joint_indices(["left_hip_roll_joint", "right_hip_roll_joint"])] = [0.25, -0.25]
    joints = center + 0.2 * np.sin(2 * np.pi * 0.7 * t + phase)
    joints = np.clip(joints, g1.joint_limits[:, 0] + 0.05, g1.joint_limits[:, 1] - 0.05)
    root_pos = np.stack([0.3 * t[:, 0], 0.05 * np.sin(t[:, 0]), 0.95 + 0.02 * np.sin(3 * t[:, 0])], axis=1)
    yaw = 0.4 * np.sin(t[:, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    root_rot = np.zeros((frames, 3, 3))
    root_rot[:, 0, 0], root_rot[:, 0, 1], root_rot[:, 1, 0], root_rot[:, 1, 1], root_rot[:, 2, 2] = c, -s, s, c, 1
    return SolverState(root_pos, root_rot, joints)


def _targets_from_robot(state: SolverState) -> RetargetTargets:
    """IK targets made of the robot's own body poses (every body's orientation, every bone vector)."""
    geometry = robot_context("g1").geometry
    kin = geometry.kinematics
    pose = kin.forward(state.root_pos, state.root_rot, state.joint_pos)
    frames = state.num_frames
    model = kin.model
    feet = np.array([model.body("left_ankle_roll_link").id, model.body("right_ankle_roll_link").id])
    others = [b for b in range(2, kin.nbody) if b not in feet]
    orient = np.array([kin.root_body, *others, *feet])
    child = np.arange(2, kin.nbody)
    parent = kin.parent[child]
    bodies = np.arange(1, kin.nbody)
    return RetargetTargets(
        root_body=kin.root_body,
        root_pos=state.root_pos,
        orient_bodies=orient,
        orient_rot=pose.rot[:, orient],
        orient_weight=np.ones(len(orient)),
        limb_parent=parent,
        limb_child=child,
        limb_vec=pose.pos[:, child] - pose.pos[:, parent],
        limb_weight=np.ones(len(child)),
        limb_frame=np.zeros(len(child), dtype=int),
        foot_bodies=feet,
        foot_pos=pose.pos[:, feet],
        planted=np.zeros((frames, 2), dtype=bool),
        sole_clearance=np.zeros((frames, 2)),
        foot_contacts=np.zeros((frames, 2), dtype=bool),
        keypoint_bodies=bodies,
        keypoint_names=tuple(model.body(int(b)).name for b in bodies),
        keypoints=pose.pos[:, bodies],
        ground_offset=np.zeros(frames),
        flight=np.zeros(frames, dtype=bool),
    )


def _solver(config: RetargetConfig, held: np.ndarray | None = None) -> WholeClipSolver:
    context = robot_context("g1")
    geometry, home = context.geometry, context.spec.home_joint_pos
    return WholeClipSolver(geometry.kinematics, geometry.capsules, context.pairs, home, config, held=held)


def _wrists() -> np.ndarray:
    """(N,) the G1's wrist joints (held at home by default)."""
    model = robot_context("g1").geometry.kinematics.model
    return np.array(["wrist" in model.joint(j).name for j in range(1, model.njnt)])


def test_ik_recovers_a_g1_motion_from_its_own_body_poses(rng):
    fps = 30.0
    truth = _smooth_g1_motion(45, fps, rng)
    targets = _targets_from_robot(truth)
    solver = _solver(RetargetConfig(posture=0.01, tolerance=1e-3, max_iterations=30))  # converge fully
    margins = np.zeros((45, len(solver.model.cap_body)))
    lowest, _, distances = clip_clearances(solver.model, truth.root_pos, truth.root_rot, truth.joint_pos, margins)
    assert lowest.min() > 0.0 and np.all(distances > 0.0)  # no penalty can become active
    home = get_robot("g1").home_joint_pos
    start = SolverState(truth.root_pos + 0.05, truth.root_rot, np.tile(home, (45, 1)))
    result = solver.solve(targets, fps, start)
    error = np.abs(result.state.joint_pos - truth.joint_pos)
    assert error.max() < 0.05, f"max joint error {error.max():.3f} rad"
    assert np.abs(result.state.root_pos - truth.root_pos).max() < 0.01


@pytest.mark.parametrize("held", [False, True], ids=["all-joints", "wrists-held"])
def test_gradient_matches_finite_differences(rng, held):
    """The half-gradient assembled by the solver (targets, posture, smoothness) is exact, also over
    the unknowns left when the wrists are held."""
    fps = 30.0
    truth = _smooth_g1_motion(6, fps, rng)
    targets = _targets_from_robot(truth)
    solver = _solver(RetargetConfig(acceleration=0.01, velocity=0.01), _wrists() if held else None)
    noise = rng.normal(scale=0.05, size=truth.joint_pos.shape)
    state = SolverState(truth.root_pos + 0.01, truth.root_rot, truth.joint_pos + noise)
    margins = np.zeros((targets.num_frames, len(solver.model.cap_body)))
    problem = solver._problem(targets, fps, 0.0, np.zeros(len(solver.model.pairs), dtype=bool), margins)
    linearization = solver._linearize(state, problem)
    cost, gradient = linearization.cost, linearization.gradient
    eps = 1e-6
    free = len(solver.free)
    assert gradient.shape == (6 * free,)
    for k in (0, 4, 8, 20, free - 1):
        for frame in (0, 3):
            step = np.zeros((6, solver.kin.nv))
            step[frame, solver.free[k]] = eps
            moved = SolverState(*solver.kin.integrate(state.root_pos, state.root_rot, state.joint_pos, step))
            numeric = (solver._linearize(moved, problem).cost - cost) / eps
            assert numeric == pytest.approx(2 * gradient[frame * free + k], rel=1e-3, abs=1e-3)


def test_held_joints_stay_at_home_and_the_others_are_solved(rng):
    fps = 30.0
    truth = _smooth_g1_motion(12, fps, rng)
    held = _wrists()
    home = get_robot("g1").home_joint_pos
    truth.joint_pos[:, held] = home[held]  # a motion the held solver can reach
    targets = _targets_from_robot(truth)
    solver = _solver(RetargetConfig(posture=0.01, tolerance=1e-3, max_iterations=30), held)
    assert len(solver.free) == solver.kin.nv - held.sum() == 29
    start = SolverState(truth.root_pos + 0.05, truth.root_rot, np.tile(home, (12, 1)) + 0.1)
    result = solver.solve(targets, fps, start)
    assert np.array_equal(result.state.joint_pos[:, held], truth.joint_pos[:, held])
    assert np.abs(result.state.joint_pos - truth.joint_pos).max() < 0.05


def test_far_and_unreachable_targets_give_a_finite_best_effort(rng):
    fps = 30.0
    truth = _smooth_g1_motion(12, fps, rng)
    targets = _targets_from_robot(truth)
    far = RetargetTargets(
        **{
            **targets.__dict__,
            "root_pos": targets.root_pos + np.array([500.0, -300.0, 0.0]),
            "limb_vec": targets.limb_vec * 4.0,  # bones four times too long
            "foot_pos": targets.foot_pos - np.array([0.0, 0.0, 2.0]),  # feet 2 m under the floor
        }
    )
    result = _solver(RetargetConfig()).solve(far, fps, SolverState(far.root_pos, truth.root_rot, truth.joint_pos))
    assert np.all(np.isfinite(result.state.joint_pos)) and np.all(np.isfinite(result.state.root_pos))
    limits = get_robot("g1").joint_limits
    assert np.all(result.state.joint_pos >= limits[:, 0]) and np.all(result.state.joint_pos <= limits[:, 1])


def test_limit_joint_speed_caps_every_step():
    joints = np.array([[0.0], [1.0], [1.0], [-1.0]])
    out = limit_joint_speed(joints, fps=10.0, max_speed=np.array([2.0]), limits=np.array([[-0.5, 0.5]]))
    assert np.all(np.abs(np.diff(out, axis=0)) <= 0.2 + 1e-12)
    assert np.all(np.abs(out) <= 0.5)


def test_initial_guess_reads_limb_angles_off_the_targets():
    """A person in the SMPL-X T-pose: arms straight out sideways, legs straight down."""
    from robomotion.retarget.initial import initial_joint_angles
    from robomotion.retarget.mapping import load_mapping
    from robomotion.retarget.scaling import HumanPoints, build_targets

    from robomotion.foot_contacts import detect_foot_contacts
    from robomotion.motion import HumanMotion
    from robomotion.skeletons import get_skeleton

    skeleton = get_skeleton("smplx22")
    motion = HumanMotion(skeleton, 30.0, np.array([[0.0, 0.0, 1.0]] * 3), np.tile([1.0, 0, 0, 0], (3, 22, 1)))
    feet = motion.joint_positions(["left_ankle", "left_toe", "right_ankle", "right_toe"])
    contacts = detect_foot_contacts(feet, 30.0)
    context = robot_context("g1")
    kin = context.geometry.kinematics
    human = HumanPoints(skeleton, motion.global_positions, 30.0, contacts)
    targets = build_targets(human, load_mapping("smplx22"), context.geometry)
    names = context.spec.joint_names
    bodies = [kin.model.body(b).name for b in range(kin.nbody)]
    guess = initial_joint_angles(targets, names, context.spec.home_joint_pos, kin.joint_limits, bodies)[0]
    angle = dict(zip(names, guess))
    # The SMPL-X rest arms slope down and the elbows bend a little: expect exactly those angles.
    rest = skeleton.rest_positions()
    upper = rest[skeleton.index("left_elbow")] - rest[skeleton.index("left_shoulder")]
    fore = rest[skeleton.index("left_wrist")] - rest[skeleton.index("left_elbow")]
    upper, fore = upper / np.linalg.norm(upper), fore / np.linalg.norm(fore)
    assert angle["left_shoulder_roll_joint"] == pytest.approx(np.arcsin(upper[1]), abs=0.02)
    assert angle["left_elbow_joint"] == pytest.approx(np.pi / 2 - np.arccos(upper @ fore), abs=0.02)  # pi/2: straight
    assert angle["right_shoulder_roll_joint"] < -1.0
    assert abs(angle["left_knee_joint"]) < 0.3 and abs(angle["right_hip_pitch_joint"]) < 0.15  # legs ~straight
