"""Locate files shipped in ``models/`` (installed as ``robomotion.models``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from robomotion.errors import RobomotionError


def model_path(*parts: str) -> Path:
    """Path of a shipped data file, e.g. ``model_path("unitree_g1", "scene.xml")``.

    Works for editable and regular (wheel) installs; raises if the file is missing, which
    means the installation is broken.
    """
    path = Path(str(resources.files("robomotion.models").joinpath(*parts)))
    if not path.exists():
        raise RobomotionError(f"shipped data file missing: {path} (reinstall robomotion)")
    return path
