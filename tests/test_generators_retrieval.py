"""Retrieval metrics (R-precision, FID) and the retrieval model's files."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.errors import FormatError
from robomotion.generators.evaluation.retrieval import RetrievalConfig, RetrievalModel, _modules, fid, load_retrieval, r_precision


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_r_precision_is_one_for_matching_pairs_and_chance_for_random(rng):
    emb = _unit(rng.normal(size=(200, 16)))
    assert r_precision(emb, emb, np.random.default_rng(0)) == [1.0, 1.0, 1.0]
    chance = r_precision(emb, _unit(rng.normal(size=(200, 16))), np.random.default_rng(0))
    assert chance[0] < 0.12 and chance[2] < 0.25  # 1/32 and 3/32 expected
    assert chance[0] <= chance[1] <= chance[2]


def test_fid_is_zero_for_identical_sets_and_grows_with_a_shift(rng):
    a = rng.normal(size=(500, 8))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert fid(a, a + 1.0) == pytest.approx(8.0, rel=0.05)  # squared mean shift of 1 per dimension


def test_model_files_round_trip(tmp_path, rng):
    config = RetrievalConfig(latent=8, width=16, layers=1, heads=2, length=12, patch=4)
    motion, text = _modules(config, feature_dim=5, text_dim=6)
    model = RetrievalModel(config, motion, text, np.zeros(5), np.ones(5))
    windows = [rng.normal(size=(12, 5)), rng.normal(size=(7, 5))]
    loaded = load_retrieval(model.save(tmp_path / "tmr"))
    np.testing.assert_allclose(loaded.embed_motions(windows), model.embed_motions(windows), atol=1e-6)
    np.testing.assert_allclose(loaded.embed_texts(np.ones((2, 6))), model.embed_texts(np.ones((2, 6))), atol=1e-6)
    with pytest.raises(FormatError, match="not a retrieval model"):
        load_retrieval(tmp_path)


def test_the_shipped_retrieval_model_loads_and_embeds_unit_vectors():
    from robomotion.resources import model_path

    model = load_retrieval(model_path("tmr_small"))
    assert model.config.length == 96 and model.mean.shape == (273,)
    emb = model.embed_texts(np.eye(384, dtype=np.float32)[:3])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
