"""The engine's state (policy save/restore, the memory and file state stores), its audit sink
port, the scaler's non-waiting mode, batched rounds and GSIs and streams (issue 17)."""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Bell, Spike, Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.errors import CapconError, StateConflict
from capcon.core.model import Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.policies import (
    POLICIES,
    Capcon,
    Decision,
    KinesisPolicy,
    Observation,
    TargetTracking,
    make_policy,
)
from capcon.core.ports import Scalable, StateStore, TableChange, VersionedState
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, AuditSink, Origin, StoreAudit
from capcon.core.services.engine import AutoscaleEngine, EngineDecision, state_key
from capcon.core.services.reconcile import Reconciler
from capcon.core.services.scaler import Scaler
from capcon.core.services.state import FileStateStore, MemoryStateStore, StateFileError

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
MINUTE = timedelta(minutes=1)
TABLE_POLICY_NAMES = ("aas-legacy", "aas", "h1", "h2", "capcon", "oracle")


# --- policy state ---------------------------------------------------------------------------


def obs(now: datetime, consumed: Sequence[float], capacity: int = 100) -> Observation:
    minutes = tuple(now - (len(consumed) + 2 - i) * MINUTE for i in range(len(consumed)))
    return Observation(
        now=now,
        capacity=capacity,
        min_capacity=1,
        max_capacity=10_000,
        updating=False,
        minutes=minutes,
        consumed=tuple(consumed),
        throttled=(0.0,) * len(consumed),
    )


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_state_is_json_and_restores_to_the_same_state(name: str) -> None:
    policy = make_policy(name, 70.0)
    policy.decide(obs(START, [90.0] * 20))
    policy.applied(Decision("scale-out", 200, "x"), START)
    policy.applied(Decision("scale-in", 50, "x"), START + 2 * MINUTE)
    saved = policy.state()
    assert json.loads(json.dumps(saved)) == saved
    again = make_policy(name, 70.0)
    again.restore(json.loads(json.dumps(saved)))
    assert again.state() == saved
    if name != "oracle":
        assert any(v is not None for v in saved.values())  # it remembered something


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "not an object"),
        ({"last_out": 5}, "last_out is not a time"),
        ({"last_out": "yesterday"}, "last_out is not a time"),
        ({"last_out": "2026-12-01T08:00:00"}, "UTC offset"),
        ({"cooldown": None}, "unknown key 'cooldown' (allowed: last_out, last_in)"),
    ],
)
def test_bad_saved_state_is_a_value_error_naming_the_key(data: object, words: str) -> None:
    policy = TargetTracking(70.0)
    policy.applied(Decision("scale-out", 5, "x"), START)
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        policy.restore(data)
    assert policy.last_out == START  # left as it was


def test_a_rebuilt_target_tracking_keeps_its_cooldown() -> None:
    """The cooldown runs from the saved scale-out: a policy rebuilt each minute from its
    state holds exactly as the uninterrupted one does."""

    def make() -> TargetTracking:
        return TargetTracking(70.0, breaches_out=1, scale_out_cooldown=300)

    kept = make()
    saved = make().state()
    for minute in range(10):
        now = START + minute * MINUTE
        rebuilt = make()
        rebuilt.restore(saved)
        seen = obs(now, [90.0] * 5)
        a, b = kept.decide(seen), rebuilt.decide(seen)
        assert a == b
        if a.action != "hold":
            kept.applied(a, now)
            rebuilt.applied(b, now)
        saved = rebuilt.state()
    assert saved["last_out"] is not None


def test_a_rebuilt_capcon_still_waits_after_a_scale_out() -> None:
    """capcon does not scale in within 5 minutes of a scale-out: a policy rebuilt from its
    saved state knows about the scale-out and holds, as the one that made it does."""
    kept = Capcon(70.0)
    kept.applied(Decision("scale-out", 1_000, "x"), START)
    calm = obs(START + 3 * MINUTE, [100.0] * 10, capacity=1_000)
    rebuilt = Capcon(70.0)
    rebuilt.restore(json.loads(json.dumps(kept.state())))
    decided = rebuilt.decide(calm)
    assert decided == kept.decide(calm)
    assert decided.action == "hold" and "scaled out < 5 min ago" in decided.reason
    assert Capcon(70.0).decide(calm).action == "scale-in"  # what forgetting would do


