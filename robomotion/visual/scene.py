"""MuJoCo scene pieces for offscreen rendering: models, fast settings, cameras and drawn markers.

Everything here is in the package frame: z-up world, +x forward, +y left, metres.

* :func:`robot_render_model` loads a robot's scene (floor, light) and applies the fast settings.
* :func:`stage_render_model` is the same scene with the robot removed: the floor a human
  skeleton is drawn on, so humans and robots look alike.
* :func:`add_capsule`, :func:`add_sphere`, :func:`add_disc` draw extra geoms into an
  ``MjvScene`` after ``update_scene`` (skeleton bones, foot-contact markers).
* :class:`CameraPath` is a free camera per output frame: ``track`` follows the smoothed root,
  ``fixed`` frames the whole path.
* :class:`StickFigure` is what a human motion looks like drawn: bones, radii, head, contact
  points (shared by the MuJoCo renderer and the web viewer).
* :func:`robot_foot_contacts` flags robot feet in contact (low and slow foot bodies) and
  :func:`nearest_frame` maps a time to a motion frame (shared with the web viewer).

The fast settings (no multisampling, no shadows) are ~6x faster than MuJoCo's defaults on a
CPU (llvmpipe); see ``docs/visualisation.md`` for measurements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mujoco
import numpy as np
from scipy.ndimage import uniform_filter1d

from robomotion.foot_contacts import contacts_from_positions
from robomotion.rotations import quat_apply

if TYPE_CHECKING:
    from robomotion.motion import HumanMotion

__all__ = [
    "CameraPath",
    "CONTACT_RGBA",
    "FREE_CAMERAS",
    "HEAD_RADIUS",
    "HUMAN_CONTACT_DISC_RADIUS",
    "HUMAN_RGBA",
    "ROBOT_CONTACT_DISC_RADIUS",
    "ROBOT_FOOT_LIFT_THRESHOLD",
    "StickFigure",
    "add_capsule",
    "add_disc",
    "add_sphere",
    "configure_model",
    "nearest_frame",
    "robot_foot_contacts",
    "robot_render_model",
    "scene_flags",
    "stage_render_model",
    "visible_geom_groups",
]

#: Camera modes computed from the motion (every other name must be a camera in the model).
FREE_CAMERAS = ("track", "fixed")

_IDENTITY_MAT = np.eye(3).reshape(-1)

#: A robot foot counts as low when its body origin is within this height (m) of its height in
#: the robot's home pose (sole flat on the floor); "slow" uses the contacts module's default.
ROBOT_FOOT_LIFT_THRESHOLD = 0.04


#: Radius of the head sphere of a drawn human, metres.
HEAD_RADIUS = 0.085
#: Colour of human skeletons (RGBA, 0-1).
HUMAN_RGBA = np.array([0.93, 0.52, 0.18, 1.0], dtype=np.float32)
#: Colour of foot-contact discs (RGBA, 0-1).
CONTACT_RGBA = np.array([0.10, 0.80, 0.30, 0.9], dtype=np.float32)
#: Contact-disc radii, metres: one disc per human heel / toe, one per robot foot (wider than the sole).
HUMAN_CONTACT_DISC_RADIUS = 0.045
ROBOT_CONTACT_DISC_RADIUS = 0.09


@dataclass(frozen=True, eq=False)
class StickFigure:
    """A human motion as drawable pieces (z-up world, metres).

    Attributes:
        positions: (T, J, 3) joint positions.
        bones: (B,) child joint of each drawn bone (joints with a non-zero offset).
        bone_parents: (B,) parent joint of each bone.
        bone_radii: (B,) capsule radius, 15 % of the bone length clipped to 10-35 mm.
        head_centers: (T, 3) head-sphere centres (6 cm above the head joint along its up
            axis), or None when the skeleton has no ``head`` role.
        feet: (T, 4, 3) heel and toe points in ``FOOT_CONTACT_ROLES`` order, or None.
        contacts: (T, 4) contact flags of those points (``motion.contacts()``), or None.
    """

    positions: np.ndarray
    bones: np.ndarray
    bone_parents: np.ndarray
    bone_radii: np.ndarray
    head_centers: np.ndarray | None
    feet: np.ndarray | None
    contacts: np.ndarray | None

    @classmethod
    def from_motion(cls, motion: HumanMotion, contacts: bool = True) -> StickFigure:
        """Bones, head and (when ``contacts`` and the skeleton has heel/toe roles) contacts."""
        from robomotion.motion import FOOT_CONTACT_ROLES

        skeleton = motion.skeleton
        positions = motion.global_positions
        lengths = skeleton.bone_lengths()
        bones = np.flatnonzero(lengths > 1e-4)
        head_centers = None
        if skeleton.has_role("head"):
            head = skeleton.index("head")
            up = quat_apply(motion.global_rotations[:, head], np.array([0.0, 0.0, 1.0]))
            head_centers = positions[:, head] + 0.06 * up
        feet = flags = None
        if contacts and all(skeleton.has_role(role) for role in FOOT_CONTACT_ROLES):
            feet = motion.joint_positions(FOOT_CONTACT_ROLES)
            flags = np.asarray(motion.contacts(), dtype=bool)
        return cls(
            positions=positions,
            bones=bones,
            bone_parents=skeleton.parents[bones],
            bone_radii=np.clip(0.15 * lengths[bones], 0.01, 0.035),
            head_centers=head_centers,
            feet=feet,
            contacts=flags,
        )


def nearest_frame(time: float, fps: float, num_frames: int) -> int:
    """The frame nearest to ``time`` seconds (clamped to the motion: the last frame after its end)."""
    return int(np.clip(round(time * fps), 0, num_frames - 1))


def robot_foot_contacts(
    robot: str, model: mujoco.MjModel, qpos: np.ndarray, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Foot body positions (T, F, 3) and contact flags (T, F) of ``robot`` along qpos rows.

    A foot is in contact when its body origin is low (within
    :data:`ROBOT_FOOT_LIFT_THRESHOLD` of its home-pose height) and slow
    (:func:`robomotion.foot_contacts.contacts_from_positions`). ``model`` is any model of the robot
    (bare or scene) whose qpos layout ``qpos`` (T, nq) uses.
    """
    from robomotion.robots import get_robot
    from robomotion.robots.kinematics import forward_kinematics

    spec = get_robot(robot)
    ids = np.array([model.body(name).id for name in spec.foot_bodies])
    rest, _ = forward_kinematics(model, spec.home_qpos[None], ids)
    feet, _ = forward_kinematics(model, qpos, ids)
    lifted = feet.copy()
    lifted[..., 2] -= rest[0, :, 2]
    return feet, contacts_from_positions(lifted, fps, height_threshold=ROBOT_FOOT_LIFT_THRESHOLD)


