"""Field note B's experiment (docs/field-notes.md#the-grid): the runner, the grid claims
and ``capcon sim``.

The grid (2 patterns × 6 targets × 6 table policies, 3 simulated hours each at 1-second
resolution) takes a few seconds; it runs once per test process (a module-scoped fixture).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from capcon.core.backends.sim.experiment import (
    GRID_PATTERNS,
    GRID_TARGETS,
    START,
    TABLE,
    ExperimentResult,
    experiment_account,
    run_experiment,
    run_grid,
)
from capcon.core.backends.sim.traffic import Bell, TopHeavy
from capcon.core.config.prices import load_price_book
from capcon.core.policies import TABLE_POLICIES
from capcon.core.ports import MetricQuery
from capcon.core.rules import RuleSettings
from capcon.tui.cli.output import EXIT_USAGE
from capcon.tui.cli.sim import RESULT_KEYS, add_parser, grid_markdown, run
from capcon.tui.errors import UsageError

Grid = dict[tuple[str, float, str], ExperimentResult]


@pytest.fixture(scope="module")
def grid() -> Grid:
    return {(r.pattern, r.target, r.policy): r for r in run_grid()}


def cells() -> list[tuple[str, float]]:
    return [(p, float(t)) for p in GRID_PATTERNS for t in GRID_TARGETS]


# --- the runner ------------------------------------------------------------------------------


def test_result_fields_are_exactly_the_measures_and_the_cell() -> None:
    names = [f.name for f in dataclasses.fields(ExperimentResult)]
    assert set(names) == set(RESULT_KEYS)
    assert set(RESULT_KEYS) == {
        "success_rate",
        "throttled_units",
        "capacity_unit_hours",
        "cost_usd",
        "scale_ups",
        "scale_downs",
        "decreases_used",
        "partitions_end",
        "policy",
        "pattern",
        "target",
    }


def test_success_is_consumed_over_requested() -> None:
    result = run_experiment("top-heavy", 80, "aas-legacy", hours=2)
    requested = sum(TopHeavy().rates(0, 2 * 3600))
    assert 0 < result.success_rate < 1
    assert result.throttled_units > 0
    assert result.success_rate == pytest.approx(1 - result.throttled_units / requested)


def test_capacity_unit_hours_and_cost_integrate_the_provisioned_capacity() -> None:
    # 25 writes/s at 50 % of 50 WCU: nothing to scale, 50 WCU for an hour
    result = run_experiment("steady:25", 50, "h2", hours=1)
    assert (result.scale_ups, result.scale_downs, result.decreases_used) == (0, 0, 0)
    assert result.capacity_unit_hours == pytest.approx(50.0)
    assert result.cost_usd == pytest.approx(50 * load_price_book("us-east-1").wcu_hour)
    assert result.success_rate == 1.0
    assert result.partitions_end == 1


def test_runs_longer_than_the_stores_minute_retention_count_every_minute() -> None:
    """Simulated CloudWatch rolls 1-minute data older than 3 h up into coarser periods; an
    experiment adds up every minute, so its account keeps them all."""
    result = run_experiment("steady:25", 50, "h2", hours=6)
    assert result.capacity_unit_hours == pytest.approx(6 * 50.0)
    assert result.success_rate == 1.0


def test_a_pattern_object_and_its_spec_give_the_same_result() -> None:
    by_spec = run_experiment("bell", 60, "capcon", hours=1.5)
    by_value = run_experiment(Bell(), 60, "capcon", hours=1.5)
    assert dataclasses.replace(by_value, pattern="bell") == by_spec
    assert by_value.pattern == "bell"


def test_scale_actions_are_counted() -> None:
    result = run_experiment("bell", 50, "aas")
    assert result.scale_ups >= 3
    assert result.scale_downs == 1 == result.decreases_used


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": 95}, "outside 20–90%"),
        ({"target": 10}, "outside 20–90%"),
        ({"policy": "h3"}, "unknown table policy 'h3'; policies: aas"),
        ({"policy": "kinesis"}, "unknown table policy 'kinesis'"),
        ({"pattern": "belly"}, "unknown traffic pattern 'belly'"),
        ({"hours": 0}, "hours must be"),
        ({"hours": -1}, "hours must be"),
    ],
)
def test_bad_inputs_name_the_problem(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"pattern": "bell", "target": 50, "policy": "h2", "hours": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        run_experiment(
            args["pattern"],  # type: ignore[arg-type]
            args["target"],  # type: ignore[arg-type]
            args["policy"],  # type: ignore[arg-type]
            hours=args["hours"],  # type: ignore[arg-type]
        )


def test_run_grid_reports_progress_in_a_fixed_order() -> None:
    calls: list[tuple[int, int, str]] = []
    results = run_grid(
        patterns=("bell",),
        targets=(50, 70),
        policies=("h2", "capcon"),
        progress=lambda done, total, r: calls.append((done, total, r.policy)),
        hours=0.5,
    )
    assert [(r.target, r.policy) for r in results] == [
        (50, "h2"),
        (50, "capcon"),
        (70, "h2"),
        (70, "capcon"),
    ]
    assert calls == [(1, 4, "h2"), (2, 4, "capcon"), (3, 4, "h2"), (4, 4, "capcon")]
    again = run_grid(patterns=("bell",), targets=(50, 70), policies=("h2", "capcon"), hours=0.5)
    assert again == results


def test_run_grid_checks_every_input_before_running() -> None:
    with pytest.raises(ValueError, match="outside 20–90%"):
        run_grid(targets=(50, 95), progress=lambda *_: pytest.fail("ran before checking"))


# --- field note B's findings, as published (docs/field-notes.md#what-they-found) ------------
# One test per finding, on the grid `capcon sim --grid` prints.  The mechanism that produces
# them is docs/field-notes.md#the-mechanism-in-the-simulator (not tuned per cell).


def _rate(grid: Grid, pattern: str, target: float, policy: str) -> float:
    return grid[(pattern, float(target), policy)].success_rate


def _throttled(grid: Grid, pattern: str, target: float, policy: str) -> float:
    return grid[(pattern, float(target), policy)].throttled_units


def _throttled_minutes(pattern: str, target: float, policy: str) -> list[int]:
    """The minutes (from the start) in which ``policy`` throttled over the 3 h."""
    account = experiment_account(pattern, target, policy)
    account.advance(3 * 3600)
    end = START + timedelta(hours=3)
    (series,) = account.store.query(
        [MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", (("TableName", TABLE),))],
        START,
        end,
        end + timedelta(days=1),
    )
    return [
        round((t - START).total_seconds() / 60)
        for t, v in zip(series.timestamps, series.values, strict=True)
        if v > 0
    ]


@pytest.mark.parametrize("target", [30, 40, 50])
def test_bell_control_has_no_throttling_at_30_to_50(grid: Grid, target: float) -> None:
    assert _throttled(grid, "bell", target, "aas-legacy") == 0


def test_bell_control_at_60_throttles_early_then_adapts() -> None:
    # the rise runs from minute 15 to 60: throttling in its first half only, none after
    minutes = _throttled_minutes("bell", 60, "aas-legacy")
    assert minutes and max(minutes) < 15 + 45 / 2


def test_bell_control_falls_apart_at_70_and_80(grid: Grid) -> None:
    rates = [_rate(grid, "bell", t, "aas-legacy") for t in (60, 70, 80)]
    assert rates[0] > rates[1] > rates[2]
    assert _throttled(grid, "bell", 70, "aas-legacy") > 5 * _throttled(
        grid, "bell", 60, "aas-legacy"
    )
    assert rates[2] < 0.8  # demand outran consumption
    # at 80 % it throttles through the whole rise (minutes 15–60), never catching up
    minutes = _throttled_minutes("bell", 80, "aas-legacy")
    assert min(minutes) < 30 and max(minutes) >= 60


def test_bell_h1_fixes_60_but_barely_helps_at_70_and_80(grid: Grid) -> None:
    """At 80 % H1 wins back under a quarter of what H2 wins over the control and throttles
    through the whole rise as the control does; at 70 % it still throttles where H2 does not.
    (Since H1 and H2 make the same decisions until the first throttled minute, "H1 barely
    helped at 70 %" and "H2 had no throttling at 70 %" can only both hold with H1 sized
    differently from H2: from the 2017 5-minute window.)"""
    assert _rate(grid, "bell", 60, "aas-legacy") < 1.0
    assert _rate(grid, "bell", 60, "h1") == 1.0
    legacy, h1, h2 = (_rate(grid, "bell", 80, p) for p in ("aas-legacy", "h1", "h2"))
    assert legacy < h1 and h1 - legacy < (h2 - legacy) / 4
    assert len(_throttled_minutes("bell", 80, "h1")) > 3 * len(_throttled_minutes("bell", 80, "h2"))
    assert _throttled(grid, "bell", 70, "h1") > 0 == _throttled(grid, "bell", 70, "h2")


@pytest.mark.parametrize("target", [30, 40, 50, 60, 70])
def test_bell_h2_has_no_throttling_at_30_to_70(grid: Grid, target: float) -> None:
    assert _throttled(grid, "bell", target, "h2") == 0
    assert _rate(grid, "bell", target, "h2") == 1.0


def test_bell_h2_does_much_better_at_80(grid: Grid) -> None:
    h2 = _throttled(grid, "bell", 80, "h2")
    assert 0 < h2 < _throttled(grid, "bell", 80, "aas-legacy") / 10
    assert _rate(grid, "bell", 80, "aas-legacy") < _rate(grid, "bell", 80, "h1")
    assert _rate(grid, "bell", 80, "h1") <= _rate(grid, "bell", 80, "h2") < 1.0


@pytest.mark.parametrize("target", GRID_TARGETS)
def test_top_heavy_control_throttles_at_every_target(grid: Grid, target: float) -> None:
    assert _throttled(grid, "top-heavy", target, "aas-legacy") > 0


@pytest.mark.parametrize("target", [30, 40, 50])
def test_top_heavy_h1_helps_at_low_targets(grid: Grid, target: float) -> None:
    assert _rate(grid, "top-heavy", target, "h1") > _rate(grid, "top-heavy", target, "aas-legacy")


@pytest.mark.parametrize("target", GRID_TARGETS)
def test_top_heavy_h2_is_far_better_at_every_target(grid: Grid, target: float) -> None:
    legacy = _throttled(grid, "top-heavy", target, "aas-legacy")
    assert _throttled(grid, "top-heavy", target, "h2") < 0.75 * legacy
    assert _rate(grid, "top-heavy", target, "h2") > _rate(grid, "top-heavy", target, "h1")


# --- the grid claims -------------------------------------------------------------------------


def _table(grid: Grid, policies: Sequence[str]) -> str:
    lines = []
    for pattern, target in cells():
        row = [f"{pattern:>9} {target:3g}%"]
        for p in policies:
            r = grid[(pattern, target, p)]
            row.append(f"{p} {r.success_rate * 100:7.3f}% {r.capacity_unit_hours:6.0f}")
        lines.append(" | ".join(row))
    return "\n".join(lines)


def test_capcon_beats_h2_in_every_cell_at_most_1_25x_its_capacity(grid: Grid) -> None:
    """Beats = a success rate at least H2's everywhere and higher wherever H2 throttles
    (where H2 is already at 100 %, nothing can be higher)."""
    failures = []
    for pattern, target in cells():
        capcon, h2 = grid[(pattern, target, "capcon")], grid[(pattern, target, "h2")]
        better = (
            capcon.success_rate > h2.success_rate
            if h2.success_rate < 1.0
            else capcon.success_rate == 1.0
        )
        ratio = capcon.capacity_unit_hours / h2.capacity_unit_hours
        if not better or ratio > 1.25:
            failures.append(f"{pattern} {target:g}%: success ok={better}, capacity ×{ratio:.2f}")
    assert not failures, "\n".join(failures) + "\n" + _table(grid, ("h2", "capcon"))


def test_no_policy_exceeds_the_decrease_quota(grid: Grid) -> None:
    rules = RuleSettings()
    for result in grid.values():
        assert result.decreases_used <= rules.max_decreases_per_day
        assert result.decreases_used <= result.scale_downs


@pytest.mark.parametrize("policy", ["capcon", "oracle"])
@pytest.mark.parametrize(("pattern", "target"), [("bell", 30), ("top-heavy", 80)])
def test_capcon_and_the_oracle_never_ask_for_a_refused_decrease(
    policy: str, pattern: str, target: float
) -> None:
    account = experiment_account(pattern, target, policy)
    account.advance(3 * 3600)
    mine = [a for a in account.activities if a.resource_id == f"table/{TABLE}"]
    assert [a for a in mine if a.status == "Failed"] == []
    assert len([a for a in mine if a.status == "Successful"]) >= 2


def test_the_oracle_is_the_reference_no_policy_beats(grid: Grid) -> None:
    for pattern, target in cells():
        oracle = grid[(pattern, target, "oracle")]
        assert oracle.success_rate == 1.0
        for policy in TABLE_POLICIES:
            assert grid[(pattern, target, policy)].success_rate <= oracle.success_rate


def test_the_oracle_is_told_the_future_and_nobody_else_is() -> None:
    # without its forecast the oracle cannot act: it would stay at 50 WCU and throttle
    told = run_experiment("top-heavy", 70, "oracle", hours=1)
    assert told.success_rate == 1.0
    assert told.scale_ups > 0


# --- capcon sim ------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="capcon")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    return parser.parse_args(["sim", *argv])


def main(*argv: str) -> int:
    """What ``capcon``'s main does with ``sim``: a UsageError is exit code 2."""
    try:
        return run(parse(*argv))
    except UsageError as error:
        print(f"capcon: error: {error}")
        return EXIT_USAGE


