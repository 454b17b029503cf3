"""Regression tests of issue 13's defects: no hang, no memory bomb, no traceback, one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from motion_samples import human_motion, robot_motion

from robomotion import __version__
from robomotion.atomic import write_text
from robomotion.cli import main as cli_main
from robomotion.cli.main import EXIT_INTERNAL, ISSUES_URL, main
from robomotion.errors import FormatError
from robomotion.formats import _io, load_motion, save_motion
from robomotion.motion import MAX_FPS

BVH_ONE_JOINT = """HIERARCHY
ROOT Hips
{{
  OFFSET 0 0 0
  CHANNELS {count} Xposition Yposition Zposition Zrotation Yrotation Xrotation
}}
MOTION
Frames: {frames}
Frame Time: 0.0333333
{rows}"""


def _bvh(tmp_path: Path, count: str, frames: int = 1, rows: str = "0 0 0 0 0 0\n") -> Path:
    path = tmp_path / "bad.bvh"
    path.write_text(BVH_ONE_JOINT.format(count=count, frames=frames, rows=rows))
    return path


# ---------------------------------------------------------------------- BVH
@pytest.mark.parametrize("count", ["-2", "-1", "7", "1000000", "2.5", "x"])
def test_bvh_channel_count_outside_0_to_6_is_refused_not_a_hang(tmp_path, count) -> None:
    with pytest.raises(FormatError, match="CHANNELS") as info:
        load_motion(_bvh(tmp_path, count))
    assert info.value.field == "CHANNELS"


def test_bvh_without_channels_cannot_declare_a_billion_frames(tmp_path) -> None:
    path = _bvh(tmp_path, "0", frames=10**9, rows="")
    path.write_text(path.read_text().replace(" Xposition Yposition Zposition Zrotation Yrotation Xrotation", ""))
    with pytest.raises(FormatError, match="no CHANNELS"):
        load_motion(path)


def _chain_bvh(path: Path, joints: int) -> Path:
    lines = ["HIERARCHY", "ROOT Hips", "{", "OFFSET 0 0 0", "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation"]
    for i in range(joints):
        lines += [f"JOINT j{i}", "{", "OFFSET 0 1 0", "CHANNELS 3 Zrotation Yrotation Xrotation"]
    lines += ["}"] * (joints + 1)
    rows = " ".join(["0.5"] * (6 + 3 * joints))
    path.write_text("\n".join(lines + ["MOTION", "Frames: 2", "Frame Time: 0.0333333", rows, rows]) + "\n")
    return path


def test_a_chain_deeper_than_the_recursion_limit_converts_and_reads_back(tmp_path) -> None:
    joints = sys.getrecursionlimit() + 200
    motion = load_motion(_chain_bvh(tmp_path / "deep.bvh", joints))
    back = load_motion(save_motion(motion, tmp_path / "back.bvh"))
    assert back.skeleton.num_joints == motion.skeleton.num_joints
    np.testing.assert_allclose(back.global_positions, motion.global_positions, atol=1e-3 * joints)


# ---------------------------------------------------------------------- NPZ size limits
def _forged_npz(path: Path, shape: tuple[int, ...]) -> Path:
    """An .npz whose posed_joints header declares ``shape`` but holds a few bytes (a zip bomb's effect)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("posed_joints.npy", buffer.getvalue() + b"\0" * 64)
    return path


def test_npz_declaring_gigabytes_is_refused_before_any_memory_is_used(tmp_path) -> None:
    path = _forged_npz(tmp_path / "bomb.npz", (10_000_000, 77, 3))  # 9 GB of float32
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="GiB") as info:
            load_motion(path, format="kimodo-npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.field == "posed_joints"
    assert peak < 20 * 2**20


def test_real_compressed_bomb_is_refused_by_its_declared_size(tmp_path, monkeypatch) -> None:
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, posed_joints=np.zeros((4000, 77, 3), np.float32))  # 3.7 MB -> a few KB
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(_io, "MAX_NPZ_BYTES", 2**20)
    with pytest.raises(FormatError, match="limit"):
        load_motion(path, format="kimodo-npz")


def test_npz_declaring_too_many_frames_is_refused(tmp_path) -> None:
    with pytest.raises(FormatError, match="frames"):
        load_motion(_forged_npz(tmp_path / "long.npz", (10**7, 1, 3)), format="kimodo-npz")


# ---------------------------------------------------------------------- silently accepted values
def test_amass_frame_rate_of_1e300_is_refused_naming_the_field(tmp_path) -> None:
    path = save_motion(human_motion(), tmp_path / "a_amass.npz", format="amass-npz")
    data = dict(np.load(path))
    data["mocap_frame_rate"] = np.array(1e300)
    np.savez(path, **data)
    with pytest.raises(FormatError) as info:
        load_motion(path)
    assert info.value.field == "mocap_frame_rate" and f"{MAX_FPS:g}" in str(info.value)


