"""The engine runs planned events' stream schedules (issue 18): on the simulated account a
stream event 2 → 8 shards is raised before its start and restored after it by the engine
alone, the kinesis policy is held at the peak in between, and every odd case (a dry run, a
step already reached, an engine that was down, a cancel, a lost race, a bad entry) does the
safe thing and says so."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.traffic import Spike, Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.deploy.handler import run_event
from capcon.core.deploy.spec import DeploySpec, EngineSettings
from capcon.core.errors import StateConflict
from capcon.core.planning.schedules import ReshardStep, StreamSchedule, list_events
from capcon.core.ports import Scalable, StateStore, VersionedState
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.engine import AutoscaleEngine, EngineDecision, stream_queries
from capcon.core.services.scaler import Scaler
from capcon.core.services.schedules import (
    cancel_schedule,
    load_schedule,
    load_schedules,
    save_schedule,
    schedule_key,
)
from capcon.core.services.state import FileStateStore, MemoryStateStore
from tests.support.cli import run

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
CLICKS = Scalable("clicks", "shards")
#: The event: 6,000 records/s (400 B) from 09:00 to 10:00, 500/s otherwise.
START, END = T0 + 60 * MIN, T0 + 120 * MIN


def spike_account(shards: int = 2) -> SimAccount:
    acc = SimAccount(T0)
    load = StreamLoad(Spike(base=500, peak=6_000, at_s=3_600, duration_s=3_600, ramp_s=0), 400)
    acc.add_stream("clicks", shards=shards, load=load)
    return acc


def event(
    steps: Sequence[tuple[timedelta, int, str]],
    *,
    event_id: str = "3fa2c1d0",
    stream: str = "clicks",
    done: tuple[int, ...] = (),
    start: datetime = START,
    end: datetime = END,
) -> StreamSchedule:
    return StreamSchedule(
        event_id, stream, start, end,
        tuple(ReshardStep(T0 + offset, n, "raise" if phase == "up" else "restore")
              for offset, n, phase in steps),
        created=T0, done=done, before=2,
    )  # fmt: skip


#: 2 → 4 → 8 before the start, 8 → 4 → 2 after the end (as plan_event splits it).
TWO_TO_EIGHT = (
    (30 * MIN, 4, "up"),
    (40 * MIN, 8, "up"),
    (120 * MIN, 4, "down"),
    (130 * MIN, 2, "down"),
)


def engine(
    acc: SimAccount,
    store: StateStore | None,
    tmp: Path,
    *,
    apply: bool = True,
    managed: Sequence[Scalable] = (CLICKS,),
    check_every: timedelta = timedelta(hours=36),
) -> AutoscaleEngine:
    scaler = None
    if apply:
        log = AuditLog(tmp / "audit.jsonl")
        scaler = Scaler(acc, log, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
    return AutoscaleEngine(
        acc, "kinesis", 80.0, RULES, PRICES, managed, (1, 10_000), scaler,
        metric_delay_seconds=120, update_seconds=60, state=store, schedules=store,
        reshard_history=acc.controls.reshard_history, stream_check_every=check_every,
    )  # fmt: skip


def run_until(
    acc: SimAccount,
    until: datetime,
    make: object,
    shards: dict[datetime, int],
) -> list[EngineDecision]:
    """A round a minute (a new engine each round: only the store remains, as in the
    deployed stack), recording the open shards at each minute."""
    assert callable(make)
    decisions: list[EngineDecision] = []
    while acc.now() < until:
        decisions += make().round()
        now = acc.now()  # a change followed to ACTIVE took time: on to the next minute
        acc.advance(60 - now.second - (1 if now.microsecond else 0))
        shards[acc.now()] = acc.describe_stream("clicks").open_shard_count
    return decisions


def throttled(acc: SimAccount, start: datetime, end: datetime) -> float:
    series = acc.get_metric_data(stream_queries("clicks"), start, end)
    return sum(series[2].values)


def test_the_engine_alone_raises_a_stream_before_its_event_and_restores_it_after(
    tmp_path: Path,
) -> None:
    acc = spike_account()
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    shards: dict[datetime, int] = {}
    decisions = run_until(acc, END + 30 * MIN, lambda: engine(acc, store, tmp_path), shards)

    assert shards[START] == 8  # raised before the start
    assert acc.describe_stream("clicks").open_shard_count == 2  # and back after
    assert all(shards[t] >= 8 for t in shards if START <= t <= END)
    assert throttled(acc, START, END) == 0  # the spike met 8 shards
    steps = [d for d in decisions if d.decision.reason.startswith("event 3fa2c1d0")]
    assert [(d.decision.capacity, d.outcome) for d in steps] == [
        (4, "applied"), (8, "applied"), (4, "applied"), (2, "applied"),
    ]  # fmt: skip
    assert steps[0].decision.reason == (
        "event 3fa2c1d0: raise step 1 of 2 (due 2026-12-01 08:30 UTC): 2 → 4 shards"
    )
    assert [d.at for d in steps] == [T0 + 30 * MIN, T0 + 40 * MIN, T0 + 120 * MIN, T0 + 130 * MIN]
    [stored] = load_schedules(store)
    assert stored.done == (0, 1, 2, 3)
    assert list_events((), (stored,), acc.now())[0].status == "done"
    # every step went through the scaler: an audited UpdateShardCount each
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    intents = [r for r in records if r["phase"] == "intent"]
    assert [r["details"]["plan"]["target"] for r in intents] == [4, 8, 4, 2]
    assert [r["outcome"] for r in records if r["phase"] == "outcome"] == ["applied"] * 4
    # finished: off the active list, so later rounds read only the index
    counting = Counting(store)
    engine(acc, counting, tmp_path).round()
    assert [k for k in counting.keys if k.startswith("schedule")] == ["schedules"]


def test_without_the_schedule_the_spike_meets_two_shards(tmp_path: Path) -> None:
    acc = spike_account()
    shards: dict[datetime, int] = {}
    run_until(acc, START + 5 * MIN, lambda: engine(acc, MemoryStateStore(), tmp_path), shards)
    assert shards[START] == 2
    assert throttled(acc, START, START + 5 * MIN) > 0


def quiet_account(shards: int) -> SimAccount:
    """A stream at ``shards`` with a quiet day behind it (300 records/s of 400 B): the
    kinesis policy's scale-down check passes as soon as it is due."""
    acc = SimAccount(T0, minute_retention=timedelta(hours=26))  # the policy reads a day back
    acc.add_stream("clicks", shards=shards, load=StreamLoad(Steady(300), 400))
    acc.advance(25 * 3600)
    return acc


