"""Shared reading helpers for the format modules: safe NPZ/CSV loading and array checks.

Every failure becomes a :class:`~robomotion.errors.FormatError` naming the file, the field and
what was expected. NPZ files are always opened with ``allow_pickle=False``: a motion file never
needs Python objects, and unpickling untrusted files can run code.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import MAX_FPS, MAX_FRAMES, shape_text

__all__ = [
    "MAX_FPS",
    "MAX_FRAMES",
    "MAX_NPZ_BYTES",
    "check_npz_sizes",
    "load_npz",
    "npz_keys",
    "read_first_line",
    "is_header",
    "require_keys",
    "float_array",
    "frame_rate",
    "scalar",
    "text_list",
    "read_text",
    "parse_csv_rows",
    "errors_name",
]


#: Largest total size (bytes) the arrays of one ``.npz`` may declare. A motion file is megabytes;
#: a few hundred compressed kilobytes can declare gigabytes (a "zip bomb"), so sizes are checked
#: from the array headers before anything is decompressed. 1 GiB holds about an hour of a
#: 77-joint Kimodo motion at 30 fps.
MAX_NPZ_BYTES = 1 << 30


@contextlib.contextmanager
def errors_name(path: str | Path) -> Iterator[None]:
    """Re-raise :class:`FormatError`\\ s that do not name a file with ``path`` added.

    Motion constructors validate shapes and finiteness without knowing the file; readers wrap
    them in this so the user sees which file was wrong.
    """
    try:
        yield
    except FormatError as exc:
        if exc.path is not None:
            raise
        named = FormatError(str(exc), path)
        named.field = exc.field
        raise named from exc


def _check_npz_header(path: Path) -> None:
    if not path.is_file():
        raise FormatError("file not found", path)
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise FormatError("is a single .npy array, expected an .npz archive", path)
    if not magic.startswith(b"PK"):
        raise FormatError("is not an .npz archive (no zip header; expected numpy.savez output)", path)


def npz_keys(path: str | Path) -> list[str]:
    """The array names in an ``.npz`` archive (reads only the zip directory)."""
    path = Path(path)
    _check_npz_header(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return list(archive.files)
    except Exception as exc:
        raise FormatError(
            f"is not a readable .npz archive (truncated or corrupt: {type(exc).__name__}: {exc})", path
        ) from None


def _declared_sizes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every ``.npy`` member, read from the array headers (nothing decompressed)."""
    declared: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=10_000)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=10_000)
            declared[info.filename[: -len(".npy")]] = (tuple(shape), dtype)
    return declared


