"""The README works as written: its Python snippets run, its API table names real things.

* fast: every ```python block compiles and its imports resolve; every call in the "in Python"
  column of the stage table names an existing function; the table's ``gymnasium.make`` line works
  in a fresh interpreter after nothing but ``import robomotion`` (no ``robomotion.envs`` import).
* slow: every ```python block runs as written in a fresh interpreter, in an empty folder, on a
  "fresh machine" (no ``DISPLAY``, no ``MUJOCO_GL``), and writes the files it promises. A block
  that needs an optional package that is not installed is skipped with the package named.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    """The README's ```python code blocks, in order."""
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _fresh_environment() -> dict[str, str]:
    """This environment as a new user's headless machine has it: no display, no MUJOCO_GL."""
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL", "PYTHONPATH")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "HF_HUB_OFFLINE": "1"}


def _run_python(code: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_fresh_environment(), capture_output=True,
                          text=True, timeout=timeout)


def _skip_if_optional_missing(result: subprocess.CompletedProcess) -> None:
    missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", result.stderr)
    if result.returncode and missing and not missing.group(1).startswith("robomotion"):
        pytest.skip(f"the snippet needs the optional package '{missing.group(1)}', which is not installed")


def test_the_readme_has_python_snippets() -> None:
    assert python_blocks()


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_snippet_compiles_and_its_imports_resolve(index: int) -> None:
    tree = ast.parse(python_blocks()[index])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}"), (
                    f"{node.module}.{alias.name}"
                )


def _table_calls() -> list[str]:
    """Dotted names called in the README's "in Python" column, e.g. ``robomotion.retarget.retarget``."""
    calls: list[str] = []
    column = None
    for line in README.read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if not line.startswith("|"):
            column = None
        elif "in Python" in cells:
            column = cells.index("in Python")
        elif column is not None and len(cells) > column:
            calls += re.findall(r"`((?:robomotion|gymnasium)(?:\.\w+)+)\(", cells[column])
    return calls


def test_the_stage_table_names_real_functions() -> None:
    calls = _table_calls()
    assert "robomotion.retarget.retarget" in calls and "gymnasium.make" in calls
    for dotted in calls:
        module_name, _, attribute = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), dotted


def test_gymnasium_make_works_after_import_robomotion_alone(tmp_path) -> None:
    code = (
        "import robomotion, gymnasium, sys\n"
        "from robomotion.robots import get_robot\n"
        "g1_motion = get_robot('g1').home_motion(seconds=1.0)\n"
        "env = gymnasium.make('robomotion/G1Tracking-v0', motion=g1_motion)\n"
        "observation, _ = env.reset(seed=0)\n"
        "print(observation.shape, 'robomotion.envs.tracking.env' in sys.modules)\n"
    )
    result = _run_python(code, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_snippet_runs_as_written_on_a_fresh_machine(index: int, tmp_path) -> None:
    code = python_blocks()[index]
    result = _run_python(code, tmp_path, timeout=600)
    _skip_if_optional_missing(result)
    assert result.returncode == 0, result.stderr[-3000:]
    for written in re.findall(r"save_motion\(\w+, \"([^\"]+)\"", code):
        assert (tmp_path / written).is_file(), written
    for folder in re.findall(r"report_dir=\"([^\"]+)\"", code):
        report = tmp_path / folder
        assert (report / "report.html").is_file() and (report / "report.json").is_file()
        # The video is there, or the console said why it is not.
        assert (report / "reference.mp4").is_file() or "video skipped" in result.stderr
