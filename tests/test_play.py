"""``robomotion play`` and :func:`robomotion.envs.play`: ONNX tracking policies on CPU MuJoCo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from robomotion.envs.tracking.policy import Policy

from robomotion.cli.main import main
from robomotion.errors import FormatError
from robomotion.robots import get_robot

MJLAB_NAMES = "command,motion_anchor_pos_b,motion_anchor_ori_b,base_lin_vel,base_ang_vel,joint_pos,joint_vel,actions"


def _metadata(**changes: str | None) -> dict[str, str]:
    g1 = get_robot("g1")
    entries = {
        "joint_names": ",".join(g1.joint_names),
        "joint_stiffness": ",".join(f"{v:.3f}" for v in g1.kp),
        "joint_damping": ",".join("1.0" for _ in g1.kp),
        "default_joint_pos": ",".join("0.0" for _ in g1.kp),
        "action_scale": ",".join("0.25" for _ in g1.kp),
        "observation_names": MJLAB_NAMES,
        "anchor_body_name": "torso_link",
        "body_names": "pelvis,torso_link",
    }
    for key, value in changes.items():
        if value is None:
            entries.pop(key)
        else:
            entries[key] = value
    return entries


def _tiny_onnx(path: Path, metadata: dict[str, str], size: int = 160) -> Path:
    """An ONNX graph obs (1, size) -> actions (1, 29) = obs @ 0, with the given metadata (no reference)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.zeros((size, 29), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "w"], ["actions"])], "tiny",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, size])],
        [helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, 29])], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def test_policy_reads_metadata_and_runs(tmp_path):
    policy = Policy(_tiny_onnx(tmp_path / "p.onnx", _metadata()))
    assert policy.observation == "mjlab" and policy.observation_size == 160 and not policy.has_reference
    assert policy.metadata.joint_stiffness.shape == (29,) and policy.metadata.body_names == ("pelvis", "torso_link")
    np.testing.assert_array_equal(policy(np.ones(160, np.float32)), np.zeros(29))
    blind = Policy(_tiny_onnx(tmp_path / "b.onnx", _metadata(
        observation_names="command,motion_anchor_ori_b,base_ang_vel,joint_pos,joint_vel,actions"), size=154))
    assert blind.observation == "mjlab-no-state-estimation"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"joint_stiffness": None}, "missing ONNX metadata"),
        ({"observation_names": MJLAB_NAMES.replace("base_lin_vel", "projected_gravity")}, "projected_gravity"),
        ({"joint_names": ",".join(f"h1_joint_{i}" for i in range(29))}, "robot this runner does not have"),
        ({"action_scale": "0.25,0.25"}, "one per joint"),
        ({"body_names": "pelvis,tail_link"}, "tail_link"),
    ],
    ids=["missing", "unknown-observation", "other-robot", "short-list", "unknown-body"],
)
def test_bad_policies_exit_2_with_one_line(tmp_path, capsys, changes, message):
    path = _tiny_onnx(tmp_path / "bad.onnx", _metadata(**changes))
    assert main(["play", str(path), "--no-video"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and str(path) in error and len(error.splitlines()) == 1


def test_unreadable_file_and_missing_motion(tmp_path, capsys):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not an onnx model")
    assert main(["play", str(junk), "--no-video"]) == 2
    assert "not a readable ONNX model" in capsys.readouterr().err
    no_reference = _tiny_onnx(tmp_path / "p.onnx", _metadata())
    assert main(["play", str(no_reference), "--no-video"]) == 2
    assert "pass a motion file" in capsys.readouterr().err


def test_motion_of_another_robot_is_refused(tmp_path):
    from robomotion.envs import play

    g1 = get_robot("g1")
    other = g1.home_motion(seconds=1.0)
    other = type(other)(robot="h1", fps=other.fps, root_pos=other.root_pos, root_quat=other.root_quat,
                        joint_pos=other.joint_pos, joint_names=other.joint_names)
    with pytest.raises(FormatError, match="robot 'h1'"):
        play(_tiny_onnx(tmp_path / "p.onnx", _metadata()), motion=other)


def test_play_a_motion_file_with_a_standing_policy(tmp_path, capsys):
    """A zero-action policy on the home pose (gains and pose from the metadata): it falls, and the
    fall is reported with mjlab's termination rules."""
    from robomotion.envs import play

    from robomotion.formats import save_motion

    g1 = get_robot("g1")
    motion_file = save_motion(g1.home_motion(seconds=3.0), tmp_path / "home.npz")
    meta = _metadata(joint_damping=",".join(f"{-v:.4f}" for v in get_robot("g1").load_model().actuator_biasprm[:, 2]),
                     default_joint_pos=",".join(f"{v:.4f}" for v in g1.home_joint_pos))
    policy = _tiny_onnx(tmp_path / "p.onnx", meta)
    assert main(["play", str(policy), "--motion", str(motion_file), "--no-video"]) == 1  # a fall: a failed check
    result = play(policy, motion=motion_file, report=tmp_path / "report")
    assert not result.survived and result.termination == "anchor_height" and 0.9 <= result.fell_at <= 1.6
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["survived"] is False and report["steps"] == result.steps
    assert set(report["body_errors"]) == set(g1.tracked_bodies)
    assert (tmp_path / "report" / "steps.csv").read_text().count("\n") == result.steps + 1
    assert "FELL at" in capsys.readouterr().out


@pytest.mark.shared
def test_play_the_mjlab_policy_on_its_embedded_motion(shared_dir, tmp_path, capsys):
    """The issue's acceptance run: the whole B_Fence1 clip, no fall, mean tracked-body error <= 6 cm."""
    onnx_path = shared_dir / "data" / "g1_moves" / "policies" / "B_Fence1" / "B_Fence1.onnx"
    assert main(["play", str(onnx_path), "--no-video", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "survived the whole reference" in out and "tracked-body position error" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["survived"] and report["steps"] == 1618 and report["motion"] == "embedded"
    assert report["mean_body_error"] <= 0.06
    assert max(report["torque_use_max"].values()) < 1.0


@pytest.mark.shared
def test_play_writes_a_side_by_side_video(shared_dir, tmp_path):
    from robomotion.envs import play

    onnx_path = shared_dir / "data" / "g1_moves" / "policies" / "B_Fence1" / "B_Fence1.onnx"
    result = play(onnx_path, seconds=1.0, video=tmp_path / "play.mp4")
    assert result.survived and result.steps == 50 and result.to_dict()["video"] == str(tmp_path / "play.mp4")
    import imageio.v3 as iio

    frames = iio.imread(tmp_path / "play.mp4")
    assert frames.shape[0] == 26 and frames.shape[2] == 2 * frames.shape[1] * 480 // 360


def test_config_file_changes_the_environment_and_unknown_keys_exit_2(tmp_path, capsys):
    """``--config`` starts from the noise-free evaluation settings; a looser fall rule keeps the
    zero-action robot 'up' longer, and an unknown key is one line naming it, exit 2."""
    from robomotion.envs import play
    from robomotion.envs.tracking.config import TerminationConfig, TrackingConfig

    g1 = get_robot("g1")
    meta = _metadata(default_joint_pos=",".join(f"{v:.4f}" for v in g1.home_joint_pos))
    policy = _tiny_onnx(tmp_path / "p.onnx", meta)
    motion = g1.home_motion(seconds=3.0)
    strict = play(policy, motion=motion)
    lenient = play(policy, motion=motion, config=TrackingConfig.evaluation(
        termination=TerminationConfig(anchor_height=10.0, anchor_tilt=10.0, end_effector_height=10.0)))
    assert lenient.steps > strict.steps
    bad = tmp_path / "bad.json"
    bad.write_text('{"termination": {"bogus": 1}}')
    assert main(["play", str(policy), "--motion", str(tmp_path / "none.npz"), "--config", str(bad), "--no-video"]) == 2
    error = capsys.readouterr().err.strip()
    assert "termination.bogus" in error and len(error.splitlines()) == 1
