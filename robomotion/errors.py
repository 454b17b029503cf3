"""Errors raised by robomotion.

Every user-facing failure is a :class:`RobomotionError`; the CLI turns it into a one-line
message and exit code 2. Messages name the file, the field and what was expected, so a user
can fix the input without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path


class RobomotionError(Exception):
    """Base class for every error robomotion raises on purpose."""


class FormatError(RobomotionError, ValueError):
    """A file or array does not match the format it claims to be.

    Args:
        message: what is wrong and what was expected.
        path: the offending file, if any.
        field: the key, column or JSON entry that is wrong, if any.
    """

    def __init__(self, message: str, path: str | Path | None = None, field: str | None = None):
        self.path = None if path is None else Path(path)
        self.field = field
        where = []
        if path is not None:
            where.append(str(path))
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnknownNameError(RobomotionError, KeyError):
    """A name (model, skeleton, joint, robot, format) is not known; lists the valid ones."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]):
        self.kind = kind
        self.name = name
        self.known = list(known)
        shown = ", ".join(self.known[:40]) + (" ..." if len(self.known) > 40 else "")
        super().__init__(f"unknown {kind} '{name}'; expected one of: {shown}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class BackendUnavailableError(RobomotionError, ImportError):
    """An optional backend (e.g. Kimodo) or its weights are not installed; says how to fix it."""
