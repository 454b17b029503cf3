"""Collision geometry of the robot for the retargeting solver: floor clearance and self-collision.

The geoms, their pairs and the pair filter are read from the compiled :class:`mujoco.MjModel`, so
the solver avoids exactly the contacts MuJoCo would report: a pair is checked when the two geoms'
``contype``/``conaffinity`` bits match, they sit on different bodies, the bodies are not parent and
child (MuJoCo's ``filterparent``), and the body pair is not in the model's ``<contact><exclude>``
list. Capsules and spheres are exact (a sphere is a capsule of zero length); any other geom type
is approximated by its bounding sphere (``geom_rbound``).

Distances between capsules come from the closest points of their core segments
(:func:`segment_closest_points`, compiled with numba for the solver's per-frame kernels), with the
witness points needed for Jacobians.

Units: metres; z-up world; the floor is the plane z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from numba import njit

from robomotion.rotations import quat_to_matrix

__all__ = ["CapsuleSet", "closest_points_between_segments", "segment_closest_points", "self_collision_pairs"]


@dataclass(frozen=True, eq=False)
class CapsuleSet:
    """The robot's collision geoms as capsules in their bodies' frames.

    Attributes:
        names: geom names.
        body: (G,) MuJoCo body id of each geom.
        local_a: (G, 3) first end of the core segment in the body frame, m.
        local_b: (G, 3) second end (equal to ``local_a`` for spheres), m.
        radius: (G,) capsule radius, m.
        bound: (G,) radius of a sphere around the segment midpoint that contains the capsule, m.
    """

    names: tuple[str, ...]
    body: np.ndarray
    local_a: np.ndarray
    local_b: np.ndarray
    radius: np.ndarray
    bound: np.ndarray

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> CapsuleSet:
        """All colliding geoms (``contype`` or ``conaffinity`` non-zero) not attached to the world."""
        names, body, local_a, local_b, radius = [], [], [], [], []
        for g in range(model.ngeom):
            if model.geom_bodyid[g] == 0 or (model.geom_contype[g] == 0 and model.geom_conaffinity[g] == 0):
                continue
            center = model.geom_pos[g]
            if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE:
                half = quat_to_matrix(model.geom_quat[g]) @ np.array([0.0, 0.0, model.geom_size[g, 1]])
                ends, r = (center - half, center + half), model.geom_size[g, 0]
            elif model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
                ends, r = (center, center), model.geom_size[g, 0]
            else:
                ends, r = (center, center), model.geom_rbound[g]
            names.append(model.geom(g).name)
            body.append(int(model.geom_bodyid[g]))
            local_a.append(ends[0])
            local_b.append(ends[1])
            radius.append(float(r))
        local_a, local_b, radius = np.array(local_a), np.array(local_b), np.array(radius)
        bound = radius + 0.5 * np.linalg.norm(local_b - local_a, axis=1)
        return cls(tuple(names), np.array(body), local_a, local_b, radius, bound)

    def indices_on_bodies(self, bodies: np.ndarray) -> np.ndarray:
        """Indices of the capsules attached to any of ``bodies``."""
        return np.flatnonzero(np.isin(self.body, bodies))

    def lowest_local_z(self, index: np.ndarray) -> float:
        """Lowest point (body-frame z, m) of the given capsules when their body frame is level."""
        return float(np.min(np.minimum(self.local_a[index, 2], self.local_b[index, 2]) - self.radius[index]))


def self_collision_pairs(model: mujoco.MjModel, capsules: CapsuleSet) -> np.ndarray:
    """(P, 2) indices into ``capsules`` of the geom pairs MuJoCo checks for self-contacts."""
    geom_of = {model.geom(n).id: i for i, n in enumerate(capsules.names)}
    contype = np.array([model.geom_contype[g] for g in geom_of])
    conaffinity = np.array([model.geom_conaffinity[g] for g in geom_of])
    excluded = {int(s) for s in model.exclude_signature}
    filter_parent = not (model.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_FILTERPARENT)
    pairs = []
    count = len(capsules.names)
    for i in range(count):
        for j in range(i + 1, count):
            b1, b2 = int(capsules.body[i]), int(capsules.body[j])
            if b1 == b2 or not ((contype[i] & conaffinity[j]) or (contype[j] & conaffinity[i])):
                continue
            if filter_parent and (model.body_parentid[b1] == b2 or model.body_parentid[b2] == b1):
                continue
            if (min(b1, b2) << 16) + max(b1, b2) in excluded:
                continue
            pairs.append((i, j))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


@njit(cache=True)
def segment_closest_points(a1: np.ndarray, b1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> tuple[float, float]:
    """Parameters ``(s, t)`` in [0, 1] of the closest points ``a1 + s (b1 - a1)``, ``a2 + t (b2 - a2)``.

    Compiled (numba) scalar version for the solver's per-frame kernels; degenerate (point) segments
    are handled, and for parallel segments one of the closest pairs is returned.
    """
    eps = 1e-12
    a = b = c = e = f = 0.0
    for k in range(3):
        d1, d2, r = b1[k] - a1[k], b2[k] - a2[k], a1[k] - a2[k]
        a += d1 * d1
        e += d2 * d2
        f += d2 * r
        c += d1 * r
        b += d1 * d2
    if a <= eps and e <= eps:
        return 0.0, 0.0
    if a <= eps:
        return 0.0, min(max(f / e, 0.0), 1.0)
    if e <= eps:
        return min(max(-c / a, 0.0), 1.0), 0.0
    denom = a * e - b * b
    s = min(max((b * f - c * e) / denom, 0.0), 1.0) if denom > eps else 0.0
    t = (b * s + f) / e
    if t < 0.0:
        return min(max(-c / a, 0.0), 1.0), 0.0
    if t > 1.0:
        return min(max((b - c) / a, 0.0), 1.0), 1.0
    return s, t


@njit(cache=True)
def _closest_points_flat(a1, b1, a2, b2, p1, p2):
    for m in range(a1.shape[0]):
        s, t = segment_closest_points(a1[m], b1[m], a2[m], b2[m])
        for k in range(3):
            p1[m, k] = a1[m, k] + s * (b1[m, k] - a1[m, k])
            p2[m, k] = a2[m, k] + t * (b2[m, k] - a2[m, k])


def closest_points_between_segments(
    a1: np.ndarray, b1: np.ndarray, a2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Closest points ``(p1, p2)`` (..., 3) between segments ``[a1, b1]`` and ``[a2, b2]`` (..., 3).

    Degenerate (point) segments are handled; for parallel segments one of the closest pairs is returned.
    """
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (a1, b1, a2, b2)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(x.reshape(-1, 3)) for x in arrays]
    p1, p2 = np.empty_like(flat[0]), np.empty_like(flat[0])
    _closest_points_flat(*flat, p1, p2)
    return p1.reshape(shape), p2.reshape(shape)
