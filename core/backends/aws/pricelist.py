"""AWS's Price List API, read into capcon's price-book fields (``capcon prices update``).

``pricing:GetProducts`` answers with ``PriceList``, a list of JSON *strings*, one per product
(SKU): ``product.attributes`` (``usagetype``, ``group``, ``operation``, ``regionCode`` …),
``terms.OnDemand.<offer>.priceDimensions.<rate>`` with ``pricePerUnit.USD``, ``unit``,
``beginRange``/``endRange`` (tiers), ``effectiveDate`` per offer and ``publicationDate`` per
product.  The API has three endpoints only, us-east-1, eu-central-1 and ap-south-1
(:data:`PRICING_REGIONS`); any of them serves every region's prices.

Which product is which price-book field (:data:`RULES`) was taken from Price List products as
published (AWS's DynamoDB "global tables" billing page lists ``REG-ReplWriteCapacityUnit-Hrs``
and its siblings; public copies of ``get_products`` answers give the others):

- a ``usagetype`` carries a region prefix (``USE1-``, ``EUW2-``, ``EU-`` …; us-east-1's often
  have none), so it is compared without it (:func:`base_usagetype`); ``IA-`` (the
  Standard-IA table class) is not a prefix, and ``ReplWrite…`` (global tables) is another
  usage type: ``WriteCapacityUnit-Hrs`` never matches ``IA-WriteCapacityUnit-Hrs`` or
  ``ReplWriteCapacityUnit-Hrs``;
- Kinesis prices are told apart by ``group`` (``Provisioned shard hour``, ``Payload Units``,
  ``Addon shard hour``, ``Enhanced fan-out consumer-shard hour``, ``Enhanced fan-out GB of
  data retrieved``, ``Long-term Data Retention GB-month``) and, inside the ``OnDemand`` and
  ``OnDemand Advantage`` groups, by ``operation`` / ``kinesisAdvantageOperation``;
- a tiered price (a free tier first: DynamoDB's first 25 WCU/RCU, 25 GB of storage) is read as
  its **first paid tier**, and the report says so.

Nothing here writes a file: :func:`read_price_list` returns what it found and what it did not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from capcon.core.backends.aws.errors import MALFORMED_ANSWERS, malformed, map_error
from capcon.core.errors import BackendError

#: Where the Price List API is served (AWS Price List API docs: "The AWS Price List API
#: endpoints"); each serves the prices of every region.
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
ACTION = "pricing:GetProducts"
#: Products a page (the API's maximum).
PAGE_SIZE = 100
#: Pages read for one service at most: 200 × 100 products, far more than DynamoDB, Kinesis
#: or CloudWatch have in one region (a few hundred); an answer that never ends is refused.
MAX_PAGES = 200
#: The longest product text read (real ones are a few kilobytes).
MAX_PRODUCT_CHARS = 1_000_000
CURRENCY = "USD"


class PriceListError(ValueError):
    """A product or an answer that is not in the shape AWS documents; says what was wrong."""


def nearest_pricing_region(region: str) -> str:
    """The Price List endpoint nearest ``region``: eu-central-1 for Europe, the Middle East,
    Africa and Israel, ap-south-1 for Asia Pacific, us-east-1 otherwise (any one answers for
    every region; this only shortens the way)."""
    if region.startswith(("eu-", "me-", "af-", "il-")):
        return "eu-central-1"
    if region.startswith("ap-"):
        return "ap-south-1"
    return "us-east-1"


def base_usagetype(usagetype: str) -> str:
    """``usagetype`` without its region prefix: ``USE1-WriteCapacityUnit-Hrs`` →
    ``WriteCapacityUnit-Hrs``; ``EU-IA-TimedStorage-ByteHrs`` → ``IA-TimedStorage-ByteHrs``;
    ``CW:GMD-Metrics`` stays.  A prefix is upper-case letters and at most one digit
    (``USE1``, ``EUW2``, ``EU``, ``APN1``, ``CAN1``); ``IA`` is the table class, not a region."""
    head, sep, rest = usagetype.partition("-")
    if (
        sep
        and head != "IA"
        and 2 <= len(head) <= 5
        and head[:2].isalpha()
        and head.isupper()
        and head.isalnum()
        and sum(c.isdigit() for c in head) <= 1
    ):
        return rest
    return usagetype


# --------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tier:
    """One price dimension: ``price`` per ``unit`` from ``begin`` units (to ``end``)."""

    begin: float
    end: float | None
    price: float
    unit: str


@dataclass(frozen=True, slots=True)
class Product:
    """One Price List product (SKU) with its on-demand prices."""

    service: str
    sku: str
    attributes: Mapping[str, str]
    tiers: tuple[Tier, ...]
    published: date | None = None
    effective: date | None = None

    @property
    def usagetype(self) -> str:
        return self.attributes.get("usagetype", "")

    @property
    def usage(self) -> str:
        return base_usagetype(self.usagetype)

    @property
    def group(self) -> str:
        return self.attributes.get("group", "")

    @property
    def operation(self) -> str:
        return self.attributes.get("operation") or self.attributes.get(
            "kinesisAdvantageOperation", ""
        )


def _day(value: object, what: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise PriceListError(f"{what} is not a date: {str(value)[:40]!r}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise PriceListError(f"{what} is not a date: {value!r}") from None


def _number(value: object, what: str, *, inf: bool = False) -> float | None:
    if inf and value in ("Inf", "inf", "", None):
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise PriceListError(f"{what} is not a number: {str(value)[:40]!r}")
    try:
        number = float(value)
    except ValueError:
        raise PriceListError(f"{what} is not a number: {str(value)[:40]!r}") from None
    if not math.isfinite(number) or number < 0:
        raise PriceListError(f"{what} must be a finite number ≥ 0, got {str(value)[:40]!r}")
    return number


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PriceListError(f"{what} is not an object ({type(value).__name__})")
    return value


def parse_product(raw: object, service: str) -> Product:
    """One ``PriceList`` item (a JSON string; a decoded object is taken too), or
    :class:`PriceListError` naming what is wrong with it."""
    if isinstance(raw, str):
        if len(raw) > MAX_PRODUCT_CHARS:
            raise PriceListError(
                f"a product of {len(raw):,} characters (at most {MAX_PRODUCT_CHARS:,})"
            )
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise PriceListError(f"a product that is not JSON ({str(error)[:80]})") from None
    else:
        doc = raw
    doc = _mapping(doc, "the product")
    product = _mapping(doc.get("product"), "product")
    sku = product.get("sku")
    sku = sku if isinstance(sku, str) and sku else "(no sku)"
    where = f"product {sku[:40]}"
    raw_attributes = _mapping(product.get("attributes", {}), f"{where}: attributes")
    attributes = {str(k): v for k, v in raw_attributes.items() if isinstance(v, str)}
    terms = _mapping(doc.get("terms", {}), f"{where}: terms")
    offers = _mapping(terms.get("OnDemand", {}), f"{where}: terms.OnDemand")
    tiers: list[Tier] = []
    effective: date | None = None
    for code, offer in offers.items():
        offer = _mapping(offer, f"{where}: offer {str(code)[:40]}")
        day = _day(offer.get("effectiveDate"), f"{where}: effectiveDate")
        if day is not None:
            effective = max(effective, day) if effective else day
        dimensions = _mapping(offer.get("priceDimensions", {}), f"{where}: priceDimensions")
        for rate, dim in dimensions.items():
            dim = _mapping(dim, f"{where}: price dimension {str(rate)[:40]}")
            per_unit = _mapping(dim.get("pricePerUnit"), f"{where}: pricePerUnit")
            if CURRENCY not in per_unit:
                have = ", ".join(sorted(str(k)[:10] for k in per_unit)) or "none"
                raise PriceListError(f"{where}: no {CURRENCY} price (currencies: {have})")
            price = _number(per_unit[CURRENCY], f"{where}: pricePerUnit.{CURRENCY}")
            begin = _number(dim.get("beginRange", "0"), f"{where}: beginRange")
            end = _number(dim.get("endRange", "Inf"), f"{where}: endRange", inf=True)
            unit = dim.get("unit", "")
            assert price is not None and begin is not None
            tiers.append(Tier(begin, end, price, unit if isinstance(unit, str) else ""))
    tiers.sort(key=lambda t: t.begin)
    published = _day(doc.get("publicationDate"), f"{where}: publicationDate")
    return Product(service, sku, attributes, tuple(tiers), published, effective)


# --------------------------------------------------------------------------------------------
# Which product is which price
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """Products of ``service`` whose base usage type is one of ``usagetypes``, or whose
    ``group`` is one of ``groups`` (and, if ``operations`` are given, whose operation is one
    of them)."""

    service: str
    usagetypes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()

    def __call__(self, product: Product) -> bool:
        if product.service != self.service:
            return False
        if product.usage in self.usagetypes:
            return True
        return product.group in self.groups and (
            not self.operations or product.operation in self.operations
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A price-book field: the products that price it (alternatives, best first) and the
    factor from the Price List's unit to the book's (per unit → per million: 1e6)."""

    field: str
    matches: tuple[Match, ...]
    scale: float = 1.0


