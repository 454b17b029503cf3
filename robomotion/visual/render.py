"""Render motions to videos, frame arrays and contact sheets with MuJoCo offscreen rendering.

Robot motions are drawn from the robot's own MuJoCo scene; human motions (any skeleton) are
drawn as capsule skeletons on the same floor, so both look alike. Side by side puts two
time-aligned views in one frame (human left, robot right). Foot-contact markers (green discs on
the floor) come from the human's :meth:`~robomotion.motion.HumanMotion.contacts` and, for
robots, from the foot bodies' height and speed.

Headless machines need ``MUJOCO_GL=egl`` (or ``osmesa``) set before the first render. The
default fast settings (no multisampling, no shadows) run 4-5x faster than MuJoCo's defaults on
a CPU (``benchmarks/render.py``); ``fast=False`` gives MuJoCo's default look.

Example::

    from robomotion.visual.render import render_video, render_contact_sheet
    render_video(robot_motion, "walk.mp4")
    render_video(human_motion, "both.mp4", side_by_side=robot_motion)
    render_video(qpos, "rollout.mp4", source_fps=50, fps=25)   # (T, 36) G1 qpos rows
    render_contact_sheet(robot_motion, "sheet.png", num_frames=8, columns=4)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Union

import mujoco
import numpy as np

from robomotion.atomic import atomic_path
from robomotion.errors import BackendUnavailableError, FormatError, UnknownNameError
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.robots.kinematics import qpos_from_motion
from robomotion.visual.scene import (
    CONTACT_RGBA,
    FREE_CAMERAS,
    HEAD_RADIUS,
    HUMAN_CONTACT_DISC_RADIUS,
    HUMAN_RGBA,
    ROBOT_CONTACT_DISC_RADIUS,
    CameraPath,
    StickFigure,
    add_capsule,
    add_disc,
    add_sphere,
    nearest_frame,
    robot_foot_contacts,
    robot_render_model,
    scene_flags,
    stage_render_model,
    visible_geom_groups,
)

__all__ = [
    "VIDEO_SUFFIXES",
    "MotionLike",
    "RobotView",
    "HumanView",
    "as_motion",
    "frame_times",
    "render_frames",
    "render_video",
    "render_contact_sheet",
    "tile_frames",
]

#: Anything the render functions accept as a motion: a motion object or (T, nq) robot qpos rows.
MotionLike = Union[RobotMotion, HumanMotion, np.ndarray]

#: Video containers :func:`render_video` writes.
VIDEO_SUFFIXES = (".mp4", ".gif")

_DIVIDER_RGB = np.array([240, 240, 240], dtype=np.uint8)  # 2-px line between side-by-side views


# ---------------------------------------------------------------------------------- views


class RobotView:
    """A robot trajectory posed frame by frame in the robot's MuJoCo scene.

    Args:
        motion: the trajectory (joints matched to the model by name).
        width, height: image size in pixels (sizes the offscreen buffer).
        fast: fast render settings (no multisampling; shadows off per frame).
        contacts: compute foot contacts (foot body low and slow) to draw as discs.
    """

    lookat_height = 0.75  # metres: camera aim height for a 1.3 m robot

    def __init__(self, motion: RobotMotion, width: int, height: int, fast: bool = True, contacts: bool = True):
        self.label = motion.robot.upper()
        self.model = robot_render_model(motion.robot, width, height, fast)
        self.qpos = qpos_from_motion(motion, self.model)
        self.fps = motion.fps
        self.num_frames = motion.num_frames
        self.roots = self.qpos[:, :3]
        self.feet: np.ndarray | None = None
        self.contacts: np.ndarray | None = None
        if contacts:
            self.feet, self.contacts = robot_foot_contacts(motion.robot, self.model, self.qpos, self.fps)

    def pose(self, data: mujoco.MjData, frame: int) -> None:
        """Set ``data`` to ``frame`` (kinematics, centres of mass, cameras and lights)."""
        data.qpos[:] = self.qpos[frame]
        mujoco.mj_kinematics(self.model, data)
        mujoco.mj_comPos(self.model, data)
        mujoco.mj_camlight(self.model, data)

    def decorate(self, scene: mujoco.MjvScene, frame: int) -> None:
        """Draw contact discs under feet in contact at ``frame``."""
        if self.contacts is None or self.feet is None:
            return
        for foot in np.flatnonzero(self.contacts[frame]):
            add_disc(scene, self.feet[frame, foot, :2], ROBOT_CONTACT_DISC_RADIUS, CONTACT_RGBA)


class HumanView:
    """A human motion drawn as a capsule skeleton on the robot scene's floor.

    Bones are capsules from each joint to its parent (see :class:`StickFigure`), the head is a
    sphere, and the four foot-contact points (heels, toes) get discs when in contact.

    Args:
        motion: the human motion (any skeleton).
        width, height: image size in pixels.
        fast: fast render settings.
        contacts: draw foot-contact discs from ``motion.contacts()``.
        stage_robot: whose scene provides the floor and lights.
    """

    lookat_height = 0.9  # metres: camera aim height for a 1.7 m person

    def __init__(
        self,
        motion: HumanMotion,
        width: int,
        height: int,
        fast: bool = True,
        contacts: bool = True,
        stage_robot: str = "g1",
    ):
        self.label = "human"
        self.model = stage_render_model(stage_robot, width, height, fast)
        self.fps = motion.fps
        self.num_frames = motion.num_frames
        self.figure = StickFigure.from_motion(motion, contacts)
        self.roots = self.figure.positions[:, 0]

    def pose(self, data: mujoco.MjData, frame: int) -> None:
        """The stage is static: only its kinematics (floor, lights)."""
        mujoco.mj_kinematics(self.model, data)
        mujoco.mj_camlight(self.model, data)

    def decorate(self, scene: mujoco.MjvScene, frame: int) -> None:
        """Draw the skeleton and the contact discs at ``frame``."""
        figure = self.figure
        points = figure.positions[frame]
        for child, parent, radius in zip(figure.bones, figure.bone_parents, figure.bone_radii):
            add_capsule(scene, points[parent], points[child], float(radius), HUMAN_RGBA)
        if figure.head_centers is not None:
            add_sphere(scene, figure.head_centers[frame], HEAD_RADIUS, HUMAN_RGBA)
        if figure.contacts is not None and figure.feet is not None:
            for point in np.flatnonzero(figure.contacts[frame]):
                add_disc(scene, figure.feet[frame, point, :2], HUMAN_CONTACT_DISC_RADIUS, CONTACT_RGBA)


View = Union[RobotView, HumanView]


def as_motion(
    motion: MotionLike, source_fps: float | None = None, robot: str = "g1"
) -> RobotMotion | HumanMotion:
    """A motion object from a motion or (T, nq) qpos rows of ``robot`` at ``source_fps`` Hz.

    qpos rows are MuJoCo generalised positions: root xyz (m), root quaternion (w, x, y, z),
    then the robot's joints (rad) in model order.
    """
    if isinstance(motion, (RobotMotion, HumanMotion)):
        return motion
    if isinstance(motion, np.ndarray) or isinstance(motion, (list, tuple)):
        if source_fps is None:
            raise FormatError("a qpos array needs its sample rate: pass source_fps (or fps)", field="fps")
        from robomotion.robots import get_robot

        qpos = np.asarray(motion, dtype=np.float64)
        if qpos.ndim == 1:
            qpos = qpos[None]
        names = get_robot(robot).joint_names
        return RobotMotion.from_qpos(robot, source_fps, qpos, names, {"source": "qpos array"})
    raise FormatError(
        f"cannot render a {type(motion).__name__}: expected RobotMotion, HumanMotion or a (T, nq) qpos array",
        field="motion",
    )


def _make_view(motion: RobotMotion | HumanMotion, width: int, height: int, fast: bool, contacts: bool) -> View:
    if isinstance(motion, RobotMotion):
        return RobotView(motion, width, height, fast, contacts)
    return HumanView(motion, width, height, fast, contacts)


def _ordered(views: list[View]) -> list[View]:
    """Humans left, robots right (a stable sort keeps the given order otherwise)."""
    return sorted(views, key=lambda view: isinstance(view, RobotView))


# ---------------------------------------------------------------------------------- time


def frame_times(views: Sequence[View], fps: float) -> np.ndarray:
    """Output frame times (s) at ``fps`` covering the longest view, from 0 to its last frame."""
    duration = max((view.num_frames - 1) / view.fps for view in views)
    return np.arange(int(np.floor(duration * fps + 1e-9)) + 1) / fps


# ---------------------------------------------------------------------------------- panels


class _Panel:
    """One view rendered by its own ``mujoco.Renderer`` (close with ``with``)."""

    def __init__(self, view: View, camera: str, width: int, height: int, fast: bool, labels: bool):
        self.view = view
        self.fast = fast
        self.labels = labels
        self.data = mujoco.MjData(view.model)
        self.option = mujoco.MjvOption()
        self.option.geomgroup[:] = visible_geom_groups(view.model)
        self.camera_path: CameraPath | None = None
        self.camera: mujoco.MjvCamera | str
        if camera in FREE_CAMERAS:
            self.camera = mujoco.MjvCamera()
            self.camera_path = CameraPath.for_roots(
                camera,
                view.roots,
                view.fps,
                view.lookat_height,
                aspect=width / height,
                fovy=float(view.model.vis.global_.fovy),
            )
        else:
            names = [view.model.camera(i).name for i in range(view.model.ncam)]
            if camera not in names:
                raise UnknownNameError(f"camera for {view.label}", camera, list(FREE_CAMERAS) + names)
            self.camera = camera
        self.renderer = _open_renderer(view.model, width, height)

    def __enter__(self) -> _Panel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.renderer.close()

    def render(self, time: float) -> np.ndarray:
        """(H, W, 3) uint8 image of the view at ``time`` seconds."""
        frame = nearest_frame(time, self.view.fps, self.view.num_frames)
        self.view.pose(self.data, frame)
        if self.camera_path is not None:
            self.camera_path.apply(self.camera, frame)
        self.renderer.update_scene(self.data, camera=self.camera, scene_option=self.option)
        scene_flags(self.renderer.scene, self.fast)
        self.view.decorate(self.renderer.scene, frame)
        image = self.renderer.render()
        if self.labels:
            image = _caption(image, f"{self.view.label}  {time:5.2f} s")
        return image


def _open_renderer(model: mujoco.MjModel, width: int, height: int) -> mujoco.Renderer:
    """A ``mujoco.Renderer``; a missing OpenGL platform becomes an error that says how to fix it."""
    try:
        return mujoco.Renderer(model, height=height, width=width)
    except mujoco.FatalError as exc:
        backend = os.environ.get("MUJOCO_GL", "<unset: glfw, needs a display>")
        raise BackendUnavailableError(
            f"MuJoCo could not create an OpenGL context (MUJOCO_GL={backend}): {exc}. On a machine without a "
            "display, set MUJOCO_GL=egl (or osmesa) in the environment before starting Python."
        ) from None


def _caption(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` with ``text`` written in its top-left corner (white on a dark box)."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(10, image.shape[0] // 24))
    left, top, right, bottom = draw.textbbox((6, 4), text, font=font)
    draw.rectangle((left - 3, top - 2, right + 3, bottom + 2), fill=(30, 30, 30))
    draw.text((6, 4), text, fill=(255, 255, 255), font=font)
    return np.array(canvas)


def _even(size: int, name: str) -> int:
    """Image sizes are rounded up to even numbers (H.264's 4:2:0 chroma needs it)."""
    size = int(size)
    if size < 16:
        raise FormatError(f"must be at least 16 pixels, got {size}", field=name)
    return size + size % 2


def _views(
    motion: MotionLike,
    side_by_side: MotionLike | None,
    source_fps: float | None,
    robot: str,
    width: int,
    height: int,
    fast: bool,
    contacts: bool,
    titles: Sequence[str] | None,
) -> list[View]:
    motions = [as_motion(motion, source_fps, robot)]
    if side_by_side is not None:
        motions.append(as_motion(side_by_side, source_fps, robot))
    views = [_make_view(m, width, height, fast, contacts) for m in motions]
    if titles is not None:
        if len(titles) != len(views):
            raise FormatError(f"{len(titles)} titles for {len(views)} views", field="titles")
        for view, title in zip(views, titles):
            view.label = str(title)
    return _ordered(views)


def _iter_frames(
    views: Sequence[View],
    times: np.ndarray,
    camera: str,
    width: int,
    height: int,
    fast: bool,
    labels: bool,
    progress: bool | None,
    description: str,
) -> Iterator[np.ndarray]:
    """Yield (H, W * len(views), 3) uint8 frames at ``times`` seconds."""
    from tqdm.auto import tqdm

    with contextlib.ExitStack() as stack:
        panels = [stack.enter_context(_Panel(view, camera, width, height, fast, labels)) for view in views]
        disable = None if progress is None else not progress  # None: a bar only on a terminal
        for time in tqdm(times, desc=description, unit="frame", disable=disable, leave=False):
            images = [panel.render(float(time)) for panel in panels]
            for image in images[1:]:
                image[:, :2] = _DIVIDER_RGB
            yield images[0] if len(images) == 1 else np.concatenate(images, axis=1)


# ---------------------------------------------------------------------------------- public API


def render_frames(
    motion: MotionLike,
    times: Sequence[float] | np.ndarray | None = None,
    *,
    fps: float | None = None,
    source_fps: float | None = None,
    side_by_side: MotionLike | None = None,
    camera: str = "track",
    width: int = 480,
    height: int = 360,
    fast: bool = True,
    contacts: bool = True,
    labels: bool = False,
    titles: Sequence[str] | None = None,
    robot: str = "g1",
    progress: bool | None = False,
) -> np.ndarray:
    """Render frames into memory: (N, H, W, 3) uint8 (W doubles side by side).

    Args:
        motion: a :class:`RobotMotion`, a :class:`HumanMotion`, or (T, nq) qpos rows of ``robot``.
        times: seconds to render; default every frame of the timeline at ``fps``.
        fps: timeline frame rate; default the (first) motion's own rate.
        source_fps: sample rate of a qpos array (default ``fps``).
        side_by_side: a second motion drawn next to the first (human left, robot right),
            time-aligned: both are sampled at the same seconds (nearest frame; the shorter
            one holds its last frame).
        camera: ``"track"`` (follows the root), ``"fixed"`` (frames the whole path) or the
            name of a camera in the robot model (robot views only).
        width, height: size of one view in pixels (rounded up to even numbers).
        fast: fast settings (no multisampling, no shadows).
        contacts: draw foot-contact discs.
        labels: write the view name and time in the corner.
        titles: view names for the labels, in argument order (``motion``, ``side_by_side``),
            e.g. ``("reference", "rollout")``; default ``human`` / the robot's name.
        robot: robot of a qpos array.
        progress: show a progress bar (``None``: only on a terminal).
    """
    width, height = _even(width, "width"), _even(height, "height")
    views = _views(motion, side_by_side, source_fps or fps, robot, width, height, fast, contacts, titles)
    if times is None:
        times = frame_times(views, fps or views[0].fps)
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    frames = list(_iter_frames(views, times, camera, width, height, fast, labels, progress, "render"))
    return np.stack(frames) if frames else np.zeros((0, height, width * len(views), 3), np.uint8)


def render_video(
    motion: MotionLike,
    path: str | Path,
    fps: float | None = None,
    camera: str = "track",
    width: int = 480,
    height: int = 360,
    side_by_side: MotionLike | None = None,
    *,
    source_fps: float | None = None,
    fast: bool = True,
    contacts: bool = True,
    labels: bool = True,
    titles: Sequence[str] | None = None,
    robot: str = "g1",
    quality: float = 7.0,
    progress: bool | None = None,
) -> Path:
    """Render a motion to an ``.mp4`` (H.264, yuv420p) or ``.gif`` file, written atomically.

    Args:
        motion: a :class:`RobotMotion`, a :class:`HumanMotion`, or (T, nq) qpos rows of ``robot``
            (e.g. a MuJoCo rollout); arrays need ``source_fps`` or ``fps``.
        path: output file; the suffix picks the container.
        fps: video frame rate; default the (first) motion's own rate. Frames are sampled at the
            nearest source frame.
        camera: ``"track"``, ``"fixed"`` or a robot-model camera name (see :func:`render_frames`).
        width, height: size of one view in pixels (side by side doubles the width).
        side_by_side: a second motion shown next to the first (human left, robot right).
        source_fps: sample rate of a qpos array (default ``fps``).
        fast, contacts, labels, titles, robot: see :func:`render_frames`.
        quality: H.264 quality 0-10 (imageio's scale; 10 = best).
        progress: progress bar (``None``: only on a terminal).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    import imageio.v2 as imageio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise FormatError(
            f"unsupported video suffix '{path.suffix}': expected one of {VIDEO_SUFFIXES} "
            "(for a PNG grid use render_contact_sheet)",
            path=path,
        )
    width, height = _even(width, "width"), _even(height, "height")
    views = _views(motion, side_by_side, source_fps or fps, robot, width, height, fast, contacts, titles)
    fps = float(fps or views[0].fps)
    times = frame_times(views, fps)
    frames = _iter_frames(views, times, camera, width, height, fast, labels, progress, f"render {path.name}")
    with atomic_path(path) as tmp:
        if suffix == ".mp4":
            writer = imageio.get_writer(
                tmp,
                format="FFMPEG",
                fps=fps,
                codec="libx264",
                quality=quality,
                pixelformat="yuv420p",
                macro_block_size=2,
                ffmpeg_log_level="error",
                output_params=["-movflags", "+faststart"],
            )
        else:
            writer = imageio.get_writer(tmp, format="GIF", mode="I", duration=1000.0 / fps, loop=0)
        with writer:
            for frame in frames:
                writer.append_data(frame)
    return path


def tile_frames(frames: np.ndarray, columns: int, gap: int = 4, background: int = 255) -> np.ndarray:
    """Tile (N, H, W, 3) frames into a grid image with ``columns`` columns and ``gap`` pixels between."""
    frames = np.asarray(frames)
    count, height, width = frames.shape[:3]
    columns = max(1, min(int(columns), count))
    rows = -(-count // columns)
    sheet = np.full((rows * height + (rows + 1) * gap, columns * width + (columns + 1) * gap, 3), background, np.uint8)
    for index, frame in enumerate(frames):
        row, column = divmod(index, columns)
        top, left = gap + row * (height + gap), gap + column * (width + gap)
        sheet[top : top + height, left : left + width] = frame
    return sheet


def render_contact_sheet(
    motion: MotionLike,
    path: str | Path,
    num_frames: int = 8,
    columns: int = 4,
    *,
    side_by_side: MotionLike | None = None,
    camera: str = "track",
    width: int = 320,
    height: int = 240,
    source_fps: float | None = None,
    fast: bool = True,
    contacts: bool = True,
    labels: bool = True,
    titles: Sequence[str] | None = None,
    robot: str = "g1",
) -> Path:
    """Write a PNG grid of ``num_frames`` frames evenly spaced from the first to the last.

    Each cell is one frame (two views side by side when ``side_by_side`` is given) of
    ``width`` x ``height`` pixels per view; cells are separated by 4 white pixels. Other
    arguments as in :func:`render_frames`. Written atomically; returns ``path``.
    """
    import imageio.v3 as iio

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise FormatError(f"a contact sheet is a PNG, got suffix '{path.suffix}'", path=path)
    if num_frames < 1:
        raise FormatError(f"num_frames must be at least 1, got {num_frames}", field="num_frames")
    width, height = _even(width, "width"), _even(height, "height")
    views = _views(motion, side_by_side, source_fps, robot, width, height, fast, contacts, titles)
    duration = max((view.num_frames - 1) / view.fps for view in views)
    times = np.linspace(0.0, duration, num_frames)
    frames = np.stack(list(_iter_frames(views, times, camera, width, height, fast, labels, False, "sheet")))
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, tile_frames(frames, columns), extension=".png")
    return path
