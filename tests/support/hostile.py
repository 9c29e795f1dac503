"""Hostile text a server (or a file) may hand capcon, and what a terminal must never receive.

:data:`HOSTILE_NAMES` are names a real AWS account refuses at creation but a fake or
compromised endpoint (or a proxy) can serve: Rich markup, ANSI CSI and OSC sequences, BEL,
C1 controls, bidirectional overrides, zero-width characters, NUL, very long names.
:func:`leaks` finds what a terminal would act on in a piece of output.
"""

from __future__ import annotations

import re

HOSTILE_NAMES: tuple[str, ...] = (
    "[bold red]x[/]",
    "audit[/]",
    "[/",
    "[@click=app.quit]x",
    "[link=https://evil.example]x[/link]",
    "red\x1b[31mrow",
    "wipe\x1b[2Jall",
    "title\x1b]0;pwned\x07t",
    "bell\x07bell",
    "csi\x9b31mc1",
    "nel\x85c1",
    "bidi\u202eevil",
    "zero\u200b\u200dwidth\ufeff",
    "nul\x00byte",
    "n" * 500,
    "tab\tnew\nline\rret",
)

#: C0 controls but for tab, line feed and carriage return (Rich writes those itself), DEL and
#: C1 controls: what a terminal acts on instead of showing.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


def leaks(text: str) -> list[str]:
    """The control characters in ``text`` a terminal would act on (ESC, BEL, C1, NUL …)."""
    return _CONTROL.findall(text)


def visible(name: str) -> str:
    """``name`` as it should appear on a terminal: its printable characters, in order (a
    renderer may replace a control character with a space or drop it; compare with
    whitespace removed)."""
    return re.sub(r"[\x00-\x20\x7f-\x9f]", "", name)


def squeeze(text: str) -> str:
    """``text`` without whitespace and control characters, to look for :func:`visible` names
    in output that wraps or pads them."""
    return re.sub(r"[\x00-\x20\x7f-\x9f]", "", text)
