"""Smoke test of the RL examples: a few hundred PPO steps, then a replay video."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_ppo_then_play(tmp_path):
    run = tmp_path / "run"
    code = _example("train_ppo").main(
        ["--timesteps", "512", "--n-steps", "256", "--batch-size", "128", "--net", "64", "64",
         "--output", str(run), "--no-progress", "--export"]
    )
    assert code == 0
    for name in ("policy.zip", "vecnormalize.pkl", "run.json", "episodes.csv", "returns.png", "policy.onnx"):
        assert (run / name).stat().st_size > 0, name
    with open(run / "episodes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(int(row["length"]) >= 1 for row in rows)
    assert int(rows[-1]["timesteps"]) <= 512
    assert json.loads((run / "run.json").read_text())["config"]["command_offsets"] == [0, 1, 5, 10]

    video = tmp_path / "play.mp4"
    code = _example("play_policy").main(
        ["--run", str(run), "--max-steps", "20", "--width", "160", "--height", "128", "--output", str(video)]
    )
    assert code == 0
    import imageio.v3 as iio

    frames = iio.imread(video)
    assert frames.shape[1:] == (128, 160, 3) and 2 <= frames.shape[0] <= 21


def test_export_matches_the_trained_policy_and_plays(tmp_path, capsys):
    """The ONNX export of a briefly trained policy: its actions equal SB3's deterministic actions on the
    normalised observation, the embedded reference equals the training clip, the metadata is mjlab's,
    and ``robomotion play`` runs it."""
    import numpy as np
    import onnxruntime
    from robomotion.envs.tracking.config import TrackingConfig
    from robomotion.envs.tracking.env import G1TrackingEnv
    from robomotion.envs.tracking.policy import Policy
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from robomotion.cli.main import main
    from robomotion.robots import get_robot

    run = tmp_path / "run"
    assert _example("train_ppo").main(["--timesteps", "600", "--n-steps", "300", "--batch-size", "100", "--net", "32",
                                       "--output", str(run), "--no-progress", "--export"]) == 0
    env = G1TrackingEnv(motion=get_robot("g1").home_motion(), config=TrackingConfig.evaluation())
    model = PPO.load(run / "policy.zip", device="cpu")
    normalizer = VecNormalize.load(str(run / "vecnormalize.pkl"), DummyVecEnv([lambda: env]))
    assert np.ptp(normalizer.obs_rms.mean) > 0  # statistics were learned, so baking them in matters
    session = onnxruntime.InferenceSession(str(run / "policy.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["obs", "time_step"]
    assert [o.name for o in session.get_outputs()] == ["actions", "joint_pos", "joint_vel", "body_pos_w",
                                                       "body_quat_w", "body_lin_vel_w", "body_ang_vel_w"]
    observation, _ = env.reset(seed=0)
    clip = env.library.clips[0]
    for step in range(5):
        expected, _ = model.predict(normalizer.normalize_obs(observation), deterministic=True)
        outputs = session.run(None, {"obs": observation[None], "time_step": np.array([[step]], np.float32)})
        np.testing.assert_allclose(outputs[0][0], expected, atol=1e-5)
        np.testing.assert_allclose(outputs[1][0], clip.joint_pos[step], atol=1e-6)
        np.testing.assert_allclose(outputs[3][0], clip.body_pos[step], atol=1e-6)
        observation = env.step(expected)[0]
    last = session.run(None, {"obs": observation[None], "time_step": np.array([[10_000]], np.float32)})
    np.testing.assert_allclose(last[4][0], clip.body_quat[-1], atol=1e-6)  # clamped to the last frame
    policy = Policy(run / "policy.onnx")
    assert policy.observation == "mjlab" and policy.embedded_frames() == clip.num_frames
    assert policy.metadata.anchor_body_name == "torso_link" and len(policy.metadata.body_names) == 14
    np.testing.assert_allclose(policy.metadata.default_joint_pos, env.default_joint_pos)
    np.testing.assert_allclose(policy.metadata.action_scale, env.action_scale)
    assert main(["play", str(run / "policy.onnx"), "--seconds", "1", "--no-video"]) == 0
    assert "tracked-body position error" in capsys.readouterr().out
