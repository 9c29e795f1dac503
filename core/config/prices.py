"""Price books from files: capcon's dated defaults, then a user's file on top, validated; and
the user's file written back with one region's prices merged in (``capcon prices update``).

A ``[regions.<name>]`` table may carry its own ``as_of`` and ``source`` (the Price List's date
and where the prices came from): they win over the file's top-level ones for that region.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from capcon.core.config.schema import SettingsError, apply_overrides, read_toml
from capcon.core.pricing import (
    FALLBACK_REGION,
    GLOBAL_KEYS,
    PRICE_FIELDS,
    REQUIRED_PRICE_FIELDS,
    PriceBook,
)

#: Keys a ``[regions.<name>]`` table may set besides prices: that region's date and source.
REGION_KEYS = ("as_of", "source")

#: capcon's dated default prices, shipped with the package (``core/data/prices.toml``).
DEFAULT_PRICES_PATH: Traversable = files("capcon.core").joinpath("data", "prices.toml")


def _apply_table(
    book: PriceBook, table: Mapping[str, Any], allowed: tuple[str, ...], where: str
) -> PriceBook:
    """``book`` with ``table`` applied through :func:`apply_overrides`, keys limited to
    ``allowed`` (``region`` or ``assumed_from`` are never the file's to set)."""
    for key in table:
        if key not in allowed:
            hint = ""
            if key in PRICE_FIELDS:
                hint = (
                    f"; prices go in a [regions.<name>] table, e.g. [regions.us-east-1] {key} = …"
                )
            raise SettingsError(
                f"{where}: unknown setting {key!r} (allowed: {', '.join(allowed)}){hint}"
            )
    return apply_overrides(book, table, where)


def _region_tables(
    data: Mapping[str, Any], path: Path | Traversable
) -> dict[str, Mapping[str, Any]]:
    regions = data.get("regions", {})
    if not isinstance(regions, dict):
        raise SettingsError(
            f"{path}: regions must be a table of [regions.<name>] tables, got {regions!r}"
        )
    for name, table in regions.items():
        if not isinstance(table, dict):
            raise SettingsError(
                f"{path}: regions.{name} must be a table of prices "
                f"(allowed: {', '.join(PRICE_FIELDS)}), got {table!r}"
            )
    return regions


def _apply_file(
    book: PriceBook, data: Mapping[str, Any], path: Path | Traversable, priced_from: str
) -> tuple[PriceBook, frozenset[str]]:
    """``book`` with a price file applied: its top-level keys, then ``[regions.<priced_from>]``.

    Every region table is validated, even those not used, so a typo fails whichever region
    is shown.  Also returns the price keys the file set for ``priced_from``.
    """
    regions = _region_tables(data, path)
    book = _apply_table(
        book, {k: v for k, v in data.items() if k != "regions"}, GLOBAL_KEYS, str(path)
    )
    for name, table in regions.items():
        checked = _apply_table(book, table, PRICE_FIELDS + REGION_KEYS, f"{path} [regions.{name}]")
        if name == priced_from:
            book = checked
    return book, frozenset(regions.get(priced_from, {}))


def load_price_book(region: str, user_file: Path | None = None) -> PriceBook:
    """Prices for ``region``: capcon's defaults, then ``user_file`` (same TOML shape) on top.

    A region without default prices gets us-east-1's, marked ``assumed_from``; a user file
    that prices the region itself (every required price) clears that mark.  Prices capcon
    does not know (``UNKNOWN_PRICE_FIELDS``) stay ``None`` unless a file sets them.  Top-level
    keys of a file (``as_of``, ``source``, ``currency``, ``bill_closed_shards``) apply to every
    region.
    Raises :class:`SettingsError` naming the file and key for anything not acceptable.
    """
    defaults = read_toml(DEFAULT_PRICES_PATH)
    known = _region_tables(defaults, DEFAULT_PRICES_PATH)
    priced_from = region if region in known else FALLBACK_REGION
    zeros: dict[str, Any] = dict.fromkeys(REQUIRED_PRICE_FIELDS, 0.0)
    blank = PriceBook(region=region, as_of=date.min, source="", **zeros)
    book, given = _apply_file(blank, defaults, DEFAULT_PRICES_PATH, priced_from)
    missing = [k for k in ("as_of", "source") if k not in defaults]
    missing += [name for name in REQUIRED_PRICE_FIELDS if name not in given]
    if missing:  # a broken install, not a user error: say exactly what is missing
        raise SettingsError(f"{DEFAULT_PRICES_PATH} ({priced_from}): missing {missing}")
    if priced_from != region:
        book = dataclasses.replace(book, assumed_from=priced_from)
    if user_file is None:
        return book
    data = read_toml(user_file)
    updated, given = _apply_file(book, data, user_file, region)
    complete = given >= set(REQUIRED_PRICE_FIELDS)
    if updated.currency != book.currency and not complete:
        # a currency alone would relabel capcon's prices, not convert them
        lacking = [name for name in REQUIRED_PRICE_FIELDS if name not in given]
        raise SettingsError(
            f"{user_file}: currency = {updated.currency!r} would relabel capcon's "
            f"{book.currency} prices for {region}: set every price of [regions.{region}] in "
            f"{updated.currency} too (missing: {', '.join(lacking[:5])}"
            f"{', …' if len(lacking) > 5 else ''}), or leave currency out"
        )
    if not given:
        return updated
    if "source" not in data and "source" not in given:
        source = str(user_file) if complete else f"{user_file} over {book.source}"
        updated = dataclasses.replace(updated, source=source)
    return dataclasses.replace(updated, assumed_from=None) if complete else updated


# --------------------------------------------------------------------------------------------
# Writing a user's price file
# --------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key, key)


def _toml_value(value: object, where: str) -> str:
    """A TOML value for the scalars a price file holds (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SettingsError(f"{where}: {value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):  # TOML also wants DEL escaped, which JSON leaves as it is
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise SettingsError(f"{where}: a price file holds numbers, strings and dates, not {value!r}")


def dump_price_file(data: Mapping[str, Any]) -> str:
    """``data`` (top-level keys and ``regions``, as :func:`read_toml` gives a price file) as
    TOML text: top-level keys, then one ``[regions.<name>]`` table per region."""
    lines = ["# capcon price file (capcon prices update writes it; comments are not kept)"]
    for key, value in data.items():
        if key != "regions":
            lines.append(f"{_toml_key(key)} = {_toml_value(value, key)}")
    for name, table in dict(data.get("regions", {})).items():
        lines += ["", f"[regions.{_toml_key(name)}]"]
        for key, value in dict(table).items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value, f'regions.{name}.{key}')}")
    return "\n".join(lines) + "\n"


def write_region_prices(
    path: Path, region: str, prices: Mapping[str, float], *, as_of: date, source: str
) -> Path:
    """Merge ``prices`` for ``region`` (with its ``as_of`` and ``source``) into the price file
    at ``path``, keeping every other region and top-level key it holds; returns the file
    written (a symbolic link's target).

    Atomic: the new text is written to a temporary file beside it, read back as a price book
    for every region it holds, and only then renamed over the old one.  On any error
    (:class:`SettingsError`, naming what was wrong) the file is not touched.  Comments in the
    old file are not kept.
    """
    unknown = sorted(set(prices) - set(PRICE_FIELDS))
    if unknown:
        raise SettingsError(f"{path}: not price-book fields: {', '.join(unknown)}")
    target = path.resolve() if path.is_symlink() else path
    existing: dict[str, Any] = read_toml(target) if target.exists() else {}
    for name in _region_tables(existing, target):  # the file as it is must be valid
        load_price_book(name, target)
    regions = {name: dict(table) for name, table in _region_tables(existing, target).items()}
    table = regions.setdefault(region, {})
    table.update(prices)
    table["as_of"] = as_of
    table["source"] = source
    data = {k: v for k, v in existing.items() if k != "regions"}
    data["regions"] = regions
    text = dump_price_file(data)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise SettingsError(f"{target}: cannot be written ({error.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            os.chmod(temp, target.stat().st_mode & 0o777)
        else:
            os.chmod(temp, 0o644)
        for name in regions:  # what was written reads back as a valid book for every region
            load_price_book(name, Path(temp))
        os.replace(temp, target)
    except OSError as error:
        _remove(temp)
        raise SettingsError(f"{target}: cannot be written ({error.strerror})") from None
    except BaseException:
        _remove(temp)
        raise
    return target


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
