"""Honest vocabulary: prompts far from the training captions are warned about, with the nearest actions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import robomotion
from robomotion.cli.main import main
from robomotion.generators.evaluation import OUT_OF_VOCABULARY
from robomotion.generators.vocabulary import UnfamiliarPromptWarning, Vocabulary, strip_subject


@pytest.fixture(scope="module")
def model():
    return robomotion.load_model()


def test_strip_subject_keeps_the_action_words():
    assert strip_subject("A man waves with the left hand.") == "waves with the left hand"
    assert strip_subject("someone jumps") == "jumps"
    assert strip_subject("walks") == "walks"


def test_every_out_of_vocabulary_prompt_is_warned_and_known_actions_are_not(model):
    for text in OUT_OF_VOCABULARY:
        (check,) = model.check_prompts([text])
        assert check.warning and check.similarity < model.vocabulary.warn_below, text
        assert len(check.nearest) == 3 and all(s <= check.similarity + 1e-6 for _, s, _ in check.nearest)
    for text in ("a person walks", "someone jumps", "a man directs traffic with his arms", "a person kicks"):
        (check,) = model.check_prompts([text])
        assert check.warning is None and check.similarity >= model.vocabulary.warn_below, text


def test_generation_warns_and_records_the_check_in_metadata(model):
    with pytest.warns(UnfamiliarPromptWarning, match="nearest known actions"):
        (motion,) = model("a person plays the violin", duration=0.5, seed=0, progress=False)
    vocabulary = motion.metadata["vocabulary"]
    assert vocabulary["warning"] and vocabulary["prompts"][0]["nearest"][0]["seconds"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfamiliarPromptWarning)
        (walk,) = model("a person walks", duration=0.5, seed=0, progress=False)
    assert walk.metadata["vocabulary"]["warning"] is None


def test_vocabulary_file_round_trips(tmp_path, model):
    path = model.vocabulary.save(tmp_path / "vocabulary.npz")
    loaded = Vocabulary.load(path)
    assert loaded.captions == model.vocabulary.captions and loaded.seconds == model.vocabulary.seconds
    np.testing.assert_allclose(loaded.embeddings, model.vocabulary.embeddings)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(robomotion.errors.FormatError, match="bad.npz"):
        Vocabulary.load(tmp_path / "bad.npz")


def test_cli_warns_on_stderr_and_lists_actions(tmp_path, capsys):
    assert main(["generate", "someone swims freestyle", "--duration", "0.5", "--seed", "0", "--output", str(tmp_path / "x")]) == 0
    err = capsys.readouterr().err
    assert "robomotion generate: warning:" in err and "nearest known actions" in err
    assert main(["generate", "--list-actions"]) == 0
    out = capsys.readouterr().out
    assert "a person walks" in out and "seconds" in out
    assert main(["models"]) == 0
    assert "robomotion-small" in capsys.readouterr().out
