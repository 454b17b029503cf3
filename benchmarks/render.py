"""Rendering speed: robomotion's renderer (fast settings) against MuJoCo's default settings.

Three measurements on the same G1 walking-in-place clip, the same size and the same tracking camera:

* ``baseline``: a plain ``mujoco.Renderer`` loop with MuJoCo's *default* quality settings
  (4x offscreen multisampling, shadows on): set qpos, ``mj_forward``, ``update_scene``, ``render``.
* ``render_frames``: :func:`robomotion.visual.render.render_frames` (fast settings: no multisampling, no
  shadows; foot-contact discs; kinematics only), frames kept in memory.
* ``render_video``: :func:`robomotion.visual.render.render_video` to an H.264 mp4 (encoding included).

Plus a human skeleton (SMPL-X 22 capsules drawn into the scene) and side by side (two views per
frame). Each figure is the median of ``--repeats`` runs after one warm-up; the ratio is
frames/s divided by the baseline's frames/s. Needs ``MUJOCO_GL=egl`` (set here when unset).

Run: ``python benchmarks/render.py [--frames 150] [--width 320 --height 240] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from _timing import median_time  # noqa: E402  (benchmarks/_timing.py, next to this script)

from robomotion import HumanMotion, RobotMotion, get_skeleton  # noqa: E402
from robomotion.robots import get_robot  # noqa: E402
from robomotion.rotations import quat_from_rotvec  # noqa: E402
from robomotion.visual.render import render_frames, render_video  # noqa: E402
from robomotion.visual.scene import CameraPath  # noqa: E402


def g1_clip(frames: int, fps: float = 30.0) -> RobotMotion:
    """The G1 home pose stepping in place with swinging arms (radians)."""
    g1 = get_robot("g1")
    qpos = np.tile(g1.home_qpos, (frames, 1))
    phase = 2 * np.pi * np.arange(frames) / fps
    names = g1.joint_names
    for side, sign in (("left", 1.0), ("right", -1.0)):
        qpos[:, 7 + names.index(f"{side}_hip_pitch_joint")] += -0.4 * np.clip(sign * np.sin(phase), 0, None)
        qpos[:, 7 + names.index(f"{side}_knee_joint")] += 0.8 * np.clip(sign * np.sin(phase), 0, None)
        qpos[:, 7 + names.index(f"{side}_shoulder_pitch_joint")] += -0.5 * sign * np.sin(phase)
    return RobotMotion.from_qpos("g1", fps, qpos, names)


def human_clip(frames: int, fps: float = 30.0) -> HumanMotion:
    skeleton = get_skeleton("smplx22")
    rotvecs = np.zeros((frames, skeleton.num_joints, 3))
    phase = 2 * np.pi * np.arange(frames) / fps
    rotvecs[:, skeleton.index("left_hip"), 1] = -0.4 * np.sin(phase)
    rotvecs[:, skeleton.index("right_hip"), 1] = 0.4 * np.sin(phase)
    root = np.zeros((frames, 3))
    root[:, 2] = -skeleton.rest_positions()[:, 2].min()
    return HumanMotion(skeleton, fps, root, quat_from_rotvec(rotvecs))


def baseline(motion: RobotMotion, width: int, height: int) -> float:
    """Seconds for a plain MuJoCo render loop at MuJoCo's default quality settings."""
    model = get_robot("g1").load_model(scene=True)
    model.vis.quality.offsamples = 4  # MuJoCo's default (our shipped scene sets 0)
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    data = mujoco.MjData(model)
    qpos = motion.qpos()
    path = CameraPath.for_roots("track", qpos[:, :3], motion.fps)
    camera = mujoco.MjvCamera()
    start = time.perf_counter()
    with mujoco.Renderer(model, height=height, width=width) as renderer:
        for frame, row in enumerate(qpos):
            data.qpos[:] = row
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera=path.apply(camera, frame))
            renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 1
            renderer.render()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    robot, human = g1_clip(args.frames), human_clip(args.frames)
    size = dict(width=args.width, height=args.height)
    out = Path(tempfile.mkdtemp(prefix="robomotion-render-bench-"))

    base = statistics.median(baseline(robot, args.width, args.height) for _ in range(args.repeats))
    rows = [("baseline: mujoco.Renderer, default settings (MSAA 4x, shadows)", base, args.frames)]

    def timed(function) -> float:
        return median_time(function, args.repeats, warm_up=True)

    rows.append(("render_frames G1 (fast settings)", timed(lambda: render_frames(robot, **size)), args.frames))
    rows.append(("render_video G1 -> mp4 (H.264 encode included)",
                 timed(lambda: render_video(robot, out / "g1.mp4", progress=False, **size)), args.frames))
    rows.append(("render_frames human skeleton (SMPL-X 22)", timed(lambda: render_frames(human, **size)), args.frames))
    rows.append(("render_frames side by side (2 views/frame)",
                 timed(lambda: render_frames(human, side_by_side=robot, **size)), args.frames))

    base_fps = args.frames / base
    print(f"G1 clip of {args.frames} frames at {args.width}x{args.height}, MUJOCO_GL={os.environ['MUJOCO_GL']}, "
          f"median of {args.repeats}")
    print("| what | frames/s | ratio vs baseline |\n|---|---|---|")
    for name, seconds, frames in rows:
        fps = frames / seconds
        print(f"| {name} | {fps:.1f} | {fps / base_fps:.2f}x |")


if __name__ == "__main__":
    main()
