"""Requests: every change a user or a policy can ask for, as frozen values.

The planner turns a :data:`Change` (a table/GSI :class:`TableChange` or a stream
:class:`ShardChange`) into a plan or a refusal; :mod:`capcon.core.planning.autoscaling` does
the same for an :class:`AutoScalingChange`.  ``TableChange`` lives in the ports (the
``Actuator`` applies it) and is re-exported here so a request type is found in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from capcon.core.ports import (
    INDEX_READ,
    INDEX_WRITE,
    TABLE_READ,
    TABLE_WRITE,
    TableChange,
    resource_id,
)


@dataclass(frozen=True, slots=True)
class ShardChange:
    """``UpdateShardCount`` to ``target`` open shards, or the targeted split/merge plan."""

    target: int
    strategy: Literal["uniform", "targeted"] = "uniform"


Change = TableChange | ShardChange


Dimension = Literal["read", "write"]


def scalable_dimension(index: str | None, dimension: Dimension) -> str:
    if index is None:
        return TABLE_READ if dimension == "read" else TABLE_WRITE
    return INDEX_READ if dimension == "read" else INDEX_WRITE


def dimension_word(scalable: str) -> Dimension:
    return "read" if "Read" in scalable else "write"


@dataclass(frozen=True, slots=True)
class AutoScalingChange:
    """Set up, edit, or switch off auto scaling for one dimension of a table or GSI."""

    table: str
    index: str | None
    dimension: Dimension
    min_capacity: int = 1
    max_capacity: int = 1
    target: float = 70.0
    enabled: bool = True
    scale_in: bool = True

    @property
    def resource_id(self) -> str:
        return resource_id(self.table, self.index)

    @property
    def scalable_dimension(self) -> str:
        return scalable_dimension(self.index, self.dimension)

    @property
    def label(self) -> str:
        name = f"{self.table}/{self.index}" if self.index else self.table
        return f"{name} {self.dimension}s"


__all__ = [
    "AutoScalingChange",
    "Change",
    "Dimension",
    "ShardChange",
    "TableChange",
    "dimension_word",
    "scalable_dimension",
]
