"""Offscreen rendering: frame counts, robot and skeleton visible, contacts, side by side, sheets, errors.

Images are small (160x120) so the whole file runs in a few seconds with EGL on a CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

from robomotion import HumanMotion, RobotMotion, get_skeleton
from robomotion.errors import FormatError, UnknownNameError
from robomotion.rotations import quat_from_rotvec

W, H = 160, 120


@pytest.fixture(scope="module")
def g1():
    from robomotion.robots import get_robot

    return get_robot("g1")


def _walking_qpos(g1, frames: int = 30, fps: float = 30.0) -> np.ndarray:
    """G1 home pose moving forward at 0.3 m/s, swinging the left arm (radians)."""
    qpos = np.tile(g1.home_qpos, (frames, 1))
    t = np.arange(frames) / fps
    qpos[:, 0] = 0.3 * t
    shoulder = 7 + g1.joint_names.index("left_shoulder_pitch_joint")
    qpos[:, shoulder] = -0.8 * np.sin(2 * np.pi * t)
    return qpos


def _standing_human(frames: int = 20, lift: float = 0.0, fps: float = 30.0) -> HumanMotion:
    """An SMPL-X 22 rest pose standing still with its toes on the floor (``lift`` metres higher)."""
    skeleton = get_skeleton("smplx22")
    root = np.zeros((frames, 3))
    root[:, 2] = -skeleton.rest_positions()[:, 2].min() + lift
    rotations = quat_from_rotvec(np.zeros((frames, skeleton.num_joints, 3)))
    return HumanMotion(skeleton, fps, root, rotations)


def _centre(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return image[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].astype(int)


def _robot_light_pixels(image: np.ndarray) -> int:
    """Pixels of the G1's light-grey shells (the floor and sky are blue-grey or darker)."""
    rgb = image.astype(int)
    grey = (rgb.min(axis=-1) > 150) & (rgb.max(axis=-1) - rgb.min(axis=-1) < 25)
    return int(grey.sum())


def _orange_pixels(image: np.ndarray) -> int:
    rgb = image.astype(int)
    return int(((rgb[..., 0] > 150) & (rgb[..., 0] - rgb[..., 2] > 80) & (rgb[..., 1] > 50)).sum())


def _green_pixels(image: np.ndarray) -> int:
    rgb = image.astype(int)
    return int(((rgb[..., 1] > 120) & (rgb[..., 1] - rgb[..., 0] > 60) & (rgb[..., 1] - rgb[..., 2] > 40)).sum())


# ---------------------------------------------------------------------------------- videos


def test_qpos_video_has_every_frame_and_shows_the_robot(tmp_path, g1):
    import imageio.v3 as iio

    from robomotion.visual.render import render_frames, render_video

    qpos = _walking_qpos(g1, frames=24)
    path = render_video(qpos, tmp_path / "rollout.mp4", source_fps=30, width=W, height=H, progress=False)
    assert path == tmp_path / "rollout.mp4"
    video = iio.imread(path)
    assert video.shape == (24, H, W, 3)

    buried = qpos.copy()
    buried[:, 2] = -5.0  # the robot under the floor: an empty scene seen by the same camera
    empty = render_frames(buried, source_fps=30, times=[0.0, 0.4], width=W, height=H)
    robot = render_frames(qpos, source_fps=30, times=[0.0, 0.4], width=W, height=H)
    for with_robot, without in zip(robot, empty):
        assert np.abs(_centre(with_robot) - _centre(without)).mean() > 5.0
        assert _robot_light_pixels(_centre(with_robot)) > 100
        assert _robot_light_pixels(_centre(without)) == 0
    # Decoded H.264 frames stay close to the rendered ones.
    assert np.abs(video[0].astype(int) - render_frames(qpos, source_fps=30, times=[0.0], width=W, height=H,
                                                       labels=True)[0]).mean() < 6.0
    assert not list(tmp_path.glob(".*")), "no temporary files left behind"


