"""Simulation side of robomotion (installed as ``robomotion.envs``).

* :func:`validate`: can the G1 physically track a reference? Kinematic, dynamic and closed-loop
  checks in MuJoCo, with a pass/warn/fail verdict (``robomotion validate``).
* ``robomotion/G1Tracking-v0``: a Gymnasium imitation environment (BeyondMimic-style tracking),
  registered when ``robomotion`` is imported (:mod:`robomotion.registration`).
* :func:`play`: run an ONNX tracking policy (mjlab export) on CPU MuJoCo and measure it
  (``robomotion play``); :class:`Policy` wraps the ONNX file.

Two rooms that never import each other: :mod:`robomotion.envs.validation` and
:mod:`robomotion.envs.tracking`. Importing validation does not import gymnasium.
"""

from __future__ import annotations

import importlib
from typing import Any

ENV_ID = "robomotion/G1Tracking-v0"

_LAZY = {
    "validate": "robomotion.envs.validation.api",
    "ValidationReport": "robomotion.envs.validation.api",
    "ValidationConfig": "robomotion.envs.validation.config",
    "G1TrackingEnv": "robomotion.envs.tracking.env",
    "TrackingConfig": "robomotion.envs.tracking.config",
    "MotionLibrary": "robomotion.envs.tracking.motion_library",
    "play": "robomotion.envs.tracking.play",
    "PlayResult": "robomotion.envs.tracking.play",
    "Policy": "robomotion.envs.tracking.policy",
}

__all__ = ["ENV_ID", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'robomotion.envs' has no attribute '{name}'")
