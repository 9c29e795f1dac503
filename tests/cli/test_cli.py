"""The ``capcon`` command line: exit codes, ``--json`` documents, rich output, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capcon.core.jsonable import MAX_SAFE_INTEGER
from capcon.tui.cli.tour import scenes
from tests.support.cli import run

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tui" / "cli" / "samples"
ORDERS = str(SAMPLES / "orders.json")
SESSIONS = str(SAMPLES / "sessions.json")
CLICKS = str(SAMPLES / "clicks.json")
NOW = "2026-11-23T00:50:00Z"  # ten minutes after orders' fourth decrease today (00:40:05)
LATER = "2026-11-23T01:41:00Z"  # after the hour without decreases has passed


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty XDG config dir (no stray ~/.config/capcon) and plain, wide rich output."""
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return home


def table_part(document: dict[str, Any], index: str | None = None) -> dict[str, Any]:
    parts = [p for p in document["parts"] if p["index"] == index]
    assert len(parts) == 1, document["parts"]
    part: dict[str, Any] = parts[0]
    return part


def all_ints(value: object) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [i for v in value.values() for i in all_ints(v)]
    if isinstance(value, list):
        return [i for v in value for i in all_ints(v)]
    return []


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def test_increase_is_a_plan_with_permanent_partitions(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", ORDERS, "--wcu", "4000", "--now", NOW, "--json")
    assert result.code == 0, result.err
    assert result.err == ""
    doc = result.document()
    assert isinstance(doc, dict)
    assert doc["outcome"] == "plan"
    assert doc["kind"] == "table" and doc["resource"] == "orders"
    assert doc["made_at"] == "2026-11-23T00:50:00+00:00"
    part = table_part(doc)
    assert part["changed"] is True
    assert part["before"] == {"read": 1200, "write": 400}
    assert part["after"] == {"read": 1200, "write": 4000}
    assert part["partitions_permanent"] is True
    assert part["partitions_after"]["count"] > part["partitions_before"]["count"]
    assert part["cost_after"]["per_hour"] > part["cost_before"]["per_hour"]
    assert table_part(doc, "by-customer")["changed"] is False


def test_decrease_inside_the_hour_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", ORDERS, "--wcu", "200", "--now", NOW, "--json")
    assert result.code == 1
    doc = result.document()
    assert doc["outcome"] == "refused"
    codes = {v["code"]: v for v in doc["violations"]}
    assert set(codes) == {"decrease-budget"}
    assert codes["decrease-budget"]["allowed_at"] == "2026-11-23T01:40:05+00:00"
    assert doc["allowed_at"] == "2026-11-23T01:40:05+00:00"
    assert doc["whole_request"] is False


def test_same_decrease_after_the_hour_is_a_plan(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", ORDERS, "--wcu", "200", "--now", LATER, "--json")
    assert result.code == 0, result.err
    doc = result.document()
    assert doc["outcome"] == "plan"
    part = table_part(doc)
    assert part["is_decrease"] is True
    assert part["after"] == {"read": 1200, "write": 200}
    assert part["decreases_left_after"] == part["decrease_budget"]["left_today"] - 1


def test_index_change(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(
        capsys,
        "plan",
        "--describe",
        ORDERS,
        "--index",
        "by-customer",
        "--rcu",
        "600",
        "--now",
        NOW,
        "--json",
    )
    assert result.code == 0, result.err
    doc = result.document()
    gsi = table_part(doc, "by-customer")
    assert gsi["changed"] is True
    assert gsi["before"] == {"read": 300, "write": 400}
    assert gsi["after"] == {"read": 600, "write": 400}  # --wcu not given: kept
    assert table_part(doc)["changed"] is False
    assert doc["change"]["table"] is None


def test_switch_on_demand_table_to_provisioned(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(
        capsys,
        "plan",
        "--describe",
        SESSIONS,
        "--mode",
        "provisioned",
        "--rcu",
        "200",
        "--wcu",
        "100",
        "--now",
        NOW,
        "--json",
    )
    assert result.code == 0, result.err
    part = table_part(result.document())
    assert part["mode_before"] == "PAY_PER_REQUEST"
    assert part["mode_after"] == "PROVISIONED"
    assert part["after"] == {"read": 200, "write": 100}


def test_rich_plan_output(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", ORDERS, "--wcu", "4000", "--now", NOW)
    assert result.code == 0, result.err
    assert "permanent" in result.out
    assert "nothing has changed yet" in result.out
    assert "orders: 1,200 RCU / 400 WCU → 1,200 RCU / 4,000 WCU" in result.out
    assert "\x1b[" not in result.out  # not a terminal: no escape codes
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.out)


def test_rich_refusal_output(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", ORDERS, "--wcu", "200", "--now", NOW)
    assert result.code == 1
    assert "refused" in result.out
    assert "nothing was changed" in result.out
    assert "allowed again at 2026-11-23 01:40 UTC (in 50 min)" in result.out


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def test_stream_uniform_reshard(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", CLICKS, "--shards", "6", "--now", NOW, "--json")
    assert result.code == 0, result.err
    doc = result.document()
    assert doc["outcome"] == "plan" and doc["kind"] == "stream"
    stream = doc["stream"]
    assert (stream["open_before"], stream["open_after"]) == (4, 6)
    reshard = stream["reshard"]
    assert reshard["strategy"] == "uniform"
    assert len(reshard["short_lived"]) == 4
    assert set(reshard["short_lived"]) <= set(reshard["shards_created"])
    assert set(reshard["short_lived"]) <= set(reshard["shards_closed"])
    assert reshard["closed_readable_until"] == "2026-11-25T00:50:00+00:00"  # 48 h retention
    assert stream["alternative"]["strategy"] == "targeted"
    assert stream["alternative"]["short_lived"] == []
    # 128-bit hash keys must not become lossy JSON numbers
    assert all(abs(i) <= MAX_SAFE_INTEGER for i in all_ints(doc))


def test_stream_targeted_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(
        capsys,
        "plan",
        "--describe",
        CLICKS,
        "--shards",
        "6",
        "--strategy",
        "targeted",
        "--now",
        NOW,
        "--json",
    )
    assert result.code == 0, result.err
    doc = result.document()
    assert doc["change"] == {"target": 6, "strategy": "targeted"}
    reshard = doc["stream"]["reshard"]
    assert reshard["strategy"] == "targeted"
    assert reshard["target_open"] == 6
    assert reshard["short_lived"] == []
    assert len(reshard["shards_created"]) - len(reshard["shards_closed"]) == 2


def test_stream_more_than_double_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", CLICKS, "--shards", "9", "--now", NOW, "--json")
    assert result.code == 1
    doc = result.document()
    assert doc["outcome"] == "refused"
    assert [v["code"] for v in doc["violations"]] == ["shard-factor"]
    assert doc["allowed_at"] is None  # waiting does not help


def test_rich_stream_output(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--describe", CLICKS, "--shards", "6", "--now", NOW)
    assert result.code == 0, result.err
    assert "4 short-lived" in result.out
    assert "alternative: targeted" in result.out


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, and the message names the problem
# --------------------------------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    files = {
        "invalid.json": '{"Table": {"TableName": ',
        "neither.json": '{"Stream": {"Name": "x"}}',
        "list.json": "[1, 2]",
        "broken-table.json": json.dumps(
            {
                "Table": {
                    "TableName": "t",
                    "ProvisionedThroughput": {"ReadCapacityUnits": -5, "WriteCapacityUnits": 1},
                }
            }
        ),
        "prices.toml": "wcu_hourly = 0.001\n",
        "rules.toml": 'decreases_any_time_per_day = "five"\n',
        "syntax.toml": "decrease_gap = \n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


ORDER_WCU = ["plan", "--describe", ORDERS, "--wcu", "200", "--now", NOW]
DECREASE = "plan --describe {orders} --wcu 200 --now " + NOW

#: (id, command line with {tmp}/{orders}/{sessions}/{clicks} placeholders, words in stderr)
BAD_INPUT: list[tuple[str, str, list[str]]] = [
    ("missing-file", "plan --describe {tmp}/nope.json --wcu 1", ["nope.json", "no such file"]),
    ("invalid-json", "plan --describe {tmp}/invalid.json --wcu 1", ["invalid.json", "not valid"]),
    (
        "neither",
        "plan --describe {tmp}/neither.json --wcu 1",
        ["neither.json", "neither a table nor a stream"],
    ),
    ("top-level-list", "plan --describe {tmp}/list.json --wcu 1", ["list.json", "JSON object"]),
    (
        "malformed-table",
        "plan --describe {tmp}/broken-table.json --wcu 1",
        ["broken-table.json", "ReadCapacityUnits", "≥ 0"],
    ),
    ("directory", "plan --describe {tmp} --wcu 1", ["cannot be read"]),
    ("negative-wcu", "plan --describe {orders} --wcu -5", ["--wcu", "negative"]),
    ("non-number-wcu", "plan --describe {orders} --wcu lots", ["--wcu", "'lots' is not a whole"]),
    ("fraction-rcu", "plan --describe {orders} --rcu 1.5", ["--rcu", "whole number"]),
    ("negative-consumed", "plan --describe {orders} --wcu 1 --consumed-rcu -1", ["--consumed-rcu"]),
    (
        "nan-consumed",
        "plan --describe {orders} --wcu 1 --consumed-wcu nan",
        ["--consumed-wcu", "finite"],
    ),
    ("shards-on-table", "plan --describe {orders} --shards 4", ["orders is a table", "--shards"]),
    ("wcu-on-stream", "plan --describe {clicks} --wcu 4", ["clicks is a stream", "--shards"]),
    (
        "index-on-stream",
        "plan --describe {clicks} --shards 6 --index x",
        ["clicks is a stream", "--index"],
    ),
    ("stream-without-shards", "plan --describe {clicks}", ["clicks is a stream", "--shards N"]),
    ("table-without-change", "plan --describe {orders}", ["--wcu", "--mode"]),
    (
        "unknown-index",
        "plan --describe {orders} --index by-date --rcu 5",
        ["'by-date'", "(it has: by-customer)"],
    ),
    (
        "index-without-capacity",
        "plan --describe {orders} --index by-customer --mode on-demand",
        ["--index", "--rcu"],
    ),
    (
        "on-demand-one-flag",
        "plan --describe {sessions} --wcu 5",
        ["on-demand", "both --rcu and --wcu"],
    ),
    (
        "bad-now",
        "plan --describe {orders} --wcu 200 --now tomorrow-ish",
        ["--now", "'tomorrow-ish'", "not a timestamp"],
    ),
    ("bad-mode", "plan --describe {orders} --mode serverless", ["--mode", "invalid choice"]),
    ("bad-strategy", "plan --describe {clicks} --shards 6 --strategy random", ["--strategy"]),
    (
        "prices-unknown-key",
        DECREASE + " --prices {tmp}/prices.toml",
        ["prices.toml", "unknown setting", "'wcu_hourly'"],
    ),
    (
        "rules-wrong-type",
        DECREASE + " --rules {tmp}/rules.toml",
        ["rules.toml", "decreases_any_time_per_day", "whole number", "'five'"],
    ),
    ("rules-bad-toml", DECREASE + " --rules {tmp}/syntax.toml", ["syntax.toml", "not valid TOML"]),
    ("rules-missing", DECREASE + " --rules {tmp}/gone.toml", ["gone.toml", "no such file"]),
    ("plan-without-describe", "plan --wcu 4000", ["NAME", "--describe"]),
    ("scale-without-name", "scale --wcu 4000", ["required", "name"]),
    ("demo-bad-scenario", "demo --scenario nope", ["unknown scenario", "'nope'"]),
    ("demo-bad-speed", "demo --speed 9000", ["9000", "3,600"]),
    ("unknown-command", "frobnicate", ["invalid choice", "'frobnicate'"]),
    ("tour-bad-now", "tour --now noon", ["--now", "'noon'"]),
]


@pytest.mark.parametrize(
    ("command", "expected"), [(c, e) for _, c, e in BAD_INPUT], ids=[i for i, _, _ in BAD_INPUT]
)
def test_bad_input_exits_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], bad_files: Path, command: str, expected: list[str]
) -> None:
    places = {"tmp": str(bad_files), "orders": ORDERS, "sessions": SESSIONS, "clicks": CLICKS}
    result = run(capsys, *(word.format(**places) for word in command.split()))
    assert result.code == 2, (result.out, result.err)
    assert result.out == ""
    assert "capcon: error:" in result.err
    for words in expected:
        assert words in result.err
    assert "Traceback" not in result.err


def test_non_finite_number_in_describe_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "nan.json"
    path.write_text(
        '{"Table": {"TableName": "t", "ProvisionedThroughput": '
        '{"ReadCapacityUnits": NaN, "WriteCapacityUnits": 1}}}',
        encoding="utf-8",
    )
    result = run(capsys, "plan", "--describe", str(path), "--wcu", "2")
    assert result.code == 2
    assert "ReadCapacityUnits" in result.err


def test_describe_file_not_utf8_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"Table": {"TableName": "caf\xe9"}}')
    result = run(capsys, "plan", "--describe", str(path), "--wcu", "2")
    assert result.code == 2
    assert "latin1.json" in result.err


# --------------------------------------------------------------------------------------------
# Config files under $XDG_CONFIG_HOME/capcon
# --------------------------------------------------------------------------------------------


def test_xdg_rules_file_is_honoured(capsys: pytest.CaptureFixture[str], config_home: Path) -> None:
    assert run(capsys, *ORDER_WCU, "--json").code == 1  # default rule book: refused
    (config_home / "capcon").mkdir()
    (config_home / "capcon" / "rules.toml").write_text(
        "decreases_any_time_per_day = 5\n", encoding="utf-8"
    )
    result = run(capsys, *ORDER_WCU, "--json")
    assert result.code == 0, result.err
    assert result.document()["outcome"] == "plan"


def test_rules_flag_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text("decreases_any_time_per_day = 5\n", encoding="utf-8")
    result = run(capsys, *ORDER_WCU, "--rules", str(rules), "--json")
    assert result.code == 0, result.err


def test_broken_xdg_rules_file_is_reported(
    capsys: pytest.CaptureFixture[str], config_home: Path
) -> None:
    (config_home / "capcon").mkdir()
    (config_home / "capcon" / "rules.toml").write_text("decrease_gapp = 1\n", encoding="utf-8")
    result = run(capsys, *ORDER_WCU, "--json")
    assert result.code == 2
    assert str(config_home / "capcon" / "rules.toml") in result.err
    assert "'decrease_gapp'" in result.err


def test_xdg_prices_file_is_honoured(capsys: pytest.CaptureFixture[str], config_home: Path) -> None:
    argv = ["plan", "--describe", ORDERS, "--wcu", "4000", "--now", NOW, "--json"]
    default = table_part(run(capsys, *argv).document())["cost_before"]["per_hour"]
    (config_home / "capcon").mkdir()
    (config_home / "capcon" / "prices.toml").write_text(
        "[regions.us-east-1]\nwcu_hour = 0.01\n", encoding="utf-8"
    )
    result = run(capsys, *argv)
    assert result.code == 0, result.err
    cost = table_part(result.document())["cost_before"]
    writes = dict(cost["breakdown"])["provisioned writes"]
    assert writes == pytest.approx(400 * 0.01)
    assert cost["per_hour"] > default


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------

DEMO_OUTCOMES = ["plan", "refused", "refused", "plan", "plan", "refused"]


def test_demo_prints_six_scenes(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "tour")
    assert result.code == 0, result.err
    titles = [scene.title for scene in scenes()]
    assert len(titles) == 6
    for number, title in enumerate(titles, 1):
        assert f"{number}. {title}" in result.out
    assert "7. " not in result.out
    assert result.out.count("nothing was changed") == DEMO_OUTCOMES.count("refused")
    assert result.out.count("nothing has changed yet") == DEMO_OUTCOMES.count("plan")


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "tour", "--json")
    assert result.code == 0, result.err
    doc = result.document()
    assert isinstance(doc, list) and len(doc) == 6
    assert [d["outcome"] for d in doc] == DEMO_OUTCOMES
    assert [d["scene"] for d in doc] == [scene.title for scene in scenes()]
    assert all(d["made_at"] == "2026-11-23T00:50:00+00:00" for d in doc)


def test_demo_respects_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("decreases_any_time_per_day = 5\n", encoding="utf-8")
    doc = run(capsys, "tour", "--json", "--rules", str(rules)).document()
    assert doc[1]["outcome"] == "plan"  # "back down after the spike" is no longer refused


# --------------------------------------------------------------------------------------------
# The installed console script, in a real process
# --------------------------------------------------------------------------------------------


def capcon_executable() -> str:
    beside = Path(sys.executable).parent / "capcon"
    if beside.is_file():
        return str(beside)
    found = shutil.which("capcon")
    if found is None:
        pytest.fail("the capcon console script is not installed next to the interpreter")
    return found


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["plan", "--describe", ORDERS, "--wcu", "4000", "--now", NOW, "--json"], 0),
        (["plan", "--describe", ORDERS, "--wcu", "200", "--now", NOW, "--json"], 1),
        (["plan", "--describe", ORDERS, "--wcu", "-1"], 2),
    ],
    ids=["plan", "refused", "bad-input"],
)
def test_installed_console_script(argv: list[str], code: int, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [capcon_executable(), *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == code, done.stderr
    if code == 2:
        assert done.stdout == ""
        assert "capcon: error: argument --wcu" in done.stderr
    else:
        assert done.stderr == ""
        doc = json.loads(done.stdout)
        assert doc["outcome"] == ("plan" if code == 0 else "refused")
