"""A small TMR-style text-motion retrieval model, and the retrieval metrics of text-to-motion papers.

TMR (Petrovich et al., 2023) embeds texts and motions in one space with a contrastive
(InfoNCE) loss; text-to-motion papers then report, on held-out data:

* **R-precision** (top-1/2/3): for each motion, is its own text among the k most similar of a
  pool of 32 texts (itself + 31 others)?
* **FID**: the Fréchet distance between the embeddings of real and generated motions.
* **matching score**: mean cosine similarity of a motion with its text.

Here the text side is the generator's own sentence encoder (MiniLM, 384-d) followed by a small
MLP, the motion side a 2-layer transformer over the generator's feature representation
(:mod:`robomotion.generators.features`, canonicalised windows, normalised by the training
statistics) with mean pooling; both end in unit vectors of ``latent`` dimensions. Trained on
the *training* clips' windows with their labels and motion-derived segment captions; measured on
the held-out clips (:func:`robomotion.generators.train.split_clips`).

Train and save (``models/tmr_small`` is the shipped one)::

    python -m robomotion.generators.evaluation.retrieval --data ../shared/data/mocap --out models/tmr_small
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from robomotion.atomic import atomic_path, save_npz, write_text
from robomotion.errors import FormatError
from robomotion.generators.vocabulary import UnfamiliarPromptWarning

__all__ = [
    "RetrievalConfig",
    "RetrievalModel",
    "evaluate_retrieval",
    "fid",
    "generated_scores",
    "load_retrieval",
    "r_precision",
    "split_datasets",
    "train_retrieval",
    "window_pairs",
]


@dataclass
class RetrievalConfig:
    """Sizes and optimisation of the retrieval model (windows of ``length`` frames at 30 fps)."""

    latent: int = 64
    width: int = 128
    layers: int = 2
    heads: int = 4
    length: int = 96
    patch: int = 4
    temperature: float = 0.07
    steps: int = 600
    batch_size: int = 64
    lr: float = 5e-4
    seed: int = 0
    holdout_every: int = 10


def _modules(config: RetrievalConfig, feature_dim: int, text_dim: int):
    import torch
    from torch import nn

    class MotionEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(feature_dim * config.patch, config.width)
            self.pos = nn.Parameter(torch.zeros(1, config.length // config.patch, config.width))
            layer = nn.TransformerEncoderLayer(config.width, config.heads, 2 * config.width, dropout=0.1, batch_first=True)
            self.body = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
            self.out = nn.Linear(config.width, config.latent)

        def forward(self, x, valid):
            # Tokens of ``patch`` frames; a token is valid when its first frame is.
            batch, frames, dim = x.shape
            tokens = x.reshape(batch, frames // config.patch, config.patch * dim)
            valid = valid[:, :: config.patch]
            h = self.body(self.inp(tokens) + self.pos[:, : tokens.shape[1]], src_key_padding_mask=~valid)
            w = valid.unsqueeze(-1).float()
            pooled = (h * w).sum(1) / w.sum(1).clamp(min=1.0)
            return nn.functional.normalize(self.out(pooled), dim=-1)

    class TextHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(text_dim, config.width), nn.GELU(), nn.Linear(config.width, config.latent))

        def forward(self, t):
            return nn.functional.normalize(self.net(t), dim=-1)

    return MotionEncoder(), TextHead()


class RetrievalModel:
    """Trained text and motion encoders with their feature normalisation."""

    def __init__(self, config: RetrievalConfig, motion_encoder, text_head, mean: np.ndarray, std: np.ndarray):
        self.config, self.motion_encoder, self.text_head = config, motion_encoder.eval(), text_head.eval()
        self.mean, self.std = mean.astype(np.float32), std.astype(np.float32)

    def embed_motions(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """(N, latent) unit embeddings of canonical feature windows (each (T, D), T <= length)."""
        import torch

        x, valid = _pad(windows, self.config.length, self.mean, self.std)
        with torch.inference_mode():
            return self.motion_encoder(torch.from_numpy(x), torch.from_numpy(valid)).numpy()

    def embed_texts(self, text_embeddings: np.ndarray) -> np.ndarray:
        """(N, latent) unit embeddings of sentence-encoder vectors (N, 384)."""
        import torch

        with torch.inference_mode():
            return self.text_head(torch.from_numpy(np.asarray(text_embeddings, dtype=np.float32))).numpy()

    def save(self, folder: str | Path) -> Path:
        import torch
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"motion.{k}": v.contiguous() for k, v in self.motion_encoder.state_dict().items()}
        tensors.update({f"text.{k}": v.contiguous() for k, v in self.text_head.state_dict().items()})
        with atomic_path(folder / "model.safetensors") as tmp:
            save_file({k: v.detach().to(torch.float32) for k, v in tensors.items()}, str(tmp))
        save_npz(folder / "normalization.npz", mean=self.mean, std=self.std)
        write_text(folder / "config.json", json.dumps(asdict(self.config), indent=2) + "\n")
        return folder


def load_retrieval(folder: str | Path) -> RetrievalModel:
    """Load a model written by :meth:`RetrievalModel.save`."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        config = RetrievalConfig(**json.loads((folder / "config.json").read_text()))
        stats = np.load(folder / "normalization.npz")
        tensors = load_file(str(folder / "model.safetensors"))
    except (OSError, TypeError, ValueError, KeyError) as exc:
        raise FormatError(f"not a retrieval model folder ({exc})", folder) from None
    motion, text = _modules(config, stats["mean"].shape[0], tensors["text.net.0.weight"].shape[1])
    motion.load_state_dict({k[7:]: v for k, v in tensors.items() if k.startswith("motion.")})
    text.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("text.")})
    return RetrievalModel(config, motion, text, stats["mean"], stats["std"])


