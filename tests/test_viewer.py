"""The viser web viewer: scene contents, playback, constraints, verdicts, and a real headless Chromium.

The Chromium test needs the Debian ``chromium`` package (``apt-get install -y chromium``; CI's
``.ci/run`` installs it) and skips with a reason when it is absent.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest

from robomotion import HumanMotion, RobotMotion, get_skeleton
from robomotion.errors import FormatError
from robomotion.rotations import quat_apply, quat_between_vectors, quat_from_rotvec

KIMODO_TO_ZUP = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@pytest.fixture(scope="module")
def g1():
    from robomotion.robots import get_robot

    return get_robot("g1")


def _human(frames: int = 30) -> HumanMotion:
    """SMPL-X 22 standing with the left arm swinging forward (seeded, deterministic)."""
    skeleton = get_skeleton("smplx22")
    rotvecs = np.zeros((frames, skeleton.num_joints, 3))
    rotvecs[:, skeleton.index("left_shoulder"), 1] = -np.linspace(0.0, 1.2, frames)
    root = np.zeros((frames, 3))
    root[:, 1] = 1.0
    root[:, 2] = -skeleton.rest_positions()[:, 2].min()
    return HumanMotion(skeleton, 30.0, root, quat_from_rotvec(rotvecs))


def _robot(g1, frames: int = 20) -> RobotMotion:
    qpos = np.tile(g1.home_qpos, (frames, 1))
    qpos[:, 0] = np.linspace(0.0, 0.5, frames)
    return RobotMotion.from_qpos("g1", 20.0, qpos, g1.joint_names)


@pytest.fixture
def viewer(g1):
    from robomotion.visual.viewer import MotionViewer

    with MotionViewer([_human(), _robot(g1)], names=["human", "g1"], port=0, autoplay=False) as v:
        yield v


# ---------------------------------------------------------------------------------- geometry


def test_quat_between_vectors_maps_directions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    assert np.allclose(quat_apply(quat_between_vectors(a, b), unit(a)), unit(b), atol=1e-12)
    assert np.allclose(quat_apply(quat_between_vectors(a, -a), unit(a)), -unit(a), atol=1e-12)
    assert np.allclose(quat_between_vectors([0, 0, 1], [0, 0, 0]), [1, 0, 0, 0])


def test_robot_geom_meshes_cover_the_visual_geoms(g1):
    from robomotion.visual.scene import visible_geom_groups
    from robomotion.visual.viewer import robot_geom_meshes

    model = g1.load_model(scene=False)
    meshes = robot_geom_meshes(model)
    groups = visible_geom_groups(model)
    bodies_with_visuals = {int(model.geom_bodyid[g]) for g in range(model.ngeom) if groups[model.geom_group[g]]}
    assert set(meshes) == bodies_with_visuals
    pelvis = model.body("pelvis").id
    vertices = np.concatenate([v for v, *_ in meshes[pelvis]])
    box = next(g for g in range(model.ngeom) if model.geom_bodyid[g] == pelvis and model.geom_type[g] == 6)
    low, high = model.geom_pos[box] - model.geom_size[box], model.geom_pos[box] + model.geom_size[box]
    assert np.all(vertices.min(axis=0) <= low + 1e-9) and np.all(vertices.max(axis=0) >= high - 1e-9)


# ---------------------------------------------------------------------------------- viewer state


def test_viewer_poses_every_motion_at_the_chosen_time(viewer, g1):
    from robomotion.robots.kinematics import body_trajectories

    human_track, robot_track = viewer.tracks
    assert viewer.duration == pytest.approx(29 / 30)
    viewer.set_time(0.5)
    assert viewer.time == pytest.approx(0.5)
    robot = _robot(g1)
    frame = 10  # 0.5 s at 20 fps
    reference = body_trajectories(robot, bodies=["pelvis", "left_ankle_roll_link"])
    column = {handle.name.rsplit("/", 1)[-1]: handle for _, handle in robot_track.bodies}
    assert np.allclose(column["pelvis"].position, reference.pos[frame, 0], atol=1e-5)
    assert np.allclose(column["left_ankle_roll_link"].position, reference.pos[frame, 1], atol=1e-5)
    human = _human()
    positions = human.global_positions[15]  # 0.5 s at 30 fps
    assert np.allclose(human_track.bones.batched_positions, positions[human_track_parents(human)], atol=1e-5)


def human_track_parents(motion: HumanMotion) -> np.ndarray:
    lengths = motion.skeleton.bone_lengths()
    return motion.skeleton.parents[lengths > 1e-4]


def test_viewer_plays_and_loops(g1):
    from robomotion.visual.viewer import MotionViewer

    with MotionViewer([_robot(g1)], port=0, autoplay=True) as viewer:
        viewer.speed.value = 2.0
        deadline = time.monotonic() + 10.0
        while viewer.time == 0.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert viewer.time > 0.0
        viewer.pause()
        time.sleep(0.1)
        paused_at = viewer.time
        time.sleep(0.2)
        assert viewer.time == paused_at
        assert viewer.play_button.label == "Play"


def test_viewer_rejects_empty_input():
    from robomotion.visual.viewer import MotionViewer

    with pytest.raises(FormatError, match="at least one motion"):
        MotionViewer([], port=0)


# ---------------------------------------------------------------------------------- verdicts


def test_verdict_reader_is_tolerant(tmp_path):
    from robomotion.visual.viewer import load_verdict, verdict_from_dict

    report = {
        "verdict": "fail",
        "fps": 30.0,
        "checks": [
            {"name": "torques", "findings": [
                {"check": "torques", "severity": "fail", "message": "knee torque 140% of limit",
                 "ranges": [{"start": 30, "end": 45, "start_s": 1.0, "end_s": 1.5}]},
            ]},
        ],
        "reasons": ["falls at 2.1 s"],
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    verdict = load_verdict(tmp_path)
    assert verdict.verdict == "fail"
    assert [f.message for f in verdict.findings] == ["falls at 2.1 s", "torques: knee torque 140% of limit"]
    knee = verdict.findings[1]
    assert knee.active(1.2) and not knee.active(2.0)
    frames_only = verdict_from_dict({"status": "warn", "fps": 10, "findings": [{"message": "x", "ranges": [[5, 10]]}]})
    assert frames_only.verdict == "warn" and frames_only.findings[0].ranges_s == ((0.5, 1.0),)
    with pytest.raises(FormatError, match="verdict"):
        verdict_from_dict({"checks": []})
    (tmp_path / "report.json").write_text("{")
    with pytest.raises(FormatError):
        load_verdict(tmp_path / "report.json")


# ---------------------------------------------------------------------------------- constraints


@pytest.mark.shared
def test_soma_keyframe_markers_match_kimodo_output(shared_dir):
    from robomotion.visual.constraint_markers import load_constraint_markers

    example = shared_dir / "data/kimodo_examples/kimodo-soma-rp/03_full_body_keyframes"
    markers = load_constraint_markers(example / "constraints.json")
    posed = np.load(example / "motion.npz")["posed_joints"] @ KIMODO_TO_ZUP.T
    assert [k.frame for k in markers.keyframes] == [79, 134]
    for key in markers.keyframes:
        # Kimodo's post-processing hits full-body keyframes: our FK of the constraint lands on its output.
        assert np.linalg.norm(key.positions - posed[key.frame], axis=-1).max() < 0.01


@pytest.mark.shared
def test_root_path_markers_lie_on_the_floor_under_the_pelvis(shared_dir):
    from robomotion.visual.constraint_markers import load_constraint_markers

    example = shared_dir / "data/kimodo_examples/kimodo-soma-rp/05_root_path"
    markers = load_constraint_markers(example / "constraints.json")
    posed = np.load(example / "motion.npz")["posed_joints"] @ KIMODO_TO_ZUP.T
    assert markers.root_points.shape == (300, 3) and np.all(markers.root_points[:, 2] == 0)
    assert np.array_equal(markers.frames, np.arange(300))
    gap = np.linalg.norm(markers.root_points[:, :2] - posed[markers.root_frames, 0, :2], axis=-1)
    assert np.median(gap) < 0.15  # a smoothed path: the pelvis sways around it


def test_effector_and_root_markers_from_a_list():
    from robomotion.generators.constraints import load_constraints
    from robomotion.visual.constraint_markers import constraint_markers

    skeleton = get_skeleton("smplx22")
    entries = [
        {"type": "left-hand", "frame_indices": [10], "local_joints_rot": np.zeros((1, 22, 3)).tolist(),
         "root_positions": [[0.0, 0.95, 0.0]]},
        {"type": "root2d", "frame_indices": [20, 0], "smooth_root_2d": [[1.0, 2.0], [0.0, 0.0]],
         "global_root_heading": [[0.0, 1.0], [1.0, 0.0]]},
    ]
    markers = constraint_markers(load_constraints(entries))
    (hand,) = markers.effectors
    rest = skeleton.rest_positions()
    expected = rest[skeleton.index("left_wrist")] + np.array([0.0, 0.0, 0.95])  # Kimodo y-up 0.95 -> z
    assert hand.name == "LeftHand" and hand.frame == 10
    assert np.allclose(hand.position, expected)
    assert np.array_equal(markers.root_frames, [0, 20])
    assert np.allclose(markers.root_points[1], [2.0, 1.0, 0.0])  # Kimodo (x, z) = (1, 2) -> ours (2, 1)
    assert np.allclose(markers.root_headings, [0.0, np.pi / 2])


# ---------------------------------------------------------------------------------- browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("needs a Chromium browser (Debian: apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _DevTools:
    """A minimal Chrome DevTools Protocol client for one page (JSON over a websocket)."""

    def __init__(self, port: int, deadline: float):
        from websockets.sync.client import connect

        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as reply:
                    pages = [t for t in json.load(reply) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chromium's DevTools endpoint never came up")
            time.sleep(0.2)
        self.socket = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                return message.get("result", {})


def _scene_region(image: np.ndarray) -> np.ndarray:
    """The 3-D canvas below viser's notifications and left of its control panel."""
    return image[150:, : int(image.shape[1] * 0.7), :3].astype(int)


