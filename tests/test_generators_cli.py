"""``robomotion generate``: kimodo_gen's file layout, meta.json rules, errors, and the G1 path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robomotion.cli.main import main
from robomotion.formats import load_motion


def test_one_sample_writes_files_at_the_stem(tmp_path, capsys):
    stem = tmp_path / "out" / "walk"
    code = main(["generate", "A person walks forward", "--duration", "1.5", "--seed", "0", "--output", str(stem), "--bvh"])
    assert code == 0
    for name in ("walk.npz", "walk_amass.npz", "walk.bvh"):
        assert (tmp_path / "out" / name).is_file(), name
    motion = load_motion(tmp_path / "out" / "walk.npz")
    assert motion.num_frames == 45 and motion.skeleton.num_joints == 22
    with np.load(tmp_path / "out" / "walk_amass.npz") as amass:
        assert amass["pose_body"].shape == (45, 63)
    assert "wrote" in capsys.readouterr().out


def test_prompt_splits_on_periods_and_samples_go_in_a_folder(tmp_path):
    stem = tmp_path / "seq"
    code = main(["generate", "A person walks. A person jumps.", "--duration", "1 0.5", "--num_samples", "2",
                 "--seed", "1", "--output", str(stem)])
    assert code == 0
    names = sorted(p.name for p in stem.iterdir())
    assert names == ["amass_00.npz", "amass_01.npz", "seq_00.npz", "seq_01.npz"]
    assert load_motion(stem / "seq_01.npz").num_frames == 45  # 30 + 15 frames


def test_input_folder_meta_and_flags_that_win_over_it(tmp_path):
    folder = tmp_path / "example"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps(
        {"texts": ["A person walks.", "A person jumps."], "durations": [1.0, 1.0], "num_samples": 2, "seed": 4,
         "diffusion_steps": 5, "cfg": {"enabled": False}}))
    (folder / "constraints.json").write_text(json.dumps(
        [{"type": "root2d", "frame_indices": [45], "smooth_root_2d": [[0.1, 0.6]]}]))
    stem = tmp_path / "from_meta"
    assert main(["generate", "--input_folder", str(folder), "--output", str(stem)]) == 0
    motions = [load_motion(stem / f"from_meta_{i:02d}.npz") for i in range(2)]
    for motion in motions:
        assert motion.num_frames == 60
        np.testing.assert_allclose(motion.root_translation[45, :2], [0.6, 0.1], atol=0.045)  # Kimodo [x, z] -> our (x, y)
    # An explicit flag wins over meta.json (one sample: files at the stem, no folder).
    single = tmp_path / "one"
    assert main(["generate", "--input_folder", str(folder), "--num_samples", "1", "--output", str(single)]) == 0
    assert load_motion(tmp_path / "one.npz").num_frames == 60 and not single.is_dir()


@pytest.mark.parametrize(
    ("meta", "field"),
    [({"text": "walk", "num_samples": "three"}, "num_samples"), ({"text": "walk", "seed": 1.5}, "seed"),
     ({"text": 3}, "text"), ({"text": "walk", "durations": [1, "x"]}, "durations")],
)
def test_meta_values_of_the_wrong_type_name_the_field(tmp_path, capsys, meta, field):
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    assert main(["generate", "--input_folder", str(tmp_path), "--output", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "meta.json" in err and f"field '{field}'" in err and err.count("\n") == 1


def test_bad_constraints_fail_with_a_clear_message(tmp_path, capsys):
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps([{"type": "root2d", "frame_indices": [3]}]))
    code = main(["generate", "A person walks", "--constraints", str(bad), "--output", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "c.json" in err and "smooth_root_2d" in err and "[0] (root2d)" in err
    assert main(["generate", "A person walks", "--cfg_type", "nocfg", "--cfg_weight", "2", "--output", str(tmp_path / "y")]) == 2


def test_robot_g1_retargets_exports_and_validates(tmp_path):
    stem = tmp_path / "g1walk"
    code = main(["generate", "A person walks forward", "--duration", "1.5", "--seed", "0", "--robot", "g1",
                 "--no-video", "--output", str(stem)])
    assert code in (0, 1)  # 1 = the validation verdict was "fail" (reported, not an error)
    csv = np.loadtxt(tmp_path / "g1walk_g1.csv", delimiter=",")
    assert csv.shape[1] == 36
    with np.load(tmp_path / "g1walk_g1_beyondmimic.npz") as bm:
        assert bm["joint_pos"].shape[1] == 29
    assert (tmp_path / "g1walk_g1_report" / "report.json").is_file()


@pytest.mark.parametrize("flag", [["--duration", "abc"], ["--model", "no-such-model"]])
def test_bad_flags(tmp_path, flag):
    assert main(["generate", "A person walks", *flag, "--output", str(tmp_path / "z")]) == 2