def configure_model(model: mujoco.MjModel, width: int, height: int, fast: bool = True) -> mujoco.MjModel:
    """Size the offscreen buffer for ``width`` x ``height`` and apply the fast settings in place.

    Fast means no offscreen multisampling (``offsamples = 0``); shadows are switched off per
    scene by :func:`scene_flags`. Returns ``model``.
    """
    model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), int(width))
    model.vis.global_.offheight = max(int(model.vis.global_.offheight), int(height))
    if fast:
        model.vis.quality.offsamples = 0
    return model


def scene_flags(scene: mujoco.MjvScene, fast: bool = True) -> None:
    """Rendering flags for a scene after ``update_scene``: shadows off when ``fast``."""
    scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0 if fast else 1


def robot_render_model(robot: str, width: int, height: int, fast: bool = True) -> mujoco.MjModel:
    """The robot's scene model (robot, floor, light, cameras) set up for offscreen rendering."""
    from robomotion.robots import get_robot

    return configure_model(get_robot(robot).load_model(scene=True), width, height, fast)


def stage_render_model(robot: str, width: int, height: int, fast: bool = True) -> mujoco.MjModel:
    """The robot's scene with the robot removed: floor, lights, textures and visual settings.

    Human skeletons are drawn on this stage so both kinds of motion share one look. Every body
    under the world and everything that refers to the robot (actuators, sensors, keyframes,
    contact pairs/excludes, tendons, equalities, cameras) is dropped.
    """
    from robomotion.robots import get_robot

    spec = mujoco.MjSpec.from_file(str(get_robot(robot).scene_path))
    for group in (
        spec.keys,
        spec.actuators,
        spec.sensors,
        spec.excludes,
        spec.pairs,
        spec.equalities,
        spec.tendons,
        spec.cameras,
    ):
        for element in list(group):
            spec.delete(element)
    for body in list(spec.worldbody.bodies):
        spec.delete(body)
    return configure_model(spec.compile(), width, height, fast)


def visible_geom_groups(model: mujoco.MjModel) -> np.ndarray:
    """Geom-group visibility flags (6,) that show the model's bodies without duplicates.

    MuJoCo shows groups 0-2 by default. Models whose bodies only have geoms in groups 3-5
    (e.g. collision-only robots) would render invisible, so those groups are switched on
    only when groups 0-2 hold no body geom.
    """
    groups = np.zeros(mujoco.mjNGROUP, dtype=np.uint8)
    groups[:3] = 1
    body_geoms = model.geom_bodyid > 0
    used = set(int(g) for g in model.geom_group[body_geoms]) if body_geoms.any() else set()
    if used and not used & {0, 1, 2}:
        for group in used:
            groups[group] = 1
    return groups


