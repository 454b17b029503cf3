"""Training data for ``robomotion-small``: clips, augmentation, windows and constraint masks.

A :class:`MotionDataset` holds feature matrices (see :mod:`robomotion.generators.features`) of
every clip in several augmented variants:

* **mirroring**: left/right swapped (reflection ``y -> -y``) with "left"/"right" swapped in
  the texts;
* **speed**: the motion replayed 0.8x-1.25x as fast (resampled, contacts re-estimated);
* **heading/position**: every window is moved to the canonical start (pelvis at the origin,
  facing +x at its first frame), so all headings and positions are covered;
* **random crops** of random length;
* **texts**: every label of the clip, and "a person" replaced by synonyms;
* **segment captions** (``segment_lengths``): windows of those lengths (half-overlapping) of
  every variant described from their own motion (:mod:`robomotion.generators.captions`), so
  mirrored and re-timed variants get captions with the side and speed words that fit them.

:meth:`MotionDataset.sample_batch` draws a batch of normalised windows with random constraint
masks of the kinds users give (prefix transitions, keyframes, root paths/waypoints, end
effectors and mixtures), so one network serves inpainting and multi-prompt transitions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from robomotion.generators.captions import segment_captions
from robomotion.generators.constraints import END_EFFECTOR_CHAINS
from robomotion.generators.features import FeatureLayout, canonicalize, encode_motion
from robomotion.motion import HumanMotion
from robomotion.rotations import matrix_to_quat, quat_to_matrix

__all__ = ["TrainingClip", "MotionDataset", "Batch", "floor_motion", "mirror_motion", "mirror_text", "text_variants"]

SUBJECTS = ("a person", "someone", "a man", "a woman", "the person", "a human")
SPEEDS = (0.8, 0.9, 1.0, 1.1, 1.25)
_MIRROR = np.diag([1.0, -1.0, 1.0])


@dataclass
class TrainingClip:
    """One clip on the model skeleton with its text labels."""

    name: str
    motion: HumanMotion
    texts: list[str]


@dataclass
class Batch:
    """Normalised training windows (float32 arrays)."""

    features: np.ndarray  # (B, T, D)
    valid: np.ndarray  # (B, T) bool
    text_index: np.ndarray  # (B,) rows of MotionDataset.texts
    observed_mask: np.ndarray  # (B, T, D) 0/1


def mirror_text(text: str) -> str:
    """Swap the words left/right (keeping case)."""
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
    return re.sub(r"\b(left|right|Left|Right)\b", lambda m: swap[m.group(1)], text)


def text_variants(text: str) -> list[str]:
    """The label and its subject paraphrases ("a person" -> "someone", "a man", ...)."""
    text = text.strip()
    lower = text.lower()
    for subject in SUBJECTS:
        if lower.startswith(subject + " "):
            rest = text[len(subject) :]
            return [s + rest for s in SUBJECTS]
    return [text]


def mirror_motion(motion: HumanMotion) -> HumanMotion:
    """Reflect a motion across the xz-plane (y -> -y) and swap left/right joints.

    Local rotations become ``M R M`` with ``M = diag(1, -1, 1)``; joint names containing
    "left"/"right" swap. Exact for a left/right symmetric skeleton.
    """
    names = motion.skeleton.joint_names
    partner = np.array([names.index(_swap_name(n)) for n in names])
    mats = quat_to_matrix(motion.local_rotations)[:, partner]
    mats = _MIRROR @ mats @ _MIRROR
    root = motion.root_translation * np.array([1.0, -1.0, 1.0])
    contacts = None if motion.foot_contacts is None else motion.foot_contacts[:, [2, 3, 0, 1]]
    return replace(motion, root_translation=root, local_rotations=matrix_to_quat(mats), foot_contacts=contacts)


def floor_motion(motion: HumanMotion) -> HumanMotion:
    """Shift a motion vertically so its lowest ankle/toe joint over all frames is at z = 0."""
    feet = motion.joint_positions(["left_ankle", "left_toe", "right_ankle", "right_toe"])
    lift = np.array([0.0, 0.0, float(feet[..., 2].min())])
    return replace(motion, root_translation=motion.root_translation - lift)


def _swap_name(name: str) -> str:
    for a, b in (("left", "right"), ("right", "left"), ("Left", "Right"), ("Right", "Left")):
        if a in name:
            return name.replace(a, b)
    return name


def _speed_variant(motion: HumanMotion, speed: float) -> HumanMotion:
    """The motion played ``speed`` times as fast, at the same fps (contacts re-estimated)."""
    if speed == 1.0:
        return replace(motion, foot_contacts=None)
    faster = motion.resample(motion.fps / speed)
    return replace(faster, fps=motion.fps, foot_contacts=None)


class MotionDataset:
    """Augmented feature windows for training.

    Args:
        clips: training clips on one skeleton at one fps.
        speeds: playback-speed factors to pre-compute.
        mirror: also add the mirrored clips.
        progress: show a progress bar while computing features.
        segment_lengths: window lengths (frames) to caption from the motion; empty: none.
        seed: seed of the caption wordings.
    """

    def __init__(
        self,
        clips: Sequence[TrainingClip],
        speeds: Sequence[float] = SPEEDS,
        mirror: bool = True,
        progress: bool = False,
        segment_lengths: Sequence[int] = (),
        seed: int = 0,
    ):
        if not clips:
            raise ValueError("no training clips")
        self.skeleton = clips[0].motion.skeleton
        self.fps = clips[0].motion.fps
        self.layout = FeatureLayout(self.skeleton.num_joints)
        self.features: list[np.ndarray] = []
        self.variant_texts: list[np.ndarray] = []  # indices into self.texts per variant
        self.weights: list[float] = []
        self.texts: list[str] = []
        text_rows: dict[str, int] = {}

        def rows(labels: Sequence[str]) -> np.ndarray:
            out = []
            for label in labels:
                for text in text_variants(label):
                    if text not in text_rows:
                        text_rows[text] = len(self.texts)
                        self.texts.append(text)
                    out.append(text_rows[text])
            return np.array(sorted(set(out)))

        jobs = [(clip, mirrored, speed) for clip in clips for mirrored in ((False, True) if mirror else (False,)) for speed in speeds]
        if progress:
            from tqdm import tqdm

            jobs = tqdm(jobs, desc="features", unit="variant")
        #: length -> [(variant, start frame, text rows)] of motion-captioned windows.
        self.segments: dict[int, list[tuple[int, int, np.ndarray]]] = {int(n): [] for n in segment_lengths}
        #: canonical segment action -> (captions, seconds of unaltered-speed data, hop-counted).
        self.segment_actions: dict[str, tuple[set[str], float]] = {}
        caption_rng = np.random.default_rng(seed)
        for clip, mirrored, speed in jobs:
            motion = floor_motion(mirror_motion(clip.motion)) if mirrored else clip.motion
            motion = _speed_variant(motion, speed)
            labels = [mirror_text(t) for t in clip.texts] if mirrored else list(clip.texts)
            self.features.append(encode_motion(motion).astype(np.float32))
            self.variant_texts.append(rows(labels))
            for length, found in self.segments.items():
                for start in range(0, motion.num_frames - length + 1, max(1, length // 2)):
                    action, captions = segment_captions(motion.trim(start, start + length), caption_rng)
                    if captions:
                        found.append((len(self.features) - 1, start, rows(captions)))
                        texts, seconds = self.segment_actions.get(action, (set(), 0.0))
                        hop = (length // 2) / self.fps / len(self.segments) if speed == 1.0 else 0.0
                        self.segment_actions[action] = (texts | set(captions), seconds + hop)
            self.weights.append(float(np.clip(motion.num_frames, 60, 300)))
        self.weights = np.asarray(self.weights) / np.sum(self.weights)
        self.ee_channels = self._end_effector_channels()

    # ------------------------------------------------------------------ statistics
    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std over canonicalised windows (std floored at 1e-2 of the group's mean std)."""
        rng = np.random.default_rng(0)
        samples = []
        for features in self.features:
            starts = rng.integers(0, max(1, len(features) - 1), size=4)
            for start in starts:
                window, _, _ = canonicalize(features[start : start + 180], self.layout)
                samples.append(window)
        data = np.concatenate(samples)
        mean = data.mean(0)
        std = data.std(0)
        for group in self.layout.slices.values():
            floor = max(1e-3, 1e-2 * float(std[group].mean()))
            std[group] = np.maximum(std[group], floor)
        layout = self.layout
        mean[layout["contacts"]] = 0.5
        std[layout["contacts"]] = 0.5
        return mean.astype(np.float32), std.astype(np.float32)

    # ------------------------------------------------------------------ masks
    def _end_effector_channels(self) -> list[np.ndarray]:
        out = []
        for roles in END_EFFECTOR_CHAINS.values():
            joints = [self.skeleton.index(r) for r in roles]
            out.append(np.concatenate([self.layout.joint_position_channels(j) for j in joints]))
        return out

    def _mask_one(self, rng: np.random.Generator, length: int, kind: str) -> np.ndarray:
        layout = self.layout
        mask = np.zeros((length, layout.dim), dtype=np.float32)
        root = layout.channels("root_xy", "root_z", "heading")
        if kind == "none":
            return mask
        if kind == "prefix":
            mask[: int(rng.integers(1, min(10, length) + 1))] = 1.0
        elif kind == "keyframes":
            frames = self._frames(rng, length, 1, 5)
            mask[np.ix_(frames, layout.channels(*layout.pose_groups))] = 1.0
        elif kind == "path":
            channels = layout.channels("root_xy", "heading") if rng.random() < 0.5 else layout.channels("root_xy")
            mask[:, channels] = 1.0
        elif kind == "waypoints":
            channels = layout.channels("root_xy", "heading") if rng.random() < 0.5 else layout.channels("root_xy")
            mask[np.ix_(self._frames(rng, length, 1, 8), channels)] = 1.0
        elif kind == "end_effector":
            frames = self._frames(rng, length, 1, 5)
            chosen = rng.choice(len(self.ee_channels), size=int(rng.integers(1, 5)), replace=False)
            channels = np.concatenate([root] + [self.ee_channels[i] for i in chosen])
            mask[np.ix_(frames, channels)] = 1.0
        elif kind == "mixed":
            for sub in rng.choice(["keyframes", "path", "waypoints", "end_effector", "prefix"], size=2, replace=False):
                mask = np.maximum(mask, self._mask_one(rng, length, str(sub)))
        return mask

    @staticmethod
    def _frames(rng: np.random.Generator, length: int, low: int, high: int) -> np.ndarray:
        count = int(rng.integers(low, high + 1))
        frames = rng.choice(length, size=min(count, length), replace=False)
        if rng.random() < 0.3:
            frames = np.append(frames, rng.choice([0, length - 1]))
        return np.unique(frames)

    MASK_KINDS = ("none", "prefix", "keyframes", "path", "waypoints", "end_effector", "mixed")
    MASK_PROBS = (0.3, 0.15, 0.12, 0.08, 0.1, 0.12, 0.13)

    # ------------------------------------------------------------------ batches
    def sample_batch(
        self,
        rng: np.random.Generator,
        batch_size: int,
        length: int,
        mean: np.ndarray,
        std: np.ndarray,
        segment_share: float = 0.0,
    ) -> Batch:
        """``batch_size`` canonical windows of ``length`` frames (shorter clips are padded).

        With ``segment_share`` > 0, that share of the windows (on average) are motion-captioned
        segments of ``length`` frames with one of their captions, the rest random windows with a
        label of their clip.
        """
        dim = self.layout.dim
        feats = np.zeros((batch_size, length, dim), dtype=np.float32)
        valid = np.zeros((batch_size, length), dtype=bool)
        masks = np.zeros((batch_size, length, dim), dtype=np.float32)
        text_index = np.zeros(batch_size, dtype=np.int64)
        variants = rng.choice(len(self.features), size=batch_size, p=self.weights)
        segments = self.segments.get(length, [])
        for b, v in enumerate(variants):
            labels, start = self.variant_texts[v], None
            if segments and rng.random() < segment_share:
                v, start, labels = segments[int(rng.integers(len(segments)))]
            source = self.features[v]
            n = min(length, len(source))
            if start is None:
                start = int(rng.integers(0, len(source) - n + 1))
            window, _, _ = canonicalize(source[start : start + n], self.layout)
            feats[b, :n] = (window - mean) / std
            valid[b, :n] = True
            kind = str(rng.choice(self.MASK_KINDS, p=self.MASK_PROBS))
            masks[b, :n] = self._mask_one(rng, n, kind)
            text_index[b] = rng.choice(labels)
        return Batch(features=feats, valid=valid, text_index=text_index, observed_mask=masks)
