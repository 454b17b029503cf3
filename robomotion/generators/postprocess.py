"""Post-processing of generated motions: constraint hitting and foot-skate cleanup.

Kimodo runs a small optimisation after sampling; this module does the same jobs with closed-
form, vectorised steps (numpy, all frames at once), in this order:

1. **Root path** (:class:`Root2DConstraint`): the pelvis ground position is moved to within
   ``root_margin`` metres of each target (Kimodo's default margin 0.04 m) and the heading to
   its target; the corrections are interpolated linearly between constrained frames (zero at
   frame 0 unless constrained, held after the last one), so the path bends smoothly.
2. **Grounding** (:func:`ground_motion`): a human keeps some body part on the floor except in
   ballistic flights. Stretches with no joint near the floor are pulled down: a stretch of up
   to ``Grounding.max_flight`` seconds may rise at most as high as a ballistic flight of that
   length (lowest joint under ``g t (T - t) / 2`` above take-off); a longer one keeps one flight
   of ``Grounding.long_flight`` seconds around its highest frame and is put on the floor
   elsewhere.
3. **Foot-skate cleanup**: during each contact interval (the motion's foot contacts), the
   ankle is pinned to its mean position over the interval by two-bone leg IK (hip, knee), and
   the toe by turning the ankle; the pinning fades in/out over ``blend_frames`` frames.
4. **Pose constraints** (:class:`FullBodyConstraint`, :class:`EndEffectorConstraint`):
   keyframes are hit exactly at their frames (full pose; or root + two-bone IK of the named
   hand/foot chains plus the end joint's global rotation), and the correction is spread to
   neighbouring frames with tent weights that reach zero at the next keyframe or after
   ``blend_frames * 2`` frames, so keyframes never disturb each other.

Frames: z-up, metres, radians; rotations (w, x, y, z).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from robomotion.foot_contacts import ContactDetection, detect_foot_contacts, extend_contacts
from robomotion.generators.constraints import (
    END_EFFECTOR_CHAINS,
    Constraint,
    EndEffectorConstraint,
    FullBodyConstraint,
    Root2DConstraint,
)
from robomotion.generators.features import heading_from_positions
from robomotion.motion import FOOT_CONTACT_ROLES, HumanMotion
from robomotion.rotations import matrix_to_quat, matrix_to_rotvec, quat_to_matrix, rotvec_to_matrix
from robomotion.skeleton import Skeleton, forward_kinematics_matrices

__all__ = [
    "FootCleanup",
    "Grounding",
    "ground_motion",
    "clean_feet",
    "cleanup_foot_skate",
    "floor_heights",
    "foot_contacts",
    "hit_pose_constraints",
    "hit_root_constraints",
    "lift_out_of_floor",
    "postprocess_motion",
    "two_bone_ik",
]

#: Two-bone chains (root joint, middle joint, end joint) per end-effector, by skeleton role.
_LIMBS = {
    "LeftFoot": ("left_hip", "left_knee", "left_ankle"),
    "RightFoot": ("right_hip", "right_knee", "right_ankle"),
    "LeftHand": ("left_shoulder", "left_elbow", "left_wrist"),
    "RightHand": ("right_shoulder", "right_elbow", "right_wrist"),
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(np.sum(_unit(u) * _unit(v), axis=-1), -1.0, 1.0))


def _yaw_mats(yaw: np.ndarray) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    out = np.zeros(np.shape(yaw) + (3, 3))
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1], out[..., 2, 2] = c, -s, s, c, 1.0
    return out


def two_bone_ik(
    global_mats: np.ndarray, positions: np.ndarray, chain: tuple[int, int, int], targets: np.ndarray
) -> np.ndarray:
    """Global rotations after moving the end of a two-bone chain onto ``targets``.

    Analytic two-bone IK (law of cosines in the chain's bending plane, then a swing of the
    whole chain towards the target). The end joint keeps its global rotation.

    Args:
        global_mats: (T, J, 3, 3) global joint rotations.
        positions: (T, J, 3) joint positions, metres.
        chain: indices (root a, middle b, end c), e.g. hip, knee, ankle.
        targets: (T, 3) desired end positions, metres.

    Returns:
        (T, J, 3, 3) global rotations with joints a and b changed.
    """
    a_i, b_i, c_i = chain
    a, b, c = positions[:, a_i], positions[:, b_i], positions[:, c_i]
    lab = np.linalg.norm(b - a, axis=-1)
    lcb = np.linalg.norm(c - b, axis=-1)
    lat = np.clip(np.linalg.norm(targets - a, axis=-1), 1e-4, lab + lcb - 1e-4)
    ac_ab_0 = _angle(c - a, b - a)
    ba_bc_0 = _angle(a - b, c - b)
    ac_ab_1 = np.arccos(np.clip((lcb**2 - lab**2 - lat**2) / (-2 * lab * lat), -1, 1))
    ba_bc_1 = np.arccos(np.clip((lat**2 - lab**2 - lcb**2) / (-2 * lab * lcb), -1, 1))
    bend = np.cross(c - a, b - a)
    straight = np.linalg.norm(bend, axis=-1) < 1e-6
    fallback = np.cross(c - a, global_mats[:, a_i, :, 0])
    axis0 = _unit(np.where(straight[:, None], fallback, bend))
    r0 = rotvec_to_matrix(axis0 * (ac_ab_1 - ac_ab_0)[:, None])
    r1 = rotvec_to_matrix(axis0 * (ba_bc_1 - ba_bc_0)[:, None])
    out = global_mats.copy()
    out[:, a_i] = r0 @ global_mats[:, a_i]
    out[:, b_i] = r0 @ r1 @ global_mats[:, b_i]
    # Swing the bent chain so that a->c points at the target.
    new_b = a + np.einsum("tij,tj->ti", r0, b - a)
    new_c = new_b + np.einsum("tij,tj->ti", r0 @ r1, c - b)
    swing = _swing_mats(new_c - a, targets - a)
    out[:, a_i] = swing @ out[:, a_i]
    out[:, b_i] = swing @ out[:, b_i]
    return out


def _swing_mats(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(T, 3, 3) shortest rotations taking directions u onto v."""
    axis = np.cross(u, v)
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(norm[..., 0], np.sum(u * v, axis=-1))
    return rotvec_to_matrix(np.where(norm > 1e-12, axis / np.maximum(norm, 1e-12), 0.0) * angle[:, None])


