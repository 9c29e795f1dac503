"""A one-line bar that fits any width: parts in priority order, the least important shortened
first, then dropped, until the line fits; the parts that must always be seen (the sort, the
filter, read-only, PRODUCTION, an error) are never dropped.

The console's status bar and its key hint are made of :class:`Part`; :func:`fit` chooses.
Widths are counted on the text as shown (markup removed, wide characters counted twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rich.text import Text

SEPARATOR = " · "


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a bar: its forms from the longest to the shortest (console markup), how
    important it is whole (``priority``, 0 most: dropped last) and its long forms
    (``shorten``, by default the same: a part whose detail matters less than its gist
    shortens early and goes late), and whether it must stay."""

    forms: tuple[str, ...]
    priority: int
    required: bool = False
    shorten: int | None = None

    @staticmethod
    def of(*forms: str, priority: int, required: bool = False, shorten: int | None = None) -> Part:
        return Part(tuple(f for f in forms if f), priority, required, shorten)


@lru_cache(maxsize=512)
def cells(markup: str) -> int:
    """The cells ``markup`` takes on screen (remembered: the bar is fitted every second with
    mostly the same parts)."""
    return Text.from_markup(markup).cell_len


def fit(parts: Sequence[Part], width: int, separator: str = SEPARATOR) -> str:
    """The parts joined in their order, as many and as long as ``width`` cells allow: while
    the line is too wide, the least important step is taken: a part's next shorter form
    (at its ``shorten`` priority) or, when it has none and is not required, its going (at
    its ``priority``); of equals, the later part's.  Required parts in
    their shortest forms may still not fit a very narrow width: they are kept all the same
    (the widget cuts the end)."""
    parts = [p for p in parts if p.forms]
    chosen = [0] * len(parts)
    kept = [True] * len(parts)
    sizes = [[cells(form) for form in p.forms] for p in parts]
    gap = cells(separator)

    def total() -> int:
        shown = [sizes[i][chosen[i]] for i in range(len(parts)) if kept[i]]
        return sum(shown) + gap * max(0, len(shown) - 1)

    while total() > width:
        candidates = [
            (p.priority if chosen[i] == len(p.forms) - 1 else _shorten(p), i)
            for i, p in enumerate(parts)
            if kept[i] and (chosen[i] < len(p.forms) - 1 or not p.required)
        ]
        if not candidates:
            break
        _priority, i = max(candidates)
        if chosen[i] < len(parts[i].forms) - 1:
            chosen[i] += 1
        else:
            kept[i] = False
    return separator.join(p.forms[chosen[i]] for i, p in enumerate(parts) if kept[i])


def _shorten(part: Part) -> int:
    return part.priority if part.shorten is None else part.shorten
