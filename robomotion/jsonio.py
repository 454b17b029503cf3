"""JSON in and out, safely: user files give one-line errors, and what we write is strict JSON.

* :func:`read_json` refuses (with a :class:`~robomotion.errors.FormatError` naming the file)
  what ``json.loads`` would turn into a traceback or a silent surprise: invalid UTF-8, invalid
  JSON, nesting deeper than :data:`MAX_DEPTH`, ``NaN``/``Infinity`` literals, numbers too large
  for a float (``1e999``) and integers of thousands of digits.
* :func:`dumps` writes strict JSON (RFC 8259): non-finite floats become ``null``, NumPy
  scalars and arrays become numbers and lists, paths become strings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from robomotion.errors import FormatError

__all__ = ["MAX_DEPTH", "dumps", "finite_json", "read_json"]

#: Deepest nesting of arrays/objects accepted in a user's JSON file (Kimodo files use 4).
MAX_DEPTH = 32


def _nesting_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting outside strings (a linear scan; no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"number {token} is too large for a 64-bit float")
    return value


def _no_constant(token: str) -> float:
    raise ValueError(f"{token} is not valid JSON (write null or a number)")


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """The parsed contents of a user's JSON file.

    Args:
        path: the file.
        what: what the file is, for messages (e.g. ``"constraints file"``).

    Raises:
        FormatError: missing or unreadable file, invalid UTF-8 or JSON, too deep, or a number out of range.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError("file not found" if not path.exists() else f"is not a file (expected a {what})", path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"is not a UTF-8 {what} ({exc.reason} at byte {exc.start})", path) from None
    depth = _nesting_depth(text)
    if depth > MAX_DEPTH:
        raise FormatError(f"is nested {depth} levels deep; a {what} needs at most {MAX_DEPTH}", path)
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(f"is not valid JSON ({exc})", path) from None
    except (ValueError, RecursionError) as exc:  # huge numbers, NaN literals, 4300+ digit integers
        raise FormatError(f"is not a valid {what}: {exc}", path) from None


def finite_json(value: Any) -> Any:
    """``value`` with NumPy types as Python ones, paths as strings and NaN/inf floats as ``None``."""
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, np.generic):
        return finite_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON text of ``value`` (see :func:`finite_json`); ``options`` go to :func:`json.dumps`."""
    return json.dumps(finite_json(value), allow_nan=False, **options)
