"""Pose fitting (joint positions → local rotations) and skeleton-to-skeleton copies."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.motion import HumanMotion
from robomotion.pose_fit import fit_offsets, fit_pose, leg_length, motion_from_positions, retarget_to_skeleton
from robomotion.rotations import quat_angle, quat_from_rotvec
from robomotion.skeletons import get_skeleton

SMPL = get_skeleton("smpl22")


def _random_motion(rng, frames=40, scale=0.35):
    """A smooth random motion on smplx22 with bent knees and elbows."""
    t = np.linspace(0.0, 1.0, frames)[:, None, None]
    base = rng.normal(scale=scale, size=(1, 22, 3))
    wobble = rng.normal(scale=scale, size=(1, 22, 3))
    rotvec = base + np.sin(2 * np.pi * t) * wobble
    for knee in ("left_knee", "right_knee"):
        rotvec[:, SMPL.index(knee)] = [0.0, 0.9, 0.0]  # flexion about the lateral axis
    root = np.concatenate([np.linspace(0, 1, frames)[:, None], np.zeros((frames, 1)), np.full((frames, 1), 0.9)], 1)
    return HumanMotion(get_skeleton("smplx22"), 30.0, root, quat_from_rotvec(rotvec))


def test_fit_reproduces_fk_positions(rng):
    motion = _random_motion(rng)
    fit = fit_pose(SMPL, motion.global_positions)
    assert fit.position_error.max() < 1e-6
    refit = HumanMotion(fit.skeleton, 30.0, fit.root_translation, fit.local_rotations)
    np.testing.assert_allclose(refit.global_positions, motion.global_positions, atol=1e-6)


def test_fit_recovers_offsets_and_scaled_skeletons(rng):
    motion = _random_motion(rng)
    big = motion.skeleton.with_offsets(motion.skeleton.offsets * 1.2)
    positions = HumanMotion(big, 30.0, motion.root_translation, motion.local_rotations).global_positions
    skeleton = fit_offsets(SMPL, positions)
    np.testing.assert_allclose(skeleton.offsets, big.offsets, atol=1e-9)
    assert fit_pose(SMPL, positions).position_error.max() < 1e-6


def test_hinge_twist_follows_the_knee_plane(rng):
    """A hip turned about the thigh (knee bent) comes back as that hip rotation, not a knee twist."""
    frames = 20
    rotvec = np.zeros((frames, 22, 3))
    hip, knee = SMPL.index("left_hip"), SMPL.index("left_knee")
    thigh = SMPL.offsets[knee] / np.linalg.norm(SMPL.offsets[knee])
    twist = np.linspace(-0.6, 0.6, frames)[:, None] * thigh  # internal/external hip rotation
    rotvec[:, hip] = twist
    axis = np.cross(thigh, [-1.0, 0.0, 0.0])
    rotvec[:, knee] = 1.0 * axis / np.linalg.norm(axis)  # knee bent 57 degrees in its hinge plane
    motion = HumanMotion(get_skeleton("smplx22"), 30.0, np.tile([0, 0, 0.9], (frames, 1)), quat_from_rotvec(rotvec))
    fit = fit_pose(SMPL, motion.global_positions)
    assert np.degrees(quat_angle(fit.local_rotations[:, hip], motion.local_rotations[:, hip])).max() < 0.5
    assert np.degrees(quat_angle(fit.local_rotations[:, knee], motion.local_rotations[:, knee])).max() < 0.5


def test_fit_rejects_bad_positions():
    with pytest.raises(FormatError):
        fit_pose(SMPL, np.zeros((5, 21, 3)))
    with pytest.raises(FormatError):
        fit_pose(SMPL, np.full((5, 22, 3), np.nan))
    with pytest.raises(FormatError):
        fit_pose(SMPL, np.zeros((0, 22, 3)))


CLEAN_CLIPS = (
    "cmu_iclone_005_01",
    "cmu_8action_train_walking_1",
    "cmu_8action_test_running_1",
    "deepmimic_walk",
    "deepmimic_run",
    "cmu_iclone_006_01",
)


@pytest.mark.shared
@pytest.mark.parametrize("clip", CLEAN_CLIPS)
def test_mocap_pack_quality(shared_dir, clip):
    """Targets on real clips: mean error < 5 mm, max < 2 cm, no jumps of a local rotation > 45 deg/frame."""
    data = np.load(shared_dir / "data" / "mocap" / f"{clip}.npz")
    fit = fit_pose(SMPL, data["positions"].astype(float))
    assert fit.position_error.mean() < 0.005
    assert fit.position_error.max() < 0.02
    steps = np.degrees(quat_angle(fit.local_rotations[1:], fit.local_rotations[:-1]))
    assert steps.max() < 45.0
    assert np.all(np.sum(fit.local_rotations[1:] * fit.local_rotations[:-1], axis=-1) > 0)  # no sign flips


def test_retarget_keeps_bone_directions_and_scales_root(rng):
    motion = _random_motion(rng)
    fit = fit_pose(SMPL, motion.global_positions * 1.1)  # a 10% larger body
    clip = HumanMotion(fit.skeleton, 30.0, fit.root_translation, fit.local_rotations)
    canonical = retarget_to_skeleton(clip, get_skeleton("smplx22"))
    assert canonical.skeleton.name == "smplx22"
    assert canonical.metadata["root_scale"] == pytest.approx(1 / 1.1, rel=1e-6)
    np.testing.assert_allclose(canonical.global_positions, motion.global_positions, atol=1e-6)
    assert leg_length(fit.skeleton) == pytest.approx(1.1 * leg_length(get_skeleton("smplx22")))


def test_retarget_rejects_other_joints(rng):
    with pytest.raises(FormatError):
        retarget_to_skeleton(_random_motion(rng), get_skeleton("soma30"))


def test_motion_from_positions_records_fit_error(rng):
    motion = motion_from_positions(SMPL, _random_motion(rng).global_positions, 30.0, {"texts": ["x"]})
    assert motion.metadata["texts"] == ["x"]
    assert motion.metadata["pose_fit"]["max_error_m"] < 1e-6


def test_retarget_follows_the_source_spine_curve():
    """A rig with a short, forward-tilted spine2 bone must not come out hunched on SMPL-X's long one."""
    smplx = get_skeleton("smplx22")
    offsets = smplx.offsets.copy()
    offsets[smplx.index("spine2")] = [0.035, 0.0, 0.035]  # 5 cm, tilted 45 degrees forward
    offsets[smplx.index("spine3")] = [-0.02, 0.0, 0.2]
    rig = smplx.with_offsets(offsets, name="rig")
    standing = HumanMotion(rig, 30.0, np.tile([0, 0, 0.95], (3, 1)), np.tile([1.0, 0, 0, 0], (3, 22, 1)))
    fit = fit_pose(SMPL, standing.global_positions)
    clip = HumanMotion(fit.skeleton, 30.0, fit.root_translation, fit.local_rotations)
    head, pelvis = smplx.index("head"), smplx.index("pelvis")

    def head_forward(motion):
        return float(motion.global_positions[0, head, 0] - motion.global_positions[0, pelvis, 0])

    chain = smplx.bone_lengths()[[3, 6, 9, 12, 15]].sum() / fit.skeleton.bone_lengths()[[3, 6, 9, 12, 15]].sum()
    curved = retarget_to_skeleton(clip, smplx)
    copied = retarget_to_skeleton(clip, smplx, match_spine_curve=False)
    assert abs(head_forward(curved) - chain * head_forward(clip)) < 0.015
    assert abs(head_forward(copied) - chain * head_forward(clip)) > 0.05  # what plain rotation copying does
    legs = [smplx.index(n) for n in ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot")]
    np.testing.assert_allclose(curved.global_positions[:, legs], copied.global_positions[:, legs], atol=1e-9)
