"""Small sample files of every input kind robomotion reads, written with robomotion's own writers.

Used by the round-trip test (every input kind x every output format) and the reader fuzz test.
Every sample is a few frames, seeded, and needs nothing outside the package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from robomotion.formats import save_motion
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_from_rotvec, quat_to_euler
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

FRAMES = 8


def robot_motion(frames: int = FRAMES, fps: float = 30.0) -> RobotMotion:
    """The G1 at its home pose, walking 10 cm forward, with small seeded joint motions."""
    g1 = get_robot("g1")
    rng = np.random.default_rng(7)
    root = np.tile(g1.home_root_pos, (frames, 1))
    root[:, 0] += np.linspace(0.0, 0.1, frames)
    joints = np.tile(g1.home_joint_pos, (frames, 1)) + rng.normal(0.0, 0.05, (frames, len(g1.joint_names)))
    joints = np.clip(joints, g1.joint_limits[:, 0], g1.joint_limits[:, 1])
    return RobotMotion("g1", fps, root, np.tile(g1.home_root_quat, (frames, 1)), joints, g1.joint_names)


def human_motion(skeleton: str | Skeleton = "smplx22", frames: int = FRAMES, fps: float = 30.0) -> HumanMotion:
    """Seeded small random joint rotations on ``skeleton``, pelvis 0.9 m up, walking 10 cm forward."""
    sk = get_skeleton(skeleton) if isinstance(skeleton, str) else skeleton
    rng = np.random.default_rng(1)
    root = np.tile([0.0, 0.0, 0.9], (frames, 1))
    root[:, 0] += np.linspace(0.0, 0.1, frames)
    return HumanMotion(sk, fps, root, quat_from_rotvec(rng.normal(0.0, 0.2, (frames, sk.num_joints, 3))))


def custom_skeleton() -> Skeleton:
    """A 5-joint skeleton no built-in matches (a generic BVH)."""
    return Skeleton(
        "bvh:Hips",
        ("Hips", "Spine", "Head", "LeftUpLeg", "LeftLeg"),
        np.array([-1, 0, 1, 0, 3]),
        np.array([[0, 0, 0], [0, 0, 0.3], [0, 0, 0.3], [0, 0.1, -0.1], [0, 0, -0.45]], dtype=np.float64),
    )


def write_seed_csv(motion: RobotMotion, path: Path) -> Path:
    """A BONES-SEED G1 CSV (header; cm, degrees, extrinsic XYZ root angles), which robomotion only reads."""
    euler = quat_to_euler(motion.root_quat, "xyz", degrees=True)
    names = [f"{n}_dof" for n in motion.joint_names]
    header = ["Frame"] + [f"root_translate{a}" for a in "XYZ"] + [f"root_rotate{a}" for a in "XYZ"] + names
    rows = np.column_stack(
        [np.arange(motion.num_frames), motion.root_pos * 100, euler, np.degrees(motion.joint_pos)]
    )
    path.write_text(", ".join(header) + "\n" + "\n".join(",".join(f"{v:.9f}" for v in row) for row in rows) + "\n")
    return path


def _mocap_clip(path: Path) -> Path:
    """A mocap-pack clip of a body 8% larger than SMPL-X's (its own bone lengths, as real clips have)."""
    smpl = get_skeleton("smpl22")
    return save_motion(human_motion(smpl.with_offsets(smpl.offsets * 1.08)), path, format="mocap-npz")


#: Input kind -> writer of a sample file of that kind into a folder (returns the file).
SAMPLES: dict[str, Callable[[Path], Path]] = {
    "kimodo-npz soma77": lambda d: save_motion(human_motion("soma77"), d / "soma77.npz", format="kimodo-npz"),
    "kimodo-npz soma30": lambda d: save_motion(human_motion("soma30"), d / "soma30.npz", format="kimodo-npz"),
    "kimodo-npz smplx22": lambda d: save_motion(human_motion(), d / "smplx.npz", format="kimodo-npz"),
    "kimodo-npz g1": lambda d: save_motion(robot_motion(), d / "g1_kimodo.npz", format="kimodo-npz"),
    "amass-npz": lambda d: save_motion(human_motion(), d / "clip_amass.npz", format="amass-npz"),
    "mocap-npz": lambda d: _mocap_clip(d / "clip_mocap.npz"),
    "bvh soma77": lambda d: save_motion(human_motion("soma77"), d / "soma.bvh"),
    "bvh custom": lambda d: save_motion(human_motion(custom_skeleton()), d / "custom.bvh"),
    "g1-csv": lambda d: save_motion(robot_motion(), d / "g1.csv"),
    "seed-csv": lambda d: write_seed_csv(robot_motion(fps=120.0), d / "seed.csv"),
    "beyondmimic-npz": lambda d: save_motion(robot_motion(), d / "g1_bm.npz", format="beyondmimic-npz"),
}
