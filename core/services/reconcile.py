"""Reconciling changes left open: an intent with no outcome, or an outcome that could not say
how the change ended (``unknown``, ``interrupted``), or one that was not followed to its end
(``accepted``: AWS took it, a scaler with ``follow=False`` did not wait for ``ACTIVE``).

Any command that opens an AWS backend calls :func:`reconcile` first.  For each change of
*this* account, region and endpoint left open, it reads the resource again and appends a
``reconciled`` record saying what is actually there:

- ``applied`` — the resource is as the change asked (the values in the intent's ``expect``);
- ``failed`` — it is as it was before the change: nothing was applied;
- ``unknown`` — neither (someone else changed it since), or the resource is gone.

A change still in progress — its resource lock held by another capcon process, or the
resource not ``ACTIVE`` yet — is left open for a later command.  A resource that cannot be
read now (no permission, endpoint down) is left open too, with a note.  Reconciling reads
only; it never sends a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from capcon.core.errors import CapconError, NotFound
from capcon.core.jsonable import to_jsonable
from capcon.core.model import Stream, Table
from capcon.core.ports import Backend
from capcon.core.redact import redact_optional
from capcon.core.services.audit import AuditRecord, AuditSink, Origin
from capcon.core.services.interrupts import critical
from capcon.core.services.locks import ResourceBusy, locks_for
from capcon.core.services.scaler import resource_state

Verdict = Literal["applied", "failed", "unknown"]

#: Outcomes that say how a change ended; any other (or none) leaves it open.
SETTLED = frozenset({"applied", "refused", "failed", "partial"})
#: The kinds of resource an event's lock is taken on (its intent's ``details.on``).
LOCKED = ("table", "stream")
#: At most this many open changes are read per command (the newest first).
MAX_RECONCILED = 20


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What reconciling one open change found."""

    change_id: str
    resource: str
    kind: str
    summary: str
    left_as: str
    """How it was left: ``no outcome``, ``unknown``, ``interrupted`` or ``accepted``."""
    verdict: Verdict | None
    """``None`` when it stays open (in progress, or unreadable now)."""
    message: str


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _same_origin(record: Mapping[str, Any], origin: Origin) -> bool:
    theirs = record.get("origin")
    if not isinstance(theirs, Mapping):
        return False
    return (
        theirs.get("backend") == origin.backend
        and theirs.get("region") == origin.region
        and theirs.get("endpoint") == redact_optional(origin.endpoint)
    )


def open_changes(records: Iterable[Mapping[str, Any]], origin: Origin) -> list[dict[str, Any]]:
    """The intents of ``origin``'s account left open, newest first; each intent record gets
    ``left_as`` (what its last outcome said, or ``no outcome``)."""
    intents: dict[str, dict[str, Any]] = {}
    left: dict[str, str] = {}
    settled: set[str] = set()
    for record in records:
        if not isinstance(record, Mapping):
            continue
        change_id = _text(record.get("change_id"))
        phase = record.get("phase")
        if not change_id:
            continue
        if phase == "intent" and _same_origin(record, origin):
            intents[change_id] = dict(record)
        elif phase == "reconciled":
            settled.add(change_id)
        elif phase == "outcome":
            outcome = _text(record.get("outcome"), "?")
            if outcome in SETTLED:
                settled.add(change_id)
            else:
                left[change_id] = outcome
    found = [
        {**intent, "left_as": left.get(change_id, "no outcome")}
        for change_id, intent in intents.items()
        if change_id not in settled
    ]
    found.reverse()
    return found


def _at_least(have: object, want: object) -> bool:
    """Warm throughput ``have`` is at least ``want`` in each dimension: AWS (and the simulated
    account) may raise it beyond a pre-warm's values, never below."""
    if not isinstance(have, Mapping) or not isinstance(want, Mapping):
        return have == want
    return all(
        isinstance(have.get(k), int) and isinstance(v, int) and have[k] >= v
        for k, v in want.items()
    )


