"""Partition estimates for DynamoDB tables and GSIs — always an estimate, and said so.

DynamoDB does not report partition counts.  Three kinds of evidence give a lower bound:

* the historical formula (DynamoDB guide until 2018-04; docs/aws-rules.md#partitions):
  ``ceil(RCU/3000 + WCU/1000)`` for throughput, ``ceil(size/10 GB)`` for size, the larger of
  the two; an increase the current layout cannot serve *doubles* the partitions;
* ``WarmThroughput`` (since 2024-11): what the table serves instantly, which never decreases;
  a partition serves 3,000 read and 1,000 write units at once, so
  ``max(ceil(read/3000), ceil(write/1000))`` partitions at least;
* every estimate seen before for the same table or index: partitions never merge.

The estimate is the largest of these, with the evidence that set it (``basis``), so the
console can show *why* it believes a number.  Per-partition throughput is capacity divided
evenly: the dilution of field note C (docs/field-notes.md#partition-dilution) is
``today's capacity / partitions after a scale-up``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from capcon.core.model import Throughput, WarmThroughput
from capcon.core.rules import RuleSettings

ESTIMATE_LABEL = "estimated"


@dataclass(frozen=True, slots=True)
class PartitionEstimate:
    """An estimated partition count and the evidence behind it."""

    count: int
    basis: str
    by_throughput: int
    by_size: int
    by_warm: int | None = None
    previous: int | None = None
    #: the new capacity is within the warm throughput in every dimension: AWS serves it
    #: instantly with the partitions it has (docs/aws-rules.md#warm-throughput)
    within_warm: bool = False

    @property
    def label(self) -> str:
        return f"~{self.count} ({ESTIMATE_LABEL}, from {self.basis})"

    def per_partition(self, capacity: Throughput | None) -> tuple[float, float] | None:
        """Read and write units each partition gets when ``capacity`` is spread evenly."""
        if capacity is None:
            return None
        return capacity.read / self.count, capacity.write / self.count


def by_throughput(capacity: Throughput | None, rules: RuleSettings) -> int:
    if capacity is None:
        return 1
    return max(
        1,
        math.ceil(
            capacity.read / rules.read_units_per_partition
            + capacity.write / rules.write_units_per_partition
        ),
    )


def by_size(size_bytes: int, rules: RuleSettings) -> int:
    return max(1, math.ceil(size_bytes / rules.bytes_per_partition))


def by_warm_throughput(warm: WarmThroughput | None, rules: RuleSettings) -> int | None:
    if warm is None or (warm.read_units_per_second == 0 and warm.write_units_per_second == 0):
        return None
    return max(
        1,
        math.ceil(warm.read_units_per_second / rules.read_units_per_partition),
        math.ceil(warm.write_units_per_second / rules.write_units_per_partition),
    )


def estimate_partitions(
    capacity: Throughput | None,
    size_bytes: int,
    rules: RuleSettings,
    *,
    warm: WarmThroughput | None = None,
    previous: int | None = None,
) -> PartitionEstimate:
    """The partition estimate of a table or GSI as it stands now."""
    t = by_throughput(capacity, rules)
    s = by_size(size_bytes, rules)
    w = by_warm_throughput(warm, rules)
    candidates = [(t, "throughput"), (s, "size")]
    if w is not None:
        candidates.append((w, "warm throughput"))
    if previous is not None:
        candidates.append((previous, "an earlier estimate (partitions never merge)"))
    count, basis = max(candidates, key=lambda c: c[0])
    return PartitionEstimate(count, basis, t, s, w, previous)


def is_within_warm(capacity: Throughput | None, warm: WarmThroughput | None) -> bool:
    """Whether ``capacity`` is at or below the warm throughput in both dimensions."""
    if capacity is None or warm is None:
        return False
    if warm.read_units_per_second == 0 and warm.write_units_per_second == 0:
        return False  # no warm values reported
    return (
        capacity.read <= warm.read_units_per_second
        and capacity.write <= warm.write_units_per_second
    )


def raised_warm(warm: WarmThroughput, capacity: Throughput | None) -> WarmThroughput:
    """Warm throughput after provisioning ``capacity``: AWS raises each dimension to a new
    provisioned peak and never lowers one (warm-throughput-scenarios page)."""
    if capacity is None:
        return warm
    return WarmThroughput(
        max(warm.read_units_per_second, capacity.read),
        max(warm.write_units_per_second, capacity.write),
        warm.status,
    )


def after_warm_change(
    current: PartitionEstimate, warm: WarmThroughput, rules: RuleSettings
) -> PartitionEstimate:
    """The estimate after pre-warming to ``warm``: at least what the warm values need, per
    dimension (a partition serves 3,000 read and 1,000 write units at once)."""
    needed = by_warm_throughput(warm, rules)
    if needed is None or needed <= current.count:
        return current
    return PartitionEstimate(
        needed,
        "the pre-warmed throughput (per dimension)",
        current.by_throughput,
        current.by_size,
        needed,
        current.count,
    )


def after_capacity_change(
    current: PartitionEstimate,
    new_capacity: Throughput | None,
    size_bytes: int,
    rules: RuleSettings,
    *,
    warm: WarmThroughput | None = None,
) -> PartitionEstimate:
    """The estimate after changing capacity to ``new_capacity``.

    Partitions never merge, so a decrease keeps the count.  With a known warm throughput
    (``warm``) the estimate is per dimension: a change within the warm values keeps the
    partitions and is served instantly; beyond them AWS raises warm throughput to the new
    values, which need ``max(ceil(read/3000), ceil(write/1000))`` partitions.  Without one, an
    increase the current layout cannot serve splits partitions: DynamoDB's guide described it
    as doubling, so the count becomes the larger of twice the current one and what the
    formula needs.
    """
    if new_capacity is not None and warm is not None and by_warm_throughput(warm, rules):
        needed_warm = by_warm_throughput(raised_warm(warm, new_capacity), rules)
        assert needed_warm is not None
        sized = by_size(size_bytes, rules)
        within = is_within_warm(new_capacity, warm)
        count = max(current.count, sized, needed_warm)
        basis = current.basis
        if count > current.count:
            basis = (
                "warm throughput after the change (AWS raises it to the new capacity; "
                "per dimension)"
            )
        return PartitionEstimate(
            count,
            basis,
            by_throughput(new_capacity, rules),
            sized,
            needed_warm,
            current.count,
            within_warm=within,
        )
    needed = by_throughput(new_capacity, rules)
    sized = by_size(size_bytes, rules)
    if needed <= current.count and sized <= current.count:
        return PartitionEstimate(
            current.count,
            current.basis,
            needed,
            sized,
            current.by_warm,
            current.count,
        )
    if needed > current.count:
        count = max(needed, 2 * current.count, sized)
        basis = "throughput (each partition splits in two when the layout cannot serve it)"
    else:
        count, basis = sized, "size"
    return PartitionEstimate(count, basis, needed, sized, current.by_warm, current.count)


def split_above(
    capacity: Throughput | None, partitions: int, read: bool, rules: RuleSettings
) -> int | None:
    """The most units of one dimension ``partitions`` serve with the other unchanged: asking
    for more splits partitions, permanently (field note C,
    docs/field-notes.md#partition-dilution)."""
    if capacity is None:
        return None
    if read:
        per, other = (
            rules.read_units_per_partition,
            capacity.write / rules.write_units_per_partition,
        )
    else:
        per, other = rules.write_units_per_partition, capacity.read / rules.read_units_per_partition
    units = max(0, math.floor((partitions - other) * per))
    while units > 0 and by_throughput(with_units(capacity, units, read), rules) > partitions:
        units -= 1
    while by_throughput(with_units(capacity, units + 1, read), rules) <= partitions:
        units += 1
    return units


def with_units(capacity: Throughput, units: int, read: bool) -> Throughput:
    return Throughput(units, capacity.write) if read else Throughput(capacity.read, units)