def _fk(skeleton: Skeleton, local_mats: np.ndarray, root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return forward_kinematics_matrices(skeleton, local_mats, root)


def _local_from_global(skeleton: Skeleton, global_mats: np.ndarray) -> np.ndarray:
    local = global_mats.copy()
    local[:, 1:] = np.swapaxes(global_mats[:, skeleton.parents[1:]], -1, -2) @ global_mats[:, 1:]
    return local


def _interpolate(frames: np.ndarray, values: np.ndarray, num_frames: int, anchor_start: bool) -> np.ndarray:
    """Piecewise-linear (T, C) curve through ``values`` at ``frames``; held after the last.

    Before the first constrained frame the curve starts from zero at frame 0 when
    ``anchor_start`` (the motion's canonical start is kept), else it is held.
    """
    order = np.argsort(frames)
    frames, values = frames[order], values[order]
    if anchor_start and frames[0] > 0:
        frames = np.r_[0, frames]
        values = np.concatenate([np.zeros((1, values.shape[1])), values])
    t = np.arange(num_frames)
    return np.stack([np.interp(t, frames, values[:, i]) for i in range(values.shape[1])], axis=-1)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    padded = np.r_[False, flags, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2]))


def _in_range(frames: np.ndarray, num_frames: int) -> np.ndarray:
    return (frames >= 0) & (frames < num_frames)


