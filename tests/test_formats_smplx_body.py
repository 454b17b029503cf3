"""SMPL-X inputs on the user's own body (:mod:`robomotion.formats.smplx_body`).

The licensed SMPL-X files are not available here, so the tests build a synthetic model file with
the real layout (10 475 vertices, 55 joints, the official key names) whose joint regressor picks the
``smplx22`` rest joints out of the template and whose first shape coefficient scales the body by 10 %
per unit: a body model with known answers, run through the real ``smplx`` package.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.formats import load_motion, save_motion
from robomotion.formats.axes import INTERNAL_TO_AMASS, vectors_to_kimodo
from robomotion.skeletons import get_skeleton

pytest.importorskip("smplx", reason="needs the 'smplx' extra")

from robomotion.formats.smplx_body import body_skeleton, model_file, read_amass_on_body

VERTICES, JOINTS = 10475, 55
SMPLX_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
                 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
                 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """``<dir>/smplx/SMPLX_NEUTRAL.npz``: the official layout, synthetic numbers."""
    skeleton = get_skeleton("smplx22")
    rest = vectors_to_kimodo(skeleton.rest_positions()) + skeleton.extras["pelvis_rest_smplx_frame"]
    rng = np.random.default_rng(0)
    template = rng.normal(scale=0.3, size=(VERTICES, 3)).astype(np.float32)
    template[:22] = rest
    regressor = np.zeros((JOINTS, VERTICES), np.float32)
    regressor[np.arange(22), np.arange(22)] = 1.0
    regressor[np.arange(22, JOINTS), np.array(SMPLX_PARENTS[22:])] = 1.0  # jaw, eyes, fingers: on their parent
    shapedirs = np.zeros((VERTICES, 3, 20), np.float32)
    shapedirs[:, :, 0] = 0.1 * template  # beta 0: the whole body 10 % larger per unit
    weights = np.zeros((VERTICES, JOINTS), np.float32)
    weights[:, 0] = 1.0
    folder = tmp_path_factory.mktemp("body_models")
    (folder / "smplx").mkdir()
    np.savez(
        folder / "smplx" / "SMPLX_NEUTRAL.npz",
        v_template=template, shapedirs=shapedirs, J_regressor=regressor, weights=weights,
        posedirs=np.zeros((VERTICES, 3, (JOINTS - 1) * 9), np.float32),
        kintree_table=np.stack([np.array(SMPLX_PARENTS) % 2**32, np.arange(JOINTS)]).astype(np.int64),
        f=rng.integers(0, VERTICES, (20908, 3)), hands_componentsl=np.eye(45), hands_componentsr=np.eye(45),
        hands_meanl=np.zeros(45), hands_meanr=np.zeros(45), lmk_faces_idx=np.arange(51),
        lmk_bary_coords=np.full((51, 3), 1 / 3), dynamic_lmk_faces_idx=np.zeros((79, 17), np.int64),
        dynamic_lmk_bary_coords=np.full((79, 17, 3), 1 / 3),
    )
    return folder


def test_the_body_model_gives_the_skeleton_of_its_betas(model_dir) -> None:
    default = get_skeleton("smplx22")
    same = body_skeleton(model_dir)
    np.testing.assert_allclose(same.offsets, default.offsets, atol=1e-6)
    assert same.joint_names == default.joint_names and same.roles == default.roles
    bigger = body_skeleton(model_dir, betas=[1.0], gender="neutral")
    np.testing.assert_allclose(bigger.bone_lengths(), 1.1 * default.bone_lengths(), atol=1e-6)
    np.testing.assert_allclose(
        bigger.extras["pelvis_rest_smplx_frame"], 1.1 * default.extras["pelvis_rest_smplx_frame"], atol=1e-6
    )


def test_an_amass_clip_is_posed_on_its_own_body(model_dir, tmp_path) -> None:
    from test_formats_amass import _motion  # a random SMPL-X 22 motion (seeded)

    motion = _motion(np.random.default_rng(0))
    path = save_motion(motion, tmp_path / "walk.npz", format="amass-npz")
    data = dict(np.load(path))
    data["betas"] = np.r_[np.float32(-2.0), np.zeros(15, np.float32)]  # a body 20 % smaller
    np.savez(path, **data)
    on_body = read_amass_on_body(path, model_dir)
    plain = load_motion(path, format="amass-npz")
    np.testing.assert_allclose(on_body.skeleton.bone_lengths(), 0.8 * plain.skeleton.bone_lengths(), atol=1e-6)
    np.testing.assert_allclose(on_body.local_rotations, plain.local_rotations)
    # the pelvis: SMPL-X transl + this body's rest pelvis (20 % closer to the model origin)
    pelvis_shift = (0.8 - 1.0) * plain.skeleton.extras["pelvis_rest_smplx_frame"]
    np.testing.assert_allclose(on_body.root_translation - plain.root_translation,
                               np.broadcast_to(pelvis_shift @ INTERNAL_TO_AMASS, plain.root_translation.shape),
                               atol=1e-6)
    assert on_body.metadata["body_model"] == "SMPLX_NEUTRAL.npz"
    heights = [m.global_positions[..., 2].max() - m.global_positions[..., 2].min() for m in (plain, on_body)]
    assert heights[1] < 0.85 * heights[0]


def test_missing_files_and_packages_are_clear_errors(model_dir, tmp_path, monkeypatch) -> None:
    assert model_file(model_dir).name == "SMPLX_NEUTRAL.npz"
    with pytest.raises(FormatError, match=r"SMPLX_FEMALE\.npz.*smpl-x\.is\.tue\.mpg\.de"):
        model_file(model_dir, "female")
    with pytest.raises(FormatError, match="expected one of"):
        model_file(model_dir, "robot")
    with pytest.raises(FormatError, match="21 betas, but the model has 10"):
        body_skeleton(model_dir, betas=np.r_[np.zeros(20), 0.5])
    monkeypatch.setitem(sys.modules, "smplx", None)
    with pytest.raises(BackendUnavailableError, match=r"robomotion\[smplx\]"):
        body_skeleton(model_dir)
