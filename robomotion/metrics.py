"""Motion-quality metrics for any :class:`~robomotion.motion.HumanMotion`.

Two published families, implemented from their definitions (z-up, metres):

**MBench motion quality** (ViMoGen's ``mbench/motion_quality.py``; :func:`mbench_metrics`). All
differences are *per frame* (no division by the frame time), so values depend on the frame
rate: MBench assumes 20 fps; :func:`mbench_metrics` evaluates at the motion's own rate unless
``fps`` is given (the motion is then resampled). Joints: all joints of 22-joint SMPL-topology
skeletons (``smplx22``, ``smpl22``, as MBench), otherwise the skeleton's role joints; root =
joint 0; feet = the ``left_toe`` / ``right_toe`` roles (SMPL joints 10 and 11).

* contact: a foot is in contact when its displacement to the next frame is < 0.01 m or its
  height is < 0.02 m (last frame repeats the previous displacement);
* ``jitter_degree``: mean norm of the second difference of joint positions, global plus root-
  relative (lower = smoother; ViMoGen's quality gate is < 0.04 at 20 fps);
* ``ground_penetration``: mean depth of foot heights below -5 mm (0 if none);
* ``foot_sliding``: per foot, mean horizontal displacement per frame over contact frames,
  averaged over both feet (m/frame);
* ``foot_floating``: (frame invalidity + sequence floating + mass floating) / T, see
  :func:`_foot_floating`;
* ``dynamic_degree``: mean joint displacement per frame, global plus root-relative (higher =
  more movement; catches frozen outputs).

**Kimodo foot skate** (``kimodo/metrics/foot_skate.py``; :func:`foot_skate_metrics`), speeds in
m/s by finite differences; feet = ankle ("heel") and toe joints:

* ``foot_skate_from_height``: mean toe speed over frames with toe height < 0.05 m;
* ``foot_skate_from_pred_contacts`` / ``foot_skate_max_vel``: mean / max foot-joint speed over
  frames the motion's own contacts label as contact (NaN without contacts);
* ``foot_skate_ratio``: fraction of on-floor toe frames (toe < 0.05 m in two consecutive
  frames) whose toe speed exceeds 0.2 m/s;
* ``foot_contact_consistency``: agreement of the motion's contacts with the slow-and-low
  heuristic (speed < 0.15 m/s and height < 0.10 m).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from robomotion.foot_contacts import contacts_from_positions, point_speeds
from robomotion.motion import FOOT_CONTACT_ROLES, HumanMotion

__all__ = ["MBenchMetrics", "FootSkateMetrics", "mbench_metrics", "foot_skate_metrics", "summarize"]

_ROLE_ORDER = (
    "pelvis", "spine", "chest", "neck", "head", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_toe", "right_toe", "left_collar", "right_collar",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)


class _Scores:
    """Base of the score tables: ``as_dict`` for JSON and :func:`summarize`."""

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class MBenchMetrics(_Scores):
    """MBench motion-quality scores of one motion (per-frame units at ``fps``)."""

    jitter_degree: float
    ground_penetration: float
    foot_floating: float
    foot_sliding: float
    dynamic_degree: float
    fps: float


@dataclass(frozen=True)
class FootSkateMetrics(_Scores):
    """Kimodo's foot-skate scores of one motion (speeds in m/s)."""

    foot_skate_from_height: float
    foot_skate_from_pred_contacts: float
    foot_skate_max_vel: float
    foot_skate_ratio: float
    foot_contact_consistency: float


def _metric_joints(motion: HumanMotion) -> np.ndarray:
    skeleton = motion.skeleton
    if skeleton.num_joints == 22:
        return np.arange(22)
    return skeleton.indices([r for r in _ROLE_ORDER if skeleton.has_role(r)])


def _mbench_contacts(feet: np.ndarray) -> np.ndarray:
    """(T, 2) MBench contact flags from foot positions (T, 2, 3)."""
    step = np.linalg.norm(np.diff(feet, axis=0), axis=-1)
    step = np.concatenate([step, step[-1:]]) if len(step) else np.zeros((1, feet.shape[1]))
    return (step < 0.01) | (feet[..., 2] < 0.02)


def _count_peaks(values: np.ndarray) -> int:
    if len(values) < 3:
        return 0
    mid = values[1:-1]
    return int(np.sum((mid > values[:-2]) & (mid > values[2:])))


