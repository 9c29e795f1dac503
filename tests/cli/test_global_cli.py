"""``capcon plan|scale --class``, ``ls`` and ``show`` for global tables and table classes:
from an AWS-CLI-shaped describe file and on the simulated demo account."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.unit.test_global_tables import GLOBAL_IA

NOW = "2026-12-02T03:00:00Z"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return home


@pytest.fixture
def described(tmp_path: Path) -> str:
    path = tmp_path / "order-history.json"
    path.write_text(json.dumps(GLOBAL_IA), encoding="utf-8")
    return str(path)


def test_plan_of_a_global_table_lists_every_region(
    capsys: pytest.CaptureFixture[str], described: str
) -> None:
    result = run(capsys, "plan", "--describe", described, "--wcu", "2000", "--now", NOW, "--json")
    assert result.code == 0, result.err
    doc = result.document()
    assert [r["region"] for r in doc["regions"]] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    codes = [w["code"] for w in doc["warnings"]]
    assert "replicas-write-capacity" in codes
    text = run(capsys, "plan", "--describe", described, "--wcu", "2000", "--now", NOW)
    assert "every region (global table)" in text.out and "eu-west-1" in text.out


def test_plan_class_switch_from_a_file(capsys: pytest.CaptureFixture[str], described: str) -> None:
    result = run(
        capsys, "plan", "--describe", described, "--class", "standard", "--now", NOW, "--json"
    )
    assert result.code == 0, result.err
    doc = result.document()
    assert doc["change"]["table_class"] == "STANDARD"
    assert doc["class_break_even"]["storage_gb"] == pytest.approx(110.0)
    assert doc["class_break_even"]["net_saving"] == pytest.approx(16.5 * -1 + 96.36, abs=0.01)
    assert "class-switch-limit" in [w["code"] for w in doc["warnings"]]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--class", "standard", "--wcu", "5"], "--class switches the table class on its own"),
        (["--class", "standard", "--mode", "on-demand"], "on its own"),
        (["--class", "glacier"], "invalid choice: 'glacier'"),
    ],
)
def test_bad_class_flags_are_usage_errors(
    capsys: pytest.CaptureFixture[str], described: str, flags: list[str], says: str
) -> None:
    result = run(capsys, "plan", "--describe", described, *flags, "--now", NOW)
    assert result.code == 2
    assert says in result.err and "Traceback" not in result.err


def test_a_malformed_replica_is_named_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = copy.deepcopy(GLOBAL_IA)
    bad["Table"]["Replicas"][1]["ReplicaTableClassSummary"] = {"TableClass": "\x1b[31mIA"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = run(capsys, "plan", "--describe", str(path), "--wcu", "600", "--now", NOW)
    assert result.code == 2
    assert "Replicas[1](ap-southeast-2).ReplicaTableClassSummary.TableClass" in result.err
    assert "\x1b" not in result.err and "Traceback" not in result.err


def test_ls_and_show_mark_the_demo_global_ia_table(capsys: pytest.CaptureFixture[str]) -> None:
    listed = run(capsys, "--sim=demo", "ls", "--json")
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.document()}
    archive = rows["shipment-archive"]
    assert archive["table_class"] == "STANDARD_INFREQUENT_ACCESS"
    assert archive["replica_regions"] == ["eu-west-1", "ap-southeast-2"]
    assert rows["orders"]["table_class"] == "STANDARD" and rows["orders"]["replica_regions"] == []
    # the row's cost is every region's, at Standard-IA prices (eu-west-1 reads 20 RCU)
    r, w = archive["capacity"]["read"], archive["capacity"]["write"]
    ia_rcu, ia_rwcu, storage = 0.00016, 0.00081, 260 * 0.10 / 730
    home = r * ia_rcu + w * ia_rwcu + storage
    assert archive["cost_per_hour"] == pytest.approx(
        home + (20 * ia_rcu + w * ia_rwcu + storage) + home
    )
    text = run(capsys, "--sim=demo", "ls")
    line = next(x for x in text.out.splitlines() if "shipment-archive" in x)
    assert "IA · global ×3" in line
    shown = run(capsys, "--sim=demo", "show", "shipment-archive")
    assert shown.code == 0, shown.err
    assert "table class Standard-IA" in shown.out
    assert "eu-west-1: ACTIVE · Standard-IA · reads 20 RCU (override)" in shown.out
    assert "writes min 20 max 400 target 70%" in shown.out


def test_scale_class_switch_on_the_demo_is_applied_and_audited(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(
        capsys, "--sim=demo", "scale", "shipment-archive", "--class", "standard", "--yes", "--json"
    )
    assert result.code == 0, result.err
    doc = result.document()
    assert doc["outcome"] == "applied"
    assert doc["before"]["table_class"] == "STANDARD_INFREQUENT_ACCESS"
    assert doc["after"]["table_class"] == "STANDARD"
    log = (tmp_path / "state" / "capcon" / "audit.jsonl").read_text(encoding="utf-8")
    outcome = [json.loads(line) for line in log.splitlines()][-1]
    assert outcome["phase"] == "outcome" and outcome["after"]["table_class"] == "STANDARD"


def test_live_plan_on_the_demo_respects_replica_auto_scaling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "--sim=demo", "plan", "shipment-archive", "--wcu", "80", "--json")
    assert result.code == 0, result.err
    doc = result.document()
    messages = {w["code"]: w["message"] for w in doc["warnings"]}
    assert "ap-southeast-2, eu-west-1" in messages["replica-auto-scaling"]
    # the demo's auto scaling moves the write capacity with the time of day: read it
    before = doc["parts"][0]["before"]["write"]
    assert 20 <= before <= 400
    assert (
        f"{before} → 80 WCU applies in eu-west-1, ap-southeast-2"
        in messages["replicas-write-capacity"]
    )
    assert [r["region"] for r in doc["regions"]] == ["us-east-1", "eu-west-1", "ap-southeast-2"]


def test_each_replica_region_is_priced_from_its_own_book(
    capsys: pytest.CaptureFixture[str], described: str, tmp_path: Path
) -> None:
    """A price file's [regions.eu-west-1] prices eu-west-1's replica; ap-southeast-2 has no
    prices of its own and borrows us-east-1's, and the plan says so."""
    prices = tmp_path / "prices.toml"
    prices.write_text("[regions.eu-west-1]\nia_rcu_hour = 0.0002\n", encoding="utf-8")
    result = run(
        capsys, "--prices", str(prices), "plan", "--describe", described, "--wcu", "600",
        "--now", NOW, "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    doc = result.document()
    regions = {r["region"]: r for r in doc["regions"]}
    ia_rcu, ia_rwcu, storage = 0.00016, 0.00081, (100 + 10) * 0.10 / 730
    eu = (400 + 50) * 0.0002 + (500 + 100) * ia_rwcu + storage  # its own read price
    ap = (1000 + 200) * ia_rcu + (500 + 100) * ia_rwcu + storage
    assert regions["eu-west-1"]["cost_before"]["per_hour"] == pytest.approx(eu)
    assert regions["ap-southeast-2"]["cost_before"]["per_hour"] == pytest.approx(ap)
    assert any("no prices for ap-southeast-2" in a for a in doc["assumptions"])


def test_show_degrades_when_replica_auto_scaling_cannot_be_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from capcon.core.backends.sim.account import SimAccount
    from capcon.core.errors import AccessDenied

    def denied(self: SimAccount, name: str) -> tuple[()]:
        raise AccessDenied("dynamodb:DescribeTableReplicaAutoScaling: access denied")

    monkeypatch.setattr(SimAccount, "describe_table_replica_auto_scaling", denied)
    shown = run(capsys, "--sim=demo", "show", "shipment-archive")
    assert shown.code == 5  # EXIT_PARTIAL
    assert "eu-west-1: ACTIVE · Standard-IA" in shown.out and "auto scaling unknown" in shown.out
    assert "replica auto scaling not shown" in shown.err
    planned = run(capsys, "--sim=demo", "plan", "shipment-archive", "--wcu", "80", "--json")
    assert planned.code == 0, planned.err
    assert "replica-auto-scaling" not in [w["code"] for w in planned.document()["warnings"]]
