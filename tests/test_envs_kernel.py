"""The compiled step kernels against an independent numpy re-derivation from MuJoCo's own state.

The expected values are computed from ``data.xpos`` / ``xquat`` / ``xmat``, ``mj_objectVelocity``
and MuJoCo's contact list (not the environment's sensors), from the clip's raw arrays (not the
environment's per-frame tables), with the quaternion helpers of :mod:`robomotion.rotations` and
mjlab's definitions written out term by term.
"""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.observations import ObservationNoise, policy_layout
from robomotion.envs.tracking.sampler import SamplingConfig
from robomotion.envs.tracking.terms import REWARD_TERMS, RewardConfig, TerminationConfig

from robomotion.robots import get_robot
from robomotion.rotations import (
    matrix_to_6d,
    quat_angle,
    quat_apply,
    quat_conjugate,
    quat_from_rotvec,
    quat_from_yaw,
    quat_multiply,
    quat_to_matrix,
    yaw_of_quat,
)


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def swaying(g1):
    """The home pose with knees, hips and shoulders swaying and the pelvis turning: a moving reference."""
    motion = g1.home_motion(seconds=3.0)
    t = np.arange(motion.num_frames)[:, None] / motion.fps
    joint_pos = motion.joint_pos + 0.3 * np.sin(2.0 * np.pi * 0.7 * t + np.arange(29)) * (np.arange(29) % 3 == 0)
    root_quat = quat_multiply(quat_from_yaw(0.4 * np.sin(2.0 * t[:, 0])), motion.root_quat)
    return replace(motion, joint_pos=joint_pos, root_quat=root_quat)


def _expected_terms(env: G1TrackingEnv, frame: int, action, last_action) -> dict[str, float]:
    model, data, clip = env.model, env.data, env.library.clips[0]
    ids = [model.body(name).id for name in env.robot.tracked_bodies]
    anchor = env.robot.tracked_bodies.index(env.robot.anchor_body)
    pos, quat = data.xpos[ids], data.xquat[ids]
    velocity = np.zeros((len(ids), 6))
    for row, body in enumerate(ids):
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, body, velocity[row], 0)
    ref_pos, ref_quat = clip.body_pos[frame], clip.body_quat[frame]

    # mjlab: delta = yaw_quat(robot_anchor * inv(ref_anchor)); reference bodies turned about the anchor.
    delta = quat_from_yaw(yaw_of_quat(quat_multiply(quat[anchor], quat_conjugate(ref_quat[anchor]))))
    origin = np.array([pos[anchor, 0], pos[anchor, 1], ref_pos[anchor, 2]])
    moved_pos = origin + quat_apply(delta, ref_pos - ref_pos[anchor])
    moved_quat = quat_multiply(delta, ref_quat)
    errors = {
        "anchor_pos": np.sum((ref_pos[anchor] - pos[anchor]) ** 2),
        "anchor_ori": quat_angle(ref_quat[anchor], quat[anchor]) ** 2,
        "body_pos": np.mean(np.sum((moved_pos - pos) ** 2, axis=1)),
        "body_ori": np.mean(quat_angle(moved_quat, quat) ** 2),
        "body_lin_vel": np.mean(np.sum((clip.body_lin_vel[frame] - velocity[:, 3:]) ** 2, axis=1)),
        "body_ang_vel": np.mean(np.sum((clip.body_ang_vel[frame] - velocity[:, :3]) ** 2, axis=1)),
    }
    config, dt = env.config.reward, env.dt
    terms = {name: getattr(config, f"{name}_weight") * dt * np.exp(-error / getattr(config, f"{name}_sigma") ** 2)
             for name, error in errors.items()}
    limits = env.robot.joint_limits
    middle, half = limits.mean(axis=1), 0.45 * (limits[:, 1] - limits[:, 0])
    outside = np.maximum(np.abs(data.qpos[7:] - middle) - half, 0.0).sum()
    robot_pairs = np.count_nonzero((model.geom_bodyid[data.contact.geom] > 0).all(axis=1))
    terms["action_rate"] = -0.1 * dt * np.sum((action - last_action) ** 2)
    terms["joint_limit"] = -10.0 * dt * outside
    terms["self_collision"] = config.self_collision_weight * dt * min(robot_pairs, 10)
    return terms


