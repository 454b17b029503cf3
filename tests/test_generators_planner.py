"""The text planner: parsing of unseen phrasings, root paths, and planned generation."""

from __future__ import annotations

import numpy as np
import pytest

import robomotion
from robomotion.generators.constraints import EndEffectorConstraint, Root2DConstraint
from robomotion.generators.evaluation import measure_motion
from robomotion.generators.planner import PlannerConfig, parse_intent, plan_constraints, root_path
from robomotion.skeletons import get_skeleton

# Phrasings that appear neither in the suite nor in the training captions.
PARSES = [
    ("a woman backs away, walking in reverse", {"direction": "backward", "speed_class": "walk"}),
    ("the kid strafes to the right", {"direction": "right", "speed_class": "walk"}),
    ("the kid shuffles sideways to the right", {"direction": "right", "speed_class": "walk"}),
    ("someone sprints across the room", {"direction": "forward", "speed_class": "run"}),
    ("an old man strolls along slowly", {"direction": "forward", "speed_class": "slow"}),
    ("she trots ahead", {"direction": "forward", "speed_class": "jog"}),
    ("a dancer pivots clockwise", {"turn": -np.pi / 2}),
    ("he spins all the way around", {"turn": np.pi}),
    ("he walks along a loop to the right", {"circle": -1, "speed_class": "walk"}),
    ("a girl hops backwards", {"jump": True, "direction": "backward", "speed_class": "walk"}),
    ("a girl hops on her left foot", {"jump": True, "direction": None, "speed_class": None}),
    ("a boy leaps backwards", {"jump": True, "direction": "backward", "speed_class": "walk"}),
    ("the athlete lifts her right arm overhead", {"raise_hands": ("right",), "wave_hands": ()}),
    ("a child holds both hands up high", {"raise_hands": ("left", "right")}),
    ("a man waves goodbye with the left palm", {"wave_hands": ("left",), "raise_hands": ()}),
    ("a person dances happily", {"speed_class": None, "turn": 0.0, "circle": 0}),
    ("a person plays the violin", {"speed_class": None, "raise_hands": (), "wave_hands": ()}),
]


@pytest.mark.parametrize("text,expected", PARSES)
def test_parse_unseen_phrasings(text, expected):
    intent = parse_intent(text)
    for key, value in expected.items():
        assert getattr(intent, key) == pytest.approx(value) if isinstance(value, float) else getattr(intent, key) == value, (text, intent)


def test_empty_intent_and_plain_forward_walks_plan_nothing():
    plan = plan_constraints("a person dances happily", 150, 30.0, get_skeleton("smplx22"), 0.95)
    assert plan.intent.empty and plan.empty
    walk = plan_constraints("a woman walks ahead", 150, 30.0, get_skeleton("smplx22"), 0.95)
    assert walk.intent.direction == "forward" and walk.empty and "by itself" in walk.skipped
    assert not plan_constraints("a woman walks ahead slowly", 150, 30.0, get_skeleton("smplx22"), 0.95).empty


def test_root_paths_have_the_named_direction_speed_and_turn():
    config = PlannerConfig()
    path, heading = root_path(parse_intent("someone walks backwards"), 150, 30.0, config)
    assert path[-1, 0] < -2.5 and abs(path[-1, 1]) < 1e-9 and np.allclose(heading, 0.0)
    late = np.diff(path[60:], axis=0) * 30.0
    assert np.allclose(np.linalg.norm(late, axis=1), config.backward_speed, atol=1e-6)
    path, heading = root_path(parse_intent("a person runs in a circle to the left"), 150, 30.0, config)
    assert heading[-1] > np.pi  # more than half a circle in 5 s at the circle speed
    radius = np.linalg.norm(path - np.array([0.0, config.circle_radius]), axis=1)
    assert np.allclose(radius, config.circle_radius, atol=0.02)
    _, heading = root_path(parse_intent("a man turns to his right"), 150, 30.0, config)
    assert heading[0] == 0.0 and heading[-1] == pytest.approx(-np.pi / 2)


