"""What capacity costs: dated, overridable prices and the arithmetic on them.

Prices change and differ by region, so they are data (``data/prices.toml``, us-east-1 only),
never constants in code, and every figure the console shows comes with the assumptions behind
it (:func:`assumptions`).  All costs are in the price book's currency, per hour; a month is
AWS's 730 hours.

Units: DynamoDB storage and Kinesis on-demand data are billed per GB, taken here as 2**30 bytes
(AWS bills "GB" as binary gigabytes); a Kinesis PUT payload unit is 25 KiB (25 × 1024 bytes).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Literal

from capcon.core.model import TableClass, Throughput

HOURS_PER_MONTH = 730
GIB = 2**30
PUT_PAYLOAD_UNIT_BYTES = 25 * 1024
#: Kinesis retention up to this many hours is included in the shard-hour price.
INCLUDED_RETENTION_HOURS = 24
#: Kinesis on-demand bills each record's ingest rounded up to a whole KB (pricing page).
ON_DEMAND_RECORD_ROUNDING_BYTES = 1024
#: The largest Kinesis record, 10 MiB (botocore ``MaxRecordSizeInKiB``, at most 10,240): an
#: average record size from metrics is never taken as larger (a few bytes over a near-zero
#: record count would otherwise be an infinite size).
MAX_RECORD_BYTES = 10 * 2**20
#: Kinesis retention beyond this many hours (7 days) is long-term retention, per GB-month.
LONG_TERM_RETENTION_HOURS = 7 * 24
#: Labels of the retention parts estimated from the ingest rate.
EXTENDED_LABEL = "extended retention (estimate)"
LONG_TERM_LABEL = "long-term retention (estimate)"
#: The only region with known prices; any other region borrows these (and says so).
FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class PriceBook:
    """Prices for one region, with where they came from and the assumptions made."""

    region: str
    as_of: date
    source: str
    wcu_hour: float  # DynamoDB, per provisioned WCU-hour
    rcu_hour: float  # DynamoDB, per provisioned RCU-hour
    on_demand_write_per_million: float  # DynamoDB, per million write request units
    on_demand_read_per_million: float  # DynamoDB, per million read request units
    storage_gb_month: float  # DynamoDB, per GB-month (GB = 2**30 bytes)
    shard_hour: float  # Kinesis provisioned, per shard-hour
    put_payload_units_per_million: float  # Kinesis provisioned, per million 25 KiB units
    extended_retention_shard_hour: float  # Kinesis, per shard-hour when retention > 24 h
    on_demand_stream_hour: float  # Kinesis on-demand, per stream-hour
    on_demand_gb_in: float  # Kinesis on-demand, per GB written (GB = 2**30 bytes)
    on_demand_gb_out: float  # Kinesis on-demand, per GB read (GB = 2**30 bytes)
    get_metric_data_per_1000_metrics: float  # CloudWatch GetMetricData, per 1,000 metrics
    # --- DynamoDB table classes and global tables (docs/aws-rules.md#prices) -------------
    ia_wcu_hour: float  # Standard-IA, per provisioned WCU-hour
    ia_rcu_hour: float  # Standard-IA, per provisioned RCU-hour
    ia_on_demand_write_per_million: float  # Standard-IA, per million write request units
    ia_on_demand_read_per_million: float  # Standard-IA, per million read request units
    ia_storage_gb_month: float  # Standard-IA, per GB-month
    replicated_wcu_hour: float  # global tables, Standard, per provisioned replicated WCU-hour
    ia_replicated_wcu_hour: float  # global tables, Standard-IA, per replicated WCU-hour
    on_demand_replicated_write_per_million: float  # global tables, Standard, on-demand
    ia_on_demand_replicated_write_per_million: float  # global tables, Standard-IA, on-demand
    # --- Kinesis enhanced fan-out and retention ----------------------------------------
    efo_consumer_shard_hour: float  # provisioned, per consumer-shard-hour
    efo_gb: float  # provisioned, per GB retrieved by enhanced fan-out consumers
    on_demand_efo_gb: float  # on-demand, per GB retrieved by enhanced fan-out consumers
    on_demand_extended_retention_gb_month: float  # on-demand, per GB-month, 24 h to 7 days
    long_term_retention_gb_month: float  # both modes, per GB-month stored beyond 7 days
    # --- the deployed engine's own AWS parts (docs/aws-rules.md#the-deployed-engine-what-it-costs)
    #: CloudWatch standard-resolution (60 s) metric alarm, per alarm metric-month: an alarm on
    #: metric math is counted per metric it reads (unconfirmed: see the docs).
    alarm_metric_month: float
    lambda_requests_per_million: float  # Lambda, x86_64, per million requests
    lambda_gb_second: float  # Lambda, x86_64, per GB-second of duration (first tier)
    lambda_arm_requests_per_million: float  # Lambda, arm64, per million requests
    lambda_arm_gb_second: float  # Lambda, arm64, per GB-second of duration (first tier)
    sns_requests_per_million: float  # SNS standard topic, per million requests (publishes)
    sns_lambda_deliveries_per_million: float  # SNS deliveries to Lambda, per million (free)
    #: CloudWatch API requests other than GetMetricData (PutMetricAlarm, SetAlarmState,
    #: DescribeAlarms …), per 1,000 requests (the first million a month are free)
    cloudwatch_requests_per_1000: float
    # --- prices not known to capcon: ``None`` means "unknown", and a plan that needs one
    # says so instead of showing a number.  A price file may set them.
    prewarm_read_units: float | None = None  # DynamoDB pre-warming, per read unit/s raised
    prewarm_write_units: float | None = None  # DynamoDB pre-warming, per write unit/s raised
    advantage_gb_in: float | None = None  # Kinesis On-demand Advantage, per GB written
    advantage_gb_out: float | None = None  # Kinesis On-demand Advantage, per GB read
    advantage_efo_gb: float | None = None  # Kinesis On-demand Advantage, per GB read by EFO
    #: Kinesis On-demand Advantage, per GB-month stored between 24 h and 7 days
    advantage_extended_retention_gb_month: float | None = None
    currency: str = "USD"
    #: AWS's pricing page bills open shard-hours; field note C says closed parent shards kept
    #: costing until they expired.  Unconfirmed either way, so it is a visible setting
    #: (docs/field-notes.md#closed-shards-and-their-bill).
    bill_closed_shards: bool = False
    #: The region whose prices were used because ``region`` had none; ``None`` if its own.
    assumed_from: str | None = None


#: Prices every price book has: capcon's defaults set each one.
REQUIRED_PRICE_FIELDS = tuple(
    f.name for f in dataclasses.fields(PriceBook) if f.type in ("float", float)
)
#: Prices capcon does not know (``None`` until a price file sets them).
UNKNOWN_PRICE_FIELDS = tuple(
    f.name for f in dataclasses.fields(PriceBook) if f.type in ("float | None", float | None)
)
#: Every key a ``[regions.<name>]`` table of a price file may set.
PRICE_FIELDS = REQUIRED_PRICE_FIELDS + UNKNOWN_PRICE_FIELDS
#: Keys a price file may set at its top level: they apply to every region.
GLOBAL_KEYS = ("as_of", "source", "currency", "bill_closed_shards")


def assumptions(book: PriceBook) -> tuple[str, ...]:
    """Sentences the console must show next to any money figure computed from ``book``."""
    notes = [
        f"Prices as of {book.as_of.isoformat()} from {book.source}, in {book.currency}; "
        "AWS changes prices: check them against your bill"
    ]
    if book.bill_closed_shards:
        notes.append(
            "closed shards are billed until they expire (bill_closed_shards = true; AWS's "
            "pricing page bills open shard-hours only): a reshard's closed shards are a "
            "one-time cost for their retention, not part of the hourly cost"
        )
    else:
        notes.append(
            "closed shards are not billed (assumption: AWS bills open shard-hours; set "
            "bill_closed_shards = true if your bill says otherwise)"
        )
    if book.assumed_from is not None:
        notes.append(
            f"no prices for {book.region}: {book.assumed_from} prices used for any not set "
            f"under [regions.{book.region}] in a price file"
        )
    return tuple(notes)


@dataclass(frozen=True)
class Cost:
    """A cost per hour with its parts (label, per-hour amount); zero parts are left out."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("per_month",)

    per_hour: float
    breakdown: tuple[tuple[str, float], ...] = ()

    @property
    def per_month(self) -> float:
        return self.per_hour * HOURS_PER_MONTH

    @classmethod
    def of(cls, *parts: tuple[str, float]) -> Cost:
        kept = tuple((label, amount) for label, amount in parts if amount != 0)
        return cls(sum(amount for _, amount in kept), kept)

    def __add__(self, other: Cost) -> Cost:
        """The two costs together; parts with the same label are summed, first order kept."""
        merged: dict[str, float] = {}
        for label, amount in (*self.breakdown, *other.breakdown):
            merged[label] = merged.get(label, 0.0) + amount
        return Cost(self.per_hour + other.per_hour, tuple(merged.items()))


