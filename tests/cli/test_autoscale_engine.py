"""``capcon autoscale`` on the simulated account: streams with ``--policy kinesis``, GSIs with
their tables, ``--state FILE`` between runs, and what is refused (issue 17)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run

#: The demo scenario's provisioned streams (telemetry is on-demand).
PROVISIONED_STREAMS = {"app-logs", "clickstream", "payments"}


def decisions(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_kinesis_without_stream_acts_on_every_provisioned_stream(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # at 70 % the demo's clickstream (3.0–3.65 MB/s on 4 shards) scales out at any hour
    result = run(
        capsys, "--sim", "autoscale", "--policy", "kinesis", "--target", "70",
        "--minutes", "2", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    seen = decisions(result.out)
    assert {d["scalable"] for d in seen} == {f"stream/{s}:shards" for s in PROVISIONED_STREAMS}
    assert all(d["dimension"] == "shards" for d in seen)
    assert len(seen) == 2 * len(PROVISIONED_STREAMS)
    clicks = [d for d in seen if d["table"] == "clickstream"]
    assert clicks[0]["action"] == "scale-out" and clicks[0]["outcome"] == "dry-run"
    assert clicks[0]["capacity_after"] == 4  # a dry run: the shards in force


def test_kinesis_applies_a_uniform_reshard_on_the_named_stream(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(
        capsys, "--sim", "autoscale", "--policy", "kinesis", "--stream", "clickstream",
        "--target", "70", "--apply", "--minutes", "2", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    first, second = decisions(result.out)
    assert (first["action"], first["outcome"]) == ("scale-out", "applied")
    assert first["capacity_after"] == first["capacity"]
    assert 4 < first["capacity"] <= 8  # ½…2× of the 4 shards in force
    assert second["action"] == "hold" and "cooldown" in second["reason"]
    assert second["capacity_after"] == first["capacity"]


def test_text_output_names_streams_and_gsis(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(
        capsys, "--sim", "autoscale", "--table", "orders", "--minutes", "1", "--verbose"
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "1 tables (6 dimensions with their GSIs)" in result.out
    for label in ("orders reads", "orders writes", "orders/by-customer reads"):
        assert label in result.out
    assert "orders/by-status writes" in result.out


def test_gsis_are_managed_with_their_tables(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--sim", "autoscale", "--table", "orders", "--minutes", "1", "--json")
    assert result.code == 0, result.err
    keys = [d["scalable"] for d in decisions(result.out)]
    assert keys == [
        "table/orders:read",
        "table/orders:write",
        "table/orders/index/by-customer:read",
        "table/orders/index/by-customer:write",
        "table/orders/index/by-status:read",
        "table/orders/index/by-status:write",
    ]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--stream", "clickstream"], "--stream needs a stream policy (kinesis)"),
        (["--policy", "kinesis", "--table", "orders"], "--policy kinesis is for streams"),
        (["--policy", "kinesis", "--stream", "nope"], "no stream nope (streams: app-logs"),
        (["--policy", "kinesis", "--stream", "telemetry"], "telemetry is on-demand"),
        (["--policy", "magic"], "unknown policy 'magic' (tables: aas-legacy"),
    ],
)
def test_policies_on_the_wrong_resources_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    result = run(capsys, "--sim", "autoscale", *argv, "--minutes", "1")
    assert result.code == 2
    assert words in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def test_state_keeps_the_kinesis_cooldown_between_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "state" / "engine.json"
    argv = (
        "--sim", "autoscale", "--policy", "kinesis", "--stream", "clickstream",
        "--target", "70", "--apply",
    )  # fmt: skip
    first = run(capsys, *argv, "--minutes", "1", "--json", "--state", str(state))
    assert first.code == 0, first.err
    assert decisions(first.out)[0]["outcome"] == "applied"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    saved = json.loads(state.read_text())["states"]["policy#stream/clickstream:shards"]
    assert saved["version"] == 1 and saved["data"]["last_action"] is not None
    # a new process on a fresh simulated account: the saved cooldown holds it
    again = run(capsys, *argv, "--minutes", "1", "--json", "--state", str(state))
    assert again.code == 0, again.err
    [held] = decisions(again.out)
    assert held["action"] == "hold" and "cooldown" in held["reason"]
    # without the state it would have scaled out again
    fresh = run(capsys, *argv, "--minutes", "1", "--json")
    assert decisions(fresh.out)[0]["action"] == "scale-out"


def test_a_corrupt_state_file_is_refused_and_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "engine.json"
    state.write_text("{not json")
    result = run(capsys, "--sim", "autoscale", "--minutes", "1", "--state", str(state))
    assert result.code == 2
    assert f"the state file {state} cannot be used: it is not JSON" in result.err
    assert state.read_text() == "{not json"


@pytest.mark.parametrize(("policy", "target"), [("kinesis", "80%"), ("h1", "70%")])
def test_the_default_target_is_the_policys(
    capsys: pytest.CaptureFixture[str], policy: str, target: str
) -> None:
    result = run(capsys, "--sim", "autoscale", "--policy", policy, "--minutes", "1")
    assert result.code == 0, result.err
    assert f"policy {policy} at {target}" in result.out
