"""Throughput of the file formats and of pose fitting.

Workloads (synthetic, seeded): a SOMA-77 motion, an SMPL-X-22 motion and a G1 motion of
``--frames`` frames (default 3000 = 100 s at 30 fps).

* Pose fitting (``robomotion.pose_fit.fit_pose``, 22 joints): the vectorised fit against the
  same algorithm run frame by frame (baseline, on a slice of frames).
* Each format: write + read of the whole motion, against the raw I/O floor measured in the same
  run: ``numpy.savez``/``numpy.load`` of the same arrays for NPZ formats, ``numpy.savetxt``/
  ``numpy.loadtxt`` of the same numbers for the text formats (CSV, BVH).

Prints frames/s and the ratio ours / baseline (for pose fitting: the speed-up; for formats: how
many times the raw I/O floor our reader+writer cost).
Usage: ``python benchmarks/formats.py [--frames N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _timing import median_time  # benchmarks/_timing.py, next to this script

from robomotion.formats import load_motion, save_motion
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.pose_fit import fit_pose
from robomotion.robots import get_robot
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton


def human_motion(skeleton: str, frames: int, seed: int = 0) -> HumanMotion:
    sk = get_skeleton(skeleton)
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / 30.0
    rotvec = rng.normal(0, 0.2, (1, sk.num_joints, 3)) + 0.3 * np.sin(t + rng.uniform(0, 6, (1, sk.num_joints, 3)))
    root = np.column_stack([np.arange(frames) / 30.0, np.zeros(frames), np.full(frames, 0.95)])
    return HumanMotion(sk, 30.0, root, quat_from_rotvec(rotvec))


def robot_motion(frames: int, seed: int = 0) -> RobotMotion:
    g1 = get_robot("g1")
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / 30.0
    q = g1.home_joint_pos + 0.3 * np.sin(t + rng.uniform(0, 6, g1.num_joints))
    root = np.column_stack([t[:, 0], np.zeros(frames), np.full(frames, 0.79)])
    quat = quat_from_rotvec(np.column_stack([np.zeros(frames), np.zeros(frames), 0.3 * t[:, 0]]))
    return RobotMotion("g1", 30.0, root, quat, q, g1.joint_names)


def npz_floor(arrays: dict[str, np.ndarray], folder: Path) -> Callable[[], object]:
    def run() -> object:
        np.savez(folder / "floor.npz", **arrays)
        with np.load(folder / "floor.npz") as data:
            return [data[k] for k in data.files]

    return run


def text_floor(values: np.ndarray) -> Callable[[], object]:
    def run() -> object:
        buffer = io.StringIO()
        np.savetxt(buffer, values, delimiter=",")
        buffer.seek(0)
        return np.loadtxt(buffer, delimiter=",")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames, repeats = args.frames, args.repeats
    soma, smplx, robot = human_motion("soma77", frames), human_motion("smplx22", frames), robot_motion(frames)

    print(f"{'workload':<34}{'ours frames/s':>15}{'baseline frames/s':>20}{'ratio':>9}")
    positions = smplx.global_positions
    slice_frames = min(frames, 150)
    ours = median_time(lambda: fit_pose(get_skeleton("smpl22"), positions), repeats)
    base = median_time(lambda: [fit_pose(get_skeleton("smpl22"), positions[t : t + 1]) for t in range(slice_frames)], 1)
    print(
        f"{'pose_fit 22 joints (vs per frame)':<34}{frames / ours:>15.0f}{slice_frames / base:>20.0f}"
        f"{(frames / ours) / (slice_frames / base):>8.1f}x"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [
            (
                "kimodo-npz soma77",
                soma,
                "m.npz",
                {"format": "kimodo-npz"},
                {},
                npz_floor(
                    {
                        "a": np.zeros((frames, 77, 3), np.float32),
                        "b": np.zeros((frames, 77, 3, 3), np.float32),
                        "c": np.zeros((frames, 77, 3, 3), np.float32),
                    },
                    folder,
                ),
            ),
            (
                "amass-npz smplx22",
                smplx,
                "m_amass.npz",
                {},
                {},
                npz_floor(
                    {
                        "t": np.zeros((frames, 3), np.float32),
                        "p": np.zeros((frames, 66), np.float32),
                        "h": np.zeros((frames, 90)),
                    },
                    folder,
                ),
            ),
            ("bvh soma77 (SEED rest)", soma, "m.bvh", {}, {}, text_floor(np.zeros((frames, 6 + 6 + 76 * 3)))),
            ("bvh smplx22 (generic)", smplx, "x.bvh", {}, {}, text_floor(np.zeros((frames, 6 + 21 * 3)))),
            ("g1-csv", robot, "g.csv", {}, {}, text_floor(robot.qpos())),
            (
                "beyondmimic-npz (30 fps, with FK)",
                robot,
                "b_bm.npz",
                {"fps": 30.0},
                {},
                npz_floor(
                    {
                        "q": np.zeros((frames, 29), np.float32),
                        "p": np.zeros((frames, 30, 3), np.float32),
                        "r": np.zeros((frames, 30, 4), np.float32),
                        "v": np.zeros((frames, 30, 3), np.float32),
                        "w": np.zeros((frames, 30, 3), np.float32),
                    },
                    folder,
                ),
            ),
        ]
        for name, motion, filename, write_options, read_options, floor in cases:
            path = folder / filename

            def round_trip(motion=motion, path=path, write_options=write_options, read_options=read_options):
                save_motion(motion, path, **write_options)
                return load_motion(path, **read_options)

            ours = median_time(round_trip, repeats)
            base = median_time(floor, repeats)
            print(f"{name + ' write+read':<34}{frames / ours:>15.0f}{frames / base:>20.0f}{ours / base:>8.1f}x cost")


if __name__ == "__main__":
    main()
