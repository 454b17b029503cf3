"""Foot contacts on the source motion and the foot-lock plan derived from them.

* :func:`detect_foot_contacts`: which of [left ankle, left toe, right ankle, right toe] touch the
  ground, from joint positions alone. Unlike the plain slow-and-low rule of
  :mod:`robomotion.contacts` (height above z = 0), heights are measured above a *local* floor
  (the running minimum of each point over a window), so clips whose floor level drifts or that
  were not put on z = 0 still get their steps detected.
* :func:`contact_segments`: maximal runs of contact frames of one foot.
* :func:`lock_feet`: turns per-frame foot targets into planted targets: inside each contact
  segment the foot is fixed to one pose (mean position, mean heading, flat on the floor); next to
  a segment the swing targets blend back to the source over a few frames, so the foot neither
  slides while planted nor jumps when it lifts off.
* :func:`extend_contacts`: height hysteresis around contacts (touchdown while still moving, toe-off).
* :class:`SwingClearance`: how far a moving sole is kept above the floor.

Units: metres, seconds; z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import label, median_filter, minimum_filter1d, uniform_filter1d

from robomotion.contacts import point_speeds

__all__ = [
    "ContactDetection",
    "FootLock",
    "SwingClearance",
    "contact_segments",
    "detect_foot_contacts",
    "extend_contacts",
    "lock_feet",
    "nearest_true",
]


@dataclass(frozen=True)
class ContactDetection:
    """Thresholds of :func:`detect_foot_contacts` (human scale, before retargeting).

    Attributes:
        speed: max speed of a point in contact, m/s.
        height: max height above the point's local floor, m.
        max_height: max height above the clip's lowest foot point, m (rejects a foot held still
            in the air, e.g. while balancing on the other leg).
        window: seconds over which the local floor (running minimum) is taken.
        filter_frames: odd median-filter width that removes one-frame flicker.
        touch_height: hysteresis (:func:`extend_contacts`): a point less than this above its height
            at the nearest contact of its foot, m, right before or after it, touches the floor
            whatever its speed.
        touch_seconds: the longest such extension on either side of a contact, s.
        touch_distance: ... and only while the point is within this horizontal distance, m, of where
            it is at that contact (a foot that sweeps the floor fast, e.g. a dance move, is not pinned).
    """

    speed: float = 0.4
    height: float = 0.05
    max_height: float = 0.20
    window: float = 2.0
    filter_frames: int = 3
    touch_height: float = 0.02
    touch_seconds: float = 0.15
    touch_distance: float = 0.15


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


def _height_above_local_floor(points: np.ndarray, fps: float, window_seconds: float) -> np.ndarray:
    """(T, K) height of points (T, K, 3) above their local floor (running minimum over the window, smoothed)."""
    height = points[..., 2]
    window = max(1, int(round(window_seconds * fps)))
    local_floor = minimum_filter1d(height, size=window, axis=0, mode="nearest")
    local_floor = uniform_filter1d(local_floor, size=window, axis=0, mode="nearest")
    return height - np.minimum(local_floor, height)


def detect_foot_contacts(points: np.ndarray, fps: float, params: ContactDetection = ContactDetection()) -> np.ndarray:
    """(T, K) contact flags of foot points (T, K, 3) (e.g. heels and toes), metres, z-up."""
    points = np.asarray(points, dtype=np.float64)
    frames = points.shape[0]
    height = points[..., 2]
    global_floor = height.min()
    speed = point_speeds(uniform_filter1d(points, size=3, axis=0, mode="nearest"), fps)
    contact = (
        (_height_above_local_floor(points, fps, params.window) < params.height)
        & (height - global_floor < params.max_height)
        & (speed < params.speed)
    )
    width = params.filter_frames
    if width > 1 and frames >= width:
        contact = median_filter(contact.astype(np.uint8), size=(width, 1), mode="nearest").astype(bool)
    return contact


def extend_contacts(
    contact: np.ndarray, points: np.ndarray, fps: float, params: ContactDetection = ContactDetection()
) -> np.ndarray:
    """Contacts (T, 4) [left heel, left toe, right heel, right toe] grown by height hysteresis.

    Speed-gated labels (a model's or :func:`detect_foot_contacts`) start late when a foot comes down
    still moving (the heel reaches the floor and skates to a stop) and end early when the toe pushes
    off: a walk then shows frames with no foot on the floor. Here a point (``points`` (T, 4, 3),
    metres, z-up) touches the floor in the frames right before or after a contact of *its foot*,
    whatever its speed, while it stays less than ``params.touch_height`` above its own height at the
    nearest contact frame and within ``params.touch_distance`` of its position there (horizontally),
    for at most ``params.touch_seconds`` on either side. (Generated feet plant at slightly different
    heights from step to step, so the contact's own height is the reference, not a floor level.) Low
    frames that are not next to a contact (a swing foot skimming the floor)
    stay swing frames.
    """
    contact = np.asarray(contact, dtype=bool)
    points = np.asarray(points, dtype=np.float64)
    height = points[..., 2]
    out = contact.copy()
    reach = max(0, int(round(params.touch_seconds * fps)))
    for k in range(contact.shape[1]):
        seed = contact[:, k - k % 2] | contact[:, k - k % 2 + 1]
        if not seed.any():
            continue
        nearest, distance = nearest_true(seed)
        shift = np.linalg.norm(points[:, k, :2] - points[nearest, k, :2], axis=-1)
        near = (distance <= reach) & (height[:, k] < height[nearest, k] + params.touch_height)
        near &= shift < params.touch_distance
        runs, _ = label(near | seed)
        out[:, k] |= near & np.isin(runs, np.unique(runs[seed]))
    return out


def nearest_true(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each frame of ``flags`` (T,) (at least one True): the nearest True frame and the distance
    to it, frames."""
    where = np.flatnonzero(flags)
    t = np.arange(len(flags))
    after = where[np.searchsorted(where, t).clip(max=len(where) - 1)]
    before = where[(np.searchsorted(where, t, side="right") - 1).clip(min=0)]
    nearest = np.where(np.abs(after - t) < np.abs(t - before), after, before)
    return nearest, np.abs(nearest - t)


def contact_segments(contact: np.ndarray, min_frames: int = 2) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of ``True`` in a (T,) flag array at least ``min_frames`` long."""
    flags = np.concatenate([[False], np.asarray(contact, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_frames]


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
