"""The deployed engine's state and audit stores on DynamoDB (moto): conditional writes, the
lost race, audit order and limits, typed errors, and the engine and scaler on top of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.aws import statestore
from capcon.core.backends.aws.statestore import (
    DynamoAuditStore,
    DynamoStateStore,
    StateItemError,
    audit_sort_key,
)
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Bell, Steady
from capcon.core.config.prices import load_price_book
from capcon.core.deploy import spec
from capcon.core.errors import BackendError, NotFound, StateConflict
from capcon.core.model import Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.ports import AuditStore, Scalable, StateStore, TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditRecord, Origin, StoreAudit
from capcon.core.services.engine import AutoscaleEngine
from capcon.core.services.scaler import Scaler

TABLE = "capcon-engine-state"
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def create_state_table(ddb: Any, name: str = TABLE) -> None:
    """The state table as the template declares it (spec.py's key schema)."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": spec.STATE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": spec.STATE_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": spec.STATE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": spec.STATE_SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def ddb(raw: Callable[[str], Any]) -> Any:
    client = raw("dynamodb")
    create_state_table(client)
    return client


def test_the_keys_are_the_templates() -> None:
    assert statestore.PARTITION_KEY == spec.STATE_PARTITION_KEY
    assert statestore.SORT_KEY == spec.STATE_SORT_KEY
    assert statestore.TTL_ATTRIBUTE == spec.STATE_TTL_ATTRIBUTE


def test_states_are_versioned_and_conditional(ddb: Any) -> None:
    store = DynamoStateStore(ddb, TABLE)
    assert isinstance(store, StateStore)
    assert store.load("policy#table/t:read") is None
    data: dict[str, object] = {"last_out": "2026-12-01T08:00:00+00:00", "n": 1.5, "x": None}
    assert store.save("policy#table/t:read", data, None) == 1
    assert store.save("policy#table/t:read", {**data, "n": 2}, 1) == 2
    loaded = store.load("policy#table/t:read")
    assert loaded is not None and (loaded.version, loaded.data) == (2, {**data, "n": 2})
    item = ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": "state"}, "sk": {"S": "policy#table/t:read"}}
    )["Item"]
    assert item["version"] == {"N": "2"}
    assert "expires" not in item


def test_a_lost_race_raises_state_conflict_and_changes_nothing(
    raw: Callable[[str], Any], ddb: Any
) -> None:
    first, second = DynamoStateStore(ddb, TABLE), DynamoStateStore(raw("dynamodb"), TABLE)
    first.save("k", {"by": "start"}, None)
    a, b = first.load("k"), second.load("k")
    assert a is not None and b is not None and a.version == b.version == 1
    assert second.save("k", {"by": "second"}, b.version) == 2
    with pytest.raises(StateConflict, match="saved by someone else"):
        first.save("k", {"by": "first"}, a.version)
    after = first.load("k")
    assert after is not None and (after.version, after.data) == (2, {"by": "second"})
    # and two first saves: one wins
    assert first.save("new", {"by": "first"}, None) == 1
    with pytest.raises(StateConflict, match="expected nothing stored"):
        second.save("new", {"by": "second"}, None)
    again = second.load("new")
    assert again is not None and again.data == {"by": "first"}


def test_events_expire_and_live_apart(ddb: Any) -> None:
    store = DynamoStateStore(ddb, TABLE, event_ttl=timedelta(days=2), clock=lambda: 1_000.0)
    store.save("event#abc", {"handled": True}, None)
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "event"}, "sk": {"S": "event#abc"}})
    assert item["Item"]["expires"] == {"N": str(1_000 + 2 * 86_400)}


@pytest.mark.parametrize(
    "item",
    [
        {"version": {"S": "1"}, "data": {"S": "{}"}},
        {"version": {"N": "0"}, "data": {"S": "{}"}},
        {"version": {"N": "1"}, "data": {"S": "[]"}},
        {"version": {"N": "1"}, "data": {"S": "{nope"}},
        {"version": {"N": "1"}},
    ],
)
def test_an_item_capcon_did_not_write_is_named(ddb: Any, item: dict[str, Any]) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "state"}, "sk": {"S": "odd"}, **item})
    with pytest.raises(StateItemError, match=f"the state table {TABLE}: the item 'odd'"):
        DynamoStateStore(ddb, TABLE).load("odd")


def test_a_missing_table_is_a_typed_error(raw: Callable[[str], Any]) -> None:
    client = raw("dynamodb")
    with pytest.raises(NotFound, match="dynamodb:GetItem on nope"):
        DynamoStateStore(client, "nope").load("k")
    with pytest.raises(NotFound, match="dynamodb:PutItem on nope"):
        DynamoStateStore(client, "nope").save("k", {}, None)
    with pytest.raises(BackendError, match="dynamodb:Query on nope"):
        DynamoAuditStore(client, "nope").read(5)


def record(change: str, phase: str, at: datetime, **more: Any) -> dict[str, object]:
    return {
        "change_id": change,
        "phase": phase,
        "at": at.isoformat(),
        "origin": {"who": "engine", "backend": "aws"},
        "resource": "orders",
        **more,
    }