def test_kinesis_state_keeps_the_scale_down_schedule() -> None:
    policy = KinesisPolicy(scale_down_every=timedelta(hours=36))
    policy.decide(obs(START, [0.1] * 10, capacity=4))
    again = KinesisPolicy()
    again.restore(policy.state())
    assert again.next_scale_down_check == START + timedelta(hours=36)


# --- state stores ---------------------------------------------------------------------------


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "memory":
        return MemoryStateStore()
    return FileStateStore(tmp_path / "state" / "capcon.json")


def test_a_store_saves_versions_and_refuses_a_stale_save(store: StateStore) -> None:
    assert store.load("k") is None
    assert store.save("k", {"a": 1}, None) == 1
    assert store.save("k", {"a": 2}, 1) == 2
    with pytest.raises(StateConflict, match="expected version 1, found version 2"):
        store.save("k", {"a": 3}, 1)
    with pytest.raises(StateConflict, match="expected nothing stored"):
        store.save("k", {"a": 4}, None)
    loaded = store.load("k")
    assert loaded is not None and (loaded.version, loaded.data) == (2, {"a": 2})
    assert store.save("other", {}, None) == 1
    with pytest.raises(ValueError, match="not JSON"):
        store.save("k", {"when": datetime.now(UTC)}, 2)


def test_two_file_stores_on_one_file_one_wins_the_race(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first, second = FileStateStore(path), FileStateStore(path)
    first.save("policy#x", {"n": 0}, None)
    seen = [first.load("policy#x"), second.load("policy#x")]
    assert all(s is not None and s.version == 1 for s in seen)
    assert second.save("policy#x", {"n": 2}, 1) == 2
    before = path.read_bytes()
    with pytest.raises(StateConflict):
        first.save("policy#x", {"n": 1}, 1)
    assert path.read_bytes() == before


def test_the_state_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = FileStateStore(path)
    store.save("a", {"x": 1}, None)
    inode = path.stat().st_ino
    store.save("a", {"x": 2}, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert json.loads(path.read_text())["states"]["a"] == {"version": 2, "data": {"x": 2}}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not JSON"),
        (b"[]", "not a capcon state file"),
        (b'{"format": 2, "states": {}}', "format is 2"),
        (b'{"format": 1, "states": {"k": {"version": 0, "data": {}}}}', "is not"),
        (b'{"format": 1, "states": {"k": {"version": 1, "data": []}}}', "is not"),
        (b"[" * 100 + b"]" * 100, "nested more than"),
    ],
)
def test_a_corrupt_state_file_is_named_and_never_overwritten(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    store = FileStateStore(path)
    for attempt in (lambda: store.load("k"), lambda: store.save("k", {}, None)):
        with pytest.raises(StateFileError, match=words) as raised:
            attempt()
        assert str(path) in str(raised.value)
        assert isinstance(raised.value, CapconError)
    assert path.read_bytes() == content


def test_a_symbolic_link_at_the_state_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text('{"format": 1, "states": {}}')
    link = tmp_path / "s.json"
    link.symlink_to(target)
    with pytest.raises(StateFileError, match="symbolic link"):
        FileStateStore(link).save("k", {}, None)
    assert target.read_text() == '{"format": 1, "states": {}}'


# --- the audit sink -------------------------------------------------------------------------


class ListStore:
    """An AuditStore in a list (what DynamoDB is in the deployed engine)."""

    def __init__(self, fail: bool = False) -> None:
        self.items: list[dict[str, object]] = []
        self.fail = fail

    def append(self, record: dict[str, object]) -> None:
        if self.fail:
            raise CapconError("the table is gone")
        self.items.append(json.loads(json.dumps(record)))

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        return self.items[-limit:] if limit else list(self.items)


def small_account() -> SimAccount:
    acc = SimAccount(START)
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(100, 1_000),
            reads=Steady(20),
            writes=Steady(30),
            indexes=[IndexSpec("by-day", Throughput(50, 50), Steady(5))],
        )
    )
    acc.advance(20 * 60)
    return acc