def _next_geom(scene: mujoco.MjvScene) -> mujoco.MjvGeom | None:
    if scene.ngeom >= scene.maxgeom:
        return None
    geom = scene.geoms[scene.ngeom]
    scene.ngeom += 1
    return geom


def add_capsule(scene: mujoco.MjvScene, start: np.ndarray, end: np.ndarray, radius: float, rgba: np.ndarray) -> None:
    """Draw a capsule of ``radius`` metres from ``start`` to ``end`` (world points, metres)."""
    geom = _next_geom(scene)
    if geom is None:
        return
    mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), _IDENTITY_MAT, rgba)
    mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, radius, start, end)


def add_sphere(scene: mujoco.MjvScene, center: np.ndarray, radius: float, rgba: np.ndarray) -> None:
    """Draw a sphere of ``radius`` metres at ``center`` (world point, metres)."""
    geom = _next_geom(scene)
    if geom is None:
        return
    size = np.array([radius, radius, radius])
    mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_SPHERE, size, np.asarray(center, float), _IDENTITY_MAT, rgba)


def add_disc(scene: mujoco.MjvScene, center_xy: np.ndarray, radius: float, rgba: np.ndarray) -> None:
    """Draw a flat disc of ``radius`` metres lying on the floor (z = 0) at ``center_xy``."""
    geom = _next_geom(scene)
    if geom is None:
        return
    size = np.array([radius, radius, 0.002])
    pos = np.array([center_xy[0], center_xy[1], 0.003])
    mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_CYLINDER, size, pos, _IDENTITY_MAT, rgba)


@dataclass(frozen=True)
class CameraPath:
    """A free camera per frame: look-at points (T, 3) plus fixed distance and angles.

    Attributes:
        lookat: (T, 3) world points the camera aims at, metres.
        distance: camera distance from the look-at point, metres.
        azimuth: degrees about +z; the camera looks along this heading (180 = looking at -x,
            i.e. at the front of a subject facing +x).
        elevation: degrees, negative = looking down.
    """

    lookat: np.ndarray
    distance: float = 2.8
    azimuth: float = 200.0
    elevation: float = -15.0

    @classmethod
    def for_roots(
        cls,
        mode: str,
        roots: np.ndarray,
        fps: float,
        lookat_height: float = 0.75,
        smoothing_s: float = 1.0,
        aspect: float = 4 / 3,
        fovy: float = 45.0,
    ) -> CameraPath:
        """A camera for root positions ``roots`` (T, 3): ``track`` or ``fixed``.

        ``track`` follows the root's ground position, smoothed by a centred moving average over
        ``smoothing_s`` seconds so steps do not shake the picture, seen from the front-left of a
        subject facing +x. ``fixed`` aims at the centre of the whole path from the side of its
        main direction of travel (70 degrees off the travel direction, towards the front), backed
        off until the path fits the image width (``aspect`` = width / height, ``fovy`` the vertical
        field of view in degrees).
        """
        roots = np.asarray(roots, dtype=np.float64)
        lookat = np.empty_like(roots)
        lookat[:, 2] = lookat_height
        if mode == "track":
            window = 2 * int(round(smoothing_s * fps / 2)) + 1  # odd: centred on the frame
            lookat[:, :2] = uniform_filter1d(roots[:, :2], size=window, axis=0, mode="nearest")
            return cls(lookat)
        if mode == "fixed":
            ground = roots[:, :2]
            center = (ground.min(axis=0) + ground.max(axis=0)) / 2
            lookat[:, :2] = center
            _, _, axes = np.linalg.svd(ground - ground.mean(axis=0), full_matrices=False)
            travel = axes[0] if np.dot(axes[0], ground[-1] - ground[0]) >= 0 else -axes[0]
            along = np.ptp(ground @ travel)
            across = np.ptp(ground @ np.array([-travel[1], travel[0]]))
            if along < 0.5:  # (nearly) in place: the tracking camera's view
                return cls(lookat)
            azimuth = float(np.degrees(np.arctan2(travel[1], travel[0]))) + 250.0
            half_width = np.tan(np.radians(fovy) / 2) * aspect
            distance = (along * np.sin(np.radians(70.0)) + 2.5) / (2 * half_width) + across / 2
            return cls(lookat, distance=max(2.8, float(distance)), azimuth=azimuth % 360.0)
        raise ValueError(f"free camera mode must be one of {FREE_CAMERAS}, got {mode!r}")

    def apply(self, camera: mujoco.MjvCamera, frame: int) -> mujoco.MjvCamera:
        """Set ``camera`` (a free ``MjvCamera``) to this path at ``frame``."""
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.lookat[:] = self.lookat[frame]
        camera.distance = self.distance
        camera.azimuth = self.azimuth
        camera.elevation = self.elevation
        return camera
