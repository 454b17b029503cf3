"""Robot models shipped with robomotion (currently the Unitree G1 29-DoF).

::

    from robomotion.robots import get_robot
    g1 = get_robot("g1")          # RobotSpec parsed from models/unitree_g1/g1.xml (cached)
    model = g1.load_model()       # mujoco.MjModel of the scene (floor, light, cameras)

See :mod:`robomotion.robots.spec` for the fields and :mod:`robomotion.robots.kinematics` for
forward kinematics of a :class:`~robomotion.motion.RobotMotion`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from robomotion.errors import UnknownNameError
from robomotion.robots.g1 import load_g1_spec
from robomotion.robots.spec import BodyRoles, RobotSpec

__all__ = ["BodyRoles", "RobotSpec", "get_robot", "list_robots"]

_LOADERS: dict[str, Callable[[], RobotSpec]] = {"g1": load_g1_spec}


def list_robots() -> list[str]:
    """Names accepted by :func:`get_robot`."""
    return sorted(_LOADERS)


@cache
def get_robot(name: str) -> RobotSpec:
    """The :class:`RobotSpec` of robot ``name`` (parsed once from its MJCF, then cached)."""
    if name not in _LOADERS:
        raise UnknownNameError("robot", name, list_robots())
    return _LOADERS[name]()
