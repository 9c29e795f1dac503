"""What every command prints the same way: exit codes, usage errors, JSON, Rich, plans.

Exit codes: 0 done (a plan changes nothing), 1 the change was refused or failed (the reasons
are printed), 2 bad input (a flag, a file: the message names what was wrong and what is
allowed), 3 the backend failed (AWS unreachable, no credentials, access denied, …), 4 a
change was sent and how it ended is not confirmed (the answer was lost, a timeout, some steps
done); 130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP (an apply under way records
``interrupted`` first); 5 partial: what could be read is shown, and stderr names each action
that failed and what is missing (``ls``, ``show``: e.g. Kinesis denied, the tables still listed).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.planning.planner import Refusal, ScalePlan
from capcon.core.services.scaler import ApplyResult
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_BACKEND = 0, 1, 2, 3
#: A change was sent and how it ended is not confirmed (``unknown``, ``partial``).
EXIT_UNKNOWN = 4
#: Some of the account could not be read (``ls``, ``show``): the rest is shown, with notices.
EXIT_PARTIAL = 5

#: How the CLI says each outcome (the ones that need a look in capitals).
OUTCOME_WORDS = {
    "applied": "applied",
    "accepted": "accepted (AWS is applying it)",
    "refused": "refused",
    "failed": "FAILED",
    "partial": "PARTLY APPLIED",
    "unknown": "OUTCOME UNKNOWN",
    "interrupted": "INTERRUPTED",
}


def outcome_exit(outcome: str) -> int:
    """The exit code for an apply's outcome: 0 applied or accepted (AWS took the request and
    is applying it), 4 sent but not confirmed (unknown, partial), 1 refused or failed (nothing
    changed)."""
    if outcome in ("applied", "accepted"):
        return EXIT_OK
    if outcome in ("unknown", "partial"):
        return EXIT_UNKNOWN
    return EXIT_REFUSED


def report_outcome(result: ApplyResult, summary: str, log: Path) -> None:
    """One line for an apply's outcome (escaped: names and errors come from AWS), with the
    audit id, and its notes on stderr."""
    word = OUTCOME_WORDS.get(result.outcome, result.outcome)
    error = f" — {result.error}" if result.error else ""
    if not result.change_id:  # refused before anything was recorded (the audit log)
        print(printable(f"capcon: {word}: {summary}{error}"), file=sys.stderr)
    else:
        print(printable(f"{word}: {summary}{error} (audit id {result.change_id}, log {log})"))
    if result.outcome in ("unknown", "partial"):
        print(
            "capcon: the change was sent and how it ended is not confirmed: `capcon show` "
            "shows the resource now; the next capcon command reconciles the audit record",
            file=sys.stderr,
        )
    show_notices(list(result.notes))


#: Characters kept out of JSON output as ``\\u`` escapes of four hex digits (the same JSON
#: value): C1 controls and DEL, which a terminal may obey, bidirectional overrides, which
#: reorder what it shows, and lone surrogates, which no UTF-8 stream can write.  They occur
#: only in strings.
_JSON_ESCAPED = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(document: Any, *, indent: int | None = 2) -> None:
    """One JSON document on stdout (non-ASCII kept as it is, but for the characters of
    :data:`_JSON_ESCAPED`)."""
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    print(_JSON_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text), flush=True)


def console(*, wide: bool = False) -> Console:
    """A Rich console on stdout; ``wide``: tables get 150 columns when not on a terminal."""
    from rich.console import Console

    out = Console()
    if wide and not out.is_terminal:
        out.width = max(out.width, 150)
    return out


def emit_plan(result: ScalePlan | Refusal, as_json: bool) -> int:
    """Print a plan or a refusal (a Rich panel, or a JSON document); its exit code."""
    refused = isinstance(result, Refusal)
    if as_json:
        print_json({"outcome": "refused" if refused else "plan", **to_jsonable(result)})
    else:
        from capcon.tui.render import render_plan, render_refusal

        console().print(
            render_refusal(result) if isinstance(result, Refusal) else render_plan(result)
        )
    return EXIT_REFUSED if refused else EXIT_OK


def require_terminal() -> None:
    """A question needs someone to answer it: without a terminal, a usage error."""
    if not sys.stdin.isatty():
        raise UsageError("confirmation needed: run in a terminal, or add --yes")


def ask(question: str) -> bool:
    """``y``/``yes`` to a question on the terminal; no terminal is a usage error."""
    require_terminal()
    return input(question).strip().lower() in {"y", "yes"}


def refuse_if_read_only(read_only: bool, what: str) -> None:
    """A read-only session offers no change: a usage error saying so and what is possible.

    The session's scaler would refuse the change anyway; this says it before any preview.
    """
    if read_only:
        raise UsageError(
            f"this session is read-only (--read-only, or read_only = true in config.toml): {what}"
        )


def show_notices(notices: list[str]) -> None:
    """What capcon fixed on its own (e.g. the audit log's mode), once each, on stderr."""
    for note in notices:
        print(printable(f"capcon: {note}"), file=sys.stderr)


def error_line(text: str) -> None:
    """``capcon: text`` on stderr; the text may quote AWS (names, error messages): no control
    character reaches the terminal."""
    from capcon.tui.text import printable

    print(f"capcon: {printable(text)}", file=sys.stderr)


def backend_error_exit(error: CapconError) -> int:
    error_line(f"{type(error).__name__}: {error}")
    return EXIT_BACKEND
