"""Adaptive start sampling (BeyondMimic), the observation layout and reset noise, without MuJoCo."""

from __future__ import annotations

import numpy as np
import pytest
from robomotion.envs.tracking.observations import (
    ObservationNoise,
    feature_layout,
    policy_layout,
    pose_in_frame,
    privileged_layout,
)
from robomotion.envs.tracking.reset_noise import ResetNoise, perturb_state
from robomotion.envs.tracking.sampler import SamplingConfig, StartSampler

from robomotion.rotations import (
    matrix_to_6d,
    quat_angle,
    quat_apply,
    quat_conjugate,
    quat_from_rotvec,
    quat_multiply,
    quat_to_matrix,
)


def _sampler(frames=(251,), weights=None, **config) -> StartSampler:
    weights = np.ones(len(frames)) / len(frames) if weights is None else np.asarray(weights, dtype=float)
    return StartSampler(frames, 50.0, weights, SamplingConfig(**config))


def test_bins_are_about_one_second():
    sampler = _sampler((251, 50, 49))
    assert sampler.bin_counts.tolist() == [6, 2, 1]
    assert [sampler.bin_of(0, f) for f in (0, 41, 42, 250)] == [0, 0, 1, 5]


def test_uniform_before_any_failure():
    np.testing.assert_allclose(_sampler().bin_probabilities(0), np.full(6, 1 / 6))


def test_lazy_ema_equals_the_per_step_update():
    sampler = _sampler(alpha=0.01)
    bins = sampler.bin_counts[0]
    failures = {3: [0], 10: [200], 11: [200], 40: [120, 130]}  # step -> failure frames
    expected = np.zeros(bins)
    for step in range(1, 61):
        sampler.step()
        current = np.zeros(bins)
        for frame in failures.get(step, []):
            sampler.record_failure(0, frame)
            current[sampler.bin_of(0, frame)] += 1
        expected = 0.01 * current + 0.99 * expected  # BeyondMimic: every step
    np.testing.assert_allclose(sampler.failure_ema(0), expected, rtol=1e-12)


def test_failures_shift_starts_towards_the_hard_part():
    sampler = _sampler(alpha=0.001)
    for _ in range(200):
        sampler.step()
        sampler.record_failure(0, 180)  # bin 4
    probabilities = sampler.bin_probabilities(0)
    assert np.argmax(probabilities) == 4
    # every failure in bin 4: the failure share (0.9) goes to it, the uniform share (0.1) to all bins
    assert probabilities[4] == pytest.approx(0.9 + 0.1 / 6)
    rng = np.random.default_rng(0)
    frames = np.array([sampler.sample(rng)[1] for _ in range(2000)])
    share = np.mean((frames >= 4 * 250 / 6) & (frames < 5 * 250 / 6))
    assert share == pytest.approx(probabilities[4], abs=0.04)
    assert sampler.stats(0)["top1_bin"] == 4.0


def test_failure_statistics_do_not_depend_on_the_number_of_environments():
    """One environment failing every 50 steps and 4096 environments' worth of failures per step give the
    same start distribution: the uniform floor does not drown a single environment's statistics."""
    single, many = _sampler(), _sampler()
    for step in range(2000):
        single.step()
        many.step()
        if step % 50 == 0:
            single.record_failure(0, 180 if step % 100 else 60)  # bins 4 and 1, alternately
        for _ in range(80):
            many.record_failure(0, 180 if step % 2 else 60)
    p_single, p_many = single.bin_probabilities(0), many.bin_probabilities(0)
    assert single.failure_ema(0).sum() < 0.05 < many.failure_ema(0).sum()  # raw EMAs differ 4000-fold
    np.testing.assert_allclose(p_single, p_many, atol=0.03)
    assert p_single[[1, 4]].sum() == pytest.approx(0.9 + 2 * 0.1 / 6, abs=1e-9)
    assert single.stats(0)["entropy"] < 0.6


def test_kernel_raises_the_bins_before_a_failure():
    sampler = _sampler(alpha=1.0, kernel_size=3, kernel_lambda=0.5, uniform_ratio=1e-9)
    sampler.step()
    sampler.record_failure(0, 180)  # bin 4 only
    probabilities = sampler.bin_probabilities(0)
    # bin i gets lambda**k of bin i + k: bins 2, 3, 4 in ratio 0.25 : 0.5 : 1.
    np.testing.assert_allclose(probabilities[[2, 3, 4]] / probabilities[4], [0.25, 0.5, 1.0], atol=1e-6)
    assert probabilities[5] < 1e-6 and probabilities[1] < 1e-6


def test_modes_and_clip_weights():
    rng = np.random.default_rng(1)
    start = _sampler((100, 200), mode="start")
    assert {start.sample(rng)[1] for _ in range(20)} == {0}
    uniform = _sampler((100,), mode="uniform")
    frames = [uniform.sample(rng)[1] for _ in range(500)]
    assert min(frames) >= 0 and max(frames) <= 99 and np.ptp(frames) > 90
    weighted = _sampler((100, 100, 100), weights=[0.0, 1.0, 0.0])
    assert {weighted.sample(rng)[0] for _ in range(20)} == {1}
    library = _sampler((100, 150, 200))
    assert {library.sample(rng)[0] for _ in range(60)} == {0, 1, 2}


def test_sampling_is_deterministic_under_a_seed():
    first = [_sampler((300, 120)).sample(np.random.default_rng(7)) for _ in range(3)]
    assert first[0] == first[1] == first[2]