def table_plan(acc: SimAccount, change: TableChange) -> ScalePlan:
    result = plan(acc.describe_table("orders"), change, acc.now(), rules=RULES, prices=PRICES)
    assert isinstance(result, ScalePlan)
    return result


def test_both_audit_trails_are_sinks_with_the_same_records(tmp_path: Path) -> None:
    acc = small_account()
    log = AuditLog(tmp_path / "audit.jsonl")
    store = ListStore()
    sinks: list[AuditSink] = [log, StoreAudit(store)]
    assert all(isinstance(s, AuditSink) for s in sinks)
    for sink, capacity in zip(sinks, (900, 800), strict=True):
        scaler = Scaler(acc, sink, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
        change = TableChange(table=Throughput(100, capacity))
        assert scaler.apply(table_plan(acc, change)).outcome == "applied"
    from_file, from_store = log.read(), StoreAudit(store).read()
    assert [r["phase"] for r in from_store] == ["intent", "outcome"]
    assert [sorted(r) for r in from_store] == [sorted(r) for r in from_file]
    assert from_store[1]["after"]["capacity"] == {"read": 100, "write": 800}


def test_a_store_that_fails_refuses_the_change(tmp_path: Path) -> None:
    acc = small_account()
    audit = StoreAudit(ListStore(fail=True))
    scaler = Scaler(acc, audit, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
    result = scaler.apply(table_plan(acc, TableChange(table=Throughput(100, 900))))
    assert result.outcome == "refused"
    assert "cannot be written" in (result.error or "")
    assert acc.describe_table("orders").provisioned == Throughput(100, 1_000)


def test_a_store_backed_scaler_locks_in_a_private_temporary_folder(tmp_path: Path) -> None:
    acc = small_account()
    audit = StoreAudit(ListStore())
    scaler = Scaler(acc, audit, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
    assert scaler.locks.private
    assert scaler.locks.folder == Path(tempfile.gettempdir()) / f"capcon-locks-{os.getuid()}"
    assert scaler.apply(table_plan(acc, TableChange(table=Throughput(100, 900)))).outcome == (
        "applied"
    )
    assert stat.S_IMODE(scaler.locks.folder.stat().st_mode) == 0o700


# --- the scaler's non-waiting mode ----------------------------------------------------------


class Counting:
    """The simulated account, counting the mutating calls sent to it."""

    def __init__(self, acc: SimAccount) -> None:
        self._acc = acc
        self.sent: list[str] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._acc, name)
        if name in ("update_table", "update_shard_count", "split_shard", "merge_shards"):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.sent.append(name)
                return value(*args, **kwargs)

            return counted
        return value


def test_follow_false_records_accepted_and_reconcile_confirms_it(tmp_path: Path) -> None:
    acc = small_account()
    backend = Counting(acc)
    log = AuditLog(tmp_path / "audit.jsonl")
    waited: list[float] = []
    origin = Origin("engine", "sim")
    scaler = Scaler(backend, log, origin, wait=waited.append, follow=False)
    result = scaler.apply(table_plan(acc, TableChange(table=Throughput(100, 700))))
    assert result.outcome == "accepted"
    assert backend.sent == ["update_table"]
    assert waited == []  # nothing was waited for
    assert result.after is not None and result.after.status == "UPDATING"
    assert [(r["phase"], r.get("outcome")) for r in log.read()] == [
        ("intent", None),
        ("outcome", "accepted"),
    ]
    acc.advance(10 * 60)
    found = Reconciler(acc, log, origin).run()
    assert [(r.left_as, r.verdict) for r in found] == [("accepted", "applied")]
    assert Reconciler(acc, log, origin).run() == []  # settled once reconciled


# --- the engine -----------------------------------------------------------------------------


def table_account() -> SimAccount:
    acc = SimAccount(START)
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(40, 60),
            reads=Bell(base=20, peak=120, steady_s=300, rise_s=900, fall_s=600),
            writes=Bell(base=30, peak=200, steady_s=300, rise_s=600, fall_s=600),
            indexes=[
                IndexSpec(
                    "by-day",
                    Throughput(30, 60),
                    Bell(base=10, peak=90, steady_s=300, rise_s=600, fall_s=600),
                )
            ],
        )
    )
    acc.advance(10 * 60)
    return acc


