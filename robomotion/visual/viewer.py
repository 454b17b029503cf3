"""Interactive 3-D motion viewer in the browser, built on viser.

Shows any number of human and robot motions together on one timeline: play/pause, scrub,
speed, loop; human motions as stick figures (cylinders and spheres), robots from their MJCF
geoms (capsules, boxes, spheres, cylinders, meshes) posed by MuJoCo forward kinematics; green
discs under feet in contact; Kimodo constraint markers (root path, keyframe poses,
end-effector targets); and the verdict of a validation report with the findings active at the
current time.

Example::

    from robomotion.visual.viewer import MotionViewer
    viewer = MotionViewer([human, robot], constraints=markers, verdict=verdict)
    print(viewer.url)            # open in a browser; loopback only by default
    viewer.serve_forever()       # until Ctrl-C

Conventions: z-up world, metres, seconds; quaternions (w, x, y, z) as viser uses them.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import quat_between_vectors, quat_to_matrix
from robomotion.visual.scene import (
    CONTACT_RGBA,
    HEAD_RADIUS,
    HUMAN_CONTACT_DISC_RADIUS,
    HUMAN_RGBA,
    ROBOT_CONTACT_DISC_RADIUS,
    StickFigure,
    nearest_frame,
    robot_foot_contacts,
    visible_geom_groups,
)

if TYPE_CHECKING:  # importing it pulls in robomotion.generators (torch): only when constraints are drawn
    from robomotion.visual.constraint_markers import ConstraintMarkers

__all__ = ["Finding", "MotionViewer", "Verdict", "load_verdict", "robot_geom_meshes"]

HUMAN_RGB = tuple(int(round(255 * c)) for c in HUMAN_RGBA[:3])
CONTACT_RGB = tuple(int(round(255 * c)) for c in CONTACT_RGBA[:3])
ROOT_PATH_RGB = (214, 64, 200)
KEYFRAME_RGB = (64, 196, 232)
EFFECTOR_RGB = (250, 206, 40)
VERDICT_COLOURS = {"pass": "#1a9c44", "warn": "#c98a00", "fail": "#c62828"}

_UP = np.array([0.0, 0.0, 1.0])
_TICK_S = 1.0 / 30.0  # playback update period


# ---------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Finding:
    """One reason of a verdict: ``message``, ``severity`` and where it happens (seconds)."""

    message: str
    severity: str = "fail"
    ranges_s: tuple[tuple[float, float], ...] = ()

    def active(self, time: float) -> bool:
        """Whether ``time`` (s) lies in one of the finding's ranges (half a frame of slack)."""
        return any(start - 0.02 <= time <= end + 0.02 for start, end in self.ranges_s)


@dataclass(frozen=True)
class Verdict:
    """A validation verdict (``pass``/``warn``/``fail`` or the report's own word) and its findings."""

    verdict: str
    findings: tuple[Finding, ...] = ()
    source: Path | None = None


def _ranges_seconds(ranges: Any, fps: float | None) -> tuple[tuple[float, float], ...]:
    out = []
    for entry in ranges if isinstance(ranges, list) else []:
        if isinstance(entry, dict):
            if "start_s" in entry:
                out.append((float(entry["start_s"]), float(entry.get("end_s", entry["start_s"]))))
            elif "start" in entry and fps:
                out.append((float(entry["start"]) / fps, float(entry.get("end", entry["start"])) / fps))
        elif isinstance(entry, (list, tuple)) and len(entry) == 2 and fps:
            out.append((float(entry[0]) / fps, float(entry[1]) / fps))
    return tuple(out)


def _finding(entry: Any, fps: float | None) -> Finding:
    if isinstance(entry, str):
        return Finding(entry)
    if isinstance(entry, dict):
        message = entry.get("message") or entry.get("reason") or entry.get("title") or json.dumps(entry)[:200]
        check = entry.get("check")
        text = f"{check}: {message}" if check and not str(message).startswith(str(check)) else str(message)
        return Finding(text, str(entry.get("severity", "fail")), _ranges_seconds(entry.get("ranges"), fps))
    return Finding(str(entry))


