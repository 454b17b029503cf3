"""From human joint positions to robot IK targets: per-limb scaling, ground alignment and foot locks.

Steps (all vectorised over frames):

1. **Frames** (pelvis, torso) from joint positions: ``lateral`` and ``up`` vectors, Gram-Schmidt,
   relative to the same frame in the skeleton's rest pose (upright, facing +x) or, for rigs whose
   rest is unknown, taken as is (see ``rest`` in :mod:`~robomotion.retarget.mapping`), so the
   robot body gets the rotation the human segment made away from upright.
2. **Limbs**: each bone keeps its direction and takes the robot's length (hip-knee, knee-ankle,
   shoulder-elbow, elbow-wrist), measured on our MJCF at the zero pose. This is the per-limb,
   per-clip scaling: the clip's own bone lengths (median over frames) against the robot's.
3. **Root**: the midpoint of the human hips, scaled by the leg-length ratio (so strides fit the
   robot's legs), places the robot's hip midpoint; the pelvis origin follows from the pelvis frame.
4. **Ground**: chaining root -> hip -> knee -> ankle predicts where the robot's ankles go. During
   source contacts the flat sole must touch z = 0, so a smooth vertical offset (interpolated
   between contact frames, which also removes slow floor drift in the capture) is added. In a
   flight (no foot in contact) the vertical displacement stays unscaled (linear blend between
   take-off and landing, eased in over the contact frames next to them:
   :func:`~robomotion.retarget.flight.flight_correction`),
   so a jump falls at g, not at ``scale * g``.
5. **Feet**: foot heading and pitch from the ankle->toe direction (pitch relative to the clip's
   own flat-foot pitch), then :func:`~robomotion.retarget.foot_locks.lock_feet` plants each foot
   during its contact segments.

Conventions: z-up world, +x forward, metres, radians; rotation matrices act on column vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from robomotion.retarget.flight import flight_correction, flight_frames
from robomotion.retarget.foot_locks import SwingClearance, lock_feet
from robomotion.retarget.mapping import Mapping
from robomotion.retarget.robot_geometry import RobotGeometry
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from robomotion.errors import FormatError
from robomotion.foot_contacts import nearest_true
from robomotion.skeleton import Skeleton

__all__ = [
    "HumanPoints",
    "RetargetTargets",
    "build_targets",
    "concatenate_targets",
    "frame_from_axes",
    "sole_clearance",
]


def _normalize(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-9)


def frame_from_axes(lateral: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) with y along ``lateral`` and z along ``up`` (orthogonalised)."""
    y = _normalize(lateral)
    z = _normalize(up - np.sum(up * y, axis=-1, keepdims=True) * y)
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-1)