def check_npz_sizes(path: str | Path) -> None:
    """Refuse an ``.npz`` whose arrays declare more than :data:`MAX_NPZ_BYTES` or :data:`MAX_FRAMES`.

    Raises:
        FormatError: naming the largest array and its declared shape.
    """
    path = Path(path)
    try:
        declared = _declared_sizes(path)
    except Exception as exc:  # BadZipFile, a corrupt .npy header, EOFError, zlib.error ...
        raise FormatError(
            f"is not a readable .npz archive (truncated or corrupt: {type(exc).__name__}: {exc})", path
        ) from None
    total = 0
    for key, (shape, dtype) in declared.items():
        if dtype.hasobject:
            continue  # refused as pickled objects when loaded
        elements = int(np.prod(shape, dtype=object))  # Python ints: a forged shape must not overflow
        size = elements * dtype.itemsize
        total += size
        if size > MAX_NPZ_BYTES or total > MAX_NPZ_BYTES:
            raise FormatError(
                f"declares {total / 2**30:.1f} GiB of arrays (array shape {shape}, {dtype}), more than the "
                f"{MAX_NPZ_BYTES / 2**30:.0f} GiB limit for a motion file (robomotion.formats._io.MAX_NPZ_BYTES)",
                path,
                field=key,
            )
        if len(shape) >= 2 and max(shape[:2]) > MAX_FRAMES:
            raise FormatError(
                f"declares shape {shape}: more than {MAX_FRAMES} frames (robomotion.formats._io.MAX_FRAMES)",
                path,
                field=key,
            )


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive, read eagerly and without unpickling.

    Declared sizes are checked first (:func:`check_npz_sizes`), so a small file that would
    decompress to gigabytes is refused before any memory is used.

    Raises:
        FormatError: the file is missing, not a zip archive, truncated, too large once
            decompressed, or holds pickled objects.
    """
    path = Path(path)
    _check_npz_header(path)
    check_npz_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FormatError(
                "holds pickled Python objects; robomotion never unpickles files (it could run code). "
                "Save plain numeric and string arrays",
                path,
            ) from None
        raise FormatError(f"is not a readable .npz archive ({exc})", path) from None
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, OSError on truncated/corrupt archives
        raise FormatError(
            f"is not a readable .npz archive (truncated or corrupt: {type(exc).__name__}: {exc})", path
        ) from None


def require_keys(data: dict[str, np.ndarray], keys: Sequence[str], path: str | Path, what: str) -> None:
    """Raise a :class:`FormatError` listing the missing keys of a ``what`` file."""
    missing = [k for k in keys if k not in data]
    if missing:
        raise FormatError(f"missing {missing} for a {what} file (it has {sorted(data)})", path, field=missing[0])


#: Largest magnitude a stored motion number may have (metres, centimetres, radians, degrees alike).
MAX_MAGNITUDE = 1e7


def float_array(data: dict[str, np.ndarray], key: str, shape: tuple[int | None, ...], path: str | Path) -> np.ndarray:
    """``data[key]`` as float64 with the given shape (``None`` = any size), finite, at least one frame."""
    value = data[key]
    if value.dtype.kind not in "fiub":
        raise FormatError(f"expected numbers, got dtype {value.dtype}", path, field=key)
    if value.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, value.shape)):
        raise FormatError(f"expected shape {shape_text(shape)}, got {value.shape}", path, field=key)
    if value.ndim and value.shape[0] == 0:
        raise FormatError("has zero frames", path, field=key)
    value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        bad = np.argwhere(~np.isfinite(value))[0]
        raise FormatError(f"contains NaN or inf (first at index {tuple(int(i) for i in bad)})", path, field=key)
    if value.size and np.abs(value).max() > MAX_MAGNITUDE:  # would overflow products and squares into inf/NaN
        bad = np.unravel_index(int(np.abs(value).argmax()), value.shape)
        raise FormatError(f"value {value[bad]:.3g} at index {tuple(int(i) for i in bad)} is beyond any motion's "
                          f"range (|x| <= {MAX_MAGNITUDE:.0e})", path, field=key)
    return value


def frame_rate(data: dict[str, np.ndarray], key: str, path: str | Path, default: float | None = None) -> float:
    """A stored frame rate: a positive number of frames per second, at most :data:`~robomotion.motion.MAX_FPS`."""
    return scalar(data, key, path, default=default, maximum=MAX_FPS)


def scalar(
    data: dict[str, np.ndarray],
    key: str,
    path: str | Path,
    default: float | None = None,
    maximum: float | None = None,
) -> float:
    """A positive finite number (at most ``maximum``) stored as a 0-d or 1-element array (``default`` when absent)."""
    if key not in data:
        if default is None:
            raise FormatError("missing", path, field=key)
        return float(default)
    value = np.asarray(data[key])
    if value.size != 1 or value.dtype.kind not in "fiu":
        raise FormatError(f"expected one number, got {value.dtype} of shape {value.shape}", path, field=key)
    number = float(value.reshape(()))
    if not np.isfinite(number) or number <= 0:
        raise FormatError(f"expected a positive number, got {number}", path, field=key)
    if maximum is not None and number > maximum:
        raise FormatError(f"expected at most {maximum:g}, got {number:g}", path, field=key)
    return number


def text_list(data: dict[str, np.ndarray], key: str) -> list[str]:
    """A string array (0-d or 1-d) as a list of Python strings; empty when absent."""
    if key not in data:
        return []
    value = np.asarray(data[key])
    if value.dtype.kind not in "US":
        return []
    return [str(v) for v in value.reshape(-1)]


def read_text(path: str | Path) -> str:
    """A text file's contents (UTF-8, BOM tolerated)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("file not found", path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"is not a UTF-8 text file ({exc.reason} at byte {exc.start})", path) from None


def read_first_line(path: str | Path) -> str:
    """The first non-blank line of a text file (stripped); empty for an empty file."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    return line.strip()
    except OSError as exc:
        raise FormatError(f"cannot be read ({exc})", path) from None
    return ""


def is_header(line: str) -> bool:
    """Whether a CSV line is a header: its first cell is not a number (``nan``/``inf`` count as numbers)."""
    try:
        float(line.split(",")[0])
    except ValueError:
        return bool(line.strip())
    return False


def parse_csv_rows(lines: Sequence[str], columns: int, path: str | Path, first_line: int = 1) -> np.ndarray:
    """(T, columns) floats from comma-separated lines; names the first bad line and column.

    Args:
        lines: the data lines (no header), blank lines already removed.
        columns: required number of values per line.
        first_line: 1-based line number of ``lines[0]`` in the file, for messages.
    """
    if not lines:
        raise FormatError("has zero frames (no data rows)", path, field="rows")
    cells = [line.split(",") for line in lines]
    for number, row in enumerate(cells, start=first_line):
        if len(row) != columns:
            raise FormatError(f"line {number} has {len(row)} columns, expected {columns}", path, field="columns")
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        for number, row in enumerate(cells, start=first_line):
            for column, cell in enumerate(row):
                try:
                    float(cell)
                except ValueError:
                    raise FormatError(
                        f"line {number}, column {column}: '{cell.strip()}' is not a number", path, field="values"
                    ) from None
        raise
    if not np.all(np.isfinite(values)):
        row, column = np.argwhere(~np.isfinite(values))[0]
        raise FormatError(f"line {row + first_line}, column {column} is NaN or inf", path, field="values")
    return values
