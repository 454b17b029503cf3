"""``robomotion convert`` and ``robomotion info``: happy paths, exit code 2 on bad input, no output left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robomotion.cli.main import main
from robomotion.formats import load_motion, save_motion
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

G1 = get_robot("g1")


@pytest.fixture
def robot_csv(tmp_path):
    frames = 30
    q = np.tile(G1.home_joint_pos, (frames, 1))
    q[:, 3] += np.linspace(0, 0.5, frames)
    q[5, 0] = G1.joint_limits[0, 1] + 0.2  # one frame beyond the hip-pitch limit
    motion = RobotMotion(
        "g1", 30.0, np.tile(G1.home_root_pos, (frames, 1)), np.tile(G1.home_root_quat, (frames, 1)), q, G1.joint_names
    )
    return save_motion(motion, tmp_path / "walk.csv")


@pytest.fixture
def human_npz(tmp_path):
    sk = get_skeleton("soma77")
    rng = np.random.default_rng(3)
    motion = HumanMotion(
        sk,
        30.0,
        np.tile([0, 0, 1.0], (12, 1)),
        quat_from_rotvec(rng.normal(0, 0.2, (12, 77, 3))),
        metadata={"texts": ["a person waves"]},
    )
    return save_motion(motion, tmp_path / "wave.npz", format="kimodo-npz")


def test_convert_csv_to_beyondmimic_and_kimodo(robot_csv, tmp_path, capsys):
    assert main(["convert", str(robot_csv), str(tmp_path / "walk_bm.npz")]) == 0
    assert "beyondmimic-npz" in capsys.readouterr().out
    bm = load_motion(tmp_path / "walk_bm.npz")
    assert bm.fps == 50.0
    assert main(["convert", str(robot_csv), str(tmp_path / "walk_bm30.npz"), "--fps", "30"]) == 0
    np.testing.assert_allclose(
        load_motion(tmp_path / "walk_bm30.npz").joint_pos, load_motion(robot_csv).joint_pos, atol=1e-6
    )
    assert main(["convert", str(robot_csv), str(tmp_path / "g1.npz"), "--to", "kimodo-npz"]) == 0
    assert np.load(tmp_path / "g1.npz")["posed_joints"].shape == (30, 34, 3)


def test_convert_quaternion_order(robot_csv, tmp_path):
    assert main(["convert", str(robot_csv), str(tmp_path / "lafan.csv"), "--quat-order", "xyzw"]) == 0
    raw = np.loadtxt(tmp_path / "lafan.csv", delimiter=",")
    np.testing.assert_allclose(raw[0, 3:7], G1.home_root_quat[[1, 2, 3, 0]])
    assert main(["convert", str(tmp_path / "lafan.csv"), str(tmp_path / "lafan_bm.npz"), "--quat-order", "xyzw"]) == 0
    np.testing.assert_allclose(load_motion(tmp_path / "lafan_bm.npz").root_quat[0], G1.home_root_quat, atol=1e-6)
    assert (
        main(["convert", str(tmp_path / "lafan.csv"), str(tmp_path / "kimodo.csv"), "--source-quat-order", "xyzw"]) == 0
    )
    np.testing.assert_allclose(
        np.loadtxt(tmp_path / "kimodo.csv", delimiter=",")[:, 3:7], np.loadtxt(robot_csv, delimiter=",")[:, 3:7]
    )


def test_convert_human_formats(human_npz, tmp_path):
    assert main(["convert", str(human_npz), str(tmp_path / "seed.bvh")]) == 0
    assert main(["convert", str(human_npz), str(tmp_path / "std.bvh"), "--bvh-standard-tpose"]) == 0
    a, b = load_motion(tmp_path / "seed.bvh"), load_motion(tmp_path / "std.bvh")
    assert a.metadata["bvh_rest"] == "seed" and b.metadata["bvh_rest"] == "standard-tpose"
    np.testing.assert_allclose(a.global_positions, b.global_positions, atol=1e-6)
    assert main(["convert", str(tmp_path / "seed.bvh"), str(tmp_path / "back.npz")]) == 0
    np.testing.assert_allclose(load_motion(tmp_path / "back.npz").global_positions, a.global_positions, atol=1e-5)


def test_info_text_and_json(robot_csv, human_npz, capsys):
    assert main(["info", str(robot_csv)]) == 0
    out = capsys.readouterr().out
    assert "g1-csv" in out and "30 at 30 fps" in out and "OUTSIDE LIMITS" in out
    assert main(["info", str(robot_csv), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "g1-csv" and summary["robot"] == "g1" and summary["frames"] == 30
    assert list(summary["joints_outside_limits"]) == ["left_hip_pitch_joint"]
    assert summary["joints_outside_limits"]["left_hip_pitch_joint"]["max_excursion_rad"] == pytest.approx(0.2)
    assert main(["info", str(human_npz), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["skeleton"] == "soma77" and summary["duration_s"] == pytest.approx(0.4)


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n")
    out = tmp_path / "out_bm.npz"
    assert main(["convert", str(bad), str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "columns" in err and "expected 36" in err
    assert not out.exists()
    assert main(["info", str(tmp_path / "missing.npz")]) == 2


def test_human_to_robot_is_refused_with_a_pointer_to_retarget(human_npz, tmp_path, capsys):
    assert main(["convert", str(human_npz), str(tmp_path / "x.csv")]) == 2
    assert "robomotion retarget" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_robot_to_human_is_refused(robot_csv, tmp_path, capsys):
    assert main(["convert", str(robot_csv), str(tmp_path / "x.bvh")]) == 2
    assert "robot motion" in capsys.readouterr().err
    assert not (tmp_path / "x.bvh").exists()