def _rot_z(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def _rot_y(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2)


@dataclass(frozen=True, eq=False)
class HumanPoints:
    """The source motion as the retargeter sees it.

    Attributes:
        skeleton: source skeleton (names, roles, rest pose).
        positions: (T, J, 3) world joint positions, metres, z-up.
        fps: frames per second.
        contacts: (T, 4) contact flags [left heel, left toe, right heel, right toe].
    """

    skeleton: Skeleton
    positions: np.ndarray
    fps: float
    contacts: np.ndarray

    def point(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """(T, 3) mean position of joints given by name or role."""
        return self.positions[:, self.skeleton.indices(list(names))].mean(axis=1)

    def take(self, start: int, end: int) -> HumanPoints:
        """Frames ``[start, end)``."""
        return HumanPoints(self.skeleton, self.positions[start:end], self.fps, self.contacts[start:end])

    def rest_point(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        return self.skeleton.rest_positions()[self.skeleton.indices(list(names))].mean(axis=0)


@dataclass(frozen=True, eq=False)
class RetargetTargets:
    """Per-frame IK targets in the robot's world (T frames; z-up, metres, radians).

    Attributes:
        root_body: the floating-base body id.
        root_pos: (T, 3) root body position target.
        orient_bodies: (F,) bodies with orientation targets (frames, then the two feet).
        orient_rot: (T, F, 3, 3) their target orientations.
        orient_weight: (F,) mapping weight multipliers.
        limb_parent, limb_child: (S,) body ids of each bone's ends.
        limb_vec: (T, S, 3) target bone vectors (child - parent), robot bone lengths.
        limb_weight: (S,) mapping weight multipliers.
        limb_frame: (S,) index in ``orient_bodies`` of the frame target each bone's limb hangs from
            (its nearest ancestor among them: the pelvis for legs, the torso for arms).
        foot_bodies: (2,) left/right foot body ids.
        foot_pos: (T, 2, 3) foot body origin targets (planted where the source foot is in contact).
        planted: (T, 2) frames in which each foot is locked.
        sole_clearance: (T, 2) height each foot's sole must keep above the floor, m
            (:func:`sole_clearance`): more than ``clearance`` where a swinging foot moves fast; the
            solver enforces it like the floor.
        foot_contacts: (T, 2) source contact flags per foot (heel or toe).
        keypoint_bodies: (K,) bodies of the scaled human keypoints.
        keypoint_names: their K body names.
        keypoints: (T, K, 3) scaled human keypoints (ground aligned, before foot locking).
        ground_offset: (T,) vertical offset that was added to put the source's contacts on z = 0, m.
        flight: (T,) frames of the source's flights (:func:`flight_frames`); their vertical motion
            keeps the human's free fall, and the solver does not smooth take-off and landing.
        scales: bone and leg scale factors (robot length / human length), for reports.
    """

    root_body: int
    root_pos: np.ndarray
    orient_bodies: np.ndarray
    orient_rot: np.ndarray
    orient_weight: np.ndarray
    limb_parent: np.ndarray
    limb_child: np.ndarray
    limb_vec: np.ndarray
    limb_weight: np.ndarray
    limb_frame: np.ndarray
    foot_bodies: np.ndarray
    foot_pos: np.ndarray
    planted: np.ndarray
    sole_clearance: np.ndarray
    foot_contacts: np.ndarray
    keypoint_bodies: np.ndarray
    keypoint_names: tuple[str, ...]
    keypoints: np.ndarray
    ground_offset: np.ndarray
    flight: np.ndarray
    scales: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.root_pos.shape[0])


#: RetargetTargets fields that hold one entry per frame (the others describe the robot and mapping).
PER_FRAME_FIELDS = (
    "root_pos", "orient_rot", "limb_vec", "foot_pos", "planted", "sole_clearance", "foot_contacts", "keypoints",
    "ground_offset", "flight",
)


def concatenate_targets(pieces: list[RetargetTargets]) -> RetargetTargets:
    """Targets of consecutive pieces of one clip joined into one (robot fields from the first)."""
    if len(pieces) == 1:
        return pieces[0]
    return replace(pieces[0], **{name: np.concatenate([getattr(p, name) for p in pieces]) for name in PER_FRAME_FIELDS})


def _human_frame(human: HumanPoints, lateral, up, rest: str) -> np.ndarray:
    """(T, 3, 3) rotation of a human segment away from upright-facing-+x (world frame).

    With ``rest="skeleton"`` the segment's frame in the skeleton's rest pose counts as upright;
    with ``rest="upright"`` the frame itself (lateral line level, up vertical) does.
    """
    current = frame_from_axes(
        human.point(lateral[1]) - human.point(lateral[0]), human.point(up[1]) - human.point(up[0])
    )
    if rest == "upright":
        return current
    reference = frame_from_axes(
        human.rest_point(lateral[1]) - human.rest_point(lateral[0]), human.rest_point(up[1]) - human.rest_point(up[0])
    )
    return current @ reference.T


def _abduct(directions: np.ndarray, torso: np.ndarray, minimum: float, name: str) -> np.ndarray:
    """Swing an arm's bone directions (T, 2, 3) out to at least ``minimum`` rad of abduction.

    Abduction is the angle of the upper arm away from the torso's down axis in the torso's
    frontal plane (towards the arm's side). The extra rotation, about the torso's forward axis,
    fades linearly to zero at 45 degrees and is applied to both bones (the elbow angle is kept).
    """
    side = -1.0 if name.startswith("right") else 1.0
    local = np.einsum("tji,tj->ti", torso, directions[:, 0])  # upper arm in the torso frame
    abduction = np.arctan2(side * local[:, 1], -local[:, 2])
    extra = np.where(abduction < minimum, minimum - np.clip(abduction, 0.0, None), 0.0)
    extra *= np.clip(1.0 - abduction / np.radians(45.0), 0.0, 1.0)
    extra = np.where(abduction < 0.0, minimum, extra)
    angle = side * extra
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    about_x = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)], -2)
    world = torso @ about_x @ np.swapaxes(torso, -1, -2)
    return np.einsum("tij,tkj->tki", world, directions)


