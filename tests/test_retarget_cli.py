"""``robomotion retarget``: single files, folders in parallel processes, failures, and ``info`` on the output."""

from __future__ import annotations

import json
import shutil

import pytest
from test_retarget_api import waving_motion

from robomotion.cli.main import main
from robomotion.formats import load_motion, save_motion
from robomotion.motion import RobotMotion


def test_single_file_writes_csv_and_quality(tmp_path, capsys):
    source = save_motion(waving_motion(frames=20), tmp_path / "wave.npz", format="kimodo-npz")
    output = tmp_path / "out" / "wave_g1.csv"
    assert main(["retarget", str(source), "-o", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "foot sliding" in printed and "self-collision frames" in printed
    quality = json.loads(output.with_name("wave_g1.csv.quality.json").read_text())
    assert quality["frames"] == 20 and quality["joint_limit_violations"] == 0
    robot = load_motion(output)
    assert isinstance(robot, RobotMotion) and robot.num_frames == 20
    assert main(["info", str(output)]) == 0


def test_single_file_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    assert main(["retarget", str(bad), "-o", str(tmp_path / "bad.csv")]) == 2
    assert not (tmp_path / "bad.csv").exists()
    assert "bad.npz" in capsys.readouterr().err  # errors go to stderr


@pytest.mark.shared
def test_folder_of_kimodo_soma_clips_in_two_processes(shared_dir, tmp_path, capsys):
    examples = shared_dir / "data" / "kimodo_examples" / "kimodo-soma-rp"
    inputs = tmp_path / "in"
    for name in ("01_single_text_prompt", "03_full_body_keyframes"):
        (inputs / name).mkdir(parents=True)
        shutil.copy(examples / name / "motion.npz", inputs / name / "motion.npz")
    (inputs / "broken").mkdir()
    (inputs / "broken" / "motion.npz").write_bytes(b"garbage")
    out = tmp_path / "out"
    code = main(["retarget", str(inputs), "-o", str(out), "--jobs", "2", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 1  # one clip failed: reported, the others done
    assert "FAILED" in printed and "broken" in printed and "2 retargeted" in printed
    summary = json.loads((out / "retarget_summary.json").read_text())
    assert [item["error"] is None for item in summary] == [True, True, False]  # sorted: 01, 03, broken
    for name in ("01_single_text_prompt", "03_full_body_keyframes"):
        csv = out / name / "motion.csv"
        assert (out / name / "motion.csv.quality.json").is_file()
        assert main(["info", str(csv)]) == 0
        assert load_motion(csv).num_frames == 150