#: mjlab's KNEES_BENT pose in the G1's joint order, as the contract doc and the B_Fence1 ONNX list it.
KNEES_BENT = np.array([-0.312, 0, 0, 0.669, -0.363, 0] * 2 + [0, 0, 0] + [0.2, 0.2, 0, 0.6, 0, 0, 0]
                      + [0.2, -0.2, 0, 0.6, 0, 0, 0])


def _expected_observation(env: G1TrackingEnv, frame: int, action) -> np.ndarray:
    data, clip, robot, model = env.data, env.library.clips[0], env.robot, env.model
    last = clip.num_frames - 1
    v0 = env.config.observation == "robomotion-v0"
    offsets = env.config.command_offsets if v0 else (0,)
    command = [part for k in offsets
               for part in (clip.joint_pos[min(frame + k, last)], clip.joint_vel[min(frame + k, last)])]
    anchor = robot.tracked_bodies.index(robot.anchor_body)
    torso = data.xmat[model.body(robot.anchor_body).id].reshape(3, 3)
    pelvis = data.xmat[model.body(robot.root_body).id].reshape(3, 3)
    torso_pos = data.xpos[model.body(robot.anchor_body).id]
    relative = torso.T @ quat_to_matrix(clip.body_quat[frame, anchor])
    anchor_pos = torso.T @ (clip.body_pos[frame, anchor] - torso_pos)
    if v0:
        return np.concatenate([
            *command, anchor_pos, matrix_to_6d(relative), pelvis.T @ [0.0, 0.0, -1.0], data.qvel[3:6],
            data.qpos[7:] - robot.home_joint_pos, data.qvel[6:], action,
        ])
    imu = np.zeros(6)  # the IMU site's (angular, linear) velocity in its own frame
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_SITE, model.site("imu_in_pelvis").id, imu, 1)
    parts = [*command]
    if env.config.observation == "mjlab":
        parts.append(anchor_pos)
    parts.append(relative[:, :2].reshape(6))  # mjlab: m[:, :2] row-major
    if env.config.observation == "mjlab":
        parts.append(imu[3:])
    parts += [data.qvel[3:6], data.qpos[7:] - KNEES_BENT, data.qvel[6:], action]
    return np.concatenate(parts)


def _expected_failure(env: G1TrackingEnv, frame: int) -> str | None:
    data, clip, robot = env.data, env.library.clips[0], env.robot
    limits = env.config.termination
    anchor = robot.tracked_bodies.index(robot.anchor_body)
    torso = env.model.body(robot.anchor_body).id
    height_error = abs(clip.body_pos[frame, anchor, 2] - data.xpos[torso, 2])
    tilt_error = abs(quat_to_matrix(clip.body_quat[frame, anchor])[2, 2] - data.xmat[torso, 8])  # gravity z
    ends = [robot.tracked_bodies.index(name) for name in (*robot.foot_bodies, *robot.hand_bodies)]
    heights = data.xpos[[env.model.body(robot.tracked_bodies[e]).id for e in ends], 2]
    end_error = np.abs(clip.body_pos[frame, ends, 2] - heights).max()
    errors = {"anchor_height": height_error, "anchor_tilt": tilt_error, "end_effector_height": end_error}
    for name, error in errors.items():
        threshold = getattr(limits, name)
        if threshold is not None and error > threshold:
            return name
    return None