def verdict_from_dict(report: dict, source: Path | None = None) -> Verdict:
    """Read a validation report dict tolerantly.

    Uses ``verdict`` (or ``status``/``result``) and the reasons found under ``reasons``,
    ``findings``, ``failures`` or ``warnings``, and under each entry of ``checks`` (a list or a
    dict of check results with their own ``findings``). Reasons may be strings or dicts with
    ``message``, ``severity`` and frame ``ranges`` (``start_s``/``end_s`` or frames + ``fps``).
    """
    if not isinstance(report, dict):
        raise FormatError("a validation report is a JSON object", source)
    word = report.get("verdict", report.get("status", report.get("result")))
    if word is None:
        raise FormatError("no 'verdict' in the report", source, "verdict")
    fps = report.get("fps")
    if fps is None and isinstance(report.get("motion"), dict):
        fps = report["motion"].get("fps")
    entries: list[Any] = []
    for key in ("reasons", "findings", "failures", "warnings"):
        if isinstance(report.get(key), list):
            entries.extend(report[key])
    checks = report.get("checks")
    check_list = list(checks.values()) if isinstance(checks, dict) else checks if isinstance(checks, list) else []
    for check in check_list:
        if isinstance(check, dict) and isinstance(check.get("findings"), list):
            entries.extend(check["findings"])
    findings: list[Finding] = []
    for entry in entries:
        finding = _finding(entry, fps)
        if finding not in findings:
            findings.append(finding)
    return Verdict(str(word), tuple(findings), source)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FormatError("file not found", path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path) from None


def load_verdict(path: str | Path) -> Verdict:
    """A :class:`Verdict` from a report JSON file or a folder holding one (``report.json`` or
    the first ``*.json`` with a ``verdict``)."""
    path = Path(path)
    if not path.is_dir():
        return verdict_from_dict(_read_json(path), path)
    for candidate in [path / "report.json", *sorted(path.glob("*.json"))]:
        try:
            data = _read_json(candidate)
        except FormatError:
            continue
        if isinstance(data, dict) and "verdict" in data:
            return verdict_from_dict(data, candidate)
    raise FormatError("no report JSON with a 'verdict' in this folder", path)


# ---------------------------------------------------------------------------------- robot geometry


def robot_geom_meshes(model: Any) -> dict[int, list[tuple[np.ndarray, np.ndarray, tuple[int, int, int], float]]]:
    """Triangle meshes of a MuJoCo model's visible body geoms, in body frames.

    Returns ``{body_id: [(vertices (V, 3), faces (F, 3), rgb 0-255, opacity), ...]}`` for the
    geom groups :func:`~robomotion.visual.scene.visible_geom_groups` shows; geoms of one body
    with the same colour are merged into one mesh. Planes, height fields and zero-alpha geoms are
    skipped.
    """
    import mujoco
    import trimesh

    groups = visible_geom_groups(model)
    merged: dict[tuple[int, tuple[int, int, int], float], list[trimesh.Trimesh]] = {}
    for geom in range(model.ngeom):
        body = int(model.geom_bodyid[geom])
        if body == 0 or not groups[int(model.geom_group[geom])]:
            continue
        material = int(model.geom_matid[geom])
        rgba = model.mat_rgba[material] if material >= 0 else model.geom_rgba[geom]
        if rgba[3] <= 0:
            continue
        mesh = _geom_trimesh(model, geom, mujoco, trimesh)
        if mesh is None:
            continue
        transform = np.eye(4)
        transform[:3, :3] = quat_to_matrix(model.geom_quat[geom])
        transform[:3, 3] = model.geom_pos[geom]
        mesh.apply_transform(transform)
        key = (body, tuple(int(round(255 * c)) for c in rgba[:3]), float(round(rgba[3], 3)))
        merged.setdefault(key, []).append(mesh)
    out: dict[int, list[tuple[np.ndarray, np.ndarray, tuple[int, int, int], float]]] = {}
    for (body, rgb, alpha), meshes in merged.items():
        mesh = trimesh.util.concatenate(meshes)
        out.setdefault(body, []).append((np.asarray(mesh.vertices), np.asarray(mesh.faces), rgb, alpha))
    return out


