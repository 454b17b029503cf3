"""``retarget(motion, robot="g1")``: a human motion in, a robot joint trajectory out.

Pipeline (each step in its own module):

1. :mod:`~robomotion.retarget.mapping`: pick the mapping file of the source skeleton.
2. :mod:`~robomotion.foot_contacts`: foot contacts (the motion's own labels or detected).
3. :mod:`~robomotion.retarget.scaling`: per-limb scaling to the robot, ground alignment, foot locks.
4. :mod:`~robomotion.retarget.solver`: whole-clip IK on the robot's MJCF (limits, floor,
   self-collision, smoothness), then motor speed limits; a clip with cuts (root teleports) is
   solved piece by piece.
5. :mod:`~robomotion.retarget.quality`: an independent MuJoCo quality report.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache

import numpy as np
from robomotion.retarget.collision import self_collision_pairs
from robomotion.retarget.config import RetargetConfig
from robomotion.retarget.fk import TreeKinematics
from robomotion.retarget.initial import initial_joint_angles
from robomotion.retarget.kernels import KernelModel, build_model
from robomotion.retarget.mapping import Mapping, load_mapping, mapping_for_skeleton
from robomotion.retarget.quality import RetargetQuality, evaluate_retarget
from robomotion.retarget.robot_geometry import RobotGeometry
from robomotion.retarget.scaling import HumanPoints, RetargetTargets, build_targets, concatenate_targets
from robomotion.retarget.solver import SolverState, WholeClipSolver, limit_joint_speed
from threadpoolctl import ThreadpoolController

from robomotion.errors import FormatError
from robomotion.foot_contacts import detect_foot_contacts, extend_contacts
from robomotion.motion import FOOT_CONTACT_ROLES, HumanMotion, RobotMotion
from robomotion.robots import RobotSpec, get_robot
from robomotion.rotations import matrix_to_quat

__all__ = [
    "RetargetResult",
    "retarget",
    "retarget_points",
    "retarget_with_report",
    "robot_context",
    "source_contacts",
    "split_at_jumps",
]


@dataclass(frozen=True, eq=False)
class RetargetResult:
    """Everything :func:`retarget_with_report` produced.

    Attributes:
        motion: the robot motion.
        quality: its MuJoCo quality report.
        targets: the scaled human targets the solver tracked.
        mapping: the mapping used.
        iterations: solver iterations (summed over the pieces of a clip with cuts).
    """

    motion: RobotMotion
    quality: RetargetQuality
    targets: RetargetTargets
    mapping: Mapping
    iterations: int


@dataclass(frozen=True, eq=False)
class RobotContext:
    """A robot as the retargeter uses it: its spec, measured geometry, self-collision pairs and the
    solver's compiled-kernel arrays."""

    spec: RobotSpec
    geometry: RobotGeometry
    pairs: np.ndarray
    kernel_model: KernelModel


@cache
def robot_context(name: str) -> RobotContext:
    """Robot model, batched kinematics and self-collision pairs (built once per process)."""
    spec = get_robot(name)
    kinematics = TreeKinematics(spec.load_model(scene=False))
    geometry = RobotGeometry.from_kinematics(kinematics)
    pairs = self_collision_pairs(kinematics.model, geometry.capsules)
    return RobotContext(spec, geometry, pairs, build_model(kinematics, geometry.capsules, pairs))


def source_contacts(motion: HumanMotion, config: RetargetConfig) -> tuple[np.ndarray, str]:
    """(T, 4) contacts [left heel, left toe, right heel, right toe] and where they came from.

    ``contacts="auto"``: a motion with its own labels (generated, Kimodo) gets those labels, every
    detected contact added, grown by height hysteresis (:func:`extend_contacts`): ``"source+detected"``;
    one without labels gets the detector's (``"detected"``). ``"source"``: the labels as they are;
    ``"detect"``: the detector's only.
    """
    if config.contacts == "source" and motion.foot_contacts is None:
        raise FormatError("contacts='source' needs a motion with foot_contacts", field="foot_contacts")
    labels = None if config.contacts == "detect" else motion.foot_contacts
    if config.contacts == "source":
        return labels, "source"
    points = motion.joint_positions(FOOT_CONTACT_ROLES)
    detected = detect_foot_contacts(points, motion.fps, config.contact_detection)
    if labels is None:
        return detected, "detected"
    # Labelled (generated) motions: labels start late where a foot skates to a stop and end early
    # at toe-off; the detector and height hysteresis fill those frames in.
    merged = np.asarray(labels, dtype=bool) | detected
    return extend_contacts(merged, points, motion.fps, config.contact_detection), "source+detected"


