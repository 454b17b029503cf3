"""The files ``validate`` writes, the ``robomotion validate`` command and the Kimodo-G1 examples."""

from __future__ import annotations

import json
from dataclasses import replace

import imageio.v3 as iio
import numpy as np
import pytest
from robomotion.envs import ValidationConfig, validate

from robomotion.cli.main import main
from robomotion.formats import load_motion, save_motion
from robomotion.robots import get_robot

KIMODO_G1_EXAMPLES = ("01_single_text_prompt", "03_full_body_keyframes")
CHECKS = 11  # the two rollout checks run only with ValidationConfig(rollouts=True)


@pytest.fixture(scope="module")
def home():
    return get_robot("g1").home_motion(1.0, 30.0)


def test_report_files_with_video(home, tmp_path):
    report = validate(home.trim(0, 15), report_dir=tmp_path, video_size=(64, 48), progress=False)
    assert set(report.files) == {"json", "html", "timeline", "torques", "support", "video"}
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verdict"] == "pass" and len(data["checks"]) == CHECKS
    page = (tmp_path / "report.html").read_text()
    assert "reference.mp4" in page and page.count("data:image/png;base64,") == 3
    assert "open-loop" not in page  # no rollout was run, none is shown
    frames = iio.imread(tmp_path / "reference.mp4")
    assert frames.shape[1:] == (48, 64, 3)  # the reference the verdict judges, alone
    assert len(frames) == 12  # 14 frame periods at 30 fps = 0.47 s: video frames at 0, 0.04, ..., 0.44 s
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_rollouts_are_information_next_to_the_reference(home, tmp_path):
    config = ValidationConfig(rollouts=True)
    report = validate(home.trim(0, 15), config, report_dir=tmp_path, video_size=(64, 48), progress=False)
    assert {"tracking", "video"} <= set(report.files)
    assert iio.imread(tmp_path / "reference.mp4").shape[1:] == (48, 128, 3)  # reference | rollout
    page = (tmp_path / "report.html").read_text()
    assert "information only" in page and "never decides the verdict" in page


def test_cli_exit_codes(home, tmp_path, capsys):
    good = save_motion(home, tmp_path / "stand.csv")
    assert main(["validate", str(good), "--report", str(tmp_path / "out"), "--no-video"]) == 0
    assert "verdict: PASS" in capsys.readouterr().out
    assert (tmp_path / "out" / "report.html").exists() and not (tmp_path / "out" / "reference.mp4").exists()

    floating = save_motion(replace(home, root_pos=home.root_pos + [0, 0, 0.3]), tmp_path / "float.csv")
    assert main(["validate", str(floating), "--quiet"]) == 1
    assert capsys.readouterr().out.startswith("verdict: FAIL")

    rows = np.loadtxt(good, delimiter=",")
    rows[5, 9] = np.nan
    np.savetxt(tmp_path / "nan.csv", rows, delimiter=",")
    assert main(["validate", str(tmp_path / "nan.csv")]) == 2
    error = capsys.readouterr().err
    assert "nan.csv" in error and "NaN" in error

    archive = save_motion(home, tmp_path / "stand.npz", format="beyondmimic-npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(archive[: len(archive) // 2])
    assert main(["validate", str(tmp_path / "cut.npz")]) == 2
    assert "cut.npz" in capsys.readouterr().err

    (tmp_path / "config.json").write_text('{"frictoin": 1.0}')
    assert main(["validate", str(good), "--config", str(tmp_path / "config.json")]) == 2
    assert "frictoin" in capsys.readouterr().err


@pytest.mark.shared
@pytest.mark.parametrize("example", KIMODO_G1_EXAMPLES)
def test_kimodo_g1_examples_give_complete_reports(shared_dir, example, tmp_path):
    motion = load_motion(shared_dir / "data" / "kimodo_examples" / "kimodo-g1-rp" / example / "motion.npz")
    report = validate(motion, report_dir=tmp_path, video=False, progress=False)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["motion"]["frames"] == 150 and data["verdict"] in ("pass", "warn", "fail")
    assert len(data["checks"]) == CHECKS and all(c["metrics"] for c in data["checks"])
    for finding in data["findings"]:
        assert finding["message"] and finding["ranges"], finding
        assert all(0 <= r["start"] <= r["end"] < 150 for r in finding["ranges"])
    for name in ("timeline", "torques", "support"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    # Generated kinematic clips: the numbers are finite and physically sized; Kimodo's own G1 output
    # is something a tracker can learn (known-trackable), so it is no FAIL.
    assert 0 <= report.check("physical_consistency").metrics["mean_residual_fraction"] < 1.0
    assert report.verdict != "fail", report.summary()
