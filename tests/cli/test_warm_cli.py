"""The CLI for warm throughput, pre-warming, on-demand maximums, a backfilling GSI and the
switch back to provisioned with every GSI (docs/aws-rules.md#warm-throughput)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.model import Throughput
from capcon.core.planning.planner import ScalePlan
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.inspect import show_document
from capcon.tui.cli import scale
from capcon.tui.cli.output import EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from capcon.tui.cli.show import warm_and_limit_lines
from tests.cli.test_cli import config_home
from tests.support.cli import run
from tests.support.faulty import START
from tests.unit.test_warm import on_demand_doc, scenario

NOW = "2026-12-01T12:00:00Z"
__all__ = ["config_home"]  # its autouse fixture: plain, wide output


def described(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_the_issue_table_is_within_warm_throughput(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = described(tmp_path, scenario())
    result = run(capsys, "plan", "--describe", file, "--wcu", "10000", "--now", NOW)
    assert result.code == EXIT_OK, result.err
    assert "within warm throughput: served instantly" in result.out
    assert "permanently" not in result.out
    doc = run(capsys, "plan", "--describe", file, "--wcu", "10000", "--now", NOW, "--json")
    part = doc.document()["parts"][0]
    assert part["partitions_after"]["within_warm"] is True
    assert part["partitions_after"]["count"] == 10


def test_warm_flag_sides_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = described(tmp_path, scenario())
    one_side = run(capsys, "plan", "--describe", file, "--warm", "36000/", "--now", NOW, "--json")
    assert one_side.code == EXIT_OK, one_side.err
    part = one_side.document()["parts"][0]
    # the write side is kept at today's 10,000
    assert part["warm_after"] == {
        "read_units_per_second": 36000,
        "write_units_per_second": 10000,
        "status": "ACTIVE",
    }
    lower = run(capsys, "plan", "--describe", file, "--warm", "/5000", "--now", NOW)
    assert lower.code == EXIT_REFUSED
    assert "can never decrease" in lower.out
    for bad in ("36000", "/", "a/b", "0/5", "-1/"):
        wrong = run(capsys, "plan", "--describe", file, f"--warm={bad}", "--now", NOW)
        assert wrong.code == EXIT_USAGE, bad
        assert "expected R/W, R/ or /W" in wrong.err, bad
        assert "Traceback" not in wrong.err


def test_a_gsi_pre_warm_and_a_backfilling_gsi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = described(tmp_path, scenario(IndexStatus="CREATING", Backfilling=True))
    capacity = run(
        capsys, "plan", "--describe", file, "--index", "by-user", "--rcu", "200", "--now", NOW
    )
    assert capacity.code == EXIT_OK, capacity.out
    warm = run(
        capsys, "plan", "--describe", file, "--index", "by-user", "--warm", "9000/", "--now", NOW
    )
    assert warm.code == EXIT_OK, warm.out
    assert "pre-warming is irreversible" in warm.out


def test_on_demand_maximum_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = described(tmp_path, on_demand_doc())
    result = run(
        capsys, "plan", "--describe", file, "--max-read", "500", "--consumed-rcu", "450",
        "--now", NOW,
    )  # fmt: skip
    assert result.code == EXIT_OK, result.err
    assert "90% of its on-demand maximum of 500/s" in result.out
    removed = run(
        capsys, "plan", "--describe", file, "--index", "g1", "--max-write", "none", "--json",
        "--now", NOW,
    )  # fmt: skip
    assert removed.code == EXIT_OK, removed.err
    assert removed.document()["parts"][1]["on_demand_max_after"] == {"read": 200, "write": 0}
    bad = run(capsys, "plan", "--describe", file, "--max-read", "lots", "--now", NOW)
    assert bad.code == EXIT_USAGE and "or none" in bad.err


def test_back_to_provisioned_takes_every_gsi_in_one_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = on_demand_doc()
    doc["Table"]["GlobalSecondaryIndexes"].append(
        {"IndexName": "g2", "IndexStatus": "ACTIVE", "ProvisionedThroughput": {}}
    )
    file = described(tmp_path, doc)
    base = ("plan", "--describe", file, "--mode", "provisioned", "--now", NOW)
    lacking = run(capsys, *base, "--rcu", "10", "--wcu", "10", "--index-capacity", "g1=5/5")
    assert lacking.code == EXIT_USAGE
    assert "still lacking: GSI g2 (--index-capacity g2=R/W)" in lacking.err
    no_table = run(capsys, *base, "--index-capacity", "g1=5/5", "--index-capacity", "g2=6/7")
    assert "table events (--rcu R --wcu W)" in no_table.err
    whole = run(
        capsys, *base, "--rcu", "10", "--wcu", "10", "--index-capacity", "g1=5/5",
        "--index-capacity", "g2=6/7", "--json",
    )  # fmt: skip
    assert whole.code == EXIT_OK, whole.err
    after = [p["after"] for p in whole.document()["parts"]]
    assert after == [{"read": 10, "write": 10}, {"read": 5, "write": 5}, {"read": 6, "write": 7}]
    unknown = run(capsys, *base, "--rcu", "1", "--wcu", "1", "--index-capacity", "nope=1/1")
    assert unknown.code == EXIT_USAGE and "no global secondary index 'nope'" in unknown.err


def test_pre_warming_on_moto_end_to_end(
    url: str, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.backends.test_warm_backends import _create

    _create(raw("dynamodb"))
    result = run(capsys, "--endpoint-url", url, "scale", "orders", "--warm", "20000/6000", "--yes")
    assert result.code == EXIT_OK, result.err + result.out
    assert "applied" in result.out
    warm = raw("dynamodb").describe_table(TableName="orders")["Table"]["WarmThroughput"]
    assert (warm["ReadUnitsPerSecond"], warm["WriteUnitsPerSecond"]) == (20000, 6000)


def test_a_pre_warm_is_confirmed_like_a_big_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capcon.core.backends.aws.describe import table_from_describe
    from capcon.core.model import WarmThroughput
    from tests.unit.test_warm import run as plan_of

    result = plan_of(
        table_from_describe(scenario()), TableChange(warm=WarmThroughput(31_000, 10_000))
    )
    assert isinstance(result, ScalePlan) and result.change_factor < 4
    asked: list[str] = []
    monkeypatch.setattr(scale, "require_terminal", lambda: None)

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr("builtins.input", answer)
    args = argparse.Namespace(yes=False)
    assert not scale.confirm(result, args, 4.0)  # "y" is not the table's name
    assert "Irreversible change (pre-warming)" in asked[0]


def test_show_marks_consumption_near_an_on_demand_maximum() -> None:
    acc = SimAccount(START)
    acc.add_table(TableSpec("od", None, reads=Steady(90), writes=Steady(10)))
    acc.update_table("od", TableChange(on_demand_max=Throughput(100, 0)))
    acc.advance(900)
    doc = show_document(acc, "sim", "od", RuleSettings())
    lines = warm_and_limit_lines(doc, doc["parts"][0], RuleSettings())
    marked = [text for text, mark in lines if mark]
    assert len(marked) == 1 and "read request units/s" in marked[0]
    assert any("on-demand maximum: 100 read units/s" in text for text, _ in lines)
    calm = warm_and_limit_lines(doc, doc["parts"][0], RuleSettings(on_demand_max_warn_share=1.0))
    assert not [text for text, mark in calm if mark]
