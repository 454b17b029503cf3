"""Where episodes start: failure-weighted adaptive sampling of (clip, frame) (BeyondMimic / mjlab).

Each clip of ``T`` frames at ``fps`` is split into ``floor(T / fps) + 1`` bins (about one second
each). When an episode *fails* (a termination, not a time-out), the bin of the failure frame is
counted; the per-bin counts are an exponential moving average updated every control step with
weight ``alpha``. A new episode picks a clip by the library's clip weights, then a bin with
probability ``(1 - uniform_ratio) * failure_ema / sum(failure_ema) + uniform_ratio / num_bins``
(uniform before any failure; optionally smoothed by a forward kernel ``lambda**i`` over the next
``kernel_size`` bins, so starts land *before* the hard part), then a uniform frame inside the bin.

The failure EMA is normalised to a distribution before it is mixed with the uniform share. mjlab
adds ``uniform_ratio / num_bins`` to the raw EMA, whose size is the number of failures per step
summed over all its (4096) environments: there the uniform share is negligible, while with one CPU
environment (a failure every ~50 steps, an EMA summing to ~0.02) the uniform floor of 0.1 dominated
and sampling hardly left uniform. Normalised, the sampling depends on *where* episodes fail, not
on how many environments report failures, and ``uniform_ratio`` is the uniform share itself.

Modes: ``"adaptive"`` (the above), ``"uniform"`` (uniform frame) and ``"start"`` (frame 0, for
evaluation and playback).

The EMA is kept lazily: decaying every bin by ``(1 - alpha)`` on each of ``k`` failure-free steps
is one multiplication by ``(1 - alpha) ** k`` when the counts are next read, so a control step
costs one integer increment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["SamplingConfig", "StartSampler"]

SamplingMode = Literal["adaptive", "uniform", "start"]


@dataclass(frozen=True)
class SamplingConfig:
    """Start-sampling settings (BeyondMimic defaults).

    Attributes:
        mode: ``"adaptive"``, ``"uniform"`` or ``"start"``.
        alpha: EMA weight of the current step's failure counts (per control step).
        uniform_ratio: share of the probability spread uniformly over a clip's bins, in (0, 1].
        kernel_size: number of bins (the bin itself and those after it) a failure raises.
        kernel_lambda: decay of the smoothing kernel over those bins.
    """

    mode: SamplingMode = "adaptive"
    alpha: float = 0.001
    uniform_ratio: float = 0.1
    kernel_size: int = 1
    kernel_lambda: float = 0.8

    def __post_init__(self) -> None:
        if self.mode not in ("adaptive", "uniform", "start"):
            raise ValueError(f"SamplingConfig.mode must be 'adaptive', 'uniform' or 'start', got {self.mode!r}")
        if not 0 < self.alpha <= 1:
            raise ValueError(f"SamplingConfig.alpha must be in (0, 1], got {self.alpha}")
        if not 0 < self.uniform_ratio <= 1:
            raise ValueError(f"SamplingConfig.uniform_ratio must be in (0, 1], got {self.uniform_ratio}")
        if self.kernel_size < 1:
            raise ValueError(f"SamplingConfig.kernel_size must be >= 1, got {self.kernel_size}")


def _categorical(probabilities: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with ``probabilities``: the draw of ``rng.choice(len(probabilities), p=probabilities)``
    (same result, one ``rng.random()``) without its argument checks, which cost more than the draw."""
    cdf = np.cumsum(probabilities)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


