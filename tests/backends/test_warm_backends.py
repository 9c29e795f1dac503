"""Pre-warming and on-demand maximums through both backends: the boto3 adapter against the
moto server (moto stores ``WarmThroughput`` and ignores ``OnDemandThroughput``, whose request
shape is checked with botocore's Stubber), the simulated account, and the scaler after a lost
answer (docs/aws-rules.md#pre-warming, docs/aws-rules.md#on-demand-maximums)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.model import Throughput, WarmThroughput
from capcon.core.ports import MetricQuery, TableChange
from capcon.core.services.audit import AuditLog
from capcon.core.services.reconcile import Reconciler
from tests.support.faulty import ORIGIN, START, Faulty, account, lost_after, make, make_plan

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]


def _create(ddb: Any) -> None:
    ddb.create_table(
        TableName="orders",
        KeySchema=KEY,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "u", "AttributeType": "S"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-user",
                "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            }
        ],
    )


def test_pre_warming_a_table_and_a_gsi_on_moto(url: str, raw: Callable[[str], Any]) -> None:
    _create(raw("dynamodb"))
    adapter = AwsAdapter(AwsSession(endpoint_url=url))
    before = adapter.describe_table("orders")
    assert before.warm is not None
    table = adapter.update_table("orders", TableChange(warm=WarmThroughput(15_000, 5_000)))
    assert table.warm == WarmThroughput(15_000, 5_000)
    table = adapter.update_table(
        "orders", TableChange(index_warm=(("by-user", WarmThroughput(13_000, 4_500)),))
    )
    assert table.index("by-user").warm == WarmThroughput(13_000, 4_500)
    assert table.index("by-user").provisioned == Throughput(5, 5)  # untouched
    # and what AWS itself would print
    described = raw("dynamodb").describe_table(TableName="orders")["Table"]
    assert described["WarmThroughput"]["ReadUnitsPerSecond"] == 15_000


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_on_demand_maximums_are_sent_as_aws_documents(aws_env: Path) -> None:
    """moto ignores OnDemandThroughput: the Stubber checks the request against botocore's
    model (an invalid shape fails there) and against the expected parameters."""
    offline = AwsAdapter(
        AwsSession(endpoint_url=f"http://127.0.0.1:{closed_port()}", max_attempts=1)
    )
    change = TableChange(
        on_demand_max=Throughput(500, 0),
        index_on_demand_max=(("gsi1", Throughput(0, 50)),),
        index_warm=(("gsi1", WarmThroughput(13_000, 4_000)),),
    )
    expected = {
        "TableName": "events",
        "OnDemandThroughput": {"MaxReadRequestUnits": 500, "MaxWriteRequestUnits": -1},
        "GlobalSecondaryIndexUpdates": [
            {
                "Update": {
                    "IndexName": "gsi1",
                    "WarmThroughput": {"ReadUnitsPerSecond": 13_000, "WriteUnitsPerSecond": 4_000},
                    "OnDemandThroughput": {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 50},
                }
            }
        ],
    }
    assert AwsAdapter.table_request("events", change) == expected
    with Stubber(offline.dynamodb_once) as stub:
        stub.add_response("update_table", {}, expected)
        offline.dynamodb_once.update_table(**AwsAdapter.table_request("events", change))
        stub.assert_no_pending_responses()


# --- the simulated account -------------------------------------------------------------------


def test_the_simulated_account_pre_warms_and_raises_its_partitions() -> None:
    acc = SimAccount(START)
    acc.add_table(
        TableSpec(
            "t",
            Throughput(300, 50),
            reads=Steady(10),
            writes=Steady(10),
            indexes=[IndexSpec("g", Throughput(10, 10), Steady(1))],
        )
    )
    before = acc.describe_table("t")
    assert before.warm == WarmThroughput(3_000, 1_000)  # one partition
    after = acc.update_table(
        "t",
        TableChange(
            warm=WarmThroughput(9_000, 1_000), index_warm=(("g", WarmThroughput(3_000, 2_500)),)
        ),
    )
    assert after.warm is not None and after.warm.read_units_per_second == 9_000
    assert after.index("g").warm is not None
    assert after.index("g").warm.write_units_per_second >= 2_500  # type: ignore[union-attr]
    assert acc.tables["t"].table.partitions == 3  # ceil(9,000 / 3,000), never fewer again


def test_the_simulated_account_throttles_on_demand_requests_above_the_maximum() -> None:
    acc = SimAccount(START)
    acc.add_table(TableSpec("od", None, reads=Steady(400), writes=Steady(10)))
    acc.advance(120)
    acc.update_table("od", TableChange(on_demand_max=Throughput(100, 0)))
    assert acc.describe_table("od").on_demand_max == Throughput(100, 0)
    start = acc.now()
    acc.advance(600)
    dims = (("TableName", "od"),)
    queries = [
        MetricQuery("c", "AWS/DynamoDB", "ConsumedReadCapacityUnits", dims),
        MetricQuery("t", "AWS/DynamoDB", "ReadThrottleEvents", dims),
        MetricQuery("w", "AWS/DynamoDB", "WriteThrottleEvents", dims),
    ]
    series = {s.id: s for s in acc.get_metric_data(queries, start, acc.now())}
    consumed = [v / 60 for v in series["c"].values]
    throttled = [v / 60 for v in series["t"].values]
    assert consumed and max(consumed) <= 100 + 1e-6  # never above the maximum
    assert min(throttled) > 250  # the other ~300 reads/s a second are throttled
    assert sum(series["w"].values) == 0  # writes have no maximum
    acc.update_table("od", TableChange(on_demand_max=Throughput(0, 0)))
    assert acc.describe_table("od").on_demand_max is None


# --- the scaler after a lost answer -----------------------------------------------------------


def test_a_lost_answer_to_a_pre_warm_is_detected_as_landed(tmp_path: Path) -> None:
    faulty = Faulty(account())
    log = AuditLog(tmp_path / "audit.jsonl")
    plan = make_plan(faulty.inner, "orders", TableChange(warm=WarmThroughput(6_000, 2_000)))
    faulty.faults["update_table"] = [lost_after()]
    result = make(faulty, log).apply(plan)
    assert result.outcome == "applied", result.error
    assert faulty.calls["update_table"] == 1  # read back, not sent twice
    expects = [r["details"]["expect"] for r in log.read() if "expect" in r.get("details", {})]
    assert expects == [{"warm": {"read": 6_000, "write": 2_000}}]


def test_an_open_pre_warm_is_reconciled_as_applied(tmp_path: Path) -> None:
    acc = account()
    log = AuditLog(tmp_path / "audit.jsonl")
    plan = make_plan(acc, "orders", TableChange(warm=WarmThroughput(4_000, 2_000)))
    faulty = Faulty(acc)

    def crash(call: Callable[[], Any]) -> Any:
        call()
        raise KeyboardInterrupt  # the process dies after the request was carried out

    faulty.faults["update_table"] = [crash]
    with contextlib.suppress(KeyboardInterrupt):
        make(faulty, log).apply(plan)
    found = Reconciler(acc, log, ORIGIN).run()
    assert [(r.left_as, r.verdict) for r in found] == [("interrupted", "applied")]


def test_an_on_demand_table_at_its_maximum_shows_it_in_the_list() -> None:
    """The list's capacity of an on-demand table with a maximum is that maximum, and its
    utilisation is consumed ÷ maximum (here 100 %: every read above 100/s throttles)."""
    from capcon.core.config.prices import load_price_book
    from capcon.core.rules import RuleSettings
    from capcon.core.services.overview import collect_rows
    from capcon.tui.text import capacity_text, util_text

    acc = SimAccount(START)
    acc.add_table(TableSpec("od", None, reads=Steady(400), writes=Steady(10)))
    acc.add_table(TableSpec("free", None, reads=Steady(400), writes=Steady(10)))
    acc.advance(120)
    acc.update_table("od", TableChange(on_demand_max=Throughput(100, 0)))
    acc.advance(600)
    rows = {r.name: r for r in collect_rows(acc, RuleSettings(), load_price_book("us-east-1"))}
    limited, free = rows["od"], rows["free"]
    assert limited.on_demand_max == Throughput(100, 0)
    assert limited.utilisation is not None and 0.99 <= limited.utilisation <= 1.0 + 1e-6
    assert capacity_text(limited, compact=True) == "max 100/-"
    assert util_text(limited) == "100%"
    assert free.on_demand_max is None and free.utilisation is None
    assert capacity_text(free, compact=True) == "on-demand"
