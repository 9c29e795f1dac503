"""``capcon prices update``: read a region's prices from AWS's Price List API into the user's
price file (``~/.config/capcon/prices.toml``, or ``--file``), with their date and source.

The file gets ``[regions.R]`` with every price found, ``as_of`` (the Price List's publication
date) and ``source``; other regions and top-level keys are kept, and the file is replaced
atomically, or not at all.  Prices not found stay as they were and are listed.  ``--dry-run``
prints the differences against the price book in use and writes nothing.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from capcon.core.backends.aws.pricelist import (
    PRICING_REGIONS,
    PriceListReport,
    default_region,
    read_price_list,
)
from capcon.core.config.paths import config_dir
from capcon.core.config.prices import load_price_book, write_region_prices
from capcon.core.config.schema import SettingsError
from capcon.core.jsonable import to_jsonable
from capcon.core.pricing import PRICE_FIELDS, PriceBook
from capcon.tui.cli.output import EXIT_OK, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

#: What an AWS region name looks like (``us-east-1``, ``ap-southeast-4``, ``us-gov-west-1``).
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def add_parser(sub: Any) -> None:
    """``prices`` and its ``update`` subcommand, on the command parser ``sub``."""
    from capcon.tui.cli.flags import text

    p = sub.add_parser(
        "prices",
        help="the price book: refresh it from AWS's Price List API",
        description="Read current prices from AWS's Price List API into your price file.",
    )
    actions = p.add_subparsers(dest="prices_command", metavar="ACTION", required=True)
    up = actions.add_parser(
        "update",
        help="read a region's prices from the Price List API into your price file",
        description=(
            "Read DynamoDB, Kinesis and CloudWatch prices for a region from AWS's Price List "
            "API (pricing:GetProducts) and write them, with their date and source, as "
            "[regions.REGION] in your price file (other regions are kept; the file is replaced "
            "atomically, or not at all). Prices not found are left as they are and listed."
        ),
    )
    up.add_argument(
        "--region",
        type=text("an AWS region name such as us-east-1"),
        default=argparse.SUPPRESS,
        help="the region whose prices to read (default: your profile's)",
    )
    up.add_argument(
        "--profile",
        type=text("an AWS profile name"),
        default=argparse.SUPPRESS,
        help="AWS profile for the Price List API (boto3 chain otherwise)",
    )
    up.add_argument(
        "--pricing-region",
        choices=PRICING_REGIONS,
        help="the Price List API endpoint (default: the nearest to --region)",
    )
    up.add_argument(
        "--file",
        type=Path,
        metavar="PATH",
        help="the price file to write (default: ~/.config/capcon/prices.toml)",
    )
    up.add_argument("--dry-run", action="store_true", help="show the differences, write nothing")
    up.add_argument("--json", action="store_true", help="print one JSON object")


def _region(args: argparse.Namespace) -> str:
    region = getattr(args, "region", None) or default_region(getattr(args, "profile", None))
    if not region:
        raise UsageError(
            "no region: pass --region (e.g. us-east-1), or set AWS_REGION or a region in your "
            "profile"
        )
    if not REGION_NAME.fullmatch(region):
        raise UsageError(
            f"--region {printable(region)!r} is not an AWS region name (like us-east-1 or "
            "eu-west-2)"
        )
    return region


def _shown(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def differences(book: PriceBook, report: PriceListReport) -> list[tuple[str, str, str]]:
    """``(field, now, from the Price List)`` for every field found whose value differs."""
    out = []
    for found in report.found:
        now = getattr(book, found.field)
        if now is None or abs(now - found.value) > 1e-12 * max(1.0, abs(found.value)):
            out.append((found.field, _shown(now), _shown(found.value)))
    return out


def run(args: argparse.Namespace) -> int:
    region = _region(args)
    path: Path = args.file if args.file is not None else config_dir() / "prices.toml"
    try:  # the file as it is must be valid: it is not touched otherwise
        book = load_price_book(region, path if path.exists() else None)
    except SettingsError as error:
        raise UsageError(f"{error} (the file was not changed)") from None
    report = read_price_list(
        region,
        pricing_region=args.pricing_region,
        profile=getattr(args, "profile", None),
        endpoint_url=getattr(args, "endpoint_url", None),
        today=datetime.now(UTC).date(),
    )
    changed = differences(book, report)
    written: Path | None = None
    if not args.dry_run:
        try:
            written = write_region_prices(
                path, region, report.values, as_of=report.as_of, source=report.source
            )
        except SettingsError as error:
            raise UsageError(f"{error} (the file was not changed)") from None
    if args.json:
        print_json(
            {
                "region": region,
                "pricing_region": report.pricing_region,
                "as_of": report.as_of.isoformat(),
                "source": report.source,
                "products": report.products,
                "found": to_jsonable(report.found),
                "missing": dict(report.missing),
                "skipped": list(report.skipped),
                "changes": [{"field": f, "now": a, "new": b} for f, a, b in changed],
                "dry_run": bool(args.dry_run),
                "file": None if written is None else str(written),
            }
        )
        return EXIT_OK
    _print_report(region, book, report, changed, path, written)
    return EXIT_OK


def _print_report(
    region: str,
    book: PriceBook,
    report: PriceListReport,
    changed: list[tuple[str, str, str]],
    path: Path,
    written: Path | None,
) -> None:
    say: list[str] = [
        f"{report.source}: {region}, published {report.as_of.isoformat()}, "
        f"{report.products} products read, {len(report.found)} of {len(PRICE_FIELDS)} prices "
        "found",
        f"price book in use: as of {book.as_of.isoformat()} from {book.source}",
    ]
    if changed:
        say.append("changes:")
        width = max(len(f) for f, _, _ in changed)
        say += [f"  {f:<{width}}  {a} → {b}" for f, a, b in changed]
    else:
        say.append("no price differs from the book in use")
    notes = [f for f in report.found if f.note]
    if notes:
        say.append("tiered prices (the first paid tier is used):")
        say += [f"  {f.field}: {f.note} ({f.usagetype})" for f in notes]
    if report.missing:
        say.append("not found, left as they are:")
        say += [f"  {name}: {why}" for name, why in report.missing.items()]
    if report.skipped:
        say.append(f"{len(report.skipped)} malformed products skipped, e.g. {report.skipped[0]}")
    if written is None:
        say.append(f"dry run: {path} not changed")
    else:
        say.append(f"wrote {len(report.found)} prices for {region} to {written}")
    for line in say:
        print(printable(line))
