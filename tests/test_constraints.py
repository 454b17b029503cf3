"""Kimodo constraints JSON -> typed constraints (robomotion frame), errors, round trips, helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.generators.constraints import (
    EndEffectorConstraint,
    FullBodyConstraint,
    Root2DConstraint,
    constraints_to_json,
    final_pose,
    initial_pose,
    key_poses,
    load_constraints,
    root_waypoints,
    save_constraints,
)
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton


def _pose_entry(kind: str, joints: int = 22, frames=(10,), **extra) -> dict:
    k = len(frames)
    return {
        "type": kind,
        "frame_indices": list(frames),
        "root_positions": [[0.1, 0.9, 0.5]] * k,
        "local_joints_rot": [[[0.0, 0.0, 0.0]] * joints] * k,
        **extra,
    }


def test_kimodo_axes_become_robomotion_axes():
    """Kimodo (x left, y up, z forward) -> ours (x forward, y left, z up); headings keep their angle."""
    entries = [
        {"type": "root2d", "frame_indices": [0, 60], "smooth_root_2d": [[0.0, 0.0], [0.4, 1.6]],
         "global_root_heading": [[1.0, 0.0], [0.0, 1.0]]},
        _pose_entry("fullbody", smooth_root_2d=[[0.12, 0.48]]),
    ]
    root2d, full = load_constraints(entries, get_skeleton("smplx22"))
    assert isinstance(root2d, Root2DConstraint)
    np.testing.assert_allclose(root2d.positions, [[0.0, 0.0], [1.6, 0.4]])  # 1.6 m forward, 0.4 m to the left
    np.testing.assert_allclose(root2d.headings, [0.0, np.pi / 2])  # facing Kimodo +X = the character's left
    assert isinstance(full, FullBodyConstraint)
    np.testing.assert_allclose(full.root_positions, [[0.5, 0.1, 0.9]])  # z up = Kimodo y
    np.testing.assert_allclose(full.root_xy, [[0.48, 0.12]])


def test_rotations_convert_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rotvecs = rng.normal(0, 0.3, (2, 22, 3))
    entry = _pose_entry("end-effector", frames=(5, 9), joint_names=["LeftHand", "RightFoot"])
    entry["local_joints_rot"] = rotvecs.tolist()
    (ee,) = load_constraints([entry], get_skeleton("smplx22"))
    assert isinstance(ee, EndEffectorConstraint) and ee.joint_names == ("LeftHand", "RightFoot")
    # A rotation about Kimodo's up axis (y) is a rotation about our up axis (z).
    (yaw_only,) = load_constraints([{**_pose_entry("fullbody"), "local_joints_rot": [[[0.0, 0.5, 0.0]] * 22]}])
    np.testing.assert_allclose(yaw_only.local_rotations[0, 0], quat_from_rotvec(np.array([0.0, 0.0, 0.5])), atol=1e-12)
    path = save_constraints(tmp_path / "c.json", [ee])
    saved = json.loads(path.read_text())
    assert saved[0]["type"] == "end-effector" and saved[0]["joint_names"] == ["LeftHand", "RightFoot"]
    np.testing.assert_allclose(saved[0]["local_joints_rot"], rotvecs, atol=1e-9)
    np.testing.assert_allclose(saved[0]["root_positions"], entry["root_positions"], atol=1e-12)


def test_shorthand_types_expand_and_keep_their_name():
    (left_hand,) = load_constraints([_pose_entry("left-hand")])
    assert left_hand.joint_names == ("LeftHand",) and left_hand.type == "left-hand"
    assert "joint_names" not in constraints_to_json([left_hand])[0]


def test_kimodo_demo_files_load(shared_dir):
    """The shipped Kimodo demo constraints (SOMA 30-joint keyframes, dense 300-frame root path)."""
    examples = shared_dir / "data" / "kimodo_examples"
    (path,) = load_constraints(examples / "kimodo-soma-rp" / "05_root_path" / "constraints.json")
    assert isinstance(path, Root2DConstraint) and len(path.frame_indices) == 300
    assert path.positions[-1, 0] > 2.0  # the path goes forward (+x)
    keyframes = load_constraints(examples / "kimodo-soma-rp" / "03_full_body_keyframes" / "constraints.json", get_skeleton("soma77"))
    assert keyframes[0].local_rotations.shape == (2, 30, 4)
    (g1,) = load_constraints(examples / "kimodo-g1-rp" / "03_full_body_keyframes" / "constraints.json", get_skeleton("g1skel34"))
    assert g1.frame_indices.tolist() == [59, 106, 148]


@pytest.mark.parametrize(
    ("content", "field", "words"),
    [
        ({"type": "root2d"}, "not a list", "JSON array"),
        ([{"type": "hand", "frame_indices": [0]}], "[0].type", "unknown type 'hand'"),
        ([{"type": "root2d", "smooth_root_2d": [[0, 0]]}], "[0] (root2d).frame_indices", "missing required field"),
        ([{"type": "root2d", "frame_indices": [0, -1], "smooth_root_2d": [[0, 0], [1, 1]]}], "[0] (root2d).frame_indices", ">= 0"),
        ([{"type": "root2d", "frame_indices": [0, 1.5], "smooth_root_2d": [[0, 0], [1, 1]]}], "[0] (root2d).frame_indices", "integers"),
        ([{"type": "root2d", "frame_indices": [0, 5], "smooth_root_2d": [[0, 0]]}], "[0] (root2d).smooth_root_2d", "expected shape [2, ?]"),
        ([_pose_entry("fullbody", joints=30)], "[0] (fullbody).local_joints_rot", "takes 22"),
        ([{k: v for k, v in _pose_entry("fullbody").items() if k != "root_positions"}], "[0] (fullbody).root_positions", "missing"),
        ([_pose_entry("end-effector", joint_names=["Nose"])], "[0] (end-effector).joint_names", "LeftFoot"),
        ([{"type": "root2d", "frame_indices": [0], "smooth_root_2d": [["a", 0]]}], "[0] (root2d).smooth_root_2d", "numbers"),
    ],
)
def test_bad_files_name_the_entry_and_field(tmp_path, content, field, words):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FormatError) as info:
        load_constraints(path, get_skeleton("smplx22"))
    message = str(info.value)
    assert str(path) in message and words in message
    if field != "not a list":
        assert info.value.field == field


def test_unreadable_files(tmp_path):
    with pytest.raises(FormatError, match="file not found"):
        load_constraints(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(FormatError, match="not valid JSON"):
        load_constraints(tmp_path / "broken.json")


def test_motiongpt_style_helpers():
    skeleton = get_skeleton("smplx22")
    rng = np.random.default_rng(1)
    motion = HumanMotion(skeleton, 30.0, rng.normal(0, 0.1, (20, 3)), quat_from_rotvec(rng.normal(0, 0.2, (20, 22, 3))))
    first = initial_pose(motion)
    assert first.frame_indices.tolist() == [0]
    np.testing.assert_allclose(first.local_rotations[0], motion.local_rotations[0])
    last = final_pose(motion, at_frame=89)
    assert last.frame_indices.tolist() == [89]
    np.testing.assert_allclose(last.root_positions[0], motion.root_translation[-1])
    keys = key_poses(motion, [3, 7], [30, 60])
    assert keys.frame_indices.tolist() == [30, 60]
    with pytest.raises(FormatError):
        key_poses(motion, [25])
    waypoints = root_waypoints([0, 30], [[0, 0], [1, 0.5]], headings=[0.0, 0.3])
    assert constraints_to_json([waypoints])[0]["smooth_root_2d"] == [[0.0, 0.0], [0.5, 1.0]]