def test_all_zero_rotation_matrices_are_a_format_error(tmp_path) -> None:
    path = save_motion(human_motion(), tmp_path / "k.npz", format="kimodo-npz")
    data = dict(np.load(path))
    data["local_rot_mats"][3, 5] = 0.0
    np.savez(path, **data)
    with pytest.raises(FormatError, match="frame 3, joint 5 is not a rotation") as info:
        load_motion(path)
    assert info.value.field == "local_rot_mats"


def test_a_huge_rotation_entry_is_a_format_error_not_an_overflow(tmp_path) -> None:
    """Found by the slow fuzz run: 1e300 in one entry overflowed the determinant into NaN, which
    passed the check and crashed later (LinAlgError, exit 3); every float array now refuses
    magnitudes beyond any motion's range (and rotation entries must lie in [-1, 1])."""
    path = save_motion(human_motion(), tmp_path / "k.npz", format="kimodo-npz")
    data = {key: value.astype(np.float64) if key == "local_rot_mats" else value for key, value in np.load(path).items()}
    data["local_rot_mats"][2, 4, 1, 2] = 1e300
    np.savez(path, **data)
    with pytest.raises(FormatError, match=r"value 1e\+300 at index \(2, 4, 1, 2\) is beyond any motion's range") as info:
        load_motion(path)
    assert info.value.field == "local_rot_mats"


# ---------------------------------------------------------------------- the command line
def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, err


@pytest.fixture
def csv_file(tmp_path) -> Path:
    return save_motion(robot_motion(), tmp_path / "walk.csv")


def test_output_that_is_a_folder_is_a_one_line_error(csv_file, tmp_path, capsys) -> None:
    (tmp_path / "out.npz").mkdir()
    code, _, err = _run(["convert", str(csv_file), str(tmp_path / "out.npz")], capsys)
    _one_line_error(code, err)
    assert "is a folder" in err


def test_output_whose_parent_is_a_file_is_a_one_line_error(csv_file, tmp_path, capsys) -> None:
    code, _, err = _run(["convert", str(csv_file), str(csv_file / "x" / "out.npz")], capsys)
    _one_line_error(code, err)
    assert "is a file, not a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.csv"]


def test_convert_fps_of_1e9_is_refused(csv_file, tmp_path, capsys) -> None:
    code, _, err = _run(["convert", str(csv_file), str(tmp_path / "o_bm.npz"), "--fps", "1e9"], capsys)
    _one_line_error(code, err)
    assert not (tmp_path / "o_bm.npz").exists()


def test_file_system_errors_are_one_line_exit_2(csv_file, tmp_path, capsys, monkeypatch) -> None:
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked"))

    monkeypatch.setattr(cli_main, "build_parser", _parser_with(info=denied))
    code, _, err = _run(["info", str(csv_file)], capsys)
    _one_line_error(code, err)
    assert "locked: permission denied" in err


def _parser_with(**functions):
    build = cli_main.build_parser

    def parser():
        built = build()
        for action in built._subparsers._group_actions:
            for name, function in functions.items():
                action.choices[name].set_defaults(func=function)
        return built

    return parser


def test_an_internal_error_says_where_to_report_it(csv_file, capsys, monkeypatch) -> None:
    def bug(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("ROBOMOTION_DEBUG", raising=False)
    monkeypatch.setattr(cli_main, "build_parser", _parser_with(info=bug))
    code, _, err = _run(["info", str(csv_file)], capsys)
    assert code == EXIT_INTERNAL != 1
    assert ISSUES_URL in err and "ZeroDivisionError" in err and "Traceback" not in err


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"robomotion {__version__}"


def test_info_json_into_a_closed_pipe_prints_no_traceback(csv_file) -> None:
    command = [sys.executable, "-m", "robomotion", "info", str(csv_file), "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.close()  # like `| head -0`: the reader is gone before anything is written
        err = process.stderr.read().decode()
        process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert process.returncode == cli_main.EXIT_BROKEN_PIPE


# ---------------------------------------------------------------------- atomic writes
def test_temporary_files_of_killed_writers_are_removed_on_the_next_write(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.json.{dead_pid}.abcd1234.json"
    live = tmp_path / f".out.json.{os.getppid()}.abcd1234.json"  # a running process: maybe writing now
    other = tmp_path / f".other.json.{dead_pid}.abcd1234.json"
    for path in (stale, live, other):
        path.write_text("partial")
    write_text(tmp_path / "out.json", json.dumps({"ok": True}))
    assert not stale.exists() and live.exists() and other.exists()
    assert json.loads((tmp_path / "out.json").read_text()) == {"ok": True}


# ---------------------------------------------------------------------- JSON in and out
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 5000 + "]" * 5000, "nested 5000 levels"),
        ('[{"type": "root2d", "frame_indices": [0], "smooth_root_2d": [[1e999, 0]]}]', "too large"),
        ('[{"type": "root2d", "frame_indices": [' + "9" * 5000 + '], "smooth_root_2d": [[0, 0]]}]', "digits"),
        ('[{"type": "root2d", "frame_indices": [0], "smooth_root_2d": [[NaN, 0]]}]', "NaN"),
        ('[{"type": "root2d", "frame_indices": [' + "9" * 30 + '], "smooth_root_2d": [[0, 0]]}]', "frame"),
    ],
)
def test_hostile_constraints_json_is_a_format_error(tmp_path, text, words) -> None:
    from robomotion.generators.constraints import load_constraints

    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=words) as info:
        load_constraints(path)
    assert str(path) in str(info.value)


