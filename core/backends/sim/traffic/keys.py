"""Hot keys: how traffic spreads over the hash-key space, and over a stream's shards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from capcon.core.backends.sim.traffic.patterns import Pattern, TrafficError, _finite, _num
from capcon.core.model import HASH_KEY_SPACE, HashRange

# --------------------------------------------------------------------------- hot keys


@dataclass(frozen=True, slots=True)
class KeyDistribution:
    """How traffic spreads over the 128-bit hash-key space.

    ``1 − hot_share`` of the traffic is spread uniformly over the key space; ``hot_share``
    goes to the single key ``hot_key`` (for a table: one hot partition key, whose hash lands
    at ``hot_key``).  ``KeyDistribution()`` is uniform.
    """

    hot_share: float = 0.0
    hot_key: int = HASH_KEY_SPACE // 3

    def __post_init__(self) -> None:
        _finite("keys", "hot_share", self.hot_share)
        if not 0 <= self.hot_share <= 1:
            raise TrafficError(f"keys: hot_share must be in 0 … 1, not {self.hot_share!r}")
        if isinstance(self.hot_key, bool) or not isinstance(self.hot_key, int):
            raise TrafficError(f"keys: hot_key must be an integer hash key, not {self.hot_key!r}")
        if not 0 <= self.hot_key < HASH_KEY_SPACE:
            raise TrafficError(f"keys: hot_key must be in 0 … 2**128 − 1, not {self.hot_key}")

    @classmethod
    def uniform(cls) -> KeyDistribution:
        """No hot key: traffic spread evenly over the key space."""
        return cls()

    @property
    def partition_hot_share(self) -> float:
        """Share of a table's traffic on its hottest partition key (``hot_share``)."""
        return self.hot_share

    def shard_shares(self, ranges: Sequence[HashRange]) -> list[float]:
        """Each range's share of the traffic: uniform part, plus ``hot_share`` for the range
        holding ``hot_key`` (the first one, if ranges overlap).  Sums to 1 when the ranges
        partition the key space; traffic on keys no range covers is lost (sum < 1)."""
        uniform = 1.0 - self.hot_share
        shares = [uniform * r.share for r in ranges]
        if self.hot_share:
            key = self.hot_key
            for i, r in enumerate(ranges):
                if r.start <= key <= r.end:
                    shares[i] += self.hot_share
                    break
        return shares

    def hot_partition(self, partitions: int) -> int:
        """Index of the partition holding ``hot_key`` when ``partitions`` split the key
        space evenly (DynamoDB hashes partition keys over its partitions)."""
        if partitions < 1:
            raise TrafficError(f"keys: partitions must be ≥ 1, not {partitions}")
        return self.hot_key * partitions // HASH_KEY_SPACE

    def partition_shares(self, partitions: int) -> list[float]:
        """Each of ``partitions`` even partitions' share of a table's traffic (sums to 1)."""
        hot = self.hot_partition(partitions)
        shares = [(1.0 - self.hot_share) / partitions] * partitions
        shares[hot] += self.hot_share
        return shares

    def hottest_partition_share(self, partitions: int) -> float:
        """Share of the traffic on the busiest of ``partitions`` even partitions."""
        return (1.0 - self.hot_share) / max(1, partitions) + self.hot_share

    def describe(self) -> str:
        if not self.hot_share:
            return "uniform keys"
        return f"hot key: {_num(self.hot_share * 100)}% of traffic on one key"


@dataclass(frozen=True, slots=True)
class StreamLoad:
    """What producers put on a Kinesis stream: records per second, bytes per record, keys."""

    records: Pattern
    record_bytes: float = 1024.0
    keys: KeyDistribution = field(default_factory=KeyDistribution)

    def __post_init__(self) -> None:
        if not isinstance(self.records, Pattern):
            raise TrafficError(f"stream load: records must be a Pattern, not {self.records!r}")
        _finite("stream load", "record_bytes", self.record_bytes)
        if self.record_bytes <= 0:
            raise TrafficError(
                f"stream load: record_bytes must be > 0 bytes, not {self.record_bytes!r}"
            )

    def records_rate(self, t: float) -> float:
        """Records per second at ``t``."""
        return self.records.rate(t)

    def bytes_rate(self, t: float) -> float:
        """Bytes per second at ``t``."""
        return self.records.rate(t) * self.record_bytes

    def records_rates(self, t0: float, n: int, dt: float = 1.0) -> list[float]:
        return self.records.rates(t0, n, dt)

    def bytes_rates(self, t0: float, n: int, dt: float = 1.0) -> list[float]:
        size = float(self.record_bytes)
        return [r * size for r in self.records.rates(t0, n, dt)]

    def shard_shares(self, ranges: Sequence[HashRange]) -> list[float]:
        """Each shard's share of the records (see :meth:`KeyDistribution.shard_shares`)."""
        return self.keys.shard_shares(ranges)

    def describe(self) -> str:
        return (
            f"{self.records.describe()} records of {_num(self.record_bytes)} B, "
            f"{self.keys.describe()}"
        )
