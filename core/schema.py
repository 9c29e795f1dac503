"""The one settings schema: every setting is a dataclass field, declared once.

A key's name, type and default are the field's; what it allows beyond its type (a range, a
unit, a text for the message, the keys it may not be smaller than) and its help are the
:class:`Rule` in the field's metadata, written with :func:`setting`.  One engine reads those
declarations for every file capcon reads — ``config.toml`` (:mod:`capcon.core.config.settings`),
rule files
(:class:`~capcon.core.rules.RuleSettings`), price files (:class:`~capcon.core.pricing.PriceBook`)
— and for the polling intervals (:class:`~capcon.core.polling.PollPolicy`), so a typo or a wrong
value anywhere gets the same kind of message, naming the file, the key, the value and what is
allowed, and changes nothing.  A field without a :class:`Rule` takes the default one: its type,
finite, not negative.

Why a small schema of our own rather than msgspec or pydantic(-settings): the core must stay
importable with only the standard library and boto3 (its import closure is to be zipped into
a Lambda of about 90 KB), and pydantic-core (a compiled extension of several MB) or msgspec
(compiled too) would be most of that zip for about 250 lines of checks.  Their messages also
name neither the file nor the allowed range the way capcon's do, so each would be rewritten
anyway; and the settings types stay the frozen dataclasses the rest of the core already uses.

A leaf (standard library only) at the bottom of the core's layers, so any part of the core may
declare settings; reading files is :mod:`capcon.core.config.schema`'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import reprlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_RULE = "capcon.setting"

#: Units a number may be declared in, and their seconds (for comparing keys in different units).
UNIT_SECONDS: dict[str, float] = {"seconds": 1.0, "minutes": 60.0}

#: The largest number any key takes when its rule sets no ``high`` of its own: every whole
#: number up to it is exact as a float (2**53), so arithmetic on it never overflows or rounds
#: a count; a value such as 2**63 is refused with the key's name instead of crashing later.
MAX_NUMBER = 2**53

#: Dates a key may hold (inclusive): calendar arithmetic a few centuries either side stays
#: inside Python's years 1 … 9999, so year 1 or 9999 in a file is refused, never an overflow.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)

#: C0 and C1 control characters and DEL: never accepted in a text setting (they would reach
#: a terminal as escape sequences).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4


def shown_value(value: object) -> str:
    """``value`` for a message: a ``repr`` cut to a few dozen characters and three levels of
    nesting, so a 100,000-deep list or a megabyte string in a file gives a short message,
    never a ``RecursionError``."""
    try:
        return _REPR.repr(value)
    except (RecursionError, ValueError):  # ValueError: an int past Python's digit limit
        return f"<{type(value).__name__}>"


class SettingsError(ValueError):
    """A settings file or value is not acceptable; the message says what and what is allowed."""


@dataclass(frozen=True, slots=True)
class Rule:
    """What one setting allows beyond its type, and what it is for."""

    help: str = ""
    """One sentence for the user: what the key changes."""
    low: float | None = 0.0
    """Smallest allowed number (inclusive); ``None``: no lower bound."""
    high: float | None = None
    """Largest allowed number (inclusive); ``None``: no upper bound."""
    positive: bool = False
    """The number must be above zero (``low`` is then ignored)."""
    unit: str = ""
    """``seconds`` or ``minutes`` (see :data:`UNIT_SECONDS`), or a word for messages only."""
    note: str = ""
    """Said after the range, e.g. ``(0: never idle)``."""
    allowed: str | None = None
    """What is allowed, in words, when the type and bounds do not say it well."""
    nonblank: str | None = None
    """A string (or each string of a list) must not be blank; the words for one that is."""
    path: bool = False
    """A file's path: ``~`` expanded, relative to the settings file's folder, must exist."""
    at_least: tuple[str, ...] = ()
    """Keys (of the same quantity) this one may not be smaller than.  A key left unset
    (``None``) follows them: see :func:`follow`."""
    sets: str | None = None
    """The field of another settings class this key feeds (a config key → a policy field)."""
    pattern: str | None = None
    """A regular expression a string (stripped of surrounding spaces) must match in full;
    ``allowed`` then says in words what it allows."""


_DEFAULT_RULE = Rule()


def setting(default: T, help: str = "", **rule: Any) -> T:
    """A dataclass field with ``default`` and its :class:`Rule` (``help`` and ``rule``)."""
    return dataclasses.field(default=default, metadata={_RULE: Rule(help=help, **rule)})


def rule_of(field: dataclasses.Field[Any]) -> Rule:
    """The :class:`Rule` declared for ``field`` (the default rule if none)."""
    found = field.metadata.get(_RULE)
    return found if isinstance(found, Rule) else _DEFAULT_RULE


def rules_of(cls: type) -> dict[str, Rule]:
    """Every settable key of the dataclass ``cls`` and its rule, in declaration order."""
    return {f.name: rule_of(f) for f in dataclasses.fields(cls) if f.init}


def nesting_depth(value: object, stop: int = 64) -> int:
    """How deeply ``value`` nests dicts and lists (a scalar is 0), counted without recursion
    and no further than ``stop``."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list | tuple):
            depth += 1
            deepest = max(deepest, depth)
            if depth >= stop:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth) for child in children)
    return deepest


