"""``robomotion/G1Tracking-v0``: Gymnasium contract, determinism, motion libraries, terminations, rewards."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import gymnasium
import numpy as np
import pytest
import robomotion.envs
from gymnasium.utils.env_checker import check_env
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.motion_library import MotionLibrary
from robomotion.envs.tracking.sampler import SamplingConfig
from robomotion.envs.tracking.terms import TerminationConfig

from robomotion.errors import FormatError, RobomotionError
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_apply, quat_from_rotvec, quat_multiply

ZERO = np.zeros(29, dtype=np.float32)


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def home(g1) -> RobotMotion:
    return g1.home_motion(seconds=3.0)


def _evaluation_env(motion, **overrides) -> G1TrackingEnv:
    """This project's first MDP (robomotion-v0: home pose, 334 observation, truncation at the clip end)
    with mjlab's evaluation settings; mjlab's contract has its own tests (test_envs_mjlab.py)."""
    settings = {"sampling": SamplingConfig(mode="start"), "observation_noise": None, "reset_noise": None}
    return G1TrackingEnv(motion=motion, config=TrackingConfig.robomotion_v0(**{**settings, **overrides}))


def _rollout(env, actions, seed):
    observation, _ = env.reset(seed=seed)
    observations, rewards = [observation], []
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            observations.append(env.reset()[0])
    return np.array(observations), np.array(rewards)


def _zero_action_episode(env, max_steps: int) -> tuple[int, bool, bool, dict]:
    """Step with zero actions from the first frame until the episode ends: (steps, terminated, truncated, info)."""
    env.reset(seed=0)
    for step in range(1, max_steps + 1):
        _, reward, terminated, truncated, info = env.step(ZERO)
        assert np.isfinite(reward)
        if terminated or truncated:
            break
    return step, terminated, truncated, info


def test_registered_and_passes_check_env(home):
    assert robomotion.envs.ENV_ID in gymnasium.registry
    env = gymnasium.make(robomotion.envs.ENV_ID, motion=home)
    expected = ("different from the unwrapped", "normalized space", "infinity")  # by design, see docs/envs.md
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    unexpected = [str(w.message) for w in caught if not any(text in str(w.message) for text in expected)]
    assert not unexpected
    assert env.observation_space.shape == (env.unwrapped.observation_layout.size,)
    assert env.observation_space.dtype == np.float32
    assert env.action_space.shape == (29,)
    env.close()


def test_same_seed_gives_identical_rollouts(home):
    actions = np.random.default_rng(3).normal(0, 0.5, (80, 29)).astype(np.float32)
    first = _rollout(G1TrackingEnv(motion=home), actions, seed=11)
    second = _rollout(G1TrackingEnv(motion=home), actions, seed=11)
    other = _rollout(G1TrackingEnv(motion=home), actions, seed=12)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0][0], other[0][0])


def test_motion_library_of_three_clips_samples_all(home, g1):
    crouch = replace(home, joint_pos=home.joint_pos + 0.1 * (np.array(g1.joint_names) == "left_knee_joint"))
    short = home.trim(0, 40)
    env = G1TrackingEnv(motion=[home, crouch, short], reset_noise=None)
    assert env.library.num_clips == 3
    seen = {env.reset(seed=seed)[1]["clip"] for seed in range(40)}
    assert seen == {0, 1, 2}
    only_second = G1TrackingEnv(motion=[home, crouch, short], weights=[0, 1, 0])
    assert {only_second.reset(seed=seed)[1]["clip"] for seed in range(10)} == {1}
    with pytest.raises(FormatError, match="weights"):
        G1TrackingEnv(motion=[home, crouch], weights=[1, 2, 3])


def test_motion_from_file_and_wrong_robot(tmp_path, home):
    from robomotion.formats import save_motion

    path = save_motion(home, tmp_path / "home.csv")
    env = G1TrackingEnv(motion=path)
    assert env.library.clip_names == ("home",)
    assert env.library.fps == 50.0 and env.library.clips[0].num_frames == 149  # 89 / 30 s at 50 fps
    with pytest.raises(FormatError, match="robot"):
        G1TrackingEnv(motion=replace(home, robot="h1"))
    with pytest.raises(FormatError, match="at least 2 frames"):
        G1TrackingEnv(motion=home.trim(0, 1))
    with pytest.raises(ValueError, match="one step must remain"):
        env.reset(options={"frame": 148})


def test_zero_action_on_the_home_reference_falls_after_a_second(home):
    """The G1's PD gains (10 Hz on the armature) cannot hold it up open loop: no spurious
    termination while it is near the reference, then the anchor-height check catches the fall."""
    env = _evaluation_env(home)
    step, terminated, _, info = _zero_action_episode(env, 100)
    assert terminated and info["termination"] == "anchor_height"
    assert 0.9 <= step * env.dt <= 1.6
    short = _evaluation_env(home, episode_seconds=0.6)
    short.reset(seed=0)
    outcomes = [short.step(ZERO)[2:4] for _ in range(30)]
    assert outcomes[-1] == (False, True) and not any(t for t, _ in outcomes)


def test_physically_consistent_reference_survives_its_episode(home, g1):
    """A reference recorded from the zero-action dynamics is tracked by zero actions to its end."""
    free = _evaluation_env(home, termination=TerminationConfig(None, None, None))
    free.reset(seed=0)
    qpos = [free.data.qpos.copy()]
    for _ in range(120):
        free.step(ZERO)
        qpos.append(free.data.qpos.copy())
    passive = RobotMotion.from_qpos("g1", 50.0, np.array(qpos), g1.joint_names)

    env = _evaluation_env(passive)
    env.reset(seed=0)
    tracking = []
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(ZERO)
        tracking.append(sum(list(info["reward_terms"].values())[:6]))
        if terminated or truncated:
            break
    assert truncated and not terminated and info["frame"] == 120
    assert np.mean(tracking) > 0.095  # 0.1 is perfect tracking


@pytest.mark.parametrize(
    ("edit", "expected"),
    [("pelvis_flies_up", "anchor_height"), ("knees_jump", "end_effector_height")],
)
def test_broken_reference_terminates(home, g1, edit, expected):
    root_pos, joint_pos = home.root_pos.copy(), home.joint_pos.copy()
    if edit == "pelvis_flies_up":
        root_pos[15:, 2] += 2.0  # from 0.5 s on, before the robot could fall by itself
    else:
        knees = [g1.joint_names.index(name) for name in ("left_knee_joint", "right_knee_joint")]
        joint_pos[15:, knees] += 2.0
    broken = replace(home, root_pos=root_pos, joint_pos=joint_pos)
    step, terminated, _, info = _zero_action_episode(_evaluation_env(broken), 60)
    assert terminated and info["termination"] == expected
    assert 20 <= step <= 26  # the jump starts between control steps 24 and 25


def _place_robot(env, qpos, frame=20) -> np.ndarray:
    """Start an episode with the robot at ``qpos`` (at rest) against reference frame ``frame``."""
    return env.reset(options={"frame": frame, "qpos": qpos})[0]


def test_reward_terms_equal_hand_computed_values(home, g1):
    env = _evaluation_env(home)
    env.reset(seed=0, options={"frame": 20})
    reference = env.library.clips[0].qpos[20].copy()
    dt = env.dt

    terms = env.reward_terms()
    assert sum(terms.values()) == pytest.approx(0.1)  # the robot sits exactly on the reference

    shifted = reference.copy()
    shifted[:2] += (0.1, -0.05)  # drift in x, y: only the anchor position term sees it
    observation = env.observation_layout.split(_place_robot(env, shifted))
    np.testing.assert_allclose(observation["anchor_pos"], [-0.1, 0.05, 0.0], atol=1e-6)
    terms = env.reward_terms()
    assert terms["anchor_pos"] == pytest.approx(0.5 * dt * math.exp(-0.0125 / 0.09))
    for name in ("anchor_ori", "body_pos", "body_ori", "body_lin_vel", "body_ang_vel"):
        assert terms[name] == pytest.approx(env.config.reward.weights()[list(terms).index(name)] * dt)

    # Turn the whole robot by 0.3 rad about the vertical through its anchor: anchor orientation
    # error 0.3 rad; the re-anchored body terms do not see heading.
    anchor = env.library.clips[0].body_pos[20, env.robot.tracked_bodies.index("torso_link")]
    turn = quat_from_rotvec(np.array([0.0, 0.0, 0.3]))
    turned = reference.copy()
    turned[:3] = anchor + quat_apply(turn, reference[:3] - anchor)
    turned[3:7] = quat_multiply(turn, reference[3:7])
    observation = env.observation_layout.split(_place_robot(env, turned))
    terms = env.reward_terms()
    assert terms["anchor_ori"] == pytest.approx(0.5 * dt * math.exp(-(0.3**2) / 0.4**2))
    # The reference torso, seen from the turned robot torso: turned back by -0.3 rad about z.
    np.testing.assert_allclose(observation["anchor_pos"], 0.0, atol=1e-6)
    c, s = math.cos(0.3), math.sin(0.3)
    np.testing.assert_allclose(observation["anchor_ori"], [c, -s, 0, s, c, 0], atol=1e-6)
    assert terms["anchor_pos"] == pytest.approx(0.5 * dt, rel=1e-9)
    assert terms["body_pos"] == pytest.approx(dt, rel=1e-9)
    assert terms["body_ori"] == pytest.approx(dt, rel=1e-9)

    # A knee 0.1 rad past its soft upper limit.
    knee = g1.joint_names.index("left_knee_joint")
    low, high = g1.joint_limits[knee]
    bent = reference.copy()
    bent[7 + knee] = (low + high) / 2 + 0.45 * (high - low) + 0.1
    _place_robot(env, bent)
    assert env.reward_terms()["joint_limit"] == pytest.approx(-10.0 * dt * 0.1)


def test_action_rate_and_action_targets(home, g1):
    env = _evaluation_env(home)
    env.reset(seed=0)
    action = np.full(29, 0.5, dtype=np.float32)
    _, _, _, _, info = env.step(action)
    assert info["reward_terms"]["action_rate"] == pytest.approx(-0.1 * env.dt * 29 * 0.25)
    scale = 0.25 * g1.effort_limits / g1.kp
    np.testing.assert_allclose(env.data.ctrl, g1.home_joint_pos + 0.5 * scale)
    _, _, _, _, info = env.step(np.full(29, 100.0, dtype=np.float32))  # clipped to +10
    assert info["reward_terms"]["action_rate"] == pytest.approx(-0.1 * env.dt * 29 * 9.5**2)
    observation = env.observation_layout.split(env.step(action)[0])
    np.testing.assert_allclose(observation["last_action"], 0.5)


def test_observation_contents_on_the_reference(home, g1):
    env = _evaluation_env(home, privileged_obs=True)
    observation, info = env.reset(seed=0, options={"frame": 10})
    parts = env.observation_layout.split(observation)
    np.testing.assert_allclose(parts["command"][:29], g1.home_joint_pos, atol=1e-6)
    np.testing.assert_allclose(parts["anchor_pos"], 0.0, atol=1e-6)
    np.testing.assert_allclose(parts["anchor_ori"], [1, 0, 0, 0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(parts["gravity"], [0, 0, -1], atol=1e-6)
    np.testing.assert_allclose(parts["joint_pos"], 0.0, atol=1e-6)
    critic = env.privileged_layout.split(info["privileged_obs"])
    pelvis = critic["body_pos"].reshape(14, 3)[0]
    np.testing.assert_allclose(pelvis, [0.0040, 0.0, -0.044], atol=2e-3)  # the waist joints sit 4.4 cm above it
    qvel = np.random.default_rng(0).normal(size=env.model.nv)
    observation, _ = env.reset(options={"frame": 10, "qpos": env.library.clips[0].qpos[10], "qvel": qvel})
    parts = env.observation_layout.split(observation)
    np.testing.assert_allclose(parts["base_ang_vel"], qvel[3:6], rtol=1e-6)
    np.testing.assert_allclose(parts["joint_vel"], qvel[6:], rtol=1e-6)
    np.testing.assert_allclose(parts["last_action"], 0.0)
    noisy = G1TrackingEnv(motion=home)
    assert not np.allclose(noisy.reset(seed=0)[0], noisy.reset(seed=1)[0])


def test_human_render_is_refused_without_a_display(home, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RobomotionError, match="display"):
        G1TrackingEnv(motion=home, render_mode="human")
    with pytest.raises(ValueError, match="render_mode"):
        G1TrackingEnv(motion=home, render_mode="video")


def test_rgb_array_render(home):
    env = G1TrackingEnv(motion=home, render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert frame.std() > 5  # not a blank image
    env.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(home, mode):
    envs = gymnasium.make_vec(robomotion.envs.ENV_ID, num_envs=2, vectorization_mode=mode, motion=home)
    observations, infos = envs.reset(seed=5)
    assert observations.shape == (2, envs.single_observation_space.shape[0])
    assert not np.array_equal(observations[0], observations[1])
    for _ in range(3):
        observations, rewards, terminated, truncated, infos = envs.step(np.zeros((2, 29), dtype=np.float32))
    assert rewards.shape == (2,) and np.all(np.isfinite(rewards))
    assert set(infos["reward_terms"]) >= {"anchor_pos", "self_collision"}
    envs.close()


def test_library_fps_must_match_control_rate(home, g1):
    library = MotionLibrary.from_source(home, g1, 30.0)
    with pytest.raises(FormatError, match="30"):
        G1TrackingEnv(motion=library)
    with pytest.raises(ValueError, match="integer"):
        TrackingConfig(physics_hz=210.0)


@pytest.mark.shared
def test_real_kimodo_g1_clip_from_file(shared_dir):
    path = shared_dir / "data" / "kimodo_examples" / "kimodo-g1-rp" / "01_single_text_prompt" / "motion.npz"
    env = _evaluation_env(path)
    assert env.library.clips[0].num_frames == 249  # 150 frames at 30 fps -> 50 fps
    for frame in (50, 120, 200):
        env.reset(options={"frame": frame})
        terms = env.reward_terms()
        # On the reference state, MuJoCo's body velocities from the reference qvel agree with the
        # finite-difference body velocities of the clip: every tracking term is at its maximum.
        assert sum(list(terms.values())[:6]) == pytest.approx(0.1, abs=1e-3)
    step, terminated, _, _ = _zero_action_episode(env, 200)
    assert terminated and step < 100  # walking needs a policy; zero actions fall quickly


def test_simulation_views_match_mujoco(home):
    """The sensor views equal MuJoCo's own body velocities and a direct count of robot-robot contacts."""
    import mujoco

    env = G1TrackingEnv(motion=home)
    env.reset(seed=0)
    model, data, sim = env.model, env.data, env.sim
    ids = [model.body(name).id for name in env.robot.tracked_bodies]
    velocity = np.zeros(6)
    rng = np.random.default_rng(0)
    self_contact_steps = 0
    for _ in range(300):
        _, _, terminated, truncated, _ = env.step(rng.normal(0, 2, 29).astype(np.float32))
        robot_geoms = model.geom_bodyid[data.contact.geom] > 0
        expected = int(np.count_nonzero(robot_geoms.all(axis=1)))
        assert sim.self_contacts[0] == expected
        self_contact_steps += expected > 0
        np.testing.assert_allclose(sim.body_pos, data.xpos[ids])
        for row, body in enumerate(ids[:3]):
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, body, velocity, 0)
            np.testing.assert_allclose(sim.body_ang_vel[row], velocity[:3], atol=1e-12)
            np.testing.assert_allclose(sim.body_lin_vel[row], velocity[3:], atol=1e-12)
        if terminated or truncated:
            env.reset()
    assert self_contact_steps > 10  # the comparison saw real self-contacts


def test_numerical_blow_up_terminates_as_unstable(home):
    env = _evaluation_env(home)
    qvel = np.zeros(env.model.nv)
    qvel[6:] = 1e5  # rad/s: MuJoCo flags the accelerations as huge and resets its data
    env.reset(options={"frame": 0, "qpos": env.library.clips[0].qpos[0], "qvel": qvel})
    observation, reward, terminated, _, info = env.step(ZERO)
    assert terminated and info["termination"] == "unstable"
    assert np.all(np.isfinite(observation)) and np.isfinite(reward)