def test_sim_json_prints_exactly_one_object_with_the_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main("--pattern", "bell", "--target", "70", "--policy", "capcon", "--json")
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)  # refuses trailing data: exactly one JSON value
    assert isinstance(document, dict)
    assert list(document) == list(RESULT_KEYS)
    assert document["policy"] == "capcon"
    assert document["pattern"] == "bell"
    assert document["target"] == 70
    assert document["success_rate"] == 1.0
    assert document == run_experiment("bell", 70, "capcon").to_dict()


def test_sim_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main("--pattern", "top-heavy", "--target", "80", "--policy", "h2", "--hours", "1")
    out = capsys.readouterr().out
    assert code == 0
    assert "h2 on top-heavy at 80% for 1 h" in out
    assert "success rate" in out
    assert "capacity-unit-hours" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pattern", "bell", "--target", "95", "--policy", "h2"], "allowed: 20–90"),
        (["--pattern", "bell", "--target", "19.9", "--policy", "h2"], "allowed: 20–90"),
        (["--pattern", "bell", "--target", "lots", "--policy", "h2"], "not a number"),
        (["--pattern", "belly", "--target", "50", "--policy", "h2"], "patterns: steady, bell"),
        (["--pattern", "bell", "--target", "50", "--policy", "h3"], "allowed: aas-legacy, aas"),
        (
            ["--pattern", "bell", "--target", "50", "--policy", "kinesis", "--shards", "0"],
            "--shards 0",
        ),
        (["--pattern", "bell", "--target", "50", "--policy", "h2", "--hours", "0"], "> 0"),
        (["--pattern", "bell", "--target", "50", "--policy", "h2", "--hours", "-2"], "> 0"),
        (["--pattern", "bell", "--target", "50"], "sim needs --policy"),
        (["--grid", "--target", "50"], "drop --target"),
        (["--pattern", "bell", "--target", "50", "--policy", "h2", "--markdown"], "--grid"),
    ],
)
def test_sim_bad_flags_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(*argv) == EXIT_USAGE
    assert message in capsys.readouterr().out


