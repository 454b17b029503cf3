"""The example constraint files in examples/constraints load, are documented, and the model follows them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robomotion.cli.main import build_parser
from robomotion.generators.constraints import FullBodyConstraint, Root2DConstraint, load_constraints
from robomotion.skeletons import get_skeleton

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "constraints"
EXAMPLES = sorted(FOLDER.glob("*.json"))
#: The README's commands generate 6 s at 30 fps.
FRAMES = 180


def test_there_is_an_example_of_each_kind() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"root_path", "waypoints", "keyframes", "end_effectors"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_on_the_default_skeleton_within_6_seconds_and_is_documented(path: Path) -> None:
    constraints = load_constraints(path, get_skeleton("smplx22"))
    assert constraints and all(c.frame_indices.max() < FRAMES for c in constraints)
    readme = (FOLDER / "README.md").read_text()
    assert f"`{path.name}`" in readme and f"--constraints examples/constraints/{path.name}" in readme


def test_generate_help_lists_the_models_and_points_at_the_examples() -> None:
    parser = build_parser()
    generate = parser._subparsers._group_actions[0].choices["generate"]
    text = generate.format_help()
    assert "robomotion-small (default)" in text and "kimodo-g1-rp" in text
    assert "examples/constraints" in text and "+z forward" in text


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_default_model_follows_each_example(path: Path) -> None:
    import robomotion

    model = robomotion.load_model()
    constraints = load_constraints(path, model.skeleton)
    (motion,) = model("a person walks forward", duration=FRAMES / 30, seed=1, constraints=constraints, progress=False)
    for c in constraints:
        if isinstance(c, Root2DConstraint):
            error = np.linalg.norm(motion.root_translation[c.frame_indices, :2] - c.positions, axis=1)
        else:
            error = np.linalg.norm(motion.root_translation[c.frame_indices] - c.root_positions, axis=1)
        assert error.max() < (0.01 if isinstance(c, FullBodyConstraint) else 0.08), path.name
