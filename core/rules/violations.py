"""Violations: typed answers of the rule book, each with a human message and when it will
be allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Code(StrEnum):
    """What kind of rule a request breaks: stable identifiers for tests and ``--json``."""

    BELOW_MINIMUM = "below-minimum"
    ABOVE_RESOURCE_QUOTA = "above-resource-quota"
    ABOVE_ACCOUNT_QUOTA = "above-account-quota"
    DECREASE_BUDGET = "decrease-budget"
    RESOURCE_BUSY = "resource-busy"
    NO_CHANGE = "no-change"
    NOT_PROVISIONED = "not-provisioned"
    UNKNOWN_INDEX = "unknown-index"
    MODE_SWITCH_LIMIT = "mode-switch-limit"
    MISSING_CAPACITY = "missing-capacity"
    SHARD_FACTOR = "shard-factor"
    RESHARD_LIMIT = "reshard-limit"
    STREAM_SHARD_MAX = "stream-shard-max"
    ACCOUNT_SHARD_QUOTA = "account-shard-quota"
    WHOLE_REQUEST = "whole-request"
    WARM_DECREASE = "warm-decrease"
    NOT_ON_DEMAND = "not-on-demand"
    CLASS_SWITCH_LIMIT = "class-switch-limit"
    SEPARATE_REQUEST = "separate-request"
    #: a planned event's times: end before start, start in the past, too long or too far ahead
    EVENT_TIME = "event-time"
    #: a planned event that collides with one already scheduled on the same capacity
    EVENT_CONFLICT = "event-conflict"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which part of the request, a human message, and when it clears."""

    code: Code
    part: str
    message: str
    allowed_at: datetime | None = None


def part_label(table: str, index: str | None = None) -> str:
    return f"index {table}/{index}" if index else f"table {table}"


def whole_request(violations: Sequence[Violation], parts: Sequence[str]) -> list[Violation]:
    """Add the whole-request refusal when a multi-part ``UpdateTable`` has a broken part.

    AWS validates an ``UpdateTable`` as one request: one disallowed part (say a GSI decrease
    over budget) rejects every part, including increases that alone would be fine.
    """
    if not violations or len(parts) < 2:
        return list(violations)
    broken = {v.part for v in violations}
    fine = [p for p in parts if p not in broken]
    if not fine:
        return list(violations)
    return [
        *violations,
        Violation(
            Code.WHOLE_REQUEST,
            "request",
            "AWS rejects an UpdateTable as a whole: because of "
            + ", ".join(sorted(broken))
            + ", the change to "
            + ", ".join(fine)
            + " would not happen either; send it as a separate request",
        ),
    ]
