"""Spec strings (``bell:peak=300,...``, ``a + b``) parsed into patterns, with messages naming
what is allowed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields

from capcon.core.backends.sim.traffic.patterns import (
    _ARGS,
    _PARSE_DEFAULTS,
    PATTERN_NAMES,
    Bell,
    DailySine,
    DaytimeReads,
    NightlyLoad,
    Pattern,
    RandomWalk,
    Spike,
    Steady,
    Sum,
    TopHeavy,
    TrafficError,
    _Arg,
    _spec_num,
)
from capcon.core.backends.sim.traffic.replay import Replay

_CLASSES: dict[str, Callable[..., Pattern]] = {
    "steady": Steady,
    "bell": Bell,
    "top-heavy": TopHeavy,
    "spike": Spike,
    "sine": DailySine,
    "nightly": NightlyLoad,
    "daytime": DaytimeReads,
    "walk": RandomWalk,
}

_ALIASES = {
    "topheavy": "top-heavy",
    "daily-sine": "sine",
    "daily": "sine",
    "random-walk": "walk",
    "replay": "csv",
    "nightly-load": "nightly",
    "daytime-reads": "daytime",
}

#: Values :func:`parse_pattern` fills in when the spec leaves out a required field.
_DURATION = re.compile(r"^\s*([-+0-9.eE_]+|inf)\s*(s|m|min|h|d)?\s*$")
_DURATION_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PLUS = re.compile(r"(?<![0-9.][eE])\+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _allowed_keys(name: str) -> str:
    keys = []
    for arg in _ARGS[name]:
        required = _required(name, arg)
        keys.append(arg.key + ("" if required else "?"))
    return ", ".join(keys)


def _required(name: str, arg: _Arg) -> bool:
    if name == "csv":
        return arg.key == "path"
    cls = _CLASSES[name]
    assert isinstance(cls, type)
    for f in fields(cls):
        if f.name == arg.field:
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            return not has_default and arg.field not in _PARSE_DEFAULTS.get(name, {})
    raise AssertionError(arg)  # pragma: no cover


def _parse_value(where: str, arg: _Arg, text: str) -> object:
    text = text.strip()
    if arg.kind == "path":
        if not text:
            raise TrafficError(f"{where}: path is empty")
        return text
    if arg.kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise TrafficError(f"{where}: {arg.key}={text!r} must be true or false")
    if arg.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise TrafficError(f"{where}: {arg.key}={text!r} must be a whole number") from None
    if arg.kind == "seconds":
        m = _DURATION.match(text)
        value = math.nan
        if m:
            try:
                value = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
            except ValueError:
                value = math.nan
        if not math.isfinite(value):
            raise TrafficError(
                f"{where}: {arg.key}={text!r} must be a duration: seconds, or a number with "
                "s, m, h or d (e.g. 600, 10m, 1.5h)"
            )
        return value
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or (math.isinf(value) and arg.kind != "max"):
        allowed = "a number or inf" if arg.kind == "max" else "a finite number"
        raise TrafficError(f"{where}: {arg.key}={text!r} must be {allowed}")
    return value


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_term(term: str) -> Pattern:
    """One ``name[:args][*k…]`` term (or a bare number: steady)."""
    where = repr(term)
    pieces = [piece.strip() for piece in term.split("*")]
    numbers = [_number(piece) for piece in pieces]
    non_numeric = [i for i, n in enumerate(numbers) if n is None]
    if len(non_numeric) > 1:
        bad = pieces[non_numeric[1]]
        raise TrafficError(
            f"{where}: scale factor {bad!r} is not a number (write e.g. 'bell*2'; add "
            "patterns with '+')"
        )
    head_index = non_numeric[0] if non_numeric else 0
    factors = [n for i, n in enumerate(numbers) if i != head_index and n is not None]
    pattern = _parse_head(pieces[head_index], where)
    for k in factors:
        if k < 0:
            raise TrafficError(f"{where}: scale factor {_spec_num(k)} must be ≥ 0")
        pattern = pattern * k
    return pattern


def _parse_head(head: str, where: str) -> Pattern:
    if _number(head) is not None:
        return Steady(float(head))
    raw_name, colon, argtext = head.partition(":")
    name = raw_name.strip().lower().replace("_", "-")
    name = _ALIASES.get(name, name)
    if name not in _ARGS:
        raise TrafficError(
            f"{where}: unknown traffic pattern {raw_name.strip()!r}; patterns: "
            f"{', '.join(PATTERN_NAMES)} (e.g. 'steady:100', 'bell', 'spike:peak=500,at=1h,"
            "duration=10m', 'csv:traffic.csv'; add with '+', scale with '*2')"
        )
    args = _ARGS[name]
    by_key = {a.key: a for a in args} | {a.field: a for a in args}
    values: dict[str, object] = {}
    items = [] if not colon else argtext.split(",")
    if name == "csv" and colon and "=" not in argtext.split(",")[0]:
        items = ["path=" + argtext.split(",")[0], *argtext.split(",")[1:]]
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not eq:
            if name == "steady" and not values and len(items) == 1:
                key, text = "rate", item
            else:
                raise TrafficError(
                    f"{where}: {item.strip()!r} is not key=value; {name} takes "
                    f"{_allowed_keys(name)} (? = optional)"
                )
        arg = by_key.get(key)
        if arg is None:
            raise TrafficError(
                f"{where}: {name} has no {key!r}; it takes {_allowed_keys(name)} (? = optional)"
            )
        if arg.field in values:
            raise TrafficError(f"{where}: {arg.key} is given twice")
        values[arg.field] = _parse_value(where, arg, text)
    for f, default in _PARSE_DEFAULTS.get(name, {}).items():
        values.setdefault(f, default)
    missing = [a.key for a in args if _required(name, a) and a.field not in values]
    if missing:
        raise TrafficError(
            f"{where}: {name} needs {', '.join(m + '=' for m in missing)}; it takes "
            f"{_allowed_keys(name)} (? = optional)"
        )
    try:
        if name == "csv":
            path = values.pop("path")
            assert isinstance(path, str)
            step = bool(values.get("step", False))
            loop = bool(values.get("loop", False))
            return Replay.from_csv(path, step=step, loop=loop)
        return _CLASSES[name](**values)
    except TrafficError as e:
        raise TrafficError(f"{where}: {e}") from None


def _split_terms(spec: str) -> list[str]:
    """Split on ``+``, except in a number's exponent (``1e+3`` stays one number)."""
    return _PLUS.split(spec)


