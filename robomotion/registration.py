"""Gymnasium ids of robomotion's environments, registered without importing gymnasium early.

``gymnasium.make("robomotion/G1Tracking-v0", ...)`` works as soon as ``robomotion`` has been
imported, in any order with ``gymnasium``: if gymnasium is already loaded the ids are registered at
once; otherwise a one-shot import hook registers them right after gymnasium finishes loading. So
``import robomotion`` (and the validation layer) never pays for importing gymnasium. Entry points are
strings, so registering loads nothing of the environments themselves.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: Environment id -> entry point ("module:attribute"), loaded by gymnasium on ``make``.
ENVIRONMENTS: dict[str, str] = {
    "robomotion/G1Tracking-v0": "robomotion.envs.tracking.env:G1TrackingEnv",
}


def register_environments() -> None:
    """Register every id in :data:`ENVIRONMENTS` with gymnasium (imports gymnasium; idempotent)."""
    import gymnasium

    for env_id, entry_point in ENVIRONMENTS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)


class _RegisterAfterGymnasiumImport(importlib.abc.MetaPathFinder):
    """Finds ``gymnasium`` through the normal finders and registers our ids once it has executed."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "gymnasium":
            return None
        remove_hook()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            register_environments()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_HOOK = _RegisterAfterGymnasiumImport()


def remove_hook() -> None:
    """Take the one-shot import hook off ``sys.meta_path`` (no-op when it is not there)."""
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def install() -> None:
    """Register now if gymnasium is loaded, else when it is first imported."""
    if "gymnasium" in sys.modules:
        register_environments()
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
