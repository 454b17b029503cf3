"""Compiled (numba) per-frame kernels of the whole-clip solver: kinematics, residuals, normal equations.

One pass over the frames of a clip computes, per frame: the forward kinematics of the floating-base
tree (the same recursion as :class:`~robomotion.retarget.fk.TreeKinematics`, from the same
``MjModel`` tables), every weighted residual of the retargeting cost, and, when asked, their
Jacobian rows folded straight into that frame's block of the Gauss-Newton normal equations
(``J^T J`` written into the band matrix, ``J^T r`` into the gradient). Rows are sparse (a point
moves with the root and the hinges above its body only), so each is accumulated over its own
columns. Nothing is allocated per row or per frame.

Residuals (see :mod:`~robomotion.retarget.solver` for their meaning and weights):

* root position; frame and foot orientations (world-frame rotation vector of ``R R_target^T``,
  Jacobian through the inverse left Jacobian of SO(3)); bone vectors; foot positions; posture;
* floor: the lowest point of every collision capsule below the margin (active rows), or within a
  watch distance above it if it is its body's lowest capsule (watched rows);
* self-collision: capsule pairs closer than the margin (active) or within the watch distance.

Watched rows (inactive, close to their margin) go into the normal equations without a gradient
(they stiffen the model) and are returned as sparse rows for the solver's step limiter.

Solver coordinates per frame (``nv = 6 + N``): root translation, world-frame root rotation
increment, hinge angles. Held coordinates (``KernelTargets.col_map``) are not unknowns: they
move the kinematics but get no column in the normal equations, which hold ``num_free`` unknowns
per frame. Units: metres, radians; z-up world; the floor is z = 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from robomotion.retarget.collision import CapsuleSet, segment_closest_points
from robomotion.retarget.fk import TreeKinematics

__all__ = [
    "KernelModel",
    "KernelTargets",
    "WatchRows",
    "clip_clearances",
    "clip_terms",
    "forward_frame",
    "frame_lowest",
    "relative_rotation_log",
    "rotation_steps",
]


class KernelModel(NamedTuple):
    """The robot as arrays for the kernels (built once per robot by :func:`build_model`).

    Attributes:
        parent: (nbody,) parent body ids (MuJoCo order: parents come first).
        root_body: the floating-base body.
        body_offset, body_rot: (nbody, 3), (nbody, 3, 3) body frames in their parents.
        body_hinge: (nbody,) the hinge on each body, -1 for none.
        hinge_axis, hinge_pos: (N, 3) hinge axes and anchors in their bodies' frames.
        hinge_qpos0: (N,) hinge reference angles, rad.
        body_cols: (nbody, C) solver columns that move each body (root's 6, then its ancestor
            hinges, ascending), padded; ``body_ncols`` (nbody,) how many.
        body_hinges: (nbody, A) ancestor hinges of each body, padded; ``body_nhinges`` (nbody,).
        cap_body: (G,) body of each collision capsule; ``cap_a``/``cap_b`` (G, 3) segment ends in the
            body frame; ``cap_radius``/``cap_bound`` (G,) radius and bounding-sphere radius.
        cap_body_lowest: (G,) the first capsule of the same body (capsules of a body are contiguous);
            ``cap_body_count`` (G,) how many capsules that body has.
        pairs: (P, 2) capsule pairs MuJoCo would check.
        pair_hinges, pair_signs: (P, R) hinges moving exactly one capsule of each pair (+1: the
            first, -1: the second), padded; ``pair_nhinges`` (P,).
    """

    parent: np.ndarray
    root_body: int
    body_offset: np.ndarray
    body_rot: np.ndarray
    body_hinge: np.ndarray
    hinge_axis: np.ndarray
    hinge_pos: np.ndarray
    hinge_qpos0: np.ndarray
    body_cols: np.ndarray
    body_ncols: np.ndarray
    body_hinges: np.ndarray
    body_nhinges: np.ndarray
    cap_body: np.ndarray
    cap_a: np.ndarray
    cap_b: np.ndarray
    cap_radius: np.ndarray
    cap_bound: np.ndarray
    cap_body_lowest: np.ndarray
    cap_body_count: np.ndarray
    pairs: np.ndarray
    pair_hinges: np.ndarray
    pair_signs: np.ndarray
    pair_nhinges: np.ndarray


class KernelTargets(NamedTuple):
    """One solver phase's targets and weights as arrays (T frames; weights multiply residuals).

    Attributes:
        root_pos: (T, 3) root position targets; ``root_weight`` its weight.
        orient_bodies: (F,) bodies with orientation targets; ``orient_rot`` (T, F, 3, 3) the targets;
            ``orient_weight`` (T, F).
        limb_child, limb_parent: (S,) bone end bodies; ``limb_vec`` (T, S, 3) target bone vectors;
            ``limb_weight`` (S,); ``limb_cols`` (S, C2) union of both ends' columns, ``limb_ncols`` (S,).
        foot_bodies: (2,) foot bodies; ``foot_pos`` (T, 2, 3) their targets; ``foot_weight`` (T, 2).
        home: (N,) posture angles; ``posture2`` (N,) squared posture weights.
        floor_weight, floor_watch: floor penalty weight and watch band; ``floor_margin`` (T, G) lowest
            allowed height of each capsule in each frame.
        collision_weight, collision_margin, collision_watch: likewise for capsule pairs.
        pair_active: (P,) pairs checked in this phase.
        watch_stiffen: inactive rows within their watch band are folded into the band matrix too.
        col_map: (nv,) the unknown (column of the band matrix within a frame) of each solver
            coordinate, -1 for a held one (not solved for: no rows, no gradient); ``num_free``
            unknowns per frame.
    """

    root_pos: np.ndarray
    root_weight: float
    orient_bodies: np.ndarray
    orient_rot: np.ndarray
    orient_weight: np.ndarray
    limb_child: np.ndarray
    limb_parent: np.ndarray
    limb_vec: np.ndarray
    limb_weight: np.ndarray
    limb_cols: np.ndarray
    limb_ncols: np.ndarray
    foot_bodies: np.ndarray
    foot_pos: np.ndarray
    foot_weight: np.ndarray
    home: np.ndarray
    posture2: np.ndarray
    floor_weight: float
    floor_margin: np.ndarray
    floor_watch: float
    collision_weight: float
    collision_margin: float
    collision_watch: float
    pair_active: np.ndarray
    watch_stiffen: bool
    col_map: np.ndarray
    num_free: int


class WatchRows(NamedTuple):
    """Watched (inactive) penalty rows: frame, weighted residual (>= 0) and sparse Jacobian row."""

    frames: np.ndarray
    residual: np.ndarray
    cols: np.ndarray
    vals: np.ndarray


def build_model(kinematics: TreeKinematics, capsules: CapsuleSet, pairs: np.ndarray) -> KernelModel:
    """Kernel arrays of a robot: its kinematic tree, collision capsules and self-collision pairs."""
    nbody, hinges = kinematics.nbody, kinematics.num_hinges
    body_hinge = np.full(nbody, -1, dtype=np.int64)
    body_hinge[kinematics.hinge_body] = np.arange(hinges)
    moves = np.zeros((nbody, hinges), dtype=bool)  # hinge j moves body b
    for b in range(1, nbody):
        moves[b] = moves[kinematics.parent[b]]
        if body_hinge[b] >= 0:
            moves[b, body_hinge[b]] = True
    width = max(1, int(moves.sum(axis=1).max()))
    body_hinges = np.zeros((nbody, width), dtype=np.int64)
    body_cols = np.zeros((nbody, 6 + width), dtype=np.int64)
    for b in range(nbody):
        ancestors = np.flatnonzero(moves[b])
        body_hinges[b, : len(ancestors)] = ancestors
        body_cols[b, : 6 + len(ancestors)] = np.r_[np.arange(6), 6 + ancestors]
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    only_a = moves[capsules.body[pairs[:, 0]]] & ~moves[capsules.body[pairs[:, 1]]]
    only_b = moves[capsules.body[pairs[:, 1]]] & ~moves[capsules.body[pairs[:, 0]]]
    pair_width = max(1, int((only_a | only_b).sum(axis=1).max(initial=0)))
    pair_hinges = np.zeros((len(pairs), pair_width), dtype=np.int64)
    pair_signs = np.zeros((len(pairs), pair_width))
    pair_nhinges = np.zeros(len(pairs), dtype=np.int64)
    for p in range(len(pairs)):
        relative = np.flatnonzero(only_a[p] | only_b[p])
        pair_hinges[p, : len(relative)] = relative
        pair_signs[p, : len(relative)] = np.where(only_a[p, relative], 1.0, -1.0)
        pair_nhinges[p] = len(relative)
    if np.any(np.diff(capsules.body) < 0):
        raise ValueError("collision capsules must be grouped by body")
    first = np.searchsorted(capsules.body, capsules.body, side="left")
    count = np.searchsorted(capsules.body, capsules.body, side="right") - first
    return KernelModel(
        parent=kinematics.parent.astype(np.int64),
        root_body=int(kinematics.root_body),
        body_offset=np.ascontiguousarray(kinematics.body_offset, dtype=np.float64),
        body_rot=np.ascontiguousarray(kinematics.body_rot, dtype=np.float64),
        body_hinge=body_hinge,
        hinge_axis=np.ascontiguousarray(kinematics.hinge_axis, dtype=np.float64),
        hinge_pos=np.ascontiguousarray(kinematics.hinge_pos, dtype=np.float64),
        hinge_qpos0=np.ascontiguousarray(kinematics.hinge_qpos0, dtype=np.float64),
        body_cols=body_cols,
        body_ncols=6 + moves.sum(axis=1).astype(np.int64),
        body_hinges=body_hinges,
        body_nhinges=moves.sum(axis=1).astype(np.int64),
        cap_body=capsules.body.astype(np.int64),
        cap_a=np.ascontiguousarray(capsules.local_a, dtype=np.float64),
        cap_b=np.ascontiguousarray(capsules.local_b, dtype=np.float64),
        cap_radius=np.ascontiguousarray(capsules.radius, dtype=np.float64),
        cap_bound=np.ascontiguousarray(capsules.bound, dtype=np.float64),
        cap_body_lowest=first.astype(np.int64),
        cap_body_count=count.astype(np.int64),
        pairs=pairs,
        pair_hinges=pair_hinges,
        pair_signs=pair_signs,
        pair_nhinges=pair_nhinges,
    )


def limb_columns(model: KernelModel, child: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, C2) union of the columns moving either end of each bone (ascending, padded) and their counts."""
    unions = [
        np.union1d(model.body_cols[c, : model.body_ncols[c]], model.body_cols[p, : model.body_ncols[p]])
        for c, p in zip(child, parent)
    ]
    width = max((len(u) for u in unions), default=1)
    cols = np.zeros((len(unions), width), dtype=np.int64)
    for s, union in enumerate(unions):
        cols[s, : len(union)] = union
    return cols, np.array([len(u) for u in unions], dtype=np.int64)


