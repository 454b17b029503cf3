"""Batched rotation helpers in robomotion's conventions.

Conventions (everywhere inside robomotion):

* Quaternions are scalar-first ``(w, x, y, z)``, unit norm, shape ``(..., 4)``.
* Rotation matrices act on column vectors: ``v_world = R @ v_local``; shape ``(..., 3, 3)``.
* A global rotation is ``R_parent_global @ R_local``.
* Axis-angle ("rotation vector") is ``axis * angle`` in radians, shape ``(..., 3)``.

All functions accept arbitrary leading batch dimensions and are vectorised with numpy; scipy's
:class:`~scipy.spatial.transform.Rotation` (which is scalar-last) is used for the conversions
it does robustly and wrapped here so that no other module juggles quaternion orders.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    "wxyz_to_xyzw",
    "xyzw_to_wxyz",
    "quat_normalize",
    "quat_conjugate",
    "quat_multiply",
    "quat_apply",
    "quat_to_matrix",
    "matrix_to_quat",
    "quat_from_rotvec",
    "quat_to_rotvec",
    "matrix_to_rotvec",
    "rotvec_to_matrix",
    "quat_angle",
    "quat_slerp",
    "quat_continuous",
    "matrix_to_6d",
    "sixd_to_matrix",
    "quat_from_euler",
    "quat_to_euler",
    "yaw_of_quat",
    "quat_from_yaw",
    "quat_between_vectors",
    "IDENTITY_QUAT",
]

IDENTITY_QUAT = np.array([1.0, 0.0, 0.0, 0.0])


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """Reorder scalar-first quaternions to scalar-last."""
    q = np.asarray(q)
    return q[..., [1, 2, 3, 0]]


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    """Reorder scalar-last quaternions to scalar-first."""
    q = np.asarray(q)
    return q[..., [3, 0, 1, 2]]


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """Return unit quaternions (any sign)."""
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``); broadcasts."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (..., 3) by quaternions ``q`` (..., 4); broadcasts."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) to rotation matrices (..., 3, 3)."""
    q = quat_normalize(q)
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - z * w)
    m[..., 0, 2] = 2 * (x * z + y * w)
    m[..., 1, 0] = 2 * (x * y + z * w)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - x * w)
    m[..., 2, 0] = 2 * (x * z - y * w)
    m[..., 2, 1] = 2 * (y * z + x * w)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def _flat_rotation_call(values: np.ndarray, tail: int, fn):
    values = np.asarray(values, dtype=np.float64)
    lead = values.shape[: values.ndim - tail]
    flat = values.reshape((-1,) + values.shape[values.ndim - tail :])
    out = fn(flat) if flat.shape[0] else np.zeros((0,) + fn(np.zeros((1,) + flat.shape[1:])).shape[1:])
    return out.reshape(lead + out.shape[1:])


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4) with ``w >= 0``.

    The input is projected onto SO(3) first, so slightly non-orthogonal float32 matrices
    (as stored in Kimodo NPZ files) are accepted.
    """

    def convert(flat: np.ndarray) -> np.ndarray:
        q = xyzw_to_wxyz(Rotation.from_matrix(flat).as_quat())
        return q * np.where(q[:, :1] < 0, -1.0, 1.0)

    return _flat_rotation_call(m, 2, convert)


def quat_from_rotvec(rv: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (..., 3), radians, to quaternions (..., 4)."""
    rv = np.asarray(rv, dtype=np.float64)
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half)/angle with a Taylor expansion near zero.
    small = angle < 1e-8
    scale = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([np.cos(half), rv * scale], axis=-1)


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """Quaternions (..., 4) to axis-angle (..., 3) with angle in [0, pi]."""
    q = quat_normalize(q)
    q = q * np.where(q[..., :1] < 0, -1.0, 1.0)
    vec = q[..., 1:]
    sin_half = np.linalg.norm(vec, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, q[..., :1])
    small = sin_half < 1e-8
    scale = np.where(small, 2.0 + angle**2 / 12.0, angle / np.where(small, 1.0, sin_half))
    return vec * scale


def matrix_to_rotvec(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) to axis-angle (..., 3)."""
    return quat_to_rotvec(matrix_to_quat(m))


def rotvec_to_matrix(rv: np.ndarray) -> np.ndarray:
    """Axis-angle (..., 3) to rotation matrices (..., 3, 3)."""
    return quat_to_matrix(quat_from_rotvec(rv))


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle (radians, in [0, pi]) between unit quaternions ``a`` and ``b``."""
    dot = np.abs(np.sum(quat_normalize(a) * quat_normalize(b), axis=-1))
    return 2.0 * np.arccos(np.clip(dot, -1.0, 1.0))


