"""The engine's ``kinesis`` policy on a simulated stream (issue 19, field note C): it reshards
up fast through the core scaler, waits for the 36-hour scale-down check (and says how long
in every decision), and ``capcon sim --policy kinesis`` runs it as an experiment."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from capcon.core.backends.sim.experiment import START
from capcon.core.backends.sim.stream_lab import STREAM, stream_experiment_account
from capcon.core.config.prices import load_price_book
from capcon.core.rules import RuleSettings
from capcon.core.services.stream_experiment import (
    StreamExperimentResult,
    run_stream_experiment,
)
from capcon.tui.cli.main import main

PRICES = load_price_book("us-east-1")


def run(pattern: str, target: float, hours: float) -> StreamExperimentResult:
    acc = stream_experiment_account(pattern, hours=hours)
    return run_stream_experiment(
        acc,
        acc.controls,
        STREAM,
        target=target,
        minutes=round(hours * 60),
        rules=RuleSettings(),
        prices=PRICES,
        metric_delay_seconds=acc.settings.metric_delay_seconds,
        update_seconds=acc.settings.update_seconds,
    )


def test_the_bell_is_followed_up_through_the_scaler_with_the_countdown_said() -> None:
    result = run("bell", 80, 3)
    acted = result.actions
    assert result.scale_ups == len(acted) >= 2 and result.scale_downs == 0
    assert result.shards_start == 1 and result.shards_end == acted[-1].decision.capacity
    counts = [result.shards_start] + [d.decision.capacity or 0 for d in acted]
    assert all(b <= 2 * a for a, b in itertools.pairwise(counts))  # UpdateShardCount: ≤ 2×
    assert all(d.outcome == "applied" for d in acted)  # through the scaler, to ACTIVE
    # the 36-hour schedule runs from the first decision: every decision taken on the
    # stream's use (not a wait for data, a reshard or the cooldown) counts it down
    first = result.decisions[0].at
    assert result.next_scale_down_check == first + timedelta(hours=36)
    judged = [d for d in result.decisions if "% of " in d.decision.reason]
    assert len(judged) > 150 and set(acted) <= set(judged)
    for decision in judged:
        left = result.next_scale_down_check - decision.at
        hours = int(left.total_seconds() // 3600)
        assert f"next scale-down check in {hours} h" in decision.decision.reason, decision.line
    assert result.success_rate > 0.999 and result.requested_records > 1_000_000
    # shard-hours: at least the one shard for 3 h, at most the end count throughout
    assert 3 < result.shard_hours < result.shards_end * 3
    assert result.cost_usd == pytest.approx(result.shard_hours * PRICES.shard_hour)


def test_it_scales_down_only_at_the_36_hour_check() -> None:
    result = run("top-heavy", 70, 48)
    downs = [d for d in result.actions if d.decision.action == "scale-in"]
    assert len(downs) == 1 and result.scale_downs == 1
    first = result.decisions[0].at
    assert downs[0].at - first == timedelta(hours=36)
    assert "every 5-minute point of the last 24 h under 50%" in downs[0].decision.reason
    assert result.shards_end < max(d.decision.capacity or 0 for d in result.actions)


def test_capcon_sim_runs_the_stream_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sim", "--policy", "kinesis", "--pattern", "bell", "--target", "80", "--json"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["policy"] == "kinesis" and document["stream"] == STREAM
    assert document["scale_ups"] >= 2 and document["shards_start"] == 1
    assert document["next_scale_down_check"] == (START + timedelta(hours=36)).isoformat()
    assert all("next scale-down check in" in a["reason"] for a in document["actions"])
    assert main([*argv[:-1], "--shards", "0"]) == 2
    assert "--shards 0" in capsys.readouterr().err
    table = ["sim", "--policy", "aas", "--pattern", "bell", "--target", "70", "--shards", "2"]
    assert main(table) == 2
    assert "--shards is for a stream policy" in capsys.readouterr().err