def test_a_quiet_stream_at_eight_is_scaled_in_by_its_policy(tmp_path: Path) -> None:
    acc = quiet_account(8)
    now = acc.now()
    shards: dict[datetime, int] = {}
    store = MemoryStateStore()
    run_until(
        acc, now + 40 * MIN, lambda: engine(acc, store, tmp_path, check_every=20 * MIN), shards
    )
    assert min(shards.values()) < 8  # the control: the check passes and it halves


def test_the_policy_is_held_at_the_peak_until_the_restore(tmp_path: Path) -> None:
    acc = quiet_account(8)
    now = acc.now()
    store = MemoryStateStore()
    steps = ((24 * 60 * MIN, 4, "up"), (24 * 60 * MIN + MIN, 8, "up"), (26 * 60 * MIN, 2, "down"))
    save_schedule(store, event(steps, done=(0, 1), start=now, end=T0 + 26 * 60 * MIN))
    shards: dict[datetime, int] = {}
    decisions = run_until(
        acc, now + 40 * MIN, lambda: engine(acc, store, tmp_path, check_every=20 * MIN), shards
    )
    assert set(shards.values()) == {8}
    held = [d for d in decisions if any("held at ≥ 8 shards" in n for n in d.notes)]
    assert held, [d.line for d in decisions]
    assert "until 2026-12-02 10:00 UTC for event 3fa2c1d0" in held[0].notes[0]
    assert "scale-down check passed but 8 shards is the least safe" in held[0].decision.reason