@pytest.mark.parametrize(
    ("termination", "observation"),
    [
        (TerminationConfig(), "mjlab"),
        (TerminationConfig(anchor_height=0.03), "mjlab-no-state-estimation"),
        (TerminationConfig(anchor_height=None, anchor_tilt=0.02), "robomotion-v0"),
    ],
    ids=["default", "tight-height", "tight-tilt"],
)
def test_step_kernel_matches_an_independent_numpy_derivation(swaying, termination, observation):
    """Random actions from turned, shifted, perturbed starts: every reward term, the observation (each
    layout) and the termination equal mjlab's definitions computed from MuJoCo's state. The
    self-collision term counts contacts here (its per-physics-step force form has its own test)."""
    make = TrackingConfig.robomotion_v0 if observation == "robomotion-v0" else TrackingConfig
    config = make(termination=termination, sampling=SamplingConfig(mode="start"), observation_noise=None,
                  reset_noise=None, reward=RewardConfig(self_collision_force=None), clip_end="truncate")
    env = G1TrackingEnv(motion=swaying, config=config)
    rng = np.random.default_rng(4)
    clip = env.library.clips[0]
    checked, endings = 0, set()
    for _ in range(4):
        frame = int(rng.integers(0, clip.num_frames - 40))
        qpos = clip.qpos[frame].copy()
        qpos[:2] += rng.uniform(-0.3, 0.3, 2)
        qpos[3:7] = quat_multiply(quat_from_rotvec(rng.uniform(-0.2, 0.2, 3) * [1, 1, 5]), qpos[3:7])
        qpos[7:] += rng.uniform(-0.1, 0.1, 29)
        qvel = np.concatenate([rng.normal(0, 0.3, 6), rng.normal(0, 1.0, 29)])
        observation, _ = env.reset(options={"frame": frame, "qpos": qpos, "qvel": qvel})
        np.testing.assert_allclose(observation, _expected_observation(env, frame, np.zeros(29)), atol=2e-5, rtol=1e-6)
        last_action = np.zeros(29)
        for _ in range(30):
            action = rng.normal(0.0, 1.5, 29).astype(np.float32)
            observation, reward, terminated, truncated, info = env.step(action)
            expected = _expected_terms(env, info["frame"], action.astype(np.float64), last_action)
            assert list(info["reward_terms"]) == list(REWARD_TERMS)
            np.testing.assert_allclose([info["reward_terms"][name] for name in REWARD_TERMS],
                                       [expected[name] for name in REWARD_TERMS], rtol=1e-9, atol=1e-15)
            assert reward == pytest.approx(sum(expected.values()), rel=1e-12, abs=1e-15)
            expected_observation = _expected_observation(env, info["frame"], action)
            np.testing.assert_allclose(observation, expected_observation, atol=2e-5, rtol=1e-6)
            assert info["termination"] == _expected_failure(env, info["frame"])
            last_action = action.astype(np.float64)
            checked += 1
            endings.add(info["termination"])
            if terminated or truncated:
                break
    assert checked >= 15 and None in endings and len(endings) >= 2  # tracking steps and a failure were compared


def test_observation_noise_is_bounded_and_absent_from_the_privileged_observation(swaying):
    env = G1TrackingEnv(motion=swaying, privileged_obs=True)
    layout, noise = env.observation_layout, ObservationNoise()
    widths = noise.half_widths(layout)
    differences = []
    observation, info = env.reset(seed=1)
    assert env.observation_layout.size == 160 and env.privileged_layout.size == 286
    for step in range(70):  # crosses a 64-row noise block
        critic = env.privileged_layout.split(info["privileged_obs"])
        noise_free = np.concatenate([critic[name] for name in layout.names])  # the critic holds every actor term
        difference = observation.astype(np.float64) - noise_free
        assert np.all(np.abs(difference) <= widths * (1 + 1e-6) + 1e-6)
        differences.append(difference)
        observation, _, terminated, truncated, info = env.step(np.zeros(29, dtype=np.float32))
        if terminated or truncated:
            observation, info = env.reset()
    differences = np.array(differences)
    noisy = widths > 0
    assert np.all(differences[:, ~noisy] == 0.0)  # command and last action stay exact
    # every noisy element was perturbed, spread over its interval
    assert np.all(np.abs(differences[:, noisy]).max(axis=0) > 0.5 * widths[noisy])