def stream_account() -> SimAccount:
    acc = SimAccount(START)
    load = StreamLoad(Spike(base=300, peak=3_000, at_s=900, duration_s=900, ramp_s=120), 1000.0)
    acc.add_stream("clicks", shards=2, load=load)
    acc.advance(10 * 60)
    return acc


Row = tuple[datetime, str, Decision, str, int | None, tuple[str, ...]]


def run_engine(
    acc: SimAccount,
    policy: str,
    managed: Sequence[Scalable],
    rounds: int,
    folder: Path,
    *,
    state: StateStore | None,
    rebuild: bool,
) -> list[Row]:
    log = AuditLog(folder / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))

    def make() -> AutoscaleEngine:
        return AutoscaleEngine(
            acc, policy, 70.0, RULES, PRICES, managed, (1, 40_000), scaler,
            metric_delay_seconds=120, update_seconds=60, state=state,
            reshard_history=acc.controls.reshard_history,
            stream_check_every=timedelta(minutes=25),
        )  # fmt: skip

    engine = make()
    rows: list[Row] = []
    for number in range(rounds):
        if number:
            acc.advance(60)
        if rebuild:
            engine = make()  # a new process (a Lambda invocation): only the store remains
        rows += [
            (d.at, d.scalable.key, d.decision, d.outcome, d.capacity_after, d.notes)
            for d in engine.round()
        ]
    return rows


TABLE_DIMS = [
    Scalable("orders", "read"),
    Scalable("orders", "write"),
    Scalable("orders", "read", "by-day"),
    Scalable("orders", "write", "by-day"),
]


