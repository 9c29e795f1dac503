"""Which AWS error answers a request that breaks the rule book's rules.

The simulated account raises these so it refuses a request exactly as AWS would; the errors
themselves live in ``capcon.core.errors``, a leaf every layer can import.
"""

from __future__ import annotations

from collections.abc import Sequence

from capcon.core.errors import (
    BackendError,
    LimitExceeded,
    NotFound,
    ResourceInUse,
    ValidationFailed,
)
from capcon.core.rules.violations import Code, Violation


def error_for_violations(violations: Sequence[Violation]) -> BackendError:
    """The error AWS would answer a request breaking these rules with.

    ``UPDATING`` → ``ResourceInUseException``; decrease budget and quotas →
    ``LimitExceededException``; everything else → ``ValidationException``.
    """
    codes = {v.code for v in violations}
    message = "; ".join(v.message for v in violations if v.code is not Code.WHOLE_REQUEST)
    if Code.RESOURCE_BUSY in codes:
        return ResourceInUse(message, violations)
    limit_codes = {
        Code.DECREASE_BUDGET,
        Code.ABOVE_ACCOUNT_QUOTA,
        Code.RESHARD_LIMIT,
        Code.ACCOUNT_SHARD_QUOTA,
        Code.MODE_SWITCH_LIMIT,
        Code.ABOVE_RESOURCE_QUOTA,
        Code.CLASS_SWITCH_LIMIT,
    }
    if codes & limit_codes:
        return LimitExceeded(message, violations)
    if Code.UNKNOWN_INDEX in codes:
        return NotFound(message, violations)
    return ValidationFailed(message, violations)
