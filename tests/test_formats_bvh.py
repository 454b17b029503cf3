"""BVH: SOMA in both rest variants, generic skeletons, CMU-style hierarchies."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.formats import detect_format, load_motion, save_motion
from robomotion.formats.bvh import parse_bvh
from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton


def _soma77(rng, frames=10):
    root = np.column_stack([np.linspace(0, 1, frames), np.zeros(frames), np.full(frames, 1.0)])
    return HumanMotion(get_skeleton("soma77"), 30.0, root, quat_from_rotvec(rng.normal(0, 0.3, (frames, 77, 3))))


def test_soma_rest_variants_give_identical_positions(tmp_path, rng):
    motion = _soma77(rng)
    seed = save_motion(motion, tmp_path / "seed.bvh")
    standard = save_motion(motion, tmp_path / "standard.bvh", standard_tpose=True)
    assert detect_format(seed) == "bvh"
    a, b = load_motion(seed), load_motion(standard)
    assert a.skeleton.name == b.skeleton.name == "soma77"
    assert a.metadata["bvh_rest"] == "seed" and b.metadata["bvh_rest"] == "standard-tpose"
    assert np.abs(a.global_positions - b.global_positions).max() < 1e-6
    assert np.abs(a.global_positions - motion.global_positions).max() < 1e-4
    # Forcing the variant gives the same result as detecting it.
    forced = load_motion(seed, standard_tpose=False)
    np.testing.assert_allclose(forced.global_positions, a.global_positions)


def test_soma_file_layout_matches_kimodo(tmp_path, rng):
    motion = _soma77(rng, frames=3)
    text = save_motion(motion, tmp_path / "seed.bvh").read_text()
    lines = text.splitlines()
    assert lines[:3] == ["HIERARCHY", "ROOT Root", "{"]
    assert lines[5:9] == [
        "  JOINT Hips",
        "  {",
        "    OFFSET 0 100 0",
        "    CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation",
    ]
    assert "End Site" not in text and "Frame Time: 0.03333333333333333" in text
    parsed = parse_bvh(tmp_path / "seed.bvh")
    assert [j.name for j in parsed.joints][1:] == list(get_skeleton("soma77").joint_names)
    assert parsed.values.shape == (3, 6 + 6 + 76 * 3)
    np.testing.assert_allclose(parsed.values[:, :6], 0.0)
    np.testing.assert_allclose(parsed.values[:, 6:9] / 100, motion.root_translation[:, [1, 2, 0]], atol=1e-6)
    seed_offsets = np.asarray(get_skeleton("soma77").extras["seed_rest_offsets_cm_kimodo_axes"])
    file_offsets = np.array([j.offset for j in parsed.joints[2:]])
    np.testing.assert_allclose(file_offsets, seed_offsets[1:], atol=0.01)  # BONES-SEED rest offsets, cm
    rows = text.split("Frame Time:")[1].splitlines()[1:]
    assert max(len(v.split(".")[1]) for row in rows for v in row.split() if "." in v) <= 6


@pytest.mark.shared
def test_kimodo_soma30_example_to_bvh(shared_dir, tmp_path):
    motion = load_motion(
        shared_dir / "data" / "kimodo_examples" / "kimodo-soma-rp" / "01_single_text_prompt" / "motion.npz"
    )
    for standard in (False, True):
        back = load_motion(save_motion(motion, tmp_path / f"s{standard}.bvh", standard_tpose=standard))
        index = np.asarray(get_skeleton("soma30").extras["index_in_soma77"])
        body = [i for i, n in enumerate(motion.skeleton.joint_names) if "End" not in n]
        assert np.abs(back.global_positions[:, index[body]] - motion.global_positions[:, body]).max() < 1e-4


@pytest.mark.parametrize("skeleton", ["smplx22", "g1skel34"])
def test_generic_round_trip(tmp_path, rng, skeleton):
    sk = get_skeleton(skeleton)
    motion = HumanMotion(
        sk, 24.0, np.tile([0.1, 0.2, 0.9], (8, 1)), quat_from_rotvec(rng.normal(0, 0.4, (8, sk.num_joints, 3)))
    )
    path = save_motion(motion, tmp_path / "m.bvh")
    assert "End Site" in path.read_text()  # leaves get a bone tail for Blender
    back = load_motion(path)
    assert back.skeleton.name == skeleton and back.fps == 24.0
    assert np.abs(back.global_positions - motion.global_positions).max() < 1e-4
    with_ends = load_motion(path, end_sites=True)
    assert with_ends.skeleton.num_joints > sk.num_joints and with_ends.skeleton.name.startswith("bvh:")


CMU_BVH = """HIERARCHY
ROOT Hips
{
\tOFFSET 0.0 0.0 0.0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT LeftUpLeg
\t{
\t\tOFFSET 10.0 -5.0 0.0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tJOINT LeftLeg
\t\t{
\t\t\tOFFSET 0.0 -45.0 0.0
\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\tJOINT LeftFoot
\t\t\t{
\t\t\t\tOFFSET 0.0 -42.0 0.0
\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\tJOINT LeftToeBase
\t\t\t\t{
\t\t\t\t\tOFFSET 0.0 -5.0 12.0
\t\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\t\tEnd Site
\t\t\t\t\t{
\t\t\t\t\t\tOFFSET 0.0 0.0 4.0
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
\tJOINT Spine
\t{
\t\tOFFSET 0.0 10.0 0.0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tJOINT Spine1
\t\t{
\t\t\tOFFSET 0.0 20.0 0.0
\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\tJOINT Neck
\t\t\t{
\t\t\t\tOFFSET 0.0 25.0 0.0
\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\tJOINT Head
\t\t\t\t{
\t\t\t\t\tOFFSET 0.0 10.0 0.0
\t\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\t\tEnd Site
\t\t\t\t\t{
\t\t\t\t\t\tOFFSET 0.0 15.0 0.0
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t\tJOINT LeftShoulder
\t\t\t{
\t\t\t\tOFFSET 5.0 22.0 0.0
\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\tJOINT LeftArm
\t\t\t\t{
\t\t\t\t\tOFFSET 12.0 0.0 0.0
\t\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\t\tJOINT LeftForeArm
\t\t\t\t\t{
\t\t\t\t\t\tOFFSET 28.0 0.0 0.0
\t\t\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\t\t\tJOINT LeftHand
\t\t\t\t\t\t{
\t\t\t\t\t\t\tOFFSET 25.0 0.0 0.0
\t\t\t\t\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\t\t\t\t\tEnd Site
\t\t\t\t\t\t\t{
\t\t\t\t\t\t\t\tOFFSET 8.0 0.0 0.0
\t\t\t\t\t\t\t}
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.008333
0 95 0 0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0
10 95 0 0 0 90   0 0 0   0 30 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0   0 0 0
"""


def test_cmu_style_hierarchy(tmp_path):
    path = tmp_path / "cmu.bvh"
    path.write_text(CMU_BVH)
    motion = load_motion(path)
    sk = motion.skeleton
    assert sk.name == "bvh:Hips" and sk.num_joints == 13 and motion.fps == 120.0
    roles = sk.roles
    assert roles["left_hip"] == "LeftUpLeg" and roles["left_knee"] == "LeftLeg" and roles["left_ankle"] == "LeftFoot"
    assert roles["left_toe"] == "LeftToeBase" and roles["head"] == "Head" and roles["chest"] == "Spine1"
    assert (
        roles["left_shoulder"] == "LeftArm"
        and roles["left_elbow"] == "LeftForeArm"
        and roles["left_wrist"] == "LeftHand"
    )
    assert roles["left_collar"] == "LeftShoulder" and roles["pelvis"] == "Hips"
    # Units detected as cm; BVH +x (the subject's left) is our +y, BVH +z (forward) our +x.
    rest = motion.global_positions[0]
    np.testing.assert_allclose(rest[sk.index("Hips")], [0.0, 0.0, 0.95])
    np.testing.assert_allclose(rest[sk.index("LeftUpLeg")], [0.0, 0.10, 0.90])
    np.testing.assert_allclose(rest[sk.index("LeftToeBase")], [0.12, 0.10, 0.90 - 0.92], atol=1e-9)
    # Frame 1: root yaw 90 deg about BVH y (channel order Z X Y) and the knee bent 30 deg about BVH x.
    frame1 = motion.global_positions[1]
    np.testing.assert_allclose(frame1[0], [0.0, 0.10, 0.95])
    # BVH yaw +90 about y turns the left hip's +x (our +y) to BVH -z (our -x).
    np.testing.assert_allclose(frame1[sk.index("LeftUpLeg")] - frame1[0], [-0.10, 0.0, -0.05], atol=1e-9)
    hip, knee, ankle = (frame1[sk.index(n)] for n in ("LeftUpLeg", "LeftLeg", "LeftFoot"))
    bend = np.degrees(
        np.arccos(np.dot(knee - hip, ankle - knee) / np.linalg.norm(knee - hip) / np.linalg.norm(ankle - knee))
    )
    assert bend == pytest.approx(30.0, abs=1e-6)
    with_ends = load_motion(path, end_sites=True)
    assert "Head_end" in with_ends.skeleton.joint_names


def test_units_option(tmp_path):
    path = tmp_path / "cmu.bvh"
    path.write_text(CMU_BVH)
    metres = load_motion(path, units="m")
    assert metres.root_translation[0, 2] == pytest.approx(95.0)
    scaled = load_motion(path, scale=0.0254)
    assert scaled.root_translation[0, 2] == pytest.approx(95.0 * 0.0254)
