"""Training smoke test: a tiny model on two real clips trains, saves and generates (< 30 s)."""

from __future__ import annotations

import json

import numpy as np

from robomotion.generators.robomotion_small import RobomotionSmall
from robomotion.generators.train import TrainConfig, build_parser, load_training_clips, train

TINY = dict(steps=4, batch_size=4, lengths=(32,), width=32, depth=1, heads=2, speeds=(1.0,), threads=1,
            checkpoint_every=2, log_every=2)


def test_tiny_training_run_writes_a_loadable_model(shared_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("deepmimic_walk.npz", "deepmimic_jump.npz"):
        (data / name).symlink_to(shared_dir / "data" / "mocap" / name)
    clips = load_training_clips(data, progress=False)
    assert [c.name for c in clips] == ["deepmimic_jump", "deepmimic_walk"]
    assert all(c.motion.skeleton.name == "smplx22" for c in clips)
    feet = clips[0].motion.joint_positions(["left_ankle", "left_toe", "right_ankle", "right_toe"])
    assert abs(feet[..., 2].min()) < 1e-9  # re-floored on the canonical skeleton

    out = tmp_path / "model"
    summary = train(clips, out, TrainConfig(**TINY), progress=False)
    assert summary["steps"] == 4
    from robomotion.generators.vocabulary import Vocabulary

    vocabulary = Vocabulary.load(out / "vocabulary.npz")
    assert len(vocabulary.seconds) == 2 and vocabulary.embeddings.shape[1] == 384
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [2, 4] and all(np.isfinite(entry["loss"]) for entry in log)
    config = json.loads((out / "config.json").read_text())
    assert config["skeleton"] == "smplx22" and config["training"]["steps_done"] == 4
    assert config["network"]["width"] == 32

    model = RobomotionSmall(out)
    (motion,) = model("a person walks forward", num_frames=17, seed=0, num_denoising_steps=2, progress=False)
    assert motion.num_frames == 17 and motion.skeleton.name == "smplx22"
    assert np.all(np.isfinite(motion.global_positions))


def test_command_line_defaults():
    args = build_parser().parse_args(["--data", "d", "--out", "o"])
    assert args.steps == TrainConfig.steps and args.seed == 0 and args.threads == 1