@pytest.mark.parametrize("policy", TABLE_POLICY_NAMES)
def test_a_rebuilt_engine_decides_as_an_uninterrupted_one_tables(
    policy: str, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    kept = run_engine(
        table_account(), policy, TABLE_DIMS, 40, tmp_path / "a", state=None, rebuild=False
    )
    store = FileStateStore(tmp_path / "b" / "state.json")
    rebuilt = run_engine(
        table_account(), policy, TABLE_DIMS, 40, tmp_path / "b", state=store, rebuild=True
    )
    assert rebuilt == kept
    if policy != "oracle":  # the oracle has no forecast here: it holds
        acted = {key for _, key, _, outcome, _, _ in kept if outcome == "applied"}
        assert any("/index/by-day" in key for key in acted), acted  # GSIs scale too
        assert any("/index/" not in key for key in acted), acted
        assert store.keys() == sorted(f"policy#{s.key}" for s in TABLE_DIMS)


def test_a_rebuilt_engine_decides_as_an_uninterrupted_one_kinesis(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    dims = [Scalable("clicks", "shards")]
    kept = run_engine(
        stream_account(), "kinesis", dims, 45, tmp_path / "a", state=None, rebuild=False
    )
    store = MemoryStateStore()
    rebuilt = run_engine(
        stream_account(), "kinesis", dims, 45, tmp_path / "b", state=store, rebuild=True
    )
    assert rebuilt == kept
    reasons = [row[2].reason for row in kept]
    assert [row[3] for row in kept].count("applied") >= 1
    assert any("cooldown" in r for r in reasons)
    assert any("scale-down check" in r for r in reasons)  # the 25-min schedule came due
    saved = store.load("policy#stream/clicks:shards")
    assert saved is not None and saved.data["last_action"] is not None


def test_a_lost_state_race_is_reported_in_the_outcome(tmp_path: Path) -> None:
    acc = small_account()

    class Racing(MemoryStateStore):
        def save(self, key: str, data: dict[str, object], expected: int | None) -> int:
            super().save(key, {"someone": "else"}, expected)  # another invocation first
            return super().save(key, data, expected)

    engine = AutoscaleEngine(
        acc, "capcon", 70.0, RULES, PRICES, [Scalable("orders", "write")], (1, 40_000),
        state=Racing(),
    )  # fmt: skip
    [decision] = engine.round()
    assert "state not saved" in decision.outcome
    assert "saved by someone else" in decision.outcome


def test_bad_saved_state_starts_the_policy_afresh_and_says_so() -> None:
    acc = small_account()
    store = MemoryStateStore()
    dim = Scalable("orders", "write")
    store.save(state_key(dim), {"last_out": "soon"}, None)
    engine = AutoscaleEngine(acc, "aas", 70.0, RULES, PRICES, [dim], (1, 40_000), state=store)
    [decision] = engine.round()
    assert any("last_out is not a time" in note for note in decision.notes)
    assert "saved state ignored" in decision.line
    saved = store.load(state_key(dim))
    assert saved is not None and saved.version == 2 and saved.data["last_out"] is None


def fleet(tables: int, with_index: int = 0) -> tuple[SimAccount, list[Scalable]]:
    acc = SimAccount(START)
    dims: list[Scalable] = []
    for n in range(tables):
        indexes = [IndexSpec("gsi", Throughput(10, 10), Steady(1))] if n < with_index else []
        acc.add_table(
            TableSpec(f"t{n:03}", Throughput(10, 10), Steady(2), Steady(2), indexes=indexes)
        )
        dims += [Scalable(f"t{n:03}", "read"), Scalable(f"t{n:03}", "write")]
        dims += [Scalable(f"t{n:03}", d, "gsi") for d in ("read", "write") if n < with_index]
    acc.advance(5 * 60)
    return acc, dims


def test_a_round_batches_its_metrics_calls() -> None:
    acc, dims = fleet(150, with_index=20)  # 150 tables, 20 of them with a GSI
    engine = AutoscaleEngine(acc, "capcon", 70.0, RULES, PRICES, dims, (1, 40_000))
    assert engine.metrics is not None
    decisions = engine.round()
    assert len(decisions) == len(dims) == 340
    queries = 2 * len(dims)  # consumed + throttles per dimension
    assert engine.metrics.usage.calls == math.ceil(queries / 500) == 2  # not one per dimension
    assert engine.metrics.usage.metrics_requested == queries
    acc.advance(60)
    engine.round()
    assert engine.metrics.usage.calls == 4  # the next round: the newest minutes, batched again


def test_gsi_dimensions_read_their_own_metrics_and_change_the_gsi(tmp_path: Path) -> None:
    acc = small_account()  # by-day: 50/50 for 5 reads/s → the policy scales its reads in
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
    dim = Scalable("orders", "read", "by-day")
    engine = AutoscaleEngine(
        acc, "capcon", 70.0, RULES, PRICES, [dim], (1, 40_000), scaler,
        metric_delay_seconds=120, update_seconds=60,
    )  # fmt: skip
    seen: list[EngineDecision] = []
    for _ in range(3):
        seen += engine.round()
        acc.advance(60)
    applied = [d for d in seen if d.outcome == "applied"]
    assert applied, [d.line for d in seen]
    # the GSI's 5 reads/s, not the table's 20/s
    assert "requests of the last 5 min 5.0/s" in applied[0].decision.reason
    index = acc.describe_table("orders").indexes[0]
    assert index.provisioned == Throughput(applied[0].capacity_after or 0, 50)
    assert acc.describe_table("orders").provisioned == Throughput(100, 1_000)
    assert "orders/by-day reads" in applied[0].line


def test_only_runs_the_given_dimensions_and_refuses_strangers() -> None:
    acc = small_account()
    engine = AutoscaleEngine(acc, "capcon", 70.0, RULES, PRICES, TABLE_DIMS[:2], (1, 40_000))
    assert [d.scalable for d in engine.round(only=[TABLE_DIMS[1]])] == [TABLE_DIMS[1]]
    with pytest.raises(ValueError, match="not managed by this engine: stream/x:shards"):
        engine.round(only=[Scalable("x", "shards")])


def test_kinesis_on_tables_is_refused() -> None:
    with pytest.raises(ValueError, match="policy kinesis is for streams"):
        AutoscaleEngine(small_account(), "kinesis", 70.0, RULES, PRICES, TABLE_DIMS, (1, 10))


def test_follow_false_engine_reports_accepted(tmp_path: Path) -> None:
    acc = stream_account()
    acc.advance(20 * 60)  # in the spike: 3,000 records/s on 2 shards
    log = AuditLog(tmp_path / "audit.jsonl")
    waits: list[float] = []
    scaler = Scaler(acc, log, Origin("engine", "sim"), wait=waits.append, follow=False)
    engine = AutoscaleEngine(
        acc, "kinesis", 70.0, RULES, PRICES, [Scalable("clicks", "shards")], (1, 40_000),
        scaler, reshard_history=acc.controls.reshard_history,
    )  # fmt: skip
    [decision] = engine.round()
    assert decision.decision.action == "scale-out"
    assert decision.outcome == "accepted"
    assert decision.capacity_after == decision.decision.capacity
    assert acc.describe_stream("clicks").status == "UPDATING"
    assert waits == []


# --- any input: a message, never a traceback -----------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
    ),
    max_leaves=12,
)
TIMES = st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat())
STATES = JSON | st.dictionaries(
    st.sampled_from(["last_out", "last_in", "last_action", "next_scale_down_check", "x"]),
    JSON | TIMES,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(POLICIES)), data=STATES)
