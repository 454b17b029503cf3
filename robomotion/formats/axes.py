"""Axis conventions at the file-format edges.

robomotion (and MuJoCo, AMASS after its own turn) is z-up with +x forward and +y left.
Kimodo, SOMA/BONES-SEED BVH and most BVH files are y-up with +z forward and +x left:

* positions: ``p_internal = KIMODO_TO_INTERNAL @ p_kimodo``, i.e. ``(x, y, z)_int = (z, x, y)_k``;
* rotations: ``R_internal = KIMODO_TO_INTERNAL @ R_kimodo @ KIMODO_TO_INTERNAL.T``.

AMASS SMPL-X is z-up with +y forward: ``p_amass = INTERNAL_TO_AMASS @ p_internal``
(a +90 degree turn about z), which is Kimodo's ``Y = [[-1,0,0],[0,0,1],[0,1,0]]`` composed with
the Kimodo↔internal map.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "KIMODO_TO_INTERNAL",
    "INTERNAL_TO_AMASS",
    "KIMODO_TO_AMASS",
    "vectors_to_internal",
    "vectors_to_kimodo",
    "matrices_to_internal",
    "matrices_to_kimodo",
]

#: Kimodo / BVH (x left, y up, z forward) → robomotion (x forward, y left, z up).
KIMODO_TO_INTERNAL = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
#: Kimodo → AMASS world (Kimodo ``exports/smplx``): ``(x, y, z)_amass = (-x_k, z_k, y_k)``.
KIMODO_TO_AMASS = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
#: robomotion → AMASS world (x right, y forward, z up).
INTERNAL_TO_AMASS = KIMODO_TO_AMASS @ KIMODO_TO_INTERNAL.T


#: ``KIMODO_TO_INTERNAL`` is a permutation: internal axis i is Kimodo axis ``_TO_INTERNAL[i]``.
_TO_INTERNAL = np.array([2, 0, 1])
_TO_KIMODO = np.argsort(_TO_INTERNAL)


def vectors_to_internal(v: np.ndarray) -> np.ndarray:
    """Kimodo-axes vectors (..., 3) to robomotion axes (``C v``)."""
    return np.asarray(v, dtype=np.float64)[..., _TO_INTERNAL]


def vectors_to_kimodo(v: np.ndarray) -> np.ndarray:
    """robomotion-axes vectors (..., 3) to Kimodo axes (``C^T v``)."""
    return np.asarray(v, dtype=np.float64)[..., _TO_KIMODO]


def matrices_to_internal(m: np.ndarray) -> np.ndarray:
    """Kimodo-axes rotation matrices (..., 3, 3) to robomotion axes (``C R C^T``)."""
    return np.asarray(m, dtype=np.float64)[..., _TO_INTERNAL[:, None], _TO_INTERNAL[None, :]]


def matrices_to_kimodo(m: np.ndarray) -> np.ndarray:
    """robomotion-axes rotation matrices (..., 3, 3) to Kimodo axes (``C^T R C``)."""
    return np.asarray(m, dtype=np.float64)[..., _TO_KIMODO[:, None], _TO_KIMODO[None, :]]
