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
         "--output", str(run), "--no-progress"]
    )
    assert code == 0
    for name in ("policy.zip", "vecnormalize.pkl", "run.json", "episodes.csv", "returns.png"):
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
