"""Whole-clip inverse kinematics: one Levenberg-Marquardt problem over every frame at once.

Unknowns per frame are the solver coordinates of :class:`~robomotion.retarget.fk.TreeKinematics`
(root translation, world-frame root rotation increment, hinge angles; ``nv`` per frame). The
cost is a sum of squared, weighted residuals:

* per frame: root position, frame and foot orientations, bone vectors (hip-knee, knee-ankle,
  shoulder-elbow, elbow-wrist, relative to the robot's own parent joint), foot positions (planted
  feet get a much higher weight), a weak pull towards the home posture;
* active-set penalties, per frame: any collision capsule below the floor, any pair of robot
  capsules that MuJoCo would let collide closer than a margin;
* across frames: velocities and accelerations of every coordinate (temporal smoothness). At
  take-off and landing (the two frames on either side of each edge of a flight, where no foot
  touches the ground) the root translation's acceleration is impulsive and not penalised, and
  within :data:`FLIGHT_WINDOW` frames of a flight it is pulled towards the target root's
  acceleration (free fall, push, landing) instead of towards 0, so the flight keeps its free fall.

The per-frame terms, their Jacobians and their blocks of the normal equations come from compiled
kernels (:mod:`~robomotion.retarget.kernels`, one pass over the frames); the smoothness terms couple
frame t only with frames t-2..t+2, so the Gauss-Newton system is a symmetric band matrix of
bandwidth ``2 nv``, solved with LAPACK's banded Cholesky (:func:`scipy.linalg.solveh_banded`) in
O(T nv^3). Each trial step is linearised at once (one kernel pass: its cost and, if it is
accepted, the next normal equations), unless its predicted gain is below the stopping tolerance
(the phase most likely ends with it): then its cost alone decides. Joints the caller holds
(``held``) stay at their home angles and are no unknowns: the band system has ``nf = nv - held``
columns per frame. Joint limits: projected Newton (joints on a limit that the
step would push outwards are held for that step; every step is projected onto the limits).
Inactive penalty rows close to their margin are "watched": they stiffen the model and shorten
steps that would cross them, which keeps contacts from switching on and off between iterations.
Motor speed limits are enforced after the solve by :func:`limit_joint_speed`.

The solve lifts starting frames that sink more than :data:`LIFT_DEPTH` into the floor onto it,
then runs with all penalties on (self-collision on the capsule pairs that come near each other on
the starting trajectory) until an iteration gains less than ``config.tolerance``; if anything
still penetrates (floor by more than 5 mm, or two capsules of any pair overlap), it goes on with
penalties :data:`REPAIR_SCALE` times stronger.

Units: metres, radians, seconds; z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from robomotion.retarget.collision import CapsuleSet
from robomotion.retarget.config import RetargetConfig
from robomotion.retarget.fk import TreeKinematics
from robomotion.retarget.kernels import (
    KernelModel,
    KernelTargets,
    WatchRows,
    build_model,
    clip_clearances,
    clip_terms,
    frame_lowest,
    limb_columns,
    rotation_steps,
)
from robomotion.retarget.scaling import RetargetTargets
from scipy.linalg import LinAlgError, solveh_banded
from scipy.ndimage import binary_dilation

from robomotion.rotations import rotvec_to_matrix

__all__ = ["SolverResult", "SolverState", "WholeClipSolver", "limit_joint_speed"]

#: Capsule pairs whose bounding spheres stay farther apart than this (m) over a whole phase's
#: starting trajectory are left out of that phase (and checked again at its end).
PAIR_PRUNE_DISTANCE = 0.10
#: A frame of the starting trajectory whose lowest capsule is deeper than this under the floor
#: margin (m) is lifted onto it.
LIFT_DEPTH = 0.02
#: Rounds of re-solving with REPAIR_SCALE times stronger penalties while something still penetrates.
REPAIR_ROUNDS = 2
REPAIR_SCALE = 4.0
#: Floor penetration (m) tolerated before a repair round (the quality report flags 1 cm).
PENETRATION_TOLERANCE = 0.005
#: Inactive floor rows this close to their margin (m) limit the length of each step and stiffen the
#: model; collision rows use the smaller distance (there are many more candidate pairs than geoms).
WATCH_DISTANCE = 0.05
COLLISION_WATCH_DISTANCE = 0.01
#: Frames before and after a flight whose root acceleration follows the target's (take-off, landing).
FLIGHT_WINDOW = 6
#: Levenberg-Marquardt damping (relative to the diagonal) of each phase's first step.
INITIAL_DAMPING = 1e-3
#: A step is scaled down per frame at most to this fraction by the step limiter.
MIN_STEP_FRACTION = 0.2
#: Watched rows stored per frame before the buffer grows.
WATCH_ROWS_PER_FRAME = 8


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
class _Problem:
    """One phase: the kernels' targets, frame rate, the smoothness band, and per acceleration row
    (T - 2, nv) its 0/1 weight and its prior (the second difference it is pulled towards: the
    target root's near flights, else 0)."""

    kernel: KernelTargets
    fps: float
    smooth_band: np.ndarray
    accel_rows: np.ndarray
    accel_prior: np.ndarray


@dataclass(frozen=True, eq=False)
class _Linearization:
    """Cost, Gauss-Newton band matrix (lower form), half-gradient and watched rows at a trajectory."""

    cost: float
    band: np.ndarray
    gradient: np.ndarray
    watch: WatchRows


def _diff_t(s: np.ndarray) -> np.ndarray:
    """``D^T s`` for the first-difference operator D (rows t: x[t+1] - x[t])."""
    out = np.zeros((s.shape[0] + 1,) + s.shape[1:])
    out[:-1] -= s
    out[1:] += s
    return out


def impulse_weights(flight: np.ndarray) -> np.ndarray:
    """(T - 2,) weights of the acceleration rows (centred on frames 1..T-2): 0 at take-off and landing.

    Take-off and landing are the two frames on either side of each edge of a flight (``flight``
    (T,)): the ground pushes impulsively there, so their accelerations are not smoothed (smoothing
    would spread the push into the flight, where nothing can provide it).
    """
    flight = np.asarray(flight, dtype=bool)
    weights = np.ones(max(len(flight) - 2, 0))
    if len(flight) < 3:
        return weights
    weights[(flight[1:-1] != flight[:-2]) | (flight[1:-1] != flight[2:])] = 0.0
    return weights


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
        held: (N,) joints held at ``home_joint_pos`` instead of solved for (fewer unknowns);
            default none. They keep their angle in the kinematics but are not unknowns.
        model: the robot's kernel arrays (:func:`~robomotion.retarget.kernels.build_model`), if
            already built.
    """

    def __init__(
        self,
        kinematics: TreeKinematics,
        capsules: CapsuleSet,
        pairs: np.ndarray,
        home_joint_pos: np.ndarray,
        config: RetargetConfig,
        posture_weights: np.ndarray | None = None,
        model: KernelModel | None = None,
        held: np.ndarray | None = None,
    ):
        self.kin = kinematics
        self.capsules = capsules
        self.model = model if model is not None else build_model(kinematics, capsules, pairs)
        self.pair_active = np.full(len(self.model.pairs), config.self_collision > 0)
        self.home = np.asarray(home_joint_pos, dtype=np.float64)
        if posture_weights is None:
            posture_weights = np.full(kinematics.num_hinges, config.posture)
        self.posture2 = np.asarray(posture_weights, dtype=np.float64) ** 2
        self.config = config
        self.limits = kinematics.joint_limits
        self.held = np.zeros(kinematics.num_hinges, bool) if held is None else np.asarray(held, dtype=bool)
        self.free_hinges = np.flatnonzero(~self.held)
        self.free = np.r_[np.arange(6), 6 + self.free_hinges]  # solver coordinates that are unknowns
        self.col_map = np.full(kinematics.nv, -1, dtype=np.int64)
        self.col_map[self.free] = np.arange(len(self.free))

    # ------------------------------------------------------------------ phases
    def _problem(
        self, targets: RetargetTargets, fps: float, penalties: float, pairs: np.ndarray, margins: np.ndarray
    ) -> _Problem:
        """The kernels' view of ``targets`` with penalty weights scaled by ``penalties`` (0: off), the
        (P,) capsule ``pairs`` checked for self-collision and the (T, G) floor ``margins``."""
        cfg = self.config
        count = len(targets.orient_bodies)
        orient_weight = np.empty((targets.num_frames, count))
        orient_weight[:, 0] = cfg.root_orientation
        orient_weight[:, 1 : count - 2] = cfg.frame_orientation
        orient_weight[:, count - 2 :] = np.where(targets.planted, cfg.planted_orientation, cfg.foot_orientation)
        orient_weight *= targets.orient_weight
        limb_cols, limb_ncols = limb_columns(self.model, targets.limb_child, targets.limb_parent)
        kernel = KernelTargets(
            root_pos=np.ascontiguousarray(targets.root_pos, dtype=np.float64),
            root_weight=float(cfg.root_position),
            orient_bodies=np.asarray(targets.orient_bodies, dtype=np.int64),
            orient_rot=np.ascontiguousarray(targets.orient_rot, dtype=np.float64),
            orient_weight=orient_weight,
            limb_child=np.asarray(targets.limb_child, dtype=np.int64),
            limb_parent=np.asarray(targets.limb_parent, dtype=np.int64),
            limb_vec=np.ascontiguousarray(targets.limb_vec, dtype=np.float64),
            limb_weight=cfg.limb * np.asarray(targets.limb_weight, dtype=np.float64),
            limb_cols=limb_cols,
            limb_ncols=limb_ncols,
            foot_bodies=np.asarray(targets.foot_bodies, dtype=np.int64),
            foot_pos=np.ascontiguousarray(targets.foot_pos, dtype=np.float64),
            foot_weight=np.where(targets.planted, cfg.planted_position, cfg.foot_position).astype(np.float64),
            home=self.home,
            posture2=self.posture2,
            floor_weight=float(penalties * cfg.floor),
            floor_margin=margins,
            floor_watch=WATCH_DISTANCE,
            collision_weight=float(penalties * cfg.self_collision),
            collision_margin=float(cfg.collision_margin),
            collision_watch=COLLISION_WATCH_DISTANCE,
            pair_active=pairs,
            watch_stiffen=True,
            col_map=self.col_map,
            num_free=len(self.free),
        )
        accel_rows = np.ones((max(targets.num_frames - 2, 0), self.kin.nv))
        accel_rows[:, :3] = impulse_weights(targets.flight)[:, None]  # only the root's translation is impulsive
        # Around flights (take-off push, free fall, landing) the root's acceleration is pulled towards
        # the target's, not towards 0: smoothing would spread the push into the flight.
        accel_prior = np.zeros_like(accel_rows)
        if targets.num_frames >= 3 and targets.flight.any():
            near = binary_dilation(targets.flight, iterations=FLIGHT_WINDOW)[1:-1]
            accel_prior[near, :3] = np.diff(targets.root_pos, n=2, axis=0)[near]
        accel_rows, accel_prior = accel_rows[:, self.free], accel_prior[:, self.free]
        band = self._smooth_band(targets.num_frames, fps, accel_rows)
        return _Problem(kernel, fps, band, accel_rows, accel_prior)

    def _floor_margins(self, targets: RetargetTargets) -> np.ndarray:
        """(T, G) lowest allowed height of each capsule, m: ``floor_margin``, and on the feet at least
        their sole clearance (a swinging foot moving fast stays clear of the floor)."""
        margins = np.full((targets.num_frames, len(self.model.cap_body)), float(self.config.floor_margin))
        for side, body in enumerate(targets.foot_bodies):
            on_foot = self.model.cap_body == body
            margins[:, on_foot] = np.maximum(margins[:, on_foot], targets.sole_clearance[:, side, None])
        return margins

    def solve(self, targets: RetargetTargets, fps: float, initial: SolverState) -> SolverResult:
        """Minimise the cost from ``initial`` (see the module docstring for the phases)."""
        joint_pos = np.clip(initial.joint_pos, self.limits[:, 0], self.limits[:, 1]).astype(np.float64)
        joint_pos[:, self.held] = self.home[self.held]
        state = SolverState(
            np.ascontiguousarray(initial.root_pos, dtype=np.float64),
            np.ascontiguousarray(initial.root_rot, dtype=np.float64),
            joint_pos,
        )
        # Start above the floor: a frame whose guess sinks into it by more than LIFT_DEPTH (a kneel,
        # a deep squat) is lifted whole. Floor penalties would otherwise dominate the first iterations, whose steps the
        # limiter keeps short.
        sunk = self.config.floor_margin - frame_lowest(self.model, state.root_pos, state.root_rot, state.joint_pos)
        sunk[sunk < LIFT_DEPTH] = 0.0
        state = SolverState(state.root_pos + sunk[:, None] * np.array([0.0, 0.0, 1.0]), state.root_rot, state.joint_pos)
        iterations, scale = 0, 1.0
        margins = self._floor_margins(targets)
        pairs = self._candidate_pairs(state, margins)
        for _ in range(REPAIR_ROUNDS + 1):
            state, more, costs = self._minimize(state, self._problem(targets, fps, scale, pairs, margins))
            iterations += more
            lowest, gaps, distances = clip_clearances(
                self.model, state.root_pos, state.root_rot, state.joint_pos, margins
            )
            overlapping = self.pair_active & (distances < 0.0)
            if lowest.min() >= -PENETRATION_TOLERANCE and not overlapping.any():
                break
            scale *= REPAIR_SCALE
            pairs = self.pair_active & ((gaps < PAIR_PRUNE_DISTANCE + self.config.collision_margin) | overlapping)
        return SolverResult(state, iterations, costs)

    def _candidate_pairs(self, state: SolverState, margins: np.ndarray) -> np.ndarray:
        """(P,) pairs whose bounding spheres come within :data:`PAIR_PRUNE_DISTANCE` in some frame."""
        _, gaps, _ = clip_clearances(self.model, state.root_pos, state.root_rot, state.joint_pos, margins)
        return self.pair_active & (gaps < PAIR_PRUNE_DISTANCE + self.config.collision_margin)

    # ------------------------------------------------------------------ smoothness
    def _smooth_weights(self, fps: float) -> tuple[np.ndarray, np.ndarray]:
        """Per-unknown weights (nf,) of squared velocities and accelerations (physical units)."""
        cfg = self.config
        accel = np.full(len(self.free), cfg.acceleration)
        accel[:6] = cfg.root_acceleration
        return np.full(len(self.free), (cfg.velocity * fps) ** 2), (accel * fps**2) ** 2

    def _smooth_residuals(self, state: SolverState) -> tuple[np.ndarray, np.ndarray]:
        """First and second differences (T-1, nf), (T-2, nf) of the unknown solver coordinates
        (held joints do not move).

        The root rotation's difference is the rotation vector of ``R[t+1] R[t]^T`` (world frame).
        """
        first = np.concatenate(
            [
                np.diff(state.root_pos, axis=0),
                rotation_steps(state.root_rot),
                np.diff(state.joint_pos[:, self.free_hinges], axis=0),
            ],
            axis=1,
        )
        return first, np.diff(first, axis=0)

    def _smooth_band(self, frames: int, fps: float, accel_rows: np.ndarray) -> np.ndarray:
        """Banded (lower form) Hessian of the smoothness terms, shape (2 nf + 1, T nf) (nf unknowns per frame).

        Diagonals of ``D1^T D1`` (first differences, rows ``x[t+1] - x[t]``) and ``D2^T W D2``
        (second differences, coefficients 1, -2, 1, 0/1 row weights ``accel_rows`` (T - 2, nf)),
        written out exactly.
        """
        nv = len(self.free)
        band = np.zeros((2 * nv + 1, frames * nv))
        if frames < 2:
            return band
        cv, ca = self._smooth_weights(fps)
        d1, o1 = np.zeros(frames), -np.ones(frames - 1)
        d1[:-1] += 1.0
        d1[1:] += 1.0
        d2, o21, o22 = np.zeros((frames, nv)), np.zeros((frames - 1, nv)), np.zeros((max(frames - 2, 0), nv))
        if frames >= 3:
            d2[:-2] += accel_rows
            d2[1:-1] += 4.0 * accel_rows
            d2[2:] += accel_rows
            o21[:-1] -= 2.0 * accel_rows
            o21[1:] -= 2.0 * accel_rows
            o22[:] = accel_rows
        for offset, (first, second) in enumerate(((d1, d2), (o1, o21), (np.zeros(len(o22)), o22))):
            values = first[:, None] * cv + second * ca
            band[offset * nv, : values.size] = values.reshape(-1)
        return band

    def _smooth_terms(self, state: SolverState, problem: _Problem) -> tuple[float, np.ndarray]:
        """Smoothness cost and its half-gradient (T, nf)."""
        grad = np.zeros((state.num_frames, len(self.free)))
        if state.num_frames < 2:
            return 0.0, grad
        cv, ca = self._smooth_weights(problem.fps)
        first, second = self._smooth_residuals(state)
        second = (second - problem.accel_prior) * problem.accel_rows
        grad += cv * _diff_t(first)
        if state.num_frames >= 3:
            grad += ca * _diff_t(_diff_t(second))
        return float(np.sum(cv * first**2) + np.sum(ca * second**2)), grad

    # ------------------------------------------------------------------ Levenberg-Marquardt
    def _linearize(self, state: SolverState, problem: _Problem, capacity: int = 0) -> _Linearization:
        """Cost, band matrix (smoothness included) and half-gradient of the Gauss-Newton model;
        ``capacity``: room for watched rows (at least :data:`WATCH_ROWS_PER_FRAME` per frame)."""
        frames, nv = state.num_frames, len(self.free)
        capacity = max(capacity, WATCH_ROWS_PER_FRAME * frames)
        while True:
            band = problem.smooth_band.copy()
            gradient = np.zeros(frames * nv)
            width = max(self.model.body_cols.shape[1], self.model.pair_hinges.shape[1])
            watch = (
                np.empty(capacity, np.int64), np.empty(capacity), np.empty((capacity, width), np.int64),
                np.empty((capacity, width)), np.zeros(1, np.int64),
            )
            cost = clip_terms(
                self.model, problem.kernel, state.root_pos, state.root_rot, state.joint_pos, True, band, gradient, watch
            )
            count = int(watch[4][0])
            if count <= capacity:
                break
            capacity = count
        smooth, smooth_gradient = self._smooth_terms(state, problem)
        gradient += smooth_gradient.reshape(-1)
        rows = WatchRows(watch[0][:count], watch[1][:count], watch[2][:count], watch[3][:count])
        return _Linearization(cost + smooth, band, gradient, rows)

    def _expand(self, step: np.ndarray) -> np.ndarray:
        """(T, nv) step of every solver coordinate from the (T * nf,) step of the unknowns (held: 0)."""
        full = np.zeros((step.size // len(self.free), self.kin.nv))
        full[:, self.free] = step.reshape(full.shape[0], -1)
        return full

    def _cost(self, state: SolverState, problem: _Problem) -> float:
        """The cost alone (no normal equations)."""
        empty = np.empty(0)
        watch = (np.empty(0, np.int64), empty, np.empty((0, 1), np.int64), np.empty((0, 1)), np.zeros(1, np.int64))
        trajectory = (state.root_pos, state.root_rot, state.joint_pos)
        cost = clip_terms(self.model, problem.kernel, *trajectory, False, np.empty((1, 1)), empty, watch)
        return cost + self._smooth_terms(state, problem)[0]

    def _apply(self, state: SolverState, step: np.ndarray) -> SolverState:
        root_pos = state.root_pos + step[:, 0:3]
        root_rot = rotvec_to_matrix(step[:, 3:6]) @ state.root_rot
        joint_pos = np.clip(state.joint_pos + step[:, 6:], self.limits[:, 0], self.limits[:, 1])
        return SolverState(root_pos, root_rot, joint_pos)

    def _freeze_bound_joints(self, band: np.ndarray, gradient: np.ndarray, state: SolverState) -> None:
        """Take joints that sit on a limit and are pushed outwards out of this step (in place).

        The projected Newton rule (Bertsekas): a coordinate on its bound whose descent direction
        points out of the box is fixed for the step, so the Gauss-Newton step of the others is not
        spoiled by a move that the limit would cut off anyway.
        """
        nv, half = len(self.free), band.shape[0] - 1
        g = gradient.reshape(-1, nv)[:, 6:]
        q = state.joint_pos[:, self.free_hinges]
        low, high = self.limits[self.free_hinges, 0], self.limits[self.free_hinges, 1]
        eps = 1e-9
        frozen = ((q <= low + eps) & (g > 0)) | ((q >= high - eps) & (g < 0))
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

    def _limit_step(self, step: np.ndarray, watch: WatchRows) -> np.ndarray:
        """Shorten the step of each frame so that no watched (inactive) penalty row is crossed.

        The Gauss-Newton model does not see inactive floor/collision rows; a full step can jump
        deep into one and be rejected. Per frame, the step is scaled (down to
        :data:`MIN_STEP_FRACTION`) so that the linearised distance of every watched row stays
        at or above its margin; the row then becomes active in the next iteration.
        """
        if len(watch.frames) == 0:
            return step
        padded = np.concatenate([step, np.zeros((step.shape[0], 1))], axis=1)
        change = np.einsum("mk,mk->m", watch.vals, padded[watch.frames[:, None], watch.cols])
        crossing = change < -watch.residual
        if not np.any(crossing):
            return step
        fraction = np.ones(step.shape[0])
        np.minimum.at(fraction, watch.frames[crossing], watch.residual[crossing] / -change[crossing])
        return step * np.maximum(fraction, MIN_STEP_FRACTION)[:, None]

    def _minimize(self, state: SolverState, problem: _Problem) -> tuple[SolverState, int, list[float]]:
        """Levenberg-Marquardt with Nielsen's damping update; returns (state, iterations, costs)."""
        model = self._linearize(state, problem)
        cost = model.cost
        costs = [cost]
        damping, growth = INITIAL_DAMPING, 2.0
        iterations = 0
        while iterations < self.config.max_iterations:
            iterations += 1
            band, gradient = model.band, model.gradient
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
                step = self._limit_step(self._expand(step), model.watch)
                candidate = self._apply(state, step)
                # Nearly every step is accepted: linearised at once (room for twice the watched rows
                # seen so far), unless the model expects too small a gain to go on: then the cost
                # alone (a third of a kernel pass) decides, and the linearisation waits.
                final = predicted < self.config.tolerance * cost
                candidate_model = None if final else self._linearize(candidate, problem, 2 * len(model.watch.frames))
                candidate_cost = self._cost(candidate, problem) if final else candidate_model.cost
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
            state, cost = candidate, candidate_cost
            costs.append(cost)
            if improvement < self.config.tolerance:
                break
            if candidate_model is None:  # the gain was larger than the model expected
                candidate_model = self._linearize(state, problem, 2 * len(model.watch.frames))
            model = candidate_model
        return state, iterations, costs