def test_sim_json_and_markdown_together_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as raised:
        parse("--grid", "--json", "--markdown")
    assert raised.value.code == 2


def test_sim_grid_json_is_one_list_of_every_cell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--grid", "--json", "--hours", "0.25") == 0
    document = json.loads(capsys.readouterr().out)
    assert isinstance(document, list)
    assert len(document) == len(GRID_PATTERNS) * len(GRID_TARGETS) * len(TABLE_POLICIES)
    assert all(list(item) == list(RESULT_KEYS) for item in document)
    assert {(d["pattern"], d["target"]) for d in document} == set(cells())


def test_sim_grid_prints_a_table_and_markdown(
    capsys: pytest.CaptureFixture[str], grid: Grid
) -> None:
    assert main("--grid", "--hours", "0.1") == 0
    out = capsys.readouterr().out
    for policy in TABLE_POLICIES:
        assert policy in out
    assert "top-heavy" in out
    markdown = grid_markdown(list(grid.values()))
    lines = markdown.splitlines()
    assert lines[0] == "| pattern | target | " + " | ".join(TABLE_POLICIES) + " |"
    assert len(lines) == 2 + len(cells())
    capcon = grid[("bell", 80.0, "capcon")]
    assert f"{capcon.success_rate * 100:.2f}% · {capcon.capacity_unit_hours:,.0f}" in markdown
    assert not math.isnan(capcon.cost_usd)


