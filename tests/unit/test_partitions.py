"""Partition estimates: the formula, size, warm throughput, memory, doubling, dilution."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.model import Throughput, WarmThroughput
from capcon.core.planning.partitions import (
    after_capacity_change,
    by_throughput,
    by_warm_throughput,
    estimate_partitions,
)
from capcon.core.rules import RuleSettings

RULES = RuleSettings()
GIB = 2**30


def test_historical_formula() -> None:
    assert by_throughput(Throughput(3_000, 1_000), RULES) == 2
    assert by_throughput(Throughput(1_200, 400), RULES) == 1
    assert by_throughput(Throughput(1, 1), RULES) == 1
    assert by_throughput(Throughput(6_000, 2_001), RULES) == 5
    assert by_throughput(None, RULES) == 1


def test_size_can_dominate() -> None:
    est = estimate_partitions(Throughput(100, 100), 35 * GIB, RULES)
    assert (est.count, est.basis) == (4, "size")


def test_warm_throughput_is_a_floor() -> None:
    warm = WarmThroughput(read_units_per_second=12_000, write_units_per_second=4_000)
    assert by_warm_throughput(warm, RULES) == 4
    est = estimate_partitions(Throughput(10, 10), 0, RULES, warm=warm)
    assert (est.count, est.basis) == (4, "warm throughput")
    assert "estimated" in est.label


def test_never_lower_than_an_earlier_estimate() -> None:
    est = estimate_partitions(Throughput(100, 200), 0, RULES, previous=12)
    assert est.count == 12
    assert "never merge" in est.basis
    assert est.per_partition(Throughput(1_200, 240)) == (100.0, 20.0)


def test_increase_beyond_layout_doubles() -> None:
    before = estimate_partitions(Throughput(3_000, 3_000), 0, RULES)  # 4 partitions
    assert before.count == 4
    after = after_capacity_change(before, Throughput(3_000, 3_500), 0, RULES)  # needs 5
    assert after.count == 8
    huge = after_capacity_change(before, Throughput(3_000, 20_000), 0, RULES)  # needs 21
    assert huge.count == 21


def test_decrease_keeps_partitions_and_dilutes() -> None:
    before = estimate_partitions(Throughput(1_200, 400), 0, RULES)
    spike = after_capacity_change(before, Throughput(1_200, 4_000), 0, RULES)
    assert spike.count == 5
    back = after_capacity_change(spike, Throughput(1_200, 400), 0, RULES)
    assert back.count == 5
    # Field note C (docs/field-notes.md#partition-dilution): the same capacity, five times
    # thinner per partition.
    assert back.per_partition(Throughput(1_200, 400)) == (240.0, 80.0)
    assert before.per_partition(Throughput(1_200, 400)) == (1_200.0, 400.0)


def test_increase_within_layout_keeps_count() -> None:
    before = estimate_partitions(Throughput(100, 100), 0, RULES, previous=8)
    after = after_capacity_change(before, Throughput(3_000, 3_000), 0, RULES)
    assert after.count == 8


capacities = st.builds(Throughput, st.integers(1, 40_000), st.integers(1, 40_000))


@settings(max_examples=300, deadline=None)
@given(start=capacities, changes=st.lists(capacities, max_size=8), size=st.integers(0, 500 * GIB))
def test_estimates_never_decrease(start: Throughput, changes: list[Throughput], size: int) -> None:
    est = estimate_partitions(start, size, RULES)
    for capacity in changes:
        nxt = after_capacity_change(est, capacity, size, RULES)
        assert nxt.count >= est.count
        assert nxt.count >= by_throughput(capacity, RULES)
        est = nxt


@settings(max_examples=200, deadline=None)
@given(
    capacity=capacities,
    size=st.integers(0, 500 * GIB),
    previous=st.none() | st.integers(1, 400),
    warm=st.none() | st.builds(WarmThroughput, st.integers(0, 100_000), st.integers(0, 100_000)),
)
def test_estimate_is_the_largest_evidence(
    capacity: Throughput, size: int, previous: int | None, warm: WarmThroughput | None
) -> None:
    est = estimate_partitions(capacity, size, RULES, warm=warm, previous=previous)
    evidence = [est.by_throughput, est.by_size]
    if est.by_warm is not None:
        evidence.append(est.by_warm)
    if previous is not None:
        evidence.append(previous)
    assert est.count == max(evidence)
