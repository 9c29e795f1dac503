"""Inputs capcon had not seen when issue 16 was built: AWS-CLI-shaped ``describe-table`` and
``describe-stream-summary`` files with every member the botocore model has (replica progress,
witnesses, multi-region consistency, empty overrides, unknown replica statuses, warm throughput
UPDATING, huge numbers, unicode names), and file names whose bytes are not UTF-8.

Each runs ``capcon plan --describe`` in-process: a documented exit code, never a traceback, a
message on a refusal, valid JSON with ``--json``; the money of two is checked by hand.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run

NOW = "2026-12-02T03:00:00Z"
GIB = 2**30
GLOBAL_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders-ü.prod_2026"


def _gsi(name: str, read: int, write: int, size_gib: int, **extra: Any) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": read,
            "WriteCapacityUnits": write,
        },
        "IndexSizeBytes": size_gib * GIB,
        "ItemCount": 123_456_789,
        "IndexArn": f"{GLOBAL_ARN}/index/{name}",
        **extra,
    }


#: A 3-region Standard-IA global table (version 2019.11.21) with 2 GSIs, as describe-table
#: prints it, with members capcon does not read (SSE, deletion protection, consistency).
GLOBAL_IA: dict[str, Any] = {
    "Table": {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "TableName": "orders-ü.prod_2026",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "TableStatus": "ACTIVE",
        "CreationDateTime": "2023-04-01T10:00:00.123000+00:00",
        "ProvisionedThroughput": {
            "LastIncreaseDateTime": "2026-11-30T10:00:00+00:00",
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 1000,
            "WriteCapacityUnits": 1000,
        },
        "TableSizeBytes": 100 * GIB,
        "ItemCount": 123_456_789,
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders-ü.prod_2026",
        "TableId": "7b8f6a1e-1111-2222-3333-444455556666",
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "GlobalSecondaryIndexes": [
            _gsi("by-customer", 500, 1000, 50),
            _gsi(
                "by-date",
                200,
                400,
                10,
                WarmThroughput={
                    "ReadUnitsPerSecond": 12000,
                    "WriteUnitsPerSecond": 4000,
                    "Status": "UPDATING",
                },
            ),
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalTableVersion": "2019.11.21",
        "Replicas": [
            {
                "RegionName": "eu-west-1",
                "ReplicaStatus": "ACTIVE",
                "ReplicaTableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
                "GlobalSecondaryIndexes": [
                    {"IndexName": "by-customer", "ProvisionedThroughputOverride": {}},
                    {"IndexName": "by-date"},
                ],
            },
            {
                "RegionName": "ap-southeast-2",
                "ReplicaStatus": "ACTIVE",
                "ProvisionedThroughputOverride": {"ReadCapacityUnits": 300},
                "ReplicaTableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
            },
        ],
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS"},
        "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        "DeletionProtectionEnabled": True,
        "WarmThroughput": {
            "ReadUnitsPerSecond": 30000,
            "WriteUnitsPerSecond": 10000,
            "Status": "ACTIVE",
        },
        "MultiRegionConsistency": "EVENTUAL",
    }
}


def _table(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GLOBAL_IA)
    for key, value in changes.items():
        if value is None:
            doc["Table"].pop(key, None)
        else:
            doc["Table"][key] = value
    return doc


def _with_replica(replica: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc = _table(**changes)
    doc["Table"]["Replicas"].append(replica)
    return doc


def _on_demand() -> dict[str, Any]:
    doc = _table(
        BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"},
        OnDemandThroughput={"MaxReadRequestUnits": 40000, "MaxWriteRequestUnits": -1},
    )
    zero = {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    doc["Table"]["ProvisionedThroughput"] = zero
    for index in doc["Table"]["GlobalSecondaryIndexes"]:
        index["ProvisionedThroughput"] = zero
        index["OnDemandThroughput"] = {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 2000}
    doc["Table"]["Replicas"][1] = {
        "RegionName": "ap-southeast-2",
        "ReplicaStatus": "ACTIVE",
        "OnDemandThroughputOverride": {"MaxReadRequestUnits": 100},
    }
    return doc


def _backfilling(status: str) -> dict[str, Any]:
    doc = _table(BillingModeSummary=None, Replicas=None, GlobalTableVersion=None)
    doc["Table"]["GlobalSecondaryIndexes"][0].update(IndexStatus=status, Backfilling=True)
    return doc


TABLES: dict[str, dict[str, Any]] = {
    "global-ia": GLOBAL_IA,
    "replica-updating-with-progress": _with_replica(
        {
            "RegionName": "ca-central-1",
            "ReplicaStatus": "UPDATING",
            "ReplicaStatusDescription": "Replica is being updated",
            "ReplicaStatusPercentProgress": "42",
        }
    ),
    "replica-not-authorized-with-witness": _with_replica(
        {
            "RegionName": "us-west-2",
            "ReplicaStatus": "REPLICATION_NOT_AUTHORIZED",
            "ReplicaInaccessibleDateTime": "2026-11-01T00:00:00+00:00",
        },
        GlobalTableWitnesses=[{"RegionName": "us-east-2", "WitnessStatus": "ACTIVE"}],
        MultiRegionConsistency="STRONG",
    ),
    "replica-status-unseen": _with_replica(
        {"RegionName": "eu-central-1", "ReplicaStatus": "ARCHIVED", "KMSMasterKeyId": "x"}
    ),
    "override-without-read": _with_replica(
        {"RegionName": "sa-east-1", "ProvisionedThroughputOverride": {}}
    ),
    "on-demand-global": _on_demand(),
    "no-billing-summary-backfilling": _backfilling("CREATING"),
    "active-and-backfilling": _backfilling("ACTIVE"),
    "warm-updating": _table(
        TableStatus="UPDATING",
        WarmThroughput={
            "ReadUnitsPerSecond": 2**40,
            "WriteUnitsPerSecond": 2**40,
            "Status": "UPDATING",
        },
    ),
    "class-summary-without-class": _table(
        TableClassSummary={"LastUpdateDateTime": "2026-12-01T00:00:00+00:00"}
    ),
    "huge": _table(TableSizeBytes=2**53, ItemCount=2**62),
    "unicode-and-markup-names": _table(TableName="Ünïcödé-表_1.2[bold]x[/]"),
}

TABLE_FLAGS: list[list[str]] = [
    ["--wcu", "2000"],
    ["--rcu", "100", "--json"],
    ["--mode", "on-demand"],
    [
        "--mode",
        "provisioned",
        "--rcu",
        "10",
        "--wcu",
        "10",
        "--index-capacity",
        "by-customer=10/10",
        "--index-capacity",
        "by-date=10/10",
    ],
    ["--class", "standard", "--json"],
    ["--warm", "40000/"],
    ["--index", "by-customer", "--wcu", "5000"],
    ["--max-read", "100", "--json"],
    ["--throttled-wcu", "66", "--consumed-wcu", "100", "--json"],
]


def _stream(mode: str = "PROVISIONED", **changes: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "StreamName": "clicks.ü-1",
        "StreamARN": "arn:aws:kinesis:eu-central-1:123456789012:stream/clicks.ü-1",
        "StreamStatus": "ACTIVE",
        "StreamModeDetails": {"StreamMode": mode},
        "RetentionPeriodHours": 168,
        "StreamCreationTimestamp": "2024-01-01T00:00:00+00:00",
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "KMS",
        "KeyId": "alias/aws/kinesis",
        "OpenShardCount": 4,
        "ConsumerCount": 3,
        **changes,
    }
    step = 2**128 // 4
    shards = [
        {
            "ShardId": f"shardId-{i:012d}",
            "HashKeyRange": {
                "StartingHashKey": str(i * step),
                "EndingHashKey": str((i + 1) * step - 1 if i < 3 else 2**128 - 1),
            },
            "SequenceNumberRange": {"StartingSequenceNumber": "4959" + "0" * 52},
        }
        for i in range(4)
    ]
    return {"summary": {"StreamDescriptionSummary": summary}, "shards": {"Shards": shards}}


STREAMS: dict[str, dict[str, Any]] = {
    "efo-3": _stream(),
    "efo-0-unencrypted": _stream(ConsumerCount=0, EncryptionType="NONE"),
    "efo-20": _stream(ConsumerCount=20),
    "warm-empty": _stream(WarmThroughput={}),
    "other-region": _stream(StreamARN="arn:aws:kinesis:ap-south-2:123456789012:stream/x"),
    "on-demand-warm": _stream(
        "ON_DEMAND",
        WarmThroughput={"TargetMiBps": 100, "CurrentMiBps": 20},
        MaxRecordSizeInKiB=1024,
    ),
}

STREAM_FLAGS: list[list[str]] = [
    ["--shards", "8", "--json"],
    ["--shards", "2", "--strategy", "targeted"],
    ["--shards", "8", "--incoming-records", "1000", "--incoming-bytes", "100000"],
    ["--incoming-records", "1000", "--incoming-bytes", "100000"],
]


def _write(tmp_path: Path, document: dict[str, Any]) -> str:
    path = tmp_path / "describe.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


CASES = [
    pytest.param(doc, flags, id=f"{name}:{' '.join(flags)}")
    for table, flag_sets in ((TABLES, TABLE_FLAGS), (STREAMS, STREAM_FLAGS))
    for name, doc in table.items()
    for flags in flag_sets
]


@pytest.mark.parametrize(("document", "flags"), CASES)
def test_unseen_describe_files_plan_without_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    document: dict[str, Any],
    flags: list[str],
) -> None:
    code, out, err = run(
        capsys, "plan", "--describe", _write(tmp_path, document), "--now", NOW, *flags
    )
    assert code in {0, 1, 2}, (code, err)
    assert "Traceback" not in err
    if code == 2:
        assert "capcon: error:" in err and len(err.strip()) > 20
    if "--json" in flags and code in {0, 1}:
        assert isinstance(json.loads(out), dict)


def test_a_three_region_standard_ia_global_table_with_two_gsis_is_priced_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = run(
        capsys, "plan", "--describe", _write(tmp_path, GLOBAL_IA), "--now", NOW, "--wcu", "2000",
        "--json",
    )  # fmt: skip
    assert got.code == 0, got.err
    plan = got.document()
    # Standard-IA: 0.00016 per RCU-hour, 0.00081 per replicated WCU-hour, 0.10 per GB-month.
    reads = 2 * (1000 + 500 + 200) * 0.00016 + (300 + 500 + 200) * 0.00016  # ap-southeast-2: 300
    storage = 3 * (100 + 50 + 10) * 0.10 / 730
    before = reads + 3 * (1000 + 1000 + 400) * 0.00081 + storage
    after = reads + 3 * (2000 + 1000 + 400) * 0.00081 + storage
    assert plan["cost_before"]["per_hour"] == pytest.approx(before)
    assert plan["cost_after"]["per_hour"] == pytest.approx(after)
    assert [r["region"] for r in plan["regions"]] == ["us-east-1", "eu-west-1", "ap-southeast-2"]


def test_an_efo_stream_reshard_prices_every_consumer_shard_hour_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = run(
        capsys, "plan", "--describe", _write(tmp_path, STREAMS["efo-3"]), "--now", NOW,
        "--shards", "8", "--json",
    )  # fmt: skip
    assert got.code == 0, got.err
    plan = got.document()
    # shard-hour 0.015, extended retention (168 h) 0.020 per shard-hour, 3 consumers × 0.015
    assert plan["cost_before"]["per_hour"] == pytest.approx(4 * 0.015 + 4 * 0.020 + 3 * 4 * 0.015)
    assert plan["cost_after"]["per_hour"] == pytest.approx(8 * 0.015 + 8 * 0.020 + 3 * 8 * 0.015)


def test_an_on_demand_stream_is_not_told_to_give_shards_it_cannot_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, STREAMS["on-demand-warm"])
    code, _, err = run(capsys, "plan", "--describe", path, "--incoming-records", "5")
    assert code == 2
    assert "on-demand stream" in err and "give --shards" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["tour", "--prices=\udcff"], "\\udcff: no such file"),  # argv byte 0xff
        (["tour", "--rules=a\udcffb.toml"], "a\\udcffb.toml: no such file"),
        (["plan", "--describe=\udcff", "--wcu", "5"], "\\udcff"),
        (["tour", "--prices=\ud800"], "the name is not UTF-8 text"),
    ],
)
def test_a_file_name_whose_bytes_are_not_utf8_is_named_in_the_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert expected in err
    err.encode("utf-8")  # what a UTF-8 stderr can write


def test_an_on_demand_global_table_without_traffic_has_no_price_per_hour_of_a_dash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TABLES["on-demand-global"])
    code, out, err = run(capsys, "plan", "--describe", path, "--now", NOW, "--max-read", "100")
    assert code == 0, err
    assert "whole table: — (needs traffic)" in out
    assert "(needs traffic)/h" not in out and "(needs traffic) a month" not in out


def test_capacity_for_an_on_demand_table_names_the_switch_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TABLES["on-demand-global"])
    code, _, err = run(capsys, "plan", "--describe", path, "--now", NOW, "--wcu", "2000")
    assert code == 2
    assert "--mode provisioned with both --rcu and --wcu" in err
    assert "--index-capacity NAME=R/W for each GSI" in err


def test_the_mode_a_table_already_has_says_so_instead_of_no_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _table())
    code, out, _ = run(capsys, "plan", "--describe", path, "--now", NOW, "--mode", "provisioned")
    assert code == 1
    assert "is already provisioned: give --rcu/--wcu" in " ".join(out.split())


def test_show_writes_a_tables_capacity_in_units_not_as_a_python_dict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run(capsys, "--sim", "show", "shipment-archive")
    assert code == 0, err
    # reads are fixed at 40; auto scaling moves the writes with the simulated time of day
    assert re.search(r"table: capacity 40 RCU / [\d,]+ WCU ·", out), out
    assert "{'read'" not in out


def test_a_describe_file_saved_as_utf16_by_powershell_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "describe.json"
    path.write_bytes(json.dumps(GLOBAL_IA, indent=4).encode("utf-16"))  # with its byte-order mark
    code, out, err = run(
        capsys, "plan", "--describe", str(path), "--now", NOW, "--json", "--wcu", "2000"
    )
    assert code == 0, err
    assert json.loads(out)["resource"] == "orders-ü.prod_2026"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ARCHIVED", "restore it from its backup"),
        ("ARCHIVING", "being archived"),
        ("INACCESSIBLE_ENCRYPTION_CREDENTIALS", "KMS key is inaccessible"),
        ("REPLICATION_NOT_AUTHORIZED", "not authorized"),
    ],
)
def test_a_table_no_wait_makes_active_is_not_told_to_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str, expected: str
) -> None:
    path = _write(tmp_path, _table(TableStatus=status, Replicas=None))
    code, out, _ = run(capsys, "plan", "--describe", path, "--now", NOW, "--wcu", "2000", "--json")
    assert code == 1
    message = " ".join(v["message"] for v in json.loads(out)["violations"])
    assert expected in message and "wait for the current change" not in message


SPOOFING = "orders\u202egnp.exe\u2066\u009b31m\u0085x"  # bidi override, isolate, C1 CSI and NEL


@pytest.mark.parametrize("as_json", [False, True])
def test_a_name_with_c1_controls_or_bidi_overrides_reaches_no_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    path = _write(tmp_path, _table(TableName=SPOOFING, Replicas=None))
    flags = ["--json"] if as_json else []
    code, out, err = run(capsys, "plan", "--describe", path, "--now", NOW, "--wcu", "10", *flags)
    assert code == 0, err
    assert not set("\u009b\u0085") & set(out + err)  # C1 controls a terminal may obey
    if as_json:
        assert not set("\u202e\u2066") & set(out)  # escaped: JSON's own way to write them
    if as_json:
        assert json.loads(out)["resource"] == SPOOFING  # the same value, escaped


@pytest.mark.parametrize("warm_known", [False, True])
def test_a_pre_warm_with_its_prices_set_says_what_is_unknown_or_the_charge_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], warm_known: bool
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        "[regions.us-east-1]\nprewarm_read_units = 0.0001\nprewarm_write_units = 0.0002\n"
    )
    warm = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000} if warm_known else None
    path = _write(tmp_path, _table(Replicas=None, GlobalSecondaryIndexes=None, WarmThroughput=warm))
    argv = ["--prices", str(prices), "plan", "--describe", path, "--now", NOW, "--json"]
    code, out, err = run(capsys, *argv, "--warm", "40000/20000")
    assert code == 0, err
    plan = json.loads(out)
    message = next(w["message"] for w in plan["warnings"] if w["code"] == "prewarm-charge")
    if warm_known:
        charge = (40000 - 12000) * 0.0001 + (20000 - 4000) * 0.0002
        assert plan["parts"][0]["prewarm_charge"] == pytest.approx(charge)
        assert f"${charge:,.2f}" in message
    else:
        assert "set prewarm_read_units" not in message  # they are set: the warm values are not
        assert "warm throughput is not known" in message
