"""Global joint positions → local joint rotations ("pose fitting"), and skeleton-to-skeleton copies.

Motion-capture sets such as the open mocap pack store only global joint positions. Retargeting,
the generators and the rotation-based file formats (AMASS, BVH, Kimodo NPZ) need local joint
rotations, so :func:`fit_pose` computes them: for a skeleton whose rest offsets define the rest
bone directions, it finds per-frame local rotations (w, x, y, z) and a root translation such that
forward kinematics reproduces the positions.

How each joint's rotation is found (all frames at once, joints in topological order):

* **Several children** (pelvis, chest): least-squares rotation (SVD / Kabsch) mapping the rest
  child offsets onto the observed child directions.
* **One child**: the bone is aimed exactly at the observed child (*swing*); the rotation about
  the bone (*twist*), which positions alone do not fix, is chosen so rotations look natural and
  stay continuous:

  - *hinge twist* — hips from the knee's bending plane, shoulders from the elbow's, knees from
    the foot's direction: the twist that lets the next bone swing about the joint's rest hinge
    axis. How far a frame is trusted grows with the bend (a straight limb has no plane; a limb
    bent backwards needs more bend to count), and a recursive filter on the circle follows
    trusted frames exactly, holds the twist through straight-limb stretches and lets it decay
    slowly towards "no twist" — so the twist never jumps where the data does not;
  - *spine twist* — spine joints between the pelvis and the chest take a share of the
    pelvis-to-chest twist proportional to their place along the chain;
  - *no twist* — everything else (collars, elbows, ankles, neck) takes the minimal rotation
    from its parent's frame (the swing only).
* **Leaves** (no child): identity local rotation (their orientation is not observable).

Bones are aimed from the *fitted* position of the parent joint towards the *observed* child, so
errors never accumulate down a chain. :func:`fit_offsets` gives a clip its own bone lengths
(median over frames) while keeping the template's rest bone directions; for joints with several
children it also estimates the clip's own child layout (mean over frames in the best-aligned
frame), because rigs differ there (hip width against spine height, collar placement) and a
template layout would leave a residual. Where a source's layout is not rigid (the CMU 8-action
lower back turns against the hips), the least-squares residual remains: see ``docs/formats.md``.

:func:`retarget_to_skeleton` moves a fitted clip onto another skeleton with the same joints
(e.g. the canonical ``smplx22``).

Frames: z-up world, metres; rotations (w, x, y, z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import HumanMotion
from robomotion.rotations import matrix_to_quat, quat_between_vectors, quat_continuous, quat_to_matrix, rotvec_to_matrix
from robomotion.skeleton import Skeleton

__all__ = ["PoseFit", "fit_offsets", "fit_pose", "motion_from_positions", "retarget_to_skeleton", "leg_length"]

#: Hinge-twist rules: (joint role, child role, grandchild role, rest bend direction hint).
#: The hint is the direction the grandchild bone swings towards when the child joint flexes,
#: in the rest frame (z-up, +x forward); ``None`` takes it from the rest pose itself. The
#: bending plane's normal is read as a direction: knees and elbows bend one way only, so a
#: plane turned far from the "no twist" frame means a turned limb (ballet passé, arm rotations).
_HINGE_RULES: tuple[tuple[str, str, str, tuple[float, float, float] | None], ...] = (
    ("left_hip", "left_knee", "left_ankle", (-1.0, 0.0, 0.0)),  # knee flexion moves the shin backwards
    ("right_hip", "right_knee", "right_ankle", (-1.0, 0.0, 0.0)),
    ("left_shoulder", "left_elbow", "left_wrist", (1.0, 0.0, 0.0)),  # elbow flexion moves the forearm forwards
    ("right_shoulder", "right_elbow", "right_wrist", (1.0, 0.0, 0.0)),
    ("left_knee", "left_ankle", "left_toe", None),  # the foot points forward at rest
    ("right_knee", "right_ankle", "right_toe", None),
)

#: sin(bend angle) below which a hinge plane is ignored, and above which it is fully trusted ...
_PLANE_TRUST = (np.sin(np.radians(4.0)), np.sin(np.radians(15.0)))
#: ... and the same for a plane whose normal points opposite to the "no twist" hinge axis.
_BACKWARD_PLANE_TRUST = (np.sin(np.radians(20.0)), np.sin(np.radians(40.0)))
#: A rest bend smaller than this (radians) is too straight to define a bending plane.
_MIN_REST_BEND = np.radians(25.0)
#: Per-frame decay of the twist towards "no twist" while the bending plane is not trusted
#: (about 1.7 s time constant at 30 fps).
_NO_TWIST_DECAY = 0.02


@dataclass(frozen=True)
class PoseFit:
    """Result of :func:`fit_pose`.

    Attributes:
        skeleton: the skeleton the rotations are for (with the fitted offsets).
        root_translation: (T, 3) root joint world positions, metres.
        local_rotations: (T, J, 4) local rotations (w, x, y, z), sign-continuous over time.
        position_error: (T, J) distance between FK of the fit and the input positions, metres.
    """

    skeleton: Skeleton
    root_translation: np.ndarray
    local_rotations: np.ndarray
    position_error: np.ndarray


# ---------------------------------------------------------------------- small batched geometry
def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm < 1e-12, 1.0, norm)


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) shortest-arc rotations taking directions ``a`` onto ``b``."""
    return quat_to_matrix(quat_between_vectors(a, b))