def _pad(windows: Sequence[np.ndarray], length: int, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dim = mean.shape[0]
    x = np.zeros((len(windows), length, dim), dtype=np.float32)
    valid = np.zeros((len(windows), length), dtype=bool)
    for i, w in enumerate(windows):
        n = min(len(w), length)
        x[i, :n] = (w[:n] - mean) / std
        valid[i, :n] = True
    return x, valid


def window_pairs(dataset, length: int, rng: np.random.Generator, per_variant: int = 2) -> tuple[list[np.ndarray], list[int]]:
    """Canonical feature windows of ``length`` frames and a text row (of ``dataset.texts``) for each.

    Motion-captioned segments of that length with one of their captions, plus ``per_variant``
    random windows of every variant with one of its clip's labels.
    """
    from robomotion.generators.features import canonicalize

    windows, texts = [], []
    for variant, start, rows in dataset.segments.get(length, []):
        windows.append(canonicalize(dataset.features[variant][start : start + length], dataset.layout)[0])
        texts.append(int(rng.choice(rows)))
    for variant, features in enumerate(dataset.features):
        for _ in range(per_variant):
            n = min(length, len(features))
            start = int(rng.integers(0, len(features) - n + 1))
            windows.append(canonicalize(features[start : start + n], dataset.layout)[0])
            texts.append(int(rng.choice(dataset.variant_texts[variant])))
    return windows, texts


def r_precision(motion_emb: np.ndarray, text_emb: np.ndarray, rng: np.random.Generator, pool: int = 32, top: int = 3) -> list[float]:
    """Top-1..``top`` R-precision: motion ``i``'s text among the ``k`` nearest of itself + ``pool - 1`` random others.

    Pairs whose distractor texts are identical to the true text are counted as retrieved by
    neither (a distractor with the same embedding ties; ties go against the true text).
    """
    n = len(motion_emb)
    hits = np.zeros(top)
    for i in range(n):
        others = rng.choice(np.delete(np.arange(n), i), size=min(pool - 1, n - 1), replace=False)
        candidates = np.concatenate([[i], others])
        scores = text_emb[candidates] @ motion_emb[i]
        rank = int(np.sum(scores[1:] >= scores[0]))
        hits += rank < np.arange(1, top + 1)
    return (hits / max(n, 1)).tolist()


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to embeddings ``a`` (N, d) and ``b`` (M, d)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * np.real(root)))


