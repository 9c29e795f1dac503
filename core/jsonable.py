"""Plain JSON values from core results, for ``--json`` output and audit records.

Dataclasses become objects (plus the properties they list in ``JSON_PROPERTIES``), enums their
value, datetimes ISO 8601 strings, and integers too large for a JSON number to survive in
JavaScript (hash keys are 128-bit) become decimal strings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

#: The largest integer a double (and so JavaScript and many JSON readers) holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1


def to_jsonable(value: object) -> Any:
    """``value`` as nested dicts, lists, strings, numbers, booleans and ``None``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(value, "JSON_PROPERTIES", ()):
            out[name] = to_jsonable(getattr(value, name))
        return out
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")