def _non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")


@dataclass(frozen=True, slots=True)
class TablePrices:
    """The DynamoDB prices of one table class in one price book (per unit-hour, per million
    request units, per GB-month); ``replicated_*`` are what a global table's writes cost."""

    table_class: TableClass
    wcu_hour: float
    rcu_hour: float
    on_demand_write_per_million: float
    on_demand_read_per_million: float
    storage_gb_month: float
    replicated_wcu_hour: float
    on_demand_replicated_write_per_million: float


def table_prices(book: PriceBook, table_class: TableClass = TableClass.STANDARD) -> TablePrices:
    """``book``'s DynamoDB prices for ``table_class`` (Standard-IA: throughput dearer, storage
    cheaper; docs/aws-rules.md#global-tables-and-table-classes)."""
    if table_class is TableClass.STANDARD_INFREQUENT_ACCESS:
        return TablePrices(
            table_class,
            book.ia_wcu_hour,
            book.ia_rcu_hour,
            book.ia_on_demand_write_per_million,
            book.ia_on_demand_read_per_million,
            book.ia_storage_gb_month,
            book.ia_replicated_wcu_hour,
            book.ia_on_demand_replicated_write_per_million,
        )
    return TablePrices(
        table_class,
        book.wcu_hour,
        book.rcu_hour,
        book.on_demand_write_per_million,
        book.on_demand_read_per_million,
        book.storage_gb_month,
        book.replicated_wcu_hour,
        book.on_demand_replicated_write_per_million,
    )