def test_video_fps_resamples_the_timeline(tmp_path, g1):
    import imageio.v3 as iio

    from robomotion.visual.render import render_video

    motion = RobotMotion.from_qpos("g1", 30.0, _walking_qpos(g1, frames=31), g1.joint_names)
    render_video(motion, tmp_path / "half.gif", fps=15, width=W, height=H)
    frames = iio.imread(tmp_path / "half.gif")
    assert frames.shape[0] == 16  # 1.0 s at 15 fps, both ends included
    assert frames.shape[1:3] == (H, W)


def test_named_model_camera_differs_from_tracking_camera(g1):
    from robomotion.visual.render import render_frames

    qpos = g1.home_qpos[None]
    front = render_frames(qpos, source_fps=30, camera="front", width=W, height=H)
    track = render_frames(qpos, source_fps=30, camera="track", width=W, height=H)
    assert front.shape == track.shape == (1, H, W, 3)
    assert np.abs(front.astype(int) - track.astype(int)).mean() > 5.0
    assert _robot_light_pixels(front[0]) > 50


def test_fast_settings_are_the_default_and_pretty_mode_renders(g1):
    from robomotion.visual.render import render_frames

    qpos = g1.home_qpos[None]
    fast = render_frames(qpos, source_fps=30, width=W, height=H)
    pretty = render_frames(qpos, source_fps=30, width=W, height=H, fast=False)
    assert fast.shape == pretty.shape
    assert not np.array_equal(fast, pretty)  # shadows + antialiasing change pixels


# ---------------------------------------------------------------------------------- humans and contacts


def test_human_skeleton_is_drawn_with_contact_discs_when_standing():
    from robomotion.visual.render import render_frames

    standing = render_frames(_standing_human(), times=[0.2], width=W, height=H)[0]
    lifted = render_frames(_standing_human(lift=0.5), times=[0.2], width=W, height=H)[0]
    assert _orange_pixels(standing) > 200
    assert _green_pixels(standing) > 10
    assert _orange_pixels(lifted) > 200
    assert _green_pixels(lifted) == 0


def test_robot_foot_contacts_low_and_slow(g1):
    from robomotion.visual.scene import robot_foot_contacts

    model = g1.load_model(scene=False)
    still = np.tile(g1.home_qpos, (20, 1))
    feet, flags = robot_foot_contacts("g1", model, still, 30.0)
    assert feet.shape == (20, 2, 3) and flags.shape == (20, 2)
    assert flags.all()
    jumping = still.copy()
    jumping[:, 2] += 0.2  # both feet 20 cm up
    assert not robot_foot_contacts("g1", model, jumping, 30.0)[1].any()
    sliding = _walking_qpos(g1, frames=20)  # the whole robot glides at 0.3 m/s: feet are fast
    assert not robot_foot_contacts("g1", model, sliding, 30.0)[1].any()


def test_side_by_side_puts_the_human_left_and_the_robot_right(g1):
    from robomotion.visual.render import render_frames

    robot = RobotMotion.from_qpos("g1", 30.0, np.tile(g1.home_qpos, (10, 1)), g1.joint_names)
    human = _standing_human(frames=20)
    frames = render_frames(robot, side_by_side=human, width=W, height=H)
    # The longer motion (20 frames) sets the timeline; the robot holds its last frame.
    assert frames.shape == (20, H, 2 * W, 3)
    left, right = frames[-1, :, :W], frames[-1, :, W:]
    assert _orange_pixels(left) > 200 and _orange_pixels(right) == 0
    assert _robot_light_pixels(right) > 50 and _robot_light_pixels(left) == 0


def test_two_robots_side_by_side_keep_argument_order_and_titles(g1):
    from robomotion.visual.render import render_frames

    reference = np.tile(g1.home_qpos, (5, 1))
    fallen = reference.copy()
    fallen[:, 2] = -5.0  # "rollout" gone below the floor
    frames = render_frames(reference, side_by_side=fallen, source_fps=30, width=W, height=H, labels=True,
                           titles=("reference", "rollout"))
    assert frames.shape == (5, H, 2 * W, 3)
    assert _robot_light_pixels(_centre(frames[0, :, :W])) > 50
    assert _robot_light_pixels(_centre(frames[0, :, W:])) == 0
    with pytest.raises(FormatError, match="titles"):
        render_frames(reference, source_fps=30, width=W, height=H, titles=("a", "b"))