def _check_motion(motion: HumanMotion) -> None:
    if not isinstance(motion, HumanMotion):
        raise FormatError(f"expected a HumanMotion, got {type(motion).__name__}", field="motion")
    missing = [role for role in FOOT_CONTACT_ROLES if not motion.skeleton.has_role(role)]
    if missing:
        raise FormatError(
            f"skeleton '{motion.skeleton.name}' has no roles {missing}; retargeting needs feet", field="skeleton"
        )


def retarget_with_report(
    motion: HumanMotion,
    robot: str = "g1",
    mapping: str | Mapping | None = None,
    config: RetargetConfig | None = None,
    **options,
) -> RetargetResult:
    """Retarget ``motion`` to ``robot`` and measure the result (see :func:`retarget`)."""
    config = (config or RetargetConfig()).replace(**options)
    human, metadata, contact_source = _human_points(motion, config)
    return retarget_points(human, robot, mapping, config, metadata, contact_source)


def _human_points(motion: HumanMotion, config: RetargetConfig) -> tuple[HumanPoints, dict, str]:
    """The retargeter's view of ``motion``: joint positions and contacts, its JSON metadata, where
    the contacts came from."""
    _check_motion(motion)
    contacts, contact_source = source_contacts(motion, config)
    human = HumanPoints(motion.skeleton, motion.global_positions, motion.fps, np.asarray(contacts, dtype=bool))
    metadata = {k: v for k, v in motion.metadata.items() if _is_json_scalar(v)}
    return human, metadata, contact_source


def retarget_points(
    human: HumanPoints,
    robot: str = "g1",
    mapping: str | Mapping | None = None,
    config: RetargetConfig | None = None,
    metadata: dict | None = None,
    contact_source: str = "given",
) -> RetargetResult:
    """Retarget joint positions with known contacts and measure the result (the core of
    :func:`retarget_with_report`).

    A clip whose root jumps faster than ``config.max_root_speed`` between two frames (a cut or a
    capture glitch) is split there; the pieces are solved independently and joined again, so the
    output jumps where the input does. ``metadata`` is copied into the robot motion's;
    ``contact_source`` says where ``human.contacts`` came from (``metadata["retarget"]["contacts"]``).
    """
    solved = _retarget(human, robot, mapping, config or RetargetConfig(), metadata, contact_source)
    targets = solved.targets
    quality = evaluate_retarget(
        solved.motion, targets.keypoint_names, targets.keypoints, targets.foot_contacts, pieces=solved.pieces
    )
    return RetargetResult(solved.motion, quality, targets, solved.mapping, solved.iterations)


@dataclass(frozen=True, eq=False)
class _Solved:
    """A retargeted clip before its quality report."""

    motion: RobotMotion
    targets: RetargetTargets
    mapping: Mapping
    iterations: int
    pieces: list[tuple[int, int]]