def _label(region: str | None, words: str) -> str:
    return f"{region} {words}" if region else words


def provisioned_table_cost(
    capacity: Throughput,
    book: PriceBook,
    *,
    storage_bytes: int = 0,
    table_class: TableClass = TableClass.STANDARD,
    replicated: bool = False,
    region: str | None = None,
) -> Cost:
    """A provisioned table (or GSI: price each and add) per hour: RCU-hours, WCU-hours and
    storage, whose GB-month price is spread over the 730-hour month, at ``table_class``'s
    prices.  ``replicated``: a global table's region, whose write capacity is billed as
    replicated WCU-hours; ``region`` names the region in each part of the breakdown."""
    _non_negative(read=capacity.read, write=capacity.write, storage_bytes=storage_bytes)
    p = table_prices(book, table_class)
    writes = ("replicated writes", p.replicated_wcu_hour) if replicated else None
    return Cost.of(
        (_label(region, "provisioned reads"), capacity.read * p.rcu_hour),
        (
            _label(region, writes[0] if writes else "provisioned writes"),
            capacity.write * (writes[1] if writes else p.wcu_hour),
        ),
        (_label(region, "storage"), _storage_per_hour(storage_bytes, p.storage_gb_month)),
    )


def on_demand_table_cost(
    reads_per_second: float,
    writes_per_second: float,
    book: PriceBook,
    *,
    storage_bytes: int = 0,
    table_class: TableClass = TableClass.STANDARD,
    replicated: bool = False,
    region: str | None = None,
) -> Cost:
    """An on-demand table per hour at a steady rate of *request units* per second (what
    ``Consumed*CapacityUnits`` measure: a 4 KB strong read or a 1 KB write is one unit), at
    ``table_class``'s prices; ``replicated``: writes billed as replicated write request units
    (a global table's region)."""
    _non_negative(
        reads_per_second=reads_per_second,
        writes_per_second=writes_per_second,
        storage_bytes=storage_bytes,
    )
    p = table_prices(book, table_class)
    write_price = (
        p.on_demand_replicated_write_per_million if replicated else p.on_demand_write_per_million
    )
    return Cost.of(
        (
            _label(region, "on-demand reads"),
            reads_per_second * 3600 * p.on_demand_read_per_million / 1e6,
        ),
        (
            _label(region, "replicated writes" if replicated else "on-demand writes"),
            writes_per_second * 3600 * write_price / 1e6,
        ),
        (_label(region, "storage"), _storage_per_hour(storage_bytes, p.storage_gb_month)),
    )