# ---------------------------------------------------------------------------------------- geometry
@njit(cache=True)
def forward_frame(model, root_pos, root_rot, joints, pos, rot, axis, anchor):
    """Forward kinematics of one frame into ``pos`` (nbody, 3), ``rot`` (nbody, 3, 3) and the world
    hinge ``axis``/``anchor`` (N, 3). Same recursion as ``TreeKinematics.forward`` (MuJoCo's)."""
    nbody = model.parent.shape[0]
    local = np.empty((3, 3))
    hinge = np.empty((3, 3))
    offset = np.empty(3)
    for b in range(nbody):
        if b == 0 or b == model.root_body:
            for i in range(3):
                pos[b, i] = 0.0 if b == 0 else root_pos[i]
                for j in range(3):
                    rot[b, i, j] = (1.0 if i == j else 0.0) if b == 0 else root_rot[i, j]
            continue
        h = model.body_hinge[b]
        br = model.body_rot[b]
        if h >= 0:
            # body_rot @ (I + sin K + (1 - cos) K^2), K = [axis]x (Rodrigues)
            u = model.hinge_axis[h]
            angle = joints[h] - model.hinge_qpos0[h]
            s, c1 = np.sin(angle), 1.0 - np.cos(angle)
            hinge[0, 0] = 1.0 - c1 * (u[1] * u[1] + u[2] * u[2])
            hinge[1, 1] = 1.0 - c1 * (u[0] * u[0] + u[2] * u[2])
            hinge[2, 2] = 1.0 - c1 * (u[0] * u[0] + u[1] * u[1])
            hinge[0, 1] = -s * u[2] + c1 * u[0] * u[1]
            hinge[1, 0] = s * u[2] + c1 * u[0] * u[1]
            hinge[0, 2] = s * u[1] + c1 * u[0] * u[2]
            hinge[2, 0] = -s * u[1] + c1 * u[0] * u[2]
            hinge[1, 2] = -s * u[0] + c1 * u[1] * u[2]
            hinge[2, 1] = s * u[0] + c1 * u[1] * u[2]
            for i in range(3):
                for j in range(3):
                    local[i, j] = br[i, 0] * hinge[0, j] + br[i, 1] * hinge[1, j] + br[i, 2] * hinge[2, j]
            # The hinge anchor stays fixed: offset = body_pos + body_rot jpos - local jpos.
            jp = model.hinge_pos[h]
            for i in range(3):
                offset[i] = model.body_offset[b, i]
                for j in range(3):
                    offset[i] += (br[i, j] - local[i, j]) * jp[j]
        else:
            for i in range(3):
                offset[i] = model.body_offset[b, i]
                for j in range(3):
                    local[i, j] = br[i, j]
        p = model.parent[b]
        pr = rot[p]
        for i in range(3):
            pos[b, i] = pos[p, i] + pr[i, 0] * offset[0] + pr[i, 1] * offset[1] + pr[i, 2] * offset[2]
            for j in range(3):
                rot[b, i, j] = pr[i, 0] * local[0, j] + pr[i, 1] * local[1, j] + pr[i, 2] * local[2, j]
    for b in range(nbody):
        h = model.body_hinge[b]
        if h < 0:
            continue
        r = rot[b]
        u, jp = model.hinge_axis[h], model.hinge_pos[h]
        for i in range(3):
            axis[h, i] = r[i, 0] * u[0] + r[i, 1] * u[1] + r[i, 2] * u[2]
            anchor[h, i] = pos[b, i] + r[i, 0] * jp[0] + r[i, 1] * jp[1] + r[i, 2] * jp[2]