class StartSampler:
    """Samples episode starts over a motion library and learns where episodes fail.

    Args:
        clip_frames: number of frames of each clip.
        fps: frame rate of the clips (the control rate).
        clip_weights: probability of each clip (sums to 1).
        config: sampling settings.
    """

    def __init__(self, clip_frames: Sequence[int], fps: float, clip_weights: np.ndarray, config: SamplingConfig):
        self.config = config
        self.clip_frames = np.asarray(clip_frames, dtype=np.int64)
        self.clip_weights = np.asarray(clip_weights, dtype=np.float64)
        self.bin_counts = self.clip_frames // int(round(fps)) + 1
        #: Index of each clip's first bin in the flat per-bin arrays.
        self.bin_offsets = np.concatenate([[0], np.cumsum(self.bin_counts)[:-1]])
        self._failures = np.zeros(int(self.bin_counts.sum()))
        self._steps = 0
        self._last_update = 0

    # ------------------------------------------------------------------ learning
    def step(self) -> None:
        """Advance the EMA clock by one control step (call once per environment step)."""
        self._steps += 1

    def bin_of(self, clip: int, frame: int) -> int:
        """Bin (within its clip) of ``frame``: ``frame * num_bins // T`` clamped to the last bin."""
        bins = int(self.bin_counts[clip])
        return min(max(frame * bins // max(int(self.clip_frames[clip]), 1), 0), bins - 1)

    def record_failure(self, clip: int, frame: int) -> None:
        """Count a failed episode at ``frame`` of ``clip`` (in the current step's EMA update)."""
        self._decay()
        self._failures[self.bin_offsets[clip] + self.bin_of(clip, frame)] += self.config.alpha

    def _decay(self) -> None:
        if self._steps != self._last_update:
            self._failures *= (1.0 - self.config.alpha) ** (self._steps - self._last_update)
            self._last_update = self._steps

    def failure_ema(self, clip: int) -> np.ndarray:
        """(num_bins,) current failure EMA of ``clip``'s bins."""
        self._decay()
        start = self.bin_offsets[clip]
        return self._failures[start : start + self.bin_counts[clip]].copy()

    # ------------------------------------------------------------------ sampling
    def bin_probabilities(self, clip: int) -> np.ndarray:
        """(num_bins,) probability of starting in each bin of ``clip`` (mode ``"adaptive"``)."""
        cfg = self.config
        bins = int(self.bin_counts[clip])
        ema = self.failure_ema(clip)
        total = ema.sum()
        weights = np.full(bins, 1.0 / bins)
        if total > 0:
            weights = (1.0 - cfg.uniform_ratio) * ema / total + cfg.uniform_ratio * weights
        if cfg.kernel_size > 1:
            kernel = cfg.kernel_lambda ** np.arange(cfg.kernel_size)
            kernel /= kernel.sum()
            padded = np.concatenate([weights, np.full(cfg.kernel_size - 1, weights[-1])])
            weights = np.convolve(padded, kernel[::-1], mode="valid")
        return weights / weights.sum()

    def sample(self, rng: np.random.Generator) -> tuple[int, int]:
        """A start ``(clip, frame)``: clip by weight, then a frame by the configured mode.

        The frame is never a clip's last, so at least one control step remains.
        """
        clip = _categorical(self.clip_weights, rng) if len(self.clip_frames) > 1 else 0
        frames = int(self.clip_frames[clip])
        mode = self.config.mode
        if mode == "start":
            return clip, 0
        if mode == "uniform":
            return clip, int(rng.integers(0, frames - 1))
        probabilities = self.bin_probabilities(clip)
        bins = len(probabilities)
        chosen = _categorical(probabilities, rng)
        frame = int((chosen + rng.random()) / bins * (frames - 1))
        return clip, min(frame, frames - 2)

    def stats(self, clip: int = 0) -> dict[str, float]:
        """Sampling diagnostics of ``clip`` (as BeyondMimic logs them): normalised entropy, top bin."""
        probabilities = self.bin_probabilities(clip)
        bins = len(probabilities)
        entropy = float(-(probabilities * np.log(probabilities + 1e-12)).sum())
        return {
            "entropy": entropy / np.log(bins) if bins > 1 else 1.0,
            "top1_prob": float(probabilities.max()),
            "top1_bin": float(np.argmax(probabilities)),
        }
