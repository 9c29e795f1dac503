"""``capcon prices update``: the Price List API read through the botocore Stubber (moto does
not implement ``pricing``), with products in the shape ``get_products`` returns them (each a
JSON *string*), and hostile answers: every failure is a message, never a traceback, and the
price file is never touched on an error."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws import pricelist
from capcon.core.backends.aws.pricelist import (
    PRICING_REGIONS,
    PriceListError,
    base_usagetype,
    nearest_pricing_region,
    parse_product,
)
from capcon.core.config.prices import load_price_book
from capcon.core.config.schema import SettingsError
from capcon.core.pricing import PRICE_FIELDS, UNKNOWN_PRICE_FIELDS
from tests.support.cli import run

PUBLISHED = "2026-11-20T18:44:12Z"
TODAY = datetime.now(UTC).date()


def product(
    service: str,
    usagetype: str,
    *prices: tuple[str, str, str],
    group: str = "",
    operation: str = "",
    unit: str = "Units",
    region: str = "eu-west-1",
    extra: dict[str, str] | None = None,
    published: str = PUBLISHED,
) -> str:
    """One ``PriceList`` item as AWS sends it: a JSON string.  ``prices``: (begin, end, USD)."""
    sku = f"SKU{abs(hash((service, usagetype, group, operation))) % 10**12:012d}"
    attributes = {
        "servicecode": service,
        "location": "EU (Ireland)",
        "locationType": "AWS Region",
        "usagetype": usagetype,
        "regionCode": region,
        "servicename": service,
        **({"group": group} if group else {}),
        **({"operation": operation} if operation else {}),
        **(extra or {}),
    }
    dims = {
        f"{sku}.JRTCKXETXF.{n}": {
            "unit": unit,
            "endRange": end,
            "description": f"${usd} per {unit}",
            "appliesTo": [],
            "rateCode": f"{sku}.JRTCKXETXF.{n}",
            "beginRange": begin,
            "pricePerUnit": {"USD": usd},
        }
        for n, (begin, end, usd) in enumerate(prices)
    }
    return json.dumps(
        {
            "product": {"productFamily": "x", "attributes": attributes, "sku": sku},
            "serviceCode": service,
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": dims,
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261120184412",
            "publicationDate": published,
        }
    )


def one(usd: str) -> tuple[str, str, str]:
    return ("0", "Inf", usd)


DDB, KDS, CW = "AmazonDynamoDB", "AmazonKinesis", "AmazonCloudWatch"
LAMBDA, SNS = "AWSLambda", "AmazonSNS"

#: eu-west-1 as the Price List shapes it: region prefix EU-, free tiers first (25 WCU/RCU for
#: a month = 18,600 unit-hours; 25 GB of storage), confounders with the same suffixes.
DYNAMODB = [
    product(DDB, "EU-WriteCapacityUnit-Hrs", ("0", "18600", "0.0000000000"),
            ("18600", "Inf", "0.0007350000"), group="DDB-WriteUnits",
            operation="CommittedThroughput", unit="WriteCapacityUnit-Hrs"),
    product(DDB, "EU-ReadCapacityUnit-Hrs", ("0", "18600", "0.0000000000"),
            ("18600", "Inf", "0.0001470000"), group="DDB-ReadUnits",
            operation="CommittedThroughput", unit="ReadCapacityUnit-Hrs"),
    product(DDB, "EU-IA-WriteCapacityUnit-Hrs", one("0.0009200000"), group="DDB-WriteUnitsIA"),
    product(DDB, "EU-IA-ReadCapacityUnit-Hrs", one("0.0001840000"), group="DDB-ReadUnitsIA"),
    product(DDB, "EU-ReplWriteCapacityUnit-Hrs", ("0", "18600", "0.0000000000"),
            ("18600", "Inf", "0.0007350000")),
    product(DDB, "EU-IA-ReplWriteCapacityUnit-Hrs", one("0.0009200000")),
    product(DDB, "EU-WriteRequestUnits", one("0.0000007050"), group="DDB-WriteUnits",
            operation="PayPerRequestThroughput", unit="WriteRequestUnits"),
    product(DDB, "EU-ReadRequestUnits", one("0.0000001410"), group="DDB-ReadUnits",
            operation="PayPerRequestThroughput", unit="ReadRequestUnits"),
    product(DDB, "EU-IA-WriteRequestUnits", one("0.0000008800")),
    product(DDB, "EU-IA-ReadRequestUnits", one("0.0000001760")),
    product(DDB, "EU-ReplWriteRequestUnits", one("0.0000007050")),
    product(DDB, "EU-IA-ReplWriteRequestUnits", one("0.0000008800")),
    product(DDB, "EU-TimedStorage-ByteHrs", ("0", "25", "0.0000000000"),
            ("25", "Inf", "0.2830000000"), unit="GB-Mo",
            extra={"volumeType": "Amazon DynamoDB - Indexed DataStore"}),
    product(DDB, "EU-IA-TimedStorage-ByteHrs", one("0.1130000000"), unit="GB-Mo"),
    product(DDB, "EU-TimedBackupStorage-ByteHrs", one("0.1120000000"), unit="GB-Mo"),
]  # fmt: skip
KINESIS = [
    product(KDS, "EU-Storage-ShardHour", one("0.0170000000"), group="Provisioned shard hour"),
    product(KDS, "EU-PutRequestPayloadUnits", one("0.0000000160"), group="Payload Units"),
    product(KDS, "EU-Extended-ShardHour", one("0.0230000000"), group="Addon shard hour"),
    product(KDS, "EU-OnDemand-StreamHour", one("0.0460000000"), group="OnDemand",
            operation="OnDemandStreamHr"),
    product(KDS, "EU-OnDemand-BilledIncomingBytes", one("0.0920000000"), group="OnDemand",
            operation="OnDemandDataIngested"),
    product(KDS, "EU-OnDemand-BilledOutgoingBytes", one("0.0460000000"), group="OnDemand",
            operation="OnDemandDataRetrieval"),
    product(KDS, "EU-OnDemand-BilledOutgoingEFOBytes", one("0.0575000000"), group="OnDemand",
            operation="OnDemandEFODataRetrieval"),
    product(KDS, "EU-OnDemand-ExtendedRetention-ByteHrs", one("0.1150000000"),
            group="OnDemand", operation="OnDemandExtendedRetentionByteHrs"),
    product(KDS, "EU-LongTermRetention-ByteHrs", one("0.0264500000"),
            group="Long-term Data Retention GB-month"),
    product(KDS, "EU-ConsumerShardHour", one("0.0170000000"),
            group="Enhanced fan-out consumer-shard hour"),
    product(KDS, "EU-EnhancedFanoutDataRetrieval-Bytes", one("0.0150000000"),
            group="Enhanced fan-out GB of data retrieved"),
    product(KDS, "EU-Advantage-IncomingBytes", one("0.0370000000"), group="OnDemand Advantage",
            extra={"kinesisAdvantageOperation": "AdvantageDataIngested"}),
]  # fmt: skip
CLOUDWATCH = [
    product(CW, "EU-CW:GMD-Metrics", one("0.0000100000"), unit="Metrics"),
    product(CW, "EU-CW:Requests", ("0", "1000000", "0"), ("1000000", "Inf", "0.0000100000")),
    product(CW, "EU-CW:AlarmMonitorUsage", ("0", "10", "0"), ("10", "Inf", "0.1000000000"),
            unit="Alarms"),
    product(CW, "EU-CW:HighResAlarmMonitorUsage", one("0.3000000000"), unit="Alarms"),
]  # fmt: skip
#: Lambda's duration in tiers (6 and 9 billion GB-seconds), its requests; confounders.
LAMBDA_PRODUCTS = [
    product(LAMBDA, "EU-Request", one("0.0000002000"), unit="Requests"),
    product(LAMBDA, "EU-Request-ARM", one("0.0000002000"), unit="Requests"),
    product(LAMBDA, "EU-Lambda-GB-Second", ("0", "6000000000", "0.0000166667"),
            ("6000000000", "15000000000", "0.0000150000"),
            ("15000000000", "Inf", "0.0000133334"), unit="Lambda-GB-Second"),
    product(LAMBDA, "EU-Lambda-GB-Second-ARM", ("0", "7500000000", "0.0000133334"),
            ("7500000000", "Inf", "0.0000120001"), unit="Lambda-GB-Second"),
    product(LAMBDA, "EU-Lambda-Provisioned-GB-Second", one("0.0000041667")),
    product(LAMBDA, "EU-Lambda-Edge-Request", one("0.0000006000")),
]  # fmt: skip
SNS_PRODUCTS = [
    product(SNS, "EU-Requests-Tier1", ("0", "1000000", "0"), ("1000000", "Inf", "0.0000005000"),
            unit="Requests"),
    product(SNS, "EU-DeliveryAttempts-LAMBDA", one("0.0000000000"), unit="Notifications"),
    product(SNS, "EU-DeliveryAttempts-HTTP", ("0", "100000", "0"),
            ("100000", "Inf", "0.0000006000"), unit="Notifications"),
]  # fmt: skip


def expected_params(service: str, region: str = "eu-west-1", token: str | None = None) -> Any:
    params: dict[str, Any] = {
        "ServiceCode": service,
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        params["NextToken"] = token
    return params


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, list[str]]]:
    """A real ``pricing`` client behind the Stubber, handed to capcon; the endpoints asked for
    are recorded."""
    client = boto3.client(
        "pricing", region_name="eu-central-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    asked: list[str] = []

    def factory(where: str, **_: Any) -> Any:
        asked.append(where)
        return client

    monkeypatch.setattr(pricelist, "pricing_client", factory)
    with Stubber(client) as stubber:
        yield stubber, asked


def answer_all(stubber: Stubber, region: str = "eu-west-1") -> None:
    """DynamoDB in two pages (a NextToken), Kinesis, CloudWatch, Lambda and SNS in one each."""
    half = len(DYNAMODB) // 2
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": DYNAMODB[:half], "NextToken": "page-2"},
        expected_params(DDB, region),
    )
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": DYNAMODB[half:]},
        expected_params(DDB, region, "page-2"),
    )
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": KINESIS},
        expected_params(KDS, region),
    )
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": CLOUDWATCH},
        expected_params(CW, region),
    )
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": LAMBDA_PRODUCTS},
        expected_params(LAMBDA, region),
    )
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": SNS_PRODUCTS},
        expected_params(SNS, region),
    )


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    return home


OTHER_REGION = """# mine
bill_closed_shards = true