def _geom_trimesh(model: Any, geom: int, mujoco: Any, trimesh: Any):
    """A trimesh of one geom in the geom's own frame (None for planes/height fields)."""
    kind = int(model.geom_type[geom])
    size = model.geom_size[geom]
    types = mujoco.mjtGeom
    if kind == types.mjGEOM_CAPSULE:
        return trimesh.creation.capsule(height=2 * size[1], radius=size[0], count=[12, 12])
    if kind == types.mjGEOM_CYLINDER:
        return trimesh.creation.cylinder(radius=size[0], height=2 * size[1], sections=16)
    if kind == types.mjGEOM_BOX:
        return trimesh.creation.box(extents=2 * size)
    if kind == types.mjGEOM_SPHERE:
        return trimesh.creation.icosphere(subdivisions=2, radius=size[0])
    if kind == types.mjGEOM_ELLIPSOID:
        sphere = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
        sphere.apply_scale(size)
        return sphere
    if kind == types.mjGEOM_MESH:
        mesh_id = int(model.geom_dataid[geom])
        start, count = model.mesh_vertadr[mesh_id], model.mesh_vertnum[mesh_id]
        face_start, face_count = model.mesh_faceadr[mesh_id], model.mesh_facenum[mesh_id]
        vertices = model.mesh_vert[start : start + count]
        faces = model.mesh_face[face_start : face_start + face_count]
        return trimesh.Trimesh(vertices=vertices.copy(), faces=faces.copy(), process=False)
    return None


# ---------------------------------------------------------------------------------- tracks


def _unit_cylinder() -> tuple[np.ndarray, np.ndarray]:
    """A radius-1 cylinder from z = 0 to z = 1 (vertices, faces)."""
    import trimesh

    mesh = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=12)
    return np.asarray(mesh.vertices) + np.array([0.0, 0.0, 0.5]), np.asarray(mesh.faces)


