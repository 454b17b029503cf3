"""Kimodo NPZ: real Kimodo files (posed_joints vs our FK), 7-key writing, G1 hinge rule, batch dims."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.formats import detect_format, load_motion, save_motion
from robomotion.formats.axes import vectors_to_internal
from robomotion.formats.kimodo import read_kimodo_npz
from robomotion.formats.kimodo_g1 import g1skel_from_robot, robot_from_g1skel
from robomotion.formats.soma import expand_soma30
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import quat_angle, quat_from_rotvec
from robomotion.skeletons import get_skeleton

EXAMPLES = [
    "kimodo-g1-rp/01_single_text_prompt",
    "kimodo-g1-rp/03_full_body_keyframes",
    "kimodo-soma-rp/01_single_text_prompt",
    "kimodo-soma-rp/02_multi_text_prompt",
    "kimodo-soma-rp/03_full_body_keyframes",
    "kimodo-soma-rp/05_root_path",
]


@pytest.mark.shared
@pytest.mark.parametrize("example", EXAMPLES)
def test_kimodo_examples_posed_joints_match_our_fk(shared_dir, example):
    path = shared_dir / "data" / "kimodo_examples" / example / "motion.npz"
    assert detect_format(path) == "kimodo-npz"
    motion = load_motion(path, as_robot=False)
    posed = vectors_to_internal(np.load(path)["posed_joints"])
    error = np.linalg.norm(motion.global_positions - posed, axis=-1)
    assert error.max() < 1e-3  # < 1 mm on every joint of every frame
    assert motion.skeleton.name == ("g1skel34" if "g1" in example else "soma30")
    assert motion.foot_contacts is not None and motion.foot_contacts.shape == (motion.num_frames, 4)
    assert motion.fps == 30.0
    # Kimodo's demo motions start near the origin, upright (pelvis ~1 m SOMA / ~0.79 m G1), facing +x (Kimodo +z).
    assert 0.7 < motion.root_translation[0, 2] < 1.1
    hips = motion.joint_positions(["left_hip", "right_hip"])[0]
    assert hips[0, 1] > hips[1, 1]  # the left hip is on +y


@pytest.mark.shared
def test_kimodo_g1_example_loads_as_robot(shared_dir):
    path = shared_dir / "data" / "kimodo_examples" / "kimodo-g1-rp" / "01_single_text_prompt" / "motion.npz"
    robot = load_motion(path)
    assert isinstance(robot, RobotMotion) and robot.robot == "g1" and robot.joint_pos.shape == (150, 29)
    np.testing.assert_allclose(robot.root_pos[0], [0.0169, 0.0150, 0.7851], atol=1e-4)  # facts sheet §5.1 row
    # MuJoCo FK of the converted qpos keeps the pelvis/hips exactly and the body within a few cm (Kimodo's rule).
    from robomotion.robots.kinematics import body_trajectories

    bodies = body_trajectories(robot, bodies=["pelvis", "left_hip_pitch_link", "torso_link"])
    posed = vectors_to_internal(np.load(path)["posed_joints"])
    skeleton = get_skeleton("g1skel34")
    for i, joint in enumerate(["pelvis_skel", "left_hip_pitch_skel", "waist_pitch_skel"]):
        assert np.abs(bodies.pos[:, i] - posed[:, skeleton.index(joint)]).max() < 2e-3


def test_g1_hinge_rule_round_trip(rng):
    """q -> g1skel34 (import) -> q (export) is exact where the hinge axis is a coordinate axis."""
    from robomotion.robots import get_robot

    spec = get_robot("g1")
    frames = 12
    low, high = spec.joint_limits[:, 0], spec.joint_limits[:, 1]
    q = np.clip(rng.uniform(-0.4, 0.4, size=(frames, spec.num_joints)), low, high)
    motion = RobotMotion(
        "g1",
        30.0,
        np.tile([0, 0, 0.79], (frames, 1)),
        quat_from_rotvec(rng.normal(0, 0.1, (frames, 3))),
        q,
        spec.joint_names,
    )
    back = robot_from_g1skel(g1skel_from_robot(motion))
    error = np.abs(back.joint_pos - q)
    tilted = [spec.joint_names.index(n) for n in spec.joint_names if "shoulder_pitch" in n or "hip_roll" in n]
    exact = [j for j in range(spec.num_joints) if j not in tilted]
    assert error[:, exact].max() < 1e-9
    assert error[:, tilted].max() < 0.03  # Kimodo's Euler projection on the 10-16 degree tilted axes
    np.testing.assert_allclose(back.root_pos, motion.root_pos)
    assert quat_angle(back.root_quat, motion.root_quat).max() < 1e-9


def test_g1_identity_rest_maps_to_kimodo_q_rest():
    """Kimodo's identity rest exports to knees -0.1749 and shoulder rolls +-0.2793 rad (facts sheet §5.1)."""
    skeleton = get_skeleton("g1skel34")
    rest = HumanMotion(skeleton, 30.0, np.zeros((1, 3)), np.tile([1.0, 0, 0, 0], (1, 34, 1)))
    q = dict(zip(robot_from_g1skel(rest).joint_names, robot_from_g1skel(rest).joint_pos[0]))
    assert q["left_knee_joint"] == pytest.approx(-0.1749, abs=2e-4)
    assert q["right_knee_joint"] == pytest.approx(-0.1749, abs=2e-4)
    assert q["left_shoulder_roll_joint"] == pytest.approx(0.2793, abs=2e-4)
    assert q["right_shoulder_roll_joint"] == pytest.approx(-0.2793, abs=2e-4)
    assert abs(q["left_hip_pitch_joint"]) < 1e-6