def test_restore_takes_any_json_or_says_which_key_is_wrong(name: str, data: object) -> None:
    policy = make_policy(name, 70.0)
    before = policy.state()
    try:
        policy.restore(data)
    except ValueError as error:
        assert "saved state of policy" in str(error)
        assert policy.state() == before
    else:
        assert json.loads(json.dumps(policy.state())) == policy.state()


@settings(max_examples=150, deadline=None)
@given(
    content=st.binary(max_size=200)
    | JSON.map(lambda v: json.dumps(v).encode())
    | st.dictionaries(st.text(max_size=10), JSON, max_size=3).map(
        lambda states: json.dumps({"format": 1, "states": states}).encode()
    )
)
def test_any_state_file_content_reads_or_is_named(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.json"
        path.write_bytes(content)
        try:
            FileStateStore(path).load("k")
        except StateFileError as error:
            assert str(path) in str(error)


def test_what_cannot_be_read_is_a_failed_decision_and_the_rest_goes_on() -> None:
    acc = small_account()

    class Broken(MemoryStateStore):
        def load(self, key: str) -> VersionedState | None:
            if "by-day" in key:
                raise StateFileError(Path("/nowhere/state.json"), "permission denied")
            return super().load(key)

    dims = [
        Scalable("ghost", "write"),
        Scalable("orders", "write", "by-day"),
        Scalable("orders", "write"),
    ]
    engine = AutoscaleEngine(acc, "capcon", 70.0, RULES, PRICES, dims, (1, 40_000), state=Broken())
    ghost, index, table = engine.round()
    assert ghost.outcome.startswith("failed: could not be read: ")
    assert "ghost" in ghost.outcome and ghost.capacity_after is None
    assert index.outcome == (
        "failed: its saved state could not be read: the state file /nowhere/state.json "
        "cannot be used: permission denied"
    )
    assert table.decision.reason != "not decided" and table.capacity_after == 1_000
