"""Every kind of bad input gives a FormatError that names the file and the field; nothing half-written stays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from robomotion.errors import FormatError, RobomotionError
from robomotion.formats import load_motion, save_motion
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

G1 = get_robot("g1")


def _robot(frames=6):
    return RobotMotion(
        "g1",
        30.0,
        np.tile(G1.home_root_pos, (frames, 1)),
        np.tile(G1.home_root_quat, (frames, 1)),
        np.tile(G1.home_joint_pos, (frames, 1)),
        G1.joint_names,
    )


def _human(skeleton="smplx22", frames=6):
    sk = get_skeleton(skeleton)
    rng = np.random.default_rng(1)
    return HumanMotion(
        sk, 30.0, np.tile([0, 0, 0.9], (frames, 1)), quat_from_rotvec(rng.normal(0, 0.2, (frames, sk.num_joints, 3)))
    )


def _write(tmp: Path, name: str, **arrays) -> Path:
    path = tmp / name
    np.savez(path, **arrays)
    return path


def _edited(tmp: Path, source: Path, name: str, **changes) -> Path:
    data = dict(np.load(source))
    data.update(changes)
    return _write(tmp, name, **{k: v for k, v in data.items() if v is not None})


def _cut(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _kimodo(tmp: Path) -> Path:
    return save_motion(_human(), tmp / "k.npz", format="kimodo-npz")


def _amass(tmp: Path) -> Path:
    return save_motion(_human(), tmp / "a.npz", format="amass-npz")


def _bm(tmp: Path) -> Path:
    return save_motion(_robot(), tmp / "b.npz", format="beyondmimic-npz", fps=30.0)


def _mocap(tmp: Path) -> Path:
    return save_motion(_human(), tmp / "m.npz", format="mocap-npz")


def _csv(tmp: Path) -> Path:
    return save_motion(_robot(), tmp / "g.csv")


def _bvh(tmp: Path) -> Path:
    return save_motion(_human(), tmp / "h.bvh")


def _csv_lines(tmp: Path, edit: Callable[[list[str]], list[str]], name="bad.csv") -> Path:
    lines = _csv(tmp).read_text().splitlines()
    path = tmp / name
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _bvh_text(tmp: Path, edit: Callable[[str], str]) -> Path:
    path = tmp / "bad.bvh"
    path.write_text(edit(_bvh(tmp).read_text()))
    return path


def _pickled(tmp: Path) -> Path:
    return _write(tmp, "p.npz", posed_joints=np.array([{"a": 1}], dtype=object))


CASES: dict[str, tuple[Callable[[Path], Path], dict, str | None]] = {
    # truncated / corrupt files
    "kimodo npz cut in half": (lambda t: _cut(_kimodo(t)), {}, None),
    "amass npz cut in half": (lambda t: _cut(_amass(t)), {"format": "amass-npz"}, None),
    "beyondmimic npz cut in half": (lambda t: _cut(_bm(t)), {"format": "beyondmimic-npz"}, None),
    "mocap npz cut in half": (lambda t: _cut(_mocap(t)), {"format": "mocap-npz"}, None),
    "csv cut mid-row": (lambda t: _cut(_csv(t), 0.55), {}, "columns"),
    "bvh cut in half": (lambda t: _cut(_bvh(t)), {}, None),
    "bvh motion rows cut": (lambda t: _cut(_bvh(t), 0.97), {}, "MOTION"),
    "npz that is json text": (lambda t: (t / "x.npz").write_text('{"a": 1') and t / "x.npz", {}, None),
    "npz that is a single npy": (
        lambda t: (np.save(t / "x.npy", np.zeros(3)), (t / "x.npy").rename(t / "x.npz"))[1],
        {},
        None,
    ),
    "json file": (lambda t: (t / "c.json").write_text("{oops") and t / "c.json", {}, None),
    "pickled npz": (_pickled, {"format": "kimodo-npz"}, None),
    "missing file": (lambda t: t / "nope.csv", {}, None),
    # wrong column counts and values
    "csv 35 columns": (
        lambda t: _csv_lines(t, lambda ls: [",".join(row.split(",")[:35]) for row in ls]),
        {},
        "columns",
    ),
    "csv ragged row": (lambda t: _csv_lines(t, lambda ls: ls[:2] + [ls[2] + ",1.0"] + ls[3:]), {}, "columns"),
    "csv NaN": (
        lambda t: _csv_lines(t, lambda ls: [ls[0].replace(ls[0].split(",")[9], "nan", 1)] + ls[1:]),
        {},
        "values",
    ),
    "csv inf": (lambda t: _csv_lines(t, lambda ls: ls[:-1] + ["inf" + ls[-1][ls[-1].index(",") :]]), {}, "values"),
    "csv text cell": (
        lambda t: _csv_lines(t, lambda ls: ls[:1] + ["abc" + ls[1][ls[1].index(",") :]] + ls[2:]),
        {},
        "values",
    ),
    "csv header": (lambda t: _csv_lines(t, lambda ls: ["x,y,z"] + ls), {"format": "g1-csv"}, "header"),
    "seed csv without header": (lambda t: _csv(t), {"format": "seed-csv"}, "header"),
    "csv xyzw option typo": (lambda t: _csv(t), {"quat_order": "zyxw"}, "quat_order"),
    "kimodo NaN": (
        lambda t: _edited(t, _kimodo(t), "n.npz", posed_joints=np.full((6, 22, 3), np.nan, np.float32)),
        {},
        None,
    ),
    "amass inf": (lambda t: _edited(t, _amass(t), "n.npz", trans=np.full((6, 3), np.inf)), {}, "trans"),
    "beyondmimic NaN": (lambda t: _edited(t, _bm(t), "n.npz", joint_pos=np.full((6, 29), np.nan)), {}, "joint_pos"),
    "mocap NaN": (lambda t: _edited(t, _mocap(t), "n.npz", positions=np.full((6, 22, 3), np.nan)), {}, "positions"),
    # unknown names
    "mocap unknown joint": (
        lambda t: _edited(
            t, _mocap(t), "u.npz", joint_names=np.array(["hips"] + list(get_skeleton("smpl22").joint_names[1:]))
        ),
        {},
        "joint_names",
    ),
    "beyondmimic unknown joint": (
        lambda t: _edited(t, _bm(t), "u.npz", joint_names=np.array(["knee"] + list(G1.joint_names[1:]))),
        {},
        "joint_names",
    ),
    "seed csv unknown column": (
        lambda t: (
            (t / "s.csv").write_text(
                "Frame, root_translateX, root_translateY, root_translateZ, root_rotateX, "
                "root_rotateY, root_rotateZ, tail_dof\n0,0,0,0,0,0,0,0\n"
            )
            and t / "s.csv"
        ),
        {},
        "header",
    ),
    "bvh unknown channel": (
        lambda t: _bvh_text(
            t, lambda s: s.replace("Zrotation Yrotation Xrotation", "Zrotation Yrotation Wrotation", 1)
        ),
        {},
        "CHANNELS",
    ),
    "bvh duplicate joint": (
        lambda t: _bvh_text(t, lambda s: s.replace("JOINT right_hip", "JOINT left_hip")),
        {},
        "HIERARCHY",
    ),
    # zero frames
    "empty csv": (lambda t: (t / "e.csv").write_text("\n") and t / "e.csv", {}, "rows"),
    "kimodo zero frames": (
        lambda t: _write(
            t,
            "z.npz",
            posed_joints=np.zeros((0, 22, 3), np.float32),
            global_rot_mats=np.zeros((0, 22, 3, 3), np.float32),
        ),
        {},
        None,
    ),
    "amass zero frames": (
        lambda t: _write(t, "z.npz", trans=np.zeros((0, 3)), root_orient=np.zeros((0, 3)), pose_body=np.zeros((0, 63))),
        {},
        None,
    ),
    "bvh zero frames": (
        lambda t: _bvh_text(t, lambda s: s[: s.index("Frames:")] + "Frames: 0\nFrame Time: 0.0333\n"),
        {},
        "Frames",
    ),
    # mismatched shapes
    "kimodo frames mismatch": (
        lambda t: _edited(t, _kimodo(t), "s.npz", posed_joints=np.zeros((5, 22, 3), np.float32), local_rot_mats=None),
        {},
        "posed_joints",
    ),
    "amass pose_body width": (lambda t: _edited(t, _amass(t), "s.npz", pose_body=np.zeros((6, 60))), {}, "pose_body"),
    "beyondmimic body mismatch": (
        lambda t: _edited(t, _bm(t), "s.npz", body_quat_w=np.zeros((6, 29, 4))),
        {},
        "body_quat_w",
    ),
    "mocap positions 2d": (lambda t: _edited(t, _mocap(t), "s.npz", positions=np.zeros((6, 22, 2))), {}, "positions"),
    "beyondmimic fps zero": (lambda t: _edited(t, _bm(t), "s.npz", fps=np.array([0.0])), {}, "fps"),
    # unsupported skeletons and unknown content
    "kimodo 23 joints": (
        lambda t: _write(
            t,
            "j.npz",
            posed_joints=np.zeros((4, 23, 3), np.float32),
            global_rot_mats=np.tile(np.eye(3, dtype=np.float32), (4, 23, 1, 1)),
        ),
        {},
        "posed_joints",
    ),
    "npz with unknown keys": (lambda t: _write(t, "k.npz", foo=np.zeros(3)), {}, "keys"),
    "kimodo missing keys": (
        lambda t: _write(t, "k.npz", foot_contacts=np.zeros((3, 4))),
        {"format": "kimodo-npz"},
        "local_rot_mats",
    ),
    "kimodo posed vs rotations disagree": (
        lambda t: _edited(
            t, _kimodo(t), "d.npz", local_rot_mats=None, posed_joints=np.load(_kimodo(t))["posed_joints"] * 1.5
        ),
        {},
        "posed_joints",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_a_clear_error(tmp_path, case):
    build, options, field = CASES[case]
    path = build(tmp_path)
    with pytest.raises(RobomotionError) as info:
        load_motion(path, **options)
    error = info.value
    assert str(path) in str(error) or (isinstance(error, FormatError) and error.path == path), str(error)
    if field is not None:
        assert isinstance(error, FormatError) and error.field == field, str(error)


def test_pickled_npz_message_says_why(tmp_path):
    with pytest.raises(FormatError, match="pickled"):
        load_motion(_pickled(tmp_path), format="kimodo-npz")


@pytest.mark.parametrize(
    "motion, name, fmt",
    [
        (_human(), "h.csv", None),
        (_human(), "h_bm.npz", "beyondmimic-npz"),
        (_robot(), "r.bvh", None),
        (_robot(), "r_amass.npz", "amass-npz"),
        (_human("soma30"), "s_amass.npz", "amass-npz"),
        (_human("soma30"), "s_mocap.npz", "mocap-npz"),
    ],
)
def test_writers_refuse_motions_they_cannot_store_and_leave_nothing(tmp_path, motion, name, fmt):
    with pytest.raises(FormatError):
        save_motion(motion, tmp_path / name, format=fmt)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save_motion(_human(), tmp_path / "k.npz", format="kimodo-npz")
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError):
        save_motion(_human(), path, format="kimodo-npz")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["k.npz"]
