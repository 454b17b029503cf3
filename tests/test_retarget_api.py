"""retarget(): real clips (walking from the mocap pack, Kimodo SOMA), synthetic motions and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from robomotion.retarget import RetargetConfig, retarget, retarget_with_report
from robomotion.retarget.api import retarget_points
from robomotion.retarget.scaling import HumanPoints

from robomotion.errors import FormatError, UnknownNameError
from robomotion.motion import HumanMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton


def waving_motion(frames: int = 40, fps: float = 30.0) -> HumanMotion:
    """An SMPL-X person standing on the floor, both arms waving up and down."""
    skeleton = get_skeleton("smplx22")
    rotations = np.zeros((frames, skeleton.num_joints, 3))
    t = np.arange(frames) / fps
    swing = 0.6 + 0.5 * np.sin(2 * np.pi * t)
    rotations[:, skeleton.index("left_shoulder"), 0] = -swing  # arms down from the T-pose (rotate about +x)
    rotations[:, skeleton.index("right_shoulder"), 0] = swing
    lowest = skeleton.rest_positions()[:, 2].min()
    root = np.tile([0.0, 0.0, -lowest + 0.02], (frames, 1))
    return HumanMotion(skeleton, fps, root, quat_from_rotvec(rotations), metadata={"texts": ["waves"]})


def check_physically_clean(quality) -> None:
    assert quality.foot_sliding_cm < 1.0
    assert quality.lowest_foot_cm > -1.0
    assert quality.joint_limit_violations == 0
    assert quality.self_collision_frames == 0
    assert quality.max_joint_speed_ratio <= 1.0 + 1e-9


def test_synthetic_motion_retargets_cleanly():
    motion = waving_motion()
    result = retarget_with_report(motion)
    robot = result.motion
    g1 = get_robot("g1")
    assert robot.joint_names == g1.joint_names and robot.num_frames == motion.num_frames and robot.fps == motion.fps
    assert robot.metadata["retarget"]["mapping"] == "smplx22"
    assert robot.metadata["retarget"]["contacts"] == "detected"
    assert robot.metadata["texts"] == ["waves"]
    assert np.all(np.isfinite(robot.qpos()))
    check_physically_clean(result.quality)
    assert result.quality.contact_frames > 0  # both feet planted the whole time
    # The arms wave: the shoulders move a lot, the feet do not.
    shoulder = robot.joint_pos[:, g1.joint_indices(["left_shoulder_roll_joint", "left_shoulder_pitch_joint"])]
    assert np.ptp(shoulder, axis=0).max() > 0.3


def test_a_single_frame_works():
    robot = retarget(waving_motion(frames=1))
    assert robot.num_frames == 1 and np.all(np.isfinite(robot.joint_pos))


@pytest.mark.shared
@pytest.mark.parametrize("clip", ["cmu_8action_test_walking_1", "deepmimic_walk"])
def test_walking_clips_are_physically_clean(shared_dir, clip):
    from robomotion.formats import load_motion

    motion = load_motion(shared_dir / "data" / "mocap" / f"{clip}.npz")
    result = retarget_with_report(motion)
    check_physically_clean(result.quality)
    assert result.quality.contact_frames > 20
    assert result.quality.keypoint_error_mean_cm < 4.0


@pytest.mark.shared
def test_kimodo_soma_keeps_the_motions_own_contacts(shared_dir):
    from robomotion.formats import load_motion

    path = shared_dir / "data" / "kimodo_examples" / "kimodo-soma-rp" / "02_multi_text_prompt" / "motion.npz"
    motion = load_motion(path).trim(0, 75)
    result = retarget_with_report(motion)
    assert result.motion.metadata["retarget"]["contacts"] == "source+detected"
    labels = motion.foot_contacts
    per_foot = np.stack([labels[:, 0] | labels[:, 1], labels[:, 2] | labels[:, 3]], axis=1)
    assert np.all(result.targets.foot_contacts[per_foot])  # every labelled contact is kept
    only_labels = retarget_with_report(motion, contacts="source")
    assert only_labels.motion.metadata["retarget"]["contacts"] == "source"
    assert result.mapping.name == "soma30"
    check_physically_clean(result.quality)


def test_wrong_skeleton_is_a_clear_error():
    skeleton = get_skeleton("g1skel34")
    motion = HumanMotion(skeleton, 30.0, np.zeros((3, 3)), np.tile([1.0, 0, 0, 0], (3, skeleton.num_joints, 1)))
    with pytest.raises(FormatError, match="no retarget mapping"):
        retarget(motion)
    with pytest.raises(FormatError, match="expected a HumanMotion"):
        retarget(np.zeros((3, 22, 3)))


def test_nan_and_empty_input_are_clear_errors():
    motion = waving_motion(frames=5)
    positions = motion.global_positions.copy()
    positions[2, 4] = np.nan
    with pytest.raises(FormatError, match="NaN"):
        retarget_points(HumanPoints(motion.skeleton, positions, 30.0, np.zeros((5, 4), bool)))
    with pytest.raises(FormatError, match="T >= 1"):
        retarget_points(HumanPoints(motion.skeleton, positions[:0], 30.0, np.zeros((0, 4), bool)))
    with pytest.raises(FormatError, match="NaN"):
        HumanMotion(motion.skeleton, 30.0, np.full((2, 3), np.nan), motion.local_rotations[:2])


def test_bad_options_are_clear_errors():
    motion = waving_motion(frames=3)
    with pytest.raises(FormatError, match="unknown setting acceleraton for RetargetConfig; valid: root_position"):
        retarget(motion, acceleraton=1.0)
    with pytest.raises(FormatError, match="contacts"):
        RetargetConfig(contacts="sometimes")
    with pytest.raises(FormatError, match="joint name patterns"):
        RetargetConfig(held_joints="*_wrist_*_joint")  # a string, not a sequence of patterns
    with pytest.raises(FormatError, match="source"):
        retarget(motion, contacts="source")
    with pytest.raises(UnknownNameError):
        retarget(motion, robot="h1")


def test_quality_report_counts_what_is_wrong(tmp_path):
    from dataclasses import replace

    from robomotion.retarget import evaluate_retarget

    g1 = get_robot("g1")
    home = g1.home_motion(seconds=1.0)
    clean = evaluate_retarget(home, foot_contacts=np.ones((home.num_frames, 2), bool))
    assert clean.joint_limit_violations == 0 and clean.self_collision_frames == 0
    assert clean.foot_sliding_cm == 0.0 and -0.5 < clean.lowest_foot_cm < 2.0  # home: soles on the floor
    assert clean.joint_jerk == 0.0 and clean.max_joint_speed == 0.0

    joints = home.joint_pos.copy()
    knee = g1.joint_names.index("left_knee_joint")
    joints[5:8, knee] = g1.joint_limits[knee, 1] + 0.2  # beyond the limit, and a fast jump
    arm = g1.joint_indices(["right_shoulder_roll_joint", "right_elbow_joint"])
    joints[10:, arm] = [1.4, 0.0]  # right arm swung through the torso
    root = home.root_pos.copy()
    root[:, 0] += np.linspace(0.0, 0.3, home.num_frames)  # the whole robot slides 1 cm per frame
    root[20:, 2] -= 0.05  # and sinks 5 cm into the floor
    bad = evaluate_retarget(
        replace(home, joint_pos=joints, root_pos=root), foot_contacts=np.ones((home.num_frames, 2), bool)
    )
    assert bad.joint_limit_violations == 3
    assert bad.self_collision_frames >= 20
    assert bad.foot_sliding_cm >= 100 * 0.3 / (home.num_frames - 1) - 1e-9
    assert bad.lowest_foot_cm < -3.0 and bad.floor_penetration_frames == home.num_frames - 20
    assert bad.max_joint_speed_ratio > 1.0
    path = bad.save_json(tmp_path / "q.json")
    assert '"joint_limit_violations": 3' in path.read_text()


def test_a_cut_in_the_clip_is_solved_piece_by_piece():
    """A 5 m teleport half-way (a cut or a capture glitch) splits the solve; both pieces stay clean."""
    from dataclasses import replace

    motion = waving_motion(frames=40)
    root = motion.root_translation.copy()
    root[20:, 0] += 5.0
    result = retarget_with_report(replace(motion, root_translation=root))
    assert result.motion.metadata["retarget"]["pieces"] == [[0, 20], [20, 40]]
    check_physically_clean(result.quality)
    jump = np.diff(result.motion.root_pos[:, 0])
    assert jump[19] > 3.0 and np.abs(np.delete(jump, 19)).max() < 0.05


def test_held_joints_keep_their_home_angle():
    robot = retarget(waving_motion(frames=8), held_joints=("*_wrist_*_joint",))
    spec = get_robot("g1")
    wrists = [i for i, name in enumerate(robot.joint_names) if "wrist" in name]
    assert len(wrists) == 6
    home = spec.home_joint_pos[spec.joint_indices(tuple(robot.joint_names[i] for i in wrists))]
    np.testing.assert_array_equal(robot.joint_pos[:, wrists], np.tile(home, (8, 1)))
