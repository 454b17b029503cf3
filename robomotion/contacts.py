"""Foot-contact estimation from joint (or body) positions.

The heuristic is Kimodo's: a point is in contact when it is both slow and low, i.e. its speed
is below ``speed_threshold`` (m/s) and its height above the floor (z = 0, z-up) is below
``height_threshold`` (m). A short median filter removes single-frame flicker.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

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
