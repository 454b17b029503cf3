"""The validator's smoothed derivatives make no fake accelerations at the ends of a clip.

``smoothed_derivatives`` (Savitzky-Golay, ``mode="interp"``) fits its quadratic to the first /
last window instead of padding the signal, so a clip moving at constant velocity (or constant
acceleration) has exact derivatives up to its first and last frame: boundary frames flagged by
``physical_consistency`` are the motion's own accelerations, not an edge artefact.
"""

from __future__ import annotations

import numpy as np
from robomotion.envs.validation.reference import smoothed_derivatives


def test_a_constant_velocity_clip_has_no_acceleration_at_its_ends():
    t = np.arange(150) / 30.0
    position = np.stack([1.2 * t, -0.3 * t, 0.8 + 0.0 * t], axis=-1)
    velocity, acceleration = smoothed_derivatives(position, 30.0, 0.2)
    np.testing.assert_allclose(velocity, np.tile([1.2, -0.3, 0.0], (150, 1)), atol=1e-9)
    np.testing.assert_allclose(acceleration, 0.0, atol=1e-8)


def test_a_constant_acceleration_clip_is_exact_at_its_ends():
    t = np.arange(150) / 30.0
    position = (0.5 * 2.0 * t**2)[:, None]
    velocity, acceleration = smoothed_derivatives(position, 30.0, 0.2)
    np.testing.assert_allclose(velocity[[0, -1], 0], 2.0 * t[[0, -1]], atol=1e-8)
    np.testing.assert_allclose(acceleration[[0, 1, -2, -1], 0], 2.0, atol=1e-8)