def _retarget(
    human: HumanPoints,
    robot: str,
    mapping: str | Mapping | None,
    config: RetargetConfig,
    metadata: dict | None,
    contact_source: str,
) -> _Solved:
    """Check the input, pick the mapping, solve the clip piece by piece (see :func:`retarget_points`)."""
    positions = np.asarray(human.positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[0] == 0:
        raise FormatError(f"expected joint positions of shape (T >= 1, J, 3), got {positions.shape}", field="positions")
    if not np.all(np.isfinite(positions)):
        raise FormatError("joint positions contain NaN or inf", field="positions")
    context = robot_context(robot)
    spec = context.spec
    if mapping is None:
        mapping = mapping_for_skeleton(human.skeleton, robot)
    elif isinstance(mapping, str):
        mapping = load_mapping(mapping)
    missing = mapping.missing_joints(human.skeleton)
    if missing:
        raise FormatError(f"skeleton '{human.skeleton.name}' lacks joints {missing}", mapping.path, "skeleton")

    pieces = split_at_jumps(human.point(mapping.root.hips), human.fps, config.max_root_speed)
    solved = [_solve_piece(human.take(start, end), mapping, config, context) for start, end in pieces]
    targets = concatenate_targets([piece[1] for piece in solved])
    states = [piece[0] for piece in solved]
    iterations = sum(piece[2] for piece in solved)
    hinges = _hinge_names(context.geometry.kinematics)
    robot_motion = RobotMotion(
        robot=spec.name,
        fps=human.fps,
        root_pos=np.concatenate([state.root_pos for state in states]),
        root_quat=matrix_to_quat(np.concatenate([state.root_rot for state in states])),
        joint_pos=np.concatenate([state.joint_pos for state in states]),
        joint_names=hinges,
        metadata={
            **(metadata or {}),
            "retarget": {
                "source_skeleton": human.skeleton.name,
                "mapping": mapping.name,
                "contacts": contact_source,
                "iterations": iterations,
                "pieces": [list(piece) for piece in pieces],
                "leg_scale": round(float(targets.scales["legs"]), 4),
            },
        },
    )
    if hinges != tuple(spec.joint_names):
        robot_motion = robot_motion.reorder_joints(spec.joint_names)
    return _Solved(robot_motion, targets, mapping, iterations, pieces)


def split_at_jumps(root: np.ndarray, fps: float, max_speed: float) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` between root jumps faster than ``max_speed`` (m/s); root (T, 3)."""
    speed = np.linalg.norm(np.diff(root, axis=0), axis=-1) * fps
    cuts = (np.flatnonzero(speed > max_speed) + 1).tolist()
    edges = [0, *cuts, root.shape[0]]
    return list(zip(edges[:-1], edges[1:]))


@cache
def _blas_threads() -> ThreadpoolController:
    """The process's BLAS thread pools (found once: scanning the loaded libraries takes ~2 ms)."""
    return ThreadpoolController()


def _solve_piece(
    human: HumanPoints, mapping: Mapping, config: RetargetConfig, context: RobotContext
) -> tuple[SolverState, RetargetTargets, int]:
    """Targets, solve and motor speed limits of one continuous piece of a clip."""
    spec, geometry = context.spec, context.geometry
    targets = build_targets(
        human, mapping, geometry, config.blend_seconds, config.ground_smooth_seconds, swing=config.swing_clearance
    )
    kinematics = geometry.kinematics
    hinges = _hinge_names(kinematics)
    home = spec.home_joint_pos[spec.joint_indices(hinges)]
    posture = np.array([mapping.posture_weight(name, config.posture) for name in hinges])
    held = np.array([any(fnmatch.fnmatchcase(name, p) for p in config.held_joints) for name in hinges])
    solver = WholeClipSolver(
        kinematics, geometry.capsules, context.pairs, home, config, posture, context.kernel_model, held
    )
    body_names = [kinematics.model.body(b).name for b in range(kinematics.nbody)]
    guess = initial_joint_angles(targets, hinges, home, kinematics.joint_limits, body_names)
    initial = SolverState(targets.root_pos, targets.orient_rot[:, 0], guess)
    # The banded solves are small: BLAS threads only add contention (badly so on a busy machine).
    with _blas_threads().limit(limits=1, user_api="blas"):
        result = solver.solve(targets, human.fps, initial)
    state = result.state
    if targets.num_frames > 1:
        speed = config.velocity_limit_scale * spec.velocity_limits[spec.joint_indices(hinges)]
        joints = limit_joint_speed(state.joint_pos, human.fps, speed, kinematics.joint_limits)
        state = SolverState(state.root_pos, state.root_rot, joints)
    return state, targets, result.iterations


def retarget(
    motion: HumanMotion,
    robot: str = "g1",
    mapping: str | Mapping | None = None,
    config: RetargetConfig | None = None,
    **options,
) -> RobotMotion:
    """Retarget a human motion to a robot by whole-clip inverse kinematics.

    Args:
        motion: the source motion (any skeleton with a mapping file; feet roles required).
        robot: robot name (see :func:`robomotion.robots.list_robots`).
        mapping: a mapping name or object; default: chosen from the skeleton.
        config: solver options; ``**options`` override single fields of it
            (e.g. ``acceleration=0.01``, ``contacts="detect"``).

    Returns:
        The robot motion at the source's frame rate; its ``metadata["retarget"]`` says which
        mapping and contacts were used. Call :func:`retarget_with_report` for the quality report
        (it replays the result through MuJoCo, which :func:`retarget` skips).
    """
    config = (config or RetargetConfig()).replace(**options)
    human, metadata, contact_source = _human_points(motion, config)
    return _retarget(human, robot, mapping, config, metadata, contact_source).motion


def _hinge_names(kinematics: TreeKinematics) -> tuple[str, ...]:
    model = kinematics.model
    return tuple(model.joint(j).name for j in range(1, model.njnt))


def _is_json_scalar(value) -> bool:
    return isinstance(value, str | int | float | bool) or (
        isinstance(value, list | tuple) and all(isinstance(v, str | int | float | bool) for v in value)
    )