DDB, KDS, CW = "AmazonDynamoDB", "AmazonKinesis", "AmazonCloudWatch"
LAMBDA, SNS = "AWSLambda", "AmazonSNS"
MILLION = 1e6


def _ddb(field: str, usagetype: str, scale: float = 1.0) -> Rule:
    return Rule(field, (Match(DDB, usagetypes=(usagetype,)),), scale)


def _kds(field: str, *matches: Match, scale: float = 1.0) -> Rule:
    return Rule(field, matches, scale)


#: Every price-book field capcon can read from the Price List, with where it is found.
RULES: tuple[Rule, ...] = (
    _ddb("wcu_hour", "WriteCapacityUnit-Hrs"),
    _ddb("rcu_hour", "ReadCapacityUnit-Hrs"),
    _ddb("on_demand_write_per_million", "WriteRequestUnits", MILLION),
    _ddb("on_demand_read_per_million", "ReadRequestUnits", MILLION),
    _ddb("storage_gb_month", "TimedStorage-ByteHrs"),
    _ddb("ia_wcu_hour", "IA-WriteCapacityUnit-Hrs"),
    _ddb("ia_rcu_hour", "IA-ReadCapacityUnit-Hrs"),
    _ddb("ia_on_demand_write_per_million", "IA-WriteRequestUnits", MILLION),
    _ddb("ia_on_demand_read_per_million", "IA-ReadRequestUnits", MILLION),
    _ddb("ia_storage_gb_month", "IA-TimedStorage-ByteHrs"),
    _ddb("replicated_wcu_hour", "ReplWriteCapacityUnit-Hrs"),
    _ddb("ia_replicated_wcu_hour", "IA-ReplWriteCapacityUnit-Hrs"),
    _ddb("on_demand_replicated_write_per_million", "ReplWriteRequestUnits", MILLION),
    _ddb("ia_on_demand_replicated_write_per_million", "IA-ReplWriteRequestUnits", MILLION),
    _kds("shard_hour", Match(KDS, groups=("Provisioned shard hour",))),
    _kds(
        "put_payload_units_per_million",
        Match(KDS, groups=("Payload Units",)),
        Match(KDS, usagetypes=("PutRequestPayloadUnits",)),
        scale=MILLION,
    ),
    _kds("extended_retention_shard_hour", Match(KDS, groups=("Addon shard hour",))),
    _kds(
        "on_demand_stream_hour",
        Match(KDS, groups=("OnDemand",), operations=("OnDemandStreamHr",)),
        Match(KDS, usagetypes=("OnDemand-StreamHour",)),
    ),
    _kds(
        "on_demand_gb_in",
        Match(KDS, groups=("OnDemand",), operations=("OnDemandDataIngested",)),
        Match(KDS, usagetypes=("OnDemand-BilledIncomingBytes",)),
    ),
    _kds(
        "on_demand_gb_out",
        Match(KDS, groups=("OnDemand",), operations=("OnDemandDataRetrieval",)),
        Match(KDS, usagetypes=("OnDemand-BilledOutgoingBytes",)),
    ),
    _kds(
        "on_demand_efo_gb",
        Match(KDS, groups=("OnDemand",), operations=("OnDemandEFODataRetrieval",)),
        Match(KDS, usagetypes=("OnDemand-BilledOutgoingEFOBytes",)),
    ),
    _kds(
        "on_demand_extended_retention_gb_month",
        Match(KDS, groups=("OnDemand",), operations=("OnDemandExtendedRetentionByteHrs",)),
        Match(KDS, usagetypes=("OnDemand-ExtendedRetention-ByteHrs",)),
    ),
    _kds(
        "long_term_retention_gb_month",
        Match(KDS, groups=("Long-term Data Retention GB-month",)),
        Match(KDS, groups=("OnDemand",), operations=("OnDemandLongTermRetentionByteHrs",)),
    ),
    _kds("efo_consumer_shard_hour", Match(KDS, groups=("Enhanced fan-out consumer-shard hour",))),
    _kds("efo_gb", Match(KDS, groups=("Enhanced fan-out GB of data retrieved",))),
    _kds(
        "advantage_gb_in",
        Match(KDS, groups=("OnDemand Advantage",), operations=("AdvantageDataIngested",)),
    ),
    _kds(
        "advantage_gb_out",
        Match(KDS, groups=("OnDemand Advantage",), operations=("AdvantageDataRetrieval",)),
    ),
    _kds(
        "advantage_efo_gb",
        Match(KDS, groups=("OnDemand Advantage",), operations=("AdvantageEFODataRetrieval",)),
    ),
    Rule(
        "get_metric_data_per_1000_metrics",
        (Match(CW, usagetypes=("CW:GMD-Metrics",)),),
        1000.0,
    ),
    # the deployed engine's parts (capcon deploy)
    Rule("alarm_metric_month", (Match(CW, usagetypes=("CW:AlarmMonitorUsage",)),)),
    Rule("cloudwatch_requests_per_1000", (Match(CW, usagetypes=("CW:Requests",)),), 1000.0),
    Rule("lambda_requests_per_million", (Match(LAMBDA, usagetypes=("Request",)),), MILLION),
    Rule("lambda_gb_second", (Match(LAMBDA, usagetypes=("Lambda-GB-Second",)),)),
    Rule("lambda_arm_requests_per_million", (Match(LAMBDA, usagetypes=("Request-ARM",)),), MILLION),
    Rule("lambda_arm_gb_second", (Match(LAMBDA, usagetypes=("Lambda-GB-Second-ARM",)),)),
    Rule("sns_requests_per_million", (Match(SNS, usagetypes=("Requests-Tier1",)),), MILLION),
    Rule(
        "sns_lambda_deliveries_per_million",
        (Match(SNS, usagetypes=("DeliveryAttempts-LAMBDA",)),),
        MILLION,
    ),
)
SERVICES = (DDB, KDS, CW, LAMBDA, SNS)
#: Price-book fields with no Price List product known to capcon (AWS charges pre-warming and
#: On-demand Advantage's extended retention; their products were not identified):
#: ``capcon prices update`` lists them as not found.
NOT_IN_PRICE_LIST = (
    "prewarm_read_units",
    "prewarm_write_units",
    "advantage_extended_retention_gb_month",
)


