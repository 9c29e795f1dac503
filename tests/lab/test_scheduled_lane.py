"""The lab's "scheduled" lane: a known top-heavy event scaled ahead by scheduled actions (the
studio's way, docs/field-notes.md#b-auto-scaling-too-slow) against the reactive policies."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from capcon.core.backends.sim.experiment import (
    MAX_WCU,
    MIN_WCU,
    RESOURCE,
    START,
    TABLE,
    experiment_account,
)
from capcon.core.backends.sim.traffic import Bell, Spike, TopHeavy
from capcon.core.config.prices import load_price_book
from capcon.core.planning.schedules import ACTION_PREFIX
from capcon.core.ports import TABLE_WRITE
from capcon.tui.lab.app import LabApp, lane_figures
from capcon.tui.lab.scheduled import LEAD, known_event, scheduled_lane


def test_the_event_is_read_from_the_pattern() -> None:
    shape = TopHeavy(base=20, peak=500, steady_s=1200, jump_s=120, decay_per_minute=10)
    event = known_event(shape)
    assert (event.start_s, event.peak) == (1200, 500)
    assert event.end_s == shape.back_at_base_s == 1320 + 60 * math.ceil(480 / 10)
    spike = known_event(Spike(base=10, peak=90, at_s=600, duration_s=300, ramp_s=30))
    assert (spike.start_s, spike.end_s, spike.peak) == (600, 960, 90)


@pytest.mark.parametrize(
    ("shape", "words"),
    [
        (Bell(), "top-heavy or spike"),
        (TopHeavy(decay_per_minute=0), "never decays"),
    ],
)
def test_a_pattern_without_a_known_event_is_refused_with_what_is_allowed(
    shape: object, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        known_event(shape)  # type: ignore[arg-type]


def test_the_lane_puts_the_raise_before_the_start_and_the_restore_at_the_end() -> None:
    lane = scheduled_lane("top-heavy:base=30,peak=420,steady_s=1800", 60.0)
    start = START + timedelta(seconds=1800)
    assert lane.raise_at == (start - LEAD).replace(second=0) and lane.raise_at < start
    assert lane.peak_capacity == 700  # ceil(420 / 0.6)
    held = {a.name: a for a in lane.account.describe_scheduled_actions(RESOURCE)}
    assert len(held) == 2 and all(n.startswith(ACTION_PREFIX) for n in held)
    raise_, restore = sorted(held.values(), key=lambda a: a.at or START)
    assert raise_.name.endswith("-raise-write") and restore.name.endswith("-restore-write")
    assert raise_.dimension == restore.dimension == TABLE_WRITE
    assert (raise_.at, raise_.min_capacity, raise_.max_capacity) == (
        lane.raise_at,
        700,
        MAX_WCU,
    )
    assert (restore.at, restore.min_capacity, restore.max_capacity) == (
        lane.restore_at,
        MIN_WCU,
        MAX_WCU,
    )
    assert lane.restore_at == START + timedelta(seconds=math.ceil(lane.event.end_s))


async def test_the_lab_runs_a_scheduled_lane_beside_the_reactive_ones() -> None:
    app = LabApp("top-heavy", 70.0, ("aas", "scheduled"), autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert [lane.policy for lane in app.lanes] == ["aas", "scheduled"]
        assert app.lanes[1].scheduled and not app.lanes[0].scheduled
        title = str(app.query_one("#lane-1 .lane-title").render())
        assert "scheduled (aas + ↑09:10 ↓10:52)" in title


def test_the_lab_refuses_a_scheduled_lane_on_a_pattern_without_a_known_event() -> None:
    with pytest.raises(ValueError, match="known event"):
        LabApp("bell", 70.0, ("aas", "scheduled"), autoplay=False)


def test_the_scheduled_lane_has_no_throttling_on_the_top_heavy_event_and_reactive_lanes_do() -> (
    None
):
    """The done-when of issue 18: the simulated account executes the scheduled actions, so
    capacity is there before the spike; the reactive policies meet it minutes late."""
    prices = load_price_book("us-east-1")
    lane = scheduled_lane("top-heavy", 70.0)
    account = lane.account
    until = round(lane.event.end_s) + 15 * 60
    # up to the event's start: the raise has run and capacity is up before the spike
    account.advance(round(lane.event.start_s))
    part = account.describe_table(TABLE)
    assert part.provisioned is not None and part.provisioned.write >= lane.peak_capacity
    target = next(t for t in account.describe_scalable_targets() if t.dimension == TABLE_WRITE)
    assert target.min_capacity == lane.peak_capacity
    account.advance(until - round(lane.event.start_s))
    figures, _minutes = lane_figures(account, prices)
    assert figures["throttled"] == 0 and figures["success"] == 1.0
    # after the restore, the minimum is the experiment's again (auto scaling scales in)
    target = next(t for t in account.describe_scalable_targets() if t.dimension == TABLE_WRITE)
    assert (target.min_capacity, target.max_capacity) == (MIN_WCU, MAX_WCU)

    for policy in ("aas", "h2"):  # the same spike, met reactively
        reactive = experiment_account("top-heavy", 70.0, policy)
        reactive.advance(until)
        throttled = lane_figures(reactive, prices)[0]["throttled"]
        assert throttled > 1_000, (policy, throttled)


@pytest.mark.parametrize(
    ("policies", "pattern", "words"),
    [
        ("aas,bogus", "top-heavy", "unknown lane 'bogus': a table policy (aas, "),
        ("aas,streams", "top-heavy", "or scheduled (a known event scaled ahead)"),
        ("aas,scheduled", "bell", "needs a known event in the pattern: top-heavy or spike"),
    ],
)
def test_capcon_lab_names_the_bad_lane_and_what_is_allowed(
    policies: str, pattern: str, words: str
) -> None:
    from argparse import Namespace

    from capcon.tui.errors import UsageError
    from capcon.tui.lab.app import run_lab

    args = Namespace(policies=policies, pattern=pattern, target=70.0, speed=60.0)
    with pytest.raises(UsageError) as raised:
        run_lab(args)
    assert words in str(raised.value)
