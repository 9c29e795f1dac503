"""The auto-scaling engine: run policies on real or simulated tables, GSIs and streams,
explaining every decision.

The engine manages :class:`~capcon.core.ports.Scalable` dimensions: a table's or a GSI's reads
or writes (each runs the engine's table policy), a provisioned stream's shards (each runs the
``kinesis`` policy).  Each round it

1. describes each managed resource once (``DescribeTable`` gives the table and its GSIs);
2. refreshes every dimension's metrics with **one** batched refresh through a
   :class:`~capcon.core.services.metrics.MetricsService` (consumed capacity and throttle
   events per table/GSI dimension, ``IncomingBytes``, ``IncomingRecords`` and
   ``WriteProvisionedThroughputExceeded`` per stream): N table dimensions cost
   ``ceil(2N / 500)`` ``GetMetricData`` calls, not one per dimension; the service keeps what it
   fetched, so the next round asks only for the newest minutes.  A stream whose 36-hour
   scale-down check is due needs the last day of datapoints: those streams are refreshed in a
   second batch that round;
   A dimension whose policy counts only datapoints since the last capacity change
   (:meth:`~capcon.core.policies.Policy.fresh_since`: ``h1``, ``h2``, ``aas``, ``kinesis``;
   not ``capcon``) is left out of the refresh while no such datapoint can exist yet — the
   "cheap hold", see :meth:`AutoscaleEngine.round`;
3. builds the :class:`~capcon.core.policies.Observation` a policy could really see (published
   1-minute datapoints, the capacity from the describe, the decrease budget or the reshard
   budget from the rule book) and asks the dimension's policy;
4. in dry-run mode (no ``scaler``) stops there; otherwise an action becomes a core plan (a
   table or GSI capacity as a ``TableChange``, a stream's shards as a uniform
   ``UpdateShardCount``) through the planner and goes through the core scaler — the same
   stale check, rule book and audit trail as a change made by hand.

With a :class:`~capcon.core.ports.StateStore` (``state``) each policy is rebuilt every round
from what was saved under ``policy#<scalable key>`` and saved back after deciding
(version-conditional): a process, or a Lambda invocation, that starts from the saved state
decides exactly as an uninterrupted run would.  A save that loses a race
(:class:`~capcon.core.errors.StateConflict`) is said in that decision's outcome, never raised.
Without a store the policies live in the engine object.

With a ``schedules`` store (``capcon autoscale --state FILE``, or the deployed stack's state
table) the engine also runs the **stream schedules of planned events**
(:class:`~capcon.core.planning.schedules.StreamSchedule`, kept by
:mod:`capcon.core.services.schedules`): each round, before the policies decide, every due
step of a schedule of a stream in the round goes through the planner and the core scaler as
any change does (the same stale check, rule book, reshard budget and audit trail) and is
then marked sent with a version-conditional save.  A raise step never lowers the count and a
restore step never raises it (a step the stream is already past is marked sent without a
call); a step beyond ½…2× of the count is reached in several calls; a raise whose restore is
already due is skipped.  From the first raise sent until the first restore is due the
stream's policy is held at or above the count raised to (its ``min_shards``): the
``kinesis`` policy cannot scale the event's peak away, nor can the restore of another
event of the same stream that overlaps it (a restore goes no lower than another event's
hold).  Steps are executed for the streams this engine manages only; the event's counts
go beyond the engine's own shard bounds (an operator planned and applied them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.errors import CapconError
from capcon.core.model import Stream, Table, Throughput, ThroughputHistory
from capcon.core.planning.partitions import estimate_partitions, split_above
from capcon.core.planning.planner import PlanContext, Refusal, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.planning.schedules import ReshardStep
from capcon.core.policies import (
    STREAM_POLICIES,
    TABLE_POLICIES,
    Decision,
    KinesisPolicy,
    Observation,
    Policy,
    fresh_published_at,
    make_policy,
    stream_observation,
)
from capcon.core.ports import (
    Backend,
    MetricQuery,
    Metrics,
    MetricSeries,
    Scalable,
    StateStore,
    TableChange,
    VersionedState,
    align_down,
)
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings, after_decrease, decrease_budget
from capcon.core.rules.kinesis import reshard_budget
from capcon.core.services.metrics import MetricsService
from capcon.core.services.scaler import Scaler
from capcon.core.services.schedules import StoredSchedule, mark_done, read_schedules

Dimension = Literal["read", "write"]
#: Assumed CloudWatch delay when the backend does not say (AWS: typically 1–3 minutes).
DEFAULT_METRIC_DELAY = 120
#: Minutes of datapoints a policy sees each round.
WINDOW_MINUTES = 20
#: The prefix of a policy's key in the state store: ``policy#<scalable key>``.
STATE_PREFIX = "policy#"
#: The stream policy (streams run it whatever the table policy is).
STREAM_POLICY = "kinesis"


def state_key(scalable: Scalable) -> str:
    """Where a dimension's policy state is kept: ``policy#table/orders:write``."""
    return STATE_PREFIX + scalable.key


