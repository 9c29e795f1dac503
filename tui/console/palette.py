"""The command palette's search: a command is found by any word of its title or its help.

Textual's own provider matches the query, fuzzily, against a command's title only: "thr"
found nothing although the sort by throttles and the throttling rows were there, named in
the help.  :class:`AnyWordCommands` keeps Textual's fuzzy match (and its highlighting) on the
title, and adds a command whose title or help has, for every word of the query, a word that
starts with it ("thr" → "throttles", "throttling"; "go inv" → "Go to inventory").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.command import Hit, Hits
from textual.content import Content
from textual.system_commands import SystemCommandsProvider

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

#: How hits rank: a word of the title starting with the query first, then a word of the
#: help, then a title that only has the query's letters scattered in order (Textual's fuzzy
#: score, a few units, divided by :data:`SCATTERED`).
TITLE_WORD_SCORE = 100.0
HELP_WORD_SCORE = 50.0
SCATTERED = 100.0


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Every word of ``text`` with where it starts and ends, lower-cased."""
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]


def prefix_spans(query: str, text: str) -> list[tuple[int, int]] | None:
    """Where each word of ``query`` starts a word of ``text`` (the matched prefixes), or
    ``None`` when some word of the query starts no word of the text."""
    words = word_spans(text)
    spans: list[tuple[int, int]] = []
    for needle in (w.lower() for w in _WORD.findall(query)):
        found = [(start, start + len(needle)) for start, _end, w in words if w.startswith(needle)]
        if not found:
            return None
        spans += found
    return spans if spans else None


def any_word_hits(
    query: str, commands: Iterable[tuple[str, str]]
) -> list[tuple[float, int, list[tuple[int, int]]]]:
    """For each ``(title, help)`` matched by words: its score, its index, and the spans of
    the title to highlight (none when only the help matched).  Pure, for tests."""
    found: list[tuple[float, int, list[tuple[int, int]]]] = []
    for index, (title, help_text) in enumerate(commands):
        spans = prefix_spans(query, title)
        if spans is not None:
            found.append((TITLE_WORD_SCORE, index, spans))
        elif prefix_spans(query, f"{title} {help_text}") is not None:
            found.append((HELP_WORD_SCORE, index, []))
    return found


class AnyWordCommands(SystemCommandsProvider):
    """The app's system commands (``App.get_system_commands``), found by fuzzy title or by
    any word of the title or help."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        commands = list(self.app.get_system_commands(self.screen))
        by_words = {
            index: (score, spans)
            for score, index, spans in any_word_hits(query, [(c.title, c.help) for c in commands])
        }
        for index, command in enumerate(commands):
            fuzzy = matcher.match(command.title)
            score, spans = by_words.get(index, (0.0, []))
            if fuzzy <= 0 and score <= 0:
                continue
            if fuzzy > 0:  # Textual's own highlighting of the letters matched
                shown = matcher.highlight(command.title)
            else:
                shown = Content(command.title)
                for start, end in spans:
                    shown = shown.stylize(matcher.match_style or "reverse", start, end)
            yield Hit(
                score + fuzzy if score else fuzzy / SCATTERED,
                shown,
                command.callback,
                text=command.title,
                help=command.help,
            )
