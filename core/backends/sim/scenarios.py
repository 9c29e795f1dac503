"""Scenarios for the simulated account: ``demo``, ``fleet:N,M`` and ``empty``.

``demo`` holds about a dozen lively resources covering what a user meets: field note B's
bell curve under auto scaling, a top-heavy spike that throttles, field note A's nightly load
with auto scaling, field note C's diluted table whose hot key throttles below capacity (the
field notes: docs/field-notes.md), an
on-demand table, a table with two GSIs (one too small, throttling the table's writes), an
over-provisioned table, the "registered but no policy" trap, a table with an upcoming planned
event (a flash sale: Application Auto Scaling scheduled actions raise its minimum ahead of the
spike and restore it after, :func:`plan_demo_event`), a stream near its shard limit, a
stream with a hot shard, an on-demand stream and a quiet one.  It starts with a few hours of
history, so charts are full at once.

``fleet:N,M`` generates N tables and M streams with varied, seeded traffic for benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import (
    Bell,
    DailySine,
    DaytimeReads,
    KeyDistribution,
    NightlyLoad,
    Pattern,
    RandomWalk,
    Spike,
    Steady,
    StreamLoad,
    TopHeavy,
)
from capcon.core.model import (
    Replica,
    ReplicaScaling,
    ScalingRange,
    StreamMode,
    TableClass,
    Throughput,
)
from capcon.core.planning.events import event_id
from capcon.core.planning.schedules import action_name
from capcon.core.ports import (
    READ_UTILIZATION,
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    at_schedule,
)
from capcon.core.rules import RuleSettings
from capcon.core.rules.timefmt import fmt_duration

GIB = 2**30
SCENARIOS = ("demo", "fleet:N,M", "empty")
DEMO_HISTORY = timedelta(hours=3)
#: The demo's planned event (a flash sale on table ``flash-sale``): it starts this long after
#: the demo's "now" and lasts ``DEMO_EVENT_LENGTH``; the raise is sent ``DEMO_EVENT_LEAD``
#: before the start (an update takes minutes; AAS runs a scheduled action within its minute).
DEMO_EVENT_TABLE = "flash-sale"
DEMO_EVENT_IN = timedelta(hours=1)
DEMO_EVENT_LENGTH = timedelta(minutes=45)
DEMO_EVENT_LEAD = timedelta(minutes=15)
DEMO_EVENT_PEAK_WPS = 600.0


class ScenarioError(ValueError):
    """An unknown or malformed scenario name."""


@dataclass(frozen=True)
class Looped(Pattern):
    """``pattern`` repeated every ``period_s`` seconds (a bell every two hours, say)."""

    pattern: Pattern
    period_s: float

    def sample(self, times: Sequence[float]) -> list[float]:
        period = self.period_s
        return self.pattern.sample([t % period for t in times])

    def describe(self) -> str:
        return f"{self.pattern.describe()} every {fmt_duration(self.period_s)}"


def _seconds_of_day(moment: datetime) -> int:
    moment = moment.astimezone(UTC)
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _aas(
    account: SimAccount,
    table: str,
    *,
    read: tuple[int, int] | None,
    write: tuple[int, int] | None,
    target: float = 70.0,
    policy: bool = True,
) -> None:
    rid = f"table/{table}"
    for dims, bounds, metric in (
        (TABLE_READ, read, READ_UTILIZATION),
        (TABLE_WRITE, write, WRITE_UTILIZATION),
    ):
        if bounds is None:
            continue
        account.register_scalable_target(ScalableTarget(rid, dims, bounds[0], bounds[1]))
        if policy:
            word = "Read" if dims == TABLE_READ else "Write"
            account.put_scaling_policy(
                ScalingPolicy(
                    f"{table}-{word.lower()}-tracking",
                    rid,
                    dims,
                    target_value=target,
                    predefined_metric=metric,
                )
            )


def demo(
    now: datetime,
    *,
    history: timedelta = DEMO_HISTORY,
    rules: RuleSettings | None = None,
    settings: SimSettings | None = None,
    aas_policy: str = "aas",
    speed: float = 1.0,
) -> SimAccount:
    """The demo account, with ``history`` already run so that its clock reads ``now``."""
    start = now - history
    account = SimAccount(
        start, rules=rules, settings=settings, aas_policy=aas_policy, speed=speed, scenario="demo"
    )
    day0 = _seconds_of_day(start)

    bell_writes = Looped(Bell(base=25, peak=300), 2 * 3600)
    account.add_table(
        TableSpec(
            "checkout",
            Throughput(200, 50),
            reads=bell_writes * 2,
            writes=bell_writes,
            size_bytes=3 * GIB,
            item_count=9_400_000,
        )
    )
    _aas(account, "checkout", read=(50, 2_000), write=(50, 2_000))

    account.add_table(
        TableSpec(
            "leaderboard",
            Throughput(300, 50),
            reads=Steady(120) + DailySine(mean=40, amplitude=30, start_of_day_s=day0),
            writes=Looped(TopHeavy(base=25, peak=300), 2.5 * 3600).shift(1800),
            size_bytes=GIB // 2,
            item_count=2_100_000,
        )
    )

    account.add_table(
        TableSpec(
            "recommendations",
            Throughput(40, 10),
            reads=DaytimeReads(night=4, day=180, start_of_day_s=day0),
            writes=NightlyLoad(base=2, load=800, start_hour=1.0, hours=3.0, start_of_day_s=day0),
            size_bytes=12 * GIB,
            item_count=41_000_000,
        )
    )
    _aas(account, "recommendations", read=(5, 1_000), write=(5, 2_000))

    account.add_table(
        TableSpec(
            "user-events",
            Throughput(600, 400),
            reads=Steady(220) + DailySine(mean=60, amplitude=50, start_of_day_s=day0),
            writes=Steady(190) + RandomWalk(start=60, step=0.04, minimum=10, maximum=160, seed=7),
            hot_share=0.15,
            size_bytes=48 * GIB,
            item_count=310_000_000,
            previous_partitions=40,  # once scaled to 40,000 WCU for a migration
        )
    )

    account.add_table(
        TableSpec(
            "sessions",
            None,
            reads=DailySine(mean=900, amplitude=500, start_of_day_s=day0),
            writes=DailySine(mean=300, amplitude=180, start_of_day_s=day0),
            size_bytes=2 * GIB,
            item_count=5_500_000,
        )
    )

    account.add_table(
        TableSpec(
            "orders",
            Throughput(500, 300),
            reads=Steady(180) + DailySine(mean=120, amplitude=100, start_of_day_s=day0),
            writes=Steady(90) + Looped(Spike(base=0, peak=220, at_s=2400, duration_s=900), 3600),
            size_bytes=20 * GIB,
            item_count=88_000_000,
            indexes=[
                IndexSpec("by-customer", Throughput(200, 400), Steady(90), 1.0, 6 * GIB),
                IndexSpec("by-status", Throughput(50, 60), Steady(20), 0.5, GIB),
            ],
        )
    )

    account.add_table(
        TableSpec(
            "audit-log",
            Throughput(100, 1_000),
            reads=Steady(3),
            writes=Steady(18) + DailySine(mean=6, amplitude=5, start_of_day_s=day0),
            size_bytes=140 * GIB,
            item_count=900_000_000,
        )
    )

    account.add_table(
        TableSpec(
            "inventory",
            Throughput(150, 80),
            reads=RandomWalk(start=110, step=0.05, minimum=40, maximum=280, seed=11),
            writes=RandomWalk(start=60, step=0.05, minimum=10, maximum=140, seed=12),
            size_bytes=GIB,
            item_count=700_000,
        )
    )
    # Field note A's trap (docs/field-notes.md#the-no-policy-trap): auto scaling registered,
    # but no policy, so nothing ever scales.
    _aas(account, "inventory", read=(50, 500), write=(50, 500), policy=False)

    # A global table (version 2019.11.21) of the Standard-IA class: storage-heavy, rarely
    # read, replicated to two other regions (docs/aws-rules.md#global-tables-and-table-classes).
    # Its write capacity is auto scaled, as AWS requires of a provisioned global table.
    replica_writes = ScalingRange(minimum=20, maximum=400, target=70.0)
    account.add_table(
        TableSpec(
            "shipment-archive",
            Throughput(40, 40),
            reads=Steady(6) + DailySine(mean=4, amplitude=3, start_of_day_s=day0),
            writes=Steady(12) + DailySine(mean=6, amplitude=5, start_of_day_s=day0),
            size_bytes=260 * GIB,
            item_count=1_900_000_000,
            table_class=TableClass.STANDARD_INFREQUENT_ACCESS,
            replicas=(
                Replica(
                    "eu-west-1",
                    read_override=20,
                    table_class=TableClass.STANDARD_INFREQUENT_ACCESS,
                ),
                Replica("ap-southeast-2", table_class=TableClass.STANDARD_INFREQUENT_ACCESS),
            ),
            replica_scaling=(
                ReplicaScaling("eu-west-1", write=replica_writes),
                ReplicaScaling("ap-southeast-2", write=replica_writes),
            ),
        )
    )
    _aas(account, "shipment-archive", read=None, write=(20, 400))

    # A planned event (docs/aws-rules.md#scheduled-actions): a flash sale an hour from "now"
    # whose writes jump from ~30/s to 600/s in a minute — a top-heavy spike that reactive
    # scaling meets minutes late.  Its scheduled actions are put once the history has run.
    event_start = now + DEMO_EVENT_IN
    account.add_table(
        TableSpec(
            DEMO_EVENT_TABLE,
            Throughput(100, 60),
            reads=Steady(40),
            writes=Steady(30)
            + Spike(
                base=0,
                peak=DEMO_EVENT_PEAK_WPS - 30,
                at_s=(event_start - start).total_seconds() - 60,
                duration_s=DEMO_EVENT_LENGTH.total_seconds() - 60,
            ),
            size_bytes=GIB,
            item_count=1_200_000,
        )
    )
    _aas(account, DEMO_EVENT_TABLE, read=(20, 500), write=(40, 2_000))

    account.add_stream(
        "clickstream",
        shards=4,
        load=StreamLoad(
            Steady(3_000) + DailySine(mean=300, amplitude=350, start_of_day_s=day0),
            record_bytes=1_000,
        ),
        consumers=2,
        efo_consumers=2,
    )
    account.add_stream(
        "payments",
        shards=4,
        load=StreamLoad(
            Steady(1_400) + Looped(Spike(base=0, peak=900, at_s=1200, duration_s=600), 3600),
            record_bytes=600,
            keys=KeyDistribution(hot_share=0.3),
        ),
        retention_hours=48,
    )
    account.add_stream(
        "telemetry",
        shards=4,
        mode=StreamMode.ON_DEMAND,
        load=StreamLoad(DailySine(mean=2_500, amplitude=1_500, start_of_day_s=day0), 400),
        consumers=3,
    )
    account.add_stream(
        "app-logs",
        shards=2,
        load=StreamLoad(Steady(150) + RandomWalk(start=80, seed=5, maximum=400), 2_000),
    )
    _run_history(account, history)
    for action in plan_demo_event(now):
        account.put_scheduled_action(action)
    return account


def plan_demo_event(now: datetime, target: float = 70.0) -> tuple[ScheduledAction, ...]:
    """The demo's flash sale as ``capcon event apply`` expresses it on a table with auto
    scaling: a scheduled action at the send time raising the writes' minimum to the peak
    (capacity for :data:`DEMO_EVENT_PEAK_WPS` at ``target`` %), and one at the end putting
    the original minimum and maximum back (AAS's own policy then scales in)."""
    start = now + DEMO_EVENT_IN
    end = start + DEMO_EVENT_LENGTH
    ident = event_id(DEMO_EVENT_TABLE, None, start, end)
    rid = f"table/{DEMO_EVENT_TABLE}"
    peak = -int(-DEMO_EVENT_PEAK_WPS * 100 // target)  # ceil
    return (
        ScheduledAction(
            action_name(ident, "raise", "write"),
            rid,
            TABLE_WRITE,
            at_schedule(start - DEMO_EVENT_LEAD),
            min_capacity=peak,
            max_capacity=max(2_000, peak),
        ),
        ScheduledAction(
            action_name(ident, "restore", "write"),
            rid,
            TABLE_WRITE,
            at_schedule(end),
            min_capacity=40,
            max_capacity=2_000,
        ),
    )


def fleet(
    now: datetime,
    tables: int,
    streams: int,
    *,
    seed: int = 0,
    history: timedelta = timedelta(0),
    rules: RuleSettings | None = None,
    settings: SimSettings | None = None,
    speed: float = 1.0,
) -> SimAccount:
    """``tables`` tables and ``streams`` streams with varied, seeded traffic."""
    start = now - history
    rng = random.Random(seed)
    big_rules = rules or RuleSettings(
        account_max_read_units=10**9, account_max_write_units=10**9, account_shard_quota=10**6
    )
    account = SimAccount(
        start, rules=big_rules, settings=settings, speed=speed, scenario=f"fleet:{tables},{streams}"
    )
    day0 = _seconds_of_day(start)
    width = len(str(max(tables, streams, 1)))
    for i in range(tables):
        mean_w = rng.choice((5, 20, 50, 150, 400))
        mean_r = mean_w * rng.choice((1, 2, 5))
        on_demand = rng.random() < 0.1
        writes = DailySine(
            mean=mean_w, amplitude=mean_w * 0.6, peak_hour=rng.uniform(0, 24), start_of_day_s=day0
        )
        reads = RandomWalk(start=mean_r, step=0.03, maximum=mean_r * 3, seed=seed * 100_003 + i)
        headroom = rng.choice((0.8, 1.2, 1.6, 3.0))
        capacity = (
            None
            if on_demand
            else Throughput(
                max(1, round(mean_r * 1.6 * headroom)), max(1, round(mean_w * 1.6 * headroom))
            )
        )
        account.add_table(
            TableSpec(
                f"table-{i:0{width}d}",
                capacity,
                reads=reads,
                writes=writes,
                size_bytes=rng.randrange(1, 200) * GIB // 4,
            )
        )
    for i in range(streams):
        shards = rng.choice((1, 2, 4, 8))
        records = shards * rng.choice((150, 400, 700, 900))
        account.add_stream(
            f"stream-{i:0{width}d}",
            shards=shards,
            load=StreamLoad(
                DailySine(mean=records, amplitude=records * 0.3, start_of_day_s=day0),
                record_bytes=rng.choice((200, 500, 1_000)),
            ),
            shard_metrics=False,
        )
    _run_history(account, history)
    return account


def _run_history(account: SimAccount, history: timedelta) -> None:
    seconds = int(history.total_seconds())
    if seconds:
        account.advance(seconds, resolution=10)


def build_scenario(
    spec: str,
    now: datetime,
    *,
    seed: int = 0,
    history: timedelta | None = None,
    rules: RuleSettings | None = None,
    settings: SimSettings | None = None,
    aas_policy: str = "aas",
    speed: float = 1.0,
) -> SimAccount:
    """The account for a scenario name: ``demo``, ``fleet:N,M`` or ``empty``."""
    name = spec.strip()
    if name == "demo":
        return demo(
            now,
            history=DEMO_HISTORY if history is None else history,
            rules=rules,
            settings=settings,
            aas_policy=aas_policy,
            speed=speed,
        )
    if name == "empty":
        return SimAccount(now, rules=rules, settings=settings, aas_policy=aas_policy, speed=speed)
    if name.startswith("fleet:"):
        try:
            n_text, m_text = name.removeprefix("fleet:").split(",")
            tables, streams = int(n_text), int(m_text)
        except ValueError:
            raise ScenarioError(
                f"scenario {spec!r}: write fleet:N,M (N tables, M streams), e.g. fleet:1000,200"
            ) from None
        if not (0 <= tables <= 20_000 and 0 <= streams <= 5_000):
            raise ScenarioError(
                f"scenario {spec!r}: fleet allows 0…20,000 tables and 0…5,000 streams"
            )
        return fleet(
            now,
            tables,
            streams,
            seed=seed,
            history=timedelta(0) if history is None else history,
            rules=rules,
            settings=settings,
            speed=speed,
        )
    raise ScenarioError(f"unknown scenario {spec!r} (known: {', '.join(SCENARIOS)})")
