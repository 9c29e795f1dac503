"""Words from outside (an error message, a resource name) made safe to show.

An error can carry anything: an AWS message quoting a name, a file path, text that looks like
Rich markup (``[b]``, ``[/]``) or control characters that would move the terminal's cursor.
Notifications render their message as markup, so it is escaped; titles are plain text.
"""

from __future__ import annotations

import re

from rich.markup import escape

#: C0 and C1 control characters and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WHITESPACE = frozenset("\t\n\r\v\f")


def printable(text: str) -> str:
    """``text`` without control characters (line breaks and tabs become spaces)."""
    return _CONTROL.sub(lambda m: " " if m.group() in _WHITESPACE else "", text)


def markup_safe(text: str) -> str:
    """``text`` as literal content for a markup string (a notification's message)."""
    return escape(printable(text))


def error_text(error: BaseException | None) -> str:
    """An unexpected error in one printable line: its type and its message (not escaped)."""
    if error is None:
        return "unknown error"
    message = printable(str(error))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
