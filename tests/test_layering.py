"""Data flows one way: formats -> motion types -> generate -> retarget -> validate/envs.

Importing a layer must not pull in a higher one (checked in a fresh interpreter, where
``sys.modules`` shows exactly what an import loaded).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Each layer, and the higher layers it must not load.
LAYERS = {
    "robomotion.motion": ["robomotion.formats", "robomotion.generators", "robomotion.retarget", "robomotion.envs"],
    "robomotion.formats": ["robomotion.generators", "robomotion.retarget", "robomotion.envs"],
    "robomotion.generators": ["robomotion.retarget", "robomotion.envs"],
    "robomotion.retarget": ["robomotion.generators", "robomotion.envs"],
    "robomotion.envs.validation.api": ["robomotion.generators"],
}


def _modules_loaded_by(module: str) -> set[str]:
    code = f"import json, sys, importlib; importlib.import_module({module!r}); print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_a_layer_never_imports_a_higher_one(module: str) -> None:
    loaded = _modules_loaded_by(module)
    higher = [name for name in loaded if any(name == h or name.startswith(h + ".") for h in LAYERS[module])]
    assert not higher, f"importing {module} loaded higher layers: {higher}"
