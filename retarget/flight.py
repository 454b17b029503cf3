"""Flight phases of a source motion and the vertical correction that keeps them ballistic.

When a human clip is scaled to the robot's leg length, its vertical motion is scaled too, and so is
gravity in a jump. :func:`flight_frames` finds the frames where the hips fall freely with no foot on
the floor; :func:`flight_correction` makes the scaled height fall at ``-g`` there.
Units: metres, seconds; z-up world.
"""

from __future__ import annotations

import numpy as np

from robomotion.foot_contacts import contact_segments

#: Standard gravity, m/s^2.
GRAVITY = 9.81

__all__ = ["GRAVITY", "flight_correction", "flight_frames"]


def flight_frames(height: np.ndarray, in_contact: np.ndarray, fps: float) -> np.ndarray:
    """(T,) frames of the source's flights: no foot in contact *and* the hips falling freely.

    Within each run of frames without contact, the flight is the span from the first to the last
    frame whose hip height (T,), m, accelerates downwards faster than ``g / 2`` (centred second
    differences), if the run's mean acceleration is below ``-g / 2`` too. Frames at the ends of the
    run where the hips still accelerate upwards are the toes pushing off or landing (contact labels
    come from thresholds and miss them): they stay ground frames. Short gaps in the contact labels of
    a walk (both feet briefly unlabelled around heel strike) are not flights: the hips do not fall there.
    """
    contact = np.asarray(in_contact, dtype=bool)
    frames = len(contact)
    flight = np.zeros(frames, dtype=bool)
    if frames < 3:
        return flight
    acceleration = np.zeros(frames)
    acceleration[1:-1] = np.diff(np.asarray(height, dtype=np.float64), n=2) * fps**2
    for start, end in contact_segments(~contact, min_frames=1):
        lo, hi = max(start, 1), min(end, frames - 1)
        if hi <= lo or acceleration[lo:hi].mean() >= -0.5 * GRAVITY:
            continue
        falling = lo + np.flatnonzero(acceleration[lo:hi] < -0.5 * GRAVITY)
        flight[falling[0] : falling[-1] + 1] = True
    return flight


def flight_correction(height: np.ndarray, scale: float, flight: np.ndarray, blend_frames: int) -> np.ndarray:
    """(T,) vertical shift, m, that makes the scaled hip height ``scale * height`` ballistic in flight.

    Scaling the human's hip height (T,) by the leg ratio ``scale`` also scales gravity: in a flight
    (``flight`` (T,), see :func:`flight_frames`) the robot would fall at ``scale * g``. Writing the
    scaled height as ``height + c`` with ``c = (scale - 1) * height``, each flight keeps the human's
    vertical *displacement* unscaled: inside it ``c`` is replaced by the straight line between its
    values at take-off and landing (the frames before and after it). A line adds no acceleration,
    so the flight falls at the human's ``-g``, and the height is continuous with the ground phases.
    The human leaves the ground ``(1 - scale)`` times its take-off speed faster than the scaled
    robot would, so over ``blend_frames`` ground frames before take-off (and after landing) ``c``
    is blended into that line with a smoothstep: the extra push comes from the floor, and the
    height is C1 at take-off and landing. A ground phase between two flights is shared half and
    half; before the first and after the last ground frame the correction is held constant.
    Ground phases away from flights get no shift.
    """
    frames = len(height)
    flight = np.asarray(flight, dtype=bool)
    shift = np.zeros(frames)
    if not flight.any() or flight.all():
        return shift
    c = (scale - 1.0) * np.asarray(height, dtype=np.float64)
    t = np.arange(frames)
    ground_runs = contact_segments(~flight, min_frames=1)
    for start, end in contact_segments(flight, min_frames=1):
        takeoff, landing = start - 1, end
        bounded = takeoff >= 0 and landing < frames
        slope = (c[landing] - c[takeoff]) / (landing - takeoff) if bounded else 0.0
        anchor = takeoff if takeoff >= 0 else landing
        line = c[anchor] + slope * (t - anchor)
        shift[start:end] = line[start:end] - c[start:end]
        for edge, direction in ((takeoff, -1), (landing, 1)):
            if not 0 <= edge < frames:
                continue
            first, last = next((a, b) for a, b in ground_runs if a <= edge < b)
            between_flights = first > 0 and last < frames
            span = min(blend_frames, (last - first) // 2 if between_flights else last - first)
            if span < 1:
                continue
            u = np.arange(span) / span  # 0 at the flight's edge, towards 1 away from it
            index = edge + direction * np.arange(span)
            shift[index] = (1.0 - u * u * (3.0 - 2.0 * u)) * (line[index] - c[index])
    return shift
