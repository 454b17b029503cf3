"""One config mechanism (:mod:`robomotion.config`): checked overrides, nested sections, JSON, ``--config``."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.validation.config import ValidationConfig
from robomotion.retarget.config import RetargetConfig
from test_retarget_api import waving_motion

from robomotion.cli.main import main
from robomotion.config import Config, config_from_args, override, to_dict
from robomotion.errors import FormatError, RobomotionError
from robomotion.formats import load_motion, save_motion

CONFIGS = (RetargetConfig, ValidationConfig, TrackingConfig)


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_round_trips_through_json(cls, tmp_path) -> None:
    assert issubclass(cls, Config)
    config = cls()
    data = config.to_dict()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    assert cls.from_json(path) == config
    assert cls.from_dict({}) == config
    assert list(data) == list(cls.field_names())


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_an_unknown_key_names_it_and_lists_the_valid_ones(cls) -> None:
    with pytest.raises(FormatError, match=rf"unknown setting no_such_field for {cls.__name__}; valid: ") as info:
        cls().replace(no_such_field=1)
    assert info.value.field == "no_such_field"
    assert all(name in str(info.value) for name in cls.field_names())


def test_nested_sections_merge_only_the_keys_they_name() -> None:
    config = RetargetConfig.from_dict({"acceleration": 0.01, "contact_detection": {"speed": 0.3}})
    assert config.acceleration == 0.01 and config.contact_detection.speed == 0.3
    assert config.contact_detection.height == RetargetConfig().contact_detection.height
    tracking = TrackingConfig.evaluation().replace(reward={"body_pos_weight": 2.0}, command_offsets=[0, 2])
    assert tracking.reward.body_pos_weight == 2.0 and tracking.command_offsets == (0, 2)
    assert tracking.sampling.mode == "start" and tracking.observation_noise is None  # evaluation() kept
    # an optional section switched off by null comes back with its defaults from a dict
    assert TrackingConfig.from_dict({"reset_noise": None}).reset_noise is None
    assert TrackingConfig.from_dict({"reset_noise": {}}).reset_noise == TrackingConfig().reset_noise


def test_bad_nested_keys_and_values_are_format_errors_with_dotted_fields(tmp_path) -> None:
    with pytest.raises(FormatError, match="unknown setting foo for RewardConfig") as info:
        TrackingConfig.from_dict({"reward": {"foo": 1}})
    assert info.value.field == "reward.foo"
    with pytest.raises(FormatError, match="expected an object of RewardConfig settings"):
        TrackingConfig.from_dict({"reward": 3})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"friction": -1}))
    with pytest.raises(FormatError, match="must be a non-negative number") as info:
        ValidationConfig.from_json(path)
    assert info.value.path == path and info.value.field == "friction"
    # a ValueError from a config's own checks becomes a FormatError (CLI exit 2)
    with pytest.raises(FormatError, match="physics_hz / control_hz"):
        TrackingConfig().replace(control_hz=33.0)
    path.write_text("[1, 2]")
    with pytest.raises(FormatError, match="expected a JSON object"):
        RetargetConfig.from_json(path)
    path.write_text("{not json")
    with pytest.raises(FormatError, match="is not valid JSON"):
        RetargetConfig.from_json(path)


def test_helpers_work_on_plain_dataclasses() -> None:
    detection = RetargetConfig().contact_detection  # a dataclass that is not a Config
    assert override(detection, {"speed": 0.5}).speed == 0.5
    assert to_dict(RetargetConfig(held_joints=("a*",)))["held_joints"] == ["a*"]


def test_tracking_env_keyword_overrides_use_the_same_check() -> None:
    from robomotion.envs.tracking.env import G1TrackingEnv

    with pytest.raises(FormatError, match="unknown setting episode_secnds for TrackingConfig; valid: control_hz"):
        G1TrackingEnv(motion=None, episode_secnds=5.0)
    with pytest.raises(RobomotionError, match="unknown setting bogus"):
        TrackingConfig.evaluation(bogus=1)


def test_retarget_cli_reads_the_config_file(tmp_path) -> None:
    source = save_motion(waving_motion(frames=12), tmp_path / "wave.npz", format="kimodo-npz")
    config = tmp_path / "retarget.json"
    config.write_text(json.dumps({"held_joints": ["*_wrist_*_joint"]}))
    output = tmp_path / "wave_g1.csv"
    assert main(["retarget", str(source), "-o", str(output), "--config", str(config)]) == 0
    robot = load_motion(output)
    wrists = [i for i, name in enumerate(robot.joint_names) if "wrist" in name]
    np.testing.assert_array_equal(robot.joint_pos[:, wrists], 0.0)  # held at the home pose (0 rad)


def test_explicit_flags_win_over_the_config_file(tmp_path) -> None:
    config = tmp_path / "retarget.json"
    config.write_text(json.dumps({"contacts": "source", "acceleration": 0.01}))
    args = argparse.Namespace(config=config)
    assert config_from_args(args, RetargetConfig, contacts=None).contacts == "source"
    both = config_from_args(args, RetargetConfig, contacts="detect")
    assert both.contacts == "detect" and both.acceleration == 0.01
    assert config_from_args(argparse.Namespace(config=None), RetargetConfig) == RetargetConfig()


@pytest.mark.parametrize("command", ["retarget", "validate", "generate"])
def test_cli_config_with_an_unknown_key_exits_2_naming_it(command, tmp_path, capsys) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"no_such_field": 1}))
    source = save_motion(waving_motion(frames=5), tmp_path / "wave.npz", format="kimodo-npz")
    argv = {
        "retarget": ["retarget", str(source), "-o", str(tmp_path / "out.csv")],
        "validate": ["validate", str(source)],
        "generate": ["generate", "a person walks", "--output", str(tmp_path / "gen")],
    }[command]
    assert main([*argv, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "no_such_field" in err and "valid: " in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "gen.npz").exists()


def test_fields_without_defaults_must_be_given() -> None:
    from robomotion.generators.small_model import DenoiserConfig

    with pytest.raises(FormatError, match="missing setting feature_dim") as info:
        DenoiserConfig.from_dict({"width": 64}, "config.json")
    assert info.value.field == "feature_dim" and str(info.value.path) == "config.json"
    config = DenoiserConfig.from_dict({"feature_dim": 12, "width": 64})
    assert (config.feature_dim, config.width, config.depth) == (12, 64, DenoiserConfig(feature_dim=1).depth)
    assert DenoiserConfig.from_dict(config.to_dict()) == config


def test_generate_reads_the_retarget_and_validation_sections(tmp_path) -> None:
    from robomotion.cli.pipeline_config import PipelineConfig

    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"retarget": {"acceleration": 0.01}, "validation": {"residual_fail": 0.2}}))
    config = PipelineConfig.from_json(path)
    assert config.retarget == RetargetConfig(acceleration=0.01)
    assert config.validation == ValidationConfig(residual_fail=0.2)
    path.write_text(json.dumps({"retarget": {"acceleraton": 0.01}}))
    with pytest.raises(FormatError, match="unknown setting acceleraton for RetargetConfig") as info:
        PipelineConfig.from_json(path)
    assert info.value.field == "retarget.acceleraton"


def test_tracking_terms_declared_in_a_json_file(tmp_path) -> None:
    from robomotion.envs.tracking.terms import RewardTerm, TerminationTerm, squared_norm

    path = tmp_path / "tracking.json"
    path.write_text(json.dumps({
        "episode_seconds": 5.0,
        "rewards": [{"name": "effort", "func": "robomotion.envs.tracking.terms:squared_norm", "weight": -0.01}],
        "terminations": [{"name": "never", "func": "builtins:callable", "params": {"obj": None}}],
    }))
    config = TrackingConfig.from_json(path)
    assert config.rewards == (RewardTerm("effort", squared_norm, weight=-0.01),)
    assert config.terminations == (TerminationTerm("never", callable, params={"obj": None}),)
    data = config.to_dict()
    assert data["rewards"][0]["func"] == "robomotion.envs.tracking.terms:squared_norm"
    assert TrackingConfig.from_dict(json.loads(json.dumps(data))) == config
    path.write_text(json.dumps({"rewards": [{"name": "x", "func": "robomotion.envs.tracking.terms:no_such"}]}))
    with pytest.raises(FormatError, match="cannot import 'robomotion.envs.tracking.terms:no_such'") as info:
        TrackingConfig.from_json(path)
    assert info.value.field == "rewards[0].func"
    path.write_text(json.dumps({"rewards": [{"func": "builtins:abs"}]}))
    with pytest.raises(FormatError, match="missing setting name") as info:
        TrackingConfig.from_json(path)
    assert info.value.field == "rewards[0].name"
