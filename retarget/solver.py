"""Whole-clip inverse kinematics: one Levenberg-Marquardt problem over every frame at once.

Unknowns per frame are the solver coordinates of :class:`~robomotion.retarget.fk.TreeKinematics`
(root translation, world-frame root rotation increment, hinge angles; ``nv`` per frame). The
cost is a sum of squared, weighted residuals:

* per frame: root position, frame and foot orientations, bone vectors (hip-knee, knee-ankle,
  shoulder-elbow, elbow-wrist, relative to the robot's own parent joint), foot positions (planted
  feet get a much higher weight), a weak pull towards the home posture;
* active-set penalties, per frame: any collision capsule below the floor, any pair of robot
  capsules that MuJoCo would let collide closer than a margin;
* across frames: velocities and accelerations of every coordinate (temporal smoothness).

The per-frame Jacobians come from the batched kinematics; the smoothness terms couple frame t only
with frames t-2..t+2, so the Gauss-Newton system is a symmetric band matrix of bandwidth ``2 nv``,
solved with LAPACK's banded Cholesky (:func:`scipy.linalg.solveh_banded`) in O(T nv^3). Joint
limits: projected Newton (joints on a limit that the step would push outwards are held for that
step; every step is projected onto the limits). Inactive penalty rows close to their margin are
"watched": they stiffen the model and shorten steps that would cross them, which keeps contacts
from switching on and off between iterations. Motor speed limits are enforced after the solve by
:func:`limit_joint_speed`.

Phases: first without the floor and self-collision penalties (a smooth problem that converges in a
few iterations from the home pose), then with them; if anything still penetrates (floor by more
than 5 mm, or two capsules overlap), again with penalties :data:`REPAIR_SCALE` times stronger.

Units: metres, radians, seconds; z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import LinAlgError, solveh_banded

from robomotion.retarget.collision import CapsuleSet, closest_points_between_segments
from robomotion.retarget.config import RetargetConfig
from robomotion.retarget.fk import TreeKinematics, TreePose, skew
from robomotion.retarget.scaling import RetargetTargets
from robomotion.rotations import matrix_to_rotvec

__all__ = ["SolverResult", "SolverState", "WholeClipSolver", "limit_joint_speed"]

#: Capsule pairs whose bounding spheres stay farther apart than this (m) over a whole phase's
#: starting trajectory are left out of that phase (and checked again at its end).
PAIR_PRUNE_DISTANCE = 0.10
#: Rounds of re-solving with REPAIR_SCALE times stronger penalties while something still penetrates.
REPAIR_ROUNDS = 2
REPAIR_SCALE = 4.0
#: Floor penetration (m) tolerated before a repair round (the quality report flags 1 cm).
PENETRATION_TOLERANCE = 0.005
#: Inactive floor rows this close to their margin (m) limit the length of each step and stiffen the
#: model; collision rows use the smaller distance (there are many more candidate pairs than geoms).
WATCH_DISTANCE = 0.05
COLLISION_WATCH_DISTANCE = 0.01
#: A step is scaled down per frame at most to this fraction by the step limiter.
MIN_STEP_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class SolverState:
    """A robot trajectory in solver coordinates: root position (T, 3), rotation (T, 3, 3), joints (T, N)."""

    root_pos: np.ndarray
    root_rot: np.ndarray
    joint_pos: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.joint_pos.shape[0])


@dataclass(frozen=True, eq=False)
class SolverResult:
    """The solved trajectory and how the solve went.

    Attributes:
        state: the trajectory.
        iterations: Levenberg-Marquardt iterations, all phases.
        costs: cost after each accepted iteration of the final phase (index 0: its start).
    """

    state: SolverState
    iterations: int
    costs: list[float]


@dataclass(frozen=True, eq=False)
class _Rows:
    """Weighted residual rows: dense (T, R) per frame, active penalty rows at given frames, and
    "watched" penalty rows that are inactive but close (residual >= 0): they stiffen the model
    and limit the steps (see :meth:`WholeClipSolver._limit_step`)."""

    dense_r: np.ndarray
    dense_j: np.ndarray
    sparse_frames: np.ndarray
    sparse_r: np.ndarray
    sparse_j: np.ndarray
    watch_frames: np.ndarray
    watch_r: np.ndarray
    watch_j: np.ndarray
    smooth_gradient: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class _Problem:
    """One phase: its targets, frame rate, penalty scale (0: off) and the arrays reused every iteration."""

    targets: RetargetTargets
    fps: float
    penalties: float
    pairs: np.ndarray
    smooth_band: np.ndarray
    orient_weight: np.ndarray
    foot_weight: np.ndarray
    point_bodies: np.ndarray
    limb_child: np.ndarray
    limb_parent: np.ndarray
    feet: np.ndarray


def _rotation_error(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World-frame rotation vector taking ``target`` to ``current`` (..., 3)."""
    return matrix_to_rotvec(current @ np.swapaxes(target, -1, -2))


