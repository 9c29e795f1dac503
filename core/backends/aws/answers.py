"""AWS's answers checked before capcon believes them.

botocore trusts the server: for the JSON protocol (DynamoDB, Kinesis, CloudWatch, Application
Auto Scaling) an HTTP 200 whose body is not JSON (an HTML page from a proxy or a captive
portal, a truncated body) parses to ``{}`` without a word, and a ListTables answered so would
look like an account without tables.  Values are not checked either: ``{"TableNames": [1]}``
arrives as ``[1]``.  So:

* :func:`watch` hooks a client's ``before-parse`` event: a 2xx JSON-protocol answer whose body
  is not a JSON object raises botocore's ``ResponseParserError`` (what its XML parser raises
  for invalid XML), which :func:`capcon.core.backends.aws.errors.calling` turns into a
  :class:`~capcon.core.backends.aws.errors.MalformedAnswer` naming the operation;
* the helpers below read one field of an answer, raising
  :class:`~capcon.core.backends.aws.describe.DescribeError` (naming the field, what it held
  and what is allowed) for a missing key or a wrong type; ``calling`` names the operation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeVar

from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp

from capcon.core.backends.aws.describe import DescribeError

C = TypeVar("C")

#: The JSON protocol's name in botocore's service models (``resolved_protocol``).
JSON_PROTOCOL: Final = "json"
#: How much of a bad body a message quotes.
QUOTED = 80


def _quote(body: bytes) -> str:
    text = body[:QUOTED].decode("utf-8", errors="replace")
    return repr(text) + ("…" if len(body) > QUOTED else "")


def check_json_answer(
    response_dict: Mapping[str, Any] | None = None,
    operation_model: Any = None,
    **_: Any,
) -> None:
    """botocore's ``before-parse`` handler: a 2xx answer of a JSON-protocol operation must be
    a JSON object (an empty body only where the operation returns nothing)."""
    if response_dict is None or operation_model is None:
        return
    if operation_model.service_model.resolved_protocol != JSON_PROTOCOL:
        return
    status = response_dict.get("status_code")
    if not isinstance(status, int) or not 200 <= status < 300:
        return  # errors are botocore's to parse (and ``calling``'s to name)
    body = response_dict.get("body")
    if not isinstance(body, bytes | bytearray):
        return  # a streamed body: none of capcon's calls
    headers = response_dict.get("headers") or {}
    kind = headers.get("content-type") or headers.get("Content-Type") or "no content type"
    if not body.strip():
        output = operation_model.output_shape
        if output is not None and getattr(output, "members", None):
            raise ResponseParserError(f"HTTP {status} with an empty body ({kind})")
        return
    try:
        parsed = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ResponseParserError(
            f"HTTP {status} with a body that is not JSON ({kind}): {_quote(bytes(body))}"
        ) from None
    if not isinstance(parsed, dict):
        raise ResponseParserError(
            f"HTTP {status} with JSON that is not an object ({type(parsed).__name__}): "
            f"{_quote(bytes(body))}"
        )
    if operation_model.output_shape is not None:
        problem = shape_problem(parsed, operation_model.output_shape, "")
        if problem:
            raise ResponseParserError(problem)


#: JSON types each model type allows (a timestamp is epoch seconds or a string).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
}
#: Deeper than any of AWS's answers to capcon's calls: the rest is not looked at.
MAX_DEPTH = 32


def shape_problem(value: object, shape: Any, path: str, depth: int = 0) -> str | None:
    """What is wrong with the JSON ``value`` as botocore's model ``shape`` (``None``: nothing):
    every member of the type the model gives it, so botocore's parser never sees a string
    where a list belongs (it would make ``"orders"`` a list of letters)."""
    if value is None or depth > MAX_DEPTH:
        return None
    allowed = _JSON_TYPES.get(shape.type_name)
    if allowed is None:
        return None
    wrong = not isinstance(value, allowed) or (
        shape.type_name in ("integer", "long", "float", "double", "timestamp")
        and isinstance(value, bool)
    )
    if wrong:
        where = path or "the answer"
        return f"{where}: expected {shape.type_name}, got {_shown(value)}"
    if shape.type_name == "timestamp" and isinstance(value, str):
        try:  # what botocore's parser would do with it, failing without naming the field
            parse_timestamp(value)
        except (ValueError, TypeError, OverflowError, RuntimeError):
            return f"{path or 'the answer'}: expected a timestamp, got {_shown(value)}"
    if shape.type_name == "structure":
        assert isinstance(value, dict)
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if key in value:
                found = shape_problem(
                    value[key], member, f"{path}.{key}" if path else key, depth + 1
                )
                if found:
                    return found
    elif shape.type_name == "list":
        assert isinstance(value, list)
        for i, item in enumerate(value):
            found = shape_problem(item, shape.member, f"{path}[{i}]", depth + 1)
            if found:
                return found
    elif shape.type_name == "map":
        assert isinstance(value, dict)
        for key, item in value.items():
            found = shape_problem(item, shape.value, f"{path}[{key!r}]", depth + 1)
            if found:
                return found
    return None


def watch(client: C) -> C:
    """``client``, with every answer it receives checked (:func:`check_json_answer`).  Once
    per client: botocore registers a ``unique_id`` only once."""
    client.meta.events.register(  # type: ignore[attr-defined]
        "before-parse", check_json_answer, unique_id="capcon-answers"
    )
    return client


# --------------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------------


def mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DescribeError(f"{path}: expected an object, got {_shown(value)}")
    return value


def items(answer: Mapping[str, Any], key: str, *, required: bool = True) -> list[Any]:
    """``answer[key]``, a list (``[]`` when absent and not ``required``)."""
    value = answer.get(key)
    if value is None:
        if required:
            raise DescribeError(f"{key} is missing (a list is required)")
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise DescribeError(f"{key}: expected a list, got {_shown(value)}")
    return list(value)


def names(answer: Mapping[str, Any], key: str) -> list[str]:
    """``answer[key]``, a required list of non-empty names."""
    found = items(answer, key)
    for i, name in enumerate(found):
        if not isinstance(name, str) or not name:
            raise DescribeError(f"{key}[{i}]: expected a name, got {_shown(name)}")
    return found


def text(doc: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    """A string field (``default`` when absent; required when ``default`` is ``None``)."""
    value = doc.get(key)
    if value is None:
        if default is None:
            raise DescribeError(f"{path}.{key} is missing (a string is required)")
        return default
    if not isinstance(value, str):
        raise DescribeError(f"{path}.{key}: expected a string, got {_shown(value)}")
    return value


def whole(doc: Mapping[str, Any], key: str, path: str, default: int | None = None) -> int:
    """A whole-number field ≥ 0 (``default`` when absent; required when ``None``)."""
    value = doc.get(key)
    if value is None:
        if default is None:
            raise DescribeError(f"{path}.{key} is missing (a whole number is required)")
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()))
        or value < 0
    ):
        raise DescribeError(f"{path}.{key}: expected a whole number ≥ 0, got {_shown(value)}")
    return int(value)


def optional_whole(doc: Mapping[str, Any], key: str, path: str) -> int | None:
    """A whole-number field ≥ 0, or ``None`` when absent."""
    return None if doc.get(key) is None else whole(doc, key, path)


def number(doc: Mapping[str, Any], key: str, path: str, default: float) -> float:
    """A finite number field (``default`` when absent)."""
    value = doc.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DescribeError(f"{path}.{key}: expected a finite number, got {_shown(value)}")
    return float(value)


def flag(doc: Mapping[str, Any], key: str, path: str) -> bool:
    """A boolean field (false when absent)."""
    value = doc.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DescribeError(f"{path}.{key}: expected true or false, got {_shown(value)}")
    return value


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= QUOTED else shown[:QUOTED] + "…"
