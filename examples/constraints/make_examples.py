"""Regenerate the example constraint files in this folder (``python examples/constraints/make_examples.py``).

The root paths are written by hand; the poses of the keyframe and end-effector examples are
taken from a motion the default model generates (seed 0), so they are poses the model's
SMPL-X 22 skeleton can reach. Everything is written in Kimodo's axes (see README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import robomotion
from robomotion.generators.constraints import (
    EndEffectorConstraint,
    key_poses,
    root_waypoints,
    save_constraints,
)

HERE = Path(__file__).resolve().parent
FPS = 30


def main() -> None:
    # 1. A root path: every frame of a 6 s walk, 3 m forward then curving 1.5 m to the left.
    frames = np.arange(0, 6 * FPS, 2)
    t = frames / frames[-1]
    x = 3.0 * np.minimum(t / 0.6, 1.0) + 1.0 * np.clip((t - 0.6) / 0.4, 0, 1)
    y = 1.5 * np.clip((t - 0.6) / 0.4, 0, 1) ** 2
    save_constraints(HERE / "root_path.json", [root_waypoints(frames, np.stack([x, y], -1))])

    # 2. Waypoints: three positions (and headings) at given frames; the model fills in the rest.
    save_constraints(
        HERE / "waypoints.json",
        [root_waypoints([45, 105, 165], [[1.0, 0.0], [2.0, 1.0], [2.0, 2.0]], headings=[0.0, np.pi / 2, np.pi / 2])],
    )

    (walk,) = robomotion.load_model()("a person walks forward", duration=6.0, seed=0, progress=False)
    # 3. Full-body keyframes: the pose of frame 30 at frames 30 and 150 (the same stride twice).
    save_constraints(HERE / "keyframes.json", [key_poses(walk, [30, 90], [30, 150])])

    # 4. End-effectors: the right hand where it is at frame 60, the left foot planted as at frame 100.
    save_constraints(
        HERE / "end_effectors.json",
        [_end_effector(walk, 60, "right-hand", "RightHand"), _end_effector(walk, 100, "left-foot", "LeftFoot")],
    )


def _end_effector(motion: robomotion.HumanMotion, frame: int, kind: str, name: str) -> EndEffectorConstraint:
    """Frame ``frame`` of ``motion`` as a ``kind`` constraint on the ``name`` chain, at the same frame."""
    pose = key_poses(motion, [frame])
    return EndEffectorConstraint(pose.frame_indices, pose.local_rotations, pose.root_positions, (name,), type=kind)

if __name__ == "__main__":
    main()
