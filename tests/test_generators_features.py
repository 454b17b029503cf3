"""Motion representation, augmentation, prompt rules, sampler schedule and post-processing."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.generators.constraints import EndEffectorConstraint, FullBodyConstraint, Root2DConstraint
from robomotion.generators.dataset import _swap_name, mirror_motion, mirror_text, text_variants
from robomotion.generators.features import (
    FeatureLayout,
    canonicalize,
    decode_features,
    encode_motion,
    encode_poses,
    heading_from_positions,
    transform_global,
)
from robomotion.generators.postprocess import (
    cleanup_foot_skate,
    hit_pose_constraints,
    hit_root_constraints,
    two_bone_ik,
)
from robomotion.generators.sampling import NoiseSchedule, ddim_timesteps
from robomotion.generators.text_encoder import sanitize_prompt, split_prompt
from robomotion.metrics import mbench_metrics
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec, quat_from_yaw, quat_multiply, quat_to_matrix
from robomotion.skeleton import forward_kinematics_matrices
from robomotion.skeletons import get_skeleton

SKELETON = get_skeleton("smplx22")


def _random_motion(frames: int = 40, seed: int = 0, yaw: float = 0.4) -> HumanMotion:
    rng = np.random.default_rng(seed)
    rotations = quat_from_rotvec(rng.normal(0, 0.25, (frames, 22, 3)))
    rotations[:, 0] = quat_multiply(quat_from_yaw(np.full(frames, yaw)), rotations[:, 0])
    root = np.cumsum(rng.normal(0, 0.02, (frames, 3)), axis=0) + np.array([0.3, -0.2, 0.95])
    return HumanMotion(SKELETON, 30.0, root, rotations)


def test_layout_matches_kimodo_width_for_smplx():
    layout = FeatureLayout(22)
    assert layout.dim == 273  # the same width as Kimodo's SMPL-X representation
    assert layout["contacts"].stop == 273
    assert layout.joint_position_channels(0).tolist() == [0, 1, 4]


def test_encode_decode_round_trip_is_exact():
    motion = _random_motion()
    decoded = decode_features(encode_motion(motion), SKELETON, 30.0)
    np.testing.assert_allclose(decoded.global_positions, motion.global_positions, atol=1e-9)
    np.testing.assert_allclose(decoded.global_rotations, motion.global_rotations, atol=1e-9)


def test_canonical_frame_and_moving_back():
    motion = _random_motion(yaw=1.2)
    features = encode_motion(motion)
    layout = FeatureLayout(22)
    canonical, yaw, origin = canonicalize(features, layout, frame=3)
    positions = decode_features(canonical, SKELETON, 30.0).global_positions
    np.testing.assert_allclose(positions[3, 0, :2], [0.0, 0.0], atol=1e-12)
    assert heading_from_positions(positions[3], SKELETON) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(transform_global(canonical, yaw, origin, layout), features, atol=1e-12)
    # Only the 4 world-dependent channels change.
    changed = np.flatnonzero(np.abs(canonical - features).max(axis=0) > 1e-9)
    assert set(changed) <= set(layout.channels("root_xy", "heading"))


def test_pose_channels_of_single_poses_match_the_motion():
    motion = _random_motion()
    full = encode_motion(motion)
    poses = encode_poses(motion.local_rotations, motion.root_translation, SKELETON)
    layout = FeatureLayout(22)
    channels = layout.channels(*layout.pose_groups)
    np.testing.assert_allclose(poses[:, channels], full[:, channels], atol=1e-9)


def test_mirroring_swaps_sides():
    motion = _random_motion()
    mirrored = mirror_motion(motion)
    names = SKELETON.joint_names
    partner = [names.index(_swap_name(n)) for n in names]
    reflected = mirrored.global_positions[:, partner] * np.array([1.0, -1.0, 1.0])
    # Exact up to the SMPL-X rest skeleton's own left/right asymmetry (a few cm over a chain).
    assert np.abs(reflected - motion.global_positions).max() < 0.08
    np.testing.assert_allclose(mirror_motion(mirrored).global_positions, motion.global_positions, atol=1e-9)
    assert mirror_text("kicks with the right leg, turns left") == "kicks with the left leg, turns right"
    assert "someone walks" in text_variants("a person walks")


def test_prompt_rules_follow_kimodo():
    assert sanitize_prompt("  a person   walks forward ") == "A person walks forward."
    assert sanitize_prompt("--jump!!") == "Jump!!"
    assert sanitize_prompt("walk. then RUN") == "Walk. Then run."
    assert sanitize_prompt("") == ""
    assert split_prompt("A person walks. A person sits down.") == ["A person walks.", "A person sits down."]


def test_ddim_timesteps_are_kimodo_spaced():
    assert ddim_timesteps(5, 1000) == [0, 250, 500, 749, 999]
    schedule = NoiseSchedule()
    assert 0.99 < float(schedule.alpha_bar[0]) <= 1.0 and float(schedule.alpha_bar[-1]) < 1e-3


def test_two_bone_ik_hits_reachable_targets_and_keeps_the_end_rotation():
    motion = _random_motion(frames=50)
    local = quat_to_matrix(motion.local_rotations)
    positions, glob = forward_kinematics_matrices(SKELETON, local, motion.root_translation)
    chain = tuple(SKELETON.indices(["right_shoulder", "right_elbow", "right_wrist"]))
    target = positions[:, chain[2]] + np.random.default_rng(1).normal(0, 0.05, (50, 3))
    reach = np.linalg.norm(positions[:, chain[1]] - positions[:, chain[0]], axis=-1) + np.linalg.norm(
        positions[:, chain[2]] - positions[:, chain[1]], axis=-1
    )
    reachable = np.linalg.norm(target - positions[:, chain[0]], axis=-1) < reach - 1e-3
    assert reachable.sum() > 25
    solved = two_bone_ik(glob, positions, chain, target)
    local_solved = local.copy()
    local_solved[:, 1:] = np.swapaxes(solved[:, SKELETON.parents[1:]], -1, -2) @ solved[:, 1:]
    new_positions, new_glob = forward_kinematics_matrices(SKELETON, local_solved, motion.root_translation)
    np.testing.assert_allclose(new_positions[reachable, chain[2]], target[reachable], atol=1e-9)
    np.testing.assert_allclose(new_glob[:, chain[2]], glob[:, chain[2]], atol=1e-9)


def test_root_constraints_are_hit_within_the_margin():
    motion = _random_motion(frames=60)
    targets = np.array([[1.0, 0.5], [2.0, -0.5]])
    result = hit_root_constraints(motion, [Root2DConstraint([20, 50], targets, headings=[0.5, -0.3])], root_margin=0.04)
    error = np.linalg.norm(result.root_translation[[20, 50], :2] - targets, axis=-1)
    assert np.all(error <= 0.04 + 1e-9)
    heading = heading_from_positions(result.global_positions[[20, 50]], SKELETON)
    np.testing.assert_allclose(heading, [0.5, -0.3], atol=1e-6)
    np.testing.assert_allclose(result.root_translation[0], motion.root_translation[0])  # frame 0 stays


def test_pose_constraints_are_exact_and_smooth():
    motion = _random_motion(frames=60, seed=2)
    target = _random_motion(frames=60, seed=3)
    keyframe = FullBodyConstraint([30], target.local_rotations[[30]], target.root_translation[[30]])
    hand = EndEffectorConstraint([10], target.local_rotations[[10]], target.root_translation[[10]], joint_names=("RightHand", "LeftFoot"))
    result = hit_pose_constraints(motion, [keyframe, hand])
    np.testing.assert_allclose(result.global_positions[30], target.global_positions[30], atol=1e-9)
    for role in ("right_wrist", "left_ankle", "left_toe"):
        j = SKELETON.index(role)
        np.testing.assert_allclose(result.global_positions[10, j], target.global_positions[10, j], atol=1e-6)
    # Far from the keyframes nothing changes.
    np.testing.assert_allclose(result.global_positions[55:], motion.global_positions[55:], atol=1e-9)


def test_foot_skate_cleanup_pins_feet_in_contact():
    rest = SKELETON.rest_positions()
    frames = 40
    root = np.tile([0.0, 0.0, -rest[:, 2].min() - 0.08], (frames, 1))  # crouched 8 cm: knees can bend
    root[:, 0] = np.linspace(0.0, 0.1, frames)  # the whole body drifts 10 cm: feet skate
    rotations = np.tile([1.0, 0.0, 0.0, 0.0], (frames, 22, 1))
    motion = HumanMotion(SKELETON, 30.0, root, rotations, foot_contacts=np.ones((frames, 4), dtype=bool))
    before = mbench_metrics(motion).foot_sliding
    cleaned = cleanup_foot_skate(motion)
    assert mbench_metrics(cleaned).foot_sliding < 0.05 * before
    ankle = SKELETON.index("left_ankle")
    assert np.ptp(cleaned.global_positions[:, ankle, 0]) < 1e-6
