"""mjlab's contract in ``robomotion/G1Tracking-v0`` (the default): observation layouts, default pose,
unclamped targets, clip-end wrap, user-declared terms; and a real mjlab policy driven through the env."""

from __future__ import annotations

from dataclasses import replace

import gymnasium
import numpy as np
import pytest
import robomotion.envs  # noqa: F401  (registers the environment)
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.terms import REWARD_TERMS, RewardTerm, TerminationConfig, TerminationTerm

from robomotion.robots import get_robot

#: mjlab's KNEES_BENT pose in the G1's joint order (contract doc; B_Fence1's ONNX metadata).
KNEES_BENT = np.array([-0.312, 0, 0, 0.669, -0.363, 0] * 2 + [0, 0, 0] + [0.2, 0.2, 0, 0.6, 0, 0, 0]
                      + [0.2, -0.2, 0, 0.6, 0, 0, 0])


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def home(g1):
    return g1.home_motion(seconds=3.0)


def test_default_is_mjlab_observation_and_critic(home):
    env = gymnasium.make("robomotion/G1Tracking-v0", motion=home, privileged_obs=True)
    observation, info = env.reset(seed=0)
    assert observation.shape == (160,) and info["privileged_obs"].shape == (286,)
    assert env.unwrapped.observation_layout.names == (
        "command", "motion_anchor_pos_b", "motion_anchor_ori_b", "base_lin_vel", "base_ang_vel", "joint_pos",
        "joint_vel", "actions")
    blind = gymnasium.make("robomotion/G1Tracking-v0", motion=home, observation="mjlab-no-state-estimation")
    assert blind.reset(seed=0)[0].shape == (154,)
    v0 = G1TrackingEnv(home, config=TrackingConfig.robomotion_v0())
    assert v0.reset(seed=0)[0].shape == (334,)
    with pytest.raises(ValueError, match="observation"):
        TrackingConfig(observation="isaaclab")


