"""Text-to-motion generators behind one API.

>>> import robomotion
>>> model = robomotion.load_model()                  # "robomotion-small", offline on a CPU
>>> motions = model("A person walks forward.", duration=5.0, num_samples=2, seed=0)

Built-in names (:func:`list_models`):

* ``robomotion-small``: the embedded default (SMPL-X 22 skeleton, 30 fps), trained by us.
* ``kimodo-soma-rp``, ``kimodo-soma-seed``, ``kimodo-g1-rp``, ``kimodo-g1-seed``,
  ``kimodo-smplx-rp``: NVIDIA Kimodo through the official ``kimodo`` package (not bundled;
  :class:`~robomotion.errors.BackendUnavailableError` says how to install it). Kimodo's own
  spellings (``Kimodo-SOMA-RP-v1.1``, ``nvidia/Kimodo-G1-RP-v1``, ``kimodo_g1_rp``) work too.

Other packages add models through the entry-point group ``robomotion.generators``: the entry
point's name is the model name, its object a callable ``factory(name, device) -> Generator``
(a :class:`~robomotion.generators.base.Generator` subclass). For example, in a plug-in's
``pyproject.toml``::

    [project.entry-points."robomotion.generators"]
    motiongpt-t2m = "robomotion_motiongpt:load"
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib.metadata import entry_points

from robomotion.errors import UnknownNameError
from robomotion.generators.base import GenerationRequest, Generator

__all__ = ["DEFAULT_MODEL", "ENTRY_POINT_GROUP", "Generator", "GenerationRequest", "list_models", "load_model", "resolve_model_name"]

DEFAULT_MODEL = "robomotion-small"
ENTRY_POINT_GROUP = "robomotion.generators"

#: Built-in model names -> "module:factory" (loaded lazily).
_BUILTIN = {
    "robomotion-small": "robomotion.generators.robomotion_small:load",
    "kimodo-soma-rp": "robomotion.generators.kimodo_backend:load",
    "kimodo-soma-seed": "robomotion.generators.kimodo_backend:load",
    "kimodo-g1-rp": "robomotion.generators.kimodo_backend:load",
    "kimodo-g1-seed": "robomotion.generators.kimodo_backend:load",
    "kimodo-smplx-rp": "robomotion.generators.kimodo_backend:load",
}


def _plugins() -> dict:
    return {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def list_models() -> list[str]:
    """Names accepted by :func:`load_model`: built-ins and installed plug-ins."""
    return sorted(set(_BUILTIN) | set(_plugins()))


def resolve_model_name(name: str | None) -> str:
    """The registry key for ``name`` (case-insensitive; Kimodo spellings map to kimodo-* keys).

    Raises:
        UnknownNameError: no such model.
    """
    if name is None:
        return DEFAULT_MODEL
    key = str(name).strip().lower().replace("_", "-")
    key = key.removeprefix("nvidia/")
    known = list_models()
    if key in known:
        return key
    versionless = re.sub(r"-v\d+(\.\d+)*$", "", key)
    if versionless in known:
        return versionless
    raise UnknownNameError("model", str(name), known)


def load_model(name: str | None = None, device: str = "cpu") -> Generator:
    """Load a generator by name (default ``robomotion-small``) on ``device``.

    Raises:
        UnknownNameError: unknown name (the message lists the known ones).
        BackendUnavailableError: the model's backend or weights are not installed.
    """
    key = resolve_model_name(name)
    plugins = _plugins()
    if key in _BUILTIN:
        module, attr = _BUILTIN[key].split(":")
        factory: Callable = getattr(importlib.import_module(module), attr)
        return factory(str(name) if name is not None and key.startswith("kimodo") else key, device)
    return plugins[key].load()(key, device)