# ---------------------------------------------------------------------- 1. root
def hit_root_constraints(motion: HumanMotion, constraints: Sequence[Root2DConstraint], root_margin: float = 0.04) -> HumanMotion:
    """Move the pelvis path to within ``root_margin`` of each 2-D target (and to target headings)."""
    frames_xy, residual_xy, frames_yaw, residual_yaw = [], [], [], []
    skeleton = motion.skeleton
    heading = np.unwrap(heading_from_positions(motion.global_positions, skeleton))
    for c in constraints:
        keep = _in_range(c.frame_indices, motion.num_frames)
        frames = c.frame_indices[keep]
        error = c.positions[keep] - motion.root_translation[frames, :2]
        distance = np.linalg.norm(error, axis=-1, keepdims=True)
        frames_xy.append(frames)
        residual_xy.append(error * np.clip(1 - root_margin / np.maximum(distance, 1e-12), 0, 1))
        if c.headings is not None:
            frames_yaw.append(frames)
            residual_yaw.append(np.angle(np.exp(1j * (c.headings[keep] - heading[frames])))[:, None])
    root = motion.root_translation.copy()
    rotations = motion.local_rotations
    if frames_xy and np.concatenate(frames_xy).size:
        frames, residual = np.concatenate(frames_xy), np.concatenate(residual_xy)
        root[:, :2] += _interpolate(frames, residual, motion.num_frames, anchor_start=0 not in frames)
    if frames_yaw and np.concatenate(frames_yaw).size:
        frames, residual = np.concatenate(frames_yaw), np.concatenate(residual_yaw)
        yaw = _interpolate(frames, residual, motion.num_frames, anchor_start=0 not in frames)[:, 0]
        mats = quat_to_matrix(rotations)
        mats[:, 0] = _yaw_mats(yaw) @ mats[:, 0]
        rotations = matrix_to_quat(mats)
    return replace(motion, root_translation=root, local_rotations=rotations)


# ---------------------------------------------------------------------- 2. grounding
@dataclass(frozen=True)
class Grounding:
    """What :func:`ground_motion` allows (metres, seconds, floor z = 0).

    Attributes:
        off_floor_height: lowest joint above this = no body part on the floor (joint centres:
            a flat foot's toe joint sits 0-5 cm up).
        max_flight: longest stretch without floor contact kept as a flight (s).
        long_flight: flight kept inside a longer stretch, around its highest frame (s).
        rest_height: height of the lowest joint where a stretch is put on the floor (m).
        gravity: m/s^2.
        blend_frames: the vertical correction is widened and smoothed over this many frames.
    """

    off_floor_height: float = 0.10
    max_flight: float = 0.8
    long_flight: float = 0.6
    rest_height: float = 0.02
    gravity: float = 9.81
    blend_frames: int = 4


def _ballistic(num: int, fps: float, base: float, gravity: float) -> np.ndarray:
    """Highest allowed lowest-joint height over a ``num``-frame flight taking off at ``base`` m."""
    t = (np.arange(num) + 0.5) / fps
    return base + 0.5 * gravity * t * (num / fps - t)


