"""Which OpenGL backend MuJoCo's offscreen renderer uses (``MUJOCO_GL``), chosen before MuJoCo loads.

MuJoCo reads ``MUJOCO_GL`` once, when it is first imported, and otherwise tries GLFW, which
needs an X or Wayland display. On a headless Linux machine (a server, CI, a container) that
means no video at all, so :func:`use_egl_when_headless` picks EGL there unless the user chose a
backend. ``import robomotion`` and the ``robomotion`` command call it; it has no effect once
MuJoCo is imported (then :func:`backend_hint` says what to set).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

__all__ = ["backend_hint", "is_headless", "use_egl_when_headless"]


def is_headless(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Whether this is a Linux machine without an X or Wayland display."""
    return sys.platform.startswith("linux") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def use_egl_when_headless(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set ``MUJOCO_GL=egl`` on a headless Linux machine unless ``MUJOCO_GL`` is already set."""
    if is_headless(environ) and "MUJOCO_GL" not in environ:
        environ["MUJOCO_GL"] = "egl"


def backend_hint(environ: MutableMapping[str, str] = os.environ) -> str:
    """One sentence on how to get offscreen rendering working here (for "video skipped" messages)."""
    chosen = environ.get("MUJOCO_GL")
    if chosen:
        return (
            f"MUJOCO_GL={chosen} could not create an OpenGL context; install its libraries "
            "(EGL: libegl1, OSMesa: libosmesa6) or try MUJOCO_GL=osmesa"
        )
    if is_headless(environ):
        return "no display and MUJOCO_GL unset when MuJoCo was imported; set MUJOCO_GL=egl before importing mujoco"
    return "MuJoCo could not open an OpenGL context; try MUJOCO_GL=egl or MUJOCO_GL=osmesa"
