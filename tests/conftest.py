"""Shared test set-up.

* ``MUJOCO_GL=egl`` is set before anything creates a GL context (headless CPU rendering).
* ``shared_dir`` points at ``../shared`` (facts and open data); tests that need it skip with a
  clear reason when it is absent, as it is on users' machines.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED_DIR = Path(os.environ.get("ROBOMOTION_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``; skips the test when it is not there (users' machines)."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"needs the project's shared data folder {SHARED_DIR}, which is absent here")
    return SHARED_DIR


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator (tests are deterministic)."""
    return np.random.default_rng(0)
