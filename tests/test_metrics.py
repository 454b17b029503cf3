"""MBench and Kimodo foot-skate metrics on motions with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.metrics import foot_skate_metrics, mbench_metrics, summarize
from robomotion.motion import HumanMotion
from robomotion.skeletons import get_skeleton

SKELETON = get_skeleton("smplx22")


def _standing(frames: int = 60, foot_height: float = 0.0) -> HumanMotion:
    """Rest pose with the lowest foot joint at ``foot_height`` (m)."""
    rest = SKELETON.rest_positions()
    feet = SKELETON.indices(["left_ankle", "left_toe", "right_ankle", "right_toe"])
    root = np.tile([0.0, 0.0, -rest[feet, 2].min() + foot_height], (frames, 1))
    rotations = np.tile([1.0, 0.0, 0.0, 0.0], (frames, SKELETON.num_joints, 1))
    return HumanMotion(SKELETON, 30.0, root, rotations)


def test_standing_still_is_smooth_static_and_grounded():
    metrics = mbench_metrics(_standing())
    assert metrics.jitter_degree == pytest.approx(0.0, abs=1e-12)
    assert metrics.dynamic_degree == pytest.approx(0.0, abs=1e-12)
    assert metrics.foot_sliding == pytest.approx(0.0, abs=1e-12)
    assert metrics.ground_penetration == 0.0
    assert metrics.foot_floating == 0.0
    assert metrics.fps == 30.0


def test_ground_penetration_is_the_mean_depth_below_tolerance():
    sunk = _standing(foot_height=-0.03)
    toes = sunk.joint_positions(["left_toe", "right_toe"])[..., 2]
    expected = np.abs(toes[toes < -0.005]).mean()
    assert mbench_metrics(sunk).ground_penetration == pytest.approx(expected)
    assert mbench_metrics(_standing(foot_height=-0.004)).ground_penetration == 0.0  # within the 5 mm tolerance


def test_gliding_body_slides_its_feet_by_its_speed_per_frame():
    motion = _standing()
    speed = 0.6  # m/s: 2 cm per frame at 30 fps -> feet low, so "in contact" by height
    root = motion.root_translation + np.arange(60)[:, None] * np.array([speed / 30.0, 0.0, 0.0])
    glide = HumanMotion(SKELETON, 30.0, root, motion.local_rotations)
    metrics = mbench_metrics(glide)
    assert metrics.foot_sliding == pytest.approx(speed / 30.0, rel=1e-6)
    assert metrics.dynamic_degree == pytest.approx(speed / 30.0, rel=1e-6)  # global part; local part is zero
    assert metrics.jitter_degree == pytest.approx(0.0, abs=1e-12)  # constant velocity has no second difference
    skate = foot_skate_metrics(glide)
    assert skate.foot_skate_from_height == pytest.approx(speed, rel=1e-6)  # toes low and moving at 0.6 m/s
    assert skate.foot_skate_ratio == 1.0  # every on-floor toe frame is faster than 0.2 m/s
    assert np.isnan(skate.foot_contact_consistency)  # no contact labels to compare


def test_per_frame_metrics_depend_on_the_frame_rate():
    motion = _standing()
    root = motion.root_translation + np.arange(60)[:, None] * np.array([0.02, 0.0, 0.0])
    glide = HumanMotion(SKELETON, 30.0, root, motion.local_rotations)
    at_20 = mbench_metrics(glide, fps=20.0)
    assert at_20.fps == 20.0
    assert at_20.dynamic_degree == pytest.approx(0.03, rel=1e-6)  # same speed, 1.5x the frame time


def test_shaking_raises_jitter_and_labels_are_scored():
    motion = _standing()
    shake = np.zeros((60, 3))
    shake[::2, 2] = 0.01  # 1 cm up every other frame
    shaky = HumanMotion(SKELETON, 30.0, motion.root_translation + shake, motion.local_rotations,
                        foot_contacts=np.ones((60, 4), dtype=bool))
    metrics = mbench_metrics(shaky)
    assert metrics.jitter_degree == pytest.approx(0.02, rel=1e-6)  # |z+2 - 2 z+1 + z| = 2 cm, local part 0
    skate = foot_skate_metrics(shaky)
    assert 0.0 <= skate.foot_contact_consistency <= 1.0
    assert skate.foot_skate_max_vel >= skate.foot_skate_from_pred_contacts > 0.0


def test_summarize_means_and_stds():
    summary = summarize([{"a": 1.0, "b": 2.0, "c": float("nan")}, {"a": 3.0, "b": float("nan"), "c": float("nan")}])
    assert summary["a"] == (2.0, 1.0) and summary["b"] == (2.0, 0.0)
    assert np.isnan(summary["c"]).all()  # no value: NaN, no warning


def test_real_clip_values_are_plausible(shared_dir):
    from robomotion.formats import load_motion

    walk = load_motion(shared_dir / "data" / "mocap" / "cmu_iclone_005_01.npz")
    metrics = mbench_metrics(walk)
    assert metrics.jitter_degree < 0.04  # real mocap passes ViMoGen's quality gate
    assert 0.02 < metrics.dynamic_degree < 0.2
    assert metrics.foot_sliding < 0.01
