"""Price books from files: capcon's dated defaults, then a user's file on top, validated."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
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
        checked = _apply_table(book, table, PRICE_FIELDS, f"{path} [regions.{name}]")
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
    if not given:
        return updated
    complete = given >= set(REQUIRED_PRICE_FIELDS)
    if "source" not in data:
        source = str(user_file) if complete else f"{user_file} over {book.source}"
        updated = dataclasses.replace(updated, source=source)
    return dataclasses.replace(updated, assumed_from=None) if complete else updated
