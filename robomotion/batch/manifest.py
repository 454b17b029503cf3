"""Read a batch manifest (CSV, JSON lines or Parquet) into row tasks and error rows.

One manifest row is one input: a prompt (``prompt``, optional ``seed``, ``duration`` in
seconds, ``model``) or a motion file (``motion``, relative to the manifest's folder), an
optional ``id`` and optional per-row options, either as dotted columns
(``retarget.contacts``, ``validate.torque_fail``, ``generate.diffusion_steps``) or as an
``options`` object ``{"retarget": {"contacts": "detect"}}``. In CSV files, option values are
read as JSON where they parse (``8``, ``true``, ``[1, 2]``) and as text otherwise.

A row that cannot run (missing file, unknown column or option, a prompt that is not text, ...)
becomes a :class:`BadRow` with a one-line message; the other rows go on. A manifest that cannot
be read at all raises :class:`~robomotion.errors.FormatError`.

Each good row gets a content hash (:func:`row_key`) of its input (the prompt and generator
inputs, or the bytes of the motion file; the bytes of the play step's policy) and of everything
that changes its outputs (steps, their options, robot, output format, report kind, package
version); ``--resume`` skips rows whose key is already done.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robomotion.batch.steps import ORDER, RowTask, check_options
from robomotion.errors import FormatError

__all__ = ["BadRow", "ManifestRow", "read_manifest", "read_records", "row_key"]

#: Columns a row may have besides ``<step>.<option>`` ones.
COLUMNS = ("id", "prompt", "seed", "duration", "model", "motion", "options")


@dataclass(frozen=True)
class ManifestRow:
    """A row that can run: its position in the manifest, its name and its task."""

    index: int
    id: str
    task: RowTask


@dataclass(frozen=True)
class BadRow:
    """A row that cannot run, with the reason (one line, naming the field)."""

    index: int
    id: str
    error: str
    input: str | None = None


def read_records(path: Path) -> list[dict[str, Any] | str]:
    """The manifest's rows as dicts (a JSON line that is not an object comes back as its error text)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("no such manifest file", path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            return [{k: _csv_value(k, v) for k, v in row.items() if k is not None} for row in csv.DictReader(handle)]
    if suffix in (".jsonl", ".ndjson"):
        records: list[dict[str, Any] | str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                records.append(f"line {number} is not JSON ({exc.msg})")
                continue
            records.append(value if isinstance(value, dict) else f"line {number} is not a JSON object")
        return records
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise FormatError(f"not a readable Parquet file ({exc})", path) from None
    raise FormatError(f"unknown manifest type '{suffix}'; use .csv, .jsonl or .parquet", path)


def _csv_value(column: str, text: str | None) -> Any:
    """CSV cells are text; option columns hold JSON where it parses; empty cells are missing."""
    if text is None or text.strip() == "":
        return None
    if "." in column or column == "options":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def row_key(task: RowTask, file_hashes: dict[str, str], version: str) -> str:
    """Content hash (hex, 20 characters) of everything that decides a row's outputs.

    ``file_hashes``: SHA-256 of the files the row reads (``motion``, ``policy``), by role.
    """
    content = {
        "prompt": task.prompt,
        "seed": task.seed if task.prompt is not None else None,
        "duration": task.duration,
        "model": task.model,
        "file_sha256": file_hashes,
        "motion_suffix": task.motion.suffix.lower() if task.motion else None,
        "steps": task.steps,
        "options": task.options,
        "robot": task.robot,
        "robot_format": task.robot_format,
        "video": task.video,
        "report": task.report,
        "version": version,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _package_version() -> str:
    """robomotion's installed version (part of every row key: a new release recomputes rows)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("robomotion")
    except PackageNotFoundError:
        return "unknown"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "row"


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise FormatError(f"must be an integer, got {value!r}", field=name)
    try:
        number = float(value)
    except ValueError:
        raise FormatError(f"must be an integer, got {value!r}", field=name) from None
    if not number.is_integer():
        raise FormatError(f"must be an integer, got {value!r}", field=name)
    return int(number)


def _seconds(value: Any) -> float:
    try:
        seconds = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0:
        raise FormatError(f"must be positive seconds, got {value!r}", field="duration")
    return seconds


def _options(record: dict[str, Any], defaults: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The row's per-step options over ``defaults`` (checked against each step's option names)."""
    options: dict[str, dict[str, Any]] = {}
    given = record.get("options")
    if given is not None:
        if isinstance(given, str):
            try:
                given = json.loads(given)
            except json.JSONDecodeError as exc:
                raise FormatError(f"is not JSON ({exc.msg})", field="options") from None
        if not isinstance(given, dict):
            raise FormatError(f"must be an object {{step: {{option: value}}}}, got {given!r}", field="options")
        options = {step: dict(values) if isinstance(values, dict) else values for step, values in given.items()}
    for column, value in record.items():
        if "." in column and value is not None:
            step, name = column.split(".", 1)
            options.setdefault(step, {})[name] = value
    check_options(options)
    merged = {step: dict(values) for step, values in defaults.items()}
    for step, values in options.items():
        merged.setdefault(step, {}).update(values)
    return {step: values for step, values in merged.items() if values}


def _policy(options: dict[str, dict[str, Any]], base: Path, steps: tuple[str, ...]) -> Path | None:
    """The play step's policy file, resolved against the manifest's folder (``None`` without play)."""
    if "play" not in steps:
        return None
    given = options.get("play", {}).get("policy")
    if not isinstance(given, str) or not given:
        raise FormatError("the play step needs an ONNX policy: --policy POLICY.onnx or a play.policy column",
                          field="play.policy")
    path = (base / given).resolve()
    if not path.is_file():
        raise FormatError(f"policy file not found: {path}", field="play.policy")
    options["play"]["policy"] = str(path)
    return path


def _parse(index: int, record: dict[str, Any], base: Path, settings: dict[str, Any], version: str) -> ManifestRow:
    unknown = [c for c, v in record.items() if v is not None and "." not in c and c not in COLUMNS]
    if unknown:
        raise FormatError(
            f"unknown column '{unknown[0]}'; columns are {list(COLUMNS)} and <step>.<option> with steps {list(ORDER)}",
            field=unknown[0],
        )
    prompt, motion = record.get("prompt"), record.get("motion")
    if (prompt is None) == (motion is None):
        raise FormatError("give either a prompt or a motion file", field="prompt")
    options = {step: values for step, values in _options(record, settings["defaults"]).items()
               if step in settings["steps"]}
    policy = _policy(options, base, settings["steps"])
    hashes = {"policy": _file_sha256(policy)} if policy is not None else {}
    motion_path, seed, duration = None, 0, None
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise FormatError(f"must be non-empty text, got {type(prompt).__name__} {prompt!r}", field="prompt")
        if "generate" not in settings["steps"]:
            raise FormatError("a prompt row needs the generate step in --steps", field="prompt")
        seed = _integer(record["seed"], "seed") if record.get("seed") is not None else 0
        duration = _seconds(record["duration"]) if record.get("duration") is not None else None
    else:
        if not isinstance(motion, str):
            raise FormatError(f"must be a file path, got {type(motion).__name__} {motion!r}", field="motion")
        for column in ("seed", "duration", "model"):
            if record.get(column) is not None:
                raise FormatError("applies to prompt rows only (this row has a motion file)", field=column)
        motion_path = (base / motion).resolve()
        if not motion_path.is_file():
            raise FormatError(f"motion file not found: {motion_path}", field="motion")
        hashes["motion"] = _file_sha256(motion_path)
    model = record.get("model")
    if model is not None and not isinstance(model, str):
        raise FormatError(f"must be a model name, got {model!r}", field="model")
    name = str(record["id"]) if record.get("id") is not None else _slug(prompt if prompt is not None else
                                                                           Path(motion).stem)
    task = RowTask(
        key="", folder=Path(), steps=settings["steps"], prompt=prompt, seed=seed, duration=duration, model=model,
        motion=motion_path, options=options, robot=settings["robot"], robot_format=settings["robot_format"],
        video=settings["video"], report=settings["report"],
    )
    key = row_key(task, hashes, version)
    folder = settings["output"] / "rows" / f"{_slug(name)}-{key[:12]}"
    return ManifestRow(index, name, RowTask(**{**task.__dict__, "key": key, "folder": folder}))


def read_manifest(
    path: str | Path,
    output: str | Path,
    steps: tuple[str, ...],
    robot: str = "g1",
    robot_format: str = "g1-csv",
    video: bool = False,
    report: str = "html",
    defaults: dict[str, dict[str, Any]] | None = None,
) -> list[ManifestRow | BadRow]:
    """Every row of the manifest at ``path``, as a runnable :class:`ManifestRow` or a :class:`BadRow`.

    ``defaults``: per-step options for every row (a row's own options win), e.g.
    ``{"play": {"policy": "/abs/policy.onnx"}}``; file paths in it are taken as given.

    Raises:
        FormatError: the manifest cannot be read or has no rows.
    """
    path = Path(path)
    check_options(defaults or {})
    records = read_records(path)
    if not records:
        raise FormatError("the manifest has no rows", path)
    settings = {"steps": tuple(steps), "robot": robot, "robot_format": robot_format, "video": video, "report": report,
                "output": Path(output).resolve(), "defaults": defaults or {}}
    rows: list[ManifestRow | BadRow] = []
    for index, record in enumerate(records):
        if isinstance(record, str):
            rows.append(BadRow(index, f"row{index}", record))
            continue
        try:
            rows.append(_parse(index, record, path.parent.resolve(), settings, _package_version()))
        except FormatError as exc:
            given = next((record[k] for k in ("prompt", "motion") if record.get(k) is not None), None)
            rows.append(BadRow(index, str(record.get("id") or f"row{index}"), str(exc),
                               None if given is None else str(given)))
    return rows
