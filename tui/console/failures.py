"""Words from outside (an error message, a resource name) made safe to show.

An error can carry anything: an AWS message quoting a name, a file path, text that looks like
Rich markup (``[b]``, ``[/]``) or control characters that would move the terminal's cursor.
Notifications render their message as markup, so it is escaped; titles are plain text.
"""

from __future__ import annotations

from capcon.tui.text import printable


def error_text(error: BaseException | None) -> str:
    """An unexpected error in one printable line: its type and its message (not escaped)."""
    if error is None:
        return "unknown error"
    message = printable(str(error))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
