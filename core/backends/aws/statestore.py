"""The deployed engine's state and audit trail in its DynamoDB state table.

The table's key schema is the one the template creates (``capcon.core.deploy.spec``): a
string partition key ``pk`` naming the kind of item, a string sort key ``sk`` naming the item
within it, and ``expires`` (epoch seconds) as its time to live.  Only three calls are made,
each on that one table: ``GetItem`` (consistent), ``PutItem`` (always conditional) and
``Query``.

:class:`DynamoStateStore` — the :class:`~capcon.core.ports.StateStore` port
    One item per key: ``pk="state"`` (``"event"`` for keys ``event#…``, the events already
    handled, which expire after ``event_ttl``), ``sk`` the key, ``version`` (a number) and
    ``data`` (the JSON object as a string, so no value changes type on the way: DynamoDB has
    no floats, only decimals).  A save is a ``PutItem`` conditional on
    ``attribute_not_exists(pk)`` for a first save, else on ``version = :expected``: of two
    saves from the same version one wins and the other gets
    ``ConditionalCheckFailedException``, raised as
    :class:`~capcon.core.errors.StateConflict` with nothing written.
:class:`DynamoAuditStore` — the :class:`~capcon.core.ports.AuditStore` port
    One item per record: ``pk="audit"``, ``sk`` = the record's time (UTC, fixed width), its
    change id, its phase's order (intent, progress, outcome, reconciled) and a random tag,
    so items sort by time, then change, then phase, and two records never share a key
    (each ``PutItem`` is conditional on ``attribute_not_exists(pk)``: a record is never
    overwritten); ``record`` holds the JSON object.  ``read(limit)`` queries newest first
    (``ScanIndexForward=False``, ``Limit``) and returns the newest ``limit`` oldest first.

Every botocore error is mapped by the adapter's :func:`~capcon.core.backends.aws.errors.map_error`
into capcon's typed errors; an item that is not what capcon writes is a
:class:`StateItemError` naming the table and the key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from capcon.core.backends.aws.errors import (
    MALFORMED_ANSWERS,
    client_error_code,
    malformed,
    map_error,
)
from capcon.core.errors import BackendError, CapconError, StateConflict
from capcon.core.ports import VersionedState

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

#: The state table's keys and time-to-live attribute (``capcon.core.deploy.spec``'s
#: ``STATE_PARTITION_KEY``, ``STATE_SORT_KEY``, ``STATE_TTL_ATTRIBUTE``; a test checks).
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires"
#: The kinds of item (``pk``).
STATE_KIND = "state"
EVENT_KIND = "event"
AUDIT_KIND = "audit"
#: A state key starting so is an event already handled (it expires).
EVENT_PREFIX = "event#"
#: Phases in the order they happen to one change (an unknown phase sorts last).
PHASE_ORDER = {"intent": 0, "progress": 1, "outcome": 2, "reconciled": 3}
#: DynamoDB's largest item (400 KB, names and values together).
MAX_ITEM_BYTES = 400 * 1024


class StateItemError(CapconError):
    """An item of the state table that is not what capcon writes."""


@contextmanager
def _calling(action: str, resource: str) -> Iterator[None]:
    """botocore's errors in the block as capcon's typed errors (as the adapter's
    ``calling`` does, for the state table's own actions)."""
    try:
        yield
    except BackendError:
        raise
    except (ClientError, BotoCoreError) as error:
        raise map_error(error, action, resource) from error
    except MALFORMED_ANSWERS as error:
        raise malformed(action, resource, f"{type(error).__name__}: {error}") from error


def _number(value: object) -> int | None:
    """A DynamoDB number attribute (``{"N": "3"}``) as a whole number ≥ 1."""
    if not isinstance(value, dict) or not isinstance(value.get("N"), str):
        return None
    text = value["N"]
    if not text.isdigit() or len(text) > 18:
        return None
    number = int(text)
    return number if number >= 1 else None


def _string(value: object) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("S"), str):
        return None
    text = value["S"]
    assert isinstance(text, str)
    return text


