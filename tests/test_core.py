"""Core motion types: forward kinematics against hand-computed values, editing, velocities, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.motion import HumanMotion, RobotMotion, resample_times
from robomotion.rotations import quat_from_rotvec, quat_from_yaw, quat_to_matrix
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton, list_skeletons

# A 4-joint chain: root, a 1 m bone up (+z), then 0.5 m forward (+x), and a branch 0.2 m left (+y).
CHAIN = Skeleton(
    name="chain",
    joint_names=("root", "a", "b", "c"),
    parents=np.array([-1, 0, 1, 0]),
    offsets=np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.0], [0.0, 0.2, 0.0]]),
)


def _quat(axis, degrees):
    return quat_from_rotvec(np.radians(degrees) * np.asarray(axis, dtype=float))


def test_fk_hand_computed():
    local = np.tile([1.0, 0.0, 0.0, 0.0], (1, 4, 1))
    local[0, 0] = _quat([0, 0, 1], 90)  # root yaw +90: x -> y, y -> -x
    local[0, 1] = _quat([0, 1, 0], 90)  # joint a pitch +90 about y: x -> -z
    positions, rotations = CHAIN.forward_kinematics(local, np.array([[1.0, 2.0, 3.0]]))
    expected = np.array(
        [
            [1.0, 2.0, 3.0],  # root
            [1.0, 2.0, 4.0],  # a: 1 m up (yaw does not move it)
            [1.0, 2.0, 3.5],  # b: offset x rotated by pitch (-> -z), then yaw: 0.5 m down
            [0.8, 2.0, 3.0],  # c: 0.2 m along +y, yawed to -x
        ]
    )
    np.testing.assert_allclose(positions[0], expected, atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(rotations[0, 2]) @ [1, 0, 0], [0, 0, -1], atol=1e-12)


def test_fk_rest_pose_and_matrix_input():
    positions, _ = CHAIN.forward_kinematics(np.eye(3)[None, None].repeat(4, axis=1), np.zeros((1, 3)))
    np.testing.assert_allclose(positions[0], CHAIN.rest_positions(), atol=1e-12)
    assert CHAIN.bone_lengths().tolist() == pytest.approx([0.0, 1.0, 0.5, 0.2])


def test_local_from_global_inverts_fk(rng):
    local = quat_from_rotvec(rng.normal(size=(5, 4, 3)))
    _, glob = CHAIN.forward_kinematics(local, np.zeros((5, 3)))
    back = CHAIN.local_from_global(glob)
    assert np.all(np.abs(np.sum(back * local, axis=-1)) > 1 - 1e-9)


@pytest.mark.parametrize("name", list_skeletons())
def test_builtin_skeletons_load(name):
    skeleton = get_skeleton(name)
    assert skeleton.num_joints in (22, 30, 34, 77)
    for role in ("left_ankle", "right_ankle", "left_toe", "right_toe", "left_hip", "right_hip"):
        skeleton.index(role)


def _motion(frames=10, fps=30.0):
    local = np.tile([1.0, 0.0, 0.0, 0.0], (frames, 4, 1))
    local[:, 1] = _quat([0, 1, 0], 30)
    root = np.stack([np.arange(frames) * 0.1, np.zeros(frames), np.ones(frames)], axis=-1)
    return HumanMotion(CHAIN, fps, root, local)


def test_resample_trim_concatenate():
    motion = _motion(frames=31, fps=30.0)
    assert resample_times(31, 30.0, 60.0).shape == (61,)
    fast = motion.resample(60.0)
    assert fast.num_frames == 61 and fast.fps == 60.0
    np.testing.assert_allclose(fast.root_translation[1], [0.05, 0.0, 1.0])
    np.testing.assert_allclose(fast.global_positions[::2], motion.global_positions, atol=1e-12)
    assert motion.trim(5, 10).num_frames == 5
    both = HumanMotion.concatenate([motion.trim(0, 10), motion.trim(10)])
    np.testing.assert_allclose(both.global_positions, motion.global_positions)
    with pytest.raises(FormatError):
        motion.trim(40)
    with pytest.raises(FormatError):
        HumanMotion.concatenate([motion, motion.resample(60.0)])


def test_robot_motion_velocities():
    frames, fps = 20, 50.0
    t = np.arange(frames) / fps
    yaw_rate, speed, joint_rate = 0.8, 1.5, np.array([0.5, -2.0])
    motion = RobotMotion(
        robot="toy",
        fps=fps,
        root_pos=np.stack([speed * t, np.zeros(frames), np.full(frames, 0.8)], axis=-1),
        root_quat=quat_from_yaw(yaw_rate * t),
        joint_pos=t[:, None] * joint_rate,
        joint_names=("j0", "j1"),
    )
    np.testing.assert_allclose(motion.joint_velocities(), np.tile(joint_rate, (frames, 1)), atol=1e-9)
    np.testing.assert_allclose(motion.root_linear_velocity()[:, 0], speed, atol=1e-9)
    np.testing.assert_allclose(motion.root_angular_velocity(), np.tile([0, 0, yaw_rate], (frames, 1)), atol=1e-9)
    assert motion.qpos().shape == (frames, 9)
    half = motion.resample(25.0)
    assert half.num_frames == 10
    np.testing.assert_allclose(half.joint_pos, motion.joint_pos[::2], atol=1e-12)
    swapped = motion.reorder_joints(["j1", "j0"])
    np.testing.assert_allclose(swapped.joint_pos[:, 0], motion.joint_pos[:, 1])


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(local_rotations=np.zeros((3, 4, 4))), "local_rotations"),
        (dict(local_rotations=np.ones((3, 5, 4))), "local_rotations"),
        (dict(root_translation=np.zeros((2, 3))), "root_translation"),
        (dict(root_translation=np.full((3, 3), np.nan)), "root_translation"),
        (dict(local_rotations=np.zeros((0, 4, 4)), root_translation=np.zeros((0, 3))), "local_rotations"),
        (dict(fps=0.0), "fps"),
        (dict(foot_contacts=np.zeros((3, 2))), "foot_contacts"),
    ],
)
def test_human_motion_rejects_bad_arrays(change, field):
    base = dict(
        skeleton=CHAIN, fps=30.0, root_translation=np.zeros((3, 3)), local_rotations=np.tile([1.0, 0, 0, 0], (3, 4, 1))
    )
    base.update(change)
    with pytest.raises(FormatError) as info:
        HumanMotion(**base)
    assert info.value.field == field


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(joint_pos=np.full((3, 2), np.inf)), "joint_pos"),
        (dict(joint_pos=np.zeros((3, 3))), "joint_pos"),
        (dict(root_quat=np.zeros((3, 4))), "root_quat"),
        (dict(root_pos=np.zeros((4, 3))), "root_pos"),
        (dict(joint_names=("a", "a")), "joint_names"),
    ],
)
def test_robot_motion_rejects_bad_arrays(change, field):
    base = dict(
        robot="toy",
        fps=30.0,
        root_pos=np.zeros((3, 3)),
        root_quat=np.tile([1.0, 0, 0, 0], (3, 1)),
        joint_pos=np.zeros((3, 2)),
        joint_names=("a", "b"),
    )
    base.update(change)
    with pytest.raises(FormatError) as info:
        RobotMotion(**base)
    assert info.value.field == field


def test_skeleton_rejects_bad_definitions():
    with pytest.raises(FormatError):
        Skeleton("x", ("a", "b"), np.array([-1, 1]), np.zeros((2, 3)))  # parent after child
    with pytest.raises(FormatError):
        Skeleton("x", ("a", "a"), np.array([-1, 0]), np.zeros((2, 3)))
    with pytest.raises(FormatError):
        Skeleton("x", ("a", "b"), np.array([-1, 0]), np.full((2, 3), np.nan))