def parse_pattern(spec: str) -> Pattern:
    """A pattern from a CLI spec string.

    ``name[:key=value,…][*factor]`` terms joined with ``+``: ``steady:100``, ``bell``,
    ``bell:base=25,peak=300``, ``top-heavy``, ``spike:base=10,peak=500,at=3600,duration=600``,
    ``sine:mean=100,amplitude=50,peak_hour=14``, ``nightly:base=5,load=800``,
    ``daytime:night=5,day=200``, ``walk:start=100,seed=3``, ``csv:PATH`` (or
    ``csv:path=PATH,loop=true,step=true``; the path cannot contain ``+``, ``*`` or ``,``),
    ``steady:10+spike:peak=200,at=600,duration=300``, ``bell*2``.  Durations take
    ``s``/``m``/``h``/``d`` suffixes (``at=1h``); a bare number is a steady rate; spike's
    ``base`` defaults to 0.  Anything else: :class:`TrafficError` listing what is allowed.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise TrafficError(
            f"empty traffic pattern; patterns: {', '.join(PATTERN_NAMES)} (e.g. 'steady:100')"
        )
    terms = _split_terms(spec.strip())
    for term in terms:
        if not term.strip():
            raise TrafficError(f"{spec!r}: empty term around '+'")
    patterns = [_parse_term(term.strip()) for term in terms]
    if len(patterns) == 1:
        return patterns[0]
    return Sum(tuple(patterns))


def describe_patterns() -> Mapping[str, str]:
    """Each pattern name and the keys it takes (``?`` = optional), for help texts."""
    return {name: _allowed_keys(name) for name in PATTERN_NAMES}
