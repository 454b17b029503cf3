"""What a text-to-motion model was trained on, and how far a prompt is from it.

A :class:`Vocabulary` holds the training captions of a model (every label of every clip, and
their left/right mirrored forms, as trained), the *action* each caption belongs to (its clip's
first label), the seconds of data per action, and the captions' sentence embeddings from the
model's own text encoder. :meth:`Vocabulary.check` compares a prompt with every caption (cosine
similarity of the embeddings, with the grammatical subject — "a person", "someone", ... —
removed from both, so that the action words decide) and returns the nearest actions (with their seconds of data) and a
warning when the best similarity is below ``warn_below``.

``warn_below`` (0.55 for ``robomotion-small``) was set on the evaluation suite
(:mod:`robomotion.generators.evaluation`): its out-of-vocabulary prompts reach at most 0.52.

Build the file for a model folder::

    python -m robomotion.generators.vocabulary --data ../shared/data/mocap --model-dir models/robomotion_small
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robomotion.atomic import save_npz
from robomotion.errors import FormatError

__all__ = ["VOCABULARY_FILE", "UnfamiliarPromptWarning", "Vocabulary", "VocabularyCheck", "build_vocabulary", "strip_subject"]

VOCABULARY_FILE = "vocabulary.npz"
_SUBJECT = re.compile(r"^(a|the|this|one)?\s*(person|man|woman|human|subject|actor|character|boy|girl)\s+|^(someone|somebody|he|she)\s+", re.IGNORECASE)


class UnfamiliarPromptWarning(UserWarning):
    """A prompt is far from everything the model was trained on (see :class:`Vocabulary`)."""


def strip_subject(text: str) -> str:
    """The prompt without its leading subject and final full stop ("A man jumps." -> "jumps")."""
    return _SUBJECT.sub("", str(text).strip().rstrip(".!?").strip())


@dataclass(frozen=True)
class VocabularyCheck:
    """How a prompt relates to the training captions.

    Attributes:
        prompt: the prompt checked.
        similarity: cosine similarity to the nearest caption (subjects removed), -1..1.
        nearest: up to three nearest actions as (action, similarity, seconds of data).
        warning: a one-line warning, or None when the prompt is close to well-covered data.
    """

    prompt: str
    similarity: float
    nearest: list[tuple[str, float, float]] = field(default_factory=list)
    warning: str | None = None

    def as_dict(self) -> dict:
        return {
            "prompt": self.prompt,
            "similarity": round(self.similarity, 3),
            "nearest": [{"action": a, "similarity": round(s, 3), "seconds": round(t, 1)} for a, s, t in self.nearest],
            "warning": self.warning,
        }


@dataclass
class Vocabulary:
    """Training captions, their actions and embeddings (see the module docstring).

    Attributes:
        captions: (N,) caption texts as trained.
        actions: (N,) the action (clip's first label) of each caption.
        seconds: action -> seconds of training data (before augmentation).
        clips: action -> number of clips.
        embeddings: (N, E) unit sentence embeddings of the captions without their subject.
        warn_below: best similarity under which a prompt is called unfamiliar.
    """

    captions: list[str]
    actions: list[str]
    seconds: dict[str, float]
    clips: dict[str, int]
    embeddings: np.ndarray
    warn_below: float = 0.55

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        names = sorted(self.seconds)
        return save_npz(
            path,
            captions=np.array(self.captions, dtype=str),
            actions=np.array(self.actions, dtype=str),
            action_names=np.array(names, dtype=str),
            action_seconds=np.array([self.seconds[n] for n in names]),
            action_clips=np.array([self.clips[n] for n in names]),
            embeddings=self.embeddings.astype(np.float16),
            warn_below=np.array(self.warn_below),
        )

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        try:
            with np.load(path) as data:
                names = [str(n) for n in data["action_names"]]
                return cls(
                    captions=[str(c) for c in data["captions"]],
                    actions=[str(a) for a in data["actions"]],
                    seconds=dict(zip(names, (float(s) for s in data["action_seconds"]))),
                    clips=dict(zip(names, (int(c) for c in data["action_clips"]))),
                    embeddings=data["embeddings"].astype(np.float32),
                    warn_below=float(data["warn_below"]),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise FormatError(f"not a vocabulary file ({exc})", path) from None

    # ------------------------------------------------------------------ queries
    def covered_actions(self) -> list[tuple[str, float, int]]:
        """(action, seconds of data, clips), most data first."""
        return sorted(((a, self.seconds[a], self.clips[a]) for a in self.seconds), key=lambda r: (-r[1], r[0]))

    def check(self, prompt: str, embedding: np.ndarray) -> VocabularyCheck:
        """Compare ``prompt`` (its subject-free ``embedding``, (E,)) with every caption."""
        if not strip_subject(prompt):
            return VocabularyCheck(prompt, 1.0)
        similarity = self.embeddings @ np.asarray(embedding, dtype=np.float32)
        best: dict[str, float] = {}
        for index in np.argsort(-similarity):
            action = self.actions[index]
            if action not in best:
                best[action] = float(similarity[index])
            if len(best) == 3:
                break
        nearest = [(a, s, self.seconds[a]) for a, s in best.items()]
        top = float(similarity.max())
        names = ", ".join(f'"{a}" ({s:.2f}, {t:.0f} s of data)' for a, s, t in nearest)
        warning = None
        if top < self.warn_below:
            warning = (f'"{prompt}" is far from everything robomotion-small was trained on (best similarity {top:.2f} < '
                       f"{self.warn_below:.2f}); nearest known actions: {names}. Expect a motion that does not match the text.")
        return VocabularyCheck(prompt, top, nearest, warning)


def build_vocabulary(clips: Sequence, encoder, mirror: bool = True, segment_actions: dict | None = None) -> Vocabulary:
    """A :class:`Vocabulary` of training clips (objects with ``texts`` and ``motion``), embedded by ``encoder``.

    ``segment_actions`` (:attr:`MotionDataset.segment_actions`: canonical action -> (captions,
    seconds)) adds the motion-derived segment captions the model was trained on, as actions
    "a person <canonical clause>" with 0 clips.
    """
    from robomotion.generators.dataset import mirror_text

    captions, actions = [], []
    seen: set[tuple[str, str]] = set()
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for clip in clips:
        action = clip.texts[0]
        seconds[action] = seconds.get(action, 0.0) + clip.motion.duration
        counts[action] = counts.get(action, 0) + 1
        texts = list(clip.texts) + ([mirror_text(t) for t in clip.texts] if mirror else [])
        for text in dict.fromkeys(texts):
            if (text, action) not in seen:
                seen.add((text, action))
                captions.append(text)
                actions.append(action)
    for clause, (texts, seconds_of_data) in sorted((segment_actions or {}).items()):
        action = f"a person {clause}"
        seconds[action] = seconds.get(action, 0.0) + seconds_of_data
        counts.setdefault(action, 0)
        for text in sorted(texts):
            if (text, action) not in seen:
                seen.add((text, action))
                captions.append(text)
                actions.append(action)
    embeddings = encoder.encode([strip_subject(c) for c in captions])
    return Vocabulary(captions, actions, seconds, counts, embeddings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robomotion.generators.vocabulary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder of mocap .npz clips with text labels (the training data)")
    parser.add_argument("--model-dir", required=True, help="model folder to write vocabulary.npz into")
    args = parser.parse_args(argv)
    from robomotion.generators.text_encoder import TextEncoder
    from robomotion.generators.train import load_training_clips

    clips = load_training_clips(args.data)
    vocabulary = build_vocabulary(clips, TextEncoder())
    path = vocabulary.save(Path(args.model_dir) / VOCABULARY_FILE)
    print(f"wrote {path}: {len(vocabulary.captions)} captions, {len(vocabulary.seconds)} actions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
