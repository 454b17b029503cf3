"""The layer map of robomotion, and the test that every module keeps to it.

Folders are stages; data flows one way (core -> generate -> retarget -> validate / track, with the
visual layer, batch runs and the CLI on top). :data:`LAYERS` is the one definition of the map: which
modules form each layer and which layers it may import. It is rendered into
``docs/architecture.md`` (``python tests/test_layering.py`` rewrites that block; a test checks it).

Two checks:

* static: every module's imports, read with :mod:`ast` (imports inside functions and
  ``TYPE_CHECKING`` blocks included), against the map and :data:`FORBIDDEN_PACKAGES`;
* at run time: importing a layer in a fresh interpreter loads no higher layer (``sys.modules``),
  which also sees what a lazy ``__getattr__`` would not.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> the package it installs as (``[tool.setuptools] package-dir`` in pyproject.toml).
PACKAGE_DIRS = {"robomotion": "robomotion", "retarget": "robomotion.retarget", "envs": "robomotion.envs",
                "models": "robomotion.models"}


@dataclass(frozen=True)
class Layer:
    """One stage: its folder, its job, the modules in it (prefixes) and the layers it may import."""

    folder: str
    job: str
    modules: tuple[str, ...]
    may_import: tuple[str, ...] = ()


#: The layer map. A module belongs to the layer with the longest matching prefix; a layer may
#: import itself and the layers in ``may_import``. ``facade`` modules re-export lazily and may import anything.
LAYERS: dict[str, Layer] = {
    "core": Layer(
        "`robomotion/*.py`, `robomotion/formats/`, `robomotion/robots/`, `models/`",
        "base types and I/O: motion, skeletons, rotations, foot contacts, findings, configs, errors, atomic "
        "writes, file formats, robot models (kinematics, dynamics), shipped data",
        ("robomotion.atomic", "robomotion.config", "robomotion.errors", "robomotion.findings",
         "robomotion.floor", "robomotion.foot_contacts", "robomotion.gl", "robomotion.jsonio", "robomotion.metrics",
         "robomotion.motion", "robomotion.pose_fit",
         "robomotion.registration", "robomotion.resources", "robomotion.rotations", "robomotion.skeleton",
         "robomotion.skeletons", "robomotion.formats", "robomotion.robots", "robomotion.models"),
    ),
    "generate": Layer(
        "`robomotion/generators/`", "text -> human motion: model API, robomotion-small, Kimodo backend, training",
        ("robomotion.generators",), ("core",),
    ),
    "retarget": Layer(
        "`retarget/`", "human motion -> robot joint trajectory (whole-clip IK)", ("robomotion.retarget",), ("core",),
    ),
    "visual": Layer(
        "`robomotion/visual/`", "videos, contact sheets, the web viewer, constraint markers",
        ("robomotion.visual",), ("core", "generate"),
    ),
    "validate": Layer(
        "`envs/validation/`", "can the robot track this motion? checks, rollouts, verdict, report",
        ("robomotion.envs.validation",), ("core", "visual"),
    ),
    "track": Layer(
        "`envs/tracking/`", "Gymnasium imitation environment: MDP, reward and termination terms, sampler",
        ("robomotion.envs.tracking",), ("core", "visual"),
    ),
    "batch": Layer(
        "`robomotion/batch/`", "many clips through the stages in parallel",
        ("robomotion.batch",), ("core", "generate", "retarget", "visual", "validate", "track"),
    ),
    "cli": Layer(
        "`robomotion/cli/`", "the `robomotion` command: one module per sub-command",
        ("robomotion.cli",), ("core", "generate", "retarget", "visual", "validate", "track", "batch"),
    ),
    "facade": Layer(
        "`robomotion/__init__.py`, `robomotion/__main__.py`, `envs/__init__.py`",
        "lazy re-exports of the public names; `python -m robomotion`",
        ("robomotion", "robomotion.__main__", "robomotion.envs"),
        ("core", "generate", "retarget", "visual", "validate", "track", "batch", "cli"),
    ),
}

#: Third-party packages a layer must never import (``validate`` runs without gymnasium).
FORBIDDEN_PACKAGES: dict[str, tuple[str, ...]] = {"validate": ("gymnasium",)}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str | None:
    """The layer a ``robomotion`` module belongs to (longest prefix), None outside the package."""
    best, length = None, -1
    for name, layer in LAYERS.items():
        for prefix in layer.modules:
            if _within(module, prefix) and len(prefix) > length:
                best, length = name, len(prefix)
    return best


def package_modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, from the source folders."""
    modules = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            modules[".".join([package, *parts])] = path
    return modules


