"""``robomotion-small``: the embedded text-to-motion model (CPU, offline).

Loads the files shipped in ``models/robomotion_small/`` (or another folder written by
``python -m robomotion.generators.train``): ``config.json``, ``model.safetensors``, ``normalization.npz``.

Generation of a timeline of prompts (Kimodo's multi-prompt scheme):

* segment 0 is generated in the canonical frame (pelvis over the origin facing +x at frame 0);
* every later segment is generated in the frame of the previous segment's last
  ``num_transition_frames`` frames (first of them at the origin, facing +x) with those frames
  inpainted exactly (all feature channels), then moved back; so the seam is continuous;
* user constraints are cut per segment and moved into each segment's frame;
* all samples of a call run as one batch; the seed fixes the noise: sample ``s`` draws from
  its own generator (:func:`sample_generators`), so sample 0 of ``num_samples=4`` is the clip
  that ``num_samples=1`` gives (to float precision: the batched network arithmetic may differ
  in the last bits).

When the model folder has a ``vocabulary.npz`` (:mod:`robomotion.generators.vocabulary`), every
prompt is compared with the training captions: ``metadata["vocabulary"]`` holds the nearest
known actions and their similarity, and a prompt far from all of them (or nearest to an action
with little data) raises an :class:`~robomotion.generators.vocabulary.UnfamiliarPromptWarning`.

A single-prompt call without user constraints first goes through the text planner
(:mod:`robomotion.generators.planner`, ``planner=False`` turns it off): direction, speed, turn,
circle and hand-side words become a root path (waypoints, plus the path's root velocities
inpainted on every frame) or wrist keyframes, sampled with regular guidance unless the call
names a ``cfg_type``; ``metadata["planner"]`` records what it read and planned. When it plans
nothing, the output is the same as with ``planner=False``.

Sampling is DDIM with ``eta`` from ``config.json`` (1.0 for the shipped weights: fresh noise at
every step, which for this small model gives livelier motion than deterministic DDIM; a seed
still fixes everything). The sampled features are low-pass filtered over time (Gaussian,
``smoothing`` in ``config.json``: about 2 frames for the root channels, 1 frame for the body),
which removes the residual frame-to-frame sampling noise of a 4-frame-token model; then the
motion is decoded from rotations + root by forward kinematics and post-processed
(:mod:`robomotion.generators.postprocess`) unless ``postprocess=False``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError
from robomotion.generators.base import GenerationRequest, Generator
from robomotion.generators.constraints import (
    END_EFFECTOR_CHAINS,
    Constraint,
    FullBodyConstraint,
    Root2DConstraint,
)
from robomotion.generators.features import FeatureLayout, decode_features, encode_poses, transform_global, yaw_matrix
from robomotion.generators.planner import Plan, plan_constraints
from robomotion.generators.postprocess import postprocess_motion
from robomotion.generators.sampling import Guidance, NoiseSchedule, ddim_sample
from robomotion.generators.text_encoder import TextEncoder
from robomotion.generators.vocabulary import (
    VOCABULARY_FILE,
    UnfamiliarPromptWarning,
    Vocabulary,
    VocabularyCheck,
    strip_subject,
)
from robomotion.motion import HumanMotion
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

__all__ = ["RobomotionSmall", "condition_from_constraints", "load", "sample_generators"]

MODEL_FILES = ("config.json", "model.safetensors", "normalization.npz")


def condition_from_constraints(
    constraints: Sequence[Constraint], skeleton: Skeleton, start: int, length: int, offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Observed feature values and 0/1 mask (``length``, D) for timeline frames ``[start, start+length)``.

    Values are in the timeline's (world) frame; frame ``g`` lands on row ``g - start + offset``.
    Constraint frames outside the range are ignored (Kimodo drops them too).
    """
    layout = FeatureLayout(skeleton.num_joints)
    values = np.zeros((length + offset, layout.dim))
    mask = np.zeros((length + offset, layout.dim))
    root_channels = layout.channels("root_xy", "heading", "root_z")
    for c in constraints:
        keep = (c.frame_indices >= start) & (c.frame_indices < start + length)
        if not keep.any():
            continue
        rows = c.frame_indices[keep] - start + offset
        if isinstance(c, Root2DConstraint):
            values[rows, layout["root_xy"]] = c.positions[keep]
            mask[np.ix_(rows, layout.channels("root_xy"))] = 1.0
            if c.headings is not None:
                values[rows, layout["heading"]] = np.stack([np.cos(c.headings[keep]), np.sin(c.headings[keep])], -1)
                mask[np.ix_(rows, layout.channels("heading"))] = 1.0
            continue
        pose = encode_poses(c.local_rotations[keep], c.root_positions[keep], skeleton)
        pose[:, layout["root_xy"]] = c.root_xy[keep]
        if isinstance(c, FullBodyConstraint):
            channels = layout.channels(*layout.pose_groups)
        else:
            joints = [skeleton.index(r) for name in c.joint_names for r in END_EFFECTOR_CHAINS[name]]
            channels = np.concatenate([root_channels] + [layout.joint_position_channels(j) for j in joints])
            if "Hips" in c.joint_names:
                channels = np.concatenate([channels, layout.rotation_channels(0)])
        values[np.ix_(rows, channels)] = pose[:, channels]
        mask[np.ix_(rows, channels)] = 1.0
    return values, mask