def _ground_offset(sole_height: np.ndarray, contact: np.ndarray, fps: float, smooth_seconds: float) -> np.ndarray:
    """(T,) vertical shift that puts the predicted flat soles on z = 0 during contacts.

    ``sole_height`` (T, 2): height of each foot's flat sole if placed at the predicted ankle;
    ``contact`` (T, 2) source contacts. Without contacts the lowest sole point is put on z = 0.
    """
    frames = sole_height.shape[0]
    in_contact = contact.any(axis=1)
    if not in_contact.any():
        return np.full(frames, -float(sole_height.min()))
    error = np.where(contact, sole_height, 0.0).sum(axis=1) / np.maximum(contact.sum(axis=1), 1)
    times = np.flatnonzero(in_contact)
    offset = -np.interp(np.arange(frames), times, error[times])
    if smooth_seconds > 0 and frames > 1:
        offset = gaussian_filter1d(offset, sigma=max(smooth_seconds * fps, 1e-3), mode="nearest")
    return offset


def _keypoints(
    human: HumanPoints,
    mapping: Mapping,
    geometry: RobotGeometry,
    frame_bodies: list[int],
    frame_rot: np.ndarray,
    root_pos: np.ndarray,
    limb_vec: np.ndarray,
    leg_scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The scaled human at robot body origins: (K,) bodies and (T, K, 3) positions.

    Each limb is chained from its attachment on the nearest frame body (hips on the pelvis,
    shoulders on the torso) along the robot-length bone vectors; a leg's end (the foot) is the
    whole hip-to-ankle vector scaled uniformly by the leg ratio, so feet keep the human's height
    above the floor and the robot's hip width.
    """
    body = geometry.body
    frame_origin = {frame_bodies[0]: root_pos}
    for fb in frame_bodies[1:]:
        anchor = geometry.nearest_ancestor(int(geometry.kinematics.parent[fb]), frame_bodies)
        frame_origin[fb] = frame_origin[anchor] + frame_rot[:, frame_bodies.index(anchor)] @ geometry.local(anchor, fb)
    foot_body_names = {f.robot_body for f in mapping.feet}
    bodies, points = [frame_bodies[0]], [root_pos]
    for i, limb in enumerate(mapping.limbs):
        first = body(limb.robot[0])
        anchor = geometry.nearest_ancestor(first, frame_bodies)
        start = frame_origin[anchor] + frame_rot[:, frame_bodies.index(anchor)] @ geometry.local(anchor, first)
        middle = start + limb_vec[:, 2 * i]
        if limb.robot[2] in foot_body_names:
            joints = human.skeleton.indices([limb.human[0], limb.human[2]])
            end = start + leg_scale * (human.positions[:, joints[1]] - human.positions[:, joints[0]])
        else:
            end = middle + limb_vec[:, 2 * i + 1]
        bodies += [first, body(limb.robot[1]), body(limb.robot[2])]
        points += [start, middle, end]
    return np.array(bodies), np.stack(points, axis=1)


def sole_clearance(
    points: np.ndarray, planted: np.ndarray, fps: float, clearance: float, swing: SwingClearance
) -> np.ndarray:
    """(T,) height, m, that the lowest points of a foot's sole must keep above the floor (z = 0).

    ``points`` (T, K, 3) are the lowest points of the foot's collision capsules along its target
    trajectory. In every frame the sole keeps ``clearance``; in swing frames (not ``planted`` (T,))
    it also keeps ``swing.time`` times the fastest point's horizontal speed (central differences at
    ``fps``), up to ``swing.height``. That swing clearance is smoothed (running maximum over
    ``swing.smooth_frames`` frames either side, then a Gaussian) and capped by ``swing.landing_speed``
    times the time to the nearest planted frame, so the foot comes down onto its plant at most that
    fast instead of dropping in one frame.
    """
    frames = len(points)
    if frames < 2:
        return np.full(frames, clearance)
    speed = np.linalg.norm(np.gradient(points[..., :2], 1.0 / fps, axis=0), axis=-1).max(axis=1)
    need = np.clip(swing.time * speed, clearance, max(swing.height, clearance))
    if swing.smooth_frames > 0:
        width = 2 * swing.smooth_frames + 1
        need = gaussian_filter1d(maximum_filter1d(need, width, mode="nearest"), swing.smooth_frames / 2, mode="nearest")
    if planted.any():
        need = np.minimum(need, swing.landing_speed * nearest_true(planted)[1] / fps)
    return np.maximum(need, clearance)


def _foot_targets(
    human: HumanPoints,
    mapping: Mapping,
    geometry: RobotGeometry,
    foot_bodies: np.ndarray,
    foot_free: np.ndarray,
    foot_contacts: np.ndarray,
    planted_height: np.ndarray,
    blend: int,
    clearance: float,
    swing: SwingClearance,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Foot positions (T, 2, 3), orientations (T, 2, 3, 3), planted flags and sole clearances (T, 2).

    Heading and pitch come from the ankle-to-toe direction (pitch relative to the clip's own
    flat-foot pitch, measured on frames where heel and toe both touch); contact segments are
    locked (:func:`~robomotion.retarget.foot_locks.lock_feet`); every target keeps the sole the
    :func:`sole_clearance` above z = 0 (a moving sole clears the floor), which is also returned.
    """
    caps = geometry.capsules
    positions, rotations, planted, soles = [], [], [], []
    for side, foot in enumerate(mapping.feet):
        toe_vec = human.point([foot.toe]) - human.point([foot.ankle])
        yaw = np.arctan2(toe_vec[:, 1], toe_vec[:, 0])
        pitch = np.arctan2(-toe_vec[:, 2], np.linalg.norm(toe_vec[:, :2], axis=-1))
        flat = human.contacts[:, 2 * side] & human.contacts[:, 2 * side + 1]
        if flat.sum() >= 3:
            flat_pitch = float(np.median(pitch[flat]))
        else:
            rest = human.rest_point([foot.toe]) - human.rest_point([foot.ankle])
            flat_pitch = float(np.arctan2(-rest[2], np.linalg.norm(rest[:2])))
        height = planted_height[side] + clearance
        lock = lock_feet(foot_free[:, side], yaw, pitch - flat_pitch, foot_contacts[:, side], height, blend)
        rot = _rot_z(lock.yaw) @ _rot_y(lock.pitch)
        index = caps.indices_on_bodies(np.array([foot_bodies[side]]))
        ends = np.concatenate([caps.local_a[index], caps.local_b[index]])
        radius = np.concatenate([caps.radius[index], caps.radius[index]])
        position = lock.position.copy()
        lowest = position[:, None, :] + np.einsum("tij,kj->tki", rot, ends) - radius[:, None] * np.array([0, 0, 1.0])
        keep = sole_clearance(lowest, lock.planted, human.fps, clearance, swing)
        position[:, 2] += np.maximum(keep[:, None] - lowest[..., 2], 0.0).max(axis=1)
        positions.append(position)
        rotations.append(rot)
        planted.append(lock.planted)
        soles.append(keep)
    return tuple(np.stack(values, axis=1) for values in (positions, rotations, planted, soles))


