"""Retargeting throughput and quality: robomotion's whole-clip IK against a GMR-style baseline.

Workload: a few clips of the open mocap pack (walking, running, jumping; 22-joint positions with
fitted rotations) and the Kimodo SOMA demo motions, from the project's shared data folder.
Both retargeters run on the same clips, single-threaded BLAS, after a warm-up clip (model
loading and numba compilation are not timed). Timed is motion in, robot motion out: robomotion's
:func:`~robomotion.retarget.retarget` against the baseline's ``retarget``; the quality reports
(a MuJoCo replay, :func:`~robomotion.retarget.retarget_with_report`) are computed outside the
timing for both. The baseline is ``benchmarks/gmr_baseline.py`` (per-frame two-stage mink QP with
daqp, GMR's weights and scales).

Prints per clip and in total: frames/s of both and their ratio, then both quality reports side
by side (``robomotion.retarget.quality``, measured with MuJoCo). The keypoint error of both is
measured against the same reference, robomotion's per-limb-scaled human: root-relative (pose
only) and in the world frame (which also counts the baseline's different root-trajectory scale);
the baseline's error against its own (GMR-scaled) targets is printed too.

Usage: ``python benchmarks/retarget.py [--shared ../shared] [--clips NAME ...] [--repeats N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gmr_baseline import GMRBaseline  # noqa: E402
from robomotion.retarget import retarget, retarget_with_report  # noqa: E402
from robomotion.retarget.quality import evaluate_retarget  # noqa: E402

from robomotion.formats import load_motion  # noqa: E402

MOCAP_CLIPS = (
    "cmu_8action_test_walking_1",
    "cmu_iclone_007_05",
    "deepmimic_walk",
    "cmu_8action_train_running_1",
    "cmu_8action_train_jumping_1",
)
KIMODO_GLOB = "data/kimodo_examples/kimodo-soma-rp/*/motion.npz"

#: (label, attribute, format, lower is better)
METRICS = (
    ("keypoint error, root-relative (cm)", "keypoint_error_local_cm", "{:.2f}", True),
    ("keypoint error, world mean (cm)", "keypoint_error_mean_cm", "{:.2f}", True),
    ("keypoint error, world max (cm)", "keypoint_error_max_cm", "{:.1f}", True),
    ("foot sliding (cm/contact frame)", "foot_sliding_cm", "{:.3f}", True),
    ("lowest foot point (cm)", "lowest_foot_cm", "{:.2f}", False),
    ("joint-limit violations", "joint_limit_violations", "{:d}", True),
    ("self-collision frames", "self_collision_frames", "{:d}", True),
    ("max joint speed / limit", "max_joint_speed_ratio", "{:.2f}", True),
    ("jitter, joints (rad/s^3)", "joint_jerk", "{:.0f}", True),
    ("jitter, bodies (m/s^3)", "body_jerk", "{:.0f}", True),
)


def clip_paths(shared: Path, names: list[str] | None) -> list[Path]:
    if names:
        return [Path(n) if n.endswith(".npz") else shared / "data" / "mocap" / f"{n}.npz" for n in names]
    return [shared / "data" / "mocap" / f"{n}.npz" for n in MOCAP_CLIPS] + sorted(shared.glob(KIMODO_GLOB))


def label(path: Path) -> str:
    return path.parent.name if path.name == "motion.npz" else path.stem


def better_or_equal(ours: float, base: float, lower_is_better: bool, name: str) -> bool:
    if name == "lowest_foot_cm":  # closer to the floor from above is better; below -1 cm is a failure
        return ours >= min(base, -1.0) if base < 0 else abs(ours) <= abs(base) + 0.5
    return ours <= base + 1e-9 if lower_is_better else ours >= base - 1e-9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--clips", nargs="*", help="mocap clip names or .npz paths (default: the standard set)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per clip and method (best is kept)")
    args = parser.parse_args()

    paths = clip_paths(args.shared, args.clips)
    baseline = GMRBaseline()
    motions = [(label(p), load_motion(p)) for p in paths]
    with threadpool_limits(1):
        retarget_with_report(motions[0][1].trim(0, 10))  # warm-up: model loading, caches, compilation
        baseline.retarget(motions[0][1].trim(0, 10))
        rows = []
        for name, motion in motions:
            ours_time = base_time = np.inf
            for _ in range(args.repeats):
                start = time.perf_counter()
                retarget(motion)
                ours_time = min(ours_time, time.perf_counter() - start)
                start = time.perf_counter()
                base = baseline.retarget(motion)
                base_time = min(base_time, time.perf_counter() - start)
            ours = retarget_with_report(motion)  # the same (deterministic) solve, with its quality report
            targets = ours.targets
            base_quality = evaluate_retarget(
                base.motion, targets.keypoint_names, targets.keypoints, targets.foot_contacts
            )
            base_own = evaluate_retarget(base.motion, base.keypoint_bodies, base.keypoints, targets.foot_contacts)
            rows.append((name, motion.num_frames, ours_time, base_time, ours.quality, base_quality, base_own))

    print(f"{'clip':34s} {'frames':>6s} {'ours fps':>9s} {'GMR-style fps':>14s} {'ratio':>6s}")
    for name, frames, t_ours, t_base, *_ in rows:
        print(f"{name:34s} {frames:6d} {frames / t_ours:9.0f} {frames / t_base:14.1f} {t_base / t_ours:6.1f}x")
    total = sum(r[1] for r in rows)
    t_ours, t_base = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{'TOTAL':34s} {total:6d} {total / t_ours:9.0f} {total / t_base:14.1f} {t_base / t_ours:6.1f}x\n")

    for name, _, _, _, ours_q, base_q, base_own in rows:
        print(
            f"== {name}: ours | GMR-style (baseline vs its own targets: keypoint error "
            f"{base_own.keypoint_error_mean_cm:.2f} cm mean, {base_own.keypoint_error_local_cm:.2f} cm root-relative)"
        )
        for text, attribute, fmt, _ in METRICS:
            ours_text, base_text = fmt.format(getattr(ours_q, attribute)), fmt.format(getattr(base_q, attribute))
            print(f"   {text:36s} {ours_text:>9s} | {base_text:>9s}")
    print("\nMetric-by-metric over all clips (ours equal or better than the baseline):")
    for text, attribute, _, lower in METRICS:
        wins = sum(better_or_equal(getattr(r[4], attribute), getattr(r[5], attribute), lower, attribute) for r in rows)
        print(f"   {text:36s} {wins}/{len(rows)} clips")


if __name__ == "__main__":
    main()
