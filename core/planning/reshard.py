"""Reshard planning for Kinesis streams: the geometry and the timeline of a shard-count change.

Two strategies, side by side, because field note C says the choice matters
(docs/field-notes.md#kinesis-scaling-done-right):

* :func:`uniform_plan` is what ``UpdateShardCount(ScalingType=UNIFORM_SCALING)`` ends with:
  ``target`` open shards of equal width.  AWS runs its own internal split/merge sequence and
  does not publish it, so the steps here are **capcon's estimate** of the work, derived from
  the stream's *current* open shards (which may be uneven): split every current shard at each
  final boundary strictly inside it, and merge the pieces of each final range pairwise as soon
  as they exist.  Doubling and halving a uniform stream leave no short-lived shards; other
  targets (4 → 6) create shards that are closed again within the same change.
* :func:`targeted_plan` is the alternative of field note C: split the hottest (or, without
  loads, the widest) shard at the middle of its hash range, or merge the coolest (narrowest)
  adjacent pair, one ``SplitShard`` / ``MergeShards`` at a time.

Both return a :class:`ReshardPlan` that counts everything the rules and the preview need: the
shards created and closed (short-lived ones included: they count against the account shard
quota while open), the peak number of open shards during the sequence, the final ranges, and
until when the closed shards stay readable.  The rule checks themselves (½…2×, 10 per 24 h,
quotas) live in :mod:`capcon.core.rules`; this module only does geometry.

Shards the plan creates have no id yet: they are labelled ``new-1``, ``new-2`` … in creation
order, and later steps refer to them by those labels.  An executor maps each label to the id
AWS assigns when the step completes; :func:`replay` checks a step sequence the same way.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from capcon.core.model import HASH_KEY_MAX, HASH_KEY_SPACE, HashRange, Shard, Stream

__all__ = [
    "ReshardError",
    "ReshardPlan",
    "ReshardStep",
    "covers",
    "fastest_targets",
    "replay",
    "shard_id",
    "targeted_plan",
    "uniform_plan",
    "uniform_ranges",
    "uniform_shards",
    "validate_cover",
]

Strategy = Literal["uniform", "targeted"]
StepKind = Literal["split", "merge"]


class ReshardError(ValueError):
    """A reshard cannot be planned or replayed as asked; the message says why."""


def _pct(key: int) -> str:
    """A hash key as a percentage of the key space, for humans (``42.5%``)."""
    return f"{key * 100 / HASH_KEY_SPACE:.1f}%"


def _span(r: HashRange) -> str:
    return f"{_pct(r.start)}–{_pct(r.end + 1)}"


@dataclass(frozen=True, slots=True)
class ReshardStep:
    """One ``SplitShard`` or ``MergeShards`` call.

    ``closes`` names the shards the step closes: real shard ids for shards open before the
    plan, ``new-N`` labels for shards an earlier step of the same plan created.  ``creates``
    holds the new hash ranges (two for a split, left then right; one for a merge) and
    ``created_labels`` the labels later steps use for them.  ``new_starting_hash_key`` is
    what ``SplitShard`` takes (the first key of the right child); ``None`` for a merge.
    ``reason`` says why the step was chosen (targeted plans), empty otherwise.
    """

    kind: StepKind
    closes: tuple[str, ...]
    creates: tuple[HashRange, ...]
    created_labels: tuple[str, ...]
    new_starting_hash_key: int | None = None
    reason: str = ""

    def describe(self) -> str:
        """One human line, e.g. ``split shardId-000000000001 at 42.5% of the key space``."""
        if self.kind == "split":
            key = self.new_starting_hash_key
            at = _pct(key) if key is not None else "?"
            line = f"split {self.closes[0]} at {at} of the key space"
        else:
            line = f"merge {' + '.join(self.closes)} ({_span(self.creates[0])} of the key space)"
        line += f" → {', '.join(self.created_labels)}"
        return f"{line} ({self.reason})" if self.reason else line


@dataclass(frozen=True, slots=True)
class ReshardPlan:
    """A reshard from ``current_open`` to ``target_open`` open shards, step by step.

    * ``target_open`` is what the plan *reaches*; ``requested_target`` what was asked.  They
      differ only for a targeted shrink that found no pair cool enough to merge
      (``reached_target`` is then ``False`` and ``notes`` says why).
    * ``shards_created`` / ``shards_closed`` list every shard created / closed, short-lived
      ones included; ``short_lived`` are those created *and* closed within the plan;
      ``existing_closed`` the ids of currently open shards the plan closes.
    * ``peak_open`` is the most shards open at any moment of the sequence: the account shard
      quota must cover it (short-lived shards count).
    * ``final_ranges`` / ``final_labels`` are the open shards at the end, by hash range.
    * ``closed_readable_until`` is ``now`` + the stream's retention: closed shards stay readable
      (CLOSED) for the retention period, then expire.  Counted from the start of the change;
      shards closed later in the sequence expire correspondingly later.
    * ``loads_before`` / ``loads_after`` (aligned with the open shards by hash range) and the
      ``max_load_*`` values are utilisation of one shard's write limit (1.0 = at the limit),
      assuming load is spread evenly over each shard's hash range; ``None`` without loads.
    * ``estimate`` is ``True`` when AWS chooses the real steps (uniform scaling).
    """

    strategy: Strategy
    stream_name: str
    current_open: int
    requested_target: int
    target_open: int
    reached_target: bool
    steps: tuple[ReshardStep, ...]
    shards_created: tuple[str, ...]
    shards_closed: tuple[str, ...]
    short_lived: tuple[str, ...]
    existing_closed: tuple[str, ...]
    peak_open: int
    final_ranges: tuple[HashRange, ...]
    final_labels: tuple[str, ...]
    closed_readable_until: datetime
    estimate: bool
    loads_before: tuple[float | None, ...] | None = None
    loads_after: tuple[float | None, ...] | None = None
    max_load_before: float | None = None
    max_load_after: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_noop(self) -> bool:
        return not self.steps

    @property
    def split_count(self) -> int:
        return sum(1 for s in self.steps if s.kind == "split")

    @property
    def merge_count(self) -> int:
        return sum(1 for s in self.steps if s.kind == "merge")

    def describe(self) -> tuple[str, ...]:
        """The steps as numbered human lines."""
        return tuple(f"{i}. {step.describe()}" for i, step in enumerate(self.steps, 1))


# --- hash-key geometry -------------------------------------------------------------------


def uniform_ranges(count: int) -> tuple[HashRange, ...]:
    """``count`` equal ranges: boundaries at floor(k × 2**128 / count), as AWS lays them out."""
    if count < 1 or count > HASH_KEY_SPACE:
        raise ReshardError(f"a stream needs between 1 and 2**128 shards, not {count}")
    starts = [k * HASH_KEY_SPACE // count for k in range(count)]
    ends = [s - 1 for s in starts[1:]] + [HASH_KEY_MAX]
    return tuple(HashRange(s, e) for s, e in zip(starts, ends, strict=True))


def shard_id(index: int) -> str:
    """An AWS-style shard id: ``shardId-000000000007``."""
    return f"shardId-{index:012d}"


def uniform_shards(count: int, first_index: int = 0) -> tuple[Shard, ...]:
    """``count`` open shards of equal width with AWS-style ids from ``first_index`` on."""
    return tuple(Shard(shard_id(first_index + i), r) for i, r in enumerate(uniform_ranges(count)))


def _cover_problem(ranges: Iterable[HashRange]) -> str | None:
    ordered = sorted(ranges)
    if not ordered:
        return "no ranges: the hash-key space 0…2**128−1 is not covered"
    for r in ordered:
        if r.start < 0 or r.end > HASH_KEY_MAX or r.start > r.end:
            return f"range {r.start}…{r.end} is empty or outside 0…2**128−1"
    if ordered[0].start != 0:
        return f"gap at the start: keys 0…{ordered[0].start - 1} are not covered"
    for a, b in pairwise(ordered):
        if b.start <= a.end:
            return f"overlap: {a.start}…{a.end} and {b.start}…{b.end} share keys"
        if b.start > a.end + 1:
            return f"gap: keys {a.end + 1}…{b.start - 1} are not covered"
    if ordered[-1].end != HASH_KEY_MAX:
        return f"gap at the end: keys {ordered[-1].end + 1}…2**128−1 are not covered"
    return None


def validate_cover(ranges: Iterable[HashRange]) -> None:
    """Raise :class:`ReshardError` unless ``ranges`` cover 0…2**128−1 with no gap or overlap."""
    problem = _cover_problem(ranges)
    if problem is not None:
        raise ReshardError(problem)


def covers(ranges: Iterable[HashRange]) -> bool:
    """Whether ``ranges`` cover 0…2**128−1 exactly once (no gap, no overlap)."""
    return _cover_problem(ranges) is None


def fastest_targets(current: int) -> tuple[int, ...]:
    """Targets between ½× and 2× ``current`` that are multiples of 25% of it (AWS: fastest)."""
    return tuple(
        current * q // 4
        for q in range(2, 9)
        if q != 4 and current * q % 4 == 0 and current * q // 4 >= 1
    )


def replay(
    open_ranges: Mapping[str, HashRange], steps: Iterable[ReshardStep]
) -> dict[str, HashRange]:
    """Apply ``steps`` to the open shards ``open_ranges`` (label → range) and return the result.

    Raises :class:`ReshardError` on the first step AWS would refuse or that does not match its
    own description: closing a shard that is not open, a split key not strictly inside the
    parent, children that do not cover the parent, merging ranges that are not adjacent, or
    reusing a label.
    """
    state = dict(open_ranges)
    seen = set(state)
    for n, step in enumerate(steps, 1):
        where = f"step {n} ({step.kind})"
        for label in step.closes:
            if label not in state:
                raise ReshardError(f"{where}: {label} is not an open shard")
        if len(step.creates) != len(step.created_labels):
            raise ReshardError(
                f"{where}: {len(step.creates)} ranges but labels for {len(step.created_labels)}"
            )
        for label in step.created_labels:
            if label in seen:
                raise ReshardError(f"{where}: label {label} is already used")
        if step.kind == "split":
            if len(step.closes) != 1 or len(step.creates) != 2:
                raise ReshardError(f"{where}: a split closes one shard and creates two")
            parent = state[step.closes[0]]
            key = step.new_starting_hash_key
            if key is None or not parent.start < key <= parent.end:
                raise ReshardError(
                    f"{where}: split key {key} is not strictly inside {parent.start}…{parent.end}"
                )
            expected: tuple[HashRange, ...] = (
                HashRange(parent.start, key - 1),
                HashRange(key, parent.end),
            )
        else:
            if len(step.closes) != 2 or len(step.creates) != 1:
                raise ReshardError(f"{where}: a merge closes two shards and creates one")
            a, b = sorted(state[label] for label in step.closes)
            if a.end + 1 != b.start:
                raise ReshardError(f"{where}: {' and '.join(step.closes)} are not adjacent")
            expected = (HashRange(a.start, b.end),)
        if step.creates != expected:
            raise ReshardError(f"{where}: creates {step.creates}, expected {expected}")
        for label in step.closes:
            del state[label]
        for label, r in zip(step.created_labels, step.creates, strict=True):
            state[label] = r
            seen.add(label)
    return state


# --- the step builder shared by both strategies ------------------------------------------


class _Builder:
    """Records split/merge steps on a working set of open shards and counts everything."""

    def __init__(self, shards: Sequence[Shard], loads: Mapping[str, float] | None) -> None:
        self.ranges: dict[str, HashRange] = {s.shard_id: s.hash_range for s in shards}
        self.has_loads = loads is not None
        self.load: dict[str, float | None] = {
            s.shard_id: (None if loads is None else loads.get(s.shard_id)) for s in shards
        }
        self.initial_load = dict(self.load)
        self.existing = frozenset(self.ranges)
        self.steps: list[ReshardStep] = []
        self.created: list[str] = []
        self.closed: list[str] = []
        self.open_count = len(shards)
        self.peak = self.open_count
        self._next = 1

    def _label(self) -> str:
        label = f"new-{self._next}"
        self._next += 1
        return label

    def _close(self, label: str) -> None:
        del self.ranges[label]
        del self.load[label]
        self.closed.append(label)

    def _open(self, r: HashRange, load: float | None) -> str:
        label = self._label()
        self.ranges[label] = r
        self.load[label] = load
        self.created.append(label)
        return label

    def split(self, label: str, key: int, reason: str = "") -> tuple[str, str]:
        parent = self.ranges[label]
        if not parent.start < key <= parent.end:
            raise ReshardError(f"cannot split {label}: key {key} is not strictly inside it")
        left_r, right_r = HashRange(parent.start, key - 1), HashRange(key, parent.end)
        load = self.load[label]
        self._close(label)
        # Load is assumed spread evenly over the hash range: children get it pro rata.
        left = self._open(left_r, None if load is None else load * left_r.width / parent.width)
        right = self._open(right_r, None if load is None else load * right_r.width / parent.width)
        self.steps.append(
            ReshardStep("split", (label,), (left_r, right_r), (left, right), key, reason)
        )
        self.open_count += 1
        self.peak = max(self.peak, self.open_count)
        return left, right

    def merge(self, a: str, b: str, reason: str = "") -> str:
        ra, rb = self.ranges[a], self.ranges[b]
        if ra.start > rb.start:
            a, b, ra, rb = b, a, rb, ra
        if ra.end + 1 != rb.start:
            raise ReshardError(f"cannot merge {a} and {b}: their hash ranges are not adjacent")
        la, lb = self.load[a], self.load[b]
        merged_r = HashRange(ra.start, rb.end)
        self._close(a)
        self._close(b)
        merged = self._open(merged_r, None if la is None or lb is None else la + lb)
        self.steps.append(ReshardStep("merge", (a, b), (merged_r,), (merged,), None, reason))
        self.open_count -= 1
        return merged

    def ordered(self) -> list[tuple[str, HashRange, float | None]]:
        return sorted(
            ((label, r, self.load[label]) for label, r in self.ranges.items()),
            key=lambda item: item[1],
        )

    def plan(
        self,
        strategy: Strategy,
        stream: Stream,
        *,
        before: Sequence[Shard],
        requested: int,
        now: datetime,
        notes: list[str],
        estimate: bool,
    ) -> ReshardPlan:
        final = self.ordered()
        created = tuple(self.created)
        closed = tuple(self.closed)
        closed_set = set(closed)
        short_lived = tuple(label for label in created if label in closed_set)
        existing_closed = tuple(label for label in closed if label in self.existing)
        readable_until = now + timedelta(hours=stream.retention_hours)
        loads_before: tuple[float | None, ...] | None = None
        loads_after: tuple[float | None, ...] | None = None
        max_before = max_after = None
        if self.has_loads:
            loads_before = tuple(self.initial_load[s.shard_id] for s in before)
            loads_after = tuple(load for _, _, load in final)
            max_before = _max_known(loads_before)
            max_after = _max_known(loads_after)
            unknown = [
                s.shard_id for s, load in zip(before, loads_before, strict=True) if load is None
            ]
            if unknown:
                never = "; never merged" if strategy == "targeted" else ""
                notes.append(
                    f"No load given for {', '.join(unknown)}: not counted in the load "
                    f"estimates{never}."
                )
        if closed:
            notes.append(
                f"{len(closed)} closed shard(s) stay readable (CLOSED) for the stream's "
                f"{stream.retention_hours} h retention, until about "
                f"{readable_until:%Y-%m-%d %H:%M} {readable_until.tzname() or ''}".rstrip()
                + ", then expire."
            )
        return ReshardPlan(
            strategy=strategy,
            stream_name=stream.name,
            current_open=len(before),
            requested_target=requested,
            target_open=len(final),
            reached_target=len(final) == requested,
            steps=tuple(self.steps),
            shards_created=created,
            shards_closed=closed,
            short_lived=short_lived,
            existing_closed=existing_closed,
            peak_open=self.peak,
            final_ranges=tuple(r for _, r, _ in final),
            final_labels=tuple(label for label, _, _ in final),
            closed_readable_until=readable_until,
            estimate=estimate,
            loads_before=loads_before,
            loads_after=loads_after,
            max_load_before=max_before,
            max_load_after=max_after,
            notes=tuple(notes),
        )


def _max_known(loads: Iterable[float | None]) -> float | None:
    known = [load for load in loads if load is not None]
    return max(known) if known else None


def _check_inputs(
    stream: Stream, target: int, loads: Mapping[str, float] | None
) -> tuple[Shard, ...]:
    if isinstance(target, bool) or not isinstance(target, int) or target < 1:
        raise ReshardError(f"target must be a whole number of shards ≥ 1, not {target!r}")
    current = stream.open_shards
    if not current:
        raise ReshardError(f"stream {stream.name} has no open shards to reshard")
    problem = _cover_problem(s.hash_range for s in current)
    if problem is not None:
        raise ReshardError(
            f"the open shards of {stream.name} do not cover the key space: {problem}"
        )
    if loads is not None:
        for sid, load in loads.items():
            if not math.isfinite(load) or load < 0:
                raise ReshardError(f"load of {sid} must be a finite number ≥ 0, not {load!r}")
    return current


# --- uniform scaling ---------------------------------------------------------------------


def uniform_plan(
    stream: Stream,
    target: int,
    now: datetime,
    loads: Mapping[str, float] | None = None,
) -> ReshardPlan:
    """Estimate the work of ``UpdateShardCount(TargetShardCount=target, UNIFORM_SCALING)``.

    The end state is AWS's: ``target`` equal ranges (:func:`uniform_ranges`).  The steps are
    capcon's estimate from the current open shards, left to right: split each current shard at
    every final boundary strictly inside it; a piece that completes a final range is merged
    into the pieces of that range at once, so at most one final range is ever half-assembled
    and ``peak_open`` stays low.  ``loads`` (shard id → utilisation) are optional and only
    feed the load estimates.
    """
    current = _check_inputs(stream, target, loads)
    final = uniform_ranges(target)
    builder = _Builder(current, loads)

    if tuple(s.hash_range for s in current) != final:
        fi = 0  # the final range being assembled
        acc: str | None = None  # the assembled left part of final[fi], if any
        for shard in current:
            label = shard.shard_id
            while True:
                f = final[fi]
                r = builder.ranges[label]
                # r starts inside f: at f.start when acc is None, right after acc otherwise.
                last_piece = r.end <= f.end
                if last_piece:
                    piece = label
                else:
                    piece, label = builder.split(label, f.end + 1)
                acc = piece if acc is None else builder.merge(acc, piece)
                if builder.ranges[acc].end == f.end:
                    fi += 1
                    acc = None
                if last_piece:
                    break

    if builder.steps:
        notes = [
            "Estimate: AWS runs its own split/merge sequence for UpdateShardCount; these steps "
            "are capcon's estimate of the work, from the current open shards to the uniform "
            "end state.",
        ]
    else:
        notes = [f"The {target} open shards are already uniform: nothing to do."]
    n = len(current)
    fastest = fastest_targets(n)
    if target != n and target not in fastest:
        listed = ", ".join(str(t) for t in fastest) or "none between ½× and 2×"
        notes.append(
            f"AWS recommends targets at multiples of 25% of the current {n} shards as the "
            f"fastest (here: {listed}); {target} is not one."
        )
    closed = set(builder.closed)
    plan_short = sum(1 for label in builder.created if label in closed)
    if plan_short:
        notes.append(
            f"{plan_short} shard(s) are created and closed again within the change "
            "(short-lived): they count against the account shard quota while open and stay "
            "readable after. Doubling or halving a uniform stream creates none."
        )
    return builder.plan(
        "uniform", stream, before=current, requested=target, now=now, notes=notes, estimate=True
    )


# --- targeted splits and merges ----------------------------------------------------------


# Both helpers run in O(n log n) for n open shards (heaps instead of re-sorting every step) and
# pick exactly what a full scan would: the tie-breaks below are part of the plan's contract.


def _split_hottest(builder: _Builder, target: int, notes: list[str]) -> None:
    """Split the hottest (no load: widest) shard, lowest start on ties, until ``target``."""

    # Max-heap by (load, width, -start) as a min-heap of its negation; an unknown load ranks
    # below every known one (loads are ≥ 0).  Only the popped shard is ever closed, so every
    # entry is an open shard at least two keys wide: no stale entries to skip.
    def entry(label: str) -> tuple[float, int, int, str]:
        r, load = builder.ranges[label], builder.load[label]
        return (-(-1.0 if load is None else load), -r.width, r.start, label)

    heap = [entry(label) for label, r in builder.ranges.items() if r.width >= 2]
    heapq.heapify(heap)
    while builder.open_count < target:
        if not heap:
            notes.append("Every open shard is a single hash key wide: nothing left to split.")
            return
        label = heapq.heappop(heap)[3]
        r, load = builder.ranges[label], builder.load[label]
        if builder.has_loads and load is not None:
            reason = f"hottest: {load:.0%} of one shard's write limit"
        elif builder.has_loads:
            reason = f"widest of the shards without a load: {r.share:.1%} of the key space"
        else:
            reason = f"widest: {r.share:.1%} of the key space"
        for child in builder.split(label, r.start + r.width // 2, reason):
            if builder.ranges[child].width >= 2:
                heapq.heappush(heap, entry(child))


def _merge_coolest(builder: _Builder, target: int, merge_ceiling: float, notes: list[str]) -> None:
    """Merge the coolest (no loads: narrowest) adjacent pair until ``target`` or the ceiling.

    Pairs are ranked by (combined load, combined width, start of the left shard); without
    loads the load term is a constant 0.0.  With loads only pairs whose loads are both known
    are candidates.  A heap entry is stale once either shard is closed: two shards that are
    both still open are still adjacent (only merges happen here) with unchanged loads.
    """
    ordered = builder.ordered()
    prev: dict[str, str | None] = {}
    succ: dict[str, str | None] = {}
    for i, (label, _, _) in enumerate(ordered):
        prev[label] = ordered[i - 1][0] if i else None
        succ[label] = ordered[i + 1][0] if i + 1 < len(ordered) else None
    heap: list[tuple[float, int, int, str, str]] = []

    def pair(a: str, b: str) -> tuple[float, int, int, str, str] | None:
        ra, rb = builder.ranges[a], builder.ranges[b]
        total = 0.0
        if builder.has_loads:
            la, lb = builder.load[a], builder.load[b]
            if la is None or lb is None:
                return None
            total = la + lb
        return (total, ra.width + rb.width, ra.start, a, b)

    for (a, _, _), (b, _, _) in pairwise(ordered):
        candidate = pair(a, b)
        if candidate is not None:
            heap.append(candidate)
    heapq.heapify(heap)
    ranges = builder.ranges
    while builder.open_count > target:
        while heap and (heap[0][3] not in ranges or heap[0][4] not in ranges):
            heapq.heappop(heap)
        if builder.has_loads and (not heap or heap[0][0] > merge_ceiling):
            # Once per plan: the coolest pair for the note ranks ties by start alone.
            known = [
                (x, y, x[2] + y[2])
                for x, y in pairwise(builder.ordered())
                if x[2] is not None and y[2] is not None
            ]
            if known:
                x, y, total = min(known, key=lambda p: (p[2], p[0][1].start))
                coolest = f"the coolest, {x[0]} + {y[0]}, would carry {total:.0%}"
            else:
                coolest = "no adjacent pair has known loads"
            notes.append(
                f"Stopped at {builder.open_count} open shards instead of {target}: no "
                f"adjacent pair has a combined load ≤ {merge_ceiling:.0%} of one shard's "
                f"write limit ({coolest})."
            )
            return
        total, _, _, left, right = heapq.heappop(heap)
        if builder.has_loads:
            reason = f"coolest adjacent pair: {total:.0%} combined"
        else:
            share = ranges[left].share + ranges[right].share
            reason = f"narrowest adjacent pair: {share:.1%} of the key space"
        before, after = prev.pop(left), succ.pop(right)
        del succ[left], prev[right]
        merged = builder.merge(left, right, reason)
        prev[merged], succ[merged] = before, after
        if before is not None:
            succ[before] = merged
            candidate = pair(before, merged)
            if candidate is not None:
                heapq.heappush(heap, candidate)
        if after is not None:
            prev[after] = merged
            candidate = pair(merged, after)
            if candidate is not None:
                heapq.heappush(heap, candidate)


def targeted_plan(
    stream: Stream,
    target: int,
    now: datetime,
    loads: Mapping[str, float] | None = None,
    merge_ceiling: float = 0.5,
) -> ReshardPlan:
    """Reach ``target`` open shards with hand-picked splits or merges (field note C,
    docs/field-notes.md#kinesis-scaling-done-right).

    Growing: repeatedly split the hottest open shard (``loads``: shard id → utilisation of
    one shard's write limit; a split halves it, load being spread evenly over the range) or,
    without loads, the widest hash range; ties go to the lowest start.  The split is at the
    middle of the range.  Shrinking: repeatedly merge the adjacent pair with the lowest
    combined load, only while that is ≤ ``merge_ceiling`` (without loads: the narrowest pair,
    and the ceiling cannot be checked).  If no pair qualifies the plan stops short of the
    target, reports what it reaches and says why in ``notes``.  Shards the plan creates are
    candidates for later steps like any other.
    """
    current = _check_inputs(stream, target, loads)
    if math.isnan(merge_ceiling) or merge_ceiling < 0:
        raise ReshardError(f"merge ceiling must be a number ≥ 0, not {merge_ceiling!r}")
    builder = _Builder(current, loads)
    notes: list[str] = []
    if builder.open_count < target:
        _split_hottest(builder, target, notes)
    elif builder.open_count > target:
        _merge_coolest(builder, target, merge_ceiling, notes)

    if target < len(current) and not builder.has_loads:
        notes.append(
            "No loads given: merged the narrowest adjacent pairs without checking the "
            f"{merge_ceiling:.0%} merge ceiling."
        )
    return builder.plan(
        "targeted", stream, before=current, requested=target, now=now, notes=notes, estimate=False
    )