def test_the_restore_is_not_held(tmp_path: Path) -> None:
    acc = quiet_account(8)
    now = acc.now()
    store = MemoryStateStore()
    steps = ((60 * MIN, 4, "up"), (61 * MIN, 8, "up"), (25 * 60 * MIN, 4, "down"))
    save_schedule(store, event(steps, done=(0, 1)))
    [step, *_] = engine(acc, store, tmp_path).round()
    assert (step.decision.capacity, step.outcome) == (4, "applied")
    assert acc.describe_stream("clicks").open_shard_count == 4
    assert now == T0 + 25 * 60 * MIN


def test_a_dry_run_sends_nothing_and_marks_nothing(tmp_path: Path) -> None:
    acc = spike_account()
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    decisions = engine(acc, store, tmp_path, apply=False).round()
    assert (decisions[0].decision.capacity, decisions[0].outcome) == (4, "dry-run")
    assert acc.describe_stream("clicks").open_shard_count == 2
    assert load_schedules(store)[0].done == ()


def test_a_step_already_reached_is_marked_without_a_call(tmp_path: Path) -> None:
    acc = spike_account(shards=6)
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    calls = len(acc.controls.reshard_history("clicks"))
    [first, policy] = engine(acc, store, tmp_path).round()
    assert first.outcome == "held"
    assert first.decision.reason.endswith("already at 6 ≥ 4 shards: nothing to send")
    assert not policy.decision.reason.startswith("event ")  # step 2 is not due yet
    assert load_schedules(store)[0].done == (0,)
    assert len(acc.controls.reshard_history("clicks")) == calls


def test_an_engine_that_was_down_skips_the_raise_and_finds_nothing_to_restore(
    tmp_path: Path,
) -> None:
    acc = spike_account()
    acc.advance(140 * 60)  # after the whole event: nothing ran
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    decisions = engine(acc, store, tmp_path).round()
    reasons = [d.decision.reason for d in decisions[:4]]
    assert reasons[0].endswith("its restore is already due: the raise is skipped")
    assert reasons[1].endswith("its restore is already due: the raise is skipped")
    assert reasons[2].endswith("already at 2 ≤ 4 shards: nothing to send")
    assert reasons[3].endswith("already at 2 ≤ 2 shards: nothing to send")
    assert list(acc.controls.reshard_history("clicks")) == []
    assert load_schedules(store)[0].finished


def test_a_cancelled_event_is_not_run(tmp_path: Path) -> None:
    acc = spike_account()
    acc.advance(45 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    cancel_schedule(store, "3fa2c1d0", acc.now())
    decisions = engine(acc, store, tmp_path).round()
    assert not any(d.decision.reason.startswith("event ") for d in decisions)
    assert acc.describe_stream("clicks").open_shard_count == 2


def test_a_step_beyond_double_is_reached_in_two_calls(tmp_path: Path) -> None:
    acc = spike_account()
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(((30 * MIN, 8, "up"), (120 * MIN, 2, "down"))))
    decisions = engine(acc, store, tmp_path).round()
    steps = [d for d in decisions if d.decision.reason.startswith("event ")]
    assert [(d.decision.capacity, d.outcome) for d in steps] == [(4, "applied")]
    assert "(½…2× per call: 8 next)" in steps[0].decision.reason
    assert load_schedules(store)[0].done == ()  # not reached yet
    acc.advance(6 * 60)
    engine(acc, store, tmp_path).round()
    assert acc.describe_stream("clicks").open_shard_count == 8
    assert load_schedules(store)[0].done == (0,)


class Counting:
    """A store that remembers the keys loaded."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.keys: list[str] = []

    def load(self, key: str) -> VersionedState | None:
        self.keys.append(key)
        return self.inner.load(key)

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        return self.inner.save(key, data, expected_version)


class LosingStore:
    """A store whose schedule writes lose a race (someone wrote it first)."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner

    def load(self, key: str) -> VersionedState | None:
        return self.inner.load(key)

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        if key.startswith("schedule#"):
            raise StateConflict(f"the state {key} was saved by someone else meanwhile")
        return self.inner.save(key, data, expected_version)