def sample_generators(seed: int, num_samples: int) -> list:
    """One torch generator per sample: sample 0 is seeded with ``seed`` itself, sample ``s`` with a
    number derived from (``seed``, ``s``), so a sample's noise does not depend on ``num_samples``."""
    import torch

    seeds = [seed] + [int(np.random.SeedSequence([seed, s]).generate_state(1)[0]) for s in range(1, num_samples)]
    return [torch.Generator().manual_seed(s) for s in seeds]


def smooth_keeping_trends(signal: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian low-pass along axis 0 that leaves straight lines untouched, also at the ends.

    The signal is extended past each end by point reflection (``2 x[0] - x[k]``), so a
    channel moving at constant velocity keeps that velocity up to its first and last frame;
    repeating the end value instead (``mode="nearest"``) would slow a walking root to a stop
    over the last few frames, an acceleration no real motion has.

    Args:
        signal: (T, C) values over time.
        sigma: standard deviation of the Gaussian, frames.
    """
    from scipy.ndimage import gaussian_filter1d

    pad = min(int(4.0 * sigma + 0.5), len(signal) - 1)
    padded = np.pad(signal, ((pad, pad), (0, 0)), mode="reflect", reflect_type="odd")
    return gaussian_filter1d(padded, sigma, axis=0, mode="nearest")[pad : pad + len(signal)]


class RobomotionSmall(Generator):
    """The embedded diffusion model (see the module docstring).

    Args:
        model_dir: folder with the model files; default: the shipped ``robomotion_small``.
        device: torch device string.
    """

    name = "robomotion-small"

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu"):
        import torch
        from safetensors.torch import load_file

        from robomotion.generators.small_model import DenoiserConfig, MotionDenoiser

        if model_dir is None:
            from robomotion.resources import model_path

            model_dir = model_path("robomotion_small")
        self.model_dir = Path(model_dir)
        for name in MODEL_FILES:
            if not (self.model_dir / name).is_file():
                raise FormatError(f"model file missing (expected {', '.join(MODEL_FILES)})", self.model_dir / name)
        config = json.loads((self.model_dir / "config.json").read_text())
        self.config = config
        self.name = config.get("name", self.name)
        self.fps = float(config["fps"])
        self._skeleton = get_skeleton(config["skeleton"])
        self.layout = FeatureLayout(self._skeleton.num_joints)
        expected = {k: [v.start, v.stop] for k, v in self.layout.slices.items()}
        if config.get("feature_layout") != expected:
            raise FormatError("feature layout does not match this version of robomotion", self.model_dir / "config.json", "feature_layout")
        stats = np.load(self.model_dir / "normalization.npz")
        self.mean = torch.from_numpy(stats["mean"].astype(np.float32))
        self.std = torch.from_numpy(stats["std"].astype(np.float32))
        self.device = device
        self.network = MotionDenoiser(DenoiserConfig.from_dict(config["network"], self.model_dir / "config.json"))
        self.network.load_state_dict(load_file(str(self.model_dir / "model.safetensors")))
        self.network.to(device).eval()
        self.schedule = NoiseSchedule(int(config["num_train_steps"]))
        self.defaults = config["defaults"]
        self.text_encoder = TextEncoder(device=device)
        vocabulary_path = self.model_dir / VOCABULARY_FILE
        self.vocabulary = Vocabulary.load(vocabulary_path) if vocabulary_path.is_file() else None

    @property
    def skeleton(self) -> Skeleton:
        return self._skeleton

    # ------------------------------------------------------------------ helpers
    def _guidance(self, request: GenerationRequest) -> Guidance:
        kind = request.cfg_type or self.defaults["cfg_type"]
        weights = request.cfg_weight or tuple(self.defaults["cfg_weight"])
        if kind == "regular":
            return Guidance("regular", weights[0], weights[0])
        if kind == "separated":
            return Guidance("separated", weights[0], weights[-1])
        return Guidance("nocfg")

    def _cfg_metadata(self, request: GenerationRequest) -> dict:
        guidance = self._guidance(request)
        if guidance.kind == "nocfg":
            return {"enabled": False}
        return {"enabled": True, "type": guidance.kind, "text_weight": guidance.text_weight, "constraint_weight": guidance.constraint_weight}

    def _sample_segment(
        self,
        text: np.ndarray,
        observed: np.ndarray,
        mask: np.ndarray,
        steps: int,
        guidance: Guidance,
        generator,
        progress,
    ) -> np.ndarray:
        """Denoise one segment for all samples: observed/mask (S, T, D) raw features -> (S, T, D) raw."""
        import torch

        samples, frames, dim = observed.shape
        patch = self.network.config.patch_frames
        padded = -(-frames // patch) * patch
        obs = torch.zeros(samples, padded, dim)
        msk = torch.zeros(samples, padded, dim)
        obs[:, :frames] = (torch.from_numpy(observed).float() - self.mean) / self.std
        msk[:, :frames] = torch.from_numpy(mask).float()
        text_t = torch.from_numpy(np.repeat(text[None], samples, axis=0))
        x0 = ddim_sample(
            self.network, self.schedule, text_t, obs, msk, steps, guidance, generator, progress, eta=float(self.defaults["eta"])
        )
        return (x0[:, :frames] * self.std + self.mean).double().numpy()

    def check_prompts(self, prompts: Sequence[str]) -> list[VocabularyCheck]:
        """Each prompt against the training captions (empty list without a vocabulary file)."""
        if self.vocabulary is None:
            return []
        embeddings = self.text_encoder.encode([strip_subject(p) for p in prompts])
        return [self.vocabulary.check(p, e) for p, e in zip(prompts, embeddings)]

    # ------------------------------------------------------------------ generation
    def generate(self, request: GenerationRequest) -> list[HumanMotion]:
        from tqdm import tqdm

        seed = request.seed if request.seed is not None else int(np.random.SeedSequence().entropy % (2**31))
        generator = sample_generators(seed, request.num_samples)
        steps = request.num_denoising_steps or int(self.defaults["num_denoising_steps"])
        embeddings = self.text_encoder.encode(request.prompts)
        checks = self.check_prompts(request.prompts)
        plan = self.plan(request)
        exact = request.constraints  # hit exactly in post-processing
        if plan is not None and not plan.empty:
            request = replace(request, constraints=request.constraints + tuple(plan.constraints))
            exact = tuple(plan.exact_constraints)
            if request.cfg_type is None:
                # Regular guidance at the text weight: 2 network passes per step instead of the
                # 3 that separated guidance needs with constraints (same suite results on the
                # tuning wordings, 40/68 either way), which keeps planned prompts >= 20x real time.
                text_weight = (request.cfg_weight or tuple(self.defaults["cfg_weight"]))[0]
                request = replace(request, cfg_type="regular", cfg_weight=(text_weight,))
        guidance = self._guidance(request)
        if plan is not None and not plan.empty:  # the planner covers part of an unfamiliar prompt
            note = (f" The text planner turned it into {', '.join(c.type for c in plan.constraints)} constraints, "
                    "so the travel and hands it planned should match; the rest of the body may not.")
            checks = [replace(c, warning=c.warning.replace(" Expect a motion that does not match the text.", note))
                      if c.warning else c for c in checks]
        for check in checks:
            if check.warning:
                warnings.warn(check.warning, UnfamiliarPromptWarning, stacklevel=3)
        samples, layout = request.num_samples, self.layout
        features = np.zeros((samples, 0, layout.dim))
        bar = tqdm(total=steps * len(request.prompts), desc=f"{self.name}", unit="step", disable=not request.progress, leave=False)
        start = 0
        for segment, (frames, text) in enumerate(zip(request.num_frames, embeddings)):
            overlap = min(request.num_transition_frames, start) if segment else 0
            values, mask = condition_from_constraints(request.constraints, self.skeleton, start, frames, offset=overlap)
            if plan is not None and plan.root_velocity is not None:  # one segment: the planned pelvis velocities
                values[:, layout["root_vel"]] = plan.root_velocity
                mask[:, layout["root_vel"]] = 1.0
            observed = np.repeat(values[None], samples, axis=0)
            masks = np.repeat(mask[None], samples, axis=0)
            # Each sample's segment frame: first transition frame at the origin, facing +x.
            yaws, origins = np.zeros(samples), np.zeros((samples, 2))
            if overlap:
                tail = features[:, start - overlap : start]
                for s in range(samples):
                    cos_sin = tail[s, 0, layout["heading"]]
                    yaws[s] = np.arctan2(cos_sin[1], cos_sin[0])
                    origins[s] = tail[s, 0, layout["root_xy"]]
                    observed[s, :overlap] = tail[s]
                masks[:, :overlap] = 1.0
            for s in range(samples):
                to_local = yaw_matrix(np.asarray(-yaws[s]))
                observed[s] = transform_global(observed[s], -yaws[s], -(to_local @ origins[s]), layout)
            result = self._sample_segment(text, observed, masks, steps, guidance, generator, bar.update)
            for s in range(samples):
                result[s] = transform_global(self._integrate_root(result[s], overlap), yaws[s], origins[s], layout)
            features = np.concatenate([features, result[:, overlap:]], axis=1)
            start += frames
        bar.close()
        vocabulary = None
        if checks:
            warned = [c.warning for c in checks if c.warning]
            vocabulary = {"warning": " ".join(warned) if warned else None, "prompts": [c.as_dict() for c in checks]}
        planned = None if plan is None else plan.as_dict()
        return [self._finish(features[s], request, seed, s, vocabulary, planned, exact) for s in range(samples)]

    def plan(self, request: GenerationRequest) -> Plan | None:
        """The text planner's constraints for ``request`` (:mod:`robomotion.generators.planner`).

        None (nothing planned, the request runs as given) when ``request.planner`` is off, for
        timelines of several prompts (a later segment's start is not known in advance) and when
        the caller gave constraints of their own (they take precedence).
        """
        if not request.planner or len(request.prompts) != 1 or request.constraints:
            return None
        pelvis_height = float(self.mean[self.layout["root_z"]][0])
        return plan_constraints(request.prompts[0], request.num_frames[0], self.fps, self.skeleton, pelvis_height)

    def _integrate_root(self, features: np.ndarray, start: int) -> np.ndarray:
        """Rebuild the pelvis ground path from the predicted velocities, in the segment's frame.

        The network predicts the local root velocities (heading frame, m/s) much better than the
        global path channels, so rows ``start`` onward get ``xy[k] = xy[k-1] + R(h[k-1]) v[k-1] / fps``
        (the definition of those channels) from the last fixed row (the canonical origin for
        the first segment, the last transition frame for later ones). Root constraints are
        then met by post-processing.
        """
        layout = self.layout
        out = features.copy()
        cos_sin = out[:, layout["heading"]]
        heading = np.arctan2(cos_sin[:, 1], cos_sin[:, 0])
        velocity = out[:, layout["root_vel"]][:, 1:3]
        step = np.einsum("tij,tj->ti", yaw_matrix(heading), velocity) / self.fps
        first = max(start - 1, 0)
        origin = out[first, layout["root_xy"]] if start else np.zeros(2)
        path = origin + np.concatenate([np.zeros((1, 2)), np.cumsum(step[first:-1], axis=0)])
        out[first:, layout["root_xy"]] = path
        return out

    def _smooth(self, features: np.ndarray) -> np.ndarray:
        """Gaussian low-pass over time: root channels and body channels with their own widths (frames)."""
        widths = self.config["smoothing"]
        out = features.copy()
        root = self.layout.channels("root_xy", "heading", "root_z", "root_vel")
        body = np.setdiff1d(np.arange(self.layout.dim), root)
        for channels, sigma in ((root, widths["root_frames"]), (body, widths["body_frames"])):
            if sigma > 0 and len(features) > 1:
                out[:, channels] = smooth_keeping_trends(features[:, channels], float(sigma))
        return out

    def _finish(
        self,
        features: np.ndarray,
        request: GenerationRequest,
        seed: int,
        sample: int,
        vocabulary: dict | None = None,
        planned: dict | None = None,
        exact: Sequence[Constraint] | None = None,
    ) -> HumanMotion:
        metadata = {
            "model": self.name,
            "texts": list(request.prompts),
            "durations": [n / self.fps for n in request.num_frames],
            "num_frames": list(request.num_frames),
            "seed": seed,
            "sample": sample,
            "num_denoising_steps": request.num_denoising_steps or int(self.defaults["num_denoising_steps"]),
            "cfg": self._cfg_metadata(request),
            "postprocess": request.postprocess,
        }
        if vocabulary is not None:
            metadata["vocabulary"] = vocabulary
        metadata["planner"] = {"enabled": request.planner, **(planned or {})}
        motion = decode_features(self._smooth(features), self.skeleton, self.fps, metadata)
        if request.postprocess:
            exact = request.constraints if exact is None else exact
            motion = postprocess_motion(motion, exact, motion.foot_contacts)
        return motion


def load(name: str = "robomotion-small", device: str = "cpu") -> RobomotionSmall:
    """Registry factory: the shipped ``robomotion-small`` weights on ``device``."""
    return RobomotionSmall(device=device)
