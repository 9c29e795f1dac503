"""The capacity list: one line per table, index or stream, drawn with Textual's line API.

Why not ``DataTable``: a live list changes a few cells of most rows every poll (the
sparklines move each simulated minute), and ``DataTable`` renders each changed cell through
Rich's ``Padding`` and ``Text`` wrapping and assembles the row from per-cell line lists
again.  On the demo that was most of the open console's CPU.  This widget keeps one
rendered :class:`~textual.strip.Strip` per row, rebuilt only when that row's cells, its
cursor or the styles change, and turns each cell's ``Text`` into segments directly (a cell
is one line: no wrapping to measure).  It keeps ``DataTable``'s look and its keys: a fixed
header, a row cursor, zebra stripes, themes through component classes, and it scrolls both
ways.  Enter (or a double click) asks the app to open the row.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: blank cells either side of each cell's text
PADDING = 1
ELLIPSIS = "…"


@functools.cache
def _style_console() -> Console:
    """A console to resolve styles with (``Text.render`` asks one; nothing is printed)."""
    return Console(file=io.StringIO(), color_system="truecolor", width=1000)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # cells of text, padding not included


class UnknownCell(KeyError):
    """``update_cells``/``get_cell`` named a row or column the list does not have."""


class ResourceList(ScrollView, can_focus=True):
    """Rows of ``Text`` cells under a fixed header; a row cursor; only changed rows drawn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Detail", show=True),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First", show=False),
        Binding("end", "cursor_last", "Last", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "resource-list--header",
        "resource-list--cursor",
        "resource-list--even-row",
        "resource-list--odd-row",
    }

    # DataTable's look, so themes written for it read the same
    DEFAULT_CSS = """
    ResourceList {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .resource-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .resource-list--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .resource-list--even-row {
            background: $surface-darken-1 40%;
        }
        & > .resource-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .resource-list--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .resource-list--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .resource-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Opened(Message):
        """Enter or a double click on a row."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self._column_index = {column.key: i for i, column in enumerate(self.columns)}
        self.table_width = sum(column.width + 2 * PADDING for column in self.columns)
        self._keys: list[str] = []
        self._positions: dict[str, int] = {}
        self._rows: dict[str, list[Text]] = {}
        self._versions: dict[str, int] = {}
        self._version = 0
        self._cursor = 0
        self._strips: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._blank: tuple[int, Style] | None = None
        self._styles: dict[str, Style] = {}
        self._row_styles: dict[tuple[int, bool], tuple[Style, Style]] = {}
        self._style_generation = 0

    # --- rows ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def row_keys(self) -> list[str]:
        """Row keys, top to bottom."""
        return list(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self._cursor] if self._keys else None

    def set_rows(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Replace every row (``(key, cells)``, cells in column order); the cursor stays on
        its index, clamped."""
        keys: list[str] = []
        cells: dict[str, list[Text]] = {}
        for key, row in rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {key!r}: {len(row)} cells for {len(self.columns)} columns")
            if key in cells:
                raise ValueError(f"row {key!r} appears twice")
            keys.append(key)
            cells[key] = list(row)
        self._keys, self._rows = keys, cells
        self._positions = {key: i for i, key in enumerate(keys)}
        self._version += 1
        self._versions = dict.fromkeys(keys, self._version)
        self._strips.clear()
        self.virtual_size = Size(self.table_width, len(keys) + 1)
        self._cursor = max(0, min(self._cursor, len(keys) - 1))
        self.refresh()

    def get_cell(self, key: str, column: str) -> Text:
        try:
            return self._rows[key][self._column_index[column]]
        except KeyError:
            raise UnknownCell(f"no cell for row {key!r}, column {column!r}") from None

    def update_cells(self, changes: Iterable[tuple[str, str, Text]]) -> None:
        """Set cells (``(row key, column key, text)``); repaint only the changed lines on
        screen.  An unknown row or column raises :class:`UnknownCell` before any change."""
        resolved: list[tuple[list[Text], int, Text, str]] = []
        for key, column, value in changes:
            row, index = self._rows.get(key), self._column_index.get(column)
            if row is None or index is None:
                raise UnknownCell(f"no cell for row {key!r}, column {column!r}")
            resolved.append((row, index, value, key))
        if not resolved:
            return
        self._version += 1
        changed: set[str] = set()
        for row, index, value, key in resolved:
            row[index] = value
            self._versions[key] = self._version
            changed.add(key)
        self._refresh_rows(self._positions[key] for key in changed)

    # --- cursor -------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        row = max(0, min(row, len(self._keys) - 1))
        old, self._cursor = self._cursor, row
        if old != row:
            self._refresh_rows((old, row))
        self._scroll_to_cursor()

    def _page(self) -> int:
        """Rows one screen shows under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top, page = round(self.scroll_offset.y), self._page()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + page:
            self.scroll_to(y=self._cursor - page + 1, animate=False, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page())

    def action_cursor_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page())

    def action_cursor_first(self) -> None:
        self.move_cursor(row=0)

    def action_cursor_last(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_open(self) -> None:
        if self._keys:
            self.post_message(self.Opened(self._keys[self._cursor]))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:  # the header
            return
        index = offset.y - 1 + round(self.scroll_offset.y)
        if 0 <= index < len(self._keys):
            self.move_cursor(row=index)
            if event.chain >= 2:
                self.action_open()

    # --- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        """A theme or pseudo-class change (focus too: the cursor is drawn differently
        with focus): every line is drawn again."""
        self._row_styles.clear()
        self._style_generation += 1
        self.refresh()

    def _refresh_rows(self, indexes: Iterable[int]) -> None:
        """Repaint these rows' lines, those on screen (one repaint for all of them)."""
        top, (width, height) = round(self.scroll_offset.y), self.size
        lines = {index + 1 - top for index in indexes}
        regions = [Region(0, y, width, 1) for y in sorted(lines) if 1 <= y < height]
        if regions:
            self.refresh(*regions)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            strip = self._header_strip(width)
        else:
            index = y - 1 + scroll_y
            if index >= len(self._keys):
                return Strip.blank(width, self._blank_style())
            strip = self._row_strip(index, width)
        # lines are at least as wide as the widget: cropping is all a scroll needs
        return strip.crop(scroll_x, scroll_x + width)

    def _blank_style(self) -> Style:
        """The widget's own style, below the last row (cached until the styles change)."""
        if self._blank is None or self._blank[0] != self._style_generation:
            self._blank = (self._style_generation, self.rich_style)
        return self._blank[1]

    def _header_strip(self, width: int) -> Strip:
        token = (self._style_generation, width)
        if self._header is None or self._header[0] != token:
            style = self.get_component_styles("resource-list--header").rich_style
            labels = [Text(column.label) for column in self.columns]
            self._header = (token, self._line(labels, style, Style(), width))
        return self._header[1]

    def _row_strip(self, index: int, width: int) -> Strip:
        key = self._keys[index]
        cursor = index == self._cursor
        token = (self._versions[key], cursor, index % 2, self._style_generation, width)
        cached = self._strips.get(key)
        if cached is not None and cached[0] == token:
            return cached[1]
        style, post = self._row_style(index % 2, cursor)
        strip = self._line(self._rows[key], style, post, width)
        self._strips[key] = (token, strip)
        return strip

    def _row_style(self, odd: int, cursor: bool) -> tuple[Style, Style]:
        """The row's base style and the style laid over its cells' own (both cached until
        the styles change: resolving component styles walks the DOM)."""
        cached = self._row_styles.get((odd, cursor))
        if cached is None:
            name = "resource-list--odd-row" if odd else "resource-list--even-row"
            style, post = self.get_component_styles(name).rich_style, Style()
            if cursor:
                cursor_style = self.get_component_rich_style("resource-list--cursor")
                style += cursor_style
                post = Style.from_color(color=cursor_style.color)  # the cursor's colour wins
            cached = self._row_styles[(odd, cursor)] = (style, post)
        return cached

    def _line(self, cells: Sequence[Text], style: Style, post: Style, width: int) -> Strip:
        pad = Segment(" " * PADDING, style)
        segments: list[Segment] = []
        for column, text in zip(self.columns, cells, strict=True):
            segments.append(pad)
            segments.extend(self._cell(text, column.width, style, post))
            segments.append(pad)
        if width > self.table_width:  # the row's background runs to the edge
            segments.append(Segment(" " * (width - self.table_width), style))
        return Strip(segments, max(width, self.table_width))

    def _style(self, style: str | Style) -> Style:
        if isinstance(style, Style):
            return style
        parsed = self._styles.get(style)
        if parsed is None:
            parsed = self._styles[style] = Style.parse(style)
        return parsed

    def _cell(self, text: Text, width: int, base: Style, post: Style) -> list[Segment]:
        """``text`` as exactly ``width`` cells: cropped with an ellipsis when too long,
        placed by its ``justify``; spans styled over ``base``, ``post`` on top."""
        if text.style:
            base = base + self._style(text.style)
        plain = text.plain
        length = cell_len(plain)
        if length > width:
            # cut (keeping the spans that start before the cut) and mark the cut
            cut = Text(set_cell_size(plain, width - 1) + ELLIPSIS)
            cut.spans = [span for span in text.spans if span.start < width - 1]
            text, plain, length = cut, cut.plain, width
        runs: list[Segment] = []
        position = 0
        for span in sorted(text.spans, key=lambda s: s.start):
            if span.start < position:  # overlapping spans: let Rich resolve them
                return self._rendered(text, width, base, post)
            if span.start > position:
                runs.append(Segment(plain[position : span.start], base + post))
            end = min(span.end, len(plain))
            runs.append(Segment(plain[span.start : end], base + self._style(span.style) + post))
            position = end
        if position < len(plain):
            runs.append(Segment(plain[position:], base + post))
        room = width - length
        if room <= 0:
            return runs
        fill = base + post
        if text.justify == "right":
            return [Segment(" " * room, fill), *runs]
        if text.justify == "center":
            left = room // 2
            return [Segment(" " * left, fill), *runs, Segment(" " * (room - left), fill)]
        runs.append(Segment(" " * room, fill))
        return runs

    def _rendered(self, text: Text, width: int, base: Style, post: Style) -> list[Segment]:
        segments = list(text.render(_style_console()))
        segments = Segment.adjust_line_length(list(Segment.apply_style(segments, base)), width)
        return list(Segment.apply_style(segments, post_style=post))
