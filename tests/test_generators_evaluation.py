"""The text-agreement evaluation: measurements and rules on known motions, real clips as ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.generators.dataset import floor_motion
from robomotion.generators.evaluation import FAMILIES, OUT_OF_VOCABULARY, judge, measure_motion, suite_cases
from robomotion.generators.evaluation.suite import PromptCase
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

RULES = {f.name: f.rule for f in FAMILIES}


def _standing(frames: int = 150, fps: float = 30.0) -> HumanMotion:
    skeleton = get_skeleton("smplx22")
    rotations = np.zeros((frames, skeleton.num_joints, 4))
    rotations[..., 0] = 1.0
    motion = HumanMotion(skeleton, fps, np.zeros((frames, 3)), rotations)
    return floor_motion(motion)


def _moved(motion: HumanMotion, velocity_xy=(0.0, 0.0), lift=None, yaw_rate=0.0) -> HumanMotion:
    t = np.arange(motion.num_frames) / motion.fps
    root = motion.root_translation.copy()
    root[:, :2] += np.outer(t, velocity_xy)
    if lift is not None:
        root[:, 2] += lift
    rotations = motion.local_rotations.copy()
    if yaw_rate:
        rotations[:, 0] = quat_from_rotvec(np.outer(yaw_rate * t, [0.0, 0.0, 1.0]))
    return HumanMotion(motion.skeleton, motion.fps, root, rotations)


def test_travel_direction_and_speed_follow_the_body_facing():
    forward = measure_motion(_moved(_standing(), (1.2, 0.0)))
    assert forward.forward_speed == pytest.approx(1.2, abs=0.01) and abs(forward.left_speed) < 0.1  # rest pose faces +x within 3 deg
    assert RULES["walk_forward"](forward, None)[0] and not RULES["walk_backward"](forward, None)[0]
    backward = measure_motion(_moved(_standing(), (-0.8, 0.0)))
    assert RULES["walk_backward"](backward, None)[0] and not RULES["walk_forward"](backward, None)[0]
    left = measure_motion(_moved(_standing(), (0.0, 0.5)))
    assert RULES["sidestep"](left, "left")[0] and not RULES["sidestep"](left, "right")[0]
    assert not RULES["jog_run"](forward, None)[0] and RULES["jog_run"](measure_motion(_moved(_standing(), (2.8, 0.0))), None)[0]


def test_turn_sign_is_counter_clockwise_left():
    turning = measure_motion(_moved(_standing(), yaw_rate=np.radians(30.0)))  # 5 s at 30 deg/s, minus 1 s of smoothing
    assert 100.0 < turning.net_turn < 150.0
    assert RULES["turn"](turning, "left")[0] and not RULES["turn"](turning, "right")[0]


def test_a_long_lift_floats_and_a_short_hop_does_not():
    lift = np.zeros(150)
    lift[30:75] = 0.4  # 1.5 s with nothing on the floor
    floating = measure_motion(_moved(_standing(), lift=lift))
    assert floating.longest_off_floor == pytest.approx(1.5) and floating.floats()
    hop = np.zeros(150)
    hop[30:45] = 0.3  # 0.5 s
    short = measure_motion(_moved(_standing(), lift=hop))
    assert not short.floats() and RULES["jump"](short, None)[0]
    assert not judge(PromptCase("jump", "jumps", "x", "heldout"), _moved(_standing(), lift=lift), 0).matches


def test_suite_splits_use_different_wordings_and_cover_both_sides():
    tune, held = suite_cases("tune"), suite_cases("heldout")
    assert len(tune) == len(held) == 2 * len(FAMILIES)
    assert not {c.text for c in tune} & {c.text for c in held}
    for family in ("kick", "punch", "wave", "raise_hand", "turn", "sidestep", "hop"):
        assert {c.side for c in held if c.family == family} == {"left", "right"}
    assert len(OUT_OF_VOCABULARY) >= 5
    with pytest.raises(ValueError):
        suite_cases("train")


@pytest.mark.shared
def test_rules_recognise_the_real_clips_they_describe(shared_dir):
    """Ground truth: the mocap pack's own runs, walks, backward moves and jumps pass their rule; few clips float."""
    from robomotion.formats import load_motion

    folder = shared_dir / "data" / "mocap"
    expect = {
        "deepmimic_run": "jog_run",
        "cmu_8action_train_running_4": "jog_run",
        "cmu_iclone_007_08": "walk_forward",
        "cmu_iclone_006_06": "walk_backward",
        "cmu_8action_train_jumping_2": "jump",
        "deepmimic_jump": "jump_forward",
    }
    for name, family in expect.items():
        measures = measure_motion(load_motion(folder / f"{name}.npz"))
        ok, reason = RULES[family](measures, None)
        assert ok and not measures.floats(), f"{name}: {reason}"
    sideways = measure_motion(load_motion(folder / "cmu_iclone_006_08.npz"))
    assert RULES["sidestep"](sideways, "left")[0]


def test_segment_captions_follow_the_motion_under_augmentation():
    """Captions come from the motion: mirroring swaps the side, re-timing changes the speed word."""
    from robomotion.generators.captions import segment_captions
    from robomotion.generators.dataset import mirror_motion

    rng = np.random.default_rng(0)
    action, captions = segment_captions(_moved(_standing(), (-0.9, 0.0)), rng)
    assert action == "walks backward" and captions and all("back" in c for c in captions)
    action, _ = segment_captions(_moved(_standing(), (0.0, 0.6)), rng)
    assert action == "walks sideways to the left"
    action, _ = segment_captions(floor_motion(mirror_motion(_moved(_standing(), (0.0, 0.6)))), rng)
    assert action == "walks sideways to the right"
    assert segment_captions(_moved(_standing(), (0.6, 0.0)), rng)[0] == "walks slowly"
    assert segment_captions(_moved(_standing(), (3.0, 0.0)), rng)[0] == "runs forward"
    assert segment_captions(_moved(_standing(), yaw_rate=np.radians(30.0)), rng)[0] == "turns left"
    lift = np.zeros(150)
    lift[30:75] = 0.4
    assert segment_captions(_moved(_standing(), lift=lift), rng) == (None, [])  # floating: no caption