#: A JSON string (with its escapes), and the brackets that nest.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str, stop: int = 64) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings in the JSON ``text`` (exact
    for valid JSON, an upper bound otherwise), counted without recursion and no further
    than ``stop``: check it before ``json.loads``, whose recursion 100,000 brackets exhaust."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop:
                    break
        else:
            depth -= 1
    return deepest


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) >= 1e6:
        return f"{int(value):,}"
    return f"{value:g}"


def _bare(tp: object) -> object:
    """``tp`` without ``| None``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_text_list(tp: object) -> bool:
    return typing.get_origin(tp) is tuple and typing.get_args(tp) == (str, Ellipsis)


def allowed_text(tp: object, rule: Rule) -> str:
    """What a key of type ``tp`` with ``rule`` allows, in words, for messages."""
    if rule.allowed is not None:
        return rule.allowed
    tp = _bare(tp)
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if tp is date:
        return f"a date (YYYY-MM-DD) from {EARLIEST_DATE} to {LATEST_DATE}"
    if _is_text_list(tp):
        return "a list of strings"
    base = {int: "a whole number", float: "a number", timedelta: "a number of seconds"}.get(
        typing.cast(type, tp), getattr(tp, "__name__", str(tp))
    )
    unit = f" {rule.unit}" if rule.unit else ""
    note = f" {rule.note}" if rule.note else ""
    of_unit = f" of {rule.unit}" if rule.unit else ""
    if rule.positive:
        text = f"a positive {base.removeprefix('a ')}{of_unit}"
        if rule.high is not None:
            text += f" of at most {_number(rule.high)}"
    elif rule.low is not None and rule.high is not None:
        text = f"{base} between {_number(rule.low)} and {_number(rule.high)}{unit}"
    elif rule.low == 0:
        text = f"{base}{of_unit}, not negative"
    elif rule.low is not None:
        text = f"{base} of at least {_number(rule.low)}{unit}"
    else:
        text = f"{base}{unit}"
    return text + note


def check_value(
    key: str,
    tp: object,
    rule: Rule,
    value: object,
    where: str,
    *,
    base_dir: Path | None = None,
    error: type[SettingsError] = SettingsError,
) -> object:
    """``value`` for ``key`` converted to the field type ``tp`` and checked against ``rule``.

    Raises ``error`` naming ``where`` (the file, or nothing), the key, the value and what is
    allowed: ``where: key: expected …, got …`` when the type is wrong, ``where: key must be
    …, got …`` when the value is.
    """
    at = f"{where}: " if where else ""
    wanted = allowed_text(tp, rule)
    tp = _bare(tp)

    def wrong_type() -> SettingsError:
        return error(f"{at}{key}: expected {wanted}, got {shown_value(value)}")

    def wrong_value() -> SettingsError:
        return error(f"{at}{key} must be {wanted}, got {shown_value(value)}")

    def control(text: str) -> SettingsError:
        return error(
            f"{at}{key} must be {wanted} without control characters, got {shown_value(text)}"
        )

    if tp is bool:
        if not isinstance(value, bool):
            raise wrong_type()
        return value
    if tp is str:
        if not isinstance(value, str):
            raise wrong_type()
        if _CONTROL.search(value):
            raise control(value)
        if rule.nonblank is not None and not value.strip():
            raise error(f"{at}{key} must be {rule.nonblank}, got {shown_value(value)}")
        if rule.pattern is not None and not re.fullmatch(rule.pattern, value.strip()):
            raise wrong_value()
        if rule.path:
            return _existing_file(key, value, at, base_dir, error)
        return value
    if tp is date:
        day: date | None = None
        if isinstance(value, datetime):  # a TOML date-time is a date too: keep the day
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                day = date.fromisoformat(value)
        if day is None:
            raise wrong_type()
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise wrong_value()
        return day
    if _is_text_list(tp):
        if not isinstance(value, list | tuple):
            raise wrong_type()
        names: list[str] = []
        for item in value:
            if (
                not isinstance(item, str)
                or (rule.nonblank is not None and not item.strip())
                or _CONTROL.search(item)
            ):
                what = rule.nonblank or "a string"
                raise error(
                    f"{at}{key}: every entry must be {what} without control characters, got"
                    f" {shown_value(item)} (expected {wanted})"
                )
            if item.strip() not in names:
                names.append(item.strip())
        return tuple(names)
    if tp in (int, float, timedelta):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong_type()
        if tp is int and not isinstance(value, int):
            raise wrong_type()
        try:
            number = float(value)
        except OverflowError:  # an int past 1e308 (TOML allows any length)
            number = math.inf
        if not math.isfinite(number):
            raise wrong_value()
        if rule.positive:
            if number <= 0:
                raise wrong_value()
        elif rule.low is not None and number < rule.low:
            raise wrong_value()
        if rule.high is not None and number > rule.high:
            raise wrong_value()
        if rule.high is None and abs(number) > MAX_NUMBER:
            raise error(
                f"{at}{key} must be {wanted}, at most {MAX_NUMBER:,} (2**53),"
                f" got {shown_value(value)}"
            )
        if tp is timedelta:
            return timedelta(seconds=number)
        return value if tp is int else number
    raise error(f"{at}{key}: this setting cannot be set from a file")  # pragma: no cover


def _existing_file(
    key: str, value: str, at: str, base_dir: Path | None, error: type[SettingsError]
) -> str:
    try:
        path = Path(value).expanduser()  # RuntimeError: ~nosuchuser
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        found = path.is_file()
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, no such user
        path, found = Path(value), False
    if not found:
        raise error(
            f"{at}{key}: {shown_value(str(path))} does not exist (from {shown_value(value)}):"
            " the path of an existing TOML file is needed"
        )
    return str(path)


def apply_overrides(
    base: T,
    overrides: Mapping[str, Any],
    source: str,
    *,
    base_dir: Path | None = None,
    error: type[SettingsError] = SettingsError,
) -> T:
    """A copy of the dataclass ``base`` with ``overrides`` applied, every value checked.

    Unknown keys, wrong types and values outside a key's :class:`Rule` are refused with a
    message naming ``source``, the key, the value and what is allowed; ``base`` itself is
    never changed.  ``base_dir`` is where relative paths of ``path`` keys start.
    """
    if not dataclasses.is_dataclass(base) or isinstance(base, type):
        raise TypeError("apply_overrides needs a dataclass instance")
    hints = typing.get_type_hints(type(base))
    rules = rules_of(type(base))
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        if key not in rules:
            allowed = ", ".join(sorted(rules))
            raise error(f"{source}: unknown setting {shown_value(key)} (allowed: {allowed})")
        changes[key] = check_value(
            key, hints[key], rules[key], value, source, base_dir=base_dir, error=error
        )
    return dataclasses.replace(base, **changes)


def validate(instance: object, error: type[SettingsError] = SettingsError) -> None:
    """Check every field of the dataclass ``instance`` against its rule, and the order of
    keys that must be at least others (for a settings class built in code, not from a file)."""
    cls = type(instance)
    hints = typing.get_type_hints(cls)
    for key, rule in rules_of(cls).items():
        value = getattr(instance, key)
        if value is not None:
            check_value(key, hints[key], rule, value, "", error=error)
    values = {key: getattr(instance, key) for key in rules_of(cls)}
    broken = order_violation(cls, values)
    if broken is not None:
        slower, faster = broken
        raise error(
            f"{slower} ({shown(cls, slower, values[slower])}) must be at least"
            f" {faster} ({shown(cls, faster, values[faster])})"
        )


def shown(cls: type, key: str, value: float) -> str:
    """``value`` of ``key`` with the key's unit: ``30 seconds``, ``15 minutes``."""
    unit = rules_of(cls)[key].unit
    return f"{_number(value)} {unit}" if unit else _number(value)


