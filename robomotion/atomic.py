"""Atomic file writing: write to a temporary file in the target folder, then rename.

A crash or an exception while writing never leaves a half-written output behind, and an
existing file is only replaced once the new one is complete. A process killed mid-write
(``kill -9``, power loss) leaves its hidden temporary file (``.<name>.<pid>.<random><suffix>``);
the next write to the same target removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from robomotion.errors import FormatError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _prepare_folder(path: Path) -> None:
    """Create ``path``'s folder; refuse (one-line :class:`FormatError`) a folder target or a file parent."""
    if path.is_dir():
        raise FormatError("is a folder; give a file name to write", path)
    for parent in (path.parent, *path.parent.parents):
        if parent.exists() and not parent.is_dir():
            raise FormatError(f"cannot write here: '{parent}' is a file, not a folder", path)
    path.parent.mkdir(parents=True, exist_ok=True)


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):  # alive but not ours, or unknowable: keep its file
        return False
    return False


def _remove_stale_temporaries(path: Path, suffix: str) -> None:
    """Delete temporary files of earlier writes to ``path`` whose writing process no longer runs."""
    if os.name != "posix":
        return
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[A-Za-z0-9_]{{8}}{re.escape(suffix)}")
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*"))
    except OSError:
        return
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match and int(match.group(1)) != os.getpid() and _process_is_gone(int(match.group(1))):
            candidate.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file keeps ``path``'s suffix (or ``suffix``) so libraries that look at the
    extension (numpy, imageio) behave as for the final name. On any exception the temporary
    file is removed and the exception propagates.
    """
    path = Path(path)
    suffix = suffix if suffix is not None else path.suffix
    _prepare_folder(path)
    _remove_stale_temporaries(path, suffix)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the output the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only if the block succeeds."""
    binary = "b" in mode
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if binary else encoding) as handle:
            yield handle


def save_npz(path: str | Path, compressed: bool = False, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` to ``path`` as an ``.npz`` atomically (``numpy.savez`` layout).

    Raises:
        FormatError: a float array holds NaN or inf (every reader refuses those, so the file
            would not read back; e.g. velocities of a motion with absurdly large positions).
    """
    path = Path(path)
    for key, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            raise FormatError("would hold NaN or inf (are the motion's values absurdly large?)", path, field=key)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as handle:
            (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)