def _soma_motion(rng, frames=20):
    skeleton = get_skeleton("soma77")
    local = quat_from_rotvec(rng.normal(0, 0.2, size=(frames, 77, 3)))
    root = np.column_stack([np.linspace(0, 1, frames), np.zeros(frames), np.full(frames, 1.0)])
    return HumanMotion(skeleton, 30.0, root, local)


@pytest.mark.parametrize("skeleton", ["soma77", "smplx22"])
def test_write_seven_keys_and_read_back(tmp_path, rng, skeleton):
    motion = (
        _soma_motion(rng)
        if skeleton == "soma77"
        else HumanMotion(
            get_skeleton("smplx22"),
            30.0,
            np.tile([0, 0, 0.9], (15, 1)),
            quat_from_rotvec(rng.normal(0, 0.2, (15, 22, 3))),
        )
    )
    path = save_motion(motion, tmp_path / "m.npz", format="kimodo-npz")
    data = np.load(path)
    assert sorted(data.files) == sorted(
        [
            "posed_joints",
            "global_rot_mats",
            "local_rot_mats",
            "foot_contacts",
            "smooth_root_pos",
            "root_positions",
            "global_root_heading",
        ]
    )
    assert data["posed_joints"].dtype == np.float32 and data["foot_contacts"].dtype == bool
    assert data["foot_contacts"].shape == (motion.num_frames, 4)
    np.testing.assert_allclose(data["root_positions"], data["posed_joints"][:, 0])
    np.testing.assert_allclose(data["smooth_root_pos"][:, 1], data["posed_joints"][:, 0, 1])  # y = pelvis height
    back = load_motion(path)
    assert back.skeleton.name == skeleton
    np.testing.assert_allclose(back.global_positions, motion.global_positions, atol=1e-5)


