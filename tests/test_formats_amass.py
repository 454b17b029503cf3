"""AMASS SMPL-X NPZ: axis mapping, fields, round trip."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.formats import detect_format, load_motion, save_motion
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

SMPLX = get_skeleton("smplx22")


def _motion(rng, frames=20):
    root = np.column_stack([np.linspace(0, 2, frames), np.zeros(frames), np.full(frames, 0.95)])
    return HumanMotion(SMPLX, 30.0, root, quat_from_rotvec(rng.normal(0, 0.3, (frames, 22, 3))), metadata={})


def test_round_trip_positions(tmp_path, rng):
    motion = _motion(rng)
    path = save_motion(motion, tmp_path / "walk_amass.npz")
    assert detect_format(path) == "amass-npz"
    back = load_motion(path)
    assert back.skeleton.name == "smplx22" and back.fps == 30.0
    assert np.abs(back.global_positions - motion.global_positions).max() < 1e-4


def test_fields_and_axes(tmp_path):
    frames = 4
    local = np.tile([1.0, 0, 0, 0], (frames, 22, 1))
    root = np.column_stack([np.arange(frames) * 0.5, np.zeros(frames), np.full(frames, 1.0)])  # walks along +x
    data = np.load(save_motion(HumanMotion(SMPLX, 25.0, root, local), tmp_path / "a.npz", format="amass-npz"))
    assert data["trans"].dtype == np.float32 and data["pose_body"].shape == (frames, 63)
    assert data["pose_hand"].shape == (frames, 90) and data["pose_hand"].dtype == np.float64
    assert data["pose_jaw"].shape == (frames, 3) and data["pose_eye"].shape == (frames, 6)
    np.testing.assert_allclose(data["betas"], SMPLX.extras["amass_betas"], atol=1e-6)
    assert int(data["num_betas"]) == 16 and str(data["gender"]) == "neutral"
    assert str(data["surface_model_type"]) == "smplx"
    assert float(data["mocap_frame_rate"]) == 25.0 and float(data["mocap_time_length"]) == pytest.approx(4 / 25)
    # AMASS is z-up with +y forward: our +x travel is AMASS +y; trans = pelvis - J0.
    j0 = np.asarray(SMPLX.extras["pelvis_rest_smplx_frame"])
    np.testing.assert_allclose(data["trans"][:, 1] - data["trans"][0, 1], root[:, 0], atol=1e-6)
    np.testing.assert_allclose(data["trans"][0], np.array([0.0, 0.0, 1.0]) - j0, atol=1e-6)
    # Identity pose: root_orient is Kimodo's Y map (y-up body model to z-up, facing +y).
    from robomotion.formats.axes import KIMODO_TO_AMASS
    from robomotion.rotations import matrix_to_rotvec

    np.testing.assert_allclose(data["root_orient"][0], matrix_to_rotvec(KIMODO_TO_AMASS), atol=1e-6)
    np.testing.assert_allclose(data["pose_body"], 0.0, atol=1e-7)


def test_original_amass_poses_layout_is_read(tmp_path, rng):
    motion = _motion(rng, frames=6)
    data = dict(np.load(save_motion(motion, tmp_path / "a.npz", format="amass-npz")))
    poses = np.concatenate([data["root_orient"], data["pose_body"], np.zeros((6, 99))], axis=1)
    np.savez(
        tmp_path / "orig.npz",
        trans=data["trans"],
        poses=poses,
        mocap_framerate=np.array(60.0),
        betas=np.zeros(16),
        gender=np.array("female"),
    )
    back = load_motion(tmp_path / "orig.npz")
    assert back.fps == 60.0 and back.metadata["gender"] == "female"
    assert np.abs(back.global_positions - motion.global_positions).max() < 1e-4


@pytest.mark.shared
def test_mocap_clip_to_amass_uses_the_canonical_body(shared_dir, tmp_path):
    clip = load_motion(shared_dir / "data" / "mocap" / "deepmimic_walk.npz")
    back = load_motion(save_motion(clip, tmp_path / "walk_amass.npz"))
    assert back.skeleton.name == "smplx22" and back.num_frames == clip.num_frames
