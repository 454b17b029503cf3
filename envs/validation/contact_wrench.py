"""Can feasible contact forces explain the reference's motion? Contact forces, residual, torques, ZMP.

For each frame, inverse dynamics (see :mod:`robomotion.envs.validation.sweep`) gives the 6-D wrench ``w``
on the floating base that only external forces can supply. Contact forces may act only at robot
points touching the floor, push (unilateral) and stay inside a friction cone, linearised as a
4-sided pyramid with edges ``n +- mu t1``, ``n +- mu t2``. Per frame we solve the small
non-negative least-squares problem

    min_{lambda >= 0} || W (A lambda - w) ||^2 + eps^2 || lambda / (m g) ||^2,

where the columns of ``A`` are the base wrenches of unit forces along the pyramid edges (the
free-joint rows of ``J^T d``) and ``W`` scales forces by ``1 / (m g)`` and moments by
``1 / (m g l)`` (``l`` = standing pelvis height), so the residual ``||W (w - A lambda)||`` is the
unexplained wrench as a fraction of body weight: the *physical-consistency* score (0 = contacts
explain everything, 1 = a whole body weight is missing, e.g. a floating clip). The small ``eps``
term picks the most even of the equally good force distributions.

The joint torques the reference needs are then ``tau = f_inverse[6:] - sum_k J_k[:, 6:]^T f_k``.

The zero-moment point is where the required ground-reaction wrench has no horizontal moment on
the floor plane ``z = 0``; it is compared with the support polygon (convex hull of the contact
points). Everything is in the world frame, metres, newtons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from robomotion.envs.validation.reference import Reference
from robomotion.envs.validation.sweep import ReferenceSweep, point_jacobians
from scipy.optimize import nnls
from scipy.spatial import ConvexHull, QhullError

from robomotion.rotations import quat_apply

__all__ = [
    "ContactWrenches",
    "solve_contact_wrenches",
    "nonnegative_ridge_least_squares",
    "nnls_per_problem",
    "signed_distance_to_polygon",
    "GRAVITY",
]

GRAVITY = 9.81
#: Weight of the even-distribution term relative to the residual (dimensionless).
_EVEN_WEIGHT = 1e-2
#: Below this vertical force (fraction of body weight) the ZMP is undefined.
_MIN_VERTICAL_FRACTION = 0.05


@dataclass(frozen=True, eq=False)
class ContactWrenches:
    """Per-frame result of the contact-force solve.

    Attributes:
        contact_force: (K, 3) force on the robot at each floor contact of the sweep, world frame, N.
        residual: (T, 6) base wrench no feasible contact force explains (free-joint convention:
            world-frame force in N, pelvis-frame moment in N*m).
        residual_fraction: (T,) ``||W residual||``: unexplained wrench as a fraction of body weight.
        joint_torque: (T, N) joint torques the reference needs, N*m.
        zmp: (T, 2) zero-moment point on the floor, m (NaN where the vertical force is too small).
        support_margin: (T,) distance of the ZMP outside the support polygon, m (negative =
            inside; NaN without support or ZMP).
        supported: (T,) frames with at least one body touching the floor.
        body_weight: m g, N.
    """

    contact_force: np.ndarray
    residual: np.ndarray
    residual_fraction: np.ndarray
    joint_torque: np.ndarray
    zmp: np.ndarray
    support_margin: np.ndarray
    supported: np.ndarray
    body_weight: float


def _pyramid_edges(basis: np.ndarray, friction: float) -> np.ndarray:
    """(k, 4, 3) edge directions of the linearised friction cones of contacts with ``basis`` (k, 3, 3)."""
    normal, tangent1, tangent2 = basis[:, 0], basis[:, 1], basis[:, 2]
    return np.stack(
        [normal + friction * tangent1, normal - friction * tangent1, normal + friction * tangent2,
         normal - friction * tangent2],
        axis=1,
    )


def signed_distance_to_polygon(points: np.ndarray, query: np.ndarray) -> float:
    """Signed distance (m) from ``query`` (2,) to the convex hull of ``points`` (n, 2): > 0 outside.

    Degenerate hulls (one point, collinear points) have no inside: the distance is to the point or
    segment and is never negative.
    """
    points = np.asarray(points, dtype=np.float64)
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        hull = None
    if hull is not None:
        # Facet equations: normal . x + offset <= 0 inside, normals of unit length.
        distances = hull.equations[:, :2] @ query + hull.equations[:, 2]
        if np.all(distances <= 0):
            return float(distances.max())
        vertices = points[hull.vertices]
        segments = np.stack([vertices, np.roll(vertices, -1, axis=0)], axis=1)
    else:
        order = np.argsort(points[:, 0] + 1e-9 * points[:, 1])
        ends = points[order[[0, -1]]]
        segments = ends[None]
    start, end = segments[:, 0], segments[:, 1]
    direction = end - start
    length2 = np.maximum(np.sum(direction**2, axis=1), 1e-18)
    along = np.clip(np.sum((query - start) * direction, axis=1) / length2, 0.0, 1.0)
    closest = start + along[:, None] * direction
    return float(np.min(np.linalg.norm(query - closest, axis=1)))


def _zero_moment_points(reference: Reference, wrench: np.ndarray, body_weight: float) -> np.ndarray:
    """(T, 2) ZMP on ``z = 0`` of the base wrenches ``wrench`` (T, 6); NaN where Fz is too small."""
    force = wrench[:, :3]
    moment_at_root = quat_apply(reference.motion.root_quat, wrench[:, 3:])  # pelvis frame -> world
    moment_at_origin = np.cross(reference.motion.root_pos, force) + moment_at_root
    vertical = force[:, 2]
    valid = vertical > _MIN_VERTICAL_FRACTION * body_weight
    safe = np.where(valid, vertical, 1.0)
    zmp = np.stack([-moment_at_origin[:, 1] / safe, moment_at_origin[:, 0] / safe], axis=1)
    zmp[~valid] = np.nan
    return zmp


def nonnegative_ridge_least_squares(
    matrices: np.ndarray, targets: np.ndarray, eps: float, tol: float = 1e-10, max_iter: int = 100
) -> np.ndarray:
    """Batched ``argmin_{x >= 0} ||A x - b||^2 + eps^2 ||x||^2`` for problems with few rows (here 6).

    Solved in the dual: with ``r = b - A x`` the optimality conditions give
    ``x = max(0, A^T r) / eps^2``, and ``r`` minimises the convex, piecewise-quadratic
    ``phi(r) = |r|^2 / 2 + |max(0, A^T r)|^2 / (2 eps^2) - b.r``, whose gradient is ``r + A x - b``.
    A semismooth Newton method with Armijo backtracking needs one m x m solve per iteration
    (m = rows) for all problems at once, instead of an active-set pass over every column.

    Args:
        matrices: (P, m, n) the ``A`` of each problem (zero columns are inert padding).
        targets: (P, m) the ``b`` of each problem.
        eps: regularisation weight (> 0).
        tol: stop when the dual gradient norm (the optimality error) is below this.
        max_iter: Newton iterations at most.

    Returns:
        (P, n) the solutions ``x``.
    """
    inv_eps2 = 1.0 / eps**2

    def evaluate(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        slack = np.einsum("pmn,pm->pn", a, r)
        positive = np.maximum(slack, 0.0)
        value = 0.5 * np.sum(r * r, axis=1) + 0.5 * inv_eps2 * np.sum(positive**2, axis=1) - np.sum(b * r, axis=1)
        gradient = r + inv_eps2 * np.einsum("pmn,pn->pm", a, positive) - b
        return value, gradient, slack > 0

    dual = np.zeros(targets.shape)
    value, gradient, active = evaluate(matrices, targets, dual)
    identity = np.eye(targets.shape[1])
    for _ in range(max_iter):
        todo = np.flatnonzero(np.linalg.norm(gradient, axis=1) > tol)
        if todo.size == 0:
            break
        a, b, r = matrices[todo], targets[todo], dual[todo]
        active_columns = a * active[todo][:, None, :]
        hessian = identity + inv_eps2 * np.einsum("pmn,pkn->pmk", active_columns, active_columns)
        step = -np.linalg.solve(hessian, gradient[todo][..., None])[..., 0]
        slope = np.sum(gradient[todo] * step, axis=1)
        size = np.ones(todo.size)
        for _ in range(40):  # Armijo backtracking, halving only the problems that need it
            trial_value = evaluate(a, b, r + size[:, None] * step)[0]
            rejected = trial_value > value[todo] + 1e-4 * size * slope
            if not np.any(rejected):
                break
            size[rejected] *= 0.5
        dual[todo] = r + size[:, None] * step
        value[todo], gradient[todo], active[todo] = evaluate(a, b, dual[todo])
    return inv_eps2 * np.maximum(np.einsum("pmn,pm->pn", matrices, dual), 0.0)


def nnls_per_problem(matrices: np.ndarray, targets: np.ndarray, eps: float) -> np.ndarray:
    """Same problems as :func:`nonnegative_ridge_least_squares`, one scipy active-set NNLS each.

    The textbook way (Lawson-Hanson on the stacked system ``[A; eps I] x = [b; 0]``): exact, and
    the baseline the fast solver is tested and benchmarked against.
    """
    problems, _, columns = matrices.shape
    regulariser, zeros = eps * np.eye(columns), np.zeros(columns)
    solutions = np.zeros((problems, columns))
    for p in range(problems):
        stacked = np.vstack([matrices[p], regulariser])
        solutions[p] = nnls(stacked, np.concatenate([targets[p], zeros]), maxiter=50 * columns)[0]
    return solutions


def solve_contact_wrenches(
    reference: Reference,
    sweep: ReferenceSweep,
    total_mass: float,
    lever_arm: float,
    friction: float,
    chunk_frames: int = 256,
    solver: Callable[[np.ndarray, np.ndarray, float], np.ndarray] = nonnegative_ridge_least_squares,
    zmp: bool = True,
) -> ContactWrenches:
    """Distribute the required base wrench over feasible floor-contact forces, all frames at once.

    Args:
        reference: the prepared reference.
        sweep: its MuJoCo pass (contacts within the contact distance, inverse dynamics).
        total_mass: robot mass, kg.
        lever_arm: length that turns moments into forces for the residual (standing pelvis height), m.
        friction: Coulomb friction coefficient of the pyramids.
        chunk_frames: frames solved together (bounds memory on long clips).
        solver: the batched non-negative ridge least-squares solver (see :func:`nnls_per_problem`).
        zmp: compute the ZMP's distance to the support polygon (a convex hull per frame, the slowest
            part); ``False`` leaves ``support_margin`` NaN.
    """
    frames = sweep.num_frames
    body_weight = total_mass * GRAVITY
    scale = np.concatenate([np.full(3, 1.0 / body_weight), np.full(3, 1.0 / (body_weight * lever_arm))])
    floor = sweep.floor
    nv = sweep.inverse_force.shape[1]
    edges = _pyramid_edges(floor.basis, friction)  # (K, 4, 3)
    first_of_frame = np.searchsorted(floor.frame, np.arange(frames + 1))
    slot = np.arange(len(floor)) - first_of_frame[floor.frame]  # position of each contact within its frame
    width = 4 * max(1, int(np.max(np.diff(first_of_frame))))

    contact_force = np.zeros((len(floor), 3))
    explained = np.zeros((frames, nv))
    for start in range(0, frames, chunk_frames):
        stop = min(frames, start + chunk_frames)
        contacts = np.arange(first_of_frame[start], first_of_frame[stop])
        # Generalised force of a unit force along each pyramid edge, padded per frame: (F, width, nv).
        generalized = np.zeros((stop - start, width // 4, 4, nv))
        unit = np.einsum("kei,kij->kej", edges[contacts], point_jacobians(sweep, contacts))
        generalized[floor.frame[contacts] - start, slot[contacts]] = unit
        generalized = generalized.reshape(stop - start, width, nv)
        # Weighted base-wrench columns per body weight of edge force: (F, 6, width).
        columns = np.swapaxes(generalized[:, :, :6], 1, 2) * (scale * body_weight)[None, :, None]
        targets = sweep.inverse_force[start:stop, :6] * scale
        weights = body_weight * solver(columns, targets, _EVEN_WEIGHT)  # N per edge
        explained[start:stop] = np.einsum("fw,fwv->fv", weights, generalized)
        edge_force = weights.reshape(stop - start, width // 4, 4)[floor.frame[contacts] - start, slot[contacts]]
        contact_force[contacts] = np.einsum("ke,kei->ki", edge_force, edges[contacts])

    residual = sweep.inverse_force[:, :6] - explained[:, :6]
    zmp_points = _zero_moment_points(reference, sweep.inverse_force[:, :6], body_weight)
    support_margin = np.full(frames, np.nan)
    for t in np.flatnonzero(~np.isnan(zmp_points[:, 0]) & (np.diff(first_of_frame) > 0)) if zmp else ():
        support_margin[t] = signed_distance_to_polygon(
            floor.pos[first_of_frame[t] : first_of_frame[t + 1], :2], zmp_points[t]
        )
    supported = np.diff(first_of_frame) > 0
    return ContactWrenches(
        contact_force=contact_force,
        residual=residual,
        residual_fraction=np.linalg.norm(residual * scale, axis=1),
        joint_torque=sweep.inverse_force[:, 6:] - explained[:, 6:],
        zmp=zmp_points,
        support_margin=support_margin,
        supported=supported,
        body_weight=body_weight,
    )
