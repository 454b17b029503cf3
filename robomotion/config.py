"""The one configuration mechanism of robomotion: frozen dataclasses with checked overrides.

Every stage's settings are a frozen dataclass that inherits :class:`Config`
(:class:`~robomotion.retarget.config.RetargetConfig`,
:class:`~robomotion.envs.validation.config.ValidationConfig`,
:class:`~robomotion.envs.tracking.config.TrackingConfig`). They all read and write the same way::

    config = RetargetConfig().replace(acceleration=0.01)            # keyword overrides
    config = RetargetConfig.from_dict({"contact_detection": {"max_speed": 0.3}})   # nested, partial
    config = ValidationConfig.from_json("strict.json")               # a JSON object, any subset
    json.dumps(config.to_dict())                                     # and back

An unknown key anywhere (also inside a nested section) is a
:class:`~robomotion.errors.FormatError` that names the key and lists the valid ones, so the CLI
exits with code 2 and one line instead of a ``TypeError`` traceback. Nested dataclass fields
accept a dict, which overrides only the keys it names; JSON lists become tuples where the
field is a tuple (of dataclasses built from dicts, e.g. the tracking env's extra reward terms);
``null`` turns an optional section off; a callable field takes ``"package.module:function"``.

Each sub-command that takes ``--config FILE`` declares it with :func:`add_config_argument` and
reads it with :func:`config_from_args`.
"""

from __future__ import annotations

import argparse
import collections.abc
import dataclasses
import importlib
import types
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from robomotion.errors import FormatError
from robomotion.jsonio import read_json

__all__ = ["Config", "add_config_argument", "build", "config_from_args", "override", "to_dict"]

if TYPE_CHECKING:  # annotations only (Python 3.10 has no typing.Self)
    from typing_extensions import Self

C = TypeVar("C", bound="Config")
T = TypeVar("T")


@cache
def _field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a dataclass's init fields (``from __future__ import annotations`` safe)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}


def _dataclass_in(annotation: Any) -> type | None:
    """The dataclass type named by ``annotation`` (also inside ``X | None``), or None."""
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _dataclass_in(arg)
            if found is not None:
                return found
    return None


def _has_no_default(item: dataclasses.Field) -> bool:
    return item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING


def _is_optional(annotation: Any) -> bool:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and type(None) in typing.get_args(annotation)


def _is_tuple(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_tuple(arg) for arg in typing.get_args(annotation))
    return annotation is tuple or typing.get_origin(annotation) is tuple


def _coerce(current: Any, value: Any, annotation: Any, source: str | Path | None, name: str) -> Any:
    """``value`` for a field whose current value is ``current``: dicts merge into dataclass sections,
    lists become tuples (of dataclasses, when the tuple holds them), ``"module:name"`` strings become
    the callables they name."""
    section = _dataclass_in(annotation)
    if section is not None and isinstance(value, dict):
        if dataclasses.is_dataclass(current):
            return override(current, value, source, prefix=f"{name}.")
        return build(section, value, source, prefix=f"{name}.")
    if section is not None and not isinstance(value, section) and not (value is None and _is_optional(annotation)):
        raise FormatError(f"expected an object of {section.__name__} settings, got {value!r}", source, name)
    if _is_tuple(annotation) and isinstance(value, list):
        item = _tuple_item_dataclass(annotation)
        if item is not None:
            return tuple(
                build(item, entry, source, f"{name}[{i}].") if isinstance(entry, dict) else entry
                for i, entry in enumerate(value)
            )
        return tuple(value)
    if _is_callable(annotation) and isinstance(value, str):
        return _import_object(value, source, name)
    return value


