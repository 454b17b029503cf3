"""Reward and termination terms of the tracking task against hand-computed values and independent maths."""

from __future__ import annotations

import numpy as np
import pytest
from robomotion.envs.tracking.terms import (
    REWARD_TERMS,
    RewardConfig,
    anchor_height_failed,
    anchor_tilt_failed,
    end_effector_height_failed,
    heading_alignment,
    joint_limit_violation,
    reanchor_orientations,
    reanchor_positions,
    soft_joint_limits,
    squared_norm,
    tracking_errors,
)

from robomotion.rotations import (
    quat_apply,
    quat_conjugate,
    quat_from_rotvec,
    quat_from_yaw,
    quat_multiply,
    quat_to_matrix,
    yaw_of_quat,
)


def _random_quats(rng: np.random.Generator, count: int) -> np.ndarray:
    quats = rng.normal(size=(count, 4))
    return quats / np.linalg.norm(quats, axis=1, keepdims=True)


def test_perfect_step_earns_a_tenth_with_default_weights():
    config = RewardConfig()
    weights = dict(zip(REWARD_TERMS, config.weights()))
    tracking = sum(weights[name] for name in REWARD_TERMS[:6])
    assert tracking * 0.02 == pytest.approx(0.1)
    assert (weights["action_rate"], weights["joint_limit"], weights["self_collision"]) == (-0.1, -10.0, -10.0)
    assert config.self_collision_force == 10.0


def test_reward_config_rejects_bad_sigmas():
    with pytest.raises(ValueError, match="body_pos_sigma"):
        RewardConfig(body_pos_sigma=0.0)


def test_heading_alignment_is_yaw_of_relative_rotation(rng):
    robot, reference = _random_quats(rng, 50), _random_quats(rng, 50)
    expected = yaw_of_quat(quat_multiply(robot, quat_conjugate(reference)))
    got = [heading_alignment(quat_to_matrix(a), quat_to_matrix(b)) for a, b in zip(robot, reference)]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_reanchoring_matches_the_mjlab_definition(rng):
    bodies = rng.normal(size=(14, 3))
    body_quat = _random_quats(rng, 14)
    ref_anchor, robot_anchor = bodies[7], rng.normal(size=3)
    yaw = 0.7
    offsets = np.concatenate([bodies - ref_anchor, np.ones((14, 1))], axis=1)

    positions = reanchor_positions(offsets, robot_anchor, ref_anchor[2], yaw)
    orientations = reanchor_orientations(body_quat, yaw)

    delta = quat_from_yaw(yaw)
    origin = np.array([robot_anchor[0], robot_anchor[1], ref_anchor[2]])
    np.testing.assert_allclose(positions, origin + quat_apply(delta, bodies - ref_anchor), atol=1e-12)
    np.testing.assert_allclose(orientations, quat_multiply(delta, body_quat), atol=1e-12)


def _errors(ref_pos, ref_quat, ref_vel, pos, quat, vel, anchor=0):
    """tracking_errors for bodies given in world frame (the anchor is body ``anchor``)."""
    offsets = np.concatenate([ref_pos - ref_pos[anchor], np.ones((len(ref_pos), 1))], axis=1)
    return tracking_errors(
        ref_pos[anchor], ref_quat[anchor], quat_to_matrix(ref_quat[anchor]), offsets, ref_quat, ref_vel,
        pos[anchor], quat[anchor], quat_to_matrix(quat[anchor]), pos, quat, vel,
    )


