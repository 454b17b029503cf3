"""Robot formats: G1 qpos CSV (both quaternion orders), BONES-SEED CSV, BeyondMimic NPZ."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.formats import detect_format, load_motion, save_motion
from robomotion.formats.beyondmimic import resample_like_mjlab
from robomotion.motion import RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_angle, quat_from_rotvec, quat_to_euler

G1 = get_robot("g1")


def _g1_motion(rng, frames=31, fps=30.0):
    t = np.arange(frames) / fps
    q = np.tile(G1.home_joint_pos, (frames, 1)) + 0.3 * np.sin(
        2 * np.pi * t[:, None] + rng.uniform(0, 6, G1.num_joints)
    )
    root = np.column_stack([0.5 * t, 0.1 * np.sin(t), np.full(frames, 0.79)])
    quat = quat_from_rotvec(np.column_stack([0.05 * np.sin(t), 0.1 * np.cos(t), 0.4 * t]))
    return RobotMotion("g1", fps, root, quat, q, G1.joint_names)


@pytest.mark.parametrize("quat_order", ["wxyz", "xyzw"])
def test_csv_round_trip_both_quaternion_orders(tmp_path, rng, quat_order):
    motion = _g1_motion(rng)
    path = save_motion(motion, tmp_path / "walk.csv", quat_order=quat_order)
    assert detect_format(path) == "g1-csv"
    raw = np.loadtxt(path, delimiter=",")
    assert raw.shape == (motion.num_frames, 36)
    expected_quat = motion.root_quat if quat_order == "wxyz" else motion.root_quat[:, [1, 2, 3, 0]]
    np.testing.assert_array_equal(raw[:, 3:7], expected_quat)
    first = path.read_text().splitlines()[0].split(",")[0]
    assert first == f"{motion.root_pos[0, 0]:.18e}"  # numpy.savetxt's %.18e, as Kimodo writes
    back = load_motion(path, quat_order=quat_order)
    np.testing.assert_array_equal(back.qpos(), motion.qpos())
    assert back.fps == 30.0
    wrong = load_motion(path, quat_order="xyzw" if quat_order == "wxyz" else "wxyz")
    assert quat_angle(wrong.root_quat, motion.root_quat).max() > 0.5  # the order matters and is not guessed


def test_csv_joint_order_is_by_name_and_fps_option(tmp_path, rng):
    motion = _g1_motion(rng)
    shuffled = motion.reorder_joints(list(reversed(G1.joint_names)))
    path = save_motion(shuffled, tmp_path / "walk.csv", fps=15.0)
    back = load_motion(path, fps=15.0)
    np.testing.assert_allclose(back.joint_pos, motion.joint_pos[::2], atol=1e-12)


def test_seed_csv_is_read_with_units_and_euler(tmp_path, rng):
    motion = _g1_motion(rng, frames=12, fps=120.0)
    euler = quat_to_euler(motion.root_quat, "xyz", degrees=True)  # extrinsic XYZ: R = Rz Ry Rx
    names = [f"{n}_dof" for n in G1.joint_names]
    header = ["Frame"] + [f"root_translate{a}" for a in "XYZ"] + [f"root_rotate{a}" for a in "XYZ"] + names[::-1]
    rows = np.column_stack([np.arange(12), motion.root_pos * 100, euler, np.degrees(motion.joint_pos)[:, ::-1]])
    path = tmp_path / "seed.csv"
    path.write_text(", ".join(header) + "\n" + "\n".join(",".join(f"{v:.9f}" for v in row) for row in rows) + "\n")
    assert detect_format(path) == "seed-csv"
    back = load_motion(path)
    assert back.fps == 120.0
    np.testing.assert_allclose(back.root_pos, motion.root_pos, atol=1e-9)
    np.testing.assert_allclose(back.joint_pos, motion.joint_pos, atol=1e-9)
    assert quat_angle(back.root_quat, motion.root_quat).max() < 1e-8


def test_beyondmimic_npz_layout_and_values(tmp_path, rng):
    motion = _g1_motion(rng)  # 31 frames at 30 fps = 1.0 s
    path = save_motion(motion, tmp_path / "walk_bm.npz")
    assert detect_format(path) == "beyondmimic-npz"
    data = np.load(path)
    # mjlab csv_to_npz: times 0, 0.02, ... strictly below 1.0 s -> 50 frames (the last input frame is dropped).
    assert data["fps"].tolist() == [50.0]
    assert data["joint_pos"].shape == (50, 29) and data["joint_vel"].shape == (50, 29)
    assert data["body_pos_w"].shape == (50, 30, 3) and data["body_quat_w"].shape == (50, 30, 4)
    assert data["body_lin_vel_w"].shape == (50, 30, 3) and data["body_ang_vel_w"].shape == (50, 30, 3)
    assert list(data["joint_names"]) == list(G1.joint_names) and list(data["body_names"]) == list(G1.body_names)
    resampled = resample_like_mjlab(motion, 50.0)
    np.testing.assert_allclose(data["joint_pos"], resampled.joint_pos, atol=1e-6)
    np.testing.assert_allclose(data["body_pos_w"][:, 0], resampled.root_pos, atol=1e-6)  # pelvis = free joint
    np.testing.assert_allclose(np.abs(np.sum(data["body_quat_w"][:, 0] * resampled.root_quat, -1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(data["joint_vel"], resampled.joint_velocities(), atol=1e-4)
    # Body velocities are consistent with the body positions.
    np.testing.assert_allclose(data["body_lin_vel_w"], np.gradient(data["body_pos_w"], 0.02, axis=0), atol=1e-3)
    back = load_motion(path)
    assert back.fps == 50.0 and back.num_frames == 50
    np.testing.assert_allclose(back.joint_pos, resampled.joint_pos, atol=1e-6)


@pytest.mark.shared
def test_g1_npz_to_csv_to_beyondmimic_and_back(shared_dir, tmp_path):
    """A real Kimodo G1 file through every robot format keeps its joint values."""
    source = load_motion(
        shared_dir / "data" / "kimodo_examples" / "kimodo-g1-rp" / "01_single_text_prompt" / "motion.npz"
    )
    csv = load_motion(save_motion(source, tmp_path / "walk.csv"))
    np.testing.assert_array_equal(csv.joint_pos, source.joint_pos)
    bm = load_motion(save_motion(csv, tmp_path / "walk_bm.npz", fps=30.0))
    assert bm.num_frames == source.num_frames
    np.testing.assert_allclose(bm.joint_pos, source.joint_pos, atol=1e-6)
    np.testing.assert_allclose(bm.root_pos, source.root_pos, atol=1e-6)
    assert quat_angle(bm.root_quat, source.root_quat).max() < 1e-5
    again = load_motion(save_motion(bm, tmp_path / "again.csv", quat_order="xyzw"), quat_order="xyzw")
    np.testing.assert_allclose(again.joint_pos, source.joint_pos, atol=1e-6)


def test_beyondmimic_without_names_assumes_mjcf_order(tmp_path, rng):
    motion = _g1_motion(rng)
    data = dict(np.load(save_motion(motion, tmp_path / "a_bm.npz", fps=30.0)))
    del data["joint_names"], data["body_names"]
    np.savez(tmp_path / "plain.npz", **data)
    back = load_motion(tmp_path / "plain.npz")
    np.testing.assert_allclose(back.joint_pos, motion.joint_pos, atol=1e-6)


def test_a_csv_read_with_the_wrong_quaternion_order_is_pointed_out(tmp_path, rng, caplog):
    """A humanoid root lies on its side when an ``xyzw`` file is read as ``wxyz``: the reader says so
    (logger ``robomotion``) and names the option; read with the right order it is silent."""
    motion = _g1_motion(rng)
    facing_left = quat_from_rotvec(np.tile([0.0, 0.0, np.pi / 2], (motion.num_frames, 1)))
    motion = RobotMotion("g1", motion.fps, motion.root_pos, facing_left, motion.joint_pos, motion.joint_names)
    path = save_motion(motion, tmp_path / "lafan_style.csv", quat_order="xyzw")
    with caplog.at_level("WARNING", logger="robomotion"):
        load_motion(path)
    assert "quat_order='xyzw'" in caplog.text and "lafan_style.csv" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="robomotion"):
        load_motion(path, quat_order="xyzw")
    assert caplog.text == ""


def test_validate_reads_csv_options(tmp_path, rng, capsys):
    from robomotion.cli.main import main

    motion = G1.home_motion(seconds=1.0)
    turned = quat_from_rotvec(np.tile([0.0, 0.0, np.pi / 2], (motion.num_frames, 1)))
    motion = RobotMotion("g1", 60.0, motion.root_pos, turned, motion.joint_pos, motion.joint_names)
    path = save_motion(motion, tmp_path / "stand.csv", quat_order="xyzw")
    assert main(["validate", str(path), "--source-fps", "60", "--quat-order", "xyzw", "--quiet"]) == 0
    assert "30 frames, 0.50 s" in capsys.readouterr().out  # 30 rows at 60 fps, not the default 30 fps
