"""``generate --robot g1``: the same G1 motion as ``generate`` + ``retarget``, progress for every slow step."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.cli.main import main
from robomotion.formats import load_motion


@pytest.mark.slow
def test_generate_robot_equals_generate_then_retarget_and_says_what_it_does(tmp_path, capsys) -> None:
    stem = tmp_path / "walk"
    code = main(["generate", "a person walks forward", "--duration", "2", "--seed", "3", "--robot", "g1",
                 "--no-video", "--output", str(stem)])
    out = capsys.readouterr().out
    assert code in (0, 1)
    lines = out.splitlines()
    for step in ("loading model robomotion-small ...", "retargeting 60 frames to the G1", "validating on the G1"):
        assert any(line.startswith(step) for line in lines), (step, out)
    assert lines[-1] == f"report: {tmp_path / 'walk_g1_report' / 'report.html'}"
    assert main(["retarget", str(tmp_path / "walk.npz"), "-o", str(tmp_path / "again.csv")]) == 0
    np.testing.assert_array_equal(
        load_motion(tmp_path / "again.csv").joint_pos, load_motion(tmp_path / "walk_g1.csv").joint_pos
    )