def imported_names(module: str, path: Path, known: set[str] | dict) -> set[str]:
    """Dotted names ``module`` imports anywhere in its file (``from a import b`` counts ``a.b`` when it is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                names.add(full if full in known else source)
    return names


def violations() -> list[str]:
    """Every import that breaks the layer map, as ``file: layer imports name (layer)`` lines."""
    modules = package_modules()
    found = []
    for module, path in modules.items():
        own = layer_of(module)
        assert own is not None, f"{module} is in no layer: add it to LAYERS in tests/test_layering.py"
        allowed = {own, *LAYERS[own].may_import}
        for name in sorted(imported_names(module, path, modules)):
            target = layer_of(name) if _within(name, "robomotion") else None
            where = path.relative_to(ROOT)
            if target is not None and target not in allowed:
                found.append(f"{where}: {own} imports {name} ({target}); {own} may import {sorted(allowed)}")
            top = name.split(".")[0]
            if top in FORBIDDEN_PACKAGES.get(own, ()):
                found.append(f"{where}: {own} imports {top}, which it must never load")
    return found


def test_every_import_keeps_to_the_layer_map() -> None:
    problems = violations()
    assert not problems, "layering broken (move shared code down a layer, or import it from the CLI):\n" + "\n".join(
        problems
    )


def test_the_rules_the_map_implies() -> None:
    """The map encodes the house rules; spelled out so that an edit of the map cannot drop one silently."""

    def may(source: str, target: str) -> bool:
        return target == source or target in LAYERS[source].may_import

    applications = ("generate", "retarget", "visual", "validate", "track", "batch", "cli")
    assert not any(may("core", layer) for layer in applications)
    assert not may("retarget", "generate") and not may("retarget", "validate") and not may("retarget", "track")
    assert not may("validate", "track") and not may("track", "validate")
    assert not any(may(layer, "cli") for layer in LAYERS if layer not in ("cli", "facade"))
    assert "gymnasium" in FORBIDDEN_PACKAGES["validate"]


def test_the_static_check_sees_imports_inside_functions(tmp_path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from __future__ import annotations\n"
        "def late():\n    from robomotion.envs.tracking import env\n    import gymnasium.spaces\n"
        "from .. import motion\nfrom ..cli.main import main\n"
    )
    names = imported_names("robomotion.retarget.mod", source, {"robomotion.envs.tracking.env", "robomotion.motion"})
    assert {"robomotion.envs.tracking.env", "gymnasium.spaces", "robomotion.motion", "robomotion.cli.main"} <= names
    assert layer_of("robomotion.envs.tracking.env") == "track" and layer_of("robomotion.envs") == "facade"
    assert layer_of("robomotion.retarget.api") == "retarget" and layer_of("robomotion.formats.bvh") == "core"


def render_layer_table() -> str:
    """The layer map as the Markdown table in docs/architecture.md."""
    rows = ["| layer | folder | job | may import |", "|---|---|---|---|"]
    for name, layer in LAYERS.items():
        rows.append(f"| **{name}** | {layer.folder} | {layer.job} | {', '.join(layer.may_import) or '—'} |")
    return "\n".join(rows)


BEGIN, END = "<!-- layers: generated by `python tests/test_layering.py` -->", "<!-- /layers -->"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_the_architecture_doc_shows_this_map() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.DOTALL)
    assert block, f"docs/architecture.md lacks the {BEGIN} block"
    assert block.group(1) == render_layer_table(), "docs/architecture.md is stale: run python tests/test_layering.py"


#: Run-time check: importing a module must not load these (fresh interpreter, ``sys.modules``).
NOT_LOADED = {
    "robomotion.motion": ["robomotion.formats", "robomotion.generators", "robomotion.retarget", "robomotion.envs"],
    "robomotion.formats": ["robomotion.generators", "robomotion.retarget", "robomotion.envs", "robomotion.visual"],
    "robomotion.retarget": ["robomotion.generators", "robomotion.envs", "robomotion.cli"],
    "robomotion.envs.validation": ["robomotion.generators", "robomotion.envs.tracking", "gymnasium", "robomotion.cli"],
    "robomotion.floor": ["robomotion.formats", "robomotion.generators", "robomotion.retarget", "robomotion.envs"],
}


def _modules_loaded_by(module: str) -> set[str]:
    code = f"import json, sys, importlib; importlib.import_module({module!r}); print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(NOT_LOADED))
def test_importing_a_layer_loads_no_higher_one(module: str) -> None:
    loaded = _modules_loaded_by(module)
    higher = [name for name in loaded if any(_within(name, h) for h in NOT_LOADED[module])]
    assert not higher, f"importing {module} loaded higher layers: {higher}"


def _write_doc() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{render_layer_table()}\n{END}"
    pattern = re.escape(BEGIN) + r".*?" + re.escape(END)
    text = re.sub(pattern, lambda _: block, text, flags=re.DOTALL) if BEGIN in text else text + "\n" + block + "\n"
    ARCHITECTURE.write_text(text, encoding="utf-8")
    print(f"wrote the layer table into {ARCHITECTURE}")


if __name__ == "__main__":
    _write_doc()