def _tuple_item_dataclass(annotation: Any) -> type | None:
    """``X`` of ``tuple[X, ...]`` when ``X`` is a dataclass."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [_tuple_item_dataclass(arg) for arg in typing.get_args(annotation)]
        return next((f for f in found if f is not None), None)
    args = typing.get_args(annotation) if typing.get_origin(annotation) is tuple else ()
    return _dataclass_in(args[0]) if args else None


def _is_callable(annotation: Any) -> bool:
    return typing.get_origin(annotation) is collections.abc.Callable or annotation is collections.abc.Callable


def _import_object(reference: str, source: str | Path | None, name: str) -> Any:
    """The object ``"package.module:attribute"`` names (how configs refer to functions)."""
    module, _, attribute = reference.partition(":")
    try:
        found = importlib.import_module(module)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, ValueError) as exc:
        message = f"cannot import '{reference}' (expected 'package.module:function'): {exc}"
        raise FormatError(message, source, name) from exc
    if not callable(found):
        raise FormatError(f"'{reference}' is not callable", source, name)
    return found


def _reference(obj: Any) -> str:
    """``"module:qualname"`` of a function or class (the inverse of :func:`_import_object`)."""
    return f"{obj.__module__}:{obj.__qualname__}"


def build(cls: type[T], values: dict[str, Any], source: str | Path | None = None, prefix: str = "") -> T:
    """A ``cls`` from ``values``: defaults overridden by them; fields without a default must be there."""
    if not isinstance(values, dict):
        where = prefix.rstrip(".") or None
        raise FormatError(f"expected an object of {cls.__name__} settings, got {type(values).__name__}", source, where)
    annotations = _field_types(cls)
    required = [f.name for f in dataclasses.fields(cls) if f.init and _has_no_default(f)]
    missing = [name for name in required if name not in values]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise FormatError(f"missing setting{plural} {', '.join(missing)}", source, f"{prefix}{missing[0]}")
    first = {name: _coerce(None, values[name], annotations[name], source, f"{prefix}{name}") for name in required}
    rest = {name: value for name, value in values.items() if name not in first}
    return override(_construct(cls, first, source, prefix), rest, source, prefix)


def _construct(cls: type[T], values: dict[str, Any], source: str | Path | None, where: str) -> T:
    """``cls(**values)``; a rejected value becomes a :class:`FormatError` naming the file and field."""
    try:
        return cls(**values)
    except FormatError as exc:
        field = f"{where}{exc.field}" if exc.field else (where.rstrip(".") or None)
        raise FormatError(_bare_message(exc), source if source is not None else exc.path, field) from exc
    except (TypeError, ValueError) as exc:
        raise FormatError(str(exc), source, where.rstrip(".") or None) from exc


def _bare_message(exc: FormatError) -> str:
    """The message of ``exc`` without the "file: field 'x': " prefix :class:`FormatError` adds."""
    where = ([str(exc.path)] if exc.path is not None else []) + ([f"field '{exc.field}'"] if exc.field else [])
    prefix = ": ".join(where)
    text = str(exc)
    return text[len(prefix) + 2 :] if prefix and text.startswith(prefix + ": ") else text


def override(config: T, values: dict[str, Any], source: str | Path | None = None, prefix: str = "") -> T:
    """A copy of the dataclass ``config`` with the fields in ``values`` changed (nested dicts merge).

    Args:
        config: a dataclass instance (any, not only :class:`Config` subclasses).
        values: field name -> new value; a dict for a nested dataclass field changes only its keys.
        source: the file the values came from, named in errors.
        prefix: dotted path of ``config`` inside an outer config, for error messages.

    Raises:
        FormatError: an unknown key (the message lists the valid ones) or a value the dataclass rejects.
    """
    if not isinstance(values, dict):
        where = prefix.rstrip(".") or None
        raise FormatError(f"expected an object of settings, got {type(values).__name__}", source, where)
    cls = type(config)
    annotations = _field_types(cls)
    unknown = sorted(set(values) - set(annotations))
    if unknown:
        raise FormatError(
            f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for {cls.__name__}; "
            f"valid: {', '.join(annotations)}",
            source,
            f"{prefix}{unknown[0]}",
        )
    if not values:
        return config
    changes = {
        name: _coerce(getattr(config, name), value, annotations[name], source, f"{prefix}{name}")
        for name, value in values.items()
    }
    current = {name: getattr(config, name) for name in annotations}
    return _construct(cls, {**current, **changes}, source, prefix)


def to_dict(config: Any) -> Any:
    """``config`` as JSON-ready data: dataclasses -> dicts, tuples -> lists, functions -> ``"module:name"``."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config) if f.init}
    if isinstance(config, tuple | list):
        return [to_dict(item) for item in config]
    if isinstance(config, Mapping):
        return {key: to_dict(item) for key, item in config.items()}
    if isinstance(config, type) or callable(config):
        return _reference(config)
    return config


def read_json_object(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``; anything else is a :class:`FormatError` naming the file."""
    path = Path(path)
    values = read_json(path, "settings file")  # bad UTF-8/JSON, deep nesting, huge numbers: one-line errors
    if not isinstance(values, dict):
        raise FormatError("expected a JSON object of settings", path)
    return values


class Config:
    """Base of robomotion's frozen dataclass configs: checked overrides, dict and JSON round trips.

    Subclasses are ``@dataclass(frozen=True)`` classes; a field without a default must be given to
    :meth:`from_dict`.
    """

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed; unknown names raise :class:`FormatError` listing the valid ones."""
        return override(self, changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready data (nested configs as dicts, tuples as lists)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path | None = None) -> Self:
        """Defaults overridden by ``values`` (any subset of the fields; nested sections may be partial).

        Fields without a default must be in ``values``.
        """
        return build(cls, values, source)

    @classmethod
    def from_json(cls, path: str | Path) -> Self:
        """Defaults overridden by the JSON object in the file ``path``."""
        return cls.from_dict(read_json_object(path), path)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The settable field names, in declaration order."""
        return tuple(_field_types(cls))


def add_config_argument(parser: argparse.ArgumentParser, config_class: str) -> None:
    """Add the ``--config FILE`` flag (a JSON object overriding fields of ``config_class``) to a sub-command."""
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"JSON object overriding {config_class} fields (any subset; unknown keys are an error)",
    )


def config_from_args(args: argparse.Namespace, config_class: type[C], **flags: Any) -> C:
    """The sub-command's config: defaults, then ``--config FILE``, then the explicit ``flags`` not None."""
    path = getattr(args, "config", None)
    config = config_class() if path is None else config_class.from_json(path)
    return override(config, {name: value for name, value in flags.items() if value is not None}, path)