def test_sim_prices_with_the_users_price_file_given_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``capcon sim … --prices FILE`` prices the experiment with that book, as every other
    command does (the experiment used to take capcon's defaults whatever was given)."""
    default = load_price_book("us-east-1")
    prices = tmp_path / "prices.toml"
    prices.write_text(f"[regions.us-east-1]\nwcu_hour = {default.wcu_hour * 3}\n")
    argv = ("--pattern", "bell", "--target", "70", "--policy", "h2", "--hours", "1", "--json")
    assert main(*argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(*argv, "--prices", str(prices)) == 0
    priced = json.loads(capsys.readouterr().out)
    assert priced["capacity_unit_hours"] == plain["capacity_unit_hours"]
    assert priced["cost_usd"] == pytest.approx(3 * plain["cost_usd"])


def test_sim_replays_a_recording_for_its_length_and_says_what_it_held_or_cut(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A replay runs as long as its recording unless --hours says otherwise; then a shorter
    run says what it cut and a longer one what it held (stderr, so --json stays one object)."""
    trace = tmp_path / "trace.csv"
    trace.write_text("seconds,rate\n0,20\n600,300\n1200,40\n")
    base = ("--pattern", f"csv:{trace}", "--target", "70", "--policy", "h1", "--json")
    assert main(*base) == 0
    out, err = capsys.readouterr()
    assert "ran for the recording's length, 20 min" in err
    assert json.loads(out) == run_experiment(f"csv:{trace}", 70, "h1", hours=1200 / 3600).to_dict()
    assert main(*base, "--hours", "1") == 0
    assert "its last value was held for the last 40 min of the 1 h run" in capsys.readouterr().err
    assert main(*base, "--hours", "0.1") == 0
    assert "cut the recording: it lasts 20 min, the last 14 min were not replayed" in (
        capsys.readouterr().err
    )
    assert main("--pattern", "bell", "--target", "70", "--policy", "h1", "--json") == 0
    assert capsys.readouterr().err == ""  # no recording, nothing to say
