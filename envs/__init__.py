"""Simulation side of robomotion (installed as ``robomotion.envs``).

* :func:`validate`: can the G1 physically track a reference? Kinematic, dynamic and closed-loop
  checks in MuJoCo, with a pass/warn/fail verdict (``robomotion validate``).
* ``robomotion/G1Tracking-v0``: a Gymnasium imitation environment (BeyondMimic-style tracking),
  registered when this package is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium

ENV_ID = "robomotion/G1Tracking-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="robomotion.envs.tracking:G1TrackingEnv")

_LAZY = {
    "validate": "robomotion.envs.validation",
    "ValidationReport": "robomotion.envs.validation",
    "ValidationConfig": "robomotion.envs.validation",
    "G1TrackingEnv": "robomotion.envs.tracking",
    "TrackingConfig": "robomotion.envs.tracking_config",
    "MotionLibrary": "robomotion.envs.motion_library",
}

__all__ = ["ENV_ID", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'robomotion.envs' has no attribute '{name}'")
