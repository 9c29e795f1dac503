"""capcon's schedules of planned events (issue 18): action names, stream schedules as JSON,
the steps due, the hold at the peak, ``list_events`` and the schedule store service."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.errors import StateConflict
from capcon.core.planning.schedules import (
    ACTION_PREFIX,
    ReshardStep,
    StreamSchedule,
    action_name,
    list_events,
    parse_action_name,
)
from capcon.core.ports import ScheduledAction, StateStore, VersionedState, at_schedule
from capcon.core.services.schedules import (
    INDEX_KEY,
    ScheduleError,
    StoredSchedule,
    cancel_schedule,
    load_schedule,
    load_schedules,
    mark_done,
    read_schedules,
    save_schedule,
    schedule_key,
)
from capcon.core.services.state import FileStateStore, MemoryStateStore

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
TABLE_WRITE = "dynamodb:table:WriteCapacityUnits"
TABLE_READ = "dynamodb:table:ReadCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"

ids = st.from_regex(r"\A[A-Za-z0-9_.-]{1,64}\Z", fullmatch=True)


def schedule(
    event: str = "3fa2c1d0",
    stream: str = "clicks",
    *,
    start: datetime = T0 + 6 * H,
    end: datetime = T0 + 11 * H,
    shards: tuple[int, ...] = (4, 8),
    down: tuple[int, ...] = (4, 2),
    done: tuple[int, ...] = (),
    cancelled: bool = False,
) -> StreamSchedule:
    """A 2 → 8 → 2 event: raises 20 and 10 min before the start, restores at the end and
    10 min after."""
    ups = tuple(
        ReshardStep(start - timedelta(minutes=10 * (len(shards) - i)), n, "raise")
        for i, n in enumerate(shards)
    )
    downs = tuple(
        ReshardStep(end + timedelta(minutes=10 * i), n, "restore") for i, n in enumerate(down)
    )
    return StreamSchedule(
        event, stream, start, end, ups + downs, created=T0, done=done, cancelled=cancelled,
        before=2,
    )  # fmt: skip


def aas(
    name: str,
    at: datetime,
    *,
    rid: str = "table/orders",
    dimension: str = TABLE_WRITE,
    low: int | None = None,
    high: int | None = None,
) -> ScheduledAction:
    return ScheduledAction(name, rid, dimension, at_schedule(at), low, high)


# --- action names --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(ids, st.sampled_from(["raise", "restore"]), st.sampled_from(["read", "write"]))
def test_action_names_parse_back(event: str, phase: Any, word: Any) -> None:
    name = action_name(event, phase, word)
    assert name.startswith(ACTION_PREFIX)
    assert parse_action_name(name) == (event, phase, word)


@pytest.mark.parametrize(
    "name",
    [
        "orders-scale-up",
        "capcon-event-",
        "capcon-event--raise-read",  # no id
        "capcon-event-3fa2c1d0-lower-read",  # not a phase
        "capcon-event-3fa2c1d0-raise-shards",  # not a table dimension
        "capcon-event-3fa2c1d0-raise",  # no dimension
        "capcon-event-3f a2-raise-read",  # a space is not an id
        "Capcon-event-3fa2c1d0-raise-read",
        "x" * 300,
    ],
)
def test_other_names_are_not_capcons(name: str) -> None:
    assert parse_action_name(name) is None


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=120))
def test_any_name_parses_or_is_none(name: str) -> None:
    parsed = parse_action_name(name)
    if parsed is not None:
        assert action_name(parsed[0], parsed[1], parsed[2]) == name  # type: ignore[arg-type]


# --- a stream schedule as JSON ---------------------------------------------------------------


def test_schedule_json_round_trips_through_text() -> None:
    original = schedule(done=(0,), cancelled=True)
    original = replace(original, cancelled_at=T0 + H)
    data = json.loads(json.dumps(original.to_json()))
    assert data["steps"][0] == {"at": "2026-12-05T17:40:00+00:00", "shards": 4, "phase": "raise"}
    assert StreamSchedule.from_json(data) == original


@settings(max_examples=40, deadline=None)
@given(
    event=ids,
    stream=st.from_regex(r"\A[A-Za-z0-9_.-]{1,128}\Z", fullmatch=True),
    counts=st.lists(st.integers(1, 10_000), min_size=1, max_size=8),
    split=st.integers(0, 8),
    gap=st.integers(0, 10_000),
    data=st.data(),
)
def test_any_schedule_round_trips(
    event: str, stream: str, counts: list[int], split: int, gap: int, data: st.DataObject
) -> None:
    split = min(split, len(counts))
    steps = tuple(
        ReshardStep(T0 + timedelta(minutes=gap * i), n, "raise" if i < split else "restore")
        for i, n in enumerate(counts)
    )
    done = tuple(sorted(data.draw(st.sets(st.integers(0, len(steps) - 1)))))
    original = StreamSchedule(event, stream, T0, T0 + H, steps, T0 - H, done=done)
    assert StreamSchedule.from_json(json.loads(json.dumps(original.to_json()))) == original


GOOD = schedule().to_json()
STEPS: list[dict[str, object]] = [
    {"at": s.at.isoformat(), "shards": s.shards, "phase": s.phase} for s in schedule().steps
]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "a/b"}, "event_id"),
        ({"stream": None}, "stream"),
        ({"stream": "has space"}, "stream"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "start"),  # before year 1 in UTC
        ({"end": 17}, "end"),
        ({"end": "2026-12-05T18:00:00+00:00"}, "end"),  # = start
        ({"created": None}, "created"),
        ({"steps": []}, "steps"),
        ({"steps": "4,8"}, "steps"),
        ({"steps": [STEPS[1], STEPS[0]]}, "steps[1].at"),
        ({"steps": [{**STEPS[2], "at": STEPS[0]["at"]}, STEPS[1]]}, "steps[1].phase"),
        ({"steps": [{"at": GOOD["start"], "shards": 0, "phase": "raise"}]}, "steps[0].shards"),
        ({"steps": [{"at": GOOD["start"], "shards": True, "phase": "raise"}]}, "steps[0].shards"),
        ({"steps": [{"at": GOOD["start"], "shards": 4, "phase": "up"}]}, "steps[0].phase"),
        ({"steps": [[1, 2]]}, "steps[0]"),
        ({"done": [4]}, "done[0]"),
        ({"done": [-1]}, "done[0]"),
        ({"done": "0"}, "done"),
        ({"cancelled": "no"}, "cancelled"),
        ({"cancelled_at": "soon"}, "cancelled_at"),
        ({"before": 0}, "before"),
        ({"format": 2}, "format"),
    ],
)
def test_a_bad_key_is_named_with_what_it_allows(change: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match="allowed:") as caught:
        StreamSchedule.from_json({**GOOD, **change})
    assert f"stream schedule: {named} is" in str(caught.value)


def test_a_naive_time_is_utc_and_unknown_keys_are_ignored() -> None:
    data = {**GOOD, "start": "2026-12-05T18:00:00", "later": {"x": 1}}
    assert StreamSchedule.from_json(data).start == T0 + 6 * H


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


times = st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat())


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD)), json_values | times, max_size=6), json_values)
def test_any_json_is_a_schedule_or_a_value_error(change: dict[str, object], other: object) -> None:
    for data in ({**GOOD, **change}, other):
        try:
            StreamSchedule.from_json(data)
        except ValueError as error:
            assert str(error).startswith("stream schedule:")


# --- due steps, the hold at the peak, status -------------------------------------------------


def test_steps_are_due_at_their_time_oldest_first_and_once() -> None:
    s = schedule()  # raises 17:40 → 4, 17:50 → 8; restores 23:00 → 4, 23:10 → 2
    first = s.steps[0].at
    assert s.due(first - timedelta(seconds=1)) == []
    assert s.due(first) == [(0, s.steps[0])]
    assert s.due(T0 + 12 * H) == list(enumerate(s.steps))
    assert s.with_done(0, 2).due(T0 + 12 * H) == [(1, s.steps[1]), (3, s.steps[3])]
    assert s.cancel(T0).due(T0 + 12 * H) == []


def test_the_policy_is_held_at_the_raised_count_until_the_restore_is_due() -> None:
    s = schedule()
    restore = s.steps[2].at
    assert s.floor(T0) is None  # nothing raised yet
    assert s.with_done(0).floor(T0 + 6 * H) == 4  # half-way up
    assert s.with_done(0, 1).floor(T0 + 6 * H) == 8  # the peak
    assert s.with_done(0, 1).floor(restore - timedelta(seconds=1)) == 8
    assert s.with_done(0, 1).floor(restore) is None  # the restore may go down
    assert s.with_done(0, 1).cancel(T0 + 7 * H).floor(T0 + 7 * H) is None


def test_status_follows_the_steps_sent() -> None:
    s = schedule()
    assert s.status(T0) == "upcoming"
    assert s.status(s.steps[0].at) == "running"  # due, not sent yet
    assert s.with_done(0).status(T0) == "running"
    assert s.with_done(0, 1, 2, 3).status(T0 + 12 * H) == "done"
    assert s.with_done(0).cancel(T0).status(T0 + 12 * H) == "cancelled"


# --- list_events -----------------------------------------------------------------------------


def table_event(event: str = "0badcafe", rid: str = "table/orders") -> tuple[ScheduledAction, ...]:
    raise_at, restore_at = T0 + 2 * H, T0 + 5 * H
    read, write = (TABLE_READ, TABLE_WRITE) if "/index/" not in rid else (
        "dynamodb:index:ReadCapacityUnits", INDEX_WRITE
    )  # fmt: skip
    name = action_name
    return (
        aas(name(event, "restore", "write"), restore_at, rid=rid, dimension=write, low=5, high=100),
        aas(name(event, "raise", "write"), raise_at, rid=rid, dimension=write, low=5000, high=5000),
        aas(name(event, "raise", "read"), raise_at, rid=rid, dimension=read, low=800, high=900),
        aas(name(event, "restore", "read"), restore_at, rid=rid, dimension=read, low=10, high=50),
    )


def test_capcons_actions_are_one_event_with_its_peak_and_times() -> None:
    [record] = list_events(table_event(rid="table/orders/index/by-date"), (), T0)
    assert (record.event_id, record.resource, record.index) == ("0badcafe", "orders", "by-date")
    assert (record.kind, record.source, record.status) == ("table", "capcon", "upcoming")
    assert (record.start, record.end) == (T0 + 2 * H, T0 + 5 * H)
    assert record.peak == {"read": 800, "write": 5000}
    assert len(record.actions) == 4 and record.actions[0].name.endswith("raise-read")
    assert "writes raised to min 5,000 max 5,000 at 2026-12-05 14:00 UTC" in record.summary
    assert "restored to min 5 max 100 at 2026-12-05 17:00 UTC" in record.summary
    assert record.notes == ()
    assert json.loads(json.dumps(record.to_json()))["peak"] == {"read": 800, "write": 5000}


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (T0 + 2 * H - timedelta(seconds=1), "upcoming"),
        (T0 + 2 * H, "running"),
        (T0 + 5 * H - timedelta(seconds=1), "running"),
        (T0 + 5 * H, "done"),
    ],
)
def test_a_table_event_status_changes_at_its_actions_times(now: datetime, status: str) -> None:
    [record] = list_events(table_event(), (), now)
    assert record.status == status


def test_a_missing_restore_is_said() -> None:
    actions = tuple(a for a in table_event() if "restore-write" not in a.name)
    [record] = list_events(actions, (), T0)
    assert record.notes == (
        "no restore action for writes: the raised min/max stays after the event",
    )


def test_other_actions_are_listed_on_their_own() -> None:
    once = aas("nightly-batch", T0 + 3 * H, low=200)
    cron = ScheduledAction(
        "weekday-floor", "table/orders", TABLE_READ, "cron(0 8 ? * MON-FRI *)", 50, None,
        timezone="Europe/Paris", end=T0 + 100 * H,
    )  # fmt: skip
    past = aas("last-week", T0 - 100 * H, high=10)
    records = list_events((once, cron, past, *table_event()), (), T0)
    by_id = {r.event_id: r for r in records}
    assert by_id["nightly-batch"].source == "aas"
    assert by_id["nightly-batch"].status == "upcoming"
    assert by_id["nightly-batch"].peak == {"write": 200}
    assert by_id["weekday-floor"].status == "running"
    assert "cron(0 8 ? * MON-FRI *) (Europe/Paris)" in by_id["weekday-floor"].summary
    assert by_id["last-week"].status == "done"
    # running first, then upcoming by start, then the finished ones
    assert [r.event_id for r in records] == [
        "weekday-floor",
        "0badcafe",
        "nightly-batch",
        "last-week",
    ]


def test_stream_schedules_are_events_with_their_steps() -> None:
    s = schedule()
    [record] = list_events((), (s,), T0)
    assert (record.kind, record.resource, record.status) == ("stream", "clicks", "upcoming")
    assert record.peak == {"shards": 8}
    assert (record.start, record.end) == (s.steps[0].at, s.steps[-1].at)
    assert "2 → 4 → 8 → 4 → 2 shards" in record.summary
    assert record.schedule == s
    late = list_events((), (s,), s.steps[0].at + 2 * H)[0]
    assert late.status == "running"
    assert "2 step(s) overdue since 2026-12-05 17:40 UTC" in late.notes[0]
    [gone] = list_events((), (s.cancel(T0),), T0)
    assert gone.status == "cancelled"


def test_events_are_ordered_running_upcoming_then_recent() -> None:
    later = schedule("aaaa0001", start=T0 + 30 * H, end=T0 + 31 * H)
    sooner = schedule("aaaa0002", start=T0 + 10 * H, end=T0 + 11 * H)
    running = schedule("aaaa0003", done=(0,))
    old = schedule("aaaa0004", start=T0 - 50 * H, end=T0 - 40 * H, done=(0, 1, 2, 3))
    older = schedule("aaaa0005", start=T0 - 90 * H, end=T0 - 80 * H, cancelled=True)
    records = list_events((), (older, later, old, sooner, running), T0)
    assert [r.event_id for r in records] == [
        "aaaa0003",
        "aaaa0002",
        "aaaa0001",
        "aaaa0004",
        "aaaa0005",
    ]


# --- the schedule store ----------------------------------------------------------------------


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "memory":
        return MemoryStateStore()
    return FileStateStore(tmp_path / "state.json")


def test_saved_schedules_load_back_in_the_order_added(store: StateStore) -> None:
    a, b = schedule("aaaa0001"), schedule("bbbb0002", "orders-stream")
    assert save_schedule(store, a) == 1
    save_schedule(store, b)
    assert load_schedules(store) == [a, b]
    loaded = store.load(INDEX_KEY)
    assert loaded is not None
    assert loaded.data == {
        "format": 1, "ids": ["aaaa0001", "bbbb0002"], "active": ["aaaa0001", "bbbb0002"]
    }  # fmt: skip
    assert load_schedule(store, "aaaa0001") == StoredSchedule(a, 1)
    assert load_schedule(store, "cccc0003") is None


def test_an_event_is_not_scheduled_twice_unless_finished(store: StateStore) -> None:
    save_schedule(store, schedule())
    with pytest.raises(ScheduleError, match=r"already scheduled .* cancel it first"):
        save_schedule(store, schedule(shards=(4, 8, 16)))
    cancel_schedule(store, "3fa2c1d0", T0)
    assert save_schedule(store, schedule(shards=(4, 8, 16))) == 3
    assert load_schedules(store)[0].peak == 16  # the index lists it once
    assert load_schedules(store) == [schedule(shards=(4, 8, 16))]


def test_an_invalid_schedule_is_not_saved(store: StateStore) -> None:
    bad = StreamSchedule("3fa2c1d0", "clicks", T0, T0 - H, (), T0)
    with pytest.raises(ScheduleError, match=r"end is .* allowed: a time after start"):
        save_schedule(store, bad)
    with pytest.raises(ScheduleError, match="not an event id"):
        save_schedule(store, schedule("bad id"))
    assert store.load(INDEX_KEY) is None


def test_cancel_marks_it_and_keeps_what_was_sent(store: StateStore) -> None:
    save_schedule(store, schedule(done=(0,)))
    cancelled = cancel_schedule(store, "3fa2c1d0", T0 + H)
    assert (cancelled.cancelled, cancelled.cancelled_at, cancelled.done) == (True, T0 + H, (0,))
    assert load_schedules(store) == [cancelled]
    assert cancel_schedule(store, "3fa2c1d0", T0 + 2 * H) == cancelled  # nothing changes
    with pytest.raises(ScheduleError, match=r"no stream schedule 0000ffff .*here: 3fa2c1d0\)"):
        cancel_schedule(store, "0000ffff", T0)
    with pytest.raises(ScheduleError, match="not an event id"):
        cancel_schedule(store, "../x", T0)


class Racing:
    """A store where someone else writes ``key`` once, just before our next save of it."""

    def __init__(self, inner: StateStore, key: str, meanwhile: dict[str, object]) -> None:
        self.inner, self.key, self.meanwhile, self.raced = inner, key, meanwhile, 0

    def load(self, key: str) -> VersionedState | None:
        return self.inner.load(key)

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        if key == self.key and not self.raced:
            self.raced += 1
            self.inner.save(key, self.meanwhile, expected_version)
        return self.inner.save(key, data, expected_version)


def test_a_cancel_that_loses_a_race_reads_again_and_keeps_the_other_write() -> None:
    inner = MemoryStateStore()
    save_schedule(inner, schedule())
    engine_wrote = schedule(done=(0,)).to_json()
    racing = Racing(inner, schedule_key("3fa2c1d0"), engine_wrote)
    cancelled = cancel_schedule(racing, "3fa2c1d0", T0)
    assert racing.raced == 1
    assert (cancelled.done, cancelled.cancelled) == ((0,), True)
    assert load_schedules(inner) == [cancelled]


def test_the_index_keeps_both_of_two_racing_saves() -> None:
    inner = MemoryStateStore()
    save_schedule(inner, schedule("aaaa0001"))
    other = {"format": 1, "ids": ["aaaa0001", "bbbb0002"]}
    inner.save(schedule_key("bbbb0002"), schedule("bbbb0002").to_json(), None)
    racing = Racing(inner, INDEX_KEY, other)
    save_schedule(racing, schedule("cccc0003"))
    assert [s.event_id for s in load_schedules(inner)] == ["aaaa0001", "bbbb0002", "cccc0003"]


def test_marking_a_step_sent_is_version_conditional(store: StateStore) -> None:
    save_schedule(store, schedule())
    stored = load_schedule(store, "3fa2c1d0")
    assert stored is not None
    marked = mark_done(store, stored, 0)
    assert (marked.version, marked.schedule.done) == (2, (0,))
    with pytest.raises(StateConflict):
        mark_done(store, stored, 1)  # from the old version: refused, nothing written
    assert load_schedules(store)[0].done == (0,)


def test_a_bad_entry_is_a_problem_not_the_end_of_the_others(store: StateStore) -> None:
    save_schedule(store, schedule("aaaa0001"))
    save_schedule(store, schedule("bbbb0002"))
    store.save(schedule_key("aaaa0001"), {**GOOD, "event_id": "aaaa0001", "steps": 3}, 1)
    read = read_schedules(store)
    assert [s.schedule.event_id for s in read.schedules] == ["bbbb0002"]
    assert read.problems == (
        "schedule#aaaa0001: stream schedule: steps is 3; allowed: a list of 1–64 steps",
    )
    with pytest.raises(ScheduleError, match="schedule#aaaa0001: stream schedule: steps"):
        load_schedules(store)


def test_a_bad_index_is_named(store: StateStore) -> None:
    store.save(INDEX_KEY, {"ids": ["ok", "not an id"]}, None)
    read = read_schedules(store)
    assert read.schedules == ()
    assert "the schedule index 'schedules' is not capcon's" in read.problems[0]
    with pytest.raises(ScheduleError, match="fix or remove it"):
        save_schedule(store, schedule())


def test_an_id_without_its_schedule_is_skipped(store: StateStore) -> None:
    store.save(INDEX_KEY, {"format": 1, "ids": ["aaaa0001"]}, None)  # a save cut short
    assert read_schedules(store).schedules == ()
    assert load_schedules(store) == []


def test_a_schedule_under_another_id_is_refused(store: StateStore) -> None:
    store.save(schedule_key("aaaa0001"), schedule("bbbb0002").to_json(), None)
    with pytest.raises(ScheduleError, match="holds the schedule of event bbbb0002"):
        load_schedule(store, "aaaa0001")


# --- any input: a record or a message, never a traceback -------------------------------------

moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([None, UTC]),
)
schedules_text = st.one_of(
    moments.map(lambda t: f"at({t.replace(tzinfo=None).isoformat()})"),
    st.sampled_from(
        ["cron(0 8 ? * MON-FRI *)", "rate(5 minutes)", "at()", "at(9999-12-31T23:59:59)"]
    ),
    st.text(max_size=30),
)
names = st.one_of(
    st.builds(
        action_name, ids, st.sampled_from(["raise", "restore"]), st.sampled_from(["read", "write"])
    ),
    st.text(max_size=40),
)
actions = st.builds(
    ScheduledAction,
    name=names,
    resource_id=st.sampled_from(["table/orders", "table/orders/index/by-date", "", "x/y/z"])
    | st.text(max_size=20),
    dimension=st.sampled_from([TABLE_READ, TABLE_WRITE, INDEX_WRITE]) | st.text(max_size=20),
    schedule=schedules_text,
    min_capacity=st.none() | st.integers(-5, 10**6),
    max_capacity=st.none() | st.integers(-5, 10**6),
    timezone=st.sampled_from(
        [None, "UTC", "America/New_York", "Pacific/Kiritimati", "Mars/Base", ""]
    ),
    start=st.none() | moments,
    end=st.none() | moments,
)


@settings(max_examples=120, deadline=None)
@given(st.lists(actions, max_size=6), moments)
def test_any_actions_list_as_events(found: list[ScheduledAction], now: datetime) -> None:
    records = list_events(tuple(found), (schedule(),), now)
    listed = [a for r in records for a in r.actions]
    assert sorted(map(repr, listed)) == sorted(map(repr, found))  # each action once
    for record in records:
        assert record.status in ("upcoming", "running", "done", "cancelled")
        json.dumps(record.to_json())


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("at(2026-12-05T18:00:00)", None, datetime(2026, 12, 5, 18, tzinfo=UTC)),
        ("at(2026-12-05T18:00:00)", "Europe/Paris", datetime(2026, 12, 5, 17, tzinfo=UTC)),
        ("at(9999-12-31T23:00:00)", "America/New_York", None),  # past year 9999 in UTC
        ("at(0001-01-01T00:00:00+01:00)", None, None),  # before year 1 in UTC
        ("at(2026-12-05T18:00:00)", "Mars/Base", None),
        ("cron(0 8 * * ? *)", None, None),
    ],
)
def test_a_one_time_actions_moment_or_none(
    text: str, zone: str | None, expected: datetime | None
) -> None:
    assert ScheduledAction("a", "table/t", TABLE_WRITE, text, timezone=zone).at == expected


def active(store: StateStore) -> list[str]:
    return [s.schedule.event_id for s in read_schedules(store, active_only=True).schedules]


def test_finished_events_leave_the_active_list_and_stay_listed(store: StateStore) -> None:
    save_schedule(store, schedule("aaaa0001"))
    save_schedule(store, schedule("bbbb0002"))
    save_schedule(store, schedule("cccc0003"))
    cancel_schedule(store, "aaaa0001", T0)
    stored = load_schedule(store, "bbbb0002")
    assert stored is not None
    stored = mark_done(store, stored, 0, 1, 2)
    assert active(store) == ["bbbb0002", "cccc0003"]  # one step left
    mark_done(store, stored, 3)
    assert active(store) == ["cccc0003"]
    assert [s.event_id for s in load_schedules(store)] == ["aaaa0001", "bbbb0002", "cccc0003"]
    save_schedule(store, schedule("aaaa0001", shards=(4, 8, 16)))  # scheduled again
    assert active(store) == ["cccc0003", "aaaa0001"]


def test_an_index_without_an_active_list_counts_every_id(store: StateStore) -> None:
    save_schedule(store, schedule("aaaa0001", cancelled=True))
    store.save(INDEX_KEY, {"format": 1, "ids": ["aaaa0001"]}, 1)  # an older index
    assert active(store) == ["aaaa0001"]


def test_recent_leaves_out_events_finished_long_ago() -> None:
    old = schedule("aaaa0004", start=T0 - 50 * H, end=T0 - 40 * H, done=(0, 1, 2, 3))
    cancelled = replace(schedule("aaaa0005", cancelled=True), cancelled_at=T0 - 30 * H)
    upcoming = schedule("aaaa0002")
    done_table = table_event()  # raise at T0+2h, restore at T0+5h
    now = T0 + 6 * H
    everything = list_events(done_table, (old, cancelled, upcoming), now)
    assert len(everything) == 4
    kept = list_events(done_table, (old, cancelled, upcoming), now, recent=timedelta(hours=24))
    assert sorted(r.event_id for r in kept) == ["0badcafe", "aaaa0002"]
    edge = list_events(done_table, (), now, recent=H)  # ended exactly an hour ago: kept
    assert [r.event_id for r in edge] == ["0badcafe"]
    assert list_events(done_table, (), now + timedelta(seconds=1), recent=H) == []
