"""Diffusion schedule, training noise and the DDIM sampler with guidance and inpainting.

The network predicts the clean sample ``x_0``. Training uses a cosine noise schedule over
``num_train_steps`` (1000) steps; sampling is DDIM over ``S`` steps spaced evenly from 0 to 999
(``round(i (T-1)/(S-1))``), as Kimodo does, with ``eta`` between 0 (deterministic, Kimodo's
choice) and 1 (fresh noise at every step, DDPM-like); the noise comes from the seeded generator.

Classifier-free guidance (Kimodo's three modes) combines the ``x_0`` predictions:

* ``nocfg``: the conditional prediction (text + constraints);
* ``regular``: ``u + w (c - u)`` with ``u`` = no text, no constraints;
* ``separated``: ``u + w_text (text_only - u) + w_constraint (constraints_only - u)``.

Constraints are met by inpainting: the network sees the observed entries and their mask, and
after every step the observed entries of ``x_0`` are overwritten with their targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["CFG_TYPES", "Guidance", "NoiseSchedule", "ddim_timesteps", "ddim_sample"]

CFG_TYPES = ("nocfg", "regular", "separated")


@dataclass(frozen=True)
class Guidance:
    """Classifier-free guidance: ``kind`` in :data:`CFG_TYPES`, ``text_weight``, ``constraint_weight``."""

    kind: str = "regular"
    text_weight: float = 2.0
    constraint_weight: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in CFG_TYPES:
            raise ValueError(f"cfg_type must be one of {CFG_TYPES}, got {self.kind!r}")


class NoiseSchedule:
    """Cosine schedule: ``alpha_bar(t) = cos^2(((t/T) + s)/(1 + s) * pi/2)``, betas capped at 0.999."""

    def __init__(self, num_train_steps: int = 1000, offset: float = 0.008):
        self.num_train_steps = num_train_steps
        steps = torch.arange(num_train_steps + 1, dtype=torch.float64) / num_train_steps
        f = torch.cos((steps + offset) / (1 + offset) * math.pi / 2) ** 2
        betas = torch.clamp(1 - f[1:] / f[:-1], max=0.999)
        self.alpha_bar = torch.cumprod(1 - betas, dim=0).float()

    def add_noise(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) noise`` for steps ``t`` (B,)."""
        ab = self.alpha_bar[t].view(-1, *([1] * (x0.dim() - 1)))
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def ddim_timesteps(num_steps: int, num_train_steps: int) -> list[int]:
    """The ``num_steps`` timesteps visited (ascending), evenly spaced over ``[0, T-1]``."""
    if num_steps < 1:
        raise ValueError(f"num_denoising_steps must be >= 1, got {num_steps}")
    if num_steps == 1:
        return [num_train_steps - 1]
    return [round(i * (num_train_steps - 1) / (num_steps - 1)) for i in range(num_steps)]


Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _guided_x0(
    model: Denoiser,
    x_t: torch.Tensor,
    t: torch.Tensor,
    text: torch.Tensor,
    observed: torch.Tensor,
    mask: torch.Tensor,
    guidance: Guidance,
    has_constraints: bool,
) -> torch.Tensor:
    """One guided ``x_0`` prediction; branches are batched into one network call."""
    batch = x_t.shape[0]
    yes = torch.ones(batch, dtype=torch.bool)
    no = torch.zeros(batch, dtype=torch.bool)
    empty = torch.zeros_like(mask)
    if guidance.kind == "nocfg":
        branches = [(yes, mask)]
    elif guidance.kind == "regular" or not has_constraints:
        branches = [(yes, mask), (no, empty)]
    else:
        branches = [(yes, empty), (no, mask), (no, empty)]
    n = len(branches)
    out = model(
        x_t.repeat(n, 1, 1),
        t.repeat(n),
        text.repeat(n, 1),
        torch.cat([keep for keep, _ in branches]),
        observed.repeat(n, 1, 1),
        torch.cat([m for _, m in branches]),
    ).chunk(n)
    if n == 1:
        return out[0]
    if n == 2:  # regular, or separated without constraints (its constraint branch would equal u)
        return out[1] + guidance.text_weight * (out[0] - out[1])
    text_only, cons_only, uncond = out
    return uncond + guidance.text_weight * (text_only - uncond) + guidance.constraint_weight * (cons_only - uncond)


def _noise(shape: torch.Size, generator, dtype: torch.dtype) -> torch.Tensor:
    """Standard normal noise of ``shape``; with a list of generators, row ``b`` from ``generator[b]``."""
    if isinstance(generator, torch.Generator):
        return torch.randn(shape, generator=generator, dtype=dtype)
    return torch.cat([torch.randn((1, *shape[1:]), generator=g, dtype=dtype) for g in generator])


@torch.inference_mode()
def ddim_sample(
    model: Denoiser,
    schedule: NoiseSchedule,
    text: torch.Tensor,
    observed: torch.Tensor,
    mask: torch.Tensor,
    num_steps: int,
    guidance: Guidance,
    generator: torch.Generator | Sequence[torch.Generator],
    progress: Callable[[int], None] | None = None,
    clip: float = 6.0,
    eta: float = 0.0,
) -> torch.Tensor:
    """DDIM (``eta`` = 0) or ancestral (``eta`` = 1) sampling from noise to clean normalised features (B, T, D).

    Args:
        model: ``model(x_t, t, text, text_keep, observed, mask) -> x_0``.
        text: (B, E) sentence embeddings.
        observed, mask: (B, T, D) normalised targets and their 0/1 mask (inpainting).
        num_steps: number of denoising steps.
        generator: seeded torch generator for all noise, or one per batch row (then a row's
            noise does not depend on the batch size).
        progress: called with 1 after every step (e.g. ``tqdm.update``).
        clip: ``x_0`` is clamped to ``[-clip, clip]`` (normalised units) for stability.
        eta: 0 = deterministic DDIM, 1 = ancestral sampling (fresh noise each step).
    """
    has_constraints = bool(mask.any())
    x = _noise(observed.shape, generator, observed.dtype)
    steps = ddim_timesteps(num_steps, schedule.num_train_steps)
    ab = schedule.alpha_bar
    x0 = x
    for i in range(len(steps) - 1, -1, -1):
        t = torch.full((x.shape[0],), steps[i], dtype=torch.long)
        x0 = _guided_x0(model, x, t, text, observed, mask, guidance, has_constraints).clamp(-clip, clip)
        x0 = torch.where(mask > 0, observed, x0)
        if i > 0:
            a_t, a_prev = ab[steps[i]], ab[steps[i - 1]]
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
            sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
            if eta > 0:
                x = x + sigma * _noise(x.shape, generator, x.dtype)
        if progress is not None:
            progress(1)
    return x0