# ---------------------------------------------------------------------------------- contact sheet


def test_contact_sheet_grid_size(tmp_path, g1):
    import imageio.v3 as iio

    from robomotion.visual.render import render_contact_sheet

    path = render_contact_sheet(_walking_qpos(g1), tmp_path / "sheet.png", num_frames=6, columns=4, source_fps=30,
                                width=W, height=H)
    sheet = iio.imread(path)
    gap = 4
    assert sheet.shape == (2 * H + 3 * gap, 4 * W + 5 * gap, 3)
    cells = [sheet[gap + r * (H + gap) : gap + r * (H + gap) + H, gap + c * (W + gap) : gap + c * (W + gap) + W]
             for r in range(2) for c in range(4)]
    assert all(_robot_light_pixels(cell) > 50 for cell in cells[:6])
    assert all((cell == 255).all() for cell in cells[6:])  # the two unused cells stay background


def test_tile_frames_layout():
    from robomotion.visual.render import tile_frames

    frames = np.stack([np.full((2, 3, 3), i, np.uint8) for i in range(5)])
    sheet = tile_frames(frames, columns=2, gap=1, background=200)
    assert sheet.shape == (3 * 2 + 4, 2 * 3 + 3, 3)
    assert sheet[1, 1, 0] == 0 and sheet[1, 5, 0] == 1 and sheet[4, 1, 0] == 2 and sheet[7, 1, 0] == 4
    assert sheet[7, 5, 0] == 200


# ---------------------------------------------------------------------------------- cameras and stage


def test_tracking_camera_follows_the_smoothed_root_and_fixed_camera_fits_the_path():
    from robomotion.visual.scene import CameraPath

    roots = np.zeros((61, 3))
    roots[:, 0] = np.linspace(0.0, 6.0, 61)
    track = CameraPath.for_roots("track", roots, fps=30.0)
    assert np.allclose(track.lookat[30, :2], [3.0, 0.0], atol=1e-9)  # centred window on a straight line
    assert np.allclose(track.lookat[:, 2], 0.75)
    fixed = CameraPath.for_roots("fixed", roots, fps=30.0, aspect=4 / 3, fovy=45.0)
    assert np.allclose(fixed.lookat[:, :2], [3.0, 0.0])
    assert fixed.azimuth == pytest.approx(250.0)  # side-on to the +x path, from the front-left
    # The 6 m path (seen 70 degrees off its direction) plus 2.5 m of margin spans the image width.
    visible_width = 2 * fixed.distance * np.tan(np.radians(22.5)) * 4 / 3
    assert visible_width == pytest.approx(6.0 * np.sin(np.radians(70.0)) + 2.5)
    backwards = CameraPath.for_roots("fixed", roots[::-1], fps=30.0)
    assert backwards.azimuth == pytest.approx(70.0)  # walking towards -x: still seen from its front-left
    in_place = CameraPath.for_roots("fixed", np.zeros((10, 3)), fps=30.0)
    assert in_place.distance == track.distance and in_place.azimuth == track.azimuth
    with pytest.raises(ValueError):
        CameraPath.for_roots("orbit", roots, fps=30.0)


def test_stage_is_the_robot_scene_without_the_robot():
    import mujoco

    from robomotion.visual.scene import stage_render_model

    stage = stage_render_model("g1", 640, 480)
    assert stage.nbody == 1 and stage.nq == 0
    floors = [g for g in range(stage.ngeom) if stage.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE]
    assert len(floors) == 1
    assert stage.vis.quality.offsamples == 0


# ---------------------------------------------------------------------------------- errors