@dataclass(frozen=True, slots=True)
class Found:
    """A price read from the Price List, in the book's unit, with where it came from."""

    field: str
    value: float
    usagetype: str
    unit: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class PriceListReport:
    """What :func:`read_price_list` found for ``region``."""

    region: str
    pricing_region: str
    found: tuple[Found, ...]
    missing: Mapping[str, str]  # field → why it was not found
    as_of: date
    fetched: date
    products: int
    skipped: tuple[str, ...] = field(default=())  # malformed products, why

    @property
    def source(self) -> str:
        return f"AWS Price List API (pricing.{self.pricing_region}) {self.fetched.isoformat()}"

    @property
    def values(self) -> dict[str, float]:
        return {f.field: f.value for f in self.found}


def _first_paid(product: Product) -> tuple[float, str] | None:
    """The product's price as the book takes it: its first paid tier (a note says when a
    free tier or further tiers were passed over); ``None`` without any price."""
    if not product.tiers:
        return None
    paid = [t for t in product.tiers if t.price > 0]
    if not paid:
        return 0.0, "free in every tier"
    first = paid[0]
    notes = []
    if first is not product.tiers[0]:
        notes.append(f"first paid tier, from {first.begin:g} {first.unit or 'units'}")
    if len(paid) > 1:
        notes.append(f"{len(paid)} paid tiers: the first is used")
    return first.price, "; ".join(notes)