def test_a_lost_race_is_said_and_the_next_round_does_not_send_it_again(tmp_path: Path) -> None:
    acc = spike_account()
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    [sent, *_] = engine(acc, LosingStore(store), tmp_path).round()
    assert sent.outcome.startswith("applied (schedule not saved: the state schedule#3fa2c1d0")
    assert load_schedules(store)[0].done == ()
    acc.advance(60)
    [again, *_] = engine(acc, store, tmp_path).round()
    assert again.outcome == "held"
    assert again.decision.reason.endswith("already at 4 ≥ 4 shards: nothing to send")
    assert len(acc.controls.reshard_history("clicks")) == 1
    assert load_schedules(store)[0].done == (0,)


def test_only_the_streams_managed_are_run_and_a_bad_entry_is_said(tmp_path: Path) -> None:
    acc = spike_account()
    acc.add_stream("other", shards=2, load=StreamLoad(Steady(10), 400))
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT, event_id="aaaa0001", stream="other"))
    save_schedule(store, event(TWO_TO_EIGHT, event_id="bbbb0002"))
    save_schedule(store, event(TWO_TO_EIGHT, event_id="cccc0003"))
    store.save(schedule_key("cccc0003"), {"event_id": "cccc0003", "steps": 1}, 1)
    decisions = engine(acc, store, tmp_path).round()
    assert acc.describe_stream("other").open_shard_count == 2  # not managed here
    assert acc.describe_stream("clicks").open_shard_count == 4
    policy = decisions[-1]
    assert any(n.startswith("stream schedule not run: schedule#cccc0003:") for n in policy.notes)
    untouched = load_schedule(store, "aaaa0001")
    assert untouched is not None and untouched.schedule.done == ()


TOPIC = "arn:aws:sns:us-east-1:123456789012:capcon"


class ListAudit:
    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def append(self, record: dict[str, object]) -> None:
        self.items.append(record)

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        return self.items[-limit:] if limit else list(self.items)


def test_the_deployed_tick_runs_the_schedules_in_its_state_table() -> None:
    acc = spike_account()
    acc.advance(30 * 60)
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    spec = DeploySpec("shop", "h1", 70, (CLICKS,))  # streams run kinesis
    result = run_event(
        {"capcon": "tick", "id": "t1"},
        EngineSettings(spec, dry_run=False, topic_arn=TOPIC),
        acc,
        state=store,
        audit=ListAudit(),
        alarms=acc.alarms,
        prices=PRICES,
        metric_delay_seconds=120,
        update_seconds=60,
        reshard_history=acc.controls.reshard_history,
    )
    assert result.ok, result.errors
    [line, *_] = result.lines
    assert (line["scalable"], line["capacity"]) == ("stream/clicks:shards", 4)
    assert line["outcome"] in ("applied", "accepted")
    assert line["reason"].startswith("event 3fa2c1d0: raise step 1 of 2")
    assert load_schedules(store)[0].done == (0,)
    # the stream's alarms were re-put for 4 shards
    assert any("clicks" in name for name in acc.alarms.alarms)


@pytest.mark.parametrize("apply", [True, False])
def test_a_round_without_streams_reads_no_schedule(tmp_path: Path, apply: bool) -> None:
    acc = spike_account()
    store = MemoryStateStore()
    save_schedule(store, event(TWO_TO_EIGHT))
    counting = Counting(store)
    assert engine(acc, counting, tmp_path, apply=apply, managed=()).round() == []
    assert counting.keys == []


def test_capcon_autoscale_runs_the_schedules_in_its_state_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "engine.json"
    long_ago, far_ahead = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    steps = (ReshardStep(long_ago, 8, "raise"), ReshardStep(far_ahead, 4, "restore"))
    schedule = StreamSchedule("3fa2c1d0", "clickstream", long_ago, far_ahead, steps, long_ago)
    save_schedule(FileStateStore(state), schedule)
    result = run(
        capsys, "--sim", "autoscale", "--policy", "kinesis", "--stream", "clickstream",
        "--apply", "--minutes", "1", "--json", "--state", str(state),
    )  # fmt: skip
    assert result.code == 0, result.err
    step = json.loads(result.out.splitlines()[0])
    assert (step["capacity"], step["outcome"]) == (8, "applied")  # the demo's 4 shards → 8
    assert step["reason"].startswith("event 3fa2c1d0: raise step 1 of 1")
    assert load_schedules(FileStateStore(state))[0].done == (0,)