def _left_jacobian_inverse(phi: np.ndarray) -> np.ndarray:
    """(..., 3, 3) inverse left Jacobians of SO(3) at rotation vectors ``phi`` (..., 3).

    ``d log(exp(delta) exp(phi)) / d delta`` at delta = 0: maps a world-frame angular step to
    the change of the rotation-vector error, exact also for large errors.
    """
    theta = np.linalg.norm(phi, axis=-1)
    k = skew(phi)
    small = theta < 1e-4
    t = np.where(small, 1.0, theta)
    coef = np.where(small, 1.0 / 12.0, 1.0 / t**2 - (1.0 + np.cos(t)) / (2.0 * t * np.sin(t)))
    return np.eye(3) - 0.5 * k + coef[..., None, None] * (k @ k)


def _diff_t(s: np.ndarray) -> np.ndarray:
    """``D^T s`` for the first-difference operator D (rows t: x[t+1] - x[t])."""
    out = np.zeros((s.shape[0] + 1,) + s.shape[1:])
    out[:-1] -= s
    out[1:] += s
    return out


def _group_gram(frames: np.ndarray, jac: np.ndarray, res: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ``J^T J`` (count, nv, nv) and ``J^T r`` (count, nv) of rows belonging to ``frames``."""
    nv = jac.shape[1]
    hessian = np.zeros((count, nv, nv))
    gradient = np.zeros((count, nv))
    if len(frames) == 0:
        return hessian, gradient
    order = np.argsort(frames, kind="stable")
    frames, jac, res = frames[order], jac[order], res[order]
    used, start, per_frame = np.unique(frames, return_index=True, return_counts=True)
    slot = np.arange(len(frames)) - np.repeat(start, per_frame)
    padded = np.zeros((len(used), per_frame.max(), nv))
    padded_r = np.zeros((len(used), per_frame.max()))
    group = np.repeat(np.arange(len(used)), per_frame)
    padded[group, slot] = jac
    padded_r[group, slot] = res
    hessian[used] = np.swapaxes(padded, 1, 2) @ padded
    gradient[used] = np.einsum("gri,gr->gi", padded, padded_r)
    return hessian, gradient


def limit_joint_speed(joint_pos: np.ndarray, fps: float, max_speed: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Cap per-frame joint changes to ``max_speed / fps`` (rad) with a forward sweep, inside ``limits``."""
    out = joint_pos.copy()
    step = max_speed / fps
    for t in range(1, out.shape[0]):
        out[t] = np.clip(out[t], out[t - 1] - step, out[t - 1] + step)
    return np.clip(out, limits[:, 0], limits[:, 1])


class WholeClipSolver:
    """Solves :class:`RetargetTargets` for a robot (see the module docstring).

    Args:
        kinematics: batched kinematics of the robot model.
        capsules: its collision capsules.
        pairs: (P, 2) capsule pairs to keep apart (``self_collision_pairs``).
        home_joint_pos: (N,) posture the regulariser pulls towards, rad.
        config: weights and iteration settings.
        posture_weights: (N,) per-joint posture weights (1/rad); default ``config.posture`` for all.
    """

    def __init__(
        self,
        kinematics: TreeKinematics,
        capsules: CapsuleSet,
        pairs: np.ndarray,
        home_joint_pos: np.ndarray,
        config: RetargetConfig,
        posture_weights: np.ndarray | None = None,
    ):
        self.kin = kinematics
        self.capsules = capsules
        self.pairs = pairs if config.self_collision > 0 else pairs[:0]
        self.home = np.asarray(home_joint_pos, dtype=np.float64)
        # Per capsule pair: the hinges that move one capsule relative to the other.
        self._pair_index = np.full((len(capsules.names), len(capsules.names)), -1)
        self._pair_index[self.pairs[:, 0], self.pairs[:, 1]] = np.arange(len(self.pairs))
        self._pair_hinges = kinematics.relative_hinges(capsules.body[self.pairs[:, 0]], capsules.body[self.pairs[:, 1]])
        if posture_weights is None:
            posture_weights = np.full(kinematics.num_hinges, config.posture)
        self.posture2 = np.asarray(posture_weights, dtype=np.float64) ** 2
        self.config = config
        self.limits = kinematics.joint_limits

    # ------------------------------------------------------------------ phases
    def _problem(self, targets: RetargetTargets, fps: float, penalties: float, pairs: np.ndarray) -> _Problem:
        cfg = self.config
        frames = targets.num_frames
        count = len(targets.orient_bodies)
        orient_weight = np.empty((frames, count))
        orient_weight[:, 0] = cfg.root_orientation
        orient_weight[:, 1 : count - 2] = cfg.frame_orientation
        orient_weight[:, count - 2 :] = np.where(targets.planted, cfg.planted_orientation, cfg.foot_orientation)
        orient_weight *= targets.orient_weight
        point_bodies = np.unique(np.concatenate([targets.limb_parent, targets.limb_child, targets.foot_bodies]))
        column = {int(b): i for i, b in enumerate(point_bodies)}
        return _Problem(
            targets=targets,
            fps=fps,
            penalties=penalties,
            pairs=pairs,
            smooth_band=self._smooth_band(frames, fps),
            orient_weight=orient_weight,
            foot_weight=np.where(targets.planted, cfg.planted_position, cfg.foot_position),
            point_bodies=point_bodies,
            limb_child=np.array([column[int(b)] for b in targets.limb_child]),
            limb_parent=np.array([column[int(b)] for b in targets.limb_parent]),
            feet=np.array([column[int(b)] for b in targets.foot_bodies]),
        )

    def solve(self, targets: RetargetTargets, fps: float, initial: SolverState) -> SolverResult:
        """Minimise the cost from ``initial`` (see the module docstring for the phases)."""
        state = SolverState(
            initial.root_pos, initial.root_rot, np.clip(initial.joint_pos, self.limits[:, 0], self.limits[:, 1])
        )
        state, iterations, costs = self._minimize(state, self._problem(targets, fps, 0.0, self.pairs[:0]))
        scale = 1.0
        for _ in range(REPAIR_ROUNDS + 1):
            state, more, costs = self._penalized(state, targets, fps, scale)
            iterations += more
            if not self._penetrates(state):
                break
            scale *= REPAIR_SCALE
        return SolverResult(state, iterations, costs)

    def _penalized(
        self, state: SolverState, targets: RetargetTargets, fps: float, scale: float
    ) -> tuple[SolverState, int, list]:
        """A phase with floor and self-collision penalties on candidate pairs, verified on all pairs."""
        pairs = self._candidate_pairs(state)
        state, iterations, costs = self._minimize(state, self._problem(targets, fps, scale, pairs))
        if len(pairs) < len(self.pairs):
            pose = self.kin.forward(state.root_pos, state.root_rot, state.joint_pos)
            if len(self._collision_rows(pose, self.pairs, False)[0]) > len(self._collision_rows(pose, pairs, False)[0]):
                state, more, costs = self._minimize(state, self._problem(targets, fps, scale, self.pairs))
                iterations += more
        return state, iterations, costs

    def _penetrates(self, state: SolverState) -> bool:
        """Whether any capsule is under the floor or two capsules overlap (all pairs, no margins)."""
        pose = self.kin.forward(state.root_pos, state.root_rot, state.joint_pos)
        floor = self._floor_rows(pose, False)[1] < -self.config.floor * PENETRATION_TOLERANCE
        distance_rows = self._collision_rows(pose, self.pairs, False)[1]
        overlap = distance_rows < -self.config.self_collision * self.config.collision_margin
        return bool(np.any(floor) or np.any(overlap))

    def _candidate_pairs(self, state: SolverState) -> np.ndarray:
        """Pairs whose bounding spheres come within :data:`PAIR_PRUNE_DISTANCE` in some frame."""
        if len(self.pairs) == 0:
            return self.pairs
        pose = self.kin.forward(state.root_pos, state.root_rot, state.joint_pos)
        a, b = self._capsule_ends(pose)
        center = 0.5 * (a + b)
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        bound = self.capsules.bound
        gap = np.linalg.norm(center[:, i] - center[:, j], axis=-1).min(axis=0) - bound[i] - bound[j]
        return self.pairs[gap < PAIR_PRUNE_DISTANCE + self.config.collision_margin]

    # ------------------------------------------------------------------ residuals
    def _rows(self, state: SolverState, pose: TreePose, problem: _Problem) -> _Rows:
        """All weighted residual rows of a trajectory and their Jacobians."""
        cfg, kin, targets = self.config, self.kin, problem.targets
        frames = state.num_frames

        # Root position (the root body's Jacobian is the identity on the translation).
        root_j = np.zeros((frames, 3, kin.nv))
        root_j[:, 0, 0] = root_j[:, 1, 1] = root_j[:, 2, 2] = cfg.root_position

        # Orientations: frames (root first) then the feet.
        bodies, weight = targets.orient_bodies, problem.orient_weight
        err = _rotation_error(pose.rot[:, bodies], targets.orient_rot)
        orient_j = _left_jacobian_inverse(err) @ kin.rotation_jacobian(pose, bodies)

        # Bone vectors relative to the robot's own parent joint, and foot positions.
        points = pose.pos[:, problem.point_bodies]
        child, parent, feet = problem.limb_child, problem.limb_parent, problem.feet
        w_limb, w_feet = cfg.limb * targets.limb_weight, problem.foot_weight
        jp = kin.point_jacobian(pose, problem.point_bodies, points)

        residuals = [
            cfg.root_position * (state.root_pos - targets.root_pos),
            (weight[..., None] * err).reshape(frames, -1),
            (w_limb[:, None] * (points[:, child] - points[:, parent] - targets.limb_vec)).reshape(frames, -1),
            (w_feet[..., None] * (points[:, feet] - targets.foot_pos)).reshape(frames, -1),
        ]
        jacobians = [
            root_j,
            (weight[..., None, None] * orient_j).reshape(frames, -1, kin.nv),
            (w_limb[None, :, None, None] * (jp[:, child] - jp[:, parent])).reshape(frames, -1, kin.nv),
            (w_feet[..., None, None] * jp[:, feet]).reshape(frames, -1, kin.nv),
        ]

        sparse = [(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, kin.nv)))]
        if problem.penalties:
            ends = self._capsule_ends(pose)
            sparse += [
                self._floor_rows(pose, True, WATCH_DISTANCE, problem.penalties, ends),
                self._collision_rows(pose, problem.pairs, True, COLLISION_WATCH_DISTANCE, problem.penalties, ends),
            ]
        rows_frames, rows_r, rows_j = (np.concatenate([s[k] for s in sparse]) for k in range(3))
        active = rows_r < 0.0
        return _Rows(
            dense_r=np.concatenate(residuals, axis=1),
            dense_j=np.concatenate(jacobians, axis=1),
            sparse_frames=rows_frames[active],
            sparse_r=rows_r[active],
            sparse_j=rows_j[active],
            watch_frames=rows_frames[~active],
            watch_r=rows_r[~active],
            watch_j=rows_j[~active],
        )

    def _capsule_ends(self, pose: TreePose) -> tuple[np.ndarray, np.ndarray]:
        caps = self.capsules
        rot = pose.rot[:, caps.body]
        return (
            pose.pos[:, caps.body] + np.einsum("tgij,gj->tgi", rot, caps.local_a),
            pose.pos[:, caps.body] + np.einsum("tgij,gj->tgi", rot, caps.local_b),
        )

    def _floor_rows(
        self, pose: TreePose, jacobian: bool, watch: float = 0.0, scale: float = 1.0, ends: tuple | None = None
    ):
        """Rows (frames, residuals, Jacobians) for capsules whose lowest point is under the floor margin.

        With ``watch > 0`` rows up to ``watch`` above the margin are returned too (residual >= 0),
        for the step limiter of :meth:`_minimize`.
        """
        cfg, caps = self.config, self.capsules
        a, b = ends if ends is not None else self._capsule_ends(pose)
        lower = np.where((a[..., 2] <= b[..., 2])[..., None], a, b)  # (T, G, 3)
        height = lower[..., 2] - caps.radius - cfg.floor_margin
        # Active rows: every capsule under the margin; watched rows: only each body's lowest capsule.
        starts = np.flatnonzero(np.r_[True, caps.body[1:] != caps.body[:-1]])
        body_min = np.minimum.reduceat(height, starts, axis=1)
        lowest_of_body = height <= np.repeat(body_min, np.diff(np.r_[starts, len(caps.body)]), axis=1)
        frames, geoms = np.nonzero((height < 0.0) | ((height < watch) & lowest_of_body))
        weight = scale * cfg.floor
        r = weight * height[frames, geoms]
        if not jacobian:
            return frames, r, None
        up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (len(frames), 3))
        j = self.kin.directional_jacobian(pose, frames, caps.body[geoms], lower[frames, geoms], up)
        return frames, r, weight * j

    def _collision_rows(
        self,
        pose: TreePose,
        pairs: np.ndarray,
        jacobian: bool,
        watch: float = 0.0,
        scale: float = 1.0,
        ends: tuple | None = None,
    ):
        """Rows for capsule pairs closer than the collision margin (+ ``watch``; broad phase on bounding spheres)."""
        cfg, caps = self.config, self.capsules
        if len(pairs) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, self.kin.nv)) if jacobian else None
        a, b = ends if ends is not None else self._capsule_ends(pose)
        center = 0.5 * (a + b)
        i, j = pairs[:, 0], pairs[:, 1]
        gap = np.linalg.norm(center[:, i] - center[:, j], axis=-1) - caps.bound[i] - caps.bound[j]
        frames, pair = np.nonzero(gap < cfg.collision_margin + watch)
        gi, gj = i[pair], j[pair]
        p1, p2 = closest_points_between_segments(a[frames, gi], b[frames, gi], a[frames, gj], b[frames, gj])
        delta = p1 - p2
        length = np.linalg.norm(delta, axis=-1)
        distance = length - caps.radius[gi] - caps.radius[gj]
        active = distance < cfg.collision_margin + watch
        frames, gi, gj, p1, p2 = frames[active], gi[active], gj[active], p1[active], p2[active]
        normal = delta[active] / np.maximum(length[active], 1e-9)[:, None]
        weight = scale * cfg.self_collision
        r = weight * (distance[active] - cfg.collision_margin)
        if not jacobian:
            return frames, r, None
        hinges, signs = self._pair_hinges
        which = self._pair_index[gi, gj]
        jac = self.kin.separation_jacobian(pose, frames, hinges[which], signs[which], p1, normal)
        return frames, r, weight * jac

    # ------------------------------------------------------------------ smoothness
    def _smooth_weights(self, fps: float) -> tuple[np.ndarray, np.ndarray]:
        """Per-coordinate weights (nv,) of squared velocities and accelerations (physical units)."""
        cfg = self.config
        accel = np.full(self.kin.nv, cfg.acceleration)
        accel[:6] = cfg.root_acceleration
        return np.full(self.kin.nv, (cfg.velocity * fps) ** 2), (accel * fps**2) ** 2

    def _smooth_residuals(self, state: SolverState) -> tuple[np.ndarray, np.ndarray]:
        """First and second differences (T-1, nv), (T-2, nv) in solver coordinates.

        The root rotation's difference is the rotation vector of ``R[t+1] R[t]^T`` (world frame).
        """
        rot_step = matrix_to_rotvec(state.root_rot[1:] @ np.swapaxes(state.root_rot[:-1], -1, -2))
        first = np.concatenate([np.diff(state.root_pos, axis=0), rot_step, np.diff(state.joint_pos, axis=0)], axis=1)
        return first, np.diff(first, axis=0)

    def _smooth_band(self, frames: int, fps: float) -> np.ndarray:
        """Banded (lower form) Hessian of the smoothness terms, shape (2 nv + 1, T nv).

        Diagonals of ``D1^T D1`` (first differences, rows ``x[t+1] - x[t]``) and ``D2^T D2``
        (second differences, coefficients 1, -2, 1), written out exactly.
        """
        nv = self.kin.nv
        band = np.zeros((2 * nv + 1, frames * nv))
        if frames < 2:
            return band
        cv, ca = self._smooth_weights(fps)
        # Unit diagonals of D1^T D1 (main, first) and of D2^T D2 (main, first, second).
        d1, o1 = np.zeros(frames), -np.ones(frames - 1)
        d1[:-1] += 1.0
        d1[1:] += 1.0
        d2, o21, o22 = np.zeros(frames), np.zeros(frames - 1), np.ones(max(frames - 2, 0))
        if frames >= 3:
            d2[:-2] += 1.0
            d2[1:-1] += 4.0
            d2[2:] += 1.0
            o21[:-1] -= 2.0
            o21[1:] -= 2.0
        for offset, (first, second) in enumerate(((d1, d2), (o1, o21), (np.zeros_like(o22), o22))):
            values = first[:, None] * cv + second[:, None] * ca
            band[offset * nv, : values.size] = values.reshape(-1)
        return band

    def _smooth_terms(self, state: SolverState, fps: float) -> tuple[float, np.ndarray]:
        """Smoothness cost and its half-gradient (T, nv)."""
        grad = np.zeros((state.num_frames, self.kin.nv))
        if state.num_frames < 2:
            return 0.0, grad
        cv, ca = self._smooth_weights(fps)
        first, second = self._smooth_residuals(state)
        grad += cv * _diff_t(first)
        if state.num_frames >= 3:
            grad += ca * _diff_t(_diff_t(second))
        return float(np.sum(cv * first**2) + np.sum(ca * second**2)), grad

    # ------------------------------------------------------------------ Levenberg-Marquardt
    def _evaluate(self, state: SolverState, problem: _Problem) -> tuple[float, _Rows]:
        pose = self.kin.forward(state.root_pos, state.root_rot, state.joint_pos)
        rows = self._rows(state, pose, problem)
        posture = float(np.sum(self.posture2 * (state.joint_pos - self.home) ** 2))
        smooth, smooth_gradient = self._smooth_terms(state, problem.fps)
        rows = replace(rows, smooth_gradient=smooth_gradient)
        return float(np.sum(rows.dense_r**2) + np.sum(rows.sparse_r**2)) + posture + smooth, rows

    def _normal_equations(self, rows: _Rows, state: SolverState) -> tuple[np.ndarray, np.ndarray]:
        """Band matrix (lower form) and half-gradient (T nv,) of the Gauss-Newton model."""
        frames, nv = state.num_frames, self.kin.nv
        jt = np.swapaxes(rows.dense_j, 1, 2)
        hessian = jt @ rows.dense_j
        gradient = np.einsum("tvr,tr->tv", jt, rows.dense_r)
        sparse_h, sparse_g = _group_gram(rows.sparse_frames, rows.sparse_j, rows.sparse_r, frames)
        hessian += sparse_h
        gradient += sparse_g
        # Watched rows (inactive, close to their margin) stiffen the model in their direction so that
        # a contact does not switch on and off from one iteration to the next.
        watch_h, _ = _group_gram(rows.watch_frames, rows.watch_j, rows.watch_r, frames)
        hessian += watch_h
        idx = np.arange(6, nv)
        hessian[:, idx, idx] += self.posture2
        gradient[:, 6:] += self.posture2 * (state.joint_pos - self.home)
        gradient += rows.smooth_gradient
        band = np.zeros((2 * nv + 1, frames, nv))
        for offset in range(nv):
            band[offset, :, : nv - offset] = np.diagonal(hessian, offset=-offset, axis1=1, axis2=2)
        return band.reshape(2 * nv + 1, frames * nv), gradient.reshape(-1)

    def _apply(self, state: SolverState, step: np.ndarray) -> SolverState:
        root_pos, root_rot, joint_pos = self.kin.integrate(state.root_pos, state.root_rot, state.joint_pos, step)
        return SolverState(root_pos, root_rot, np.clip(joint_pos, self.limits[:, 0], self.limits[:, 1]))

    def _freeze_bound_joints(self, band: np.ndarray, gradient: np.ndarray, state: SolverState) -> None:
        """Take joints that sit on a limit and are pushed outwards out of this step (in place).

        The projected Newton rule (Bertsekas): a coordinate on its bound whose descent direction
        points out of the box is fixed for the step, so the Gauss-Newton step of the others is not
        spoiled by a move that the limit would cut off anyway.
        """
        nv, half = self.kin.nv, band.shape[0] - 1
        g = gradient.reshape(-1, nv)[:, 6:]
        q = state.joint_pos
        eps = 1e-9
        frozen = ((q <= self.limits[:, 0] + eps) & (g > 0)) | ((q >= self.limits[:, 1] - eps) & (g < 0))
        frames, joints = np.nonzero(frozen)
        if len(frames) == 0:
            return
        index = frames * nv + 6 + joints
        offsets = np.arange(1, half + 1)
        band[1:, index] = 0.0  # column entries below the diagonal
        rows = index[:, None] - offsets[None, :]  # row entries left of the diagonal
        valid = rows >= 0
        band[np.broadcast_to(offsets, rows.shape)[valid], rows[valid]] = 0.0
        band[0, index] = 1.0
        gradient[index] = 0.0

    @staticmethod
    def _limit_step(step: np.ndarray, rows: _Rows) -> np.ndarray:
        """Shorten the step of each frame so that no watched (inactive) penalty row is crossed.

        The Gauss-Newton model does not see inactive floor/collision rows; a full step can jump
        deep into one and be rejected. Per frame, the step is scaled (down to
        :data:`MIN_STEP_FRACTION`) so that the linearised distance of every watched row stays
        at or above its margin; the row then becomes active in the next iteration.
        """
        if len(rows.watch_frames) == 0:
            return step
        change = np.einsum("mi,mi->m", rows.watch_j, step[rows.watch_frames])
        crossing = change < -rows.watch_r
        if not np.any(crossing):
            return step
        fraction = np.ones(step.shape[0])
        np.minimum.at(fraction, rows.watch_frames[crossing], rows.watch_r[crossing] / -change[crossing])
        return step * np.maximum(fraction, MIN_STEP_FRACTION)[:, None]

    def _minimize(self, state: SolverState, problem: _Problem) -> tuple[SolverState, int, list[float]]:
        """Levenberg-Marquardt with Nielsen's damping update; returns (state, iterations, costs)."""
        frames = state.num_frames
        cost, rows = self._evaluate(state, problem)
        costs = [cost]
        damping, growth = 1e-4, 2.0
        iterations = 0
        while iterations < self.config.max_iterations:
            iterations += 1
            band, gradient = self._normal_equations(rows, state)
            band += problem.smooth_band
            self._freeze_bound_joints(band, gradient, state)
            diag = band[0].copy()
            accepted = False
            while damping < 1e8:
                band[0] = diag * (1.0 + damping) + 1e-9
                try:
                    step = solveh_banded(band, -gradient, lower=True, check_finite=False)
                except LinAlgError:
                    damping, growth = damping * growth, growth * 2.0
                    continue
                # Decrease predicted by the damped Gauss-Newton model (cost = sum of squares).
                predicted = float(step @ (damping * diag * step - gradient))
                if predicted < self.config.tolerance * 0.1 * cost:
                    return state, iterations, costs
                step = self._limit_step(step.reshape(frames, -1), rows)
                candidate = self._apply(state, step)
                candidate_cost, candidate_rows = self._evaluate(candidate, problem)
                if candidate_cost < cost:
                    gain = (cost - candidate_cost) / max(predicted, 1e-300)
                    damping *= max(1.0 / 3.0, 1.0 - (2.0 * min(gain, 1.0) - 1.0) ** 3)
                    growth = 2.0
                    accepted = True
                    break
                damping, growth = damping * growth, growth * 2.0
            if not accepted:
                break
            improvement = (cost - candidate_cost) / max(cost, 1e-12)
            state, cost, rows = candidate, candidate_cost, candidate_rows
            costs.append(cost)
            if improvement < self.config.tolerance:
                break
        return state, iterations, costs