def test_runs_are_read_but_not_planned_and_walks_get_root_velocities():
    skeleton = get_skeleton("smplx22")
    run = plan_constraints("someone sprints across the room", 150, 30.0, skeleton, 0.95)
    assert run.intent.speed_class == "run" and run.empty and "faster than the model steps" in run.skipped
    turn = plan_constraints("a man jogs and turns to the left", 150, 30.0, skeleton, 0.95)
    (root,) = turn.constraints  # the turn is planned in place
    assert np.allclose(root.positions, 0.0) and root.headings[-1] == pytest.approx(np.pi / 2)
    walk = plan_constraints("a woman walks backwards", 150, 30.0, skeleton, 0.95)
    assert walk.root_velocity.shape == (150, 3)
    assert np.allclose(walk.root_velocity[60:-1, 1], -PlannerConfig().backward_speed, atol=1e-6)
    assert np.allclose(walk.root_velocity[:, [0, 2]], 0.0, atol=1e-9)


def test_side_words_constrain_the_named_wrist_above_the_head():
    skeleton = get_skeleton("smplx22")
    plan = plan_constraints("a woman lifts her left hand up", 150, 30.0, skeleton, 0.95)
    (hand,) = [c for c in plan.constraints if isinstance(c, EndEffectorConstraint)]
    assert hand.joint_names == ("LeftHand",) and 3 <= len(hand.frame_indices) <= 30
    gaps = np.diff(hand.frame_indices)
    assert gaps.max() <= 9 and hand.frame_indices[-1] == 149  # held: dense keys up to the last frame
    positions = skeleton.forward_kinematics(hand.local_rotations, hand.root_positions)[0]
    wrist, head = positions[:, skeleton.index("left_wrist")], positions[:, skeleton.index("head")]
    assert np.all(wrist[:, 2] > head[:, 2] + 0.2) and np.all(wrist[:, 1] > 0)
    assert not any(isinstance(c, Root2DConstraint) for c in plan.constraints)


@pytest.fixture(scope="module")
def model():
    return robomotion.load_model()


def test_planned_generation_travels_backward_and_steps(model):
    (motion,) = model("a woman backs away, walking in reverse", duration=3.0, seed=3, progress=False)
    assert motion.metadata["planner"]["intent"]["direction"] == "backward"
    assert measure_motion(motion).forward_speed < -0.3
    (plain,) = model("a woman backs away, walking in reverse", duration=3.0, seed=3, progress=False, planner=False)
    assert plain.metadata["planner"] == {"enabled": False}
    contacts = np.asarray(motion.foot_contacts, bool)
    left, right = contacts[:, :2].any(1), contacts[:, 2:].any(1)
    assert (~left).any() and (~right).any()  # both feet leave the floor at some point: it steps


def test_planner_doing_nothing_leaves_the_output_unchanged(model):
    on = model("a person dances happily", duration=1.0, seed=5, progress=False)[0]
    off = model("a person dances happily", duration=1.0, seed=5, progress=False, planner=False)[0]
    assert on.metadata["planner"]["constraints"] == [] and np.array_equal(on.local_rotations, off.local_rotations)
    assert np.array_equal(on.root_translation, off.root_translation)


def test_an_unfamiliar_prompt_the_planner_covers_says_what_it_planned(model, monkeypatch):
    """The vocabulary warning must not say 'expect a motion that does not match' for the parts the
    planner turned into constraints (here every prompt is 'unfamiliar': threshold above 1)."""
    import dataclasses
    import warnings

    from robomotion.generators.vocabulary import UnfamiliarPromptWarning

    monkeypatch.setattr(model, "vocabulary", dataclasses.replace(model.vocabulary, warn_below=1.01))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnfamiliarPromptWarning)
        model("a person walks backward slowly", duration=1.0, seed=0, progress=False)
        model("a person stands still", duration=1.0, seed=0, progress=False)
    planned, unplanned = (str(w.message) for w in caught)
    assert "text planner turned it into root2d constraints" in planned and "does not match" not in planned
    assert "Expect a motion that does not match the text." in unplanned