def test_constraint_frames_past_the_clip_end_are_refused(tmp_path, capsys) -> None:
    path = tmp_path / "late.json"
    path.write_text(json.dumps([{"type": "root2d", "frame_indices": [0, 400], "smooth_root_2d": [[0, 0], [1, 1]]}]))
    code, _, err = _run(["generate", "a person walks", "--duration", "3", "--constraints", str(path),
                         "--output", str(tmp_path / "o")], capsys)
    _one_line_error(code, err)
    assert "frame 400 is past the end of the 90-frame timeline" in err and "[0].frame_indices" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.json"]


def test_report_json_is_strict_json_with_null_for_nan(tmp_path) -> None:
    from robomotion.jsonio import dumps

    text = dumps({"a": float("nan"), "b": [np.float32(np.inf), 1.5], "c": np.arange(2), "d": Path("x")})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON")) == {
        "a": None, "b": [None, 1.5], "c": [0, 1], "d": "x"
    }


def test_validate_report_pointing_at_a_file_is_a_one_line_error(csv_file, tmp_path, capsys) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, _, err = _run(["validate", str(csv_file), "--report", str(taken)], capsys)
    _one_line_error(code, err)
    assert "--report" in err and taken.read_text() == "mine"


def test_retarget_error_goes_to_stderr_naming_the_file_once(tmp_path, capsys) -> None:
    code, out, err = _run(["retarget", str(_bvh(tmp_path, "-2")), "-o", str(tmp_path / "o.csv")], capsys)
    _one_line_error(code, err)
    assert out == "" and err.count("bad.bvh") == 1


# ---------------------------------------------------------------------- a skipped video is said out loud
def test_a_skipped_video_is_said_on_the_console_with_the_reason(tmp_path, capsys, monkeypatch) -> None:
    import mujoco

    from robomotion.envs.validation import report as report_module

    def no_gl(*args, **kwargs):
        raise mujoco.FatalError("an OpenGL platform library has not been loaded into this process")

    monkeypatch.setattr(report_module, "_render_video", no_gl)
    monkeypatch.setenv("MUJOCO_GL", "egl")
    path = save_motion(robot_motion(frames=30), tmp_path / "stand.csv")
    code = main(["validate", str(path), "--report", str(tmp_path / "report"), "--quiet"])
    err = capsys.readouterr().err
    assert code in (0, 1)
    assert "robomotion validate: note: video skipped" in err and "MUJOCO_GL=egl could not create" in err
    assert (tmp_path / "report" / "report.html").is_file() and not (tmp_path / "report" / "reference.mp4").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="EGL is chosen on Linux only")
def test_importing_robomotion_picks_egl_on_a_headless_machine() -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL")}
    code = "import os, robomotion; print(os.environ.get('MUJOCO_GL'))"
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "egl"


# ---------------------------------------------------------------------- found by the fuzz test
def test_bvh_joint_with_two_channels_lines_is_refused(tmp_path) -> None:
    path = _bvh(tmp_path, "6")
    text = path.read_text()
    line = "  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n"
    path.write_text(text.replace(line, line * 2))
    with pytest.raises(FormatError, match="two CHANNELS lines"):
        load_motion(path)


def test_absurd_positions_do_not_write_an_unreadable_npz(tmp_path) -> None:
    motion = robot_motion()
    path = save_motion(motion, tmp_path / "g1.csv")
    lines = path.read_text().splitlines()
    lines[0] = ",".join(["-1e300", *lines[0].split(",")[1:]])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="NaN or inf"):
        save_motion(load_motion(path), tmp_path / "g1_bm.npz", format="beyondmimic-npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g1.csv"]