def ground_motion(motion: HumanMotion, params: Grounding = Grounding()) -> HumanMotion:
    """Pull the body down wherever it leaves the floor longer or higher than a ballistic flight.

    Per frame, the lowest joint's height gets an upper bound (see the module docstring, step 2);
    the root is lowered by the excess, widened by a running maximum and smoothed over
    ``params.blend_frames`` frames. Frames already within the bound keep their height unless
    they neighbour a lowered frame.
    """
    fps = motion.fps
    lowest = motion.global_positions[..., 2].min(axis=1)
    allowed = np.full(motion.num_frames, np.inf)
    for start, end in _runs(lowest > params.off_floor_height):
        num = end - start
        if num / fps <= params.max_flight:
            allowed[start:end] = _ballistic(num, fps, params.off_floor_height, params.gravity)
            continue
        allowed[start:end] = params.rest_height
        keep = int(round(params.long_flight * fps))
        first = int(np.clip(start + np.argmax(lowest[start:end]) - keep // 2, start, end - keep))
        allowed[first : first + keep] = _ballistic(keep, fps, params.off_floor_height, params.gravity)
    excess = np.clip(lowest - allowed, 0.0, None)
    if not excess.any():
        return motion
    width = 2 * params.blend_frames + 1
    drop = np.maximum(uniform_filter1d(maximum_filter1d(excess, width, mode="nearest"), width, mode="nearest"), excess)
    root = motion.root_translation.copy()
    root[:, 2] -= drop
    return replace(motion, root_translation=root)


# ---------------------------------------------------------------------- 3. feet
@dataclass(frozen=True)
class FootCleanup:
    """Parameters of the foot cleanup (human scale, metres, seconds; floor z = 0).

    Attributes:
        detection: contact detection and touchdown/toe-off hysteresis (:mod:`robomotion.foot_contacts`).
        blend_frames: frames over which a pin fades in before and out after a contact interval.
        toe_height: height of a toe joint resting on the floor, m.
        ankle_height: height of an ankle joint above its toe when the foot lies flat, m, used when
            the motion has no frame with both joints of a foot in contact (else measured there).
        ankle_height_range: the measured ankle height is clipped to this range, m.
        lift_frames: the whole-body lift that removes ground penetration is spread over this
            many frames on either side of a penetrating frame (never less than the penetration).
    """

    detection: ContactDetection = ContactDetection()
    blend_frames: int = 4
    toe_height: float = 0.0
    ankle_height: float = 0.05
    ankle_height_range: tuple[float, float] = (0.03, 0.08)
    lift_frames: int = 3


def foot_contacts(
    motion: HumanMotion, labels: np.ndarray | None = None, params: FootCleanup = FootCleanup()
) -> tuple[np.ndarray, np.ndarray]:
    """Contact flags (T, 4) of [left ankle, left toe, right ankle, right toe] and their core frames.

    Core frames (the foot is slow and low) are the union of ``labels`` (e.g. the model's own
    contact labels, which start late and end early) and :func:`~robomotion.foot_contacts.detect_foot_contacts`
    on the motion; the contacts add the height hysteresis of
    :func:`~robomotion.foot_contacts.extend_contacts` (from touchdown while still moving until toe-off).
    """
    points = motion.joint_positions(FOOT_CONTACT_ROLES)
    core = detect_foot_contacts(points, motion.fps, params.detection)
    if labels is not None:
        core |= np.asarray(labels, dtype=bool)
    return extend_contacts(core, points, motion.fps, params.detection), core


def floor_heights(points: np.ndarray, core: np.ndarray, params: FootCleanup = FootCleanup()) -> np.ndarray:
    """(4,) heights of [left ankle, left toe, right ankle, right toe] on the floor, metres.

    A toe rests at ``params.toe_height``; an ankle that far plus its median height above the toe
    over the frames where both joints of its foot are in contact (``params.ankle_height`` when
    there are none), clipped to ``params.ankle_height_range``.
    """
    heights = np.full(4, params.toe_height)
    for ankle, toe in ((0, 1), (2, 3)):
        both = core[:, ankle] & core[:, toe]
        above = np.median(points[both, ankle, 2] - points[both, toe, 2]) if both.any() else params.ankle_height
        heights[ankle] += np.clip(above, *params.ankle_height_range)
    return heights


def lift_out_of_floor(motion: HumanMotion, heights: np.ndarray, params: FootCleanup = FootCleanup()) -> HumanMotion:
    """Raise the whole body in frames where a foot joint is below its floor height (``heights`` (4,)).

    The lift per frame is the deepest penetration, widened by a running maximum and smoothed over
    ``params.lift_frames`` frames (so it is never below the penetration and has no step); frames
    far from any penetration keep their height, so no floating is added there.
    """
    points = motion.joint_positions(FOOT_CONTACT_ROLES)
    depth = np.max(heights - points[..., 2], axis=1).clip(min=0.0)
    if not depth.any():
        return motion
    width = 2 * params.lift_frames + 1
    lift = uniform_filter1d(maximum_filter1d(depth, width, mode="nearest"), width, mode="nearest")
    root = motion.root_translation.copy()
    root[:, 2] += np.maximum(lift, depth)
    return replace(motion, root_translation=root)


def _pin_curve(
    positions: np.ndarray, contact: np.ndarray, core: np.ndarray, height: float | None, blend: int
) -> tuple[np.ndarray, np.ndarray]:
    """Targets (T, 3) pinning a point during contact runs, and a 0..1 weight per frame.

    Each run is pinned at one position: horizontally the mean over its ``core`` frames (where the
    foot has stopped; the whole run when it has none), vertically ``height`` (on the floor; None:
    the same mean).
    """
    num = len(positions)
    offset = np.zeros_like(positions)
    weight = np.zeros(num)
    for start, end in _runs(contact):
        still = core[start:end] if core[start:end].any() else np.ones(end - start, dtype=bool)
        pin = positions[start:end][still].mean(axis=0)
        if height is not None:
            pin[2] = height
        offset[start:end] = pin - positions[start:end]
        weight[start:end] = 1.0
        for k in range(1, blend + 1):
            fade = 1.0 - k / (blend + 1)
            for frame, edge in ((start - k, start), (end - 1 + k, end - 1)):
                if 0 <= frame < num and fade > weight[frame]:
                    weight[frame] = fade
                    offset[frame] = pin - positions[edge]
    return positions + offset * weight[:, None], weight


def cleanup_foot_skate(
    motion: HumanMotion,
    contacts: np.ndarray | None = None,
    core: np.ndarray | None = None,
    heights: np.ndarray | None = None,
    blend_frames: int = FootCleanup.blend_frames,
) -> HumanMotion:
    """Pin ankles (leg IK) and toes (ankle rotation) during foot contacts; see the module docstring.

    Args:
        motion: the motion to clean.
        contacts: (T, 4) contact flags [left ankle, left toe, right ankle, right toe]; default
            ``motion.contacts()``.
        core: (T, 4) frames whose mean position is the pin of their contact run; default ``contacts``.
        heights: (4,) floor heights of those joints, metres (:func:`floor_heights`); default: each
            run is pinned at its own mean (core) height.
        blend_frames: frames over which each pin fades in and out.
    """
    skeleton = motion.skeleton
    contacts = motion.contacts() if contacts is None else np.asarray(contacts, dtype=bool)
    core = contacts if core is None else np.asarray(core, dtype=bool)
    local = quat_to_matrix(motion.local_rotations)
    root = motion.root_translation
    for side, (ankle_ch, toe_ch) in (("left", (0, 1)), ("right", (2, 3))):
        hip, knee, ankle, toe = (skeleton.index(f"{side}_{j}") for j in ("hip", "knee", "ankle", "toe"))
        positions, global_mats = _fk(skeleton, local, root)
        toe_target, toe_weight = _pin_curve(
            positions[:, toe], contacts[:, toe_ch], core[:, toe_ch], _get(heights, toe_ch), blend_frames
        )
        target, weight = _pin_curve(
            positions[:, ankle], contacts[:, ankle_ch], core[:, ankle_ch], _get(heights, ankle_ch), blend_frames
        )
        # Toe planted, heel not (toe-off): the ankle turns about the pinned toe, one foot length away.
        length = np.linalg.norm(positions[:, toe] - positions[:, ankle], axis=-1)
        hinge = toe_target + length[:, None] * _unit(target - toe_target)
        share = toe_weight * (1.0 - weight)
        target += share[:, None] * (hinge - target)
        weight = np.maximum(weight, share)
        if weight.any():
            solved = two_bone_ik(global_mats, positions, (hip, knee, ankle), target)
            global_mats = _blend_globals(global_mats, solved, weight, (hip, knee))
            local = _local_from_global(skeleton, global_mats)
            positions, global_mats = _fk(skeleton, local, root)
        if toe_weight.any():
            foot = positions[:, toe] - positions[:, ankle]
            aim = _reachable(toe_target - positions[:, ankle], np.linalg.norm(foot, axis=-1))
            turned = global_mats.copy()
            turned[:, [ankle, toe]] = _swing_mats(foot, aim)[:, None] @ global_mats[:, [ankle, toe]]
            global_mats = _blend_globals(global_mats, turned, toe_weight, (ankle, toe))
            local = _local_from_global(skeleton, global_mats)
    return replace(motion, local_rotations=matrix_to_quat(local))


def _reachable(offset: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Offsets (T, 3) from the ankle turned into ones of the foot's ``length`` (T,) with the same height
    (clipped to the length) and horizontal direction: the toe then reaches its pin height exactly."""
    dz = np.clip(offset[:, 2], -length, length)
    across = np.sqrt(np.maximum(length**2 - dz**2, 0.0))
    return np.concatenate([_unit(offset[:, :2]) * across[:, None], dz[:, None]], axis=-1)


def _get(heights: np.ndarray | None, channel: int) -> float | None:
    return None if heights is None else float(heights[channel])


def clean_feet(motion: HumanMotion, labels: np.ndarray | None = None, params: FootCleanup = FootCleanup()) -> HumanMotion:
    """Contacts from the motion (merged with ``labels``), penetration lift, then foot pinning.

    The returned motion carries the core contacts (``labels`` merged with the detected ones) as
    ``foot_contacts``; the retargeter adds the touchdown/toe-off hysteresis itself (storing the
    extended contacts would extend them twice there).
    """
    contacts, core = foot_contacts(motion, labels, params)
    heights = floor_heights(motion.joint_positions(FOOT_CONTACT_ROLES), core, params)
    motion = lift_out_of_floor(motion, heights, params)
    motion = cleanup_foot_skate(motion, contacts, core, heights, params.blend_frames)
    return replace(motion, foot_contacts=core)


def _blend_globals(old: np.ndarray, new: np.ndarray, weight: np.ndarray, joints: Sequence[int]) -> np.ndarray:
    """Per-frame blend of the given joints' global rotations from ``old`` to ``new`` by ``weight``."""
    out = old.copy()
    for j in joints:
        delta = matrix_to_rotvec(new[:, j] @ np.swapaxes(old[:, j], -1, -2))
        out[:, j] = rotvec_to_matrix(delta * weight[:, None]) @ old[:, j]
    return out


# ---------------------------------------------------------------------- 4. poses
def _tent_weights(frames: np.ndarray, num_frames: int, reach: int) -> np.ndarray:
    """(K, T) weights: 1 at each keyframe, falling linearly to 0 at the neighbouring keyframe or ``reach``."""
    order = np.sort(np.unique(frames))
    t = np.arange(num_frames)
    out = np.zeros((len(frames), num_frames))
    for i, k in enumerate(frames):
        pos = np.searchsorted(order, k)
        before = k - order[pos - 1] if pos > 0 else reach
        after = order[pos + 1] - k if pos + 1 < len(order) else reach
        left = np.clip(1 - (k - t) / min(before, reach), 0, 1) * (t <= k)
        right = np.clip(1 - (t - k) / min(after, reach), 0, 1) * (t > k)
        out[i] = left + right
    return out


def hit_pose_constraints(
    motion: HumanMotion, constraints: Sequence[FullBodyConstraint | EndEffectorConstraint], blend_frames: int = 8
) -> HumanMotion:
    """Hit keyframe poses and end-effector targets exactly at their frames, blended around them."""
    skeleton = motion.skeleton
    num = motion.num_frames
    local = quat_to_matrix(motion.local_rotations)
    root = motion.root_translation.copy()
    positions, global_mats = _fk(skeleton, local, root)
    frames, target_local, target_root = [], [], []
    for c in constraints:
        keep = _in_range(c.frame_indices, num)
        if not keep.any():
            continue
        idx = c.frame_indices[keep]
        want_local = quat_to_matrix(c.local_rotations[keep])
        want_root = np.concatenate([c.root_xy[keep], c.root_positions[keep, 2:]], axis=-1)
        if isinstance(c, FullBodyConstraint):
            new_local = want_local
        else:
            new_local = _solve_end_effectors(skeleton, local[idx], root[idx], want_local, want_root, c.joint_names)
        frames.append(idx)
        target_local.append(new_local)
        target_root.append(want_root)
    if not frames:
        return motion
    frames_all = np.concatenate(frames)
    want_local = np.concatenate(target_local)
    want_root = np.concatenate(target_root)
    weights = _tent_weights(frames_all, num, 2 * blend_frames)
    rot_delta = matrix_to_rotvec(want_local @ np.swapaxes(local[frames_all], -1, -2))  # (K, J, 3)
    root_delta = want_root - root[frames_all]
    rotvec = np.einsum("kt,kjc->tjc", weights, rot_delta)
    local = rotvec_to_matrix(rotvec) @ local
    root = root + weights.T @ root_delta
    # Exact at the keyframes (weights sum to 1 there, but rotation vectors do not add exactly).
    local[frames_all] = want_local
    root[frames_all] = want_root
    return replace(motion, local_rotations=matrix_to_quat(local), root_translation=root)


def _solve_end_effectors(
    skeleton: Skeleton,
    local: np.ndarray,
    root: np.ndarray,
    want_local: np.ndarray,
    want_root: np.ndarray,
    names: Sequence[str],
) -> np.ndarray:
    """Local rotations (K, J, 3, 3) of the generated poses with root and named chains moved to targets."""
    target_pos, target_glob = _fk(skeleton, want_local, want_root)
    local = local.copy()
    # Root: position and orientation of the constrained pose (Kimodo constrains root + heading).
    local[:, 0] = want_local[:, 0]
    positions, global_mats = _fk(skeleton, local, want_root)
    for name in names:
        if name == "Hips":
            continue
        a, b, c = (skeleton.index(r) for r in _LIMBS[name])
        global_mats = two_bone_ik(global_mats, positions, (a, b, c), target_pos[:, c])
        global_mats[:, c] = target_glob[:, c]
        for role in END_EFFECTOR_CHAINS[name][1:]:
            j = skeleton.index(role)
            global_mats[:, j] = target_glob[:, j]
        local = _local_from_global(skeleton, global_mats)
        positions, global_mats = _fk(skeleton, local, want_root)
    return local


# ---------------------------------------------------------------------- all
def postprocess_motion(
    motion: HumanMotion,
    constraints: Sequence[Constraint] = (),
    contacts: np.ndarray | None = None,
    root_margin: float = 0.04,
    feet: FootCleanup = FootCleanup(),
    grounding: Grounding | None = Grounding(),
) -> HumanMotion:
    """Root path, grounding, foot cleanup, then exact pose constraints (see the module docstring).

    ``grounding=None`` skips the grounding step.

    ``contacts`` (T, 4) are the model's own labels, merged with contacts detected on the motion.
    """
    roots = [c for c in constraints if isinstance(c, Root2DConstraint)]
    poses = [c for c in constraints if isinstance(c, (FullBodyConstraint, EndEffectorConstraint))]
    if roots:
        motion = hit_root_constraints(motion, roots, root_margin)
    if grounding is not None:
        motion = ground_motion(motion, grounding)
    motion = clean_feet(motion, contacts, feet)
    if poses:
        motion = hit_pose_constraints(motion, poses)
    return motion
