"""Train ``robomotion-small`` on a folder of mocap clips (CPU is enough).

Usage::

    python -m robomotion.generators.train --data ../shared/data/mocap --out runs/small --steps 5000 --seed 0

Data: every ``*.npz`` clip in ``--data`` that :func:`robomotion.formats.load_motion` reads,
put on the canonical SMPL-X 22 skeleton with :func:`robomotion.pose_fit.retarget_to_skeleton`,
re-floored (lowest foot joint at z = 0) and labelled with the clip's texts
(``motion.metadata["texts"]``). See
:mod:`robomotion.generators.dataset` for the augmentation and constraint masks.

Objective (the network predicts clean features ``x_0``): masked MSE on normalised features,
plus 0.25 x the forward-kinematics error of the decoded root-relative joint positions (in
units of 10 cm), weighted by the squared signal level ``alpha_bar(t)^2`` (at high noise
``x_0`` is a blur) and ramped in over the first 1000 steps. The saved weights are an
exponential moving average (0.999) of the parameters. Outputs in ``--out`` (written atomically, refreshed at every
checkpoint): ``model.safetensors``, ``config.json``, ``normalization.npz``, ``train_log.jsonl``, and
``vocabulary.npz`` (the training captions, :mod:`robomotion.generators.vocabulary`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robomotion.atomic import atomic_path, save_npz, write_text
from robomotion.generators.dataset import MotionDataset, TrainingClip, floor_motion

__all__ = ["TrainConfig", "train", "load_training_clips", "split_clips", "main"]


@dataclass
class TrainConfig:
    """Optimisation settings (architecture: :class:`~robomotion.generators.small_model.DenoiserConfig`)."""

    steps: int = 5000
    batch_size: int = 24
    lengths: tuple[int, ...] = (64, 96, 128, 160, 192)
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup: int = 300
    ema: float = 0.999
    text_dropout: float = 0.1
    position_weight: float = 0.25
    geometry_warmup: int = 1000
    seed: int = 0
    threads: int = 1
    checkpoint_every: int = 250
    log_every: int = 50
    width: int = 256
    depth: int = 4
    heads: int = 4
    patch_frames: int = 4
    dropout: float = 0.1
    speeds: tuple[float, ...] = (0.8, 0.9, 1.0, 1.1, 1.25)
    #: share of windows that are motion-captioned segments (:mod:`robomotion.generators.captions`).
    segment_share: float = 0.0
    #: model folder to start from (fine-tuning: its weights and normalisation); None = from scratch.
    init: str | None = None
    #: hold out every N-th clip (sorted by name) from training; 0 = train on all.
    holdout_every: int = 0


def load_training_clips(data_dir: str | Path, skeleton_name: str = "smplx22", progress: bool = True) -> list[TrainingClip]:
    """Every clip of a mocap-pack folder on the named skeleton, floor at z = 0, with its texts.

    Clips are read with :func:`robomotion.formats.load_motion` (local rotations fitted to the
    positions on the clip's own bone lengths) and copied to the target skeleton with
    :func:`robomotion.pose_fit.retarget_to_skeleton` (root scaled by the leg-length ratio).
    Clips without texts are skipped.
    """
    from robomotion.errors import FormatError
    from robomotion.formats import load_motion
    from robomotion.pose_fit import retarget_to_skeleton
    from robomotion.skeletons import get_skeleton

    target = get_skeleton(skeleton_name)
    files = sorted(Path(data_dir).glob("*.npz"))
    if not files:
        raise FormatError("no .npz clips found", path=data_dir)
    if progress:
        from tqdm import tqdm

        files = tqdm(files, desc="clips", unit="clip")
    clips = []
    for path in files:
        motion = load_motion(path)
        texts = [str(t) for t in motion.metadata.get("texts", [])]
        if texts:
            motion = floor_motion(retarget_to_skeleton(motion, target))
            clips.append(TrainingClip(name=path.stem, motion=motion, texts=texts))
    return clips


def split_clips(clips: Sequence[TrainingClip], every: int) -> tuple[list[TrainingClip], list[TrainingClip]]:
    """(training, held-out) clips: every ``every``-th clip by name is held out (none for ``every`` <= 0)."""
    ordered = sorted(clips, key=lambda c: c.name)
    if every <= 0:
        return ordered, []
    return [c for i, c in enumerate(ordered) if i % every != every - 1], [c for i, c in enumerate(ordered) if i % every == every - 1]


class _Kinematics:
    """Torch decoding of (unnormalised) features to joint positions, for the training losses."""

    def __init__(self, dataset: MotionDataset):
        import torch

        self.layout = dataset.layout
        self.parents = dataset.skeleton.parents.tolist()
        self.offsets = torch.tensor(dataset.skeleton.offsets, dtype=torch.float32)

    def positions(self, features):
        import torch
        import torch.nn.functional as F

        lay = self.layout
        shape = features.shape[:-1]
        num = len(self.parents)
        d6 = features[..., lay["rot6d"]].reshape(*shape, num, 6)
        x = F.normalize(d6[..., :3], dim=-1)
        z = F.normalize(torch.cross(x, d6[..., 3:], dim=-1), dim=-1)
        y = torch.cross(z, x, dim=-1)
        mats = torch.stack([x, y, z], dim=-1)
        heading = F.normalize(features[..., lay["heading"]], dim=-1)
        c, s = heading[..., 0], heading[..., 1]
        zero, one = torch.zeros_like(c), torch.ones_like(c)
        yaw = torch.stack([c, -s, zero, s, c, zero, zero, zero, one], -1).reshape(*shape, 3, 3)
        root = torch.cat([features[..., lay["root_xy"]], features[..., lay["root_z"]]], -1)
        rots = [yaw @ mats[..., 0, :, :]]
        pos = [root]
        for j in range(1, num):
            p = self.parents[j]
            rots.append(rots[p] @ mats[..., j, :, :])
            pos.append(pos[p] + (rots[p] @ self.offsets[j]))
        return torch.stack(pos, dim=-2)


def _save(out: Path, model, config, mean: np.ndarray, std: np.ndarray, meta: dict) -> None:
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    with atomic_path(out / "model.safetensors") as tmp:
        save_file(tensors, str(tmp))
    save_npz(out / "normalization.npz", mean=mean, std=std)
    write_text(out / "config.json", json.dumps({**meta, "network": config.to_dict()}, indent=2) + "\n")


def train(
    clips: Sequence[TrainingClip],
    out_dir: str | Path,
    config: TrainConfig = TrainConfig(),
    progress: bool = True,
    max_minutes: float | None = None,
) -> dict:
    """Train on ``clips`` and write the model files to ``out_dir``; returns a summary dict."""
    import torch

    from robomotion.generators.sampling import NoiseSchedule
    from robomotion.generators.small_model import DenoiserConfig, MotionDenoiser
    from robomotion.generators.text_encoder import TextEncoder
    from robomotion.generators.vocabulary import VOCABULARY_FILE, build_vocabulary

    start_time = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    clips, heldout = split_clips(clips, config.holdout_every)
    segment_lengths = [n - n % config.patch_frames for n in config.lengths] if config.segment_share > 0 else []
    dataset = MotionDataset(clips, speeds=config.speeds, progress=progress, segment_lengths=segment_lengths, seed=config.seed)
    if config.init:
        stats = np.load(Path(config.init) / "normalization.npz")
        mean, std = stats["mean"], stats["std"]
    else:
        mean, std = dataset.statistics()
    encoder = TextEncoder()
    texts = encoder.encode(dataset.texts)
    build_vocabulary(clips, encoder, segment_actions=dataset.segment_actions).save(out / VOCABULARY_FILE)
    text_table = torch.from_numpy(texts)
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)

    net_config = DenoiserConfig(
        feature_dim=dataset.layout.dim,
        text_dim=texts.shape[1],
        width=config.width,
        depth=config.depth,
        heads=config.heads,
        patch_frames=config.patch_frames,
        dropout=config.dropout,
    )
    model = MotionDenoiser(net_config)
    if config.init:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(Path(config.init) / "model.safetensors")))
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.99))
    schedule = NoiseSchedule()
    kinematics = _Kinematics(dataset)
    lengths = [n - n % config.patch_frames for n in config.lengths]
    meta = {
        "name": "robomotion-small",
        "skeleton": dataset.skeleton.name,
        "fps": dataset.fps,
        "feature_layout": {k: [v.start, v.stop] for k, v in dataset.layout.slices.items()},
        "num_train_steps": schedule.num_train_steps,
        # Sampling defaults as tuned for the shipped weights (see the model card); edit per run.
        "defaults": {"num_denoising_steps": 12, "cfg_type": "separated", "cfg_weight": [3.0, 2.0], "eta": 1.0},
        "smoothing": {"root_frames": 2.0, "body_frames": 1.0},
        "training": {
            "steps": config.steps,
            "seed": config.seed,
            "batch_size": config.batch_size,
            "clips": len(clips),
            "frames": int(sum(c.motion.num_frames for c in clips)),
            "texts": len(dataset.texts),
            "variants": len(dataset.features),
            "segment_share": config.segment_share,
            "segments": sum(len(v) for v in dataset.segments.values()),
            "init": config.init,
            "heldout_clips": [c.name for c in heldout],
        },
    }
    log_path = out / "train_log.jsonl"
    log_lines: list[str] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, desc="train", unit="step")
    step = 0
    running: dict[str, float] = {}
    for step in range(1, config.steps + 1):
        lr = config.lr * min(1.0, step / config.warmup) * (0.55 + 0.45 * math.cos(math.pi * step / config.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        length = int(rng.choice(lengths))
        batch = dataset.sample_batch(rng, config.batch_size, length, mean, std, config.segment_share)
        x0 = torch.from_numpy(batch.features)
        valid = torch.from_numpy(batch.valid)
        mask = torch.from_numpy(batch.observed_mask)
        t = torch.randint(0, schedule.num_train_steps, (config.batch_size,))
        x_t = schedule.add_noise(x0, t, torch.randn_like(x0))
        keep = torch.rand(config.batch_size) > config.text_dropout
        text = text_table[torch.from_numpy(batch.text_index)]
        pred = model(x_t, t, text, keep, x0, mask, valid)

        weight = valid.float()
        frames = weight.sum()
        feature_loss = (((pred - x0) ** 2).mean(-1) * weight).sum() / frames
        # The pose term counts with the squared signal level: at high noise x_0 is a blur.
        signal = schedule.alpha_bar[t][:, None] ** 2
        pred_pos = kinematics.positions(pred * std_t + mean_t)
        with torch.no_grad():
            true_features = x0 * std_t + mean_t
            true_pos = kinematics.positions(true_features)
        pose_error = (pred_pos - pred_pos[..., :1, :]) - (true_pos - true_pos[..., :1, :])
        pose_weight = weight * signal
        position_loss = (((pose_error / 0.1) ** 2).sum(-1).mean(-1) * pose_weight).sum() / frames
        ramp = min(1.0, step / config.geometry_warmup)
        loss = feature_loss + ramp * config.position_weight * position_loss

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            decay = min(config.ema, (1 + step) / (10 + step))
            for e, p in zip(ema.parameters(), model.parameters()):
                e.lerp_(p, 1 - decay)

        for key, value in (("loss", loss), ("feature", feature_loss), ("position", position_loss)):
            running[key] = running.get(key, 0.0) + float(value.detach())
        running["grad_norm"] = running.get("grad_norm", 0.0) + float(grad_norm)
        if bar is not None:
            bar.update(1)
        if step % config.log_every == 0:
            entry = {k: round(v / config.log_every, 5) for k, v in running.items()}
            entry.update(step=step, lr=lr, minutes=round((time.perf_counter() - start_time) / 60, 2))
            log_lines.append(json.dumps(entry))
            write_text(log_path, "\n".join(log_lines) + "\n")
            if bar is not None:
                bar.set_postfix(loss=entry["loss"], pos=entry["position"])
            running = {}
        out_of_time = max_minutes is not None and (time.perf_counter() - start_time) / 60 > max_minutes
        if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
            meta["training"]["steps_done"] = step
            meta["training"]["wall_minutes"] = round((time.perf_counter() - start_time) / 60, 1)
            _save(out, ema, net_config, mean, std, meta)
        if out_of_time:
            break
    if bar is not None:
        bar.close()
    return {"steps": step, "wall_minutes": (time.perf_counter() - start_time) / 60, "out": str(out)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m robomotion.generators.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder of mocap .npz clips with text labels")
    parser.add_argument("--out", required=True, help="output folder for the model files")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--threads", type=int, default=TrainConfig.threads, help="torch CPU threads")
    parser.add_argument("--width", type=int, default=TrainConfig.width)
    parser.add_argument("--depth", type=int, default=TrainConfig.depth)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop early after this wall time")
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--warmup", type=int, default=TrainConfig.warmup)
    parser.add_argument("--segment-share", type=float, default=TrainConfig.segment_share,
                        help="share of windows with captions derived from their motion (0-1)")
    parser.add_argument("--init", default=None, help="model folder to fine-tune from (weights and normalisation)")
    parser.add_argument("--holdout-every", type=int, default=0, help="hold out every N-th clip by name")
    parser.add_argument("--limit-clips", type=int, default=None, help="use only the first N clips (smoke tests)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = TrainConfig(
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch_size,
        threads=args.threads,
        width=args.width,
        depth=args.depth,
        lr=args.lr,
        warmup=args.warmup,
        segment_share=args.segment_share,
        init=args.init,
        holdout_every=args.holdout_every,
    )
    clips = load_training_clips(args.data, progress=not args.no_progress)
    if args.limit_clips:
        clips = clips[: args.limit_clips]
    summary = train(clips, args.out, config, progress=not args.no_progress, max_minutes=args.max_minutes)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