class DynamoStateStore:
    """The state-store port on the engine's DynamoDB table (see the module docstring)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        event_ttl: timedelta = timedelta(days=7),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.event_ttl = event_ttl
        self._clock = clock

    @staticmethod
    def _kind(key: str) -> str:
        return EVENT_KIND if key.startswith(EVENT_PREFIX) else STATE_KIND

    def _key(self, key: str) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": self._kind(key)}, SORT_KEY: {"S": key}}

    def load(self, key: str) -> VersionedState | None:
        with _calling("dynamodb:GetItem", self.table):
            answer = self.client.get_item(
                TableName=self.table, Key=self._key(key), ConsistentRead=True
            )
        item = answer.get("Item")
        if item is None:
            return None
        version = _number(item.get("version"))
        text = _string(item.get("data"))
        data: object = None
        if text is not None:
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                data = None
        if version is None or not isinstance(data, dict):
            raise StateItemError(
                f"the state table {self.table}: the item {key!r} is not a capcon state "
                '(a number "version" ≥ 1 and a JSON object "data"); fix or delete it'
            )
        return VersionedState(version, data)

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        if not isinstance(key, str) or not key:
            raise ValueError("a state key is a non-empty string")
        if expected_version is not None and (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or expected_version < 1
        ):
            raise ValueError(f"expected_version {expected_version!r}: a version is None or ≥ 1")
        if not isinstance(data, dict):
            raise ValueError(f"the state {key} must be a JSON object, not {type(data).__name__}")
        try:
            text = json.dumps(data, allow_nan=False, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"the state {key} is not JSON: {error}") from None
        version = 1 if expected_version is None else expected_version + 1
        item: dict[str, Any] = {
            **self._key(key),
            "version": {"N": str(version)},
            "data": {"S": text},
        }
        if self._kind(key) == EVENT_KIND:
            expires = int(self._clock() + self.event_ttl.total_seconds())
            item[TTL_ATTRIBUTE] = {"N": str(expires)}
        if expected_version is None:
            condition = f"attribute_not_exists({PARTITION_KEY})"
            values: dict[str, Any] = {}
        else:
            condition = "#version = :expected"
            values = {":expected": {"N": str(expected_version)}}
        with _calling("dynamodb:PutItem", self.table):
            try:
                if values:
                    self.client.put_item(
                        TableName=self.table,
                        Item=item,
                        ConditionExpression=condition,
                        ExpressionAttributeNames={"#version": "version"},
                        ExpressionAttributeValues=values,
                    )
                else:
                    self.client.put_item(
                        TableName=self.table, Item=item, ConditionExpression=condition
                    )
            except ClientError as error:
                if client_error_code(error) != "ConditionalCheckFailedException":
                    raise
                want = (
                    "nothing stored" if expected_version is None else f"version {expected_version}"
                )
                raise StateConflict(
                    f"the state {key} in {self.table} was saved by someone else meanwhile "
                    f"(expected {want}): nothing was written"
                ) from None
        return version


def audit_sort_key(record: dict[str, object]) -> str:
    """An audit item's sort key: time (UTC, microseconds, fixed width), change id, phase
    order and a random tag (``2026-12-02T04:00:00.000000Z#ab12…#0intent#9f3c…``)."""
    at = record.get("at")
    moment: datetime | None = None
    if isinstance(at, str):
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            moment = None
    if moment is None:
        raise ValueError("an audit record needs its time: 'at' as an ISO 8601 string")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    change = str(record.get("change_id", ""))[:64]
    phase = str(record.get("phase", ""))[:32]
    order = PHASE_ORDER.get(phase, 9)
    return f"{stamp}#{change}#{order}{phase}#{uuid.uuid4().hex[:12]}"


class DynamoAuditStore:
    """The audit-store port on the engine's DynamoDB table (see the module docstring).

    ``retention``: records expire that long after they are written (DynamoDB's TTL);
    ``None`` keeps them."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        retention: timedelta | None = None,
        clock: Callable[[], float] = time.time,
        page_size: int = 500,
    ) -> None:
        self.client = client
        self.table = table
        self.retention = retention
        self._clock = clock
        self.page_size = page_size

    def append(self, record: dict[str, object]) -> None:
        try:
            text = json.dumps(record, allow_nan=False, sort_keys=True, ensure_ascii=False)
            sort_key = audit_sort_key(record)
        except (TypeError, ValueError) as error:
            raise CapconError(f"the audit record cannot be stored: {error}") from None
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": AUDIT_KIND},
            SORT_KEY: {"S": sort_key},
            "record": {"S": text},
        }
        if self.retention is not None:
            expires = int(self._clock() + self.retention.total_seconds())
            item[TTL_ATTRIBUTE] = {"N": str(expires)}
        if len(text.encode("utf-8")) > MAX_ITEM_BYTES - 1024:
            raise CapconError(
                f"the audit record of change {record.get('change_id')} is larger than a "
                f"DynamoDB item may be ({MAX_ITEM_BYTES // 1024} KB)"
            )
        with _calling("dynamodb:PutItem", self.table):
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=f"attribute_not_exists({PARTITION_KEY})",
            )

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        """The newest ``limit`` records (all when ``None``), oldest first.  An item whose
        record is not a JSON object comes back as ``{"unreadable": sort key}`` (the audit
        sink skips it and says so)."""
        if limit is not None and limit <= 0:
            return []
        found: list[dict[str, object]] = []
        start: dict[str, Any] | None = None
        while limit is None or len(found) < limit:
            want = self.page_size if limit is None else min(self.page_size, limit - len(found))
            query: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "#pk = :audit",
                "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                "ExpressionAttributeValues": {":audit": {"S": AUDIT_KIND}},
                "ScanIndexForward": False,
                "Limit": want,
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            with _calling("dynamodb:Query", self.table):
                answer = self.client.query(**query)
                items = list(answer.get("Items", []))
                start = answer.get("LastEvaluatedKey")
            found += [self._record(item) for item in items]
            if not start:
                break
        if limit is not None:
            found = found[:limit]
        found.reverse()
        return found

    @staticmethod
    def _record(item: dict[str, Any]) -> dict[str, object]:
        text = _string(item.get("record"))
        value: object = None
        if text is not None:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                value = None
        if isinstance(value, dict):
            return value
        return {"unreadable": _string(item.get(SORT_KEY)) or "?"}