@dataclass(frozen=True, slots=True)
class EngineDecision:
    """One decision of one round, and what became of it.

    ``outcome``: ``held``, ``dry-run``, ``applied``, ``accepted`` (sent and taken by AWS, not
    followed to ``ACTIVE``), ``refused: …``, ``failed: …``, ``unknown: …``; a policy state
    that could not be saved adds ``(state not saved: …)``.  ``capacity_after`` is the
    capacity requested by an applied or accepted decision, else the capacity in force
    (``None`` when the resource could not be read)."""

    at: datetime
    scalable: Scalable
    decision: Decision
    outcome: str
    capacity_after: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """The table's (or the stream's) name."""
        return self.scalable.name

    @property
    def dimension(self) -> str:
        """``read``, ``write`` or ``shards``."""
        return self.scalable.dimension

    @property
    def acted(self) -> bool:
        """Whether the decision's change was applied or accepted."""
        return self.outcome.startswith(("applied", "accepted"))

    @property
    def label(self) -> str:
        """``orders writes``, ``orders/by-date reads``, ``clicks shards``."""
        where = self.scalable.name
        if self.scalable.index:
            where += f"/{self.scalable.index}"
        word = "shards" if self.scalable.dimension == "shards" else f"{self.scalable.dimension}s"
        return f"{where} {word}"

    @property
    def line(self) -> str:
        what = (
            f"{self.decision.action} → {self.decision.capacity:,}"
            if self.decision.capacity is not None
            else "hold"
        )
        return (
            f"{self.at:%H:%M} {self.label}: {what} — {self.decision.reason}"
            + ("" if self.outcome in ("held", "dry-run") else f" [{self.outcome}]")
            + (" [dry run: not applied]" if self.outcome == "dry-run" else "")
            + "".join(f" [{note}]" for note in self.notes)
        )

    def to_json(self) -> dict[str, object]:
        """The decision as a JSON object (``capcon autoscale --json``)."""
        return {
            "at": self.at.isoformat(),
            "scalable": self.scalable.key,
            "table": self.scalable.name,
            "index": self.scalable.index,
            "dimension": self.scalable.dimension,
            "action": self.decision.action,
            "capacity": self.decision.capacity,
            "reason": self.decision.reason,
            "alarm": self.decision.alarm,
            "outcome": self.outcome,
            "capacity_after": self.capacity_after,
            "notes": list(self.notes),
        }


# --- metrics -------------------------------------------------------------------------------


def _table_dims(scalable: Scalable) -> tuple[tuple[str, str], ...]:
    dims: tuple[tuple[str, str], ...] = (("TableName", scalable.name),)
    if scalable.index:
        dims += (("GlobalSecondaryIndexName", scalable.index),)
    return dims