def _unit_sphere() -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    mesh = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def _batched_rgb(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """``rgb`` for viser's batched meshes, which the browser brightens by one more sRGB gamma
    than single meshes (measured on viser 1.1: 237 133 46 showed as ~246 189 117): undo it so
    bones and the head sphere share one colour."""
    return tuple(int(round(255 * (c / 255) ** 2.2)) for c in rgb)


def _identities(count: int) -> np.ndarray:
    """(count, 4) identity quaternions (w, x, y, z)."""
    return np.tile([1.0, 0.0, 0.0, 0.0], (count, 1))


def _add_discs(server: Any, name: str, positions: np.ndarray, scales: np.ndarray) -> Any:
    """Batched contact discs (unit cylinders scaled per instance; scale 0 hides one)."""
    return server.scene.add_batched_meshes_simple(
        name, *_unit_cylinder(), _identities(len(positions)), positions, batched_scales=scales,
        batched_colors=_batched_rgb(CONTACT_RGB),
    )


def _disc_instances(feet: np.ndarray, flags: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (T, K, 3) on the floor and per-axis scales (T, K, 3) of contact discs (0 when off)."""
    positions = feet.copy()
    positions[..., 2] = 0.001
    scales = np.zeros(feet.shape)
    scales[flags] = (radius, radius, 0.004)
    return positions, scales


class _HumanTrack:
    """A human motion as batched cylinders (bones), spheres (joints, head) and contact discs."""

    def __init__(self, server: Any, name: str, motion: HumanMotion):
        self.fps = motion.fps
        self.num_frames = motion.num_frames
        figure = StickFigure.from_motion(motion)
        starts = figure.positions[:, figure.bone_parents]
        vectors = figure.positions[:, figure.bones] - starts
        self.bone_positions = starts.astype(np.float32)
        self.bone_wxyzs = quat_between_vectors(_UP, vectors).astype(np.float32)
        lengths = np.linalg.norm(vectors, axis=-1)
        radii = np.broadcast_to(figure.bone_radii, lengths.shape)
        self.bone_scales = np.stack([radii, radii, lengths], axis=-1).astype(np.float32)
        self.joint_positions = figure.positions.astype(np.float32)
        joint_radii = np.full(figure.positions.shape[1], 0.012)
        joint_radii[figure.bones] = figure.bone_radii
        self.root = server.scene.add_frame(f"/{name}", show_axes=False)
        cylinder, sphere = _unit_cylinder(), _unit_sphere()
        self.bones = server.scene.add_batched_meshes_simple(
            f"/{name}/bones", *cylinder, self.bone_wxyzs[0], self.bone_positions[0],
            batched_scales=self.bone_scales[0], batched_colors=_batched_rgb(HUMAN_RGB),
        )
        self.joints = server.scene.add_batched_meshes_simple(
            f"/{name}/joints", *sphere, _identities(len(joint_radii)), self.joint_positions[0],
            batched_scales=joint_radii.astype(np.float32), batched_colors=_batched_rgb(HUMAN_RGB),
        )
        self.head_centers = figure.head_centers
        self.head = None
        if self.head_centers is not None:
            self.head = server.scene.add_icosphere(
                f"/{name}/head", radius=HEAD_RADIUS, color=HUMAN_RGB, position=self.head_centers[0]
            )
        self.discs = None
        if figure.feet is not None and figure.contacts is not None:
            self.disc_positions, self.disc_scales = _disc_instances(
                figure.feet, figure.contacts, HUMAN_CONTACT_DISC_RADIUS
            )
            self.discs = _add_discs(server, f"/{name}/contacts", self.disc_positions[0], self.disc_scales[0])
        self.root_xyz = figure.positions[:, 0]

    def show(self, frame: int, contacts: bool) -> None:
        self.bones.batched_positions = self.bone_positions[frame]
        self.bones.batched_wxyzs = self.bone_wxyzs[frame]
        self.bones.batched_scales = self.bone_scales[frame]
        self.joints.batched_positions = self.joint_positions[frame]
        if self.head is not None and self.head_centers is not None:
            self.head.position = self.head_centers[frame]
        if self.discs is not None:
            self.discs.visible = contacts
            self.discs.batched_positions = self.disc_positions[frame]
            self.discs.batched_scales = self.disc_scales[frame]


class _RobotTrack:
    """A robot motion as one viser frame per body holding its geoms' meshes (MuJoCo FK)."""

    def __init__(self, server: Any, name: str, motion: RobotMotion):
        from robomotion.robots import get_robot
        from robomotion.robots.kinematics import forward_kinematics, qpos_from_motion

        self.fps = motion.fps
        self.num_frames = motion.num_frames
        model = get_robot(motion.robot).load_model(scene=False)
        qpos = qpos_from_motion(motion, model)
        body_ids = np.arange(1, model.nbody)
        self.body_pos, self.body_quat = forward_kinematics(model, qpos, body_ids)
        self.root = server.scene.add_frame(f"/{name}", show_axes=False)
        meshes = robot_geom_meshes(model)
        self.bodies = []
        for column, body in enumerate(body_ids):
            handle = server.scene.add_frame(f"/{name}/{model.body(int(body)).name}", show_axes=False)
            for index, (vertices, faces, rgb, alpha) in enumerate(meshes.get(int(body), [])):
                server.scene.add_mesh_simple(
                    f"/{name}/{model.body(int(body)).name}/geom{index}", vertices, faces, color=rgb,
                    opacity=None if alpha >= 1 else alpha,
                )
            self.bodies.append((column, handle))
        feet, flags = robot_foot_contacts(motion.robot, model, qpos, motion.fps)
        self.disc_positions, self.disc_scales = _disc_instances(feet, flags, ROBOT_CONTACT_DISC_RADIUS)
        self.discs = _add_discs(server, f"/{name}/contacts", self.disc_positions[0], self.disc_scales[0])
        self.root_xyz = qpos[:, :3]

    def show(self, frame: int, contacts: bool) -> None:
        for column, handle in self.bodies:
            handle.position = self.body_pos[frame, column]
            handle.wxyz = self.body_quat[frame, column]
        self.discs.visible = contacts
        self.discs.batched_positions = self.disc_positions[frame]
        self.discs.batched_scales = self.disc_scales[frame]


def _add_constraint_markers(server: Any, markers: ConstraintMarkers) -> Any:
    """Root path (line + points + heading ticks), keyframe skeletons and effector targets."""
    group = server.scene.add_frame("/constraints", show_axes=False)
    if len(markers.root_points):
        points = markers.root_points + np.array([0.0, 0.0, 0.01])
        if len(points) > 1:
            server.scene.add_line_segments(
                "/constraints/root_path", np.stack([points[:-1], points[1:]], axis=1), ROOT_PATH_RGB, thickness=0.015
            )
        server.scene.add_point_cloud(
            "/constraints/root_points", points, ROOT_PATH_RGB, point_size=0.04, point_shape="circle"
        )
        if markers.root_headings is not None:
            ends = points + 0.25 * np.column_stack(
                [np.cos(markers.root_headings), np.sin(markers.root_headings), np.zeros(len(points))]
            )
            server.scene.add_line_segments(
                "/constraints/root_headings", np.stack([points, ends], axis=1), ROOT_PATH_RGB, thickness=0.01
            )
    for number, key in enumerate(markers.keyframes):
        children = np.flatnonzero(key.parents >= 0)
        segments = np.stack([key.positions[key.parents[children]], key.positions[children]], axis=1)
        server.scene.add_line_segments(f"/constraints/keyframe{number}/bones", segments, KEYFRAME_RGB, thickness=0.02)
        top = key.positions[np.argmax(key.positions[:, 2])] + np.array([0.0, 0.0, 0.15])
        server.scene.add_label(f"/constraints/keyframe{number}/label", f"key frame {key.frame}", position=top)
    for number, target in enumerate(markers.effectors):
        server.scene.add_icosphere(
            f"/constraints/effector{number}", radius=0.035, color=EFFECTOR_RGB, position=target.position
        )
        server.scene.add_label(
            f"/constraints/effector{number}/label", f"{target.name} @ {target.frame}", position=(0.0, 0.0, 0.06)
        )
    return group


# ---------------------------------------------------------------------------------- viewer


class MotionViewer:
    """A viser server showing motions on one timeline (see the module docstring).

    Args:
        motions: human and/or robot motions; all start at time 0 and are sampled at their own
            fps (nearest frame); shorter ones hold their last frame.
        names: one label per motion (default ``motion0``, ``motion1`` ...).
        constraints: Kimodo constraint markers to draw (z-up).
        verdict: a validation verdict to show, with findings active at the current time.
        host: interface to bind; loopback by default (pass ``0.0.0.0`` to share on a network).
        port: TCP port (0 picks a free one; viser tries the next ports when one is taken).
        autoplay: start playing immediately.
    """

    def __init__(
        self,
        motions: Sequence[HumanMotion | RobotMotion],
        *,
        names: Sequence[str] | None = None,
        constraints: ConstraintMarkers | None = None,
        verdict: Verdict | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        autoplay: bool = True,
    ):
        try:
            import viser
        except ImportError:
            raise BackendUnavailableError(
                "the web viewer needs viser: pip install 'robomotion[view]' (or pip install viser)"
            ) from None

        if not motions:
            raise FormatError("nothing to view: pass at least one motion", field="motions")
        names = list(names) if names is not None else [f"motion{i}" for i in range(len(motions))]
        if len(names) != len(motions):
            raise FormatError(f"{len(names)} names for {len(motions)} motions", field="names")
        self.server = viser.ViserServer(host=host, port=port, verbose=False)
        self._time = 0.0  # the time shown, s
        self._clock = 0.0  # the playback clock, s (continuous; the slider snaps to frames)
        self._advancing = False  # True while the player moves the slider
        self._lock = threading.Lock()
        self._stop = threading.Event()
        try:
            self._build_scene(motions, constraints)
            self.verdict = verdict
            self._build_gui(names, motions, constraints, autoplay)
            self._show(0.0)
        except BaseException:
            self.server.stop()
            raise
        self._thread = threading.Thread(target=self._play_loop, name="robomotion-viewer", daemon=True)
        self._thread.start()

    def _build_scene(self, motions: Sequence[HumanMotion | RobotMotion], constraints: ConstraintMarkers | None) -> None:
        """Lights, motions, floor grid, initial camera and constraint markers."""
        scene = self.server.scene
        scene.set_up_direction("+z")
        # viser's default image-based lighting makes the browser fetch an HDRI environment map;
        # offline the scene stayed washed out for 10-15 s. Plain lights keep the page self-contained.
        scene.configure_environment_map(hdri=None)
        scene.add_light_hemisphere("/lights/sky", sky_color=(255, 255, 255), ground_color=(90, 90, 100), intensity=2.0)
        self.tracks: list[_HumanTrack | _RobotTrack] = []
        for index, motion in enumerate(motions):
            track = _HumanTrack if isinstance(motion, HumanMotion) else _RobotTrack
            self.tracks.append(track(self.server, f"track{index}", motion))
        self.duration = max((track.num_frames - 1) / track.fps for track in self.tracks)
        self.fps = max(track.fps for track in self.tracks)
        x, y, _ = np.mean([track.root_xyz[0] for track in self.tracks], axis=0)
        scene.add_grid("/grid", width=20.0, height=20.0, plane="xy", cell_size=0.5, section_size=1.0,
                       position=(float(x), float(y), 0.0))
        self.server.initial_camera.position = (float(x) + 2.8, float(y) - 2.8, 2.0)  # front-right, above
        self.server.initial_camera.look_at = (float(x), float(y), 0.8)
        self.server.initial_camera.up = (0.0, 0.0, 1.0)
        self.constraints = None if constraints is None else _add_constraint_markers(self.server, constraints)

    # ------------------------------------------------------------------ GUI
    def _build_gui(
        self,
        names: Sequence[str],
        motions: Sequence[HumanMotion | RobotMotion],
        constraints: ConstraintMarkers | None,
        autoplay: bool,
    ) -> None:
        gui = self.server.gui
        lines = [
            f"- **{_markdown(name)}**: {'human' if isinstance(m, HumanMotion) else _markdown(m.robot.upper())}, "
            f"{m.num_frames} frames @ {m.fps:g} fps"
            for name, m in zip(names, motions)
        ]
        gui.add_markdown("### robomotion\n" + "\n".join(lines))
        self.play_button = gui.add_button("Pause" if autoplay else "Play")
        self.playing = autoplay
        marks = None
        if constraints is not None and len(constraints.frames):
            frames = constraints.frames[:40]
            marks = tuple((float(f) / self.fps, "") for f in frames if f / self.fps <= self.duration)
        self.time_slider = gui.add_slider(
            "time (s)", min=0.0, max=max(self.duration, 1e-3), step=1.0 / self.fps, initial_value=0.0, marks=marks
        )
        self.speed = gui.add_slider("speed", min=0.1, max=2.0, step=0.1, initial_value=1.0)
        self.loop = gui.add_checkbox("loop", True)
        self.show_contacts = gui.add_checkbox("foot contacts", True)
        self.spacing = gui.add_number("spacing (m)", 0.0, min=-5.0, max=5.0, step=0.1,
                                      hint="shift each motion sideways to see them apart")
        if self.verdict is not None:
            self._add_verdict_panel(self.verdict)
        if self.constraints is not None:
            self.show_constraints = gui.add_checkbox("constraints", True)

            @self.show_constraints.on_update
            def _(_: Any) -> None:
                self.constraints.visible = self.show_constraints.value

        @self.play_button.on_click
        def _(_: Any) -> None:
            self.pause() if self.playing else self.play()

        @self.time_slider.on_update
        def _(_: Any) -> None:
            if not self._advancing:  # a person scrubbed: playback continues from there
                self._clock = float(self.time_slider.value)
            self._show(float(self.time_slider.value))

        @self.spacing.on_update
        def _(_: Any) -> None:
            for index, track in enumerate(self.tracks):
                track.root.position = (0.0, -index * float(self.spacing.value), 0.0)

        @self.show_contacts.on_update
        def _(_: Any) -> None:
            self._show(self._time)

    def _add_verdict_panel(self, verdict: Verdict, shown: int = 8) -> None:
        """The verdict, its first ``shown`` findings, and the findings active at the current time."""
        colour = VERDICT_COLOURS.get(verdict.verdict.lower(), "#444")
        reasons = "".join(
            f"<li><b>{_escape(f.severity)}</b>: {_escape(_shorten(f.message))}</li>" for f in verdict.findings[:shown]
        )
        more = len(verdict.findings) - shown
        with self.server.gui.add_folder("validation"):
            self.server.gui.add_html(
                f'<div style="padding:0 8px"><div style="font-weight:700;color:{colour};font-size:1.1em">'
                f"verdict: {_escape(verdict.verdict.upper())}</div>"
                f'<ul style="margin:4px 0;padding-left:18px;font-size:0.8em">{reasons}</ul>'
                + (f'<div style="font-size:0.8em">... and {more} more</div>' if more > 0 else "")
                + "</div>"
            )
            self.active_findings = self.server.gui.add_markdown("")

    # ------------------------------------------------------------------ time
    @property
    def url(self) -> str:
        host = self.server.get_host()
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.server.get_port()}"

    @property
    def time(self) -> float:
        """The time shown, seconds."""
        return self._time

    def set_time(self, time: float) -> None:
        """Jump to ``time`` seconds (the slider moves with it; playback continues from there)."""
        time = float(np.clip(time, 0.0, self.duration))
        self._clock = time
        self.time_slider.value = time
        self._show(time)

    def play(self) -> None:
        """Start playback from the current time."""
        self.playing = True
        self.play_button.label = "Pause"

    def pause(self) -> None:
        """Stop playback at the current time."""
        self.playing = False
        self.play_button.label = "Play"

    def _show(self, time: float) -> None:
        """Pose every motion at ``time`` seconds."""
        time = float(np.clip(time, 0.0, self.duration))
        with self._lock, self.server.atomic():
            self._time = time
            for track in self.tracks:
                track.show(nearest_frame(time, track.fps, track.num_frames), bool(self.show_contacts.value))
            if self.verdict is not None:
                active = [f for f in self.verdict.findings if f.active(time)]
                self.active_findings.content = (
                    "**now:** " + "; ".join(_markdown(_shorten(f.message, 80)) for f in active[:4]) if active else ""
                )

    def _play_loop(self) -> None:
        last = _time.perf_counter()
        while not self._stop.wait(_TICK_S):
            now = _time.perf_counter()
            elapsed, last = now - last, now
            if not self.playing:
                continue
            clock = self._clock + elapsed * float(self.speed.value)
            if clock > self.duration:
                if not self.loop.value:
                    self.pause()
                    clock = self.duration
                else:
                    clock = 0.0
            self._clock = clock
            self._advancing = True
            try:
                self.time_slider.value = min(round(clock * self.fps) / self.fps, self.duration)
            finally:
                self._advancing = False

    # ------------------------------------------------------------------ lifetime
    def serve_forever(self) -> None:
        """Block until Ctrl-C, then stop the server."""
        try:
            while True:
                _time.sleep(1.0)
        finally:
            self.close()

    def close(self) -> None:
        """Stop playback and the server."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.server.stop()

    def __enter__(self) -> MotionViewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Characters with a meaning in Markdown (links, images, emphasis, code, headings, tables, lists).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def _shorten(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _escape(text: object) -> str:
    """``text`` safe inside HTML (element content and quoted attributes)."""
    return html.escape(str(text), quote=True)


def _markdown(text: object) -> str:
    """``text`` shown literally in a Markdown panel: HTML escaped, Markdown punctuation backslash-escaped."""
    return _escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(text).replace("\n", " ")))