def test_bad_inputs_raise_clear_errors(tmp_path, g1):
    from robomotion.visual.render import render_contact_sheet, render_frames, render_video

    qpos = np.tile(g1.home_qpos, (3, 1))
    with pytest.raises(FormatError, match="source_fps"):
        render_frames(qpos)
    with pytest.raises(FormatError, match="suffix"):
        render_video(qpos, tmp_path / "clip.avi", source_fps=30)
    with pytest.raises(FormatError, match="PNG"):
        render_contact_sheet(qpos, tmp_path / "sheet.jpg", source_fps=30)
    with pytest.raises(FormatError, match="qpos"):
        render_frames(qpos[:, :20], source_fps=30)
    with pytest.raises(UnknownNameError, match="front"):
        render_video(qpos, tmp_path / "clip.mp4", source_fps=30, camera="nowhere", width=W, height=H)
    with pytest.raises(FormatError, match="16 pixels"):
        render_frames(qpos, source_fps=30, width=8)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary files left


# ---------------------------------------------------------------------------------- command line


def test_cli_renders_videos_and_sheets_from_files(tmp_path, g1, capsys):
    import imageio.v3 as iio

    from robomotion.cli.main import main
    from robomotion.formats import save_motion

    robot_file = save_motion(RobotMotion.from_qpos("g1", 30.0, _walking_qpos(g1, frames=12), g1.joint_names),
                             tmp_path / "walk_g1.csv")
    human_file = save_motion(_standing_human(frames=12), tmp_path / "stand.npz")
    video = tmp_path / "both.mp4"
    code = main(["render", str(robot_file), "--side-by-side", str(human_file), "-o", str(video),
                 "--width", str(W), "--height", str(H)])
    assert code == 0 and capsys.readouterr().out.strip() == str(video)
    frames = iio.imread(video)
    assert frames.shape == (12, H, 2 * W, 3)
    assert _orange_pixels(frames[0, :, :W]) > 100  # human on the left even though it was given second
    sheet = tmp_path / "sheet.png"
    assert main(["render", str(robot_file), "-o", str(sheet), "--sheet", "3", "--columns", "3",
                 "--width", str(W), "--height", str(H)]) == 0
    assert iio.imread(sheet).shape == (H + 8, 3 * W + 16, 3)
    capsys.readouterr()
    # No -o: the video goes next to the input, not into the current folder.
    code = main(["render", str(robot_file), "--width", str(W), "--height", str(H)])
    assert code == 0 and capsys.readouterr().out.strip() == str(tmp_path / "walk_g1.mp4")
    assert iio.imread(tmp_path / "walk_g1.mp4").shape[0] == 12
    # Bad input: one line on stderr, exit code 2, nothing written.
    assert main(["render", str(robot_file), "-o", str(tmp_path / "x.mp4"), "--camera", "nowhere"]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_headless_command_picks_egl_and_a_broken_backend_gives_a_fix(tmp_path, g1):
    """No MUJOCO_GL and no display: the command chooses EGL itself and renders. A backend that
    cannot work here (GLFW without a display) gives a one-line fix, exit code 2, no file."""
    import os
    import subprocess
    import sys

    from robomotion.formats import save_motion

    robot_file = save_motion(RobotMotion.from_qpos("g1", 30.0, np.tile(g1.home_qpos, (3, 1)), g1.joint_names),
                             tmp_path / "still.csv")
    headless = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "DISPLAY", "WAYLAND_DISPLAY")}

    def render(env: dict[str, str], name: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "robomotion", "render", str(robot_file), "-o", str(tmp_path / name)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    chosen = render(headless, "egl.mp4")
    assert chosen.returncode == 0, chosen.stderr
    assert (tmp_path / "egl.mp4").stat().st_size > 0

    broken = render({**headless, "MUJOCO_GL": "glfw"}, "glfw.mp4")
    assert broken.returncode == 2
    assert "MUJOCO_GL=egl" in broken.stderr
    assert not (tmp_path / "glfw.mp4").exists()
