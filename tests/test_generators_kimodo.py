"""Our side of the Kimodo contract, against a fake ``kimodo`` module shaped like its documented API.

The real Kimodo package and checkpoints are not installed here; these tests check the call we
make (``kimodo.load_model`` + ``model(prompts=..., multi_prompt=True, return_numpy=True, ...)``,
constraints through ``kimodo.constraints.load_constraints_lst``) and the conversion of its
outputs (Kimodo axes: y up, +Z forward) to robomotion types.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import robomotion
from robomotion.errors import BackendUnavailableError
from robomotion.generators.constraints import root_waypoints
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import quat_from_rotvec, rotvec_to_matrix


class FakeKimodoModel:
    """Returns a fixed motion: pelvis 0.9 m up (Kimodo y), walking 1 m along Kimodo +Z."""

    fps = 30

    def __init__(self, name: str, joints: int, contact_channels: int):
        self.name = name
        self.joints = joints
        self.contact_channels = contact_channels
        self.skeleton = f"skeleton-{joints}"
        self.calls: list[dict] = []

    def __call__(self, prompts, num_frames, num_denoising_steps, **kwargs):
        self.calls.append({"prompts": prompts, "num_frames": num_frames, "num_denoising_steps": num_denoising_steps, **kwargs})
        frames = sum(num_frames)
        samples = kwargs["num_samples"]
        local = np.tile(np.eye(3), (samples, frames, self.joints, 1, 1))
        local[:, :, 0] = rotvec_to_matrix(np.array([0.0, 0.3, 0.0]))  # turn about Kimodo's up axis
        root = np.zeros((samples, frames, 3))
        root[..., 1] = 0.9
        root[..., 2] = np.linspace(0.0, 1.0, frames)
        contacts = np.zeros((samples, frames, self.contact_channels), dtype=bool)
        contacts[:, :, 0] = True
        return {"local_rot_mats": local, "root_positions": root, "foot_contacts": contacts,
                "posed_joints": np.zeros((samples, frames, self.joints, 3))}


@pytest.fixture
def fake_kimodo(monkeypatch):
    module = types.ModuleType("kimodo")
    constraints = types.ModuleType("kimodo.constraints")
    module.loaded = []
    module.constraint_calls = []

    def load_model(modelname=None, device=None, **kwargs):
        name = str(modelname).lower()
        if "missing" in name:
            raise FileNotFoundError("config.yaml not found")
        joints, channels = (34, 4) if "g1" in name else (22, 4) if "smplx" in name else (77, 6)
        model = FakeKimodoModel(modelname, joints, channels)
        module.loaded.append((modelname, device, model))
        return model

    def load_constraints_lst(path_or_list, skeleton, device=None, dtype=None):
        module.constraint_calls.append((path_or_list, skeleton))
        return [("constraint", entry["type"]) for entry in path_or_list]

    module.load_model = load_model
    constraints.load_constraints_lst = load_constraints_lst
    module.constraints = constraints
    monkeypatch.setitem(sys.modules, "kimodo", module)
    monkeypatch.setitem(sys.modules, "kimodo.constraints", constraints)
    return module


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "kimodo", None)  # import kimodo -> ImportError
    with pytest.raises(BackendUnavailableError) as info:
        robomotion.load_model("kimodo-soma-rp")
    message = str(info.value)
    assert "pip install git+https://github.com/nv-tlabs/kimodo" in message
    assert "CHECKPOINT_DIR/Kimodo-SOMA-RP-v1.1/config.yaml" in message
    assert "NVIDIA Open Model License" in message


def test_missing_checkpoint_says_where_weights_go(fake_kimodo):
    from robomotion.generators.kimodo_backend import KimodoGenerator

    with pytest.raises(BackendUnavailableError, match="CHECKPOINT_DIR/Kimodo-SMPLX-RP-v1/config.yaml"):
        KimodoGenerator("kimodo-smplx-rp", modelname="Kimodo-SMPLX-RP-missing")


def test_smplx_call_and_axes(fake_kimodo):
    model = robomotion.load_model("Kimodo-SMPLX-RP-v1")
    assert fake_kimodo.loaded[0][0] == "Kimodo-SMPLX-RP-v1"  # Kimodo's own spelling goes to kimodo
    motions = model(["a person walks", "a person waves"], duration=[1.0, 0.5], num_samples=2, seed=3, cfg_weight=[2.0, 1.0])
    call = model.model.calls[0]
    assert call["prompts"] == ["A person walks.", "A person waves."] and call["num_frames"] == [30, 15]
    assert call["cfg_type"] == "separated" and call["cfg_weight"] == [2.0, 1.0] and call["num_samples"] == 2
    model("a person walks", num_frames=[30], cfg_type="regular", cfg_weight=1.5)
    call = model.model.calls[1]
    assert call["multi_prompt"] is True and call["return_numpy"] is True
    assert call["cfg_type"] == "regular" and call["cfg_weight"] == 1.5
    assert call["num_denoising_steps"] == 100 and call["num_frames"] == [30]
    assert len(motions) == 2 and all(isinstance(m, HumanMotion) for m in motions)
    motion = motions[0]
    assert motion.skeleton.name == "smplx22" and motion.num_frames == 45
    # Kimodo (x left, y up, z forward) -> ours (x forward, y left, z up)
    np.testing.assert_allclose(motion.root_translation[-1], [1.0, 0.0, 0.9], atol=1e-9)
    np.testing.assert_allclose(motion.local_rotations[0, 0], quat_from_rotvec(np.array([0.0, 0.0, 0.3])), atol=1e-9)
    assert motion.foot_contacts.shape == (45, 4) and motion.foot_contacts[:, 0].all()
    assert motion.metadata["texts"] == ["A person walks.", "A person waves."] and motion.metadata["seed"] == 3


def test_soma_contacts_and_constraints(fake_kimodo):
    model = robomotion.load_model("kimodo-soma-rp")
    motions = model(["a person walks", "a person sits"], num_frames=[20, 10],
                    constraints=[root_waypoints([0, 10], [[0, 0], [0.5, 0.1]])], postprocess=True)
    call = model.model.calls[0]
    assert call["prompts"] == ["A person walks.", "A person sits."] and call["num_frames"] == [20, 10]
    assert call["cfg_type"] == "separated" and call["cfg_weight"] == [2.0, 2.0]  # Kimodo's defaults
    assert call["post_processing"] is True
    (sent, skeleton), = fake_kimodo.constraint_calls
    assert skeleton == "skeleton-77" and sent[0]["type"] == "root2d"
    assert sent[0]["smooth_root_2d"] == [[0.0, 0.0], [0.1, 0.5]]  # back in Kimodo's [x, z]
    assert call["constraint_lst"] == [("constraint", "root2d")]
    assert motions[0].skeleton.name == "soma77" and motions[0].foot_contacts.shape == (30, 4)


def test_g1_models_return_robot_motion_without_postprocessing(fake_kimodo):
    model = robomotion.load_model("kimodo_g1_rp")
    assert model.robot == "g1" and model.skeleton is None
    (motion,) = model("a person walks", num_frames=12)
    assert model.model.calls[0]["post_processing"] is False
    assert isinstance(motion, RobotMotion) and motion.joint_pos.shape == (12, 29)
    np.testing.assert_allclose(motion.root_pos[-1], [1.0, 0.0, 0.9], atol=1e-9)