def test_mjlab_observation_on_the_reference(home, g1):
    """Robot on the reference, moving: every segment equals its definition."""
    env = G1TrackingEnv(home, config=TrackingConfig.evaluation(privileged_obs=True))
    clip = env.library.clips[0]
    qvel = np.random.default_rng(0).normal(size=env.model.nv)
    observation, info = env.reset(options={"frame": 10, "qpos": clip.qpos[10], "qvel": qvel})
    parts = env.observation_layout.split(observation)
    np.testing.assert_allclose(parts["command"], np.concatenate([clip.joint_pos[10], clip.joint_vel[10]]), atol=1e-6)
    np.testing.assert_allclose(parts["motion_anchor_pos_b"], 0.0, atol=1e-6)
    np.testing.assert_allclose(parts["motion_anchor_ori_b"], [1, 0, 0, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(parts["base_ang_vel"], qvel[3:6], rtol=1e-6)
    # the IMU sits 9.5 cm from the pelvis origin: v_imu = R^T v + w x r, in the pelvis frame
    pelvis = env.data.xmat[env.model.body("pelvis").id].reshape(3, 3)
    offset = env.model.site("imu_in_pelvis").pos
    np.testing.assert_allclose(parts["base_lin_vel"], pelvis.T @ qvel[:3] + np.cross(qvel[3:6], offset), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(parts["joint_pos"], g1.home_joint_pos - KNEES_BENT, atol=1e-6)
    np.testing.assert_allclose(parts["joint_vel"], qvel[6:], rtol=1e-6)
    critic = env.privileged_layout.split(info["privileged_obs"])
    np.testing.assert_allclose(critic["body_ori"].reshape(14, 6)[7], [1, 0, 0, 1, 0, 0], atol=1e-6)  # the torso


def test_knees_bent_offset_and_unclamped_targets(home, g1):
    env = G1TrackingEnv(home, config=TrackingConfig.evaluation())
    assert not env.model.actuator_ctrllimited.any()
    env.reset(seed=0)
    env.step(np.zeros(29, dtype=np.float32))
    np.testing.assert_allclose(env.data.ctrl, KNEES_BENT)
    scale = 0.25 * g1.effort_limits / g1.kp
    np.testing.assert_allclose(scale[[0, 1, 4, 20]], [0.548, 0.351, 0.439, 0.075], atol=1e-3)  # the contract's
    env.step(np.full(29, 8.0, dtype=np.float32))
    targets = KNEES_BENT + 8.0 * scale
    np.testing.assert_allclose(env.data.ctrl, targets)
    assert np.any(targets > g1.joint_limits[:, 1])  # beyond the joint range, and kept
    clamped = G1TrackingEnv(home, config=TrackingConfig.robomotion_v0())
    assert clamped.model.actuator_ctrllimited.all()


def test_clip_end_wraps_to_a_new_start(home):
    """mjlab: at the clip end the robot is put at a new start and the episode goes on."""
    short = replace(home, root_pos=home.root_pos[:10], root_quat=home.root_quat[:10], joint_pos=home.joint_pos[:10])
    env = G1TrackingEnv(short, config=TrackingConfig.evaluation())
    env.reset(seed=0)
    last = env.library.clips[0].num_frames - 1
    for step in range(1, last + 1):
        _, _, terminated, truncated, info = env.step(np.zeros(29, dtype=np.float32))
        assert not terminated and not truncated
    assert info["wrapped"] and info["frame"] == 0
    np.testing.assert_allclose(env.data.qpos, env.library.clips[0].qpos[0])  # the reference state, no noise
    truncating = G1TrackingEnv(short, config=TrackingConfig.evaluation(clip_end="truncate"))
    truncating.reset(seed=0)
    endings = [truncating.step(np.zeros(29, dtype=np.float32))[3] for _ in range(last)]
    assert endings[-1] and not any(endings[:-1])


def test_user_declared_terms_without_editing_the_kernel(home):
    def pelvis_height_error(env, target):
        return (env.sim.body_pos[0, 2] - target) ** 2

    def pelvis_below(env, height):
        return env.sim.body_pos[0, 2] < height

    config = TrackingConfig.evaluation(
        rewards=(RewardTerm("pelvis_height", pelvis_height_error, weight=-2.0, params={"target": 0.9}),),
        terminations=(TerminationTerm("pelvis_low", pelvis_below, params={"height": 0.7}),),
        termination=TerminationConfig(None, None, None),
    )
    env = G1TrackingEnv(home, config=config)
    env.reset(seed=0)
    for _ in range(200):
        _, reward, terminated, _, info = env.step(np.zeros(29, dtype=np.float32))
        assert list(info["reward_terms"]) == [*REWARD_TERMS, "pelvis_height"]
        expected = -2.0 * (env.sim.body_pos[0, 2] - 0.9) ** 2 * env.dt
        assert info["reward_terms"]["pelvis_height"] == pytest.approx(expected)
        assert reward == pytest.approx(sum(info["reward_terms"].values()))
        if terminated:
            break
    assert info["termination"] == "pelvis_low" and env.sim.body_pos[0, 2] < 0.7
    with pytest.raises(ValueError, match="clash"):
        G1TrackingEnv(home, rewards=(RewardTerm("body_pos", pelvis_height_error),))


def _drive_with_onnx(shared_dir, seconds: float | None):
    from robomotion.envs.tracking.policy import Policy

    from robomotion.formats import load_motion

    moves = shared_dir / "data" / "g1_moves"
    policy = Policy(moves / "policies" / "B_Fence1" / "B_Fence1.onnx")
    # mjlab plays the motion file's frames one per control step (50 Hz), as the policy was trained
    motion = replace(load_motion(moves / "clips" / "B_Fence1_mjlab.npz"), fps=50.0)
    config = TrackingConfig.evaluation(clip_end="truncate", episode_seconds=seconds or motion.num_frames / 50.0)
    env = gymnasium.make("robomotion/G1Tracking-v0", motion=motion, observation="mjlab", config=config)
    observation, _ = env.reset(seed=0)
    steps = 0
    while True:
        observation, _, terminated, truncated, info = env.step(policy(observation, time_step=env.unwrapped.frame))
        steps += 1
        if terminated or truncated:
            return steps, terminated, info


@pytest.mark.shared
def test_mjlab_policy_through_gymnasium_survives_the_clip(shared_dir):
    """B_Fence1's mjlab policy, its actions from onnxruntime, tracks the whole 32 s clip (~2 s here)."""
    steps, terminated, info = _drive_with_onnx(shared_dir, seconds=None)
    assert not terminated and steps == 1618, info["termination"]