@pytest.mark.parametrize(("observation", "first"), [("robomotion-v0", "anchor_pos"), ("mjlab", "motion_anchor_pos_b")])
def test_noisy_span_covers_exactly_the_noisy_segments(observation, first):
    layout = policy_layout(29, (0, 1, 5, 10), observation)
    start, widths = ObservationNoise().noisy_span(layout)
    parts = layout.slices()
    assert start == parts[first].start and start + widths.size == parts["joint_vel"].stop
    assert widths.size == 73
    np.testing.assert_array_equal(widths, ObservationNoise().half_widths(layout)[start : start + widths.size])
    silent = {name: 0.0 for name in ("anchor_pos", "anchor_ori", "base_lin_vel", "gravity", "base_ang_vel",
                                     "joint_pos", "joint_vel")}
    assert ObservationNoise(**silent).noisy_span(layout)[1].size == 0


def test_mjlab_noise_half_widths_follow_the_contract():
    layout = policy_layout(29, (0,), "mjlab")
    widths = ObservationNoise().half_widths(layout)
    expected = {"command": 0.0, "motion_anchor_pos_b": 0.25, "motion_anchor_ori_b": 0.05, "base_lin_vel": 0.5,
                "base_ang_vel": 0.2, "joint_pos": 0.01, "joint_vel": 0.5, "actions": 0.0}
    for name, part in layout.slices().items():
        assert np.all(widths[part] == expected[name]), name


def test_actions_of_the_wrong_shape_are_refused(swaying):
    env = G1TrackingEnv(motion=swaying)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"\(29,\)"):
        env.step(np.zeros(28, dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(29,\)"):
        env.step(np.zeros((1, 29), dtype=np.float32))
    # lists and float64 arrays are fine, and clip like float32 arrays
    info_list = env.step([20.0] * 29)[4]
    env.reset(seed=0)
    info_array = env.step(np.full(29, 20.0, dtype=np.float32))[4]
    assert info_list["reward_terms"] == info_array["reward_terms"]


def _self_contact_forces(model: mujoco.MjModel, data: mujoco.MjData) -> list[float]:
    """Norms of the contact forces (N) of every robot-robot contact in ``data`` (MuJoCo's contact list)."""
    forces, wrench = [], np.zeros(6)
    for index in range(data.ncon):
        contact = data.contact[index]
        if (model.geom_bodyid[contact.geom] > 0).all():
            mujoco.mj_contactForce(model, data, index, wrench)
            forces.append(float(np.linalg.norm(wrench[:3])))
    return forces


def test_self_collision_counts_physics_steps_with_a_contact_above_10_newtons(swaying):
    """mjlab's term: per control step, the number of physics steps (0-4) in which a self-contact pushed
    with more than 10 N, replayed step by step on a copy of the simulation with MuJoCo's contact forces."""
    env = G1TrackingEnv(motion=swaying, config=TrackingConfig.evaluation(clip_end="truncate"))
    model, data = env.model, env.data
    scratch = mujoco.MjData(model)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    counts, light = [], 0
    for _ in range(300):
        action = rng.normal(0, 2.5, 29).astype(np.float32)
        mujoco.mj_copyData(scratch, model, data)
        _, _, terminated, truncated, info = env.step(action)
        scratch.ctrl[:] = data.ctrl
        expected = 0
        for _ in range(4):
            mujoco.mj_step(model, scratch)
            forces = _self_contact_forces(model, scratch)
            expected += any(force > 10.0 for force in forces)
            light += any(0 < force <= 10.0 for force in forces)
        assert env.sim.self_collision[0] == expected
        assert info["reward_terms"]["self_collision"] == pytest.approx(-10.0 * env.dt * expected)
        counts.append(expected)
        if terminated or truncated:
            env.reset()
    assert max(counts) >= 1 and light > 0  # both heavy and light self-contacts occurred


def test_self_collision_weight_reaches_the_kernel(swaying):
    """A non-default reward config changes the kernel's weights (here the contact count at -10)."""
    config = TrackingConfig.evaluation(reward=RewardConfig(self_collision_weight=-10.0, self_collision_force=None))
    env = G1TrackingEnv(motion=swaying, config=config)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(rng.normal(0, 2, 29).astype(np.float32))
        contacts = env.sim.self_contacts[0]
        assert info["reward_terms"]["self_collision"] == pytest.approx(-10.0 * env.dt * min(contacts, 10))
        if contacts:
            return
        if terminated or truncated:
            env.reset()
    pytest.fail("no self-contact in 200 random steps")