[regions.us-west-2]
wcu_hour = 0.00065
source = "my bill"

[regions.eu-west-1]
efo_gb = 0.5
"""


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


def test_usage_types_are_compared_without_their_region_prefix() -> None:
    assert base_usagetype("USE1-WriteCapacityUnit-Hrs") == "WriteCapacityUnit-Hrs"
    assert base_usagetype("EU-IA-TimedStorage-ByteHrs") == "IA-TimedStorage-ByteHrs"
    assert base_usagetype("APN2-ReplWriteRequestUnits") == "ReplWriteRequestUnits"
    # unprefixed (us-east-1's) and class markers stay
    assert base_usagetype("WriteCapacityUnit-Hrs") == "WriteCapacityUnit-Hrs"
    assert base_usagetype("IA-WriteRequestUnits") == "IA-WriteRequestUnits"
    assert base_usagetype("CW:GMD-Metrics") == "CW:GMD-Metrics"
    assert base_usagetype("OnDemand-StreamHour") == "OnDemand-StreamHour"


def test_nearest_pricing_endpoint() -> None:
    assert nearest_pricing_region("eu-west-1") == "eu-central-1"
    assert nearest_pricing_region("me-central-1") == "eu-central-1"
    assert nearest_pricing_region("ap-southeast-2") == "ap-south-1"
    assert nearest_pricing_region("us-west-2") == "us-east-1"
    assert nearest_pricing_region("sa-east-1") == "us-east-1"
    assert {nearest_pricing_region(r) for r in ("eu-west-3", "ap-east-1", "ca-central-1")} <= set(
        PRICING_REGIONS
    )


def test_a_product_is_read_with_its_tiers_and_dates() -> None:
    p = parse_product(DYNAMODB[0], DDB)
    assert p.usage == "WriteCapacityUnit-Hrs" and p.group == "DDB-WriteUnits"
    assert [t.price for t in p.tiers] == [0.0, 0.000735]
    assert p.tiers[1].begin == 18600 and p.tiers[1].end is None
    assert p.published == date(2026, 11, 20) and p.effective == date(2026, 11, 1)


# --------------------------------------------------------------------------------------------
# prices update
# --------------------------------------------------------------------------------------------


def test_update_writes_the_region_with_date_and_source_keeping_the_rest(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], tmp_path: Path
) -> None:
    stubber, asked = stubbed
    answer_all(stubber)
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)
    code, out, err = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 0, err
    stubber.assert_no_pending_responses()
    assert asked == ["eu-central-1"]  # the endpoint nearest eu-west-1

    book = load_price_book("eu-west-1", path)
    assert book.as_of == date(2026, 11, 20)  # the Price List's publication date
    assert book.source == f"AWS Price List API (pricing.eu-central-1) {TODAY.isoformat()}"
    assert book.assumed_from is None  # every required price found: eu-west-1's own book
    # the first paid tier, not the free tier
    assert book.wcu_hour == 0.000735 and book.rcu_hour == 0.000147
    assert book.storage_gb_month == 0.283
    # per request unit → per million: 0.000000705 × 1,000,000
    assert book.on_demand_write_per_million == pytest.approx(0.000000705 * 1_000_000)
    assert book.on_demand_read_per_million == pytest.approx(0.000000141 * 1_000_000)
    # confounders kept apart: Standard-IA and replicated writes
    assert book.ia_wcu_hour == 0.00092 and book.replicated_wcu_hour == 0.000735
    assert book.ia_on_demand_replicated_write_per_million == pytest.approx(0.00000088 * 1e6)
    assert book.put_payload_units_per_million == pytest.approx(0.000000016 * 1e6)
    assert book.shard_hour == 0.017 and book.extended_retention_shard_hour == 0.023
    assert book.on_demand_gb_in == 0.092 and book.on_demand_efo_gb == 0.0575
    assert book.long_term_retention_gb_month == 0.02645
    assert book.efo_gb == 0.015  # found: replaces the file's 0.5
    assert book.advantage_gb_in == 0.037
    assert book.get_metric_data_per_1000_metrics == pytest.approx(0.00001 * 1000)
    # the deployed engine's parts: the first paid tier (10 alarms free), per million requests,
    # x86 and arm64 kept apart, provisioned concurrency and HTTP deliveries ignored
    assert book.alarm_metric_month == 0.1
    assert book.lambda_requests_per_million == pytest.approx(0.0000002 * 1e6)
    assert book.lambda_gb_second == 0.0000166667 and book.lambda_arm_gb_second == 0.0000133334
    assert book.lambda_arm_requests_per_million == pytest.approx(0.0000002 * 1e6)
    assert book.sns_requests_per_million == pytest.approx(0.0000005 * 1e6)
    assert book.sns_lambda_deliveries_per_million == 0.0
    assert book.cloudwatch_requests_per_1000 == pytest.approx(0.00001 * 1000)  # past the free tier
    # not found: left unknown, and listed
    assert book.advantage_gb_out is None and book.prewarm_write_units is None
    assert "not found, left as they are:" in out and "advantage_gb_out" in out
    assert "tiered prices (the first paid tier is used):" in out
    assert "wcu_hour: first paid tier, from 18600 WriteCapacityUnit-Hrs" in out

    # the other region and the top-level key are kept
    west = load_price_book("us-west-2", path)
    assert west.source == "my bill" and west.bill_closed_shards
    assert book.bill_closed_shards


def test_fields_not_found_stay_as_they_were(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], tmp_path: Path
) -> None:
    stubber, _ = stubbed
    stubber.add_response("get_products", {"PriceList": DYNAMODB}, expected_params(DDB))
    stubber.add_response("get_products", {"PriceList": []}, expected_params(KDS))
    stubber.add_response("get_products", {"PriceList": []}, expected_params(CW))
    stubber.add_response("get_products", {"PriceList": []}, expected_params(LAMBDA))
    stubber.add_response("get_products", {"PriceList": []}, expected_params(SNS))
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)
    code, out, _ = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 0
    book = load_price_book("eu-west-1", path)
    assert book.efo_gb == 0.5  # the file's, kept
    assert book.wcu_hour == 0.000735
    # Kinesis prices not found: us-east-1's defaults still apply, and the plan says so
    assert book.assumed_from == "us-east-1" and book.shard_hour == 0.015
    assert "shard_hour: no such product in the Price List for this region" in out


def test_dry_run_prints_the_differences_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], tmp_path: Path
) -> None:
    stubber, _ = stubbed
    answer_all(stubber)
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)
    before = path.read_bytes()
    code, out, _ = run(
        capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path), "--dry-run"
    )
    assert code == 0 and path.read_bytes() == before
    assert "  wcu_hour" in out and "0.00065 → 0.000735" in out  # us-east-1's book today
    assert "efo_gb" in out and "0.5 → 0.015" in out
    assert f"dry run: {path} not changed" in out

    answer_all(stubber)
    code, out, _ = run(
        capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path), "--dry-run",
        "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert doc["as_of"] == "2026-11-20" and doc["file"] is None and doc["dry_run"]
    assert {"field": "wcu_hour", "now": "0.00065", "new": "0.000735"} in doc["changes"]
    assert set(doc["missing"]) | {f["field"] for f in doc["found"]} == set(PRICE_FIELDS)
    assert path.read_bytes() == before


def pricelist_fields() -> list[str]:
    return [rule.field for rule in pricelist.RULES]


def test_every_price_book_field_has_a_rule_or_is_said_to_have_none() -> None:
    """Every price the book carries is read from the Price List, or named in
    NOT_IN_PRICE_LIST (a new PriceBook field needs a rule in pricelist.RULES, or a place
    there), and docs/aws-rules.md lists each with its source."""
    covered = set(pricelist_fields())
    assert covered <= set(PRICE_FIELDS)
    assert set(PRICE_FIELDS) - covered == set(pricelist.NOT_IN_PRICE_LIST)
    assert set(pricelist.NOT_IN_PRICE_LIST) <= set(UNKNOWN_PRICE_FIELDS)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "aws-rules.md").read_text()
    table = doc[doc.index("### Every price in the book") :]
    assert [f for f in PRICE_FIELDS if f"| `{f}` |" not in table] == []


def test_the_default_file_is_the_users_price_file(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], config_home: Path
) -> None:
    stubber, asked = stubbed
    answer_all(stubber, "us-west-2")
    code, _, err = run(
        capsys, "prices", "update", "--region", "us-west-2", "--pricing-region", "ap-south-1"
    )
    assert code == 0, err
    assert asked == ["ap-south-1"]
    written = config_home / "capcon" / "prices.toml"
    assert load_price_book("us-west-2", written).wcu_hour == 0.000735
    assert not [p for p in written.parent.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------------------------
# Hostile and broken answers
# --------------------------------------------------------------------------------------------


class FakeClient:
    """What a broken endpoint or proxy could make botocore hand back (the Stubber validates
    answers against the model, so it cannot produce these)."""

    def __init__(self, *pages: Any) -> None:
        self.pages = list(pages)

    def get_products(self, **_: Any) -> Any:
        page = self.pages.pop(0) if self.pages else {"PriceList": []}
        if isinstance(page, Exception):
            raise page
        return page


HOSTILE: list[tuple[str, list[Any], str]] = [
    ("not a list", [{"PriceList": {"a": 1}}], "PriceList is not a list"),
    ("endless", [{"PriceList": [], "NextToken": "t"}] * 3, "NextToken repeats"),
    ("page not an object", [["x"]], "the answer is not an object"),
    ("garbage products", [{"PriceList": ["{", "[]", '{"product": 3}', "x" * 50]}],
     "no price capcon knows was found"),
    ("parser", [ValueError("bad body")], "malformed answer"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "pages", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_answer_is_a_message_and_the_file_is_untouched(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    pages: list[Any],
    says: str,
) -> None:
    monkeypatch.setattr(pricelist, "pricing_client", lambda *_, **__: FakeClient(*pages))
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)
    code, out, err = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 3, (out, err)
    assert says in err and "Traceback" not in err
    assert path.read_text() == OTHER_REGION


BAD_PRODUCTS = [
    ("not JSON", "{", "not JSON"),
    ("no USD", DYNAMODB[0].replace('"USD"', '"EUR"'), "no USD price (currencies: EUR)"),
    ("negative", DYNAMODB[0].replace("0.0007350000", "-1"), "finite number ≥ 0"),
    ("NaN", DYNAMODB[0].replace("0.0007350000", "NaN"), "finite number ≥ 0"),
    ("terms a list", json.dumps({"product": {"sku": "S1"}, "terms": []}), "terms is not an object"),
    ("bad date", DYNAMODB[0].replace(PUBLISHED, "yesterday"), "publicationDate is not a date"),
]


@pytest.mark.parametrize(("name", "raw", "says"), BAD_PRODUCTS, ids=[b[0] for b in BAD_PRODUCTS])
def test_a_malformed_product_is_named_and_skipped(name: str, raw: str, says: str) -> None:
    with pytest.raises(PriceListError) as caught:
        parse_product(raw, DDB)
    assert says in str(caught.value)
    # among good ones, it is skipped and counted; the good prices are still read
    report = pricelist.read_price_list(
        "eu-west-1",
        today=TODAY,
        client_factory=lambda _: FakeClient({"PriceList": [raw, *DYNAMODB[1:]]}),
    )
    assert len(report.skipped) == 1 and says in report.skipped[0]
    assert report.values["rcu_hour"] == 0.000147


def test_two_products_with_different_prices_for_one_field_are_left_alone() -> None:
    twin = product(DDB, "WriteCapacityUnit-Hrs", one("0.5"))  # us-east-1 style, no prefix
    report = pricelist.read_price_list(
        "eu-west-1",
        today=TODAY,
        client_factory=lambda _: FakeClient({"PriceList": [*DYNAMODB, twin]}),
    )
    assert "wcu_hour" not in report.values
    assert "different prices" in report.missing["wcu_hour"]


def test_access_denied_and_a_bad_file_change_nothing(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], tmp_path: Path
) -> None:
    stubber, _ = stubbed
    stubber.add_client_error(
        "get_products", "AccessDeniedException", "not authorized to perform pricing:GetProducts"
    )
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)
    code, _, err = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 3 and "pricing:GetProducts" in err and "Traceback" not in err
    assert path.read_text() == OTHER_REGION

    # a price file that is not valid: refused before anything is asked (no stub is left)
    path.write_text("[regions.eu-west-1]\nwcu_hour = 'cheap'\n")
    code, _, err = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 2 and "wcu_hour" in err and "not changed" in err
    assert path.read_text() == "[regions.eu-west-1]\nwcu_hour = 'cheap'\n"

    for region in ("EU-WEST-1", "eu-west-1; rm -rf /", "\x1b[31m"):
        code, _, err = run(capsys, "prices", "update", "--region", region, "--file", str(path))
        assert code == 2 and "Traceback" not in err and "\x1b" not in err


def test_a_failed_rename_leaves_the_file_and_no_temporary(
    capsys: pytest.CaptureFixture[str],
    stubbed: tuple[Stubber, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stubber, _ = stubbed
    answer_all(stubber)
    path = tmp_path / "prices.toml"
    path.write_text(OTHER_REGION)

    def no_room(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_room)
    code, _, err = run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path))
    assert code == 2 and "No space left on device" in err and "not changed" in err
    assert path.read_text() == OTHER_REGION
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_prices_are_finite_in_the_written_file(
    capsys: pytest.CaptureFixture[str], stubbed: tuple[Stubber, list[str]], tmp_path: Path
) -> None:
    stubber, _ = stubbed
    answer_all(stubber)
    path = tmp_path / "prices.toml"
    assert run(capsys, "prices", "update", "--region", "eu-west-1", "--file", str(path)).code == 0
    book = load_price_book("eu-west-1", path)
    assert all(
        math.isfinite(getattr(book, f)) for f in PRICE_FIELDS if getattr(book, f) is not None
    )


def test_without_a_region_it_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "prices", "update", "--file", str(tmp_path / "p.toml"))
    assert code == 2 and "no region: pass --region" in err
    assert not (tmp_path / "p.toml").exists()


# --------------------------------------------------------------------------------------------
# Fuzz: any answer is read or refused with PriceListError, never another exception
# --------------------------------------------------------------------------------------------

JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def mutate(doc: Any, path: list[str], value: Any) -> Any:
    """``doc`` with the value at ``path`` (keys into nested objects) replaced by ``value``."""
    if not path or not isinstance(doc, dict):
        return value
    head, *rest = path
    out = dict(doc)
    out[head] = mutate(doc.get(head), rest, value)
    return out


PATHS = [
    ["product"],
    ["product", "attributes"],
    ["product", "attributes", "usagetype"],
    ["product", "sku"],
    ["terms"],
    ["terms", "OnDemand"],
    ["publicationDate"],
]


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(DYNAMODB + KINESIS),
    where=st.sampled_from(PATHS),
    value=JSON,
    as_text=st.booleans(),
)
def test_fuzzed_products_are_read_or_refused_with_a_message(
    base: str, where: list[str], value: Any, as_text: bool
) -> None:
    doc = mutate(json.loads(base), where, value)
    raw: Any = json.dumps(doc, allow_nan=True) if as_text else doc
    try:
        product_read = parse_product(raw, DDB)
    except PriceListError as error:
        assert str(error)
        return
    # whatever was read maps to prices (or to reasons) without an exception
    report = pricelist.map_products([product_read], "eu-west-1", "eu-central-1", TODAY)
    assert all(math.isfinite(f.value) and f.value >= 0 for f in report.found)


@settings(max_examples=100, deadline=None)
@given(dims=st.dictionaries(st.text(max_size=6), JSON, max_size=4))
def test_fuzzed_price_dimensions(dims: dict[str, Any]) -> None:
    doc = json.loads(DYNAMODB[0])
    offer = next(iter(doc["terms"]["OnDemand"].values()))
    (rate,) = list(offer["priceDimensions"])[:1]
    offer["priceDimensions"][rate] = dims
    try:
        parse_product(json.dumps(doc), DDB)
    except PriceListError as error:
        assert str(error)


@settings(max_examples=60, deadline=None)
@given(
    source=st.text(max_size=30),
    other=st.text(min_size=1, max_size=12),
    price=st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_written_files_read_back_exactly(source: str, other: str, price: float) -> None:
    """Whatever the strings (control characters, quotes, DEL, non-ASCII region names), the
    file written reads back with the same values and the other region kept; a value the price
    file's schema refuses (a control character in ``source``) is refused before the rename,
    with the file as it was."""
    import tempfile

    from capcon.core.config.prices import dump_price_file, write_region_prices
    from capcon.core.config.schema import SettingsError, read_toml

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prices.toml"
        before = dump_price_file({"regions": {other: {"wcu_hour": 0.5}}})
        path.write_text(before, encoding="utf-8")
        try:
            write_region_prices(path, "eu-west-1", {"wcu_hour": price}, as_of=TODAY, source=source)
        except SettingsError as error:
            assert "source" in str(error)
            assert path.read_text(encoding="utf-8") == before
            assert sorted(p.name for p in Path(folder).iterdir()) == ["prices.toml"]
            return
        data = read_toml(path)
        assert data["regions"]["eu-west-1"] == {"wcu_hour": price, "as_of": TODAY, "source": source}
        if other != "eu-west-1":
            assert data["regions"][other] == {"wcu_hour": 0.5}


def test_a_region_table_carries_its_own_date_and_source(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        'as_of = 2025-01-01\nsource = "my notes"\n'
        '[regions.eu-west-1]\nas_of = 2026-11-20\nsource = "AWS Price List API"\nwcu_hour = 0.1\n'
        "[regions.us-west-2]\nwcu_hour = 0.2\n"
    )
    eu = load_price_book("eu-west-1", path)
    assert (eu.as_of, eu.source, eu.wcu_hour) == (date(2026, 11, 20), "AWS Price List API", 0.1)
    west = load_price_book("us-west-2", path)
    assert (west.as_of, west.source) == (date(2025, 1, 1), "my notes")
    # a bad region date is named with its table
    path.write_text("[regions.eu-west-1]\nas_of = 'soon'\n")
    with pytest.raises(SettingsError, match=r"regions.eu-west-1.*as_of"):
        load_price_book("eu-west-1", path)
