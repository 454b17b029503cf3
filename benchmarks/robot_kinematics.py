"""Throughput of ``robomotion.robots.kinematics.body_trajectories`` on the G1.

Workload: a random G1 motion (default 3000 frames at 50 fps = 60 s), all 30 bodies: world
positions, orientations, linear and angular velocities (what the BeyondMimic NPZ export and the
validator need).

Baseline, measured in the same run: the straightforward replay a user would write, per frame
``qvel`` by ``mj_differentiatePos``, ``mj_forward`` and ``mj_objectVelocity`` for every body.

Prints frames/s of both, their ratio, and where ``body_trajectories`` spends its time.
Usage: ``python benchmarks/robot_kinematics.py [--frames N] [--repeats R]``
"""

from __future__ import annotations

import argparse

import mujoco
import numpy as np
from _timing import median_time  # benchmarks/_timing.py, next to this script

from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.robots.kinematics import (
    body_trajectories,
    finite_difference_angular_velocity,
    forward_kinematics,
    qpos_from_motion,
)
from robomotion.rotations import quat_from_rotvec


def random_motion(frames: int, fps: float, seed: int = 0) -> RobotMotion:
    g1 = get_robot("g1")
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    lo, hi = g1.joint_limits.T
    phases = rng.uniform(0, 2 * np.pi, size=29)
    joints = lo + (hi - lo) * (0.5 + 0.3 * np.sin(t[:, None] + phases))
    root_quat = quat_from_rotvec(np.stack([0.1 * np.sin(t), 0.1 * np.cos(t), 0.5 * t], axis=1))
    root_pos = np.stack([0.3 * t, np.zeros_like(t), 0.75 + 0.02 * np.sin(3 * t)], axis=1)
    return RobotMotion("g1", fps, root_pos, root_quat, joints, g1.joint_names)


def naive_replay(motion: RobotMotion, model: mujoco.MjModel) -> tuple[np.ndarray, ...]:
    """Per-frame mj_forward with finite-difference qvel and per-body mj_objectVelocity."""
    qpos = motion.qpos()
    data = mujoco.MjData(model)
    frames, bodies = motion.num_frames, model.nbody - 1
    pos, quat = np.empty((frames, bodies, 3)), np.empty((frames, bodies, 4))
    lin, ang = np.empty((frames, bodies, 3)), np.empty((frames, bodies, 3))
    velocity = np.zeros(6)
    for t in range(frames):
        lo, hi = max(t - 1, 0), min(t + 1, frames - 1)
        mujoco.mj_differentiatePos(model, data.qvel, (hi - lo) / motion.fps, qpos[lo], qpos[hi])
        data.qpos[:] = qpos[t]
        mujoco.mj_forward(model, data)
        pos[t], quat[t] = data.xpos[1:], data.xquat[1:]
        for b in range(1, model.nbody):
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, b, velocity, 0)
            ang[t, b - 1], lin[t, b - 1] = velocity[:3], velocity[3:]
    return pos, quat, lin, ang


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--fps", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    model = get_robot("g1").load_model(scene=False)
    motion = random_motion(args.frames, args.fps)
    ours = median_time(lambda: body_trajectories(motion, model), args.repeats)
    baseline = median_time(lambda: naive_replay(motion, model), max(1, args.repeats // 2))

    traj = body_trajectories(motion, model)
    ref_pos, _, ref_lin, ref_ang = naive_replay(motion, model)
    inner = slice(1, -1)
    print(f"G1 body_trajectories, {args.frames} frames x 30 bodies at {args.fps:g} fps (median wall time)")
    print(
        f"  baseline per-frame mj_forward + mj_objectVelocity : {baseline * 1e3:8.1f} ms "
        f"({args.frames / baseline:9.0f} frames/s)"
    )
    print(
        f"  robomotion body_trajectories                       : {ours * 1e3:8.1f} ms "
        f"({args.frames / ours:9.0f} frames/s)"
    )
    print(f"  speed-up vs baseline: {baseline / ours:.1f}x")
    print(
        f"  agreement: pos {np.abs(traj.pos - ref_pos).max():.1e} m, "
        f"lin vel {np.abs(traj.lin_vel - ref_lin)[inner].max():.1e} m/s, "
        f"ang vel {np.abs(traj.ang_vel - ref_ang)[inner].max():.1e} rad/s (interior frames)"
    )

    qpos = qpos_from_motion(motion, model)
    pos, quat = forward_kinematics(model, qpos)
    parts = {
        "qpos_from_motion": lambda: qpos_from_motion(motion, model),
        "forward_kinematics (mj_kinematics loop)": lambda: forward_kinematics(model, qpos),
        "linear velocity (np.gradient)": lambda: np.gradient(pos, 1.0 / args.fps, axis=0),
        "angular velocity (quaternion log)": lambda: finite_difference_angular_velocity(quat, args.fps),
    }
    print("  profile:")
    for name, fn in parts.items():
        print(f"    {name:42s} {median_time(fn, args.repeats) * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