def choose(products: Sequence[Product], rule: Rule) -> Found | str:
    """The price of ``rule.field`` from ``products``, or why it was not found."""
    for match in rule.matches:
        candidates = [p for p in products if match(p)]
        priced = [(p, _first_paid(p)) for p in candidates]
        priced_ok = [(p, got) for p, got in priced if got is not None]
        if not priced_ok:
            if candidates:
                return f"{len(candidates)} product(s) matched without an {CURRENCY} price"
            continue
        values = {got[0] for _, got in priced_ok}
        if len(values) > 1:
            shown = ", ".join(f"{p.usagetype or p.group} {got[0]:g}" for p, got in priced_ok[:4])
            return f"{len(priced_ok)} products with different prices ({shown}): left as it is"
        product, (price, note) = priced_ok[0]
        unit = product.tiers[0].unit if product.tiers else ""
        return Found(
            rule.field,
            price * rule.scale,
            product.usagetype or product.group,
            unit,
            note,
        )
    return "no such product in the Price List for this region"


def map_products(
    products: Sequence[Product],
    region: str,
    pricing_region: str,
    fetched: date,
    skipped: Sequence[str] = (),
) -> PriceListReport:
    """Every :data:`RULES` field found in ``products`` (one region's), and why the others
    were not.  ``as_of`` is the newest publication date of the products used (else their
    newest effective date, else ``fetched``)."""
    found: list[Found] = []
    missing: dict[str, str] = {}
    used: list[Product] = []
    for name in NOT_IN_PRICE_LIST:
        missing[name] = "capcon knows no Price List product for it: set it in a price file"
    for rule in RULES:
        got = choose(products, rule)
        if isinstance(got, Found):
            found.append(got)
            used += [p for m in rule.matches for p in products if m(p)]
        else:
            missing[rule.field] = got
    published = [p.published for p in used if p.published]
    effective = [p.effective for p in used if p.effective]
    as_of = max(published) if published else max(effective) if effective else fetched
    return PriceListReport(
        region, pricing_region, tuple(found), missing, as_of, fetched, len(products),
        tuple(skipped),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Reading the API
# --------------------------------------------------------------------------------------------


def pricing_client(
    pricing_region: str, *, profile: str | None = None, endpoint_url: str | None = None
) -> Any:
    """A ``pricing`` client for one of :data:`PRICING_REGIONS` (standard retries, bounded
    timeouts: a dead endpoint fails in seconds)."""
    try:
        session = boto3.session.Session(profile_name=profile)
        return session.client(
            "pricing",
            region_name=pricing_region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 3},
                connect_timeout=3,
                read_timeout=15,
                user_agent_extra="capcon",
            ),
        )
    except (BotoCoreError, ClientError) as error:
        raise map_error(error, ACTION) from error


