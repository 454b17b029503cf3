"""Entry point of the ``robomotion`` command.

Exit codes: 0 success, 1 a check failed (e.g. a validation verdict of ``fail``), 2 bad input
or usage (a :class:`~robomotion.errors.RobomotionError`, printed as one line).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import MutableMapping, Sequence

from robomotion.errors import RobomotionError

#: Sub-command modules under ``robomotion.cli``, in the order ``--help`` lists them.
SUBCOMMANDS = ("generate", "retarget", "validate", "batch", "convert", "info", "render", "view", "play")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robomotion",
        description="Text to Unitree G1 motion: generate, retarget, validate, convert, render, play policies.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"robomotion.cli.{name}").register(subparsers)
    return parser


def use_egl_when_headless(environ: MutableMapping[str, str] = os.environ) -> None:
    """Pick MuJoCo's EGL backend on a Linux machine with no display, unless ``MUJOCO_GL`` is set.

    MuJoCo reads ``MUJOCO_GL`` when it is first imported and otherwise tries GLFW, which needs an
    X display; so without this, videos of a headless run would silently be skipped. Library code
    never touches the variable: only the command-line entry point does, before MuJoCo is imported.
    """
    headless = not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and headless and "MUJOCO_GL" not in environ:
        environ["MUJOCO_GL"] = "egl"


def main(argv: Sequence[str] | None = None) -> int:
    use_egl_when_headless()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RobomotionError as exc:
        print(f"robomotion {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