def test_audit_items_sort_by_time_change_and_phase(ddb: Any) -> None:
    store = DynamoAuditStore(ddb, TABLE)
    assert isinstance(store, AuditStore)
    same = START
    # written out of order: time, then change id, then phase decide
    store.append(record("bbb", "outcome", same))
    store.append(record("bbb", "intent", same))
    store.append(record("aaa", "outcome", same + timedelta(seconds=1)))
    store.append(record("aaa", "progress", same))
    store.append(record("aaa", "intent", same))
    store.append(record("zzz", "intent", same - timedelta(microseconds=1)))
    store.append(record("ccc", "reconciled", same))
    store.append(record("ccc", "outcome", same))
    store.append(record("ccc", "progress", same))  # after its intent, before its outcome
    store.append(record("ccc", "intent", same))
    order = [(r["change_id"], r["phase"]) for r in store.read()]
    assert order == [
        ("zzz", "intent"),
        ("aaa", "intent"),
        ("aaa", "progress"),
        ("bbb", "intent"),
        ("bbb", "outcome"),
        ("ccc", "intent"),
        ("ccc", "progress"),
        ("ccc", "outcome"),
        ("ccc", "reconciled"),
        ("aaa", "outcome"),
    ]
    items = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :a",
        ExpressionAttributeValues={":a": {"S": "audit"}},
    )["Items"]
    assert len(items) == 10 and all(i["sk"]["S"].startswith("2026-12-01T") for i in items)


def test_audit_read_asks_newest_first_with_a_limit(ddb: Any) -> None:
    store = DynamoAuditStore(ddb, TABLE, page_size=3)
    for n in range(8):
        store.append(record(f"c{n}", "intent", START + timedelta(minutes=n)))
    sent: list[dict[str, Any]] = []
    ddb.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: sent.append(dict(params))
    )
    newest = store.read(2)
    assert [r["change_id"] for r in newest] == ["c6", "c7"]  # the newest two, oldest first
    assert [(p["ScanIndexForward"], p["Limit"]) for p in sent] == [(False, 2)]
    sent.clear()
    assert [r["change_id"] for r in store.read(5)] == ["c3", "c4", "c5", "c6", "c7"]
    assert [p["Limit"] for p in sent] == [3, 2]  # pages of page_size, no more than asked
    assert [r["change_id"] for r in store.read()] == [f"c{n}" for n in range(8)]
    assert store.read(0) == []


def test_an_unreadable_audit_item_is_skipped_with_a_notice(ddb: Any) -> None:
    store = DynamoAuditStore(ddb, TABLE)
    store.append(record("good", "intent", START))
    ddb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "audit"}, "sk": {"S": "2027"}, "record": {"S": "not json"}},
    )
    sink = StoreAudit(store, label=f"the audit of {TABLE}")
    assert [r["change_id"] for r in sink.read()] == ["good"]
    assert sink.take_notices() == [f"1 item of the audit of {TABLE} skipped: not a capcon record"]


def test_audit_records_keep_a_retention(ddb: Any) -> None:
    store = DynamoAuditStore(ddb, TABLE, retention=timedelta(days=90), clock=lambda: 10.0)
    store.append(record("c", "intent", START))
    [item] = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :a",
        ExpressionAttributeValues={":a": {"S": "audit"}},
    )["Items"]
    assert item["expires"] == {"N": str(10 + 90 * 86_400)}


def test_a_record_without_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match="'at'"):
        audit_sort_key({"change_id": "x", "phase": "intent"})


def sim() -> SimAccount:
    acc = SimAccount(START)
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(40, 60),
            reads=Steady(20),
            writes=Bell(base=30, peak=200, steady_s=300, rise_s=600, fall_s=600),
        )
    )
    acc.advance(10 * 60)
    return acc


def test_the_scaler_audits_into_dynamodb(ddb: Any) -> None:
    acc = sim()
    store = DynamoAuditStore(ddb, TABLE)
    scaler = Scaler(acc, StoreAudit(store), Origin("engine", "aws"), wait=lambda s: None)
    found = plan(
        acc.describe_table("orders"),
        TableChange(table=Throughput(40, 90)),
        acc.now(),
        rules=RULES,
        prices=PRICES,
    )
    assert isinstance(found, ScalePlan)
    scaler.follow = False
    result = scaler.apply(found)
    assert result.outcome == "accepted"
    records = store.read()
    assert [(r["phase"], r.get("outcome")) for r in records] == [
        ("intent", None),
        ("outcome", "accepted"),
    ]
    line = AuditRecord(
        change_id="x", phase="intent", at=START, origin=Origin("engine", "aws"),
        resource="orders", kind="table", summary="s",
    ).to_json()  # fmt: skip
    assert set(records[0]) == set(json.loads(line))  # the JSON-lines file's fields


def test_the_engine_keeps_its_policies_in_dynamodb(ddb: Any, tmp_path: Path) -> None:
    """Rebuilt every round from the table, as a Lambda invocation is, the engine decides as
    one that kept its policies in memory."""
    dims = [Scalable("orders", "read"), Scalable("orders", "write")]

    def run(state: StateStore | None) -> list[tuple[object, ...]]:
        acc = sim()
        audit = StoreAudit(DynamoAuditStore(ddb, TABLE))
        scaler = Scaler(acc, audit, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
        engine = None
        rows: list[tuple[object, ...]] = []
        for number in range(25):
            if number:
                acc.advance(60)
            if engine is None or state is not None:
                engine = AutoscaleEngine(
                    acc, "capcon", 70.0, RULES, PRICES, dims, (1, 40_000), scaler,
                    metric_delay_seconds=120, update_seconds=60, state=state,
                )  # fmt: skip
            rows += [(d.at, d.scalable, d.decision, d.outcome) for d in engine.round()]
        return rows

    kept = run(None)
    store = DynamoStateStore(ddb, TABLE)
    assert run(store) == kept
    assert any(row[3] == "applied" for row in kept)
    saved = store.load("policy#table/orders:write")
    assert saved is not None and saved.data["last_out"] is not None