def _shows_skeleton_and_robot(image: np.ndarray) -> bool:
    scene = _scene_region(image)
    orange = (scene[..., 0] > 150) & (scene[..., 0] - scene[..., 2] > 80)
    dark = scene.max(axis=-1) < 90  # the G1's dark shells on the white background
    return bool(orange.sum() > 100 and dark.sum() > 100)


def test_headless_chromium_shows_the_scene(tmp_path, g1):
    """A real browser loads the page; WebGL (SwiftShader) draws the human and the robot."""
    import imageio.v3 as iio

    from robomotion.visual.viewer import MotionViewer

    browser = _chromium()
    debug_port = _free_port()
    deadline = time.monotonic() + 120.0
    with MotionViewer([_human(), _robot(g1)], port=0, autoplay=False) as viewer:
        viewer.spacing.value = 1.0
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-angle=swiftshader", "--enable-unsafe-swiftshader",  # software WebGL
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1024,700",
            f"--remote-debugging-port={debug_port}", "--remote-allow-origins=*", viewer.url,
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            devtools = _DevTools(debug_port, deadline)
            image = None
            while time.monotonic() < deadline:  # the page connects, receives the scene, then draws
                time.sleep(1.0)
                png = base64.b64decode(devtools.call("Page.captureScreenshot", format="png")["data"])
                image = iio.imread(png)
                if _shows_skeleton_and_robot(image):
                    break
            devtools.socket.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert image is not None
    iio.imwrite(tmp_path / "viewer.png", image)
    colours = np.unique(_scene_region(image).reshape(-1, 3) // 8, axis=0)
    assert len(colours) > 50, f"the 3-D canvas looks uniform: WebGL drew nothing (see {tmp_path / 'viewer.png'})"
    assert _shows_skeleton_and_robot(image), f"human or robot missing in {tmp_path / 'viewer.png'}"


def test_view_command_serves_the_page_on_loopback(tmp_path, g1):
    import os
    import signal
    import sys

    from robomotion.formats import save_motion

    robot_file = save_motion(_robot(g1), tmp_path / "walk_g1.csv")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"verdict": "pass", "findings": []}))
    process = subprocess.Popen(
        [sys.executable, "-m", "robomotion", "view", str(robot_file), "--port", "0", "--paused",
         "--report", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = None
        deadline = time.monotonic() + 60.0
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if "robomotion view: open" in line:
                url = line.split("open ", 1)[1].split()[0]
        assert url is not None and url.startswith("http://127.0.0.1:"), "no URL printed"
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.status == 200 and b"<html" in reply.read(2000).lower()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode in (0, 130)


def test_report_fields_and_file_names_are_escaped_in_the_panels(g1, monkeypatch):
    """Regression: severity from a --report JSON and motion names went into HTML/Markdown unescaped."""
    from viser._gui_api import GuiApi

    from robomotion.visual.viewer import Finding, MotionViewer, Verdict

    shown: dict[str, list[str]] = {"add_markdown": [], "add_html": []}
    for method in shown:
        original = getattr(GuiApi, method)

        def record(self, content, *args, _original=original, _into=shown[method], **kwargs):
            _into.append(content)
            return _original(self, content, *args, **kwargs)

        monkeypatch.setattr(GuiApi, method, record)
    attack = '<img src=x onerror="alert(1)">'
    verdict = Verdict("warn", (Finding(f"[click](javascript:alert(1)) {attack}", severity=attack, ranges_s=((0, 9),)),))
    with MotionViewer([_robot(g1)], names=[f"{attack}.csv"], verdict=verdict, port=0, autoplay=False) as viewer:
        viewer.set_time(0.1)
        shown["add_markdown"].append(viewer.active_findings.content)
    text = "\n".join(shown["add_markdown"] + shown["add_html"])
    assert "<img" not in text and "&lt;img" in text and 'onerror="' not in text
    markdown = "\n".join(shown["add_markdown"])
    assert "](javascript" not in markdown and "\\]\\(javascript" in markdown