def quat_slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical linear interpolation from ``q0`` (t=0) to ``q1`` (t=1) along the short arc.

    ``t`` broadcasts against the leading dimensions of the quaternions (pass ``t[..., None]``
    shapes are handled internally).
    """
    q0 = quat_normalize(q0)
    q1 = quat_normalize(q1)
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(near, t, np.sin(t * theta) / safe)
    return quat_normalize(w0 * q0 + w1 * q1)


def quat_continuous(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along ``axis`` (time) so consecutive quaternions lie on the same hemisphere."""
    q = np.array(q, dtype=np.float64, copy=True)
    q = np.moveaxis(q, axis, 0)
    for t in range(1, q.shape[0]):
        flip = np.sum(q[t] * q[t - 1], axis=-1, keepdims=True) < 0
        q[t] = np.where(flip, -q[t], q[t])
    return np.moveaxis(q, 0, axis)


def matrix_to_6d(m: np.ndarray) -> np.ndarray:
    """First two columns of the rotation matrix, concatenated ``[c0, c1]`` (..., 6)."""
    m = np.asarray(m)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def sixd_to_matrix(d6: np.ndarray) -> np.ndarray:
    """Gram-Schmidt decode of the 6-D representation back to rotation matrices (..., 3, 3)."""
    d6 = np.asarray(d6, dtype=np.float64)
    a, b = d6[..., :3], d6[..., 3:]
    x = a / np.linalg.norm(a, axis=-1, keepdims=True)
    z = np.cross(x, b)
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def quat_from_euler(angles: np.ndarray, order: str, degrees: bool = False) -> np.ndarray:
    """Euler angles to quaternions (wxyz). ``order`` follows scipy: upper case = intrinsic."""

    def convert(flat: np.ndarray) -> np.ndarray:
        return xyzw_to_wxyz(Rotation.from_euler(order, flat, degrees=degrees).as_quat())

    return _flat_rotation_call(angles, 1, convert)


def quat_to_euler(q: np.ndarray, order: str, degrees: bool = False) -> np.ndarray:
    """Quaternions (wxyz) to Euler angles; ``order`` follows scipy (upper case = intrinsic)."""

    def convert(flat: np.ndarray) -> np.ndarray:
        return Rotation.from_quat(wxyz_to_xyzw(flat)).as_euler(order, degrees=degrees)

    return _flat_rotation_call(q, 1, convert)


def yaw_of_quat(q: np.ndarray) -> np.ndarray:
    """Heading angle (radians) about +z of the body x-axis of ``q`` (z-up world)."""
    x_axis = quat_apply(q, np.array([1.0, 0.0, 0.0]))
    return np.arctan2(x_axis[..., 1], x_axis[..., 0])


def quat_from_yaw(yaw: np.ndarray) -> np.ndarray:
    """Quaternions for rotations by ``yaw`` radians about +z."""
    yaw = np.asarray(yaw, dtype=np.float64)
    zeros = np.zeros_like(yaw)
    return np.stack([np.cos(yaw / 2), zeros, zeros, np.sin(yaw / 2)], axis=-1)


def quat_between_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest-arc unit quaternions rotating directions ``a`` onto ``b`` (..., 3); broadcasts.

    Vectors need not be unit length. Opposite vectors get a half turn about an axis
    perpendicular to ``a``; a zero-length input gives the identity.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)
    a_len = np.linalg.norm(a, axis=-1, keepdims=True)
    b_len = np.linalg.norm(b, axis=-1, keepdims=True)
    degenerate = (a_len[..., 0] < 1e-12) | (b_len[..., 0] < 1e-12)
    a = a / np.where(a_len < 1e-12, 1.0, a_len)
    b = b / np.where(b_len < 1e-12, 1.0, b_len)
    dot = np.sum(a * b, axis=-1)
    q = np.concatenate([1.0 + dot[..., None], np.cross(a, b)], axis=-1)
    opposite = (dot < -1.0 + 1e-9) & ~degenerate
    if np.any(opposite):
        helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        axis = np.cross(a, helper)
        q[opposite] = np.concatenate([np.zeros(axis.shape[:-1] + (1,)), axis], axis=-1)[opposite]
    q[degenerate] = IDENTITY_QUAT
    return quat_normalize(q)