def test_sampling_config_validation():
    with pytest.raises(ValueError, match="mode"):
        SamplingConfig(mode="random")
    with pytest.raises(ValueError, match="alpha"):
        SamplingConfig(alpha=0.0)


def test_observation_layouts():
    layout = policy_layout(29, (0, 1, 5, 10), "robomotion-v0")
    assert layout.size == 334 == 4 * 58 + 3 + 6 + 3 + 3 + 3 * 29
    assert layout.names[0] == "command" and layout.names[-1] == "last_action"
    parts = layout.split(np.arange(layout.size, dtype=float))
    assert parts["anchor_pos"].tolist() == [232.0, 233.0, 234.0]
    critic = privileged_layout(29, (0, 1, 5, 10), 14, "robomotion-v0")
    assert critic.size == 463 == layout.size + 3 + 14 * 9
    mjlab = policy_layout(29, (0, 1, 5, 10), "mjlab")  # mjlab's layouts ignore the command offsets
    assert mjlab.size == 160 and mjlab.names == ("command", "motion_anchor_pos_b", "motion_anchor_ori_b",
                                                 "base_lin_vel", "base_ang_vel", "joint_pos", "joint_vel", "actions")
    blind = policy_layout(29, (0,), "mjlab-no-state-estimation")
    assert blind.size == 154 and "base_lin_vel" not in blind.names and "motion_anchor_pos_b" not in blind.names
    mjlab_critic = privileged_layout(29, (0,), 14, "mjlab")
    assert mjlab_critic.size == 286 and mjlab_critic.names == (
        "command", "motion_anchor_pos_b", "motion_anchor_ori_b", "body_pos", "body_ori", "base_lin_vel",
        "base_ang_vel", "joint_pos", "joint_vel", "actions")
    # gather indices: mjlab's orientation is the feature as is, robomotion-v0's is column-stacked
    features = feature_layout(29, 1)
    start = features.slices()["anchor_ori"].start
    ori = mjlab.gather_index(features)[mjlab.slices()["motion_anchor_ori_b"]]
    assert ori.tolist() == list(range(start, start + 6))
    v0_ori = policy_layout(29, (0,), "robomotion-v0").gather_index(features)[parts["anchor_ori"].astype(int) - 232 + 58]
    assert (v0_ori - start).tolist() == [0, 2, 4, 1, 3, 5]
    with pytest.raises(ValueError, match="observation"):
        policy_layout(29, (0,), "isaac")
    widths = ObservationNoise().half_widths(layout)
    assert widths[layout.slices()["command"]].max() == 0.0
    assert widths[layout.slices()["anchor_pos"]].tolist() == [0.25, 0.25, 0.25]
    with pytest.raises(ValueError, match="size"):
        layout.split(np.zeros(3))


def test_pose_in_frame_matches_quaternion_maths(rng):
    frame_quat = rng.normal(size=4)
    frame_quat /= np.linalg.norm(frame_quat)
    quats = rng.normal(size=(5, 4))
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    frame_pos, positions = rng.normal(size=3), rng.normal(size=(5, 3))
    local_pos, local_6d = pose_in_frame(frame_pos, quat_to_matrix(frame_quat), positions, quat_to_matrix(quats))
    np.testing.assert_allclose(local_pos, quat_apply(quat_conjugate(frame_quat), positions - frame_pos), atol=1e-12)
    relative = quat_to_matrix(quat_multiply(quat_conjugate(frame_quat), quats))
    np.testing.assert_allclose(local_6d, relative[:, :, :2].reshape(5, 6), atol=1e-12)  # mjlab: row-major m[:, :2]
    assert not np.allclose(local_6d, matrix_to_6d(relative))  # not the column-stacked [c0, c1]


def test_reset_noise_stays_in_its_bounds():
    noise = ResetNoise()
    qpos = np.concatenate([[0.0, 0.0, 0.78], quat_from_rotvec(np.array([0.0, 0.0, 1.0])), np.zeros(3)])
    qvel = np.concatenate([[0.3, 0.0, 0.0], [0.0, 0.0, 0.5], np.ones(3)])
    lower, upper = np.full(3, -0.05), np.full(3, 0.05)
    rng = np.random.default_rng(0)
    for _ in range(200):
        new_qpos, new_qvel = perturb_state(qpos, qvel, noise, rng, lower, upper)
        assert np.all(np.abs(new_qpos[:3] - qpos[:3]) <= noise.root_pos)
        assert np.linalg.norm(new_qpos[3:7]) == pytest.approx(1.0)
        assert quat_angle(new_qpos[3:7], qpos[3:7]) <= np.linalg.norm(noise.root_rot) + 1e-9
        assert np.all((new_qpos[7:] >= lower) & (new_qpos[7:] <= upper))
        assert np.all(np.abs(new_qvel[:3] - qvel[:3]) <= noise.root_lin_vel)
        # angular velocity noise is drawn in the world frame
        world_before = quat_apply(qpos[3:7], qvel[3:6])
        world_after = quat_apply(new_qpos[3:7], new_qvel[3:6])
        assert np.all(np.abs(world_after - world_before) <= np.array(noise.root_ang_vel) + 1e-12)
        np.testing.assert_array_equal(new_qvel[6:], qvel[6:])
    again = perturb_state(qpos, qvel, noise, np.random.default_rng(5), lower, upper)
    np.testing.assert_array_equal(again[0], perturb_state(qpos, qvel, noise, np.random.default_rng(5), lower, upper)[0])
