"""A built wheel ships the robot models, skeletons and every sub-package, and works without the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "out",
    "runs",
    ".pytest_cache",
    ".hypothesis",
    "MUJOCO_LOG.TXT",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the source tree (keeps the working tree free of build/)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=SKIP)
    out = root / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (path,) = out.glob("robomotion-*.whl")
    return path


def test_wheel_contains_models_and_packages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    required = [
        "robomotion/models/unitree_g1/g1.xml",
        "robomotion/models/unitree_g1/scene.xml",
        "robomotion/models/unitree_g1/README.md",
        "robomotion/robots/__init__.py",
        "robomotion/robots/spec.py",
        "robomotion/robots/g1.py",
        "robomotion/robots/kinematics.py",
        "robomotion/retarget/__init__.py",
        "robomotion/envs/__init__.py",
        "robomotion/cli/main.py",
        "robomotion/formats/__init__.py",
        "robomotion/generators/__init__.py",
        "robomotion/py.typed",
        "robomotion/config.py",
        "robomotion/robots/dynamics.py",
    ]
    required += [f"robomotion/models/skeletons/{name}.json" for name in ("soma77", "soma30", "smplx22", "g1skel34")]
    required += [
        f"robomotion/models/robomotion_small/{name}"
        for name in ("model.safetensors", "config.json", "normalization.npz", "MODEL_CARD.md", "LICENSE.txt")
    ]
    required += ["robomotion/retarget/mappings/smplx22.json"]
    missing = [name for name in required if name not in names]
    assert not missing, f"wheel lacks {missing}"
    assert any(name.endswith(".dist-info/licenses/NOTICE") for name in names)
    assert not any(name.startswith(("tests/", "tools/", "benchmarks/")) for name in names)


def test_installed_wheel_loads_the_g1(wheel, tmp_path):
    """Installed as a plain (non-editable) package, the G1 is found through importlib.resources."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    script = (
        "import robomotion, robomotion.robots as r; g = r.get_robot('g1'); "
        "print(robomotion.__file__); print(g.mjcf_path); print(g.num_joints, round(g.total_mass, 2), g.load_model().nu)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    module_file, mjcf, summary = result.stdout.strip().splitlines()
    assert Path(module_file).is_relative_to(target) and Path(mjcf).is_relative_to(target)
    assert summary == "29 33.34 29"