def test_tracking_errors_hand_computed():
    identity = np.tile([1.0, 0.0, 0.0, 0.0], (2, 1))
    ref_pos = np.array([[0.0, 0.0, 1.0], [0.0, 0.2, 0.5]])
    zero_vel = np.zeros((4, 3))
    np.testing.assert_allclose(_errors(ref_pos, identity, zero_vel, ref_pos, identity, zero_vel), 0.0, atol=1e-12)

    # The robot drifted 0.1 m in x: only the anchor position sees it (the bodies are re-anchored).
    drifted = ref_pos + [0.1, 0.0, 0.0]
    np.testing.assert_allclose(_errors(ref_pos, identity, zero_vel, drifted, identity, zero_vel),
                               [0.01, 0, 0, 0, 0, 0], atol=1e-12)

    # Body 1 is 0.3 m off vertically: mean over 2 bodies of the squared distance = 0.045 m^2.
    lowered = ref_pos - [[0.0, 0.0, 0.0], [0.0, 0.0, 0.3]]
    np.testing.assert_allclose(_errors(ref_pos, identity, zero_vel, lowered, identity, zero_vel)[2], 0.045)

    # Body 1 is pitched by 0.4 rad (sign of the quaternion does not matter); body 0 is the anchor.
    pitched = identity.copy()
    pitched[1] = -quat_from_rotvec(np.array([0.0, 0.4, 0.0]))
    errors = _errors(ref_pos, identity, zero_vel, ref_pos, pitched, zero_vel)
    np.testing.assert_allclose(errors[[1, 3]], [0.0, 0.16 / 2], atol=1e-12)
    errors = _errors(ref_pos, identity, zero_vel, ref_pos, pitched, zero_vel, anchor=1)
    np.testing.assert_allclose(errors[[1, 3]], [0.16, 0.16 / 2], atol=1e-12)

    # Velocities: rows 0-1 linear, rows 2-3 angular.
    velocity = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    errors = _errors(ref_pos, identity, zero_vel, ref_pos, identity, velocity)
    np.testing.assert_allclose(errors[4:], [0.5, 4.0])


def test_tracking_errors_ignore_heading_and_horizontal_drift(rng):
    """A reference turned about +z and moved horizontally scores perfectly on the body terms."""
    ref_pos, ref_quat, zero_vel = rng.normal(size=(14, 3)), _random_quats(rng, 14), np.zeros((28, 3))
    turn = quat_from_yaw(1.1)
    pos = quat_apply(turn, ref_pos - ref_pos[7]) + ref_pos[7] + [0.4, -0.3, 0.0]
    quat = quat_multiply(turn, ref_quat)
    errors = _errors(ref_pos, ref_quat, zero_vel, pos, quat, zero_vel, anchor=7)
    np.testing.assert_allclose(errors[[2, 3]], 0.0, atol=1e-12)
    assert errors[0] == pytest.approx(0.25)
    assert errors[1] == pytest.approx(1.1**2)


def test_penalties_hand_computed():
    assert squared_norm(np.array([1.0, -2.0, 0.5])) == pytest.approx(5.25)
    middle, half = soft_joint_limits(np.array([[-1.0, 1.0], [0.0, 2.0]]), 0.9)
    np.testing.assert_allclose(middle, [0.0, 1.0])
    np.testing.assert_allclose(half, [0.9, 0.9])
    # joint 0 is 0.05 beyond its soft upper limit, joint 1 is 0.2 below its soft lower limit.
    assert joint_limit_violation(np.array([0.95, -0.1]), middle, half) == pytest.approx(0.25)
    assert joint_limit_violation(np.array([0.5, 1.5]), middle, half) == 0.0


def test_terminations_follow_their_thresholds():
    assert anchor_height_failed(0.9, 0.6, 0.25)
    assert not anchor_height_failed(0.9, 0.7, 0.25)
    assert not anchor_height_failed(0.9, 0.0, None)

    upright = np.eye(3)
    pitched = quat_to_matrix(quat_from_rotvec(np.array([0.0, 1.2, 0.0])))  # gravity z: -cos(1.2) = -0.36
    assert anchor_tilt_failed(upright, pitched, 0.6)
    assert not anchor_tilt_failed(upright, pitched, 0.7)
    yawed = quat_to_matrix(quat_from_rotvec(np.array([0.0, 0.0, 2.0])))
    assert not anchor_tilt_failed(upright, yawed, 0.01)  # heading does not count

    heights = np.array([0.05, 0.05, 0.9, 0.9])
    assert end_effector_height_failed(heights, heights + np.array([0, 0, 0, 0.3]), 0.25)
    assert not end_effector_height_failed(heights, heights + 0.2, 0.25)
