"""Validated overrides of frozen settings dataclasses from user files (TOML).

Rule parameters and prices are data a user may need to change (a raised quota, a new price,
a rule AWS relaxed).  Every override goes through :func:`apply_overrides`, so a typo or a
wrong type in any settings file gets the same clear message and changes nothing.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A settings file or value is not acceptable; the message says what and what is allowed."""


def _describe_type(tp: object) -> str:
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is timedelta:
        return "a number of seconds"
    if tp is date:
        return "a date (YYYY-MM-DD)"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: object, tp: object, where: str) -> object:
    """``value`` converted to the field type ``tp``, or :class:`SettingsError`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _coerce(value, args[0], where)
    wanted = _describe_type(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is timedelta:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=float(value))
    elif tp is date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
    else:  # pragma: no cover - a settings class with a field type we do not load
        raise SettingsError(f"{where}: this setting cannot be set from a file")
    raise SettingsError(f"{where}: expected {wanted}, got {value!r}")


def apply_overrides(base: T, overrides: Mapping[str, Any], source: str) -> T:
    """A copy of the dataclass ``base`` with ``overrides`` applied, every value validated.

    Unknown keys, wrong types and negative numbers are refused with a message naming the
    source, the key, and what is allowed; ``base`` itself is never changed.
    """
    if not dataclasses.is_dataclass(base) or isinstance(base, type):
        raise TypeError("apply_overrides needs a dataclass instance")
    hints = typing.get_type_hints(type(base))
    fields = {f.name for f in dataclasses.fields(base) if f.init}
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise SettingsError(f"{source}: unknown setting {key!r} (allowed: {allowed})")
        coerced = _coerce(value, hints[key], f"{source}: {key}")
        if isinstance(coerced, int | float) and not isinstance(coerced, bool) and coerced < 0:
            raise SettingsError(f"{source}: {key} must not be negative, got {value!r}")
        if isinstance(coerced, timedelta) and coerced < timedelta(0):
            raise SettingsError(f"{source}: {key} must not be negative, got {value!r}")
        changes[key] = coerced
    return dataclasses.replace(base, **changes)


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file, or :class:`SettingsError` saying why it could not be read."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None
