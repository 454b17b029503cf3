"""Fuzzing every reader (hypothesis): a clean error or a valid motion, in bounded time and memory.

Each example takes a valid sample file of one input kind (:mod:`motion_samples`), damages it the
way real files get damaged (a changed token or number, a dropped or duplicated line, a cut, an
array of another shape, dtype or value, a dropped key, flipped bytes) and runs
``robomotion convert`` on it. The outcome must be exit code 0 with an output that reads back, or
exit code 2 with a one-line error and no file written; never a traceback, an internal error, a
hang (a 30 s alarm) or more than 300 MB of memory (tracemalloc, which sees NumPy's arrays).

The default run tries a few examples per input kind; ``-m slow`` runs many more.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from motion_samples import SAMPLES

from robomotion.cli.main import main
from robomotion.formats import load_motion

#: Most memory one conversion of a few-frame sample may allocate (the real ones use < 30 MB).
MEMORY_LIMIT = 300 * 2**20
#: A conversion still running after this long is a hang.
HANG_S = 30
TEXT_KINDS = [kind for kind in SAMPLES if kind.startswith(("bvh", "g1-csv", "seed-csv"))]
NPZ_KINDS = [kind for kind in SAMPLES if kind not in TEXT_KINDS]
#: Tokens that broke parsers before: negative/huge counts, non-numbers, block keywords.
HOSTILE_TOKENS = ["-2", "-1", "0", "7", "2.5", "1e309", "-1e300", "1e-320", "nan", "inf", "-inf", "x", "", "{", "}",
                  "ROOT", "JOINT", "End", "CHANNELS", "OFFSET", "MOTION", "Frames:", "1000000000", "Xrotation", ","]
HOSTILE_VALUES = [np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0, 1e-300, -1.0, 2.0**31]


@contextlib.contextmanager
def _bounded() -> Iterator[None]:
    """Fail on a hang (SIGALRM after HANG_S) or on more than MEMORY_LIMIT bytes allocated at once."""
    def hang(signum, frame):
        raise AssertionError(f"still running after {HANG_S} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_S)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < MEMORY_LIMIT, f"peak memory {peak / 2**20:.0f} MB"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _convert(source: Path, output: Path) -> tuple[int, str]:
    """``robomotion convert SOURCE OUTPUT``: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), _bounded():
        code = main(["convert", str(source), str(output)])
    return code, err.getvalue()


def _check(source: Path, folder: Path) -> None:
    output = folder / "converted.npz"
    before = sorted(folder.iterdir())
    code, err = _convert(source, output)
    assert code in (0, 2), f"exit code {code}: {err}"
    if code == 0:
        motion = load_motion(output)
        assert motion.num_frames >= 1
        assert sorted(folder.iterdir()) == sorted([*before, output])
    else:
        assert err.count("\n") == 1 and "error:" in err, err
        assert sorted(folder.iterdir()) == before, "a failed conversion left a file behind"


# ---------------------------------------------------------------------- damage
@st.composite
def text_damage(draw) -> tuple[str, int, int, str]:
    """(kind of damage, where (0..1 fraction as int permille), how many, replacement token)."""
    return (
        draw(st.sampled_from(["token", "token", "drop_line", "duplicate_line", "cut", "number"])),
        draw(st.integers(0, 999)),
        draw(st.integers(1, 3)),
        draw(st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(max_size=8))),
    )


def _damage_text(text: str, damage: tuple[str, int, int, str]) -> str:
    kind, where, count, token = damage
    if kind == "cut":
        return text[: len(text) * where // 1000]
    lines = text.splitlines()
    line = len(lines) * where // 1000
    if kind == "drop_line":
        return "\n".join(lines[:line] + lines[line + count :]) + "\n"
    if kind == "duplicate_line":
        return "\n".join(lines[: line + 1] + lines[line : line + 1] * count + lines[line + 1 :]) + "\n"
    words = lines[line].replace(",", " , ").split() or [""]
    position = where % len(words)
    words[position] = str(float(token) * 10**count) if kind == "number" and _is_number(token) else token
    lines[line] = " ".join(words).replace(" , ", ",")
    return "\n".join(lines) + "\n"


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


@st.composite
def npz_damage(draw) -> dict:
    return {
        "kind": draw(st.sampled_from(["value", "value", "shape", "dtype", "drop", "frames", "extra", "bytes", "cut"])),
        "key": draw(st.integers(0, 99)),
        "index": draw(st.integers(0, 10**6)),
        "value": draw(st.sampled_from(HOSTILE_VALUES)),
        "shape": tuple(draw(st.lists(st.integers(0, 5), max_size=4))),
        "dtype": draw(st.sampled_from(["f4", "f8", "i8", "u1", "?", "U4"])),
        "frames": draw(st.integers(0, 3)),
        "flips": draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4)),
    }


def _damage_npz(path: Path, damage: dict) -> None:
    if damage["kind"] in ("bytes", "cut"):
        data = bytearray(path.read_bytes())
        if damage["kind"] == "cut":
            del data[damage["index"] % len(data) :]
        for position, mask in damage["flips"] if damage["kind"] == "bytes" else ():
            data[position % len(data)] ^= mask
        path.write_bytes(bytes(data))
        return
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    key = sorted(arrays)[damage["key"] % len(arrays)]
    value = arrays[key]
    if damage["kind"] == "value" and value.size and value.dtype.kind in "fiu":
        value = value.astype(np.float64)
        value.reshape(-1)[damage["index"] % value.size] = damage["value"]
    elif damage["kind"] == "shape":
        value = np.zeros(damage["shape"], value.dtype)
    elif damage["kind"] == "dtype":
        value = value.astype(damage["dtype"]) if value.dtype.kind != "U" else value
    elif damage["kind"] == "drop":
        del arrays[key]
        value = None
    elif damage["kind"] == "frames" and value.ndim:
        value = value[: damage["frames"]]
    elif damage["kind"] == "extra":
        arrays["extra"] = np.zeros(damage["shape"])
    if value is not None:
        arrays[key] = value
    np.savez(path, **arrays)


# ---------------------------------------------------------------------- tests
def _fuzz_text(kind: str, damage: tuple[str, int, int, str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = SAMPLES[kind](folder)
        with contextlib.suppress(UnicodeEncodeError):
            source.write_text(_damage_text(source.read_text(), damage))
        _check(source, folder)


def _fuzz_npz(kind: str, damage: dict) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = SAMPLES[kind](folder)
        _damage_npz(source, damage)
        _check(source, folder)


def _fuzz(kind: str, data: st.DataObject) -> None:
    if kind in TEXT_KINDS:
        _fuzz_text(kind, data.draw(text_damage(), label="damage"))
    else:
        _fuzz_npz(kind, data.draw(npz_damage(), label="damage"))


FAST = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
THOROUGH = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
every_kind = pytest.mark.parametrize("kind", list(SAMPLES))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGALRM to detect hangs")

#: A few damaged files of every input kind (the default run).
test_damaged_files_give_a_clean_error_or_a_motion = every_kind(FAST(given(data=st.data())(_fuzz)))
#: Many more (``-m slow``).
test_many_damaged_files = pytest.mark.slow(every_kind(THOROUGH(given(data=st.data())(_fuzz))))