class Context:
    aws_request_id = "5f0e8c7a-0000-4000-8000-000000000002"


def test_the_lambda_on_moto_runs_a_stream_schedule_from_its_state_table(
    url: str, raw: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployed entry point, on moto: a schedule saved in the state table (as ``event
    apply`` does through the DynamoDB state store) is run by a tick through the AWS adapter."""
    from capcon.core.backends.aws.statestore import DynamoStateStore
    from capcon.core.deploy.handler import handler
    from capcon.core.deploy.spec import spec_environment
    from tests.support.aws import create_state_table

    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    create_state_table(raw("dynamodb"), "shop-state")
    table = DynamoStateStore(raw("dynamodb"), "shop-state")
    now = datetime.now(UTC)
    steps = (ReshardStep(now - MIN, 4, "raise"), ReshardStep(now + 60 * MIN, 2, "restore"))
    save_schedule(table, StreamSchedule("3fa2c1d0", "clicks", now, now + 50 * MIN, steps, now))
    spec = DeploySpec("shop", "h1", 70, (CLICKS,))  # streams always run kinesis
    for name, value in spec_environment(spec).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAPCON_DRY_RUN", "false")
    monkeypatch.setenv("CAPCON_STATE_TABLE", "shop-state")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    answer = handler({"capcon": "tick", "id": "exec-1"}, Context())
    assert answer["ok"], answer["errors"]
    step = answer["decisions"][0]
    assert (step["scalable"], step["capacity"]) == ("stream/clicks:shards", 4)
    assert step["outcome"] in ("applied", "accepted"), step
    summary = raw("kinesis").describe_stream_summary(StreamName="clicks")
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 4
    assert load_schedules(table)[0].done == (0,)


VALID = event(TWO_TO_EIGHT, event_id="aaaa0001").to_json()
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
ENTRIES = JSON | st.dictionaries(st.sampled_from(sorted(VALID)), JSON, max_size=3).map(
    lambda change: {**VALID, **change}
)
INDEXES = JSON | st.lists(st.text(max_size=10) | st.just("aaaa0001"), max_size=3).map(
    lambda ids: {"format": 1, "ids": ids}
)


@settings(max_examples=60, deadline=None)
@given(index=INDEXES, entry=ENTRIES)
def test_anything_in_the_store_never_stops_a_round(index: object, entry: object) -> None:
    acc = spike_account()
    acc.advance(45 * 60)
    store = MemoryStateStore()
    store.save("schedules", index if isinstance(index, dict) else {"ids": index}, None)
    store.save(schedule_key("aaaa0001"), entry if isinstance(entry, dict) else {"x": entry}, None)
    decisions = engine(acc, store, Path("unused"), apply=False).round()
    assert decisions[-1].scalable == CLICKS  # the policy still decided
    assert not decisions[-1].outcome.startswith("failed")


def test_an_overlapping_events_restore_keeps_the_other_events_peak(tmp_path: Path) -> None:
    acc = spike_account()
    store = MemoryStateStore()
    # A: 2 → 4 from 08:10, back to 2 at 09:00; B: 4 → 8 from 08:20, back 4, 2 at 10:00, 10:10
    save_schedule(store, event(((10 * MIN, 4, "up"), (60 * MIN, 2, "down")), event_id="aaaa0001"))
    b_steps = ((20 * MIN, 8, "up"), (120 * MIN, 4, "down"), (130 * MIN, 2, "down"))
    save_schedule(store, event(b_steps, event_id="bbbb0002"))
    shards: dict[datetime, int] = {}
    decisions = run_until(acc, END + 20 * MIN, lambda: engine(acc, store, tmp_path), shards)
    assert shards[T0 + 21 * MIN] == 8
    assert all(shards[t] == 8 for t in shards if T0 + 21 * MIN <= t <= END)  # A's restore held
    assert acc.describe_stream("clicks").open_shard_count == 2  # B's restore
    [a_restore] = [d for d in decisions if d.decision.reason.startswith("event aaaa0001: restore")]
    assert a_restore.decision.reason.endswith(
        "already at 8 ≤ 8 shards (event bbbb0002 holds the stream at ≥ 8): nothing to send"
    )
    assert all(s.finished for s in load_schedules(store))
