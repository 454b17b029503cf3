"""Foot-contact estimation from joint (or body) positions.

The heuristic is Kimodo's: a point is in contact when it is both slow and low, i.e. its speed
is below ``speed_threshold`` (m/s) and its height above the floor (z = 0, z-up) is below
``height_threshold`` (m). A short median filter removes single-frame flicker.

Foot contacts of whole motions (shared by the generator's post-processing and the retargeter):

* :func:`detect_foot_contacts`: which of [left ankle, left toe, right ankle, right toe] touch the
  ground. Unlike the plain slow-and-low rule (height above z = 0), heights are measured above a
  *local* floor (the running minimum of each point over a window), so clips whose floor level
  drifts or that were not put on z = 0 still get their steps detected.
* :func:`extend_contacts`: height hysteresis around contacts (from touchdown while the foot is still
  moving, until toe-off), which speed-gated labels miss.
* :func:`contact_segments`, :func:`nearest_true`: runs of contact frames and the nearest one.

Units: metres, seconds; z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import label, median_filter, minimum_filter1d, uniform_filter1d

DEFAULT_HEIGHT_THRESHOLD = 0.10
DEFAULT_SPEED_THRESHOLD = 0.15


def point_speeds(positions: np.ndarray, fps: float) -> np.ndarray:
    """Speed (m/s) of each point per frame by central differences; positions (T, K, 3)."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.shape[0] < 2:
        return np.zeros(positions.shape[:-1])
    velocity = np.gradient(positions, 1.0 / fps, axis=0)
    return np.linalg.norm(velocity, axis=-1)


def contacts_from_positions(
    positions: np.ndarray,
    fps: float,
    height_threshold: float = DEFAULT_HEIGHT_THRESHOLD,
    speed_threshold: float = DEFAULT_SPEED_THRESHOLD,
    floor_height: float = 0.0,
    filter_frames: int = 3,
) -> np.ndarray:
    """Contact flags (T, K) for points (T, K, 3) in a z-up world.

    Args:
        positions: (T, K, 3) world positions in metres (e.g. ankles and toes).
        fps: frames per second.
        height_threshold: max height above ``floor_height`` to count as contact, metres.
        speed_threshold: max speed to count as contact, m/s.
        floor_height: z of the floor, metres.
        filter_frames: odd median-filter width over time (1 disables it).
    """
    positions = np.asarray(positions, dtype=np.float64)
    low = positions[..., 2] - floor_height < height_threshold
    slow = point_speeds(positions, fps) < speed_threshold
    contact = low & slow
    if filter_frames > 1 and contact.shape[0] >= filter_frames:
        contact = median_filter(contact.astype(np.uint8), size=(filter_frames, 1), mode="nearest").astype(bool)
    return contact


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