def default_region(profile: str | None = None) -> str | None:
    """The region the boto3 chain names (``AWS_REGION``, the profile), if any."""
    try:
        return boto3.session.Session(profile_name=profile).region_name
    except BotoCoreError as error:
        raise map_error(error, "session") from error


def _pages(client: Any, service: str, region: str) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {
            "ServiceCode": service,
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            "FormatVersion": "aws_v1",
            "MaxResults": PAGE_SIZE,
        }
        if token:
            kwargs["NextToken"] = token
        try:
            page = client.get_products(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise map_error(error, ACTION, service) from error
        except MALFORMED_ANSWERS as error:
            raise malformed(ACTION, service, f"{type(error).__name__}: {error}") from error
        if not isinstance(page, Mapping):
            raise malformed(ACTION, service, "the answer is not an object")
        yield page
        token = page.get("NextToken")
        if not token:
            return
        if not isinstance(token, str) or token in seen:
            raise malformed(ACTION, service, "NextToken repeats: the listing never ends")
        seen.add(token)
    raise malformed(ACTION, service, f"more than {MAX_PAGES} pages of products")


def fetch_products(
    client: Any, region: str, services: Sequence[str] = SERVICES
) -> tuple[list[Product], list[str]]:
    """Every product of ``services`` for ``region``, and the products skipped as malformed
    (why, by SKU).  A ``PriceList`` that is not a list is a :class:`MalformedAnswer`."""
    products: list[Product] = []
    skipped: list[str] = []
    for service in services:
        for page in _pages(client, service, region):
            items = page.get("PriceList", [])
            if not isinstance(items, list):
                raise malformed(ACTION, service, "PriceList is not a list")
            for item in items:
                try:
                    products.append(parse_product(item, service))
                except PriceListError as error:
                    skipped.append(f"{service}: {error}")
    return products, skipped


def read_price_list(
    region: str,
    *,
    pricing_region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    today: date,
    client_factory: Callable[[str], Any] | None = None,
) -> PriceListReport:
    """``region``'s prices from the Price List API (through ``pricing_region``, by default
    the nearest endpoint).  Raises a :class:`BackendError` when the API cannot be read, and
    when no product at all could be used."""
    where = pricing_region or nearest_pricing_region(region)
    if where not in PRICING_REGIONS:
        raise ValueError(
            f"the Price List API has no endpoint in {where!r} "
            f"(it has: {', '.join(PRICING_REGIONS)})"
        )
    if client_factory is not None:
        client = client_factory(where)
    else:
        client = pricing_client(where, profile=profile, endpoint_url=endpoint_url)
    products, skipped = fetch_products(client, region)
    report = map_products(products, region, where, today, skipped)
    if not report.found:
        why = f"{len(products)} products read"
        if skipped:
            why += f", {len(skipped)} malformed (first: {skipped[0][:200]})"
        raise BackendError(
            f"{ACTION}: no price capcon knows was found for {region} ({why}): is "
            f"{region} a region where DynamoDB and Kinesis are sold?"
        )
    return report