def table_queries(scalable: Scalable) -> tuple[MetricQuery, MetricQuery]:
    """Consumed capacity and throttle events of a table's or GSI's dimension (GSI metrics
    carry the ``GlobalSecondaryIndexName`` dimension)."""
    word = "Read" if scalable.dimension == "read" else "Write"
    dims = _table_dims(scalable)
    return (
        MetricQuery("c", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", dims),
        MetricQuery("t", "AWS/DynamoDB", f"{word}ThrottleEvents", dims),
    )


def stream_queries(name: str) -> tuple[MetricQuery, MetricQuery, MetricQuery]:
    """``IncomingBytes``, ``IncomingRecords`` and ``WriteProvisionedThroughputExceeded``
    (per-minute sums) of a stream."""
    dims = (("StreamName", name),)
    return (
        MetricQuery("b", "AWS/Kinesis", "IncomingBytes", dims),
        MetricQuery("r", "AWS/Kinesis", "IncomingRecords", dims),
        MetricQuery("x", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", dims),
    )


def _aligned(series: MetricSeries, stamps: Sequence[datetime]) -> tuple[float, ...]:
    """``series``' value at each of ``stamps`` (0 where it has none: a sparse metric)."""
    values = dict(zip(series.timestamps, series.values, strict=True))
    return tuple(values.get(t, 0.0) for t in stamps)


def table_observation(
    now: datetime,
    table: Table,
    scalable: Scalable,
    consumed: MetricSeries,
    throttled: MetricSeries,
    bounds: tuple[int, int],
    rules: RuleSettings,
    *,
    metric_delay_seconds: int = DEFAULT_METRIC_DELAY,
    update_seconds: int | None = None,
) -> Observation:
    """What a policy on ``scalable`` (a dimension of ``table`` or of one of its GSIs) sees,
    from its consumed-capacity and throttle series (per-minute sums)."""
    capacity: Throughput | None = table.provisioned
    history = table.history
    size, warm = table.size_bytes, table.warm
    updating = table.status != "ACTIVE"
    if scalable.index is not None:
        index = next((i for i in table.indexes if i.name == scalable.index), None)
        if index is None:
            raise CapconError(f"{table.name} has no GSI {scalable.index}")
        capacity, history = index.provisioned, index.history
        size, warm = index.size_bytes, index.warm
        updating = updating or index.status != "ACTIVE"
    dimension = scalable.dimension
    units = capacity or Throughput(0, 0)
    value = units.read if dimension == "read" else units.write
    partitions = estimate_partitions(capacity, size, rules, warm=warm)
    return Observation(
        now=now,
        capacity=value,
        min_capacity=bounds[0],
        max_capacity=bounds[1],
        updating=updating,
        minutes=consumed.timestamps,
        consumed=tuple(v / 60 for v in consumed.values),
        throttled=tuple(v / 60 for v in _aligned(throttled, consumed.timestamps)),
        capacity_since=_last_change(history),
        decrease_budget=decrease_budget(history, now, rules),
        next_decrease_after_one=decrease_budget(
            after_decrease(history, now), now, rules
        ).next_allowed_at,
        update_seconds=update_seconds,
        metric_delay_seconds=metric_delay_seconds,
        split_above=split_above(capacity, partitions.count, dimension == "read", rules),
    )


def _last_change(history: ThroughputHistory) -> datetime | None:
    changes = [t for t in (history.last_increase, history.last_decrease) if t is not None]
    return max(changes) if changes else None


def table_capacity_since(table: Table, scalable: Scalable) -> datetime | None:
    """The last capacity change of ``scalable``'s table or GSI (``capacity_since`` of its
    observation; ``None`` when none is known or the GSI is gone)."""
    if scalable.index is None:
        return _last_change(table.history)
    index = next((i for i in table.indexes if i.name == scalable.index), None)
    return None if index is None else _last_change(index.history)


def _window_start(now: datetime, minutes: int, metric_delay_seconds: int) -> datetime:
    return now - timedelta(minutes=minutes + math.ceil(metric_delay_seconds / 60))


def observe(
    backend: Backend,
    table: Table,
    dimension: Dimension,
    bounds: tuple[int, int],
    rules: RuleSettings,
    *,
    minutes: int = WINDOW_MINUTES,
    metric_delay_seconds: int = DEFAULT_METRIC_DELAY,
    update_seconds: int | None = None,
    metrics: Metrics | None = None,
    index: str | None = None,
) -> Observation:
    """What a policy on ``table``'s (or its GSI ``index``'s) ``dimension`` can see now,
    through the ports (metrics through ``metrics``, by default a fresh
    :class:`MetricsService` over ``backend``: the whole window every time)."""
    now = backend.now()
    scalable = Scalable(table.name, dimension, index)
    start = _window_start(now, minutes, metric_delay_seconds)
    source = metrics if metrics is not None else MetricsService(backend)
    consumed, throttled = source.get_metric_data(table_queries(scalable), start, now)
    return table_observation(
        now,
        table,
        scalable,
        consumed,
        throttled,
        bounds,
        rules,
        metric_delay_seconds=metric_delay_seconds,
        update_seconds=update_seconds,
    )


# --- the engine ----------------------------------------------------------------------------


@dataclass
class _Slot:
    """One dimension during a round: its policy and the state it was loaded from."""

    scalable: Scalable
    policy: Policy
    loaded: VersionedState | None
    notes: list[str] = field(default_factory=list)


@dataclass
class AutoscaleEngine:
    """Runs policies over ``managed`` dimensions; ``scaler`` None means dry run.

    Table and GSI dimensions run ``policy_name`` at ``target`` % within ``bounds`` units;
    stream dimensions run ``kinesis`` at ``stream_target`` % (by default ``target`` when
    ``policy_name`` is ``kinesis``, else the policy's own 80 %) within ``shard_bounds``
    shards, checking for a scale-down every ``stream_check_every``.  ``reshard_history``
    tells the ``UpdateShardCount`` calls of a stream in the last day when the backend knows
    them (the simulated account does; AWS does not report them), so the policy and the
    planner know the rolling budget.
    """

    backend: Backend
    policy_name: str
    target: float
    rules: RuleSettings
    prices: PriceBook
    managed: Sequence[Scalable]
    bounds: tuple[int, int]
    scaler: Scaler | None = None
    _: KW_ONLY
    shard_bounds: tuple[int, int] = (1, 10_000)
    stream_check_every: timedelta = timedelta(hours=36)
    metric_delay_seconds: int = DEFAULT_METRIC_DELAY
    update_seconds: int | None = None
    state: StateStore | None = None
    metrics: MetricsService | None = None
    stream_target: float | None = None
    reshard_history: Callable[[str], Sequence[datetime]] | None = None
    window_minutes: int = WINDOW_MINUTES
    cheap_holds: bool = True
    schedules: StateStore | None = None
    policies: dict[str, Policy] = field(default_factory=dict)
    #: each stream's hold of this round: (fewest shards, event id, until when)
    _floors: dict[str, tuple[int, str, datetime | None]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.managed = list(dict.fromkeys(self.managed))  # each dimension once, in order
        tables = [s for s in self.managed if s.kind != "stream"]
        if self.policy_name not in TABLE_POLICIES + STREAM_POLICIES:
            make_policy(self.policy_name, self.target)  # ValueError listing the known names
        if tables and self.policy_name not in TABLE_POLICIES:
            raise ValueError(
                f"policy {self.policy_name} is for streams; tables and GSIs take one of "
                f"{', '.join(TABLE_POLICIES)}"
            )
        make_policy(self.policy_name, self.target)  # a bad target fails here
        self._stream_policy()  # and a bad stream target here
        if self.metrics is None:
            self.metrics = MetricsService(self.backend)

    # --- policies ----------------------------------------------------------------------------

    def _stream_policy(self) -> KinesisPolicy:
        target = self.stream_target
        if target is None:
            target = self.target if self.policy_name == STREAM_POLICY else 80.0
        return KinesisPolicy(target, scale_down_every=self.stream_check_every)

    def _fresh_policy(self, scalable: Scalable) -> Policy:
        if scalable.kind == "stream":
            return self._stream_policy()
        return make_policy(self.policy_name, self.target)

    def _slot(self, scalable: Scalable) -> _Slot:
        """The dimension's policy: rebuilt from the state store, or the engine's own."""
        if self.state is None:
            policy = self.policies.get(scalable.key)
            if policy is None:
                policy = self.policies[scalable.key] = self._fresh_policy(scalable)
            return _Slot(scalable, policy, None)
        policy = self._fresh_policy(scalable)
        loaded = self.state.load(state_key(scalable))  # CapconError: the caller says so
        slot = _Slot(scalable, policy, loaded)
        if loaded is not None:
            try:
                policy.restore(loaded.data)
            except ValueError as error:
                slot.notes.append(f"saved state ignored, the policy starts afresh: {error}")
        return slot

    def _save(self, slot: _Slot) -> str | None:
        """Save the slot's policy state if it changed; why it was not saved, or ``None``."""
        if self.state is None:
            return None
        data = slot.policy.state()
        if slot.loaded is not None and slot.loaded.data == data:
            return None
        expected = None if slot.loaded is None else slot.loaded.version
        try:
            self.state.save(state_key(slot.scalable), data, expected)
        except (CapconError, ValueError) as error:  # a lost race, the store unreachable
            return f"state not saved: {error}"
        return None

    # --- a round -----------------------------------------------------------------------------

    def _chosen(self, only: Collection[Scalable] | None) -> list[Scalable]:
        if only is None:
            return list(self.managed)
        managed = set(self.managed)
        strangers = sorted({s.key for s in only if s not in managed})
        if strangers:
            keys = [s.key for s in self.managed]
            shown = ", ".join(keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
            raise ValueError(
                f"not managed by this engine: {', '.join(strangers[:10])}"
                f"{' …' if len(strangers) > 10 else ''} (managed: {shown or 'nothing'})"
            )
        wanted = set(only)
        return [s for s in self.managed if s in wanted]

    def round(self, only: Collection[Scalable] | None = None) -> list[EngineDecision]:
        """One evaluation of every managed dimension, or of ``only`` those (each must be
        managed: ``ValueError`` naming the others).

        Cheap holds (``cheap_holds``, on by default).  After a capacity change the deployed
        engine's alarms are re-put at the new thresholds and CloudWatch re-evaluates them on
        datapoints from before the change, so it wakes the engine while a policy that counts
        only datapoints since the change (its ``fresh_since`` is not ``None``) can only
        hold.  Before the batched refresh each such dimension is checked: the first minute
        that can count is the first whole minute starting at or after ``fresh_since`` (``T``,
        rounded *up* to the minute; ``since`` itself when on a minute), and its datapoint is
        published ``metric_delay_seconds`` after the minute ends, i.e. at
        ``T + 60 s + delay`` (:func:`~capcon.core.policies.base.fresh_published_at`).  While
        ``now`` is *before* that moment the dimension is not asked for (no
        ``GetMetricData`` metric for it; the others are still batched) and its policy
        decides on the observation without datapoints — by the policy's promise exactly
        what it would decide on the full one whenever CloudWatch publishes no earlier than
        the assumed delay: a hold, in its own words, saying when the fresh minute is due.
        From that moment on the dimension is observed as usual (a CloudWatch later than the
        delay costs a normal round, never a wrong decision)."""
        chosen = self._chosen(only)
        now = self.backend.now()
        groups: dict[tuple[str, str], list[Scalable]] = {}
        for scalable in chosen:
            kind = "stream" if scalable.kind == "stream" else "table"
            groups.setdefault((kind, scalable.name), []).append(scalable)
        resources: dict[tuple[str, str], Table | Stream | CapconError] = {}
        for key in groups:
            try:
                resources[key] = (
                    self.backend.describe_stream(key[1])
                    if key[0] == "stream"
                    else self.backend.describe_table(key[1])
                )
            except CapconError as error:
                resources[key] = error
        slots: dict[Scalable, _Slot | CapconError] = {}
        for scalable in chosen:
            try:
                slots[scalable] = self._slot(scalable)
            except CapconError as error:
                slots[scalable] = error
        out: list[EngineDecision] = self._run_schedules(now, groups, resources, slots)
        waiting = self._waiting(now, groups, resources, slots) if self.cheap_holds else set()
        series = self._refresh(now, groups, resources, slots, waiting)
        for key, members in groups.items():
            resource = resources[key]
            for scalable in members:
                slot = slots[scalable]
                if isinstance(resource, CapconError):
                    out.append(self._unread(now, scalable, f"could not be read: {resource}"))
                    continue
                if isinstance(slot, CapconError):
                    out.append(
                        self._unread(now, scalable, f"its saved state could not be read: {slot}")
                    )
                    continue
                decided = self._decide(now, resource, slot, series)
                if decided is None:
                    continue  # on-demand: nothing to scale
                out.append(decided)
                if decided.acted:
                    try:
                        resources[key] = resource = (
                            self.backend.describe_stream(key[1])
                            if key[0] == "stream"
                            else self.backend.describe_table(key[1])
                        )
                    except CapconError as error:
                        resources[key] = resource = error
        return out

    @staticmethod
    def _unread(now: datetime, scalable: Scalable, why: str) -> EngineDecision:
        return EngineDecision(
            now, scalable, Decision("hold", None, "not decided"), f"failed: {why}"
        )

    def _stream_window(self, now: datetime, slot: _Slot | CapconError) -> int:
        """Minutes of datapoints a stream's policy needs now: the last day when its
        scale-down check is due, else the usual window."""
        if isinstance(slot, _Slot) and isinstance(slot.policy, KinesisPolicy):
            due = slot.policy.next_scale_down_check
            if due is not None and now >= due:
                return int(slot.policy.lookback / timedelta(minutes=1)) + 5
        return self.window_minutes

    def _capacity_since(self, resource: Table | Stream, scalable: Scalable) -> datetime | None:
        """The last capacity change of ``scalable`` as its observation will say it."""
        if isinstance(resource, Stream):
            history = self._reshards(scalable.name)
            return max(history) if history else None
        return table_capacity_since(resource, scalable)

    def _waiting(
        self,
        now: datetime,
        groups: dict[tuple[str, str], list[Scalable]],
        resources: dict[tuple[str, str], Table | Stream | CapconError],
        slots: dict[Scalable, _Slot | CapconError],
    ) -> set[Scalable]:
        """The dimensions whose policy can have no datapoint since the last change yet
        (see :meth:`round`): decided without asking for their metrics."""
        out: set[Scalable] = set()
        for key, members in groups.items():
            resource = resources[key]
            if isinstance(resource, CapconError):
                continue
            for scalable in members:
                slot = slots[scalable]
                if not isinstance(slot, _Slot) or _capacity(resource, scalable) is None:
                    continue
                since = slot.policy.fresh_since(self._capacity_since(resource, scalable))
                if since is not None and now < fresh_published_at(since, self.metric_delay_seconds):
                    out.add(scalable)
        return out

    def _refresh(
        self,
        now: datetime,
        groups: dict[tuple[str, str], list[Scalable]],
        resources: dict[tuple[str, str], Table | Stream | CapconError],
        slots: dict[Scalable, _Slot | CapconError],
        waiting: Collection[Scalable] = (),
    ) -> dict[Scalable, tuple[datetime, list[MetricSeries]]]:
        """One batched refresh of every dimension's metrics (a second for streams whose
        scale-down check is due); each dimension's series over its window.  The ``waiting``
        dimensions are not asked for: they get empty series."""
        assert self.metrics is not None
        end = align_down(now)
        windows: dict[int, list[tuple[Scalable, tuple[MetricQuery, ...]]]] = {}
        out: dict[Scalable, tuple[datetime, list[MetricSeries]]] = {}
        for key, members in groups.items():
            resource = resources[key]
            if isinstance(resource, CapconError):
                continue
            for scalable in members:
                if _capacity(resource, scalable) is None:
                    continue  # on-demand (or gone): nothing to observe
                if scalable.kind == "stream":
                    minutes = self._stream_window(now, slots[scalable])
                    queries: tuple[MetricQuery, ...] = stream_queries(scalable.name)
                else:
                    minutes, queries = self.window_minutes, table_queries(scalable)
                if scalable in waiting:
                    start = align_down(_window_start(now, minutes, self.metric_delay_seconds))
                    out[scalable] = (start, [MetricSeries(q.id, (), ()) for q in queries])
                    continue
                windows.setdefault(minutes, []).append((scalable, queries))
        for minutes, wanted in sorted(windows.items()):
            start = align_down(_window_start(now, minutes, self.metric_delay_seconds))
            every = [q for _, queries in wanted for q in queries]
            self.metrics.refresh(every, start, end)
            for scalable, queries in wanted:
                out[scalable] = (start, self.metrics.held(queries, start, end))
        return out

    def _decide(
        self,
        now: datetime,
        resource: Table | Stream,
        slot: _Slot,
        series: dict[Scalable, tuple[datetime, list[MetricSeries]]],
    ) -> EngineDecision | None:
        scalable = slot.scalable
        if (
            isinstance(resource, Table)
            and scalable.index is not None
            and all(i.name != scalable.index for i in resource.indexes)
        ):
            why = f"{resource.name} has no GSI {scalable.index} (any more)"
            return self._unread(now, scalable, why)
        current = _capacity(resource, scalable)
        got = series.get(scalable)
        if current is None or got is None:
            return None  # on-demand: nothing to scale
        if isinstance(resource, Stream):
            history = self._reshards(scalable.name)
            obs: Observation = self._stream_observation(now, resource, got[1], history)
        else:
            history = ()
            consumed, throttled = got[1]
            obs = table_observation(
                now, resource, scalable, consumed, throttled, self.bounds, self.rules,
                metric_delay_seconds=self.metric_delay_seconds,
                update_seconds=self.update_seconds,
            )  # fmt: skip
        decision = slot.policy.decide(obs)
        held = self._floors.get(scalable.name) if isinstance(resource, Stream) else None
        if held is not None and (
            decision.action != "hold" or decision.reason.startswith("scale-down check passed")
        ):
            until = f" until {held[2]:%Y-%m-%d %H:%M} UTC" if held[2] is not None else ""
            slot.notes.append(f"held at ≥ {held[0]:,} shards{until} for event {held[1]}")
        outcome, after = self._carry_out(resource, scalable, decision, slot.policy, history)
        unsaved = self._save(slot)
        if unsaved is not None:
            outcome += f" ({unsaved})"
        return EngineDecision(
            now, scalable, decision, outcome,
            after if after is not None else current, tuple(slot.notes),
        )  # fmt: skip

    def _reshards(self, stream: str) -> tuple[datetime, ...]:
        if self.reshard_history is None:
            return ()
        return tuple(self.reshard_history(stream))

    def _stream_observation(
        self,
        now: datetime,
        stream: Stream,
        found: list[MetricSeries],
        history: tuple[datetime, ...],
    ) -> Observation:
        incoming, records, throttled = found
        stamps = incoming.timestamps
        left = None
        since = None
        if self.reshard_history is not None:
            left = reshard_budget(history, now, self.rules).left
            since = max(history) if history else None
        low, high = self.shard_bounds
        held = self._floors.get(stream.name)
        if held is not None:  # a planned event's peak: the policy may not scale it away
            low, high = max(low, held[0]), max(high, held[0])
        return stream_observation(
            now=now,
            shards=stream.open_shard_count,
            minutes=stamps,
            incoming_bytes=incoming.values,
            incoming_records=_aligned(records, stamps),
            throttled_records=_aligned(throttled, stamps),
            min_shards=low,
            max_shards=high,
            updating=stream.status != "ACTIVE",
            shards_since=since,
            reshards_left=left,
            metric_delay_seconds=self.metric_delay_seconds,
        )

    # --- stream schedules of planned events ----------------------------------------------------

    def _run_schedules(
        self,
        now: datetime,
        groups: dict[tuple[str, str], list[Scalable]],
        resources: dict[tuple[str, str], Table | Stream | CapconError],
        slots: dict[Scalable, _Slot | CapconError],
    ) -> list[EngineDecision]:
        """Send the due steps of the schedules of this round's streams (see the module
        docstring) and set each stream's hold; a decision per step handled."""
        self._floors = {}
        streams = [key for key in groups if key[0] == "stream"]
        if self.schedules is None or not streams:
            return []
        read = read_schedules(self.schedules, active_only=True)
        out: list[EngineDecision] = []
        for key in streams:
            scalable = Scalable(key[1], "shards")
            slot = slots.get(scalable)
            if read.problems and isinstance(slot, _Slot):
                slot.notes += [f"stream schedule not run: {p}" for p in read.problems]
            mine = sorted(
                (s for s in read.schedules if s.schedule.stream == key[1]),
                key=lambda s: (min(t.at for t in s.schedule.steps), s.schedule.event_id),
            )
            latest = {s.schedule.event_id: s for s in mine}
            for stored in mine:
                if stored.schedule.finished or isinstance(resources[key], CapconError):
                    continue  # an unreadable stream is said by the round; steps wait
                keep = _hold(now, latest.values(), but=stored.schedule.event_id)
                stored = self._run_schedule(now, key, stored, resources, slot, out, keep)
                latest[stored.schedule.event_id] = stored
            held = _hold(now, latest.values())
            if held is not None:
                self._floors[key[1]] = held
        return out

    def _run_schedule(
        self,
        now: datetime,
        key: tuple[str, str],
        stored: StoredSchedule,
        resources: dict[tuple[str, str], Table | Stream | CapconError],
        slot: _Slot | CapconError | None,
        out: list[EngineDecision],
        keep: tuple[int, str, datetime | None] | None = None,
    ) -> StoredSchedule:
        """The due steps of one schedule, oldest first, until one cannot be sent now; the
        schedule as stored afterwards.  ``keep``: another event's hold on the stream (its
        count, id, end): a restore goes no lower while it lasts."""
        schedule = stored.schedule
        scalable = Scalable(key[1], "shards")
        due = schedule.due(now)
        restoring = any(step.phase == "restore" for _, step in due)
        for index, step in due:
            stream = resources[key]
            if not isinstance(stream, Stream):
                break
            what = self._step_label(schedule.event_id, schedule.steps, index)
            current = stream.open_shard_count
            # a restore goes no lower than another event's hold on the stream
            low, why = step.shards, ""
            if step.phase == "restore" and keep is not None and keep[0] > step.shards:
                low, why = keep[0], f" (event {keep[1]} holds the stream at ≥ {keep[0]:,})"
            skip = None
            if stream.is_on_demand:
                skip = "the stream is on-demand: there are no shards to set"
            elif step.phase == "raise" and restoring:
                skip = "its restore is already due: the raise is skipped"
            elif step.phase == "raise" and current >= step.shards:
                skip = f"already at {current:,} ≥ {step.shards:,} shards: nothing to send"
            elif step.phase == "restore" and current <= low:
                skip = f"already at {current:,} ≤ {low:,} shards{why}: nothing to send"
            if skip is not None:
                stored, unsaved = self._mark(stored, index)
                decision = Decision("hold", None, f"{what}: {skip}")
                out.append(
                    EngineDecision(now, scalable, decision, "held" + unsaved, current)
                )  # fmt: skip
                if unsaved:
                    break
                continue
            if stream.status != "ACTIVE":
                decision = Decision("hold", None, f"{what}: waits, the stream is resharding")
                out.append(EngineDecision(now, scalable, decision, "held", current))
                break
            if step.phase == "raise":
                target = min(step.shards, 2 * current)
            else:
                target = max(low, math.ceil(current / 2))
            more = "" if target == low else f" (½…2× per call: {low:,} next)"
            decision = Decision(
                "scale-out" if target > current else "scale-in",
                target,
                f"{what}: {current:,} → {target:,} shards{more}{why}",
            )
            policy = slot.policy if isinstance(slot, _Slot) else self._stream_policy()
            outcome, after = self._carry_out(
                stream, scalable, decision, policy, self._reshards(key[1])
            )
            acted = outcome.startswith(("applied", "accepted"))
            unsaved = ""
            if acted and target == low:
                stored, unsaved = self._mark(stored, index)
            out.append(
                EngineDecision(
                    now, scalable, decision, outcome + unsaved,
                    after if after is not None else current,
                )
            )  # fmt: skip
            if not acted or unsaved or target != low:
                break
            try:
                resources[key] = self.backend.describe_stream(key[1])
            except CapconError as error:
                resources[key] = error
        return stored

    @staticmethod
    def _step_label(event: str, steps: Sequence[ReshardStep], index: int) -> str:
        """``event 3fa2c1d0: raise step 1 of 2 (due 2026-12-05 17:40 UTC)``."""
        step = steps[index]
        same = [i for i, s in enumerate(steps) if s.phase == step.phase]
        return (
            f"event {event}: {step.phase} step {same.index(index) + 1} of {len(same)} "
            f"(due {step.at:%Y-%m-%d %H:%M} UTC)"
        )

    def _mark(self, stored: StoredSchedule, index: int) -> tuple[StoredSchedule, str]:
        """``stored`` with step ``index`` marked sent (a version-conditional save), and
        `` (schedule not saved: …)`` when the save failed (a lost race: someone cancelled
        the event or another engine sent it; the next round reads it again)."""
        assert self.schedules is not None
        try:
            return mark_done(self.schedules, stored, index), ""
        except (CapconError, ValueError) as error:
            return stored, f" (schedule not saved: {error})"

    def _carry_out(
        self,
        resource: Table | Stream,
        scalable: Scalable,
        decision: Decision,
        policy: Policy,
        history: tuple[datetime, ...],
    ) -> tuple[str, int | None]:
        """The outcome, and the capacity requested when the change was applied/accepted."""
        if decision.capacity is None:
            return "held", None
        if self.scaler is None:
            return "dry-run", None
        now = self.backend.now()
        if isinstance(resource, Stream):
            result = plan(
                resource,
                ShardChange(decision.capacity),
                now,
                rules=self.rules,
                prices=self.prices,
                context=PlanContext(
                    reshard_history=history,
                    reshard_history_complete=self.reshard_history is not None,
                ),
            )
        else:
            result = plan(
                resource,
                _table_change(resource, scalable, decision.capacity),
                now,
                rules=self.rules,
                prices=self.prices,
            )
        if isinstance(result, Refusal):
            return "refused: " + "; ".join(v.message for v in result.violations), None
        try:
            applied = self.scaler.apply(result, previous=resource)
        except CapconError as error:
            return f"failed: {error}", None
        if applied.outcome not in ("applied", "accepted"):
            return f"{applied.outcome}: {applied.error}", None
        policy.applied(decision, self.backend.now())
        return applied.outcome, decision.capacity


def _hold(
    now: datetime, schedules: Collection[StoredSchedule], *, but: str | None = None
) -> tuple[int, str, datetime | None] | None:
    """The highest hold of ``schedules`` on their stream now (other than event ``but``'s):
    its count, event id and when its restore is due; ``None`` when none holds."""
    holds = [
        (floor, s.schedule.event_id, s.schedule.restore_at)
        for s in schedules
        if s.schedule.event_id != but and (floor := s.schedule.floor(now)) is not None
    ]
    return max(holds, key=lambda h: (h[0], h[1])) if holds else None


def _capacity(resource: Table | Stream, scalable: Scalable) -> int | None:
    """The provisioned capacity of ``scalable`` now (``None``: on-demand, or no such GSI)."""
    if isinstance(resource, Stream):
        return None if resource.is_on_demand else resource.open_shard_count
    capacity = resource.provisioned
    if scalable.index is not None:
        index = next((i for i in resource.indexes if i.name == scalable.index), None)
        capacity = None if index is None else index.provisioned
    if capacity is None:
        return None
    return capacity.read if scalable.dimension == "read" else capacity.write


def _table_change(table: Table, scalable: Scalable, capacity: int) -> TableChange:
    """The ``UpdateTable`` that sets ``scalable`` (a dimension of ``table`` or of a GSI) to
    ``capacity`` units, the other dimension unchanged."""
    if scalable.index is None:
        current = table.provisioned
    else:
        current = next(i.provisioned for i in table.indexes if i.name == scalable.index)
    assert current is not None
    new = (
        Throughput(capacity, current.write)
        if scalable.dimension == "read"
        else Throughput(current.read, capacity)
    )
    if scalable.index is None:
        return TableChange(table=new)
    return TableChange(indexes=((scalable.index, new),))


def run_rounds(
    engine: AutoscaleEngine,
    rounds: int,
    wait: Callable[[float], None],
    report: Callable[[EngineDecision], None],
    *,
    every: float = 60.0,
) -> list[EngineDecision]:
    """``rounds`` rounds, ``every`` seconds apart (``wait`` lets the time pass)."""
    history: list[EngineDecision] = []
    for number in range(rounds):
        if number:
            wait(every)
        for decision in engine.round():
            report(decision)
            history.append(decision)
    return history


def table_scalables(
    tables: Sequence[Table], dimensions: Sequence[Dimension] = ("read", "write")
) -> list[Scalable]:
    """The dimensions of provisioned tables and of their provisioned GSIs, in order."""
    out: list[Scalable] = []
    for table in tables:
        if table.provisioned is None:
            continue
        out += [Scalable(table.name, d) for d in dimensions]
        for index in table.indexes:
            if index.provisioned is not None:
                out += [Scalable(table.name, d, index.name) for d in dimensions]
    return out
