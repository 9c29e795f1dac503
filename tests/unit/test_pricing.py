"""Prices as dated, overridable data, and the cost arithmetic on them
(docs/aws-rules.md#prices)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capcon.core.config.prices import load_price_book
from capcon.core.config.schema import SettingsError
from capcon.core.model import Throughput
from capcon.core.pricing import (
    HOURS_PER_MONTH,
    PRICE_FIELDS,
    Cost,
    PriceBook,
    assumptions,
    break_even_utilisation,
    closed_shards_cost,
    cloudwatch_cost,
    on_demand_stream_cost,
    on_demand_table_cost,
    provisioned_stream_cost,
    provisioned_table_cost,
    put_payload_units,
)

GIB = 2**30  # the GB AWS bills (binary), pinned here rather than imported
BOOK = load_price_book("us-east-1")

#: docs/aws-rules.md#prices, copied by hand: the data file must say exactly this.
DOMAIN_PRICES = {
    "wcu_hour": 0.00065,
    "rcu_hour": 0.00013,
    "on_demand_write_per_million": 0.625,
    "on_demand_read_per_million": 0.125,
    "storage_gb_month": 0.25,
    "shard_hour": 0.015,
    "put_payload_units_per_million": 0.014,
    "extended_retention_shard_hour": 0.020,
    "on_demand_stream_hour": 0.04,
    "on_demand_gb_in": 0.08,
    "on_demand_gb_out": 0.04,
    "get_metric_data_per_1000_metrics": 0.01,
    "ia_wcu_hour": 0.00081,
    "ia_rcu_hour": 0.00016,
    "ia_on_demand_write_per_million": 0.78125,
    "ia_on_demand_read_per_million": 0.15625,
    "ia_storage_gb_month": 0.10,
    "replicated_wcu_hour": 0.00065,
    "ia_replicated_wcu_hour": 0.00081,
    "on_demand_replicated_write_per_million": 0.625,
    "ia_on_demand_replicated_write_per_million": 0.78125,
    "efo_consumer_shard_hour": 0.015,
    "efo_gb": 0.013,
    "on_demand_efo_gb": 0.05,
    "on_demand_extended_retention_gb_month": 0.10,
    "long_term_retention_gb_month": 0.023,
    "alarm_metric_month": 0.10,
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second": 0.0000166667,
    "lambda_arm_requests_per_million": 0.20,
    "lambda_arm_gb_second": 0.0000133334,
    "sns_requests_per_million": 0.50,
    "sns_lambda_deliveries_per_million": 0.0,
    "cloudwatch_requests_per_1000": 0.01,
    "prewarm_read_units": None,
    "prewarm_write_units": None,
    "advantage_gb_in": None,
    "advantage_gb_out": None,
    "advantage_efo_gb": None,
    "advantage_extended_retention_gb_month": None,
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


def parts(cost: Cost) -> dict[str, float]:
    return dict(cost.breakdown)


# --- the defaults ---------------------------------------------------------------------------


def test_defaults_are_the_domain_prices_dated_and_not_assumed() -> None:
    assert {name: getattr(BOOK, name) for name in PRICE_FIELDS} == DOMAIN_PRICES
    assert BOOK.as_of == date(2024, 11, 1)
    assert BOOK.currency == "USD"
    assert "us-east-1" in BOOK.source
    assert BOOK.bill_closed_shards is False
    assert BOOK.assumed_from is None


def test_assumptions_state_date_source_and_closed_shards() -> None:
    notes = assumptions(BOOK)
    assert notes[0].startswith("Prices as of 2024-11-01 from capcon defaults")
    assert any("closed shards are not billed" in note for note in notes)
    assert not any("no prices for" in note for note in notes)
    billed = assumptions(dataclasses.replace(BOOK, bill_closed_shards=True))
    assert any("closed shards are billed" in note for note in billed)


def test_unknown_region_uses_us_east_1_prices_and_says_so() -> None:
    book = load_price_book("eu-west-1")
    assert book.region == "eu-west-1"
    assert book.assumed_from == "us-east-1"
    assert book.wcu_hour == BOOK.wcu_hour
    assert any("no prices for eu-west-1: us-east-1 prices used" in n for n in assumptions(book))


# --- DynamoDB ----------------------------------------------------------------------------------


def test_provisioned_table_hand_computed() -> None:
    cost = provisioned_table_cost(Throughput(read=100, write=50), BOOK)
    assert cost.per_hour == pytest.approx(100 * 0.00013 + 50 * 0.00065)
    assert cost.per_hour == pytest.approx(0.0455)
    assert cost.per_month == pytest.approx(0.0455 * 730)
    assert parts(cost) == pytest.approx({"provisioned reads": 0.013, "provisioned writes": 0.0325})


def test_storage_is_priced_per_binary_gb_month() -> None:
    cost = provisioned_table_cost(Throughput(1, 1), BOOK, storage_bytes=10 * GIB)
    assert parts(cost)["storage"] * HOURS_PER_MONTH == pytest.approx(10 * 0.25)
    assert "storage" not in parts(provisioned_table_cost(Throughput(1, 1), BOOK))


def test_on_demand_table_hand_computed() -> None:
    # 100 read units/s and 10 write units/s for an hour: 360,000 and 36,000 request units.
    cost = on_demand_table_cost(100, 10, BOOK)
    assert parts(cost)["on-demand reads"] == pytest.approx(0.36 * 0.125)
    assert parts(cost)["on-demand writes"] == pytest.approx(0.036 * 0.625)
    assert cost.per_hour == pytest.approx(0.045 + 0.0225)


def test_break_even_is_about_29_percent_and_costs_meet_there() -> None:
    write = break_even_utilisation(BOOK)
    assert write == pytest.approx(0.2889, abs=1e-4)
    assert break_even_utilisation(BOOK, "read") == pytest.approx(0.2889, abs=1e-4)
    dear_reads = dataclasses.replace(BOOK, rcu_hour=2 * BOOK.rcu_hour)
    assert break_even_utilisation(dear_reads, "read") == pytest.approx(2 * 0.2889, abs=1e-3)
    assert break_even_utilisation(dear_reads) == pytest.approx(write)
    wcu = 1000
    provisioned = provisioned_table_cost(Throughput(0, wcu), BOOK).per_hour
    assert on_demand_table_cost(0, wcu * write, BOOK).per_hour == pytest.approx(provisioned)
    free = dataclasses.replace(BOOK, on_demand_write_per_million=0.0)
    assert break_even_utilisation(free) == math.inf


# --- Kinesis -----------------------------------------------------------------------------------


def test_closed_shards_cost_nothing_by_default() -> None:
    assert closed_shards_cost(4, 24, BOOK) == 0.0
    assert provisioned_stream_cost(4, BOOK).per_hour == pytest.approx(4 * 0.015)


def test_closed_shards_are_billed_once_for_their_retention_when_the_book_says_so() -> None:
    book = dataclasses.replace(BOOK, bill_closed_shards=True)
    # 2 closed shards live 24 h: 2 × 24 shard-hours at $0.015, once.
    assert closed_shards_cost(2, 24, book) == pytest.approx(2 * 24 * 0.015)
    # 48 h retention adds the extended-retention surcharge for each of those hours.
    assert closed_shards_cost(2, 48, book) == pytest.approx(2 * 48 * (0.015 + 0.020))


def test_extended_retention_surcharge_only_beyond_24_hours() -> None:
    assert provisioned_stream_cost(2, BOOK, retention_hours=24).per_hour == pytest.approx(0.03)
    cost = provisioned_stream_cost(2, BOOK, retention_hours=48)
    assert parts(cost)["extended retention"] == pytest.approx(2 * 0.020)
    assert cost.per_hour == pytest.approx(2 * (0.015 + 0.020))


def test_put_payload_units_of_30_kb_records() -> None:
    assert put_payload_units(30_000) == 2
    assert put_payload_units(25 * 1024) == 1
    assert put_payload_units(25 * 1024 + 1) == 2
    assert put_payload_units(0) == 1
    cost = provisioned_stream_cost(1, BOOK, records_per_second=1000, average_record_bytes=30_000)
    # 1,000 records/s × 3,600 s × 2 units = 7.2 million units at $0.014 per million.
    assert parts(cost)["PUT payload units"] == pytest.approx(7.2 * 0.014)


def test_on_demand_stream_hand_computed() -> None:
    cost = on_demand_stream_cost(GIB / 3600, 2 * GIB / 3600, BOOK)  # 1 GB in, 2 GB out per hour
    assert parts(cost) == pytest.approx({"stream-hours": 0.04, "data in": 0.08, "data out": 0.08})
    assert cost.per_hour == pytest.approx(0.20)


def test_cloudwatch_polling_example_from_the_brief() -> None:
    # 6 metrics × 1,000 tables, every minute, for an hour.
    assert cloudwatch_cost(6 * 1000 * 60, BOOK) == pytest.approx(3.60)
    assert cloudwatch_cost(0, BOOK) == 0


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="write"):
        provisioned_table_cost(Throughput(1, -1), BOOK)
    with pytest.raises(ValueError, match="records_per_second"):
        provisioned_stream_cost(1, BOOK, records_per_second=-1)
    with pytest.raises(ValueError, match="bytes_in_per_second"):
        on_demand_stream_cost(math.nan, 0, BOOK)


def test_costs_add_and_merge_breakdowns() -> None:
    a = provisioned_table_cost(Throughput(10, 10), BOOK)
    b = provisioned_table_cost(Throughput(20, 0), BOOK, storage_bytes=GIB)
    total = a + b
    assert total.per_hour == pytest.approx(a.per_hour + b.per_hour)
    assert [label for label, _ in total.breakdown] == [
        "provisioned reads",
        "provisioned writes",
        "storage",
    ]
    assert parts(total)["provisioned reads"] == pytest.approx(30 * 0.00013)
    assert total.per_month == pytest.approx(total.per_hour * 730)


# --- user price files --------------------------------------------------------------------------


def test_user_file_overrides_globals_and_its_region(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'as_of = "2026-01-15"\nbill_closed_shards = true\n'
        "[regions.us-east-1]\nwcu_hour = 0.001\nshard_hour = 1\n"
        "[regions.eu-west-1]\nwcu_hour = 0.002\n",
    )
    book = load_price_book("us-east-1", path)
    assert book.wcu_hour == 0.001
    assert book.shard_hour == 1.0
    assert isinstance(book.shard_hour, float)
    assert book.rcu_hour == 0.00013  # not set: default kept
    assert book.as_of == date(2026, 1, 15)
    assert book.bill_closed_shards is True
    assert str(path) in book.source
    assert load_price_book("eu-west-1", path).wcu_hour == 0.002


def test_globals_only_file_keeps_default_source(tmp_path: Path) -> None:
    book = load_price_book("us-east-1", write(tmp_path, "bill_closed_shards = true\n"))
    assert book.bill_closed_shards is True
    assert book.source == BOOK.source


def test_user_file_pricing_a_whole_region_clears_the_assumption(tmp_path: Path) -> None:
    table = "".join(
        f"{name} = {value * 1.1}\n" for name, value in DOMAIN_PRICES.items() if value is not None
    )
    path = write(tmp_path, f"as_of = 2026-02-01\n[regions.eu-west-1]\n{table}")
    book = load_price_book("eu-west-1", path)
    assert book.assumed_from is None
    assert book.source == str(path)
    assert book.wcu_hour == pytest.approx(0.00065 * 1.1)
    assert not any("no prices for" in note for note in assumptions(book))


def test_partial_region_prices_keep_the_assumption_visible(tmp_path: Path) -> None:
    path = write(tmp_path, "[regions.eu-west-1]\nwcu_hour = 0.0007\n")
    book = load_price_book("eu-west-1", path)
    assert book.wcu_hour == 0.0007
    assert book.assumed_from == "us-east-1"
    assert str(path) in book.source and BOOK.source in book.source


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("colour = 1\n", "colour"),
        ("region = 'eu-west-1'\n", "region"),
        ("assumed_from = 'x'\n", "assumed_from"),
        ("wcu_hour = 0.1\n", "wcu_hour"),  # prices belong in a region table
        ("bill_closed_shards = 'yes'\n", "bill_closed_shards"),
        ("as_of = 'last tuesday'\n", "as_of"),
        ("regions = 3\n", "regions"),
        ("[regions]\neu-west-1 = 0.1\n", "regions.eu-west-1"),
        ("[regions.us-east-1]\nwcu_hour = -0.1\n", "wcu_hour"),
        ("[regions.us-east-1]\nwcu_hour = 'cheap'\n", "wcu_hour"),
        ("[regions.us-east-1]\nwcu_hour = nan\n", "wcu_hour"),
        ("[regions.us-east-1]\nshard_hour = inf\n", "shard_hour"),
        ("[regions.us-east-1]\nbill_closed_shards = true\n", "bill_closed_shards"),
        ("[regions.ap-south-1]\nwcu_hours = 0.1\n", "wcu_hours"),  # other regions are checked
    ],
)
def test_bad_user_files_name_file_and_key(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        load_price_book("us-east-1", path)
    message = str(caught.value)
    assert str(path) in message
    assert named in message


def test_unknown_key_lists_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"allowed: .*rcu_hour"):
        load_price_book("us-east-1", write(tmp_path, "[regions.us-east-1]\nrcu = 1\n"))


def test_unreadable_user_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such file"):
        load_price_book("us-east-1", tmp_path / "missing.toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_price_book("us-east-1", write(tmp_path, "wcu_hour = = 1\n"))


def test_pricing_never_imports_the_ui() -> None:
    code = (
        "import sys, capcon.core.pricing\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'plotext')"
        " or m.startswith('capcon.tui')]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- properties --------------------------------------------------------------------------------

units = st.integers(min_value=0, max_value=40_000)
rates = st.floats(min_value=0, max_value=1e6, allow_nan=False)
sizes = st.floats(min_value=0, max_value=1_048_576, allow_nan=False)
prices = st.floats(min_value=0, max_value=10, allow_nan=False)


@st.composite
def books(draw: st.DrawFn) -> PriceBook:
    chosen: dict[str, Any] = {name: draw(prices) for name in PRICE_FIELDS}
    return dataclasses.replace(BOOK, bill_closed_shards=draw(st.booleans()), **chosen)


@given(units, units, units, units, st.integers(0, 10**12))
def test_table_cost_never_falls_as_capacity_rises(
    read: int, write: int, more_read: int, more_write: int, storage: int
) -> None:
    low = provisioned_table_cost(Throughput(read, write), BOOK, storage_bytes=storage)
    high = provisioned_table_cost(
        Throughput(read + more_read, write + more_write), BOOK, storage_bytes=storage
    )
    assert high.per_hour >= low.per_hour >= 0


@given(rates, rates, rates, rates)
def test_on_demand_cost_never_falls_as_traffic_rises(
    reads: float, writes: float, more_reads: float, more_writes: float
) -> None:
    low = on_demand_table_cost(reads, writes, BOOK)
    high = on_demand_table_cost(reads + more_reads, writes + more_writes, BOOK)
    assert high.per_hour >= low.per_hour >= 0
    low_stream = on_demand_stream_cost(reads, writes, BOOK)
    assert on_demand_stream_cost(reads + more_reads, writes + more_writes, BOOK).per_hour >= (
        low_stream.per_hour
    )


@given(
    shards=st.integers(0, 10_000),
    more=st.integers(0, 10_000),
    closed=st.integers(0, 10_000),
    records=rates,
    more_records=rates,
    size=sizes,
    retention=st.integers(24, 8760),
    book=books(),
)
def test_stream_cost_never_falls_as_shards_or_traffic_rise(
    *,
    shards: int,
    more: int,
    closed: int,
    records: float,
    more_records: float,
    size: float,
    retention: int,
    book: PriceBook,
) -> None:
    def cost(open_shards: int, records_per_second: float, hours: int) -> float:
        return provisioned_stream_cost(
            open_shards,
            book,
            retention_hours=hours,
            records_per_second=records_per_second,
            average_record_bytes=size,
            bytes_in_per_second=records_per_second * size,
            efo_consumers=closed % 21,
        ).per_hour

    base = cost(shards, records, retention)
    assert base >= 0
    assert cost(shards + more, records, retention) >= base
    assert cost(shards, records + more_records, retention) >= base
    assert cost(shards, records, retention + 1) >= base


@given(
    book=books(), read=units, write=units, reads=rates, writes=rates, storage=st.integers(0, 10**12)
)
def test_costs_are_never_negative_and_parts_add_up(
    *, book: PriceBook, read: int, write: int, reads: float, writes: float, storage: int
) -> None:
    costs = [
        provisioned_table_cost(Throughput(read, write), book, storage_bytes=storage),
        on_demand_table_cost(reads, writes, book, storage_bytes=storage),
        provisioned_stream_cost(
            read, book, records_per_second=reads, bytes_in_per_second=writes, efo_consumers=write
        ),
        on_demand_stream_cost(reads, writes, book),
    ]
    for cost in costs:
        assert cost.per_hour >= 0
        assert all(amount > 0 for _, amount in cost.breakdown)
        assert cost.per_hour == pytest.approx(sum(amount for _, amount in cost.breakdown))
    assert cloudwatch_cost(read, book) >= 0
    assert break_even_utilisation(book) >= 0


def test_unknown_prices_stay_unknown_until_a_price_file_sets_them(tmp_path: Path) -> None:
    assert BOOK.prewarm_write_units is None and BOOK.advantage_gb_in is None
    book = load_price_book(
        "us-east-1", write(tmp_path, "[regions.us-east-1]\nprewarm_write_units = 0.5\n")
    )
    assert book.prewarm_write_units == 0.5
    assert book.prewarm_read_units is None
    with pytest.raises(SettingsError, match="prewarm_read_units"):
        load_price_book(
            "us-east-1", write(tmp_path, "[regions.us-east-1]\nprewarm_read_units = 'x'\n")
        )


def test_a_file_pricing_every_known_price_owns_the_region_without_the_unknown_ones(
    tmp_path: Path,
) -> None:
    from capcon.core.pricing import REQUIRED_PRICE_FIELDS

    lines = "".join(f"{name} = 1.0\n" for name in REQUIRED_PRICE_FIELDS)
    book = load_price_book("eu-west-3", write(tmp_path, f"[regions.eu-west-3]\n{lines}"))
    assert book.assumed_from is None
    assert book.ia_wcu_hour == 1.0 and book.prewarm_read_units is None


def test_a_currency_without_the_prices_in_it_is_refused(tmp_path: Path) -> None:
    """`currency = "EUR"` alone would show capcon's USD prices labelled EUR."""
    with pytest.raises(SettingsError, match=r"currency = 'EUR' would relabel capcon's USD"):
        load_price_book("us-east-1", write(tmp_path, 'currency = "EUR"\n'))
    with pytest.raises(SettingsError, match="missing: wcu_hour"):
        load_price_book(
            "us-east-1", write(tmp_path, 'currency = "EUR"\n[regions.us-east-1]\nrcu_hour = 1\n')
        )
    from capcon.core.pricing import REQUIRED_PRICE_FIELDS

    lines = "".join(f"{name} = 1.0\n" for name in REQUIRED_PRICE_FIELDS)
    book = load_price_book(
        "us-east-1", write(tmp_path, f'currency = "EUR"\n[regions.us-east-1]\n{lines}')
    )
    assert book.currency == "EUR" and book.wcu_hour == 1.0
