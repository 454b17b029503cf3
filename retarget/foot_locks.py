"""The foot-lock plan derived from the source motion's foot contacts.

Contacts themselves are detected in the core layer (:mod:`robomotion.foot_contacts`:
:func:`~robomotion.foot_contacts.detect_foot_contacts`, :func:`~robomotion.foot_contacts.extend_contacts`),
which the generator's post-processing uses too.

* :func:`lock_feet`: turns per-frame foot targets into planted targets: inside each contact
  segment the foot is fixed to one pose (mean position, mean heading, flat on the floor); next to
  a segment the swing targets blend back to the source over a few frames, so the foot neither
  slides while planted nor jumps when it lifts off.
* :class:`SwingClearance`: how far a moving sole is kept above the floor.

Units: metres, seconds; z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robomotion.foot_contacts import contact_segments

__all__ = ["FootLock", "SwingClearance", "lock_feet"]


@dataclass(frozen=True)
class SwingClearance:
    """How far a moving robot sole is kept above the floor (robot scale, after retargeting).

    Every lowest point of a foot's collision geoms must stay ``time * v`` above z = 0, where ``v``
    is that point's horizontal speed (m/s), capped at ``height``: a foot may only touch the floor
    where it hardly moves (a sole skimming the floor at speed is sliding on it). With the defaults
    a point moving at 0.3 m/s keeps 9 mm, one at 1 m/s or faster 3 cm. Planted feet do not move,
    so they stay on the floor.

    Attributes:
        time: clearance per unit of horizontal speed (clearance = time * speed), s.
        height: largest clearance asked for, m.
        smooth_frames: the upward shift is smoothed over this many frames on either side.
        landing_speed: the shift may shrink towards a planted frame at most this fast, m/s (the
            foot comes down onto its plant instead of dropping in one frame).
    """

    time: float = 0.03
    height: float = 0.03
    smooth_frames: int = 2
    landing_speed: float = 0.3


@dataclass(frozen=True, eq=False)
class FootLock:
    """Planted foot targets for one foot.

    Attributes:
        position: (T, 3) foot body origin targets, m.
        yaw: (T,) foot heading targets, rad.
        pitch: (T,) foot pitch targets (0 = flat sole), rad.
        planted: (T,) frames in a contact segment (the foot must not move).
        segments: the contact segments ``[start, end)``.
    """

    position: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    planted: np.ndarray
    segments: list[tuple[int, int]]


def _blend_weights(
    frames: int, segments: list[tuple[int, int]], blend: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every frame: the segment before and after it (-1: none) and the weights of their corrections.

    The correction of a segment is known at its edges. In a gap of at most ``2 * blend`` frames the
    two neighbouring corrections are interpolated linearly; in a longer gap each decays linearly to
    zero over ``blend`` frames. Frames inside a segment get that segment with weight 1.
    """
    t = np.arange(frames)
    starts = np.array([s for s, _ in segments])
    lasts = np.array([e - 1 for _, e in segments])
    before = np.searchsorted(lasts, t, side="right") - 1
    after = np.searchsorted(starts, t, side="left")
    after[after == len(segments)] = -1
    has_b, has_a = before >= 0, after >= 0
    d_b = np.where(has_b, t - lasts[np.maximum(before, 0)], 0).astype(float)
    d_a = np.where(has_a, starts[np.maximum(after, 0)] - t, 0).astype(float)
    blend = max(blend, 1)
    w_before = np.where(has_b, np.clip(1.0 - d_b / blend, 0.0, 1.0), 0.0)
    w_after = np.where(has_a, np.clip(1.0 - d_a / blend, 0.0, 1.0), 0.0)
    short_gap = has_b & has_a & (d_b + d_a <= 2 * blend)
    alpha = d_b / np.maximum(d_b + d_a, 1.0)
    w_before = np.where(short_gap, 1.0 - alpha, w_before)
    w_after = np.where(short_gap, alpha, w_after)
    for k, (start, end) in enumerate(segments):
        before[start:end], after[start:end] = k, -1
        w_before[start:end], w_after[start:end] = 1.0, 0.0
    return before, after, w_before, w_after


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def lock_feet(
    position: np.ndarray,
    yaw: np.ndarray,
    pitch: np.ndarray,
    contact: np.ndarray,
    planted_height: float,
    blend_frames: int,
    min_frames: int = 2,
) -> FootLock:
    """Plant one foot during its contact segments.

    Args:
        position: (T, 3) free (source-following) foot body targets, m.
        yaw: (T,) free foot heading, rad.
        pitch: (T,) free foot pitch relative to a flat sole, rad.
        contact: (T,) source contact flags of this foot.
        planted_height: foot body origin height when the sole lies flat on z = 0, m.
        blend_frames: frames over which targets return to the free ones next to a segment.
        min_frames: shorter contact runs are ignored (treated as swing).
    """
    frames = position.shape[0]
    segments = contact_segments(contact, min_frames)
    planted = np.zeros(frames, dtype=bool)
    if not segments:
        return FootLock(position.copy(), yaw.copy(), pitch.copy(), planted, segments)
    anchors = np.empty((len(segments), 3))
    anchor_yaw = np.empty(len(segments))
    for k, (start, end) in enumerate(segments):
        planted[start:end] = True
        anchors[k, :2] = position[start:end, :2].mean(axis=0)
        anchors[k, 2] = planted_height
        anchor_yaw[k] = np.arctan2(np.sin(yaw[start:end]).mean(), np.cos(yaw[start:end]).mean())
    # Corrections (anchor - free) at each segment's first and last frame, blended into the gaps.
    before, after, w_before, w_after = _blend_weights(frames, segments, blend_frames)
    starts = np.array([s for s, _ in segments])
    ends = np.array([e - 1 for _, e in segments])
    d_pos = np.zeros((frames, 3))
    d_yaw = np.zeros(frames)
    d_pitch = np.zeros(frames)
    for index, edge, w in ((before, ends, w_before), (after, starts, w_after)):
        valid = index >= 0
        k = index[valid]
        d_pos[valid] += w[valid, None] * (anchors[k] - position[edge[k]])
        d_yaw[valid] += w[valid] * _wrap(anchor_yaw[k] - yaw[edge[k]])
        d_pitch[valid] += w[valid] * (0.0 - pitch[edge[k]])
    out_pos = position + d_pos
    out_yaw = yaw + d_yaw
    out_pitch = pitch + d_pitch
    k = before[planted]
    out_pos[planted] = anchors[k]
    out_yaw[planted] = anchor_yaw[k]
    out_pitch[planted] = 0.0
    return FootLock(out_pos, out_yaw, out_pitch, planted, segments)
