"""``capcon plan`` on demand: throttled units given, the warning, the proposal line (text and
``--json``), and the price book's date and source named in every plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run

NOW = "2026-12-02T10:00:00Z"


def describe_table() -> dict[str, Any]:
    """``aws dynamodb describe-table --table-name orders``: 50 RCU / 100 WCU and one GSI."""
    return {
        "Table": {
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "TableName": "orders",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TableStatus": "ACTIVE",
            "CreationDateTime": "2025-01-07T10:00:00+00:00",
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 50,
                "WriteCapacityUnits": 100,
            },
            "TableSizeBytes": 0,
            "ItemCount": 0,
            "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_user",
                    "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "IndexStatus": "ACTIVE",
                    "ProvisionedThroughput": {
                        "NumberOfDecreasesToday": 0,
                        "ReadCapacityUnits": 10,
                        "WriteCapacityUnits": 110,
                    },
                    "IndexSizeBytes": 0,
                    "ItemCount": 0,
                }
            ],
        }
    }


@pytest.fixture
def describe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(describe_table()))
    return str(path)


DEMAND = ("--consumed-rcu", "30", "--consumed-wcu", "100", "--throttled-wcu", "66")


def test_plan_below_demand_warns_and_shows_the_proposal(
    capsys: pytest.CaptureFixture[str], describe: str
) -> None:
    code, out, _ = run(
        capsys, "plan", "--describe", describe, "--wcu", "120", *DEMAND, "--now", NOW
    )
    assert code == 0
    flat = " ".join(out.split())  # the panel wraps lines
    assert "demand ≈ 166 WCU/s (100 consumed + 66 throttled); 120 WCU serves 72 %" in flat
    (line,) = [ln for ln in out.splitlines() if ln.startswith("proposal: ")]
    assert "at 70 % utilisation: 43 RCU / 238 WCU (now 50 RCU / 100 WCU)" in line
    # the price book's date and source, and that eu-west-1 borrowed us-east-1's prices
    assert "Prices as of 2024-11-01 from capcon defaults" in flat
    assert "no prices for eu-west-1" in flat

    code, out, _ = run(
        capsys, "plan", "--describe", describe, "--wcu", "120", *DEMAND, "--target", "50",
        "--now", NOW, "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["outcome"] == "plan"
    assert "below-demand" in [w["code"] for w in doc["warnings"]]
    # 166 / 0.5 = 332 WCU, 30 / 0.5 = 60 RCU
    assert doc["proposal"]["capacity"] == {"read": 60, "write": 332}
    assert doc["proposal"]["usage"]["demand_write"] == 166
    assert any(
        a.startswith("Prices as of 2024-11-01 from capcon defaults") for a in doc["assumptions"]
    )


def test_plan_without_use_has_no_proposal_and_bad_flags_exit_2(
    capsys: pytest.CaptureFixture[str], describe: str
) -> None:
    code, out, _ = run(capsys, "plan", "--describe", describe, "--wcu", "120", "--now", NOW)
    assert code == 0 and "proposal:" not in out
    code, out, _ = run(capsys, "plan", "--describe", describe, "--wcu", "120", "--json")
    assert json.loads(out)["proposal"] is None
    for flag, value in (("--throttled-wcu", "-1"), ("--throttled-rcu", "nan"), ("--target", "0")):
        code, out, err = run(capsys, "plan", "--describe", describe, "--wcu", "120", flag, value)
        assert code == 2 and "Traceback" not in err and flag in err


def test_a_dimension_whose_use_is_not_given_keeps_its_capacity_in_the_proposal(
    capsys: pytest.CaptureFixture[str], describe: str
) -> None:
    """Only writes given: the proposal must not size reads for zero traffic (1 RCU)."""
    code, out, _ = run(
        capsys, "plan", "--describe", describe, "--wcu", "120",
        "--consumed-wcu", "100", "--throttled-wcu", "66", "--now", NOW, "--json",
    )  # fmt: skip
    proposal = json.loads(out)["proposal"]
    assert code == 0
    assert proposal["capacity"] == {"read": 50, "write": 238}  # 166 / 0.7 = 237.1 → 238
    assert proposal["unknown"] == ["read"]
    assert "? RCU/s (not given: kept)" in proposal["line"]
