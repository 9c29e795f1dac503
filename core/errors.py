"""Typed errors a backend raises, each with a human message.

Both backends (the AWS adapter and the simulated account) raise these, so the console and the
CLI handle one set of errors in one place.  ``aws_code`` is the AWS error code the error stands
for, when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence

from capcon.core.rules import Violation


class CapconError(Exception):
    """Base of capcon's errors: ``str(error)`` is a message fit for the user."""

    aws_code: str | None = None

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class BackendError(CapconError):
    """A request the backend refused or could not serve."""


class ResourceInUse(BackendError):
    aws_code = "ResourceInUseException"


class LimitExceeded(BackendError):
    aws_code = "LimitExceededException"


class ValidationFailed(BackendError):
    aws_code = "ValidationException"


class NotFound(BackendError):
    aws_code = "ResourceNotFoundException"


class AccessDenied(BackendError):
    aws_code = "AccessDeniedException"


class Throttled(BackendError):
    aws_code = "ThrottlingException"


class CredentialsMissing(BackendError):
    """No credentials, or expired ones."""


class EndpointUnreachable(BackendError):
    """The endpoint did not answer."""


def error_for_violations(violations: Sequence[Violation]) -> BackendError:
    """The error AWS would answer a request breaking these rules with.

    ``UPDATING`` → ``ResourceInUseException``; decrease budget and quotas →
    ``LimitExceededException``; everything else → ``ValidationException``.
    """
    from capcon.core.rules import Code

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
    }
    if codes & limit_codes:
        return LimitExceeded(message, violations)
    if Code.UNKNOWN_INDEX in codes:
        return NotFound(message, violations)
    return ValidationFailed(message, violations)