def _foot_floating(feet: np.ndarray, root: np.ndarray, contact: np.ndarray) -> float:
    """MBench Foot_Floating: (frame invalidity + sequence floating + mass floating) / T.

    1. Frame invalidity: for frames whose root moves >= 1 mm, a foot is implausible when its
       motion relative to the root, ``r = |d(foot - root)| / (|d root| + 1e-6)``, is < 0.6 (with
       the foot moving > 0.12 mm) or > 1.75 (foot and root moving > 0.12 mm); the frame counts
       when both feet are in contact and both implausible, or exactly one is in contact and it is.
    2. Sequence floating: in each no-contact run of a foot lasting >= 4 frames (skipped when more
       than half of its frames have a static root), half the number of frames with r < 0.4.
    3. Mass floating: runs with both feet off contact for >= 4 frames whose left-foot angle
       between displacement-from-start and the start->end chord has more than 2 local peaks
       add their length.
    """
    frames = len(root)
    if frames < 2:
        return 0.0
    d_root = np.linalg.norm(np.diff(root, axis=0), axis=-1)  # (T-1,)
    d_foot = np.linalg.norm(np.diff(feet, axis=0), axis=-1)  # (T-1, 2)
    d_rel = np.linalg.norm(np.diff(feet - root[:, None], axis=0), axis=-1)
    ratio = d_rel / (d_root[:, None] + 1e-6)
    moving = 1.2e-4
    implausible = ((ratio < 0.6) & (d_foot > moving)) | ((ratio > 1.75) & (d_foot > moving) & (d_root[:, None] > moving))
    c = contact[:-1]
    both = c.all(axis=1) & implausible.all(axis=1)
    one = (c.sum(axis=1) == 1) & np.any(c & implausible, axis=1)
    invalid = float(np.sum((d_root >= 1e-3) & (both | one)))

    sequence = 0.0
    for k in range(feet.shape[1]):
        for start, end in _runs(~contact[:-1, k]):
            if end - start < 4 or np.mean(d_root[start:end] < 1e-3) > 0.5:
                continue
            sequence += 0.5 * float(np.sum(ratio[start:end, k] < 0.4))

    mass = 0.0
    for start, end in _runs(~contact.any(axis=1)):
        if end - start < 4:
            continue
        path = feet[start:end, 0] - feet[start, 0]
        chord = feet[end - 1, 0] - feet[start, 0]
        cos = path @ chord / (np.linalg.norm(path, axis=-1) * np.linalg.norm(chord) + 1e-9)
        if _count_peaks(np.arccos(np.clip(cos, -1, 1))) > 2:
            mass += end - start
    return (invalid + sequence + mass) / frames


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.r_[False, flags, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2]))


def mbench_metrics(motion: HumanMotion, fps: float | None = None) -> MBenchMetrics:
    """MBench's five motion-quality scores of ``motion`` at ``fps`` (default: its own rate)."""
    if fps is not None:
        motion = motion.resample(fps)
    positions = motion.global_positions[:, _metric_joints(motion)]
    root = motion.global_positions[:, 0]
    feet = motion.joint_positions(["left_toe", "right_toe"])
    local = positions - root[:, None]
    if len(positions) >= 3:
        jitter = sum(
            float(np.linalg.norm(p[2:] - 2 * p[1:-1] + p[:-2], axis=-1).mean()) for p in (positions, local)
        )
    else:
        jitter = 0.0
    dynamic = sum(float(np.linalg.norm(np.diff(p, axis=0), axis=-1).mean()) for p in (positions, local)) if len(positions) > 1 else 0.0
    heights = feet[..., 2].reshape(-1)
    below = heights[heights < -0.005]
    contact = _mbench_contacts(feet)
    step_xy = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1) if len(feet) > 1 else np.zeros((0, 2))
    c = contact[:-1].astype(float)
    sliding = float(np.mean(np.sum(step_xy * c, axis=0) / (np.sum(c, axis=0) + 1e-6)))
    return MBenchMetrics(
        jitter_degree=jitter,
        ground_penetration=float(np.abs(below).mean()) if below.size else 0.0,
        foot_floating=_foot_floating(feet, root, contact),
        foot_sliding=sliding,
        dynamic_degree=dynamic,
        fps=motion.fps,
    )


def foot_skate_metrics(motion: HumanMotion) -> FootSkateMetrics:
    """Kimodo's foot-skate scores (see the module docstring)."""
    feet = motion.joint_positions(FOOT_CONTACT_ROLES)  # L ankle, L toe, R ankle, R toe
    speed = point_speeds(feet, motion.fps)
    toes = [1, 3]
    toe_speed, toe_height = speed[:, toes], feet[:, toes, 2]
    low = toe_height < 0.05
    from_height = float(toe_speed[low].mean()) if low.any() else 0.0
    on_floor = low[1:] & low[:-1]
    forward_speed = np.linalg.norm(np.diff(feet[:, toes], axis=0), axis=-1) * motion.fps
    ratio = float(np.mean(forward_speed[on_floor] > 0.2)) if on_floor.any() else 0.0
    heuristic = contacts_from_positions(feet, motion.fps, filter_frames=1)
    if motion.foot_contacts is not None:
        labelled = motion.foot_contacts
        pred = float(speed[labelled].mean()) if labelled.any() else 0.0
        max_vel = float(speed[labelled].max()) if labelled.any() else 0.0
        consistency = float(np.mean(labelled == heuristic))
    else:
        pred = max_vel = consistency = float("nan")
    return FootSkateMetrics(from_height, pred, max_vel, ratio, consistency)


def summarize(values: Sequence[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation per key over several motions' metric dicts (NaN ignored; all NaN -> NaN)."""
    keys = values[0].keys() if values else []
    out = {}
    for k in keys:
        column = np.array([v[k] for v in values], dtype=float)
        finite = column[~np.isnan(column)]
        out[k] = (float(finite.mean()), float(finite.std())) if finite.size else (float("nan"), float("nan"))
    return out
