"""Entry point of the ``robomotion`` command.

Exit codes:

* 0: success (a validation verdict of ``pass`` or ``warn``);
* 1: a check failed (a validation verdict of ``fail``, a clip of a folder that failed, a fall in ``play``);
* 2: bad input or usage: a :class:`~robomotion.errors.RobomotionError` or a file-system error
  (missing file, output path that is a folder, no permission), printed as one line;
* 3: an internal error (a bug in robomotion): one line saying where to report it
  (``ROBOMOTION_DEBUG=1`` prints the traceback);
* 130: interrupted (Ctrl-C); 141: the output pipe was closed (e.g. ``robomotion info x --json | head``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from robomotion.errors import RobomotionError
from robomotion.gl import use_egl_when_headless

__all__ = ["EXIT_FAIL", "EXIT_INTERNAL", "EXIT_USAGE", "ISSUES_URL", "SUBCOMMANDS", "build_parser", "main"]

#: Sub-command modules under ``robomotion.cli``, in the order ``--help`` lists them.
SUBCOMMANDS = ("generate", "models", "retarget", "validate", "batch", "convert", "info", "render", "view", "play")
#: Exit codes (see the module docstring).
EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 3, 130, 141
#: Where users report internal errors.
ISSUES_URL = "https://github.com/robomotion/robomotion/issues"


def _version() -> str:
    """The installed package's version (the CLI may not import the ``robomotion`` facade)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("robomotion")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robomotion",
        description="Text to Unitree G1 motion: generate, retarget, validate, convert, render, play policies.",
        epilog="Exit codes: 0 ok, 1 a check failed (a validation verdict of fail, a fall in play), 2 bad input or "
        "usage, 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"robomotion {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"robomotion.cli.{name}").register(subparsers)
    return parser


def _os_error_message(exc: OSError) -> str:
    """``PATH: reason`` for a file-system error (``[Errno 21] Is a directory`` → ``is a directory``)."""
    reason = (exc.strerror or str(exc)).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not fail again on a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by an object without a file descriptor
        pass


class _NoteHandler(logging.Handler):
    """Prints log records as ``PREFIX: note: message`` on the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


def _print_library_notes(prefix: str) -> None:
    """Show the library's warnings (logger ``robomotion``, e.g. a skipped video) as ``PREFIX: note: ...`` lines."""
    logger = logging.getLogger("robomotion")
    handler = next((h for h in logger.handlers if isinstance(h, _NoteHandler)), None)
    if handler is None:
        handler = _NoteHandler(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
    handler.setFormatter(logging.Formatter(f"{prefix}: note: %(message)s"))


def main(argv: Sequence[str] | None = None) -> int:
    use_egl_when_headless()
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"robomotion {args.command}"
    _print_library_notes(prefix)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except RobomotionError as exc:
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # missing files, folders where files are expected, permissions, full disks
        print(f"{prefix}: error: {_os_error_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print(f"{prefix}: error: out of memory (is the input far larger than a motion file?)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say where to report it instead of a bare traceback
        if os.environ.get("ROBOMOTION_DEBUG"):
            traceback.print_exc()
        print(
            f"{prefix}: internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in robomotion {_version()}. Please report it at {ISSUES_URL} with the command you "
            f"ran{'' if os.environ.get('ROBOMOTION_DEBUG') else ' and the traceback (rerun with ROBOMOTION_DEBUG=1)'}.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
