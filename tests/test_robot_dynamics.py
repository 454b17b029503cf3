"""Pinocchio dynamics (:mod:`robomotion.robots.dynamics`) give MuJoCo's numbers in MuJoCo's conventions."""

from __future__ import annotations

import sys

import mujoco
import numpy as np
import pytest

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot

pytest.importorskip("pinocchio", reason="needs the 'dynamics' extra (PyPI package 'pin')")

from robomotion.robots.dynamics import RobotDynamics, motion_state


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def dynamics(g1):
    return RobotDynamics(g1)


def _random_states(g1, frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    qpos = np.tile(g1.home_qpos, (frames, 1))
    qpos[:, :3] += rng.normal(size=(frames, 3))
    quat = rng.normal(size=(frames, 4))
    qpos[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    qpos[:, 7:] += rng.uniform(-0.4, 0.4, (frames, g1.num_joints))
    return qpos, rng.normal(size=(frames, 35)), 3.0 * rng.normal(size=(frames, 35))


def _mujoco_reference(g1, qpos, qvel, qacc):
    """mj_inverse (constraints disabled, as the validator runs it), subtree CoM and momentum of the root body."""
    model = g1.load_model(scene=True)
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    data = mujoco.MjData(model)
    tau, com, momentum = np.empty_like(qvel), np.empty((len(qpos), 3)), np.empty((len(qpos), 6))
    for t in range(len(qpos)):
        data.qpos[:], data.qvel[:], data.qacc[:] = qpos[t], qvel[t], qacc[t]
        mujoco.mj_inverse(model, data)
        mujoco.mj_subtreeVel(model, data)
        tau[t], com[t] = data.qfrc_inverse, data.subtree_com[1]
        momentum[t] = np.r_[g1.total_mass * data.subtree_linvel[1], data.subtree_angmom[1]]
    return tau, com, momentum


def test_inverse_dynamics_com_and_momentum_match_mujoco(g1, dynamics) -> None:
    qpos, qvel, qacc = _random_states(g1, 40)
    tau, com, momentum = _mujoco_reference(g1, qpos, qvel, qacc)
    np.testing.assert_allclose(dynamics.inverse_dynamics(qpos, qvel, qacc), tau, atol=1e-9)
    np.testing.assert_allclose(dynamics.center_of_mass(qpos), com, atol=1e-12)
    np.testing.assert_allclose(dynamics.centroidal_momentum(qpos, qvel), momentum, atol=1e-10)
    assert dynamics.total_mass == pytest.approx(g1.total_mass, rel=1e-12)
    # standing still at home: the root carries the weight, nothing else moves
    still = dynamics.inverse_dynamics(g1.home_qpos[None], np.zeros((1, 35)), np.zeros((1, 35)))[0]
    assert still[2] == pytest.approx(g1.total_mass * 9.81, rel=1e-9) and abs(still[:2]).max() < 1e-9


def test_threads_give_the_same_numbers(g1, dynamics) -> None:
    qpos, qvel, qacc = _random_states(g1, 17, seed=1)
    np.testing.assert_allclose(
        RobotDynamics(g1, threads=2).inverse_dynamics(qpos, qvel, qacc),
        dynamics.inverse_dynamics(qpos, qvel, qacc),
        atol=1e-10,
    )


def test_motion_state_matches_mujoco_differentiation(g1) -> None:
    fps, frames = 100.0, 60
    t = np.arange(frames) / fps
    yaw, roll = 0.8 * np.sin(2 * t), 0.2 * np.sin(3 * t)
    half = np.stack([yaw, roll], axis=1) / 2
    quat = np.stack([np.cos(half[:, 0]) * np.cos(half[:, 1]), np.sin(half[:, 1]) * np.cos(half[:, 0]),
                     np.sin(half[:, 1]) * np.sin(half[:, 0]), np.sin(half[:, 0]) * np.cos(half[:, 1])], axis=1)
    joints = np.tile(g1.home_joint_pos, (frames, 1)) + 0.3 * np.sin(np.outer(t, np.linspace(1, 3, g1.num_joints)))
    root = np.stack([0.5 * t, 0.1 * np.sin(t), 0.79 + 0.02 * np.cos(4 * t)], axis=1)
    motion = RobotMotion("g1", fps, root, quat, joints, g1.joint_names)
    qpos, qvel, qacc = motion_state(motion)
    model = g1.load_model(scene=False)
    expected = np.empty((frames - 2, model.nv))
    for k in range(1, frames - 1):
        mujoco.mj_differentiatePos(model, expected[k - 1], 2.0 / fps, qpos[k - 1], qpos[k + 1])
    np.testing.assert_allclose(qvel[1:-1], expected, atol=2e-3)
    inner = slice(2, -2)  # central differences of central differences: exact up to O(dt^2) inside
    np.testing.assert_allclose(qacc[inner, 2], -0.32 * np.cos(4 * t[inner]), atol=2e-3)  # root z'' (m/s^2)
    rates = np.linspace(1, 3, g1.num_joints)
    np.testing.assert_allclose(qacc[inner, 6:], -0.3 * rates**2 * np.sin(np.outer(t[inner], rates)), atol=5e-3)
    assert qpos.shape == (frames, 36) and qacc.shape == (frames, 35)


def test_bad_shapes_and_a_missing_backend_are_clear_errors(g1, dynamics, monkeypatch) -> None:
    with pytest.raises(FormatError, match=r"expected shape \(T, 36\)"):
        dynamics.inverse_dynamics(np.zeros((3, 35)), np.zeros((3, 35)), np.zeros((3, 35)))
    with pytest.raises(FormatError, match="qacc has 2 frames"):
        dynamics.inverse_dynamics(np.tile(g1.home_qpos, (3, 1)), np.zeros((3, 35)), np.zeros((2, 35)))
    monkeypatch.setitem(sys.modules, "pinocchio", None)
    with pytest.raises(BackendUnavailableError, match=r"robomotion\[dynamics\]"):
        RobotDynamics(g1)
