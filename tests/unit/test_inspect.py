"""The inspection service: finding a resource, shard loads on demand, the planner's context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.model import HashRange, Shard, Stream, Throughput
from capcon.core.ports import MetricSeries
from capcon.core.rules import AccountCapacity, RuleSettings
from capcon.core.services.audit import AuditLog
from capcon.core.services.inspect import (
    NoSuchResource,
    find_resource,
    hottest_shard,
    live_context,
    shard_loads_from,
)

T = datetime(2026, 11, 23, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
HALF = 2**127


def two_shards() -> Stream:
    return Stream(
        "s",
        shards=(
            Shard("shardId-1", HashRange(HALF, 2**128 - 1)),
            Shard("shardId-0", HashRange(0, HALF - 1)),
            Shard("shardId-old", HashRange(0, 2**128 - 1), ending_sequence="9"),
        ),
    )


def minutes(n: int) -> tuple[datetime, ...]:
    return tuple(T + timedelta(minutes=i) for i in range(n))


def test_shard_loads_without_per_shard_metrics() -> None:
    stream = two_shards()
    loads = shard_loads_from(stream, {}, RULES)
    assert [s.shard_id for s in loads] == ["shardId-0", "shardId-1"]
    assert [s.share for s in loads] == [0.5, 0.5]
    assert all(s.load is None and not s.hot for s in loads)
    assert hottest_shard(loads) is None
    answers = {"sr0": MetricSeries("sr0", (T,), (54_000.0,))}  # 900 records/s
    loads = shard_loads_from(stream, answers, RULES)
    assert loads[0].load == 0.9 and loads[0].hot
    assert loads[1].load is None


def test_shard_load_is_demand_accepted_plus_throttled_records() -> None:
    """Shard 0 accepts more, shard 1 is refused more: on demand shard 1 is the hot one."""
    stream = two_shards()
    at = minutes(5)
    answers = {
        "sr0": MetricSeries("sr0", at, (54_000.0,) * 5),  # 900 rec/s accepted, none refused
        "sr1": MetricSeries("sr1", at, (42_000.0,) * 5),  # 700 rec/s accepted …
        "st1": MetricSeries("st1", at, (24_000.0,) * 5),  # … and 400 rec/s refused
    }
    loads = shard_loads_from(stream, answers, RULES)
    assert loads[0].load == pytest.approx(0.9)
    assert loads[1].records_per_second == pytest.approx(700)
    assert loads[1].throttled_per_second == pytest.approx(400)
    assert loads[1].load == pytest.approx(1.1)
    hottest = hottest_shard(loads)
    assert hottest is not None and hottest.shard_id == "shardId-1"


def test_a_minute_without_a_throttle_datapoint_had_no_throttling() -> None:
    """Throttles are counted in the minutes the accepted records are, 0 where CloudWatch
    published no throttle datapoint (it publishes them sparsely)."""
    stream = two_shards()
    at = minutes(6)
    answers = {
        "sr0": MetricSeries("sr0", at, (30_000.0,) * 6),  # 500 rec/s
        # one throttled minute among the newest five, one older than them
        "st0": MetricSeries("st0", (at[0], at[5]), (60_000.0, 6_000.0)),
    }
    (load, _) = shard_loads_from(stream, answers, RULES)
    assert load.throttled_per_second == pytest.approx(6_000 / (60 * 5))  # 20 rec/s
    assert load.load == pytest.approx((500 + 20) / 1_000)


def test_bytes_can_make_a_shard_hot() -> None:
    stream = two_shards()
    answers = {"sb0": MetricSeries("sb0", (T,), (60 * 950_000.0,))}  # 0.95 MB/s
    loads = shard_loads_from(stream, answers, RULES)
    assert loads[0].load == pytest.approx(0.95 * 1e6 / RULES.shard_write_bytes_per_second)


def simulated() -> SimAccount:
    acc = SimAccount(T)
    acc.add_table(TableSpec("orders", Throughput(100, 200), reads=Steady(5), writes=Steady(5)))
    acc.add_stream("clicks", shards=2, load=StreamLoad(Steady(300), 300.0))
    acc.advance(15 * 60)
    return acc


def test_find_resource_names_what_there_is() -> None:
    acc = simulated()
    assert find_resource(acc, "clicks")[1] is None
    with pytest.raises(NoSuchResource, match=r"'nope'.*tables: orders.*streams: clicks"):
        find_resource(acc, "nope")
    with pytest.raises(NoSuchResource, match="by-date"):
        find_resource(acc, "orders/by-date")


def test_live_context_takes_what_the_simulation_knows_exactly(tmp_path: Path) -> None:
    acc = simulated()
    acc.update_shard_count("clicks", 4)
    acc.advance(10 * 60)  # the new shards have published metrics
    audit = AuditLog(tmp_path / "audit.jsonl")
    stream, table = acc.describe_stream("clicks"), acc.describe_table("orders")
    known = live_context(acc, stream, RULES, PRICES, audit, acc.controls)
    assert known.reshard_history_complete and len(known.reshard_history) == 1
    used = acc.controls.provisioned_in_use()
    assert live_context(acc, table, RULES, PRICES, audit, acc.controls).account_capacity == (
        AccountCapacity(used.read, used.write)
    )
    assert used == Throughput(100, 200)
    # on AWS: the audit log's record (empty here), and the account quota left to AWS
    unknown = live_context(acc, stream, RULES, PRICES, audit)
    assert not unknown.reshard_history_complete and unknown.reshard_history == ()
    assert live_context(acc, table, RULES, PRICES, audit).account_capacity is None
    loads = known.stream_traffic.shard_loads if known.stream_traffic else {}
    assert set(loads) == {s.shard_id for s in stream.open_shards}
