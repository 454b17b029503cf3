"""robomotion: turn a sentence into a motion a Unitree G1 humanoid can perform.

Pipeline: text --generate--> human motion --retarget (IK)--> G1 joint trajectory
--validate (MuJoCo)--> report, and Gymnasium imitation environments on the result.

Conventions everywhere inside the package: z-up world, metres, radians, seconds,
quaternions ``(w, x, y, z)``. Converters at the file-format edges handle other conventions.

Heavy parts (torch generators, MuJoCo) are imported lazily, so ``import robomotion`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robomotion.gl import use_egl_when_headless

# Before anything imports MuJoCo: a headless Linux machine renders with EGL (videos in reports).
use_egl_when_headless()

from robomotion import registration as _registration  # noqa: E402
from robomotion.errors import BackendUnavailableError, FormatError, RobomotionError, UnknownNameError  # noqa: E402
from robomotion.motion import HumanMotion, RobotMotion  # noqa: E402
from robomotion.skeleton import Skeleton  # noqa: E402
from robomotion.skeletons import get_skeleton, list_skeletons  # noqa: E402

_registration.install()  # gymnasium.make("robomotion/G1Tracking-v0") works after `import robomotion`

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "FormatError",
    "HumanMotion",
    "RobomotionError",
    "RobotMotion",
    "Skeleton",
    "UnknownNameError",
    "get_skeleton",
    "list_models",
    "list_skeletons",
    "load_model",
    "load_motion",
    "save_motion",
]

_LAZY = {
    "load_model": "robomotion.generators",
    "list_models": "robomotion.generators",
    "load_motion": "robomotion.formats",
    "save_motion": "robomotion.formats",
}

if TYPE_CHECKING:  # pragma: no cover
    from robomotion.formats import load_motion, save_motion
    from robomotion.generators import list_models, load_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'robomotion' has no attribute '{name}'")