def _matches(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        have = found.get(key)
        if key == "warm":
            if not _at_least(have, value):
                return False
        elif key == "index_warm" and isinstance(value, Mapping):
            if not isinstance(have, Mapping):
                return False
            if any(not _at_least(have.get(name), w) for name, w in value.items()):
                return False
        elif key in ("indexes", "index_on_demand_max") and isinstance(value, Mapping):
            if not isinstance(have, Mapping):
                return False
            if any(have.get(name) != capacity for name, capacity in value.items()):
                return False
        elif have != value:
            return False
    return True


def _verdict(found: Mapping[str, Any], before: object, expect: object) -> tuple[Verdict, str]:
    if not isinstance(expect, Mapping) or not expect:
        return "unknown", "the intent does not say what the change should leave"
    if _matches(found, expect):
        return "applied", "it is as the change asked: applied"
    if isinstance(before, Mapping):
        wanted_before = {key: before.get(key) for key in expect}
        if _matches(found, wanted_before):
            return "failed", "it is as it was before the change: not applied"
    return "unknown", "it is neither as before nor as the change asked (changed since?)"


class Reconciler:
    """Reads back the resources of open changes and records what it finds."""

    def __init__(self, backend: Backend, audit: AuditSink, origin: Origin) -> None:
        self.backend = backend
        self.audit = audit
        self.origin = origin
        self.locks = locks_for(audit, origin)

    def run(self, *, write: bool = True) -> list[Reconciliation]:
        """Reconcile the open changes (at most :data:`MAX_RECONCILED`); ``write=False``
        (a read-only session) reads and reports without appending records."""
        results: list[Reconciliation] = []
        for intent in open_changes(self.audit.read(), self.origin)[:MAX_RECONCILED]:
            results.append(self._one(intent, write=write))
        return results

    def _one(self, intent: Mapping[str, Any], *, write: bool) -> Reconciliation:
        change_id = _text(intent.get("change_id"))
        resource = _text(intent.get("resource"))
        kind = _text(intent.get("kind"))
        summary = _text(intent.get("summary"))
        left_as = _text(intent.get("left_as"), "no outcome")

        def result(verdict: Verdict | None, message: str) -> Reconciliation:
            return Reconciliation(change_id, resource, kind, summary, left_as, verdict, message)

        details = intent.get("details")
        lock_kind = kind  # an event takes its table's or stream's lock, as its scaler did
        if kind == "event" and isinstance(details, Mapping) and details.get("on") in LOCKED:
            lock_kind = str(details["on"])
        try:
            lock = self.locks.acquire(lock_kind, resource, f"reconcile:{change_id}")
        except ResourceBusy:
            return result(None, f"{resource} is being changed by a capcon process now: left open")
        with lock:
            try:
                verdict, message, found = self._read(intent, kind, resource)
            except NotFound:
                verdict, message, found = "unknown", f"{resource} no longer exists", None
            except CapconError as error:
                return result(None, f"{resource} could not be read ({error}): left open")
            if verdict is None:
                return result(None, message)
            if write:
                record = AuditRecord(
                    change_id=change_id,
                    phase="reconciled",
                    at=self.backend.now(),
                    origin=self.origin,
                    resource=resource,
                    kind=kind,
                    summary=summary,
                    after=found,
                    outcome=verdict,
                    details={"left_as": left_as, "found": message},
                )
                with critical():
                    self.audit.write(record)
            return result(verdict, message)

    def _read(
        self, intent: Mapping[str, Any], kind: str, resource: str
    ) -> tuple[Verdict | None, str, Any]:
        details = intent.get("details")
        expect = details.get("expect") if isinstance(details, Mapping) else None
        if kind in ("table", "stream"):
            current: Table | Stream = (
                self.backend.describe_table(resource)
                if kind == "table"
                else self.backend.describe_stream(resource)
            )
            found: dict[str, Any] = resource_state(current)
            if found.get("status") != "ACTIVE" or (
                isinstance(current, Table) and any(i.status != "ACTIVE" for i in current.indexes)
            ):
                return None, f"{resource} is {current.status}: still changing, left open", found
            verdict, why = _verdict(found, intent.get("before"), expect)
            return verdict, f"{resource} now: {why}", found
        if kind == "autoscaling" and isinstance(expect, Mapping):
            return self._read_autoscaling(resource, expect)
        if kind == "event" and isinstance(expect, Mapping):
            return self._read_event(resource, expect)
        return "unknown", f"{resource}: a change of kind {kind!r} cannot be read back", None

    def _read_event(self, resource: str, expect: Mapping[str, Any]) -> tuple[Verdict, str, Any]:
        """A planned event (``capcon event apply`` or ``cancel``): its scheduled actions read
        back by name — those it put present with their schedule, those it deleted absent.  A
        stream's schedule lives in a state store this command may not have: unknown."""
        if expect.get("schedule") or expect.get("cancelled"):
            return "unknown", f"{resource}: a stream schedule cannot be read back here", None
        rids = [r for r in expect.get("resource_ids") or [] if isinstance(r, str)]
        present = [
            (p[0], p[1]) for p in expect.get("present") or [] if isinstance(p, list) and len(p) == 2
        ]
        absent = [n for n in expect.get("absent") or [] if isinstance(n, str)]
        found = [
            (a.name, a.schedule)
            for rid in rids
            for a in self.backend.describe_scheduled_actions(rid)
        ]
        names = {name for name, _ in found}
        result = {"scheduled": [list(pair) for pair in found]}
        if all(pair in found for pair in present) and not any(n in names for n in absent):
            return "applied", f"{resource}: the event's scheduled actions are as asked", result
        if not any(name in names for name, _ in present) and all(n in names for n in absent):
            return "failed", f"{resource}: the event's actions are as before: not applied", result
        return "unknown", f"{resource}: the event's scheduled actions are partly in place", result

    def _read_autoscaling(
        self, resource: str, expect: Mapping[str, Any]
    ) -> tuple[Verdict, str, Any]:
        rid, dimension = expect.get("resource_id"), expect.get("dimension")
        targets = [
            t
            for t in self.backend.describe_scalable_targets()
            if t.resource_id == rid and t.dimension == dimension
        ]
        policies = [
            p
            for p in self.backend.describe_scaling_policies()
            if p.resource_id == rid and p.dimension == dimension
        ]
        found = {"targets": to_jsonable(targets), "policies": to_jsonable(policies)}
        named = any(p.name == expect.get("policy") for p in policies)
        if expect.get("enabled") is True:
            if targets and named:
                return "applied", f"{resource}: target and policy are in place: applied", found
            return "unknown", f"{resource}: the target or the policy is missing", found
        if not targets and not policies:
            return "applied", f"{resource}: auto scaling is off: applied", found
        return "unknown", f"{resource}: auto scaling is still (partly) set up", found