def test_heading_of_a_body_facing_plus_x_is_zero(tmp_path):
    """Kimodo's heading θ = 0 means facing its +z, which is our +x: [cos, sin] = [1, 0]."""
    motion = HumanMotion(
        get_skeleton("smplx22"), 30.0, np.tile([0, 0, 0.9], (3, 1)), np.tile([1.0, 0, 0, 0], (3, 22, 1))
    )
    data = np.load(save_motion(motion, tmp_path / "m.npz", format="kimodo-npz"))
    theta = np.arctan2(data["global_root_heading"][:, 1], data["global_root_heading"][:, 0])
    np.testing.assert_allclose(theta, 0.0, atol=0.06)  # SMPL-X's rest hips are 3 degrees off symmetric
    np.testing.assert_allclose(data["posed_joints"][0, 0], [0.0, 0.9, 0.0], atol=1e-6)  # y-up in the file
    local = np.tile([1.0, 0, 0, 0], (3, 22, 1))
    local[:, 0] = quat_from_rotvec([0, 0, np.pi / 2])  # facing +y (Kimodo +x): θ = +π/2
    turned = HumanMotion(motion.skeleton, 30.0, motion.root_translation, local)
    data = np.load(save_motion(turned, tmp_path / "t.npz", format="kimodo-npz"))
    theta = np.arctan2(data["global_root_heading"][:, 1], data["global_root_heading"][:, 0])
    np.testing.assert_allclose(theta, np.pi / 2, atol=0.06)


def test_robot_motion_saves_as_g1_skeleton_and_loads_back(tmp_path, rng):
    from robomotion.robots import get_robot

    spec = get_robot("g1")
    q = np.tile(spec.home_joint_pos, (10, 1)) + rng.normal(0, 0.05, (10, spec.num_joints))
    motion = RobotMotion(
        "g1", 30.0, np.tile(spec.home_root_pos, (10, 1)), np.tile(spec.home_root_quat, (10, 1)), q, spec.joint_names
    )
    path = save_motion(motion, tmp_path / "g1_kimodo.npz")
    assert np.load(path)["posed_joints"].shape == (10, 34, 3)
    back = load_motion(path)
    assert isinstance(back, RobotMotion)
    assert np.abs(back.joint_pos - q).max() < 0.02
    human = load_motion(path, as_robot=False)
    assert human.skeleton.name == "g1skel34"


def test_batch_dimension_and_six_contacts(tmp_path, rng):
    motion = _soma_motion(rng, frames=8)
    arrays = dict(np.load(save_motion(motion, tmp_path / "m.npz", format="kimodo-npz")))
    batched = {k: np.stack([v, v]) for k, v in arrays.items()}
    contacts = arrays["foot_contacts"]
    batched["foot_contacts"] = np.stack(
        [np.column_stack([contacts[:, :2], contacts[:, 1], contacts[:, 2:], contacts[:, 3]])] * 2
    )
    np.savez(tmp_path / "b.npz", **batched)
    back = read_kimodo_npz(tmp_path / "b.npz")
    assert back.metadata["batch_sample"] == 0
    np.testing.assert_array_equal(back.foot_contacts, contacts)
    np.testing.assert_allclose(back.global_positions, motion.global_positions, atol=1e-5)


def test_soma30_expands_to_77_with_relaxed_hands(rng):
    soma30 = get_skeleton("soma30")
    motion = HumanMotion(soma30, 30.0, np.tile([0, 0, 1.0], (4, 1)), quat_from_rotvec(rng.normal(0, 0.2, (4, 30, 3))))
    full = expand_soma30(motion)
    assert full.skeleton.name == "soma77"
    index = np.asarray(soma30.extras["index_in_soma77"])
    body = [i for i, name in enumerate(soma30.joint_names) if "End" not in name]  # End points hang elsewhere in 77
    np.testing.assert_allclose(full.global_positions[:, index[body]], motion.global_positions[:, body], atol=1e-9)


def test_unsupported_joint_count(tmp_path):
    np.savez(
        tmp_path / "bad.npz",
        posed_joints=np.zeros((5, 23, 3), np.float32),
        global_rot_mats=np.tile(np.eye(3, dtype=np.float32), (5, 23, 1, 1)),
    )
    with pytest.raises(FormatError, match="J=23") as info:
        load_motion(tmp_path / "bad.npz")
    assert info.value.path == tmp_path / "bad.npz"