def _storage_per_hour(storage_bytes: int, gb_month: float) -> float:
    return storage_bytes / GIB * gb_month / HOURS_PER_MONTH


@dataclass(frozen=True, slots=True)
class ClassBreakEven:
    """Switching one table (with its GSIs) between classes, per month in one region: what
    storage saves and what throughput costs more (negative: the other way round)."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("net_saving", "break_even_gb")

    storage_gb: float
    storage_saving: float
    throughput_premium: float

    @property
    def net_saving(self) -> float:
        return self.storage_saving - self.throughput_premium

    @property
    def break_even_gb(self) -> float | None:
        """The stored GB at which the storage saving equals the throughput premium (the
        switch pays above it); ``None`` when storage saves nothing or nothing is stored."""
        if self.storage_gb <= 0 or self.storage_saving <= 0 or self.throughput_premium < 0:
            return None
        return self.throughput_premium / (self.storage_saving / self.storage_gb)


def class_break_even(before: Cost, after: Cost, storage_bytes: int) -> ClassBreakEven:
    """The monthly storage saving and throughput premium of a class switch, from the costs
    before and after (storage is the parts labelled ``storage``; the rest is throughput)."""

    def storage(cost: Cost) -> float:
        return sum(a for label, a in cost.breakdown if label.endswith("storage"))

    saving = (storage(before) - storage(after)) * HOURS_PER_MONTH
    premium = (
        (after.per_hour - storage(after)) - (before.per_hour - storage(before))
    ) * HOURS_PER_MONTH
    return ClassBreakEven(storage_bytes / GIB, saving, premium)


def put_payload_units(record_bytes: float) -> int:
    """PUT payload units one record of ``record_bytes`` uses: 25 KiB chunks, at least one."""
    _non_negative(record_bytes=record_bytes)
    return max(1, math.ceil(min(record_bytes, MAX_RECORD_BYTES) / PUT_PAYLOAD_UNIT_BYTES))


def provisioned_stream_cost(
    open_shards: int,
    book: PriceBook,
    *,
    retention_hours: int = 24,
    records_per_second: float = 0.0,
    average_record_bytes: float = 1024.0,
    bytes_in_per_second: float = 0.0,
    efo_consumers: int = 0,
) -> Cost:
    """A provisioned stream per hour (docs/aws-rules.md#kinesis-prices): shard-hours, PUT
    payload units, extended retention (per shard-hour beyond 24 h), long-term retention (per
    GB-month stored beyond 7 days, an estimate from the ingest rate), and enhanced fan-out:
    consumer-shard-hours (every consumer pays for every open shard, so a reshard multiplies
    them) and the GB each consumer receives (every EFO consumer receives every record, so
    ``efo_consumers × bytes_in``).  Reads through ``GetRecords`` cost nothing extra.

    Closed shards are not part of the hourly cost: when the book bills them they are a
    one-time cost for their retention (:func:`closed_shards_cost`).  Payload units are
    estimated from the average record size: a mix of small and large records can use more.
    """
    _non_negative(
        open_shards=open_shards,
        retention_hours=retention_hours,
        records_per_second=records_per_second,
        bytes_in_per_second=bytes_in_per_second,
        efo_consumers=efo_consumers,
    )
    units_per_hour = records_per_second * 3600 * put_payload_units(average_record_bytes)
    extended = retention_hours > INCLUDED_RETENTION_HOURS
    return Cost.of(
        ("shard-hours", open_shards * book.shard_hour),
        ("PUT payload units", units_per_hour * book.put_payload_units_per_million / 1e6),
        (
            "extended retention",
            open_shards * book.extended_retention_shard_hour if extended else 0.0,
        ),
        (
            LONG_TERM_LABEL,
            _gb_month_per_hour(
                long_term_stored_bytes(bytes_in_per_second, retention_hours),
                book.long_term_retention_gb_month,
            ),
        ),
        ("EFO consumer-shard-hours", efo_consumers * open_shards * book.efo_consumer_shard_hour),
        ("EFO data", _gb_per_hour(efo_consumers * bytes_in_per_second) * book.efo_gb),
    )


def on_demand_stream_cost(
    bytes_in_per_second: float,
    bytes_out_per_second: float,
    book: PriceBook,
    *,
    records_in_per_second: float | None = None,
    efo_consumers: int = 0,
    retention_hours: int = 24,
) -> Cost:
    """An on-demand Standard stream per hour (docs/aws-rules.md#kinesis-prices): the
    stream-hour, data in, data out (``bytes_out``: what ``GetRecords`` consumers read, the
    ``GetRecords.Bytes`` metric), enhanced fan-out retrieval (every EFO consumer receives every
    record: ``efo_consumers × bytes_in``), and retention beyond 24 h and beyond 7 days per
    GB-month (estimates from the ingest rate).  GB = 2**30 bytes.

    With ``records_in_per_second`` given, data in is billed as AWS bills it: each record
    rounded up to 1 KB (:func:`on_demand_billed_bytes_in`, from the average record size, so a
    mix of sizes may cost more); without it, the bytes as measured.
    """
    _non_negative(
        bytes_in_per_second=bytes_in_per_second,
        bytes_out_per_second=bytes_out_per_second,
        efo_consumers=efo_consumers,
        retention_hours=retention_hours,
    )
    billed_in = on_demand_billed_bytes_in(bytes_in_per_second, records_in_per_second)
    extended, long_term = _retained_bytes(billed_in, retention_hours)
    return Cost.of(
        ("stream-hours", book.on_demand_stream_hour),
        ("data in", _gb_per_hour(billed_in) * book.on_demand_gb_in),
        ("data out", _gb_per_hour(bytes_out_per_second) * book.on_demand_gb_out),
        ("EFO data out", _gb_per_hour(efo_consumers * bytes_in_per_second) * book.on_demand_efo_gb),
        (
            EXTENDED_LABEL,
            _gb_month_per_hour(extended, book.on_demand_extended_retention_gb_month),
        ),
        (LONG_TERM_LABEL, _gb_month_per_hour(long_term, book.long_term_retention_gb_month)),
    )


def advantage_stream_cost(
    bytes_in_per_second: float,
    bytes_out_per_second: float,
    book: PriceBook,
    *,
    records_in_per_second: float | None = None,
    efo_consumers: int = 0,
    retention_hours: int = 24,
) -> Cost | None:
    """An on-demand stream of an account with On-demand Advantage, per hour: no stream-hour,
    data in (each record rounded up to 1 KB, assumed as in Standard), data out and enhanced
    fan-out retrieval (no premium over data out in this mode) and retention, at the book's
    ``advantage_*`` prices.  ``None`` when one of them is unknown (the default book does not
    know them: docs/aws-rules.md#kinesis-prices).  The account's commitment (25 MiB/s in and
    out across all on-demand streams of the region, the shortfall billed) is not per stream and
    is not included."""
    _non_negative(
        bytes_in_per_second=bytes_in_per_second,
        bytes_out_per_second=bytes_out_per_second,
        efo_consumers=efo_consumers,
        retention_hours=retention_hours,
    )
    gb_in, gb_out, efo_gb = book.advantage_gb_in, book.advantage_gb_out, book.advantage_efo_gb
    billed_in = on_demand_billed_bytes_in(bytes_in_per_second, records_in_per_second)
    extended, long_term = _retained_bytes(billed_in, retention_hours)
    retention_price = book.advantage_extended_retention_gb_month
    if gb_in is None or gb_out is None or (efo_consumers and efo_gb is None):
        return None
    if extended and retention_price is None:
        return None
    return Cost.of(
        ("data in", _gb_per_hour(billed_in) * gb_in),
        ("data out", _gb_per_hour(bytes_out_per_second) * gb_out),
        ("EFO data out", _gb_per_hour(efo_consumers * bytes_in_per_second) * (efo_gb or 0.0)),
        (EXTENDED_LABEL, _gb_month_per_hour(extended, retention_price or 0.0)),
        (LONG_TERM_LABEL, _gb_month_per_hour(long_term, book.long_term_retention_gb_month)),
    )


def closed_shards_cost(closed_shards: int, retention_hours: int, book: PriceBook) -> float:
    """The one-time cost of ``closed_shards`` closed by a reshard, if the book bills closed
    shards (``bill_closed_shards``; else 0): a closed shard stays for ``retention_hours`` and
    then expires, so it is billed once, shard-hours (and the extended-retention surcharge
    beyond 24 h) × its retention, never as a recurring hourly cost."""
    _non_negative(closed_shards=closed_shards, retention_hours=retention_hours)
    if not book.bill_closed_shards:
        return 0.0
    per_hour = book.shard_hour
    if retention_hours > INCLUDED_RETENTION_HOURS:
        per_hour += book.extended_retention_shard_hour
    return closed_shards * retention_hours * per_hour


def on_demand_billed_bytes_in(
    bytes_in_per_second: float, records_in_per_second: float | None
) -> float:
    """Bytes per second an on-demand stream bills as data in: each record rounded up to 1 KB
    (1,024 bytes; Kinesis pricing page, "Data-In"), estimated as records/s × the average record
    size rounded up to the KB, at least 1 KB.  Records of mixed sizes round each one up, so
    the real bill may be higher than this estimate.  Without a record count (``None`` or 0
    with bytes): the bytes as measured."""
    _non_negative(bytes_in_per_second=bytes_in_per_second)
    if records_in_per_second is None or not records_in_per_second > 0:
        return bytes_in_per_second
    average = min(bytes_in_per_second / records_in_per_second, MAX_RECORD_BYTES)
    kilobytes = max(1, math.ceil(average / ON_DEMAND_RECORD_ROUNDING_BYTES))
    rounded = records_in_per_second * kilobytes * ON_DEMAND_RECORD_ROUNDING_BYTES
    return max(rounded, bytes_in_per_second)  # metrics that disagree never bill less


def long_term_stored_bytes(bytes_per_second: float, retention_hours: int) -> float:
    """Bytes a stream keeps beyond 7 days at a steady ingest rate (an estimate)."""
    return _retained_bytes(bytes_per_second, retention_hours)[1]


def _retained_bytes(bytes_per_second: float, retention_hours: int) -> tuple[float, float]:
    """Bytes kept at a steady ingest rate between 24 h and 7 days, and beyond 7 days."""
    extended_hours = max(
        0, min(retention_hours, LONG_TERM_RETENTION_HOURS) - INCLUDED_RETENTION_HOURS
    )
    long_term_hours = max(0, retention_hours - LONG_TERM_RETENTION_HOURS)
    return bytes_per_second * extended_hours * 3600, bytes_per_second * long_term_hours * 3600


def _gb_per_hour(bytes_per_second: float) -> float:
    return bytes_per_second * 3600 / GIB


def _gb_month_per_hour(stored_bytes: float, gb_month: float) -> float:
    return stored_bytes / GIB * gb_month / HOURS_PER_MONTH


def cloudwatch_cost(metrics_requested: int, book: PriceBook) -> float:
    """Dollars for requesting ``metrics_requested`` metrics through GetMetricData (each metric
    in each call counts: 6 metrics × 1,000 tables polled each minute ≈ $3.60 an hour)."""
    _non_negative(metrics_requested=metrics_requested)
    return metrics_requested * book.get_metric_data_per_1000_metrics / 1000


@dataclass(frozen=True, slots=True)
class EngineUsage:
    """What a deployed engine (``capcon deploy``) uses of AWS in a month: its alarms, its
    Lambda, the metrics it reads, the calls it makes and its state table's request units.

    ``alarm_metrics`` counts each metric an alarm reads (a metric-math alarm on consumed and
    throttled reads two: docs/aws-rules.md#the-deployed-engine-what-it-costs).
    ``gb_seconds`` is the Lambda's billed duration (initialisation included) × its memory.
    """

    alarm_metrics: float
    invocations: float
    gb_seconds: float
    metrics_requested: float  # GetMetricData metrics
    cloudwatch_requests: float  # other CloudWatch API requests (alarms)
    read_units: float  # state table, on-demand read request units
    write_units: float  # state table, on-demand write request units
    notifications: float  # alarm notifications: SNS publishes, each delivered to the Lambda
    arm64: bool = False

    def __post_init__(self) -> None:
        _non_negative(
            alarm_metrics=self.alarm_metrics,
            invocations=self.invocations,
            gb_seconds=self.gb_seconds,
            metrics_requested=self.metrics_requested,
            cloudwatch_requests=self.cloudwatch_requests,
            read_units=self.read_units,
            write_units=self.write_units,
            notifications=self.notifications,
        )


def engine_cost(usage: EngineUsage, book: PriceBook) -> Cost:
    """What ``usage`` (a month's) costs, as a :class:`Cost` per hour with its parts: alarms,
    GetMetricData, other CloudWatch requests, Lambda requests and duration, SNS, and the
    state table (on-demand, Standard class).  Free tiers (Lambda's, SNS's first million,
    CloudWatch's first 10 alarms and million requests) are per account and not subtracted.
    EventBridge scheduled rules on the default bus cost nothing and have no part."""
    if usage.arm64:
        requests, gb_second = book.lambda_arm_requests_per_million, book.lambda_arm_gb_second
    else:
        requests, gb_second = book.lambda_requests_per_million, book.lambda_gb_second
    per_month = (
        ("alarms", usage.alarm_metrics * book.alarm_metric_month),
        ("GetMetricData", usage.metrics_requested * book.get_metric_data_per_1000_metrics / 1000),
        (
            "CloudWatch requests",
            usage.cloudwatch_requests * book.cloudwatch_requests_per_1000 / 1000,
        ),
        ("Lambda requests", usage.invocations * requests / 1e6),
        ("Lambda duration", usage.gb_seconds * gb_second),
        (
            "SNS",
            usage.notifications
            * (book.sns_requests_per_million + book.sns_lambda_deliveries_per_million)
            / 1e6,
        ),
        (
            "state table",
            usage.read_units * book.on_demand_read_per_million / 1e6
            + usage.write_units * book.on_demand_write_per_million / 1e6,
        ),
    )
    return Cost.of(*((label, amount / HOURS_PER_MONTH) for label, amount in per_month))


def break_even_utilisation(book: PriceBook, dimension: Literal["write", "read"] = "write") -> float:
    """Average utilisation (0..1) above which provisioned capacity is cheaper than on-demand.

    A WCU-hour costs ``wcu_hour``; the same unit fully used on-demand is 3600 write request
    units.  Provisioned wins when ``u × 3600 × on-demand price > wcu_hour``: at the default
    prices u ≈ 0.289 for writes and for reads alike (docs/aws-rules.md#break-even-utilisation).
    Ignores burst, auto scaling's headroom and the 2× instant on-demand headroom.
    ``math.inf`` if on-demand is free.
    """
    if dimension == "write":
        unit_hour, per_million = book.wcu_hour, book.on_demand_write_per_million
    else:
        unit_hour, per_million = book.rcu_hour, book.on_demand_read_per_million
    on_demand_unit_hour = 3600 * per_million / 1e6
    return unit_hour / on_demand_unit_hour if on_demand_unit_hour > 0 else math.inf
