"""Typed errors a backend raises, each with a human message.

Both backends (the AWS adapter and the simulated account) raise these, so the console and the
CLI handle one set of errors in one place.  ``aws_code`` is the AWS error code the error stands
for, when there is one.

This module is a leaf: it imports nothing of capcon when it runs (``Violation`` is named for
the type checker only), so every layer can raise these errors.  Which error answers which
broken rule is the rule book's knowledge: ``capcon.core.rules.error_for_violations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capcon.core.rules.violations import Violation


class CapconError(Exception):
    """Base of capcon's errors: ``str(error)`` is a message fit for the user."""

    aws_code: str | None = None

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class BackendError(CapconError):
    """A request the backend refused or could not serve.

    ``maybe_sent`` is true when the request may have reached the service and been carried
    out although no answer came back (a read timeout, a connection closed mid-answer, a 5xx):
    a mutation that fails so is *unknown*, never failed, and is not sent again before the
    resource has been read.
    """

    maybe_sent: bool = False
    in_flight: bool = False
    """The request may still be on its way (a read timeout: no answer yet), so a change it
    makes may show up later; a reset or a 5xx ended it."""


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


class StateConflict(CapconError):
    """A state-store write whose expected version was no longer the stored one: someone else
    saved first (another invocation, another process).  Nothing was written."""
