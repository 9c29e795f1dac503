"""``capcon plan --describe`` and ``capcon show`` for Kinesis money and quotas: the sample
``clicks.json`` (AWS CLI output: 4 open shards, 48 h retention, 2 enhanced fan-out consumers)
with traffic given on the command line, and the simulated demo's streams."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from capcon.core.model import Stream
from tests.support.cli import run

SAMPLES = Path(__file__).resolve().parents[2] / "tui" / "cli" / "samples"
CLICKS = str(SAMPLES / "clicks.json")
NOW = "2026-11-23T00:50:00Z"
GIB = 2**30


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


def test_plan_of_a_described_stream_prices_consumers_traffic_and_the_quota(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "plan", "--describe", CLICKS, "--shards", "8", "--now", NOW,
        "--incoming-bytes", "100000", "--incoming-records", "1000", "--outgoing-bytes", "50000",
        "--json",
    )  # fmt: skip
    assert code == 0, out
    stream: dict[str, Any] = json.loads(out)["stream"]
    put_units = 1000 * 3600 * 0.014 / 1e6  # 100 B records: one 25 KB unit each
    efo_data = 2 * 100_000 * 3600 / GIB * 0.013  # each of 2 consumers receives every record
    before = 4 * 0.015 + 4 * 0.020 + 2 * 4 * 0.015 + put_units + efo_data
    after = 8 * 0.015 + 8 * 0.020 + 2 * 8 * 0.015 + put_units + efo_data
    assert stream["cost_before"]["per_hour"] == pytest.approx(before)
    assert stream["cost_after"]["per_hour"] == pytest.approx(after)
    on_demand = (
        0.04
        + 1000 * 1024 * 3600 / GIB * 0.08
        + 50_000 * 3600 / GIB * 0.04
        + efo_data / 0.013 * 0.05
    )
    # + 24 h of extended retention (48 h kept), per GB-month, on the 1 KB-rounded ingest
    on_demand += 1000 * 1024 * 24 * 3600 / GIB * 0.10 / 730
    assert stream["on_demand_alternative"]["per_hour"] == pytest.approx(on_demand)
    assert stream["efo_consumers"] == 2
    assert stream["account_shard_quota"] == 20_000  # us-east-1, from the stream's ARN
    assert stream["write_limit_after"] == [8 * 1_048_576, 8_000]


def test_plan_text_shows_the_one_time_closed_shard_cost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text("bill_closed_shards = true\n")
    code, out, _ = run(
        capsys, "--prices", str(prices), "plan", "--describe", CLICKS, "--shards", "8",
        "--now", NOW,
    )  # fmt: skip
    assert code == 0, out
    # 4 closed shards × 48 h retention × ($0.015 + $0.020), once
    assert f"${4 * 48 * 0.035:,.2f}" in out
    assert "one-time" in out and "EFO consumers" in out


def test_traffic_flags_are_for_described_streams_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "clicks", "--shards", "8", "--incoming-bytes", "5")
    assert code == 2
    assert "--describe" in err


def test_show_names_consumers_advantage_and_the_quota(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", "clickstream", "--sim=demo")
    assert code == 0, err
    assert "enhanced fan-out consumers 2" in out
    assert "On-demand Advantage no" in out
    assert "20,000" in out  # the simulated account is in us-east-1
    code, out, err = run(capsys, "show", "telemetry", "--sim=demo", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["account"]["on_demand_streams"] == 1
    assert document["account"]["on_demand_streams_quota"] == 50


def test_show_prices_an_on_demand_stream_at_its_last_hour(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "show", "telemetry", "--sim=demo", "--json")
    assert code == 0, err
    document = json.loads(out)
    hour = document["metrics_last_hour"]
    bytes_in, records = hour["m_b"]["mean_per_second"], hour["m_r"]["mean_per_second"]
    bytes_out = hour["m_o"]["mean_per_second"]
    kilobytes = math.ceil(bytes_in / records / 1024)  # each record rounded up to 1 KB
    expected = 0.04 + records * kilobytes * 1024 * 3600 / GIB * 0.08 + bytes_out * 3600 / GIB * 0.04
    assert bytes_out > 0
    assert document["cost"]["per_hour"] == pytest.approx(expected)
    assert any("1 KB" in note for note in document["cost"]["notes"])


def test_the_detail_panel_shows_warm_throughput_and_mebibytes() -> None:
    from capcon.core.backends.aws.describe import resource_from_document
    from capcon.core.rules import RuleSettings
    from capcon.tui.console.screens.detail import _stream_panel

    document = json.loads(Path(CLICKS).read_text())
    clicks = resource_from_document(document)
    assert isinstance(clicks, Stream)
    lines = [line.text for line in _stream_panel(clicks, (), RuleSettings())]
    assert "  4 × 1 MiB/s = 4 MiB/s" in lines
    summary = document["summary"]["StreamDescriptionSummary"]
    summary["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    summary["WarmThroughput"] = {"TargetMiBps": 200, "CurrentMiBps": 80}
    events = resource_from_document(document)
    assert isinstance(events, Stream)
    lines = [line.text for line in _stream_panel(events, (), RuleSettings())]
    assert "  warm throughput target 200 MiB/s · current 80 MiB/s" in lines


def test_traffic_whose_average_record_is_absurd_is_priced_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 12,732 B/s over 1e-300 records/s: an "average record" of ~1e304 bytes, taken as the
    # largest record Kinesis accepts (10 MiB: ceil(10,240 / 25) = 410 PUT payload units)
    code, out, err = run(
        capsys, "plan", "--describe", CLICKS, "--shards", "8", "--now", NOW,
        "--incoming-bytes", "12732", "--incoming-records", "1e-300", "--json",
    )  # fmt: skip
    assert code == 0, err
    stream = json.loads(out)["stream"]
    parts = dict(stream["cost_after"]["breakdown"])
    assert parts["PUT payload units"] == pytest.approx(1e-300 * 3600 * 410 * 0.014 / 1e6)