def _kabsch(rest: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations R minimising sum_k |R rest_k - observed_tk|^2.

    Args:
        rest: (K, 3) rest vectors; observed: (T, K, 3) observed vectors.
    """
    cov = np.einsum("tki,kj->tij", observed, rest)
    u, _, vt = np.linalg.svd(cov)
    det = np.sign(np.linalg.det(u @ vt))
    fix = np.ones(u.shape[:-2] + (3,))
    fix[..., 2] = np.where(det == 0, 1.0, det)
    return (u * fix[..., None, :]) @ vt


def _twist_angle(reference: np.ndarray, target: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Signed angle (T,) about unit ``axis`` from ``reference`` to ``target`` (both projected off the axis)."""
    ref = reference - np.sum(reference * axis, -1, keepdims=True) * axis
    tgt = target - np.sum(target * axis, -1, keepdims=True) * axis
    return np.arctan2(np.sum(np.cross(ref, tgt) * axis, -1), np.sum(ref * tgt, -1))


def _hinge_twist(no_twist_axis: np.ndarray, bone: np.ndarray, next_bone: np.ndarray, cone: float) -> np.ndarray:
    """Twist (T,) about ``bone`` that puts the hinge axis where the next bone can swing about it.

    A hinge keeps the next bone on a cone about its axis: ``dot(next_bone, axis) == cone`` (zero
    when the rest pose bends the limb exactly in the hinge plane; SMPL-X's rest shins lean a
    little sideways). The axis turns about ``bone`` with the twist, starting at ``no_twist_axis``
    (perpendicular to ``bone``); of the two twists meeting the cone, the one with positive
    flexion is taken. Where the limb is too straight for an exact solution the closest one is.
    """
    side = np.cross(bone, no_twist_axis)
    along, across = np.sum(next_bone * no_twist_axis, -1), np.sum(next_bone * side, -1)
    radius = np.hypot(along, across)
    return np.arctan2(across, along) + np.arccos(np.clip(cone / np.maximum(radius, 1e-12), -1.0, 1.0))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, smooth in between."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _plane_trust(normal: np.ndarray, no_twist_axis: np.ndarray, cone: float) -> np.ndarray:
    """(T,) how far to trust each frame's bending plane, in [0, 1].

    The normal's length is the sine of the angle between the two bones: a limb bent no more
    than its rest pose already is (``|cone|``, the rest sideways lean) has no usable plane. A
    normal pointing away from the "no twist" hinge axis (a limb bent backwards in its parent's
    frame) needs a larger bend to count, since small backward bends are hyper-extension or
    noise, not a limb turned by 180 degrees.
    """
    backward = (1.0 - np.sum(_unit(normal) * no_twist_axis, axis=-1)) / 2.0  # 0 aligned, 1 opposite
    lo = _PLANE_TRUST[0] + backward * (_BACKWARD_PLANE_TRUST[0] - _PLANE_TRUST[0])
    hi = _PLANE_TRUST[1] + backward * (_BACKWARD_PLANE_TRUST[1] - _PLANE_TRUST[1])
    bend = np.linalg.norm(normal, axis=-1) - abs(cone)
    return _smoothstep((bend - lo) / (hi - lo))


def _continuous_twist(angle: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Twist angles (T,) that follow ``angle`` where trusted and stay continuous everywhere.

    A recursive filter on the circle: each frame moves the running twist towards the observed
    one by the frame's trust (fully trusted frames are followed exactly, untrusted frames hold
    the previous twist), and untrusted frames decay slowly towards "no twist". The starting
    value comes from a backward pass, so a clip that starts straight-limbed already has the
    twist of its first bent frames.
    """

    def run(values: np.ndarray, weights: np.ndarray, start: float) -> np.ndarray:
        out = []
        current = start
        for target, weight in zip(values.tolist(), weights.tolist()):
            current += weight * math.remainder(target - current, math.tau)
            current -= (1.0 - weight) * _NO_TWIST_DECAY * math.remainder(current, math.tau)
            out.append(current)
        return np.array(out)

    start = run(angle[::-1], trust[::-1], 0.0)[-1]
    return run(angle, trust, float(start))


# ---------------------------------------------------------------------- per-joint plan
@dataclass(frozen=True)
class _Hinge:
    child: int
    grandchild: int
    rest_axis: np.ndarray  # hinge axis in the joint's rest frame
    cone: float  # cosine of the angle between the rest grandchild bone and the hinge axis


@dataclass(frozen=True)
class _Spine:
    lower: int  # multi-child joint below the chain (pelvis)
    upper: int  # multi-child joint above the chain (chest)
    fraction: float  # share of the lower→upper twist


def _role(skeleton: Skeleton, role: str) -> int | None:
    return skeleton.index(role) if skeleton.has_role(role) else None


def _hinge_plan(skeleton: Skeleton) -> dict[int, _Hinge]:
    plan: dict[int, _Hinge] = {}
    for joint_role, child_role, grand_role, hint in _HINGE_RULES:
        joint, child, grand = (_role(skeleton, r) for r in (joint_role, child_role, grand_role))
        if joint is None or child is None or grand is None:
            continue
        if skeleton.parents[child] != joint or skeleton.parents[grand] != child or len(skeleton.children(joint)) != 1:
            continue
        bone = _unit(skeleton.offsets[child])
        bend = _unit(skeleton.offsets[grand])
        rest_bend = np.arccos(np.clip(bone @ bend, -1.0, 1.0))
        if hint is not None or rest_bend < _MIN_REST_BEND:
            bend = np.asarray(hint if hint is not None else (1.0, 0.0, 0.0))
        axis = np.cross(bone, bend)
        if np.linalg.norm(axis) < 1e-6:
            continue
        axis = _unit(axis)
        plan[joint] = _Hinge(
            child=int(child), grandchild=int(grand), rest_axis=axis, cone=float(_unit(skeleton.offsets[grand]) @ axis)
        )
    return plan


def _spine_plan(skeleton: Skeleton) -> dict[int, _Spine]:
    """Single-child joints on the path from the root up to the chest role."""
    chest = _role(skeleton, "chest")
    if chest is None or len(skeleton.children(chest)) < 2:
        return {}
    path = [chest]
    while skeleton.parents[path[-1]] != -1:
        path.append(int(skeleton.parents[path[-1]]))
    path.reverse()  # root ... chest
    if len(skeleton.children(path[0])) < 2:
        return {}
    inner = path[1:-1]
    return {j: _Spine(lower=path[0], upper=chest, fraction=(i + 1) / (len(inner) + 1)) for i, j in enumerate(inner)}


# ---------------------------------------------------------------------- offsets
def _check_positions(skeleton: Skeleton, positions: np.ndarray) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (skeleton.num_joints, 3):
        raise FormatError(
            f"expected positions of shape (T, {skeleton.num_joints}, 3) for '{skeleton.name}', got {positions.shape}",
            field="positions",
        )
    if positions.shape[0] == 0:
        raise FormatError("positions have zero frames", field="positions")
    if not np.all(np.isfinite(positions)):
        bad = np.argwhere(~np.isfinite(positions))[0]
        raise FormatError(
            f"positions contain NaN or inf (first at index {tuple(int(i) for i in bad)})", field="positions"
        )
    return positions


def fit_offsets(template: Skeleton, positions: np.ndarray) -> Skeleton:
    """The template skeleton with a clip's own rest offsets.

    Bone lengths are the median over frames of each observed parent-child distance; bone
    directions are the template's. For joints with several children (pelvis, chest), the
    children's layout is the clip's own (mean of the observed layout in the best-aligned frame),
    expressed in the orientation that matches the template's layout best.

    Args:
        template: skeleton whose topology, roles and rest directions are used.
        positions: (T, J, 3) global joint positions, metres.
    """
    positions = _check_positions(template, positions)
    parents = template.parents
    vectors = positions[:, 1:] - positions[:, parents[1:]]
    lengths = np.median(np.linalg.norm(vectors, axis=-1), axis=0)
    offsets = template.offsets.copy()
    offsets[1:] = _unit(template.offsets[1:]) * lengths[:, None]
    for joint in range(template.num_joints):
        children = template.children(joint)
        if len(children) < 2:
            continue
        observed = positions[:, children] - positions[:, joint : joint + 1]
        rotations = _kabsch(offsets[children], observed)
        local = np.einsum("tji,tkj->tki", rotations, observed)  # R^T v per child
        offsets[children] = local.mean(axis=0)
    return template.with_offsets(offsets)


# ---------------------------------------------------------------------- the fit
def fit_pose(skeleton: Skeleton, positions: np.ndarray, offsets_from_data: bool = True) -> PoseFit:
    """Local rotations and root translation reproducing global joint positions.

    Args:
        skeleton: template skeleton (topology, roles, rest bone directions, z-up metres).
        positions: (T, J, 3) global joint positions in the skeleton's joint order, metres, z-up.
        offsets_from_data: give the skeleton the clip's own offsets first (:func:`fit_offsets`);
            with ``False`` the skeleton's offsets are used as they are.

    Returns:
        A :class:`PoseFit` (the fitted skeleton, rotations, root translation, per-joint errors).
    """
    positions = _check_positions(skeleton, positions)
    if offsets_from_data:
        skeleton = fit_offsets(skeleton, positions)
    num_frames, num_joints = positions.shape[:2]
    parents, offsets = skeleton.parents, skeleton.offsets
    hinges = _hinge_plan(skeleton)
    spines = _spine_plan(skeleton)
    identity = np.broadcast_to(np.eye(3), (num_frames, 3, 3))

    # Orientation of every multi-child joint from the observed positions alone (spine twist references).
    branch = {}
    for joint in range(num_joints):
        children = skeleton.children(joint)
        if len(children) >= 2:
            branch[joint] = _kabsch(offsets[children], positions[:, children] - positions[:, joint : joint + 1])

    global_rot = np.empty((num_frames, num_joints, 3, 3))
    fitted = np.empty_like(positions)
    fitted[:, 0] = positions[:, 0]
    for joint in range(num_joints):
        parent = parents[joint]
        parent_rot = identity if parent < 0 else global_rot[:, parent]
        if parent >= 0:
            fitted[:, joint] = fitted[:, parent] + parent_rot @ offsets[joint]
        children = skeleton.children(joint)
        if len(children) == 0:
            global_rot[:, joint] = parent_rot
        elif len(children) >= 2:
            global_rot[:, joint] = _kabsch(offsets[children], positions[:, children] - fitted[:, joint : joint + 1])
        else:
            global_rot[:, joint] = _single_child_rotation(
                skeleton, joint, int(children[0]), parent_rot, positions, fitted, hinges, spines, branch
            )
    local = np.einsum("tjba,tjbc->tjac", global_rot[:, parents[1:]], global_rot[:, 1:])
    local_all = np.concatenate([global_rot[:, :1], local], axis=1)
    quats = quat_continuous(matrix_to_quat(local_all))
    return PoseFit(
        skeleton=skeleton,
        root_translation=positions[:, 0] - global_rot[:, 0] @ offsets[0],
        local_rotations=quats,
        position_error=np.linalg.norm(fitted - positions, axis=-1),
    )


def _single_child_rotation(
    skeleton: Skeleton,
    joint: int,
    child: int,
    parent_rot: np.ndarray,
    positions: np.ndarray,
    fitted: np.ndarray,
    hinges: dict[int, _Hinge],
    spines: dict[int, _Spine],
    branch: dict[int, np.ndarray],
) -> np.ndarray:
    """(T, 3, 3) global rotation of a joint with one child: exact swing, chosen twist."""
    rest_dir = skeleton.offsets[child]
    if np.linalg.norm(rest_dir) < 1e-9:  # zero-length bone: nothing to aim, keep the parent's frame
        return parent_rot
    target = _unit(positions[:, child] - fitted[:, joint])
    # "No twist": the minimal rotation from the parent's frame that aims the bone.
    base = _swing(parent_rot @ rest_dir, target) @ parent_rot
    if joint in hinges:
        hinge = hinges[joint]
        bone = positions[:, child] - positions[:, joint]
        next_bone = positions[:, hinge.grandchild] - positions[:, child]
        no_twist_axis = base @ hinge.rest_axis
        normal = np.cross(_unit(bone), _unit(next_bone))
        raw = _hinge_twist(no_twist_axis, target, _unit(next_bone), hinge.cone)
        angle = _continuous_twist(raw, _plane_trust(normal, no_twist_axis, hinge.cone))
    elif joint in spines:
        spine = spines[joint]
        lateral_rest = np.array([0.0, 1.0, 0.0])
        lower = branch[spine.lower] @ lateral_rest
        upper = branch[spine.upper] @ lateral_rest
        wanted = (1.0 - spine.fraction) * lower + spine.fraction * upper
        angle = _twist_angle(base @ lateral_rest, wanted, target)
    else:
        return base
    return rotvec_to_matrix(target * angle[:, None]) @ base


# ---------------------------------------------------------------------- HumanMotion helpers
def motion_from_positions(
    skeleton: Skeleton, positions: np.ndarray, fps: float, metadata: dict | None = None
) -> HumanMotion:
    """A :class:`HumanMotion` fitted to global joint positions (T, J, 3), metres, z-up.

    The skeleton gets the clip's own offsets (:func:`fit_offsets`); the fit's mean and max
    position error (metres) are stored in ``metadata["pose_fit"]``.
    """
    fit = fit_pose(skeleton, positions)
    info = {
        "mean_error_m": float(fit.position_error.mean()),
        "max_error_m": float(fit.position_error.max()),
    }
    return HumanMotion(
        skeleton=fit.skeleton,
        fps=fps,
        root_translation=fit.root_translation,
        local_rotations=fit.local_rotations,
        metadata={**(metadata or {}), "pose_fit": info},
    )


def leg_length(skeleton: Skeleton) -> float:
    """Mean over left/right of the rest hip→knee→ankle length plus the pelvis→hip height, metres.

    Needs the ``left_/right_hip``, ``_knee``, ``_ankle`` roles; this is the length that sets how
    high a standing pelvis is, so root translations scale with it.
    """
    rest = skeleton.rest_positions()
    total = 0.0
    for side in ("left", "right"):
        hip, knee, ankle = (skeleton.index(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        total += np.linalg.norm(rest[knee] - rest[hip]) + np.linalg.norm(rest[ankle] - rest[knee])
        total += abs(rest[hip, 2] - rest[skeleton.index("pelvis") if skeleton.has_role("pelvis") else 0, 2])
    return total / 2.0


def retarget_to_skeleton(motion: HumanMotion, target_skeleton: Skeleton, match_spine_curve: bool = True) -> HumanMotion:
    """Put a motion on another skeleton with the same joints (e.g. per-clip smpl22 → smplx22).

    Joints are matched by name (the target may list them in another order, but must have the
    same set and the same tree). Rotations are copied so that world bone directions are kept:
    single-child joints keep their global rotations (both skeletons share the rest bone
    directions after :func:`fit_pose`); where rest layouts differ (a pelvis whose hips sit
    otherwise relative to the spine), the joint's rotation is turned by the fixed rest-frame
    rotation that best aligns the target's child directions with the source's. The root
    translation is scaled by the leg-length ratio target / source (:func:`leg_length`), so
    strides and pelvis height follow the new body.

    Args:
        motion: the source motion.
        target_skeleton: the skeleton to put it on.
        match_spine_curve: rigs place their spine and neck joints at different heights (the
            mocap pack's iClone rig has a 5 cm spine1→spine2 bone where SMPL-X has 15 cm), so
            copying the direction of each short, tilted source bone onto a long target bone
            bends the whole back (heads up to ~15 cm forward). With ``True`` the root→head
            chain is re-shaped to follow the source's spine curve at matching fractions of its
            length (scaled to the target's chain length), everything hanging off it moving
            along, and rotations are re-fitted (:func:`fit_pose` with the target's offsets).
            Joints placed by a multi-child parent's layout (spine1 beside the hips) stay, so
            the pelvis and legs are untouched. Needs the ``head`` role; skipped otherwise.

    Raises:
        FormatError: the joint names or the tree differ.
    """
    source = motion.skeleton
    target = target_skeleton
    if set(source.joint_names) != set(target.joint_names):
        missing = sorted(set(target.joint_names) - set(source.joint_names))
        extra = sorted(set(source.joint_names) - set(target.joint_names))
        raise FormatError(
            f"cannot copy rotations from '{source.name}' to '{target.name}': joints missing {missing}, "
            f"unexpected {extra}",
            field="joint_names",
        )
    order = source.indices(target.joint_names)
    source_parents = [source.joint_names[p] if p >= 0 else None for p in source.parents[order]]
    target_parents = [target.joint_names[p] if p >= 0 else None for p in target.parents]
    if source_parents != target_parents:
        raise FormatError(f"'{source.name}' and '{target.name}' have different joint trees", field="parents")
    global_rot = quat_to_matrix(motion.global_rotations[:, order])
    source_offsets = source.offsets[order]
    for joint in range(target.num_joints):
        children = target.children(joint)
        if len(children) == 0:
            continue
        align = _kabsch(_unit(target.offsets[children]), _unit(source_offsets[children])[None])[0]
        global_rot[:, joint] = global_rot[:, joint] @ align
    local = global_rot.copy()
    local[:, 1:] = np.swapaxes(global_rot[:, target.parents[1:]], -1, -2) @ global_rot[:, 1:]
    # Leaves carry no bone: keep their own local rotation rather than their parent's re-alignment.
    leaves = [j for j in range(target.num_joints) if len(target.children(j)) == 0 and j > 0]
    local_quats = matrix_to_quat(local)
    local_quats[:, leaves] = motion.local_rotations[:, order][:, leaves]
    scale = leg_length(target) / leg_length(source)
    copied = replace(
        motion,
        skeleton=target,
        local_rotations=quat_continuous(local_quats),
        root_translation=motion.root_translation * scale,
        metadata={**motion.metadata, "retargeted_from": source.name, "root_scale": float(scale)},
    )
    chain = _spine_chain(target)
    if not match_spine_curve or chain is None:
        return copied
    positions = _follow_spine_curve(copied.global_positions, motion.global_positions[:, order], target, chain)
    fit = fit_pose(target, positions, offsets_from_data=False)
    return replace(copied, root_translation=fit.root_translation, local_rotations=fit.local_rotations)


def _spine_chain(skeleton: Skeleton) -> list[int] | None:
    """Joint indices from the root up to the ``head`` role, or None without a head."""
    if not skeleton.has_role("head"):
        return None
    chain = [skeleton.index("head")]
    while chain[-1] != 0:
        chain.append(int(skeleton.parents[chain[-1]]))
    return chain[::-1] if len(chain) >= 3 else None


def _follow_spine_curve(
    positions: np.ndarray, source_positions: np.ndarray, skeleton: Skeleton, chain: list[int]
) -> np.ndarray:
    """Target joint positions (T, J, 3) whose spine chain follows the source's spine curve.

    Chain joint k goes to the point of the source chain polyline at the same fraction of its
    length as joint k has along the target chain, measured from the target's chain start and
    scaled by target / source chain length. Joints hanging off the chain (collars, arms) move
    with their chain joint.
    """
    source = source_positions[:, chain] - source_positions[:, chain[:1]]  # (T, n, 3) from the chain start
    segments = np.linalg.norm(np.diff(source, axis=1), axis=-1)  # (T, n-1)
    cumulative = np.concatenate([np.zeros((len(source), 1)), np.cumsum(segments, axis=1)], axis=1)
    target_lengths = skeleton.bone_lengths()[chain[1:]]
    fractions = np.concatenate([[0.0], np.cumsum(target_lengths)]) / target_lengths.sum()
    total = cumulative[:, -1:]
    wanted = fractions[None] * total  # (T, n) arc length along the source chain
    index = np.clip((cumulative[:, None, :] <= wanted[:, :, None]).sum(-1) - 1, 0, len(chain) - 2)  # (T, n)
    frames = np.arange(len(source))[:, None]
    start, end = source[frames, index], source[frames, index + 1]
    step = (wanted - cumulative[frames, index]) / np.maximum(segments[frames, index], 1e-12)
    points = start + step[..., None] * (end - start)
    points *= (target_lengths.sum() / np.maximum(total, 1e-12))[..., None]
    placed = positions.copy()
    displacement = np.zeros_like(positions)
    for k, joint in enumerate(chain[1:], start=1):
        if len(skeleton.children(skeleton.parents[joint])) > 1:
            continue  # the parent's rest layout fixes this joint (spine1 beside the hips): keep it
        placed[:, joint] = positions[:, chain[0]] + points[:, k]
        displacement[:, joint] = placed[:, joint] - positions[:, joint]
    chain_set = set(chain)
    for joint in range(1, skeleton.num_joints):  # parents come first: off-chain joints move with their parent
        if joint not in chain_set:
            displacement[:, joint] = displacement[:, skeleton.parents[joint]]
            placed[:, joint] = positions[:, joint] + displacement[:, joint]
    return placed