def train_retrieval(train_set, config: RetrievalConfig = RetrievalConfig(), progress: bool = True) -> RetrievalModel:
    """Contrastive training on a :class:`~robomotion.generators.dataset.MotionDataset` (with segments)."""
    import torch

    from robomotion.generators.text_encoder import TextEncoder

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    windows, rows = window_pairs(train_set, config.length, rng)
    text_table = TextEncoder().encode(train_set.texts)
    stacked = np.concatenate(windows)
    mean, std = stacked.mean(0), np.maximum(stacked.std(0), 1e-3)
    x_all, valid_all = _pad(windows, config.length, mean, std)
    t_all = text_table[np.asarray(rows)]
    motion, text = _modules(config, x_all.shape[-1], t_all.shape[-1])
    params = list(motion.parameters()) + list(text.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, desc="retrieval model", unit="step")
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = config.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + np.cos(np.pi * step / config.steps))
        index = rng.choice(len(x_all), size=config.batch_size, replace=False)
        m = motion(torch.from_numpy(x_all[index]), torch.from_numpy(valid_all[index]))
        t = text(torch.from_numpy(t_all[index]))
        logits = m @ t.T / config.temperature
        # Pairs sharing the same text are not negatives of each other.
        same = torch.from_numpy(np.asarray(rows)[index][:, None] == np.asarray(rows)[index][None, :])
        logits = logits.masked_fill(same & ~torch.eye(len(index), dtype=torch.bool), -1e4)
        target = torch.arange(len(index))
        loss = 0.5 * (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if bar is not None:
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=float(loss))
    if bar is not None:
        bar.close()
    return RetrievalModel(config, motion, text, mean, std)


def split_datasets(data_dir: str | Path, config: RetrievalConfig, train: bool = True, progress: bool = False):
    """(training dataset or None, held-out dataset) of the mocap pack, split like :func:`split_clips`.

    Training: mirrored, at 0.8/1.0/1.25x speed; held-out: as recorded. Both with motion-captioned
    segments of ``config.length`` frames.
    """
    from robomotion.generators.dataset import MotionDataset
    from robomotion.generators.train import load_training_clips, split_clips

    train_clips, held_clips = split_clips(load_training_clips(data_dir, progress=progress), config.holdout_every)
    held = MotionDataset(held_clips, speeds=(1.0,), mirror=False, segment_lengths=[config.length], seed=config.seed)
    if not train:
        return None, held
    return MotionDataset(train_clips, speeds=(0.8, 1.0, 1.25), segment_lengths=[config.length], seed=config.seed), held


def generated_scores(model: RetrievalModel, generator, held, count: int = 64, seed: int = 0) -> dict:
    """Generate one clip per held-out (window, text) pair (the first ``count``) and score them.

    Returns R-precision and matching score of the generated clips with their texts, FID of the
    generated against the real held-out windows, and FID between two halves of the real
    held-out windows (the noise floor of FID at this sample size).
    """
    from robomotion.generators.features import canonicalize, encode_motion
    from robomotion.generators.text_encoder import TextEncoder

    rng = np.random.default_rng(seed)
    windows, rows = window_pairs(held, model.config.length, rng, per_variant=1)
    order = rng.permutation(len(windows))[:count]
    windows, texts = [windows[i] for i in order], [held.texts[rows[i]] for i in order]
    generated = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnfamiliarPromptWarning)
        for i, text in enumerate(texts):
            (motion,) = generator(text, num_frames=len(windows[i]), seed=seed + i, progress=False)
            generated.append(canonicalize(encode_motion(motion), held.layout)[0])
    real, fake = model.embed_motions(windows), model.embed_motions(generated)
    text_emb = model.embed_texts(TextEncoder().encode(texts))
    half = len(real) // 2
    return {
        "clips": len(texts),
        "r_precision": [round(v, 3) for v in r_precision(fake, text_emb, rng)],
        "matching": round(float(np.mean(np.sum(fake * text_emb, axis=1))), 3),
        "fid": round(fid(real, fake), 3),
        "fid_real_halves": round(fid(real[:half], real[half:]), 3),
    }


def evaluate_retrieval(model: RetrievalModel, held, seed: int = 0) -> dict:
    """R-precision and matching score of the held-out real windows with their texts."""
    from robomotion.generators.text_encoder import TextEncoder

    rng = np.random.default_rng(seed)
    windows, rows = window_pairs(held, model.config.length, rng, per_variant=1)
    motion_emb = model.embed_motions(windows)
    text_emb = model.embed_texts(TextEncoder().encode([held.texts[r] for r in rows]))
    return {
        "pairs": len(windows),
        "r_precision": [round(v, 3) for v in r_precision(motion_emb, text_emb, rng)],
        "matching": round(float(np.mean(np.sum(motion_emb * text_emb, axis=1))), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robomotion.generators.evaluation.retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="mocap pack folder")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--steps", type=int, default=RetrievalConfig.steps)
    args = parser.parse_args(argv)
    config = RetrievalConfig(steps=args.steps)
    start = time.perf_counter()
    train_set, held = split_datasets(args.data, config, progress=True)
    model = train_retrieval(train_set, config)
    model.save(args.out)
    print(json.dumps({"minutes": round((time.perf_counter() - start) / 60, 1), **evaluate_retrieval(model, held)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
