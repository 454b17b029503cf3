"""The open mocap pack's clips (positions + texts) as fitted HumanMotions."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.formats import detect_format, load_motion, save_motion
from robomotion.pose_fit import retarget_to_skeleton
from robomotion.skeletons import get_skeleton


@pytest.mark.shared
@pytest.mark.parametrize("clip", ["cmu_iclone_005_01", "cmu_8action_test_walking_1", "deepmimic_walk"])
def test_read_clip(shared_dir, clip):
    path = shared_dir / "data" / "mocap" / f"{clip}.npz"
    assert detect_format(path) == "mocap-npz"
    motion = load_motion(path)
    data = np.load(path)
    assert motion.skeleton.name == "smpl22" and motion.fps == 30.0
    assert motion.metadata["texts"] == [str(t) for t in data["texts"]]
    assert motion.metadata["source"] == str(data["source"])
    lengths = np.median(
        np.linalg.norm(data["positions"][:, 1:] - data["positions"][:, data["parents"][1:]], axis=-1), 0
    )
    # Median bone lengths (children of the pelvis and chest: mean rigid layout, within a millimetre).
    np.testing.assert_allclose(motion.skeleton.bone_lengths()[1:], lengths, atol=1e-3)
    error = np.linalg.norm(motion.global_positions - data["positions"], axis=-1)
    assert error.mean() < 0.005 and motion.metadata["pose_fit"]["max_error_m"] == pytest.approx(error.max(), abs=1e-6)
    canonical = retarget_to_skeleton(motion, get_skeleton("smplx22"))
    assert canonical.skeleton.name == "smplx22"
    feet = canonical.joint_positions(["left_ankle", "right_ankle", "left_toe", "right_toe"])
    assert abs(feet[..., 2].min()) < 0.03  # the canonical body still stands on the floor


@pytest.mark.shared
def test_write_and_read_back(shared_dir, tmp_path):
    motion = load_motion(shared_dir / "data" / "mocap" / "deepmimic_walk.npz")
    path = save_motion(motion, tmp_path / "clip_mocap.npz")
    assert detect_format(path) == "mocap-npz"
    data = np.load(path)
    assert data["positions"].shape == (motion.num_frames, 22, 3) and list(data["texts"]) == motion.metadata["texts"]
    back = load_motion(path)
    assert np.abs(back.global_positions - motion.global_positions).max() < 1e-5