@njit(cache=True)
def relative_rotation_log(a, b, out):
    """Rotation vector of ``a b^T`` (rotations (3, 3)) into ``out`` (3,), angle in [0, pi] (via a unit quaternion)."""
    m00 = a[0, 0] * b[0, 0] + a[0, 1] * b[0, 1] + a[0, 2] * b[0, 2]
    m01 = a[0, 0] * b[1, 0] + a[0, 1] * b[1, 1] + a[0, 2] * b[1, 2]
    m02 = a[0, 0] * b[2, 0] + a[0, 1] * b[2, 1] + a[0, 2] * b[2, 2]
    m10 = a[1, 0] * b[0, 0] + a[1, 1] * b[0, 1] + a[1, 2] * b[0, 2]
    m11 = a[1, 0] * b[1, 0] + a[1, 1] * b[1, 1] + a[1, 2] * b[1, 2]
    m12 = a[1, 0] * b[2, 0] + a[1, 1] * b[2, 1] + a[1, 2] * b[2, 2]
    m20 = a[2, 0] * b[0, 0] + a[2, 1] * b[0, 1] + a[2, 2] * b[0, 2]
    m21 = a[2, 0] * b[1, 0] + a[2, 1] * b[1, 1] + a[2, 2] * b[1, 2]
    m22 = a[2, 0] * b[2, 0] + a[2, 1] * b[2, 1] + a[2, 2] * b[2, 2]
    trace = m00 + m11 + m22
    if trace > 0.0:
        s = 2.0 * np.sqrt(trace + 1.0)
        w, x, y, z = 0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s
    elif m00 > m11 and m00 > m22:
        s = 2.0 * np.sqrt(1.0 + m00 - m11 - m22)
        w, x, y, z = (m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s
    elif m11 > m22:
        s = 2.0 * np.sqrt(1.0 + m11 - m00 - m22)
        w, x, y, z = (m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s
    else:
        s = 2.0 * np.sqrt(1.0 + m22 - m00 - m11)
        w, x, y, z = (m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s
    if w < 0.0:
        w, x, y, z = -w, -x, -y, -z
    sin_half = np.sqrt(x * x + y * y + z * z)
    norm = np.sqrt(w * w + sin_half * sin_half)
    scale = 2.0 / norm if sin_half < 1e-8 * norm else 2.0 * np.arctan2(sin_half, w) / sin_half
    out[0], out[1], out[2] = x * scale, y * scale, z * scale


@njit(cache=True)
def rotation_steps(rot):
    """(T-1, 3) rotation vectors of ``rot[t + 1] rot[t]^T`` for rotations (T, 3, 3) (world frame)."""
    frames = rot.shape[0]
    out = np.zeros((max(frames - 1, 0), 3))
    for t in range(frames - 1):
        relative_rotation_log(rot[t + 1], rot[t], out[t])
    return out


@njit(cache=True)
def _left_jacobian_inverse(phi, out):
    """Inverse left Jacobian of SO(3) at ``phi`` (3,) into ``out`` (3, 3): d log(exp(d) exp(phi)) / d d.

    ``I - [phi]x / 2 + c [phi]x^2`` with ``c = 1/theta^2 - (1 + cos theta) / (2 theta sin theta)``.
    """
    x, y, z = phi[0], phi[1], phi[2]
    theta = np.sqrt(x * x + y * y + z * z)
    coef = 1.0 / 12.0 if theta < 1e-4 else 1.0 / theta**2 - (1.0 + np.cos(theta)) / (2.0 * theta * np.sin(theta))
    # [phi]x^2 = phi phi^T - theta^2 I
    out[0, 0] = 1.0 + coef * (x * x - theta * theta)
    out[1, 1] = 1.0 + coef * (y * y - theta * theta)
    out[2, 2] = 1.0 + coef * (z * z - theta * theta)
    out[0, 1] = 0.5 * z + coef * x * y
    out[1, 0] = -0.5 * z + coef * x * y
    out[0, 2] = -0.5 * y + coef * x * z
    out[2, 0] = 0.5 * y + coef * x * z
    out[1, 2] = 0.5 * x + coef * y * z
    out[2, 1] = -0.5 * x + coef * y * z


# ---------------------------------------------------------------------------------- accumulation
@njit(cache=True)
def _accumulate(band, gradient, base, jac, res, rows, cols, ncols, with_gradient, col_map):
    """Add ``J^T J`` (lower band form) and ``J^T r`` of ``rows`` dense rows of ``jac`` over ``cols``
    (solver coordinates; ``col_map`` gives their unknowns, held coordinates (-1) are skipped)."""
    for a in range(ncols):
        ca = col_map[cols[a]]
        if ca < 0:
            continue
        if with_gradient:
            acc = 0.0
            for k in range(rows):
                acc += jac[k, cols[a]] * res[k]
            gradient[base + ca] += acc
        for b in range(a + 1):
            cb = col_map[cols[b]]
            if cb < 0:
                continue
            acc = 0.0
            for k in range(rows):
                acc += jac[k, cols[a]] * jac[k, cols[b]]
            band[ca - cb, base + cb] += acc


@njit(cache=True)
def _point_rows(model, body, point, root, axis, anchor, sign, jac):
    """Add ``sign`` times the (3, nv) Jacobian of a point fixed to ``body`` into ``jac``."""
    jac[0, 0] += sign
    jac[1, 1] += sign
    jac[2, 2] += sign
    lx, ly, lz = point[0] - root[0], point[1] - root[1], point[2] - root[2]
    # d(theta x lever) / d theta = -[lever]x
    jac[0, 4] += sign * lz
    jac[0, 5] -= sign * ly
    jac[1, 3] -= sign * lz
    jac[1, 5] += sign * lx
    jac[2, 3] += sign * ly
    jac[2, 4] -= sign * lx
    for i in range(model.body_nhinges[body]):
        h = model.body_hinges[body, i]
        u, a = axis[h], anchor[h]
        ax, ay, az = point[0] - a[0], point[1] - a[1], point[2] - a[2]
        col = 6 + h
        jac[0, col] += sign * (u[1] * az - u[2] * ay)
        jac[1, col] += sign * (u[2] * ax - u[0] * az)
        jac[2, col] += sign * (u[0] * ay - u[1] * ax)


@njit(cache=True)
def _clear(jac, cols, ncols):
    for a in range(ncols):
        for k in range(jac.shape[0]):
            jac[k, cols[a]] = 0.0


# ---------------------------------------------------------------------------------------- frames
@njit(cache=True)
def _capsule_ends(model, pos, rot, ends_a, ends_b):
    """World segment ends (G, 3) of every capsule."""
    for g in range(model.cap_body.shape[0]):
        b = model.cap_body[g]
        la, lb = model.cap_a[g], model.cap_b[g]
        for i in range(3):
            ends_a[g, i] = pos[b, i] + rot[b, i, 0] * la[0] + rot[b, i, 1] * la[1] + rot[b, i, 2] * la[2]
            ends_b[g, i] = pos[b, i] + rot[b, i, 0] * lb[0] + rot[b, i, 1] * lb[1] + rot[b, i, 2] * lb[2]


@njit(cache=True)
def _penalty_row(out, t, base, jac, cols, n, r, active, watch, stiffen, col_map):
    """Fold one penalty row (Jacobian in ``jac[0]``, weighted residual ``r``) into the normal
    equations; an inactive (watched) row is also stored in ``watch``."""
    band, gradient = out
    value = np.empty(1)
    value[0] = r
    if active or stiffen:
        _accumulate(band, gradient, base, jac, value, 1, cols, n, active, col_map)
    if not active:
        frames, residual, watch_cols, watch_vals, count = watch
        index = count[0]
        if index < frames.shape[0]:
            frames[index] = t
            residual[index] = r
            for a in range(watch_cols.shape[1]):
                watch_cols[index, a] = cols[a] if a < n else jac.shape[1] - 1
                watch_vals[index, a] = jac[0, cols[a]] if a < n else 0.0
        count[0] = index + 1
    _clear(jac, cols, n)


@njit(cache=True)
def _floor_terms(model, targets, t, want, out, watch, geo, jac):
    """Floor rows of frame ``t`` (active: under the margin; watched: a body's lowest capsule within
    the watch band). Returns their cost."""
    pos, rot, axis, anchor, ends_a, ends_b = geo
    root = pos[model.root_body]
    ncap = model.cap_body.shape[0]
    heights = np.empty(ncap)
    for g in range(ncap):
        heights[g] = min(ends_a[g, 2], ends_b[g, 2]) - model.cap_radius[g] - targets.floor_margin[t, g]
    w = targets.floor_weight
    cost = 0.0
    for g in range(ncap):
        height = heights[g]
        active = height < 0.0
        if not active:
            if height >= targets.floor_watch:
                continue
            first = model.cap_body_lowest[g]
            lower_sibling = False
            for o in range(first, first + model.cap_body_count[g]):
                lower_sibling = lower_sibling or heights[o] < height
            if lower_sibling:
                continue
        r = w * height
        if active:
            cost += r * r
        if want:
            b = model.cap_body[g]
            cols, n = model.body_cols[b], model.body_ncols[b]
            lowest = ends_a[g] if ends_a[g, 2] <= ends_b[g, 2] else ends_b[g]
            row = jac[0]
            row[2] = w
            row[3] = w * (lowest[1] - root[1])  # (p - root) x e_z
            row[4] = -w * (lowest[0] - root[0])
            for i in range(model.body_nhinges[b]):
                h = model.body_hinges[b, i]
                u, a = axis[h], anchor[h]
                row[6 + h] = w * (u[0] * (lowest[1] - a[1]) - u[1] * (lowest[0] - a[0]))
            _penalty_row(
                out, t, t * targets.num_free, jac, cols, n, r, active, watch, targets.watch_stiffen, targets.col_map
            )
    return cost


@njit(cache=True)
def _collision_terms(model, targets, t, want, out, watch, geo, jac):
    """Self-collision rows of frame ``t`` for the phase's pairs (broad phase on bounding spheres).
    Returns their cost."""
    pos, rot, axis, anchor, ends_a, ends_b = geo
    reach = targets.collision_margin + targets.collision_watch
    w = targets.collision_weight
    cols = np.empty(model.pair_hinges.shape[1], dtype=np.int64)
    witness = np.empty(3)
    normal = np.empty(3)
    cost = 0.0
    for pi in range(model.pairs.shape[0]):
        if not targets.pair_active[pi]:
            continue
        gi, gj = model.pairs[pi, 0], model.pairs[pi, 1]
        gap2 = 0.0
        for i in range(3):
            d = 0.5 * (ends_a[gi, i] + ends_b[gi, i] - ends_a[gj, i] - ends_b[gj, i])
            gap2 += d * d
        limit = reach + model.cap_bound[gi] + model.cap_bound[gj]
        if gap2 >= limit * limit:
            continue
        s1, s2 = segment_closest_points(ends_a[gi], ends_b[gi], ends_a[gj], ends_b[gj])
        length2 = 0.0
        for i in range(3):
            witness[i] = ends_a[gi, i] + s1 * (ends_b[gi, i] - ends_a[gi, i])
            normal[i] = witness[i] - ends_a[gj, i] - s2 * (ends_b[gj, i] - ends_a[gj, i])
            length2 += normal[i] * normal[i]
        length = np.sqrt(length2)
        distance = length - model.cap_radius[gi] - model.cap_radius[gj]
        if distance >= reach:
            continue
        active = distance < targets.collision_margin
        r = w * (distance - targets.collision_margin)
        if active:
            cost += r * r
        if not want:
            continue
        for i in range(3):
            normal[i] /= max(length, 1e-9)
        n = model.pair_nhinges[pi]
        for i in range(n):
            h = model.pair_hinges[pi, i]
            u, a = axis[h], anchor[h]
            ax, ay, az = witness[0] - a[0], witness[1] - a[1], witness[2] - a[2]
            # d distance / d angle = axis . ((p - anchor) x normal), signed by the capsule it moves
            value = u[0] * (ay * normal[2] - az * normal[1]) + u[1] * (az * normal[0] - ax * normal[2])
            value += u[2] * (ax * normal[1] - ay * normal[0])
            cols[i] = 6 + h
            jac[0, 6 + h] = w * model.pair_signs[pi, i] * value
        _penalty_row(
            out, t, t * targets.num_free, jac, cols, n, r, active, watch, targets.watch_stiffen, targets.col_map
        )
    return cost


@njit(cache=True)
def _frame_terms(model, targets, t, root_pos, root_rot, joints, want, out, watch, geo, jac):
    """Cost of frame ``t``; with ``want`` its rows are folded into ``out`` = (band, gradient)."""
    pos, rot, axis, anchor, ends_a, ends_b = geo
    band, gradient = out
    base = t * targets.num_free
    q = joints[t]
    forward_frame(model, root_pos[t], root_rot[t], q, pos, rot, axis, anchor)
    root = pos[model.root_body]
    cost = 0.0
    res = np.empty(3)
    e = np.empty(3)
    jinv = np.empty((3, 3))

    # Root position (identity Jacobian on the translation).
    w = targets.root_weight
    for k in range(3):
        r = w * (root_pos[t, k] - targets.root_pos[t, k])
        cost += r * r
        if want:
            gradient[base + k] += w * r
            band[0, base + k] += w * w

    # Orientations: world rotation vector of R R_target^T.
    for f in range(targets.orient_bodies.shape[0]):
        b = targets.orient_bodies[f]
        w = targets.orient_weight[t, f]
        relative_rotation_log(rot[b], targets.orient_rot[t, f], e)
        for k in range(3):
            res[k] = w * e[k]
            cost += res[k] * res[k]
        if want:
            _left_jacobian_inverse(e, jinv)
            for k in range(3):
                for j in range(3):
                    jac[k, 3 + j] = w * jinv[k, j]
                for i in range(model.body_nhinges[b]):
                    h = model.body_hinges[b, i]
                    jac[k, 6 + h] = w * (jinv[k, 0] * axis[h, 0] + jinv[k, 1] * axis[h, 1] + jinv[k, 2] * axis[h, 2])
            cols, ncols = model.body_cols[b], model.body_ncols[b]
            _accumulate(band, gradient, base, jac, res, 3, cols, ncols, True, targets.col_map)
            _clear(jac, model.body_cols[b], model.body_ncols[b])

    # Bone vectors (child - parent).
    for s in range(targets.limb_child.shape[0]):
        c, p = targets.limb_child[s], targets.limb_parent[s]
        w = targets.limb_weight[s]
        for k in range(3):
            res[k] = w * (pos[c, k] - pos[p, k] - targets.limb_vec[t, s, k])
            cost += res[k] * res[k]
        if want:
            _point_rows(model, c, pos[c], root, axis, anchor, w, jac)
            _point_rows(model, p, pos[p], root, axis, anchor, -w, jac)
            cols, ncols = targets.limb_cols[s], targets.limb_ncols[s]
            _accumulate(band, gradient, base, jac, res, 3, cols, ncols, True, targets.col_map)
            _clear(jac, targets.limb_cols[s], targets.limb_ncols[s])

    # Foot positions.
    for f in range(targets.foot_bodies.shape[0]):
        b = targets.foot_bodies[f]
        w = targets.foot_weight[t, f]
        for k in range(3):
            res[k] = w * (pos[b, k] - targets.foot_pos[t, f, k])
            cost += res[k] * res[k]
        if want:
            _point_rows(model, b, pos[b], root, axis, anchor, w, jac)
            cols, ncols = model.body_cols[b], model.body_ncols[b]
            _accumulate(band, gradient, base, jac, res, 3, cols, ncols, True, targets.col_map)
            _clear(jac, model.body_cols[b], model.body_ncols[b])

    # Posture (diagonal).
    for j in range(q.shape[0]):
        d = q[j] - targets.home[j]
        cost += targets.posture2[j] * d * d
        column = targets.col_map[6 + j]
        if want and column >= 0:
            gradient[base + column] += targets.posture2[j] * d
            band[0, base + column] += targets.posture2[j]

    if targets.floor_weight > 0.0 or targets.collision_weight > 0.0:
        _capsule_ends(model, pos, rot, ends_a, ends_b)
    if targets.floor_weight > 0.0:
        cost += _floor_terms(model, targets, t, want, out, watch, geo, jac)
    if targets.collision_weight > 0.0:
        cost += _collision_terms(model, targets, t, want, out, watch, geo, jac)
    return cost


@njit(cache=True)
def _workspace(model):
    nbody, hinges, caps = model.parent.shape[0], model.hinge_axis.shape[0], model.cap_body.shape[0]
    geo = (
        np.empty((nbody, 3)), np.empty((nbody, 3, 3)), np.empty((hinges, 3)), np.empty((hinges, 3)),
        np.empty((caps, 3)), np.empty((caps, 3)),
    )
    return geo, np.zeros((3, 6 + hinges + 1))


@njit(cache=True)
def clip_terms(model, targets, root_pos, root_rot, joints, want, band, gradient, watch):
    """Cost of a trajectory over all frames; with ``want`` also its Gauss-Newton normal equations.

    ``band`` (>= nv rows, T nv) lower band form and ``gradient`` (T nv,) are *added to* (zero them
    first); watched rows go into ``watch`` = (frames, residual, cols, vals, count) while they fit
    (``count[0]`` counts them all: rerun with more room if it exceeds the capacity). Without
    ``want`` the outputs are not touched (pass empty arrays).
    """
    geo, jac = _workspace(model)
    cost = 0.0
    for t in range(joints.shape[0]):
        cost += _frame_terms(model, targets, t, root_pos, root_rot, joints, want, (band, gradient), watch, geo, jac)
    return cost


@njit(cache=True)
def clip_clearances(model, root_pos, root_rot, joints, floor_margin):
    """Clearances over all frames: per capsule the least height of its lowest point above its floor
    margin (``floor_margin`` (T, G), m) (G,), m; per pair the smallest gap between bounding spheres
    (P,), m, and the smallest capsule distance (P,), m, among frames where the bounding spheres
    overlap (``inf`` when they never do)."""
    geo, _ = _workspace(model)
    pos, rot, axis, anchor, ends_a, ends_b = geo
    lowest = np.full(model.cap_body.shape[0], np.inf)
    gaps = np.full(model.pairs.shape[0], np.inf)
    distances = np.full(model.pairs.shape[0], np.inf)
    for t in range(joints.shape[0]):
        forward_frame(model, root_pos[t], root_rot[t], joints[t], pos, rot, axis, anchor)
        _capsule_ends(model, pos, rot, ends_a, ends_b)
        for g in range(model.cap_body.shape[0]):
            height = min(ends_a[g, 2], ends_b[g, 2]) - model.cap_radius[g] - floor_margin[t, g]
            lowest[g] = min(lowest[g], height)
        for pi in range(model.pairs.shape[0]):
            gi, gj = model.pairs[pi, 0], model.pairs[pi, 1]
            gap2 = 0.0
            for i in range(3):
                d = 0.5 * (ends_a[gi, i] + ends_b[gi, i] - ends_a[gj, i] - ends_b[gj, i])
                gap2 += d * d
            gap = np.sqrt(gap2) - model.cap_bound[gi] - model.cap_bound[gj]
            gaps[pi] = min(gaps[pi], gap)
            if gap >= 0.0:
                continue
            s1, s2 = segment_closest_points(ends_a[gi], ends_b[gi], ends_a[gj], ends_b[gj])
            length2 = 0.0
            for i in range(3):
                d = ends_a[gi, i] + s1 * (ends_b[gi, i] - ends_a[gi, i])
                d -= ends_a[gj, i] + s2 * (ends_b[gj, i] - ends_a[gj, i])
                length2 += d * d
            distances[pi] = min(distances[pi], np.sqrt(length2) - model.cap_radius[gi] - model.cap_radius[gj])
    return lowest, gaps, distances


@njit(cache=True)
def frame_lowest(model, root_pos, root_rot, joints):
    """(T,) lowest point of any collision capsule in each frame, m (z-up; the floor is z = 0)."""
    geo, _ = _workspace(model)
    pos, rot, axis, anchor, ends_a, ends_b = geo
    lowest = np.full(joints.shape[0], np.inf)
    for t in range(joints.shape[0]):
        forward_frame(model, root_pos[t], root_rot[t], joints[t], pos, rot, axis, anchor)
        _capsule_ends(model, pos, rot, ends_a, ends_b)
        for g in range(model.cap_body.shape[0]):
            lowest[t] = min(lowest[t], min(ends_a[g, 2], ends_b[g, 2]) - model.cap_radius[g])
    return lowest
