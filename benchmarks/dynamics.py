"""Throughput of ``robomotion.robots.dynamics`` (pinocchio) against the validator's MuJoCo path.

Workload: a plausible G1 clip (squats, arm swings, waist turns; default 3000 frames at 30 fps),
its ``qpos``/``qvel``/``qacc`` from :func:`robomotion.robots.dynamics.motion_state`. Per frame:
inverse dynamics (the generalised force without contacts) and the whole-body centre of mass.

Baseline, measured in the same run: what ``envs/validation/sweep.py`` does today, a Python loop of
``mujoco.mj_inverse`` on the scene model with constraints disabled, reading ``qfrc_inverse`` and
``subtree_com`` of the root body. Both give the same numbers (checked below, and in
``tests/test_robot_dynamics.py``). Also times centroidal momentum (pinocchio) against
``mj_inverse`` + ``mj_subtreeVel``.

Usage: ``python benchmarks/dynamics.py [--frames N] [--repeats R] [--threads K]`` (needs the
``dynamics`` extra: ``pip install 'robomotion[dynamics]'``).
"""

from __future__ import annotations

import argparse
import sys

import mujoco
import numpy as np
from _timing import median_time  # benchmarks/_timing.py, next to this script
from validate import plausible_clip  # benchmarks/validate.py

from robomotion.errors import BackendUnavailableError
from robomotion.robots import get_robot
from robomotion.robots.dynamics import RobotDynamics, motion_state


def mujoco_inverse(model: mujoco.MjModel, qpos, qvel, qacc, momentum: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The validator's loop: (T, nv) ``qfrc_inverse`` and (T, 3) root-subtree CoM (or (T, 6) momentum)."""
    data = mujoco.MjData(model)
    tau = np.empty((len(qpos), model.nv))
    extra = np.empty((len(qpos), 6 if momentum else 3))
    for t in range(len(qpos)):
        data.qpos[:] = qpos[t]
        data.qvel[:] = qvel[t]
        data.qacc[:] = qacc[t]
        mujoco.mj_inverse(model, data)
        tau[t] = data.qfrc_inverse
        if momentum:
            mujoco.mj_subtreeVel(model, data)
            extra[t, :3], extra[t, 3:] = data.subtree_linvel[1], data.subtree_angmom[1]
        else:
            extra[t] = data.subtree_com[1]
    return tau, extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; medians are reported")
    parser.add_argument("--threads", type=int, default=1, help="threads of pinocchio's batched inverse dynamics")
    args = parser.parse_args()

    g1 = get_robot("g1")
    try:
        dynamics = RobotDynamics(g1, threads=args.threads)
    except BackendUnavailableError as exc:
        print(f"benchmarks/dynamics.py: {exc}", file=sys.stderr)
        return 2
    qpos, qvel, qacc = motion_state(plausible_clip(args.frames / 30.0))
    frames = len(qpos)
    model = g1.load_model(scene=True)
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT

    base_tau, base_com = mujoco_inverse(model, qpos, qvel, qacc)
    tau, com = dynamics.inverse_dynamics(qpos, qvel, qacc), dynamics.center_of_mass(qpos)
    momentum = dynamics.centroidal_momentum(qpos, qvel)
    _, base_momentum = mujoco_inverse(model, qpos, qvel, qacc, momentum=True)
    base_momentum[:, :3] *= g1.total_mass

    base = median_time(lambda: mujoco_inverse(model, qpos, qvel, qacc), args.repeats)
    ours_tau = median_time(lambda: dynamics.inverse_dynamics(qpos, qvel, qacc), args.repeats)
    ours = median_time(lambda: (dynamics.inverse_dynamics(qpos, qvel, qacc), dynamics.center_of_mass(qpos)),
                       args.repeats)
    base_h = median_time(lambda: mujoco_inverse(model, qpos, qvel, qacc, momentum=True), args.repeats)
    ours_h = median_time(lambda: dynamics.centroidal_momentum(qpos, qvel), args.repeats)

    print(f"G1 inverse dynamics, {frames} frames (median wall time of {args.repeats}; pinocchio threads "
          f"{args.threads})")
    print("| what | frames/s | us/frame | ratio vs baseline |\n|---|---|---|---|")
    for name, seconds, reference in (
        ("baseline: mj_inverse loop + subtree_com (validator)", base, base),
        ("pinocchio inverse_dynamics (batched RNEA)", ours_tau, base),
        ("pinocchio inverse_dynamics + center_of_mass", ours, base),
        ("baseline: mj_inverse + mj_subtreeVel loop (momentum)", base_h, base_h),
        ("pinocchio centroidal_momentum", ours_h, base_h),
    ):
        print(f"| {name} | {frames / seconds:9.0f} | {seconds / frames * 1e6:6.1f} | {reference / seconds:5.1f}x |")
    print(f"agreement: torque {np.abs(tau - base_tau).max():.1e} N*m, CoM {np.abs(com - base_com).max():.1e} m, "
          f"momentum {np.abs(momentum - base_momentum).max():.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