def _seconds(rule: Rule, value: float) -> float:
    return value * UNIT_SECONDS.get(rule.unit, 1.0)


def order_violation(cls: type, values: Mapping[str, float | None]) -> tuple[str, str] | None:
    """The first ``(slower, faster)`` pair of keys of ``cls`` where ``slower`` is declared
    ``at_least`` ``faster`` but is smaller (compared in seconds); ``None`` if all hold.
    Keys whose value is ``None`` are not compared."""
    rules = rules_of(cls)
    for slower, rule in rules.items():
        for faster in rule.at_least:
            low, high = values.get(slower), values.get(faster)
            if low is None or high is None:
                continue
            if _seconds(rule, low) < _seconds(rules[faster], high):
                return slower, faster
    return None


def follow(cls: type, given: Mapping[str, float]) -> dict[str, float]:
    """Every numeric key of ``cls``: the ``given`` ones, and for the others their default
    raised to the keys they must be at least (a slower pace is never made faster by a
    default).  Keys are resolved in declaration order, so ``at_least`` names earlier keys."""
    rules = rules_of(cls)
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.init}
    values: dict[str, float] = {}
    for key, rule in rules.items():
        if key in given:
            values[key] = given[key]
            continue
        default = defaults[key]
        if not isinstance(default, int | float):
            continue
        scale = UNIT_SECONDS.get(rule.unit, 1.0)
        others = (
            _seconds(rules[other], values[other]) / scale
            for other in rule.at_least
            if other in values
        )
        values[key] = max([float(default), *others])
    return values
