"""Speed of ``robomotion.envs.validate`` against real time, with a breakdown per stage.

The clip is 10 s of a plausible G1 motion built from the home pose (slow squats with the feet
kept on the floor, arm swings, waist turns) at 30 fps, or any robot motion file given with
``--motion``. The baseline is real time: ratio = clip seconds validated per wall-clock second
(the goal is at least 10x); process CPU time is printed too, since wall time on a shared machine
includes waiting for a core. Report writing (plots, video) is timed separately and not part of
the ratio. A second comparison times the contact-force solve (one non-negative ridge
least-squares problem per frame) with the batched dual Newton solver used by ``validate``
against scipy's active-set NNLS per frame on the same problems, in the same run.

Run: ``python benchmarks/validate.py [--seconds 10] [--repeats 3] [--motion FILE] [--report DIR]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
from robomotion.envs import ValidationConfig, validate
from robomotion.envs.validation.contact_wrench import nnls_per_problem, solve_contact_wrenches

from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.robots.kinematics import forward_kinematics


def plausible_clip(seconds: float, fps: float = 30.0) -> RobotMotion:
    """Home pose with slow squats (feet kept on the floor by lowering the pelvis), arm swings, waist turns."""
    g1 = get_robot("g1")
    home = g1.home_motion(seconds, fps)
    t = np.arange(home.num_frames) / fps
    joints = home.joint_pos.copy()
    index = {name: i for i, name in enumerate(g1.joint_names)}
    bend = 0.3 * (1.0 - np.cos(2 * np.pi * 0.25 * t))  # rad, 4 s squat cycle
    for side in ("left", "right"):
        joints[:, index[f"{side}_hip_pitch_joint"]] -= bend
        joints[:, index[f"{side}_knee_joint"]] += 2 * bend
        joints[:, index[f"{side}_ankle_pitch_joint"]] -= bend  # keeps the sole level
    joints[:, index["left_shoulder_pitch_joint"]] += 0.6 * np.sin(2 * np.pi * 0.5 * t)
    joints[:, index["right_shoulder_pitch_joint"]] -= 0.6 * np.sin(2 * np.pi * 0.5 * t)
    joints[:, index["waist_yaw_joint"]] += 0.3 * np.sin(2 * np.pi * 0.2 * t)
    bent = replace(home, joint_pos=joints)
    model = g1.load_model(scene=False)
    feet = g1.body_indices(list(g1.foot_bodies)) + 1
    drop = forward_kinematics(model, bent.qpos(), feet)[0][:, :, 2].mean(axis=1)
    drop -= forward_kinematics(model, home.qpos()[:1], feet)[0][:, :, 2].mean()
    root_pos = home.root_pos.copy()
    root_pos[:, 2] -= drop
    return replace(bent, root_pos=root_pos, metadata={"source": "benchmark: squats, arm swings, waist turns"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the built-in clip (s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; medians are reported")
    parser.add_argument("--motion", help="validate this robot motion file instead of the built-in clip")
    parser.add_argument("--report", help="also time writing the report (plots + video) into this folder")
    args = parser.parse_args()

    if args.motion:
        from robomotion.formats import load_motion

        motion = load_motion(args.motion)
    else:
        motion = plausible_clip(args.seconds)
    config = ValidationConfig()
    validate(motion, config, progress=False)  # warm-up: imports, model compilation caches
    runs, cpu = [], []
    for _ in range(args.repeats):
        start = time.process_time()
        runs.append(validate(motion, config, progress=False))
        cpu.append(time.process_time() - start)
    report = runs[-1]
    stages = {name: statistics.median(r.timings[name] for r in runs) for name in report.timings}
    total = stages.pop("total")
    duration = motion.num_frames / motion.fps

    print(f"clip: {motion.num_frames} frames at {motion.fps:g} fps = {duration:.2f} s  "
          f"({motion.metadata.get('source', args.motion)}); verdict {report.verdict}")
    print(f"validate: {total:.3f} s wall (median of {args.repeats}) -> {duration / total:.1f}x real time "
          f"(baseline: real time = 1.0x; goal >= 10x)")
    cpu_total = statistics.median(cpu)
    print(f"          {cpu_total:.3f} s of process CPU time -> {duration / cpu_total:.1f}x real time on an idle core "
          f"(wall time counts waiting for a shared CPU; this does not)")
    start = time.process_time()
    validate(motion, replace(config, rollouts=True), progress=False)
    with_rollouts = time.process_time() - start
    print(f"          with the information-only rollouts (--rollouts, the old default): {with_rollouts:.3f} s CPU "
          f"-> {duration / with_rollouts:.1f}x real time; default is {with_rollouts / cpu_total:.2f}x faster")
    print(f"{'stage':24s} {'ms':>9s} {'share':>7s} {'x real time':>12s}")
    for name, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"{name:24s} {seconds * 1000:9.1f} {100 * seconds / total:6.1f}% {duration / max(seconds, 1e-9):12.0f}")

    traces = report.traces
    spec = get_robot(motion.robot)
    timings = {}
    for label, solver in (("batched dual Newton", None), ("scipy NNLS per frame", nnls_per_problem)):
        options = {} if solver is None else {"solver": solver}
        start = time.perf_counter()
        solve_contact_wrenches(traces.reference, traces.sweep, spec.total_mass, float(spec.home_root_pos[2]),
                               config.friction, **options)
        timings[label] = time.perf_counter() - start
    fast, slow = timings["batched dual Newton"], timings["scipy NNLS per frame"]
    print(f"contact-force solve ({motion.num_frames} frames, {len(traces.sweep.floor)} contact points): "
          f"batched {fast * 1000:.1f} ms vs scipy NNLS per frame {slow * 1000:.1f} ms -> {slow / fast:.1f}x faster")

    if args.report:
        start = time.perf_counter()
        validate(motion, config, report_dir=args.report, progress=False)
        print(f"validate + report (plots, {args.report}/reference.mp4): {time.perf_counter() - start:.2f} s wall")


if __name__ == "__main__":
    main()
