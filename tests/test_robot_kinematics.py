"""``robomotion.robots.kinematics``: FK replay of robot motions, velocities, joint-name matching."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.robots.g1 import G1
from robomotion.robots.kinematics import (
    body_trajectories,
    finite_difference_angular_velocity,
    forward_kinematics,
    hinge_joint_names,
    qpos_from_motion,
)
from robomotion.rotations import quat_apply, quat_conjugate, quat_from_rotvec, quat_multiply


@pytest.fixture(scope="module")
def model():
    return get_robot("g1").load_model(scene=False)


def _random_motion(rng, frames: int = 40, fps: float = 30.0) -> RobotMotion:
    lo, hi = G1.joint_limits.T
    return RobotMotion(
        robot="g1",
        fps=fps,
        root_pos=rng.uniform(-1, 1, size=(frames, 3)),
        root_quat=quat_from_rotvec(rng.normal(size=(frames, 3))),
        joint_pos=rng.uniform(lo, hi, size=(frames, 29)),
        joint_names=G1.joint_names,
    )


def _smooth_motion(fps: float, seconds: float = 2.0):
    """Sinusoidal joints, a translating root turning about a fixed axis; returns the motion and its exact qvel."""
    t = np.arange(round(seconds * fps)) / fps
    phase = np.linspace(0, np.pi, 29)
    amplitude = 0.2 * (G1.joint_limits[:, 1] - G1.joint_limits[:, 0]) / 2
    centre = G1.joint_limits.mean(axis=1)
    joint_pos = centre + amplitude * np.sin(2.0 * t[:, None] + phase)
    joint_vel = amplitude * 2.0 * np.cos(2.0 * t[:, None] + phase)
    root_pos = np.stack([0.5 * t, 0.1 * np.sin(3 * t), 0.75 + 0.02 * np.cos(4 * t)], axis=1)
    root_lin = np.stack([np.full_like(t, 0.5), 0.3 * np.cos(3 * t), -0.08 * np.sin(4 * t)], axis=1)
    axis = np.array([0.3, -0.2, 0.9]) / np.linalg.norm([0.3, -0.2, 0.9])
    angle = 0.8 * np.sin(1.5 * t)
    q0 = quat_from_rotvec(np.array([0.1, 0.2, 0.3]))
    root_quat = quat_multiply(quat_from_rotvec(angle[:, None] * axis), q0)
    omega_world = (0.8 * 1.5 * np.cos(1.5 * t))[:, None] * axis
    omega_local = quat_apply(quat_conjugate(root_quat), omega_world)  # freejoint qvel uses the body frame
    motion = RobotMotion("g1", fps, root_pos, root_quat, joint_pos, G1.joint_names)
    qvel = np.concatenate([root_lin, omega_local, joint_vel], axis=1)
    return motion, qvel


def test_matches_per_frame_mujoco_fk(model, rng):
    motion = _random_motion(rng)
    traj = body_trajectories(motion, model)
    assert traj.body_names == G1.body_names and traj.fps == motion.fps
    assert traj.pos.shape == (40, 30, 3) and traj.quat.shape == (40, 30, 4)
    data = mujoco.MjData(model)
    for t in range(motion.num_frames):
        data.qpos[:] = motion.qpos()[t]
        mujoco.mj_forward(model, data)
        np.testing.assert_allclose(traj.pos[t], data.xpos[1:], atol=1e-12)
        np.testing.assert_allclose(traj.quat[t], data.xquat[1:], atol=1e-12)
    np.testing.assert_allclose(traj.pos[:, 0], motion.root_pos, atol=1e-12)  # the pelvis is the root


def test_default_model_and_body_subset(rng):
    motion = _random_motion(rng, frames=5)
    bodies = ["torso_link", "pelvis", "left_wrist_yaw_link"]
    subset = body_trajectories(motion, bodies=bodies)  # model loaded from get_robot(motion.robot)
    full = body_trajectories(motion)
    assert subset.body_names == tuple(bodies)
    for name in bodies:
        np.testing.assert_array_equal(subset.pos[:, subset.index(name)], full.pos[:, full.index(name)])
        np.testing.assert_array_equal(subset.ang_vel[:, subset.index(name)], full.ang_vel[:, full.index(name)])
    with pytest.raises(FormatError, match=r"unknown bodies \['tail'\]"):
        body_trajectories(motion, bodies=["pelvis", "tail"])
    with pytest.raises(FormatError, match="not in"):
        subset.index("left_knee_link")


def test_velocities_match_analytic_jacobian_velocities(model):
    fps = 200.0
    motion, qvel = _smooth_motion(fps)
    traj = body_trajectories(motion, model)
    data = mujoco.MjData(model)
    jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    lin_err, ang_err = [], []
    for t in range(1, motion.num_frames - 1, 7):
        data.qpos[:] = qpos_from_motion(motion, model)[t]
        mujoco.mj_forward(model, data)
        for b in range(1, model.nbody):
            mujoco.mj_jac(model, data, jacp, jacr, data.xpos[b], b)
            lin_err.append(np.abs(jacp @ qvel[t] - traj.lin_vel[t, b - 1]).max())
            ang_err.append(np.abs(jacr @ qvel[t] - traj.ang_vel[t, b - 1]).max())
    # central differences at 200 fps: O(dt^2) error, far below the velocities (~1 m/s, ~3 rad/s)
    assert max(lin_err) < 1e-3 and max(ang_err) < 1e-3  # measured: 5e-5 m/s, 1.6e-4 rad/s


def test_single_frame_has_zero_velocity():
    traj = body_trajectories(G1.home_motion(seconds=0.0))
    assert traj.num_frames == 1
    assert not traj.lin_vel.any() and not traj.ang_vel.any()


def test_angular_velocity_of_constant_spin_is_exact():
    fps, rate = 50.0, np.array([0.0, 1.0, 2.0])
    t = np.arange(20) / fps
    quat = quat_from_rotvec(t[:, None] * rate)[:, None]  # (T, 1, 4)
    quat[::2] *= -1  # sign flips must not matter
    omega = finite_difference_angular_velocity(quat, fps)
    np.testing.assert_allclose(omega[:, 0], np.tile(rate, (20, 1)), atol=1e-9)


def test_joint_order_is_matched_by_name(model, rng):
    motion = _random_motion(rng, frames=6)
    order = rng.permutation(29)
    shuffled = RobotMotion(
        "g1",
        motion.fps,
        motion.root_pos,
        motion.root_quat,
        motion.joint_pos[:, order],
        tuple(np.array(G1.joint_names)[order]),
    )
    # (RobotMotion re-normalises the root quaternion, hence 1-ulp differences there)
    np.testing.assert_allclose(qpos_from_motion(shuffled, model), motion.qpos(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(body_trajectories(shuffled, model).pos, body_trajectories(motion, model).pos, atol=1e-14)
    assert hinge_joint_names(model) == G1.joint_names


def test_missing_or_unknown_joints_are_rejected(model, rng):
    motion = _random_motion(rng, frames=3)
    names = list(G1.joint_names)
    names[4] = "left_ankle_joint"
    renamed = RobotMotion("g1", 30.0, motion.root_pos, motion.root_quat, motion.joint_pos, names)
    with pytest.raises(FormatError) as error:
        body_trajectories(renamed, model)
    message = str(error.value)
    assert error.value.field == "joint_names"
    assert "missing ['left_ankle_pitch_joint']" in message and "unknown ['left_ankle_joint']" in message
    fewer = RobotMotion("g1", 30.0, motion.root_pos, motion.root_quat, motion.joint_pos[:, :28], names[:28])
    with pytest.raises(FormatError, match="right_wrist_yaw_joint"):
        qpos_from_motion(fewer, model)


def test_forward_kinematics_checks_qpos_shape(model):
    with pytest.raises(FormatError, match=r"expected shape \(T, 36\)"):
        forward_kinematics(model, np.zeros((4, 35)))