def build_targets(
    human: HumanPoints,
    mapping: Mapping,
    geometry: RobotGeometry,
    blend_seconds: float = 0.2,
    ground_smooth_seconds: float = 0.3,
    clearance: float = 0.001,
    flight_blend_seconds: float = 0.15,
    swing: SwingClearance = SwingClearance(),
) -> RetargetTargets:
    """Scale ``human`` to the robot and build every IK target (see the module docstring).

    ``clearance`` (m) lifts planted soles above z = 0 so that floor penalties stay inactive;
    ``swing``: the clearance of moving soles (:func:`sole_clearance`);
    ``flight_blend_seconds``: contact time before take-off and after landing over which a flight's
    unscaled vertical motion is blended in (:func:`flight_correction`).
    """
    frames = human.positions.shape[0]
    body = geometry.body
    root_body = body(mapping.root.robot_body)

    # 1. Frames (pelvis first: the root orientation).
    frame_bodies = [body(f.robot_body) for f in mapping.frames]
    if frame_bodies[0] != root_body:
        raise FormatError("the first frame target must be the root body", mapping.path, "frames")
    frame_rot = np.stack([_human_frame(human, f.lateral, f.up, mapping.rest) for f in mapping.frames], axis=1)
    root_rot = frame_rot[:, 0]

    # 2. Limbs: bone directions from the human, lengths from the robot.
    scales: dict[str, float] = {}
    limb_parent, limb_child, limb_dir, limb_len, limb_weight, limb_frame = [], [], [], [], [], []
    for limb in mapping.limbs:
        joints = human.skeleton.indices(list(limb.human))
        bodies = [body(b) for b in limb.robot]
        frame = frame_bodies.index(geometry.nearest_ancestor(bodies[0], frame_bodies))
        for k in range(2):
            vec = human.positions[:, joints[k + 1]] - human.positions[:, joints[k]]
            human_len = float(np.median(np.linalg.norm(vec, axis=-1)))
            robot_len = geometry.distance(bodies[k], bodies[k + 1])
            if human_len < 1e-6:
                raise FormatError(
                    f"bone {limb.human[k]}->{limb.human[k + 1]} has zero length", field="positions"
                )
            scales[f"{limb.name}.{k}"] = robot_len / human_len
            limb_parent.append(bodies[k])
            limb_child.append(bodies[k + 1])
            limb_dir.append(_normalize(vec))
            limb_len.append(robot_len)
            limb_weight.append(limb.weight)
            limb_frame.append(frame)
    limb_dir = np.stack(limb_dir, axis=1)
    for i, limb in enumerate(mapping.limbs):
        if limb.min_abduction > 0:
            bones = slice(2 * i, 2 * i + 2)
            frame = frame_rot[:, limb_frame[2 * i]]
            limb_dir[:, bones] = _abduct(limb_dir[:, bones], frame, limb.min_abduction, limb.name)
    limb_len = np.array(limb_len)
    limb_vec = limb_dir * limb_len[None, :, None]

    # 3. Root: the hip midpoint scaled by the leg ratio, then the pelvis origin from its frame.
    legs = [i for i, limb in enumerate(mapping.limbs) if limb.robot[0] in mapping.root.robot_hips]
    if not legs:
        raise FormatError("no limb starts at a robot hip body", mapping.path, "limbs")
    leg_scale = float(np.mean([scales[f"{mapping.limbs[i].name}.{k}"] for i in legs for k in range(2)]))
    scales["legs"] = leg_scale
    robot_hips = [body(b) for b in mapping.root.robot_hips]
    hip_mid_local = np.mean([geometry.local(root_body, b) for b in robot_hips], axis=0)
    human_hips = human.point(mapping.root.hips)
    root_pos = leg_scale * human_hips - root_rot @ hip_mid_local

    keypoint_bodies, keypoints = _keypoints(
        human, mapping, geometry, frame_bodies, frame_rot, root_pos, limb_vec, leg_scale
    )

    # 4. Feet and ground alignment.
    foot_bodies = np.array([body(f.robot_body) for f in mapping.feet])
    planted_height = np.array([geometry.planted_height(b) for b in foot_bodies])
    foot_free = np.stack([keypoints[:, list(keypoint_bodies).index(b)] for b in foot_bodies], axis=1)
    contacts = human.contacts
    foot_contacts = np.stack([contacts[:, 0] | contacts[:, 1], contacts[:, 2] | contacts[:, 3]], axis=1)
    ground = _ground_offset(foot_free[..., 2] - planted_height, foot_contacts, human.fps, ground_smooth_seconds)
    flight = flight_frames(human_hips[:, 2], foot_contacts.any(axis=1), human.fps)
    flight_shift = flight_correction(human_hips[:, 2], leg_scale, flight, int(round(flight_blend_seconds * human.fps)))
    lift = np.stack([np.zeros(frames), np.zeros(frames), ground + flight_shift], axis=-1)
    root_pos = root_pos + lift
    keypoints = keypoints + lift[:, None]
    foot_free = foot_free + lift[:, None]

    # 5. Foot orientation and locks.
    blend = max(1, int(round(blend_seconds * human.fps)))
    foot_pos, foot_rot, planted, soles = _foot_targets(
        human, mapping, geometry, foot_bodies, foot_free, foot_contacts, planted_height, blend, clearance, swing
    )
    orient_rot = np.concatenate([frame_rot, foot_rot], axis=1)
    orient_weight = np.array([f.weight for f in mapping.frames] + [1.0, 1.0])

    return RetargetTargets(
        root_body=root_body,
        root_pos=root_pos,
        orient_bodies=np.array(frame_bodies + list(foot_bodies)),
        orient_rot=orient_rot,
        orient_weight=orient_weight,
        limb_parent=np.array(limb_parent),
        limb_child=np.array(limb_child),
        limb_vec=limb_vec,
        limb_weight=np.array(limb_weight),
        limb_frame=np.array(limb_frame),
        foot_bodies=foot_bodies,
        foot_pos=foot_pos,
        planted=planted,
        sole_clearance=soles,
        foot_contacts=foot_contacts,
        keypoint_bodies=keypoint_bodies,
        keypoint_names=tuple(geometry.kinematics.model.body(int(b)).name for b in keypoint_bodies),
        keypoints=keypoints,
        ground_offset=ground,
        flight=flight,
        scales=scales,
    )
