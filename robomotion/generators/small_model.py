"""The denoising network of ``robomotion-small``: a small text-conditioned motion transformer.

Input per frame: the noisy normalised features ``x_t`` (D) with observed (constrained) entries
written over them, concatenated with the 0/1 observation mask (D), as in Kimodo's ``concat``
mode. ``patch_frames`` consecutive frames form one token (fewer tokens = faster on a CPU).
Conditioning: a sinusoidal diffusion-step embedding plus the projected sentence embedding
(or a learned "no text" vector), injected into every block by adaptive layer norm with zero-
initialised gates (DiT's adaLN-Zero). Self-attention uses rotary position embeddings over
token index, so it extrapolates to lengths not seen in training. The output is the clean
sample ``x_0`` (normalised features), refined by a depthwise temporal convolution that lets
neighbouring tokens agree at patch borders.

Parameterisation: with ``a = alpha_bar(t)`` the prediction is
``x_0 = sqrt(a) x_t + sqrt(1 - a) F(x_t, ...)`` (v-prediction, EDM's skip connection for a
variance-preserving schedule): at low noise the noisy input passes straight through and the
network only adds a correction, at high noise it predicts ``x_0`` on its own. ``F`` is the
transformer's output plus a per-channel *filter path*: ``filters`` depthwise temporal filters
applied to the input frames, mixed with weights that depend on the diffusion step and text.
Tokens of several frames compress the input, so the transformer alone cannot see (and cancel)
per-frame noise; the full-rank filter path can (a learned, noise-level dependent Wiener filter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from robomotion.config import Config

__all__ = ["DenoiserConfig", "MotionDenoiser"]


@dataclass(frozen=True)
class DenoiserConfig(Config):
    """Architecture hyper-parameters (the model's ``config.json``, "network"; a :class:`~robomotion.config.Config`)."""

    feature_dim: int
    text_dim: int = 384
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    patch_frames: int = 4
    dropout: float = 0.1
    num_train_steps: int = 1000
    filters: int = 4
    filter_width: int = 9


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of (possibly fractional) diffusion steps ``t`` (B,)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding on the last dim of (B, H, N, Dh) with cos/sin (N, Dh/2)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return out.flatten(-2)


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class Block(nn.Module):
    """Pre-norm transformer block with adaLN-Zero conditioning and rotary self-attention."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width))
        self.ada = nn.Linear(width, 6 * width)
        self.dropout = nn.Dropout(dropout)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(
        self, x: torch.Tensor, cond: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], attn_mask: torch.Tensor | None
    ) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(F.silu(cond)).chunk(6, dim=-1)
        batch, tokens, width = x.shape
        h = _modulate(self.norm1(x), shift1, scale1)
        q, k, v = self.qkv(h).view(batch, tokens, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        q, k = _rope(q, *rope), _rope(k, *rope)
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        h = self.proj(h.transpose(1, 2).reshape(batch, tokens, width))
        x = x + gate1[:, None] * self.dropout(h)
        h = self.mlp(_modulate(self.norm2(x), shift2, scale2))
        return x + gate2[:, None] * self.dropout(h)


class MotionDenoiser(nn.Module):
    """Predicts clean normalised features ``x_0`` (B, T, D) from noisy ones.

    ``T`` must be a multiple of ``config.patch_frames`` (callers pad).
    """

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = config
        width, patch, dim = config.width, config.patch_frames, config.feature_dim
        self.embed = nn.Linear(2 * dim * patch, width)
        self.time_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.null_text = nn.Parameter(torch.zeros(width))
        self.blocks = nn.ModuleList(
            Block(width, config.heads, config.mlp_ratio, config.dropout) for _ in range(config.depth)
        )
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, dim * patch)
        self.refine = nn.Conv1d(dim, dim, kernel_size=5, padding=2, groups=dim)
        self.filter_bank = nn.Conv1d(
            dim, dim * config.filters, kernel_size=config.filter_width, padding=config.filter_width // 2, groups=dim
        )
        self.filter_mix = nn.Linear(width, dim * config.filters)
        nn.init.zeros_(self.filter_mix.weight)
        nn.init.zeros_(self.filter_mix.bias)
        nn.init.zeros_(self.final_ada.weight)
        nn.init.zeros_(self.final_ada.bias)
        nn.init.zeros_(self.refine.weight)
        nn.init.zeros_(self.refine.bias)
        from robomotion.generators.sampling import NoiseSchedule

        self.register_buffer("alpha_bar", NoiseSchedule(config.num_train_steps).alpha_bar, persistent=False)
        head_dim = width // config.heads
        self.register_buffer(
            "rope_freqs", 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)), persistent=False
        )

    def _rope(self, tokens: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        angles = torch.arange(tokens, dtype=torch.float32, device=device)[:, None] * self.rope_freqs[None]
        return torch.cos(angles), torch.sin(angles)

    def condition(self, t: torch.Tensor, text: torch.Tensor, text_keep: torch.Tensor) -> torch.Tensor:
        """Conditioning vector (B, width) from steps (B,), sentence embeddings (B, E), keep flags (B,)."""
        time = self.time_mlp(timestep_embedding(t, self.config.width))
        words = torch.where(text_keep[:, None], self.text_proj(text), self.null_text[None].expand(len(t), -1))
        return time + words

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        text: torch.Tensor,
        text_keep: torch.Tensor,
        observed: torch.Tensor,
        mask: torch.Tensor,
        valid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Args:
        x_t: (B, T, D) noisy normalised features.
        t: (B,) diffusion steps.
        text: (B, E) sentence embeddings; text_keep: (B,) bool, False = unconditional.
        observed: (B, T, D) normalised observed values (read where ``mask`` is 1).
        mask: (B, T, D) 0/1 observation mask (all zeros = no constraints).
        valid: optional (B, T) bool, False on padding frames.
        """
        batch, frames, dim = x_t.shape
        patch = self.config.patch_frames
        tokens = frames // patch
        mask = mask.to(x_t.dtype)
        x_in = torch.cat([x_t * (1 - mask) + observed * mask, mask], dim=-1)
        h = self.embed(x_in.reshape(batch, tokens, patch * 2 * dim))
        cond = self.condition(t, text, text_keep)
        attn_mask = None
        if valid is not None:
            token_valid = valid.reshape(batch, tokens, patch)[..., 0]
            attn_mask = token_valid[:, None, None, :]
        rope = self._rope(tokens, x_t.device)
        for block in self.blocks:
            h = block(h, cond, rope, attn_mask)
        shift, scale = self.final_ada(F.silu(cond)).chunk(2, dim=-1)
        y = self.out(_modulate(self.final_norm(h), shift, scale)).reshape(batch, frames, dim)
        y = y + self.refine(y.transpose(1, 2)).transpose(1, 2)
        filtered = self.filter_bank(x_in[..., :dim].transpose(1, 2)).view(batch, dim, self.config.filters, frames)
        mix = self.filter_mix(F.silu(cond)).view(batch, dim, self.config.filters, 1)
        y = y + (filtered * mix).sum(2).transpose(1, 2)
        signal = self.alpha_bar[t].view(batch, 1, 1)
        return signal.sqrt() * x_t + (1 - signal).sqrt() * y
