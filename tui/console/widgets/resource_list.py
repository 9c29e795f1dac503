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

Column widths follow the widget's width (:func:`fit_columns`): on a narrow terminal the
flexible columns (the sparklines) give room first, then columns with a compact form (kind,
mode, status: short words under a short label) and the gaps between columns, then the
flexible columns down to their least and the compact-only columns (the name) by as much as
needed; only then does the list scroll sideways.  On a wide terminal the flexible columns take
the spare room.  Each new fit posts :class:`ResourceList.Refitted`, so the owner can redraw
cells whose content depends on a width (a sparkline's minutes).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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
    compact: int | None = None
    """The width this column narrows to when the screen is narrow (``None``: never)."""
    short_label: str | None = None
    """The label of the compact column (``None``: the label, cut to fit)."""
    short: tuple[tuple[str, str], ...] = ()
    """Words drawn shorter in the compact column (``("provisioned", "prov")``); any other
    text too long for it is cut with an ellipsis."""
    flex: tuple[int, int] | None = None
    """``(least, most)``: a flexible column gives room first, down to ``least`` (and is
    hidden when even that does not fit), and takes spare room up to ``most``."""


#: A flexible column shrinks to this before any other column gives room.
FLEX_COMFORT = 8


@dataclass(frozen=True)
class Fit:
    """The columns as drawn at one width: their widths, which are compact, and the gap."""

    columns: tuple[Column, ...]
    """The columns shown, in order, each with the width it is drawn at (hidden ones left
    out); a compact one carries its short label as its label."""
    compact: frozenset[str]
    pad: tuple[int, int]
    """Blank cells left and right of each cell."""

    @property
    def width(self) -> int:
        return sum(c.width + self.pad[0] + self.pad[1] for c in self.columns)

    def width_of(self, key: str) -> int:
        """The drawn width of column ``key`` (0 when hidden)."""
        return next((c.width for c in self.columns if c.key == key), 0)


def fit_columns(columns: Sequence[Column], room: int | None) -> Fit:
    """``columns`` laid out in ``room`` cells (``None``: as declared).  Pure; see the module's
    docstring for the order in which columns give room."""
    widths = {c.key: c.width for c in columns}
    compact: set[str] = set()
    hidden: set[str] = set()
    pad = (PADDING, PADDING)
    flex = [c for c in columns if c.flex is not None]

    def total() -> int:
        shown = [k for k in widths if k not in hidden]
        return sum(widths[k] for k in shown) + len(shown) * (pad[0] + pad[1])

    def shrink(candidates: Sequence[Column], floor: dict[str, int]) -> None:
        """Narrow ``candidates`` one cell at a time, the widest first, down to ``floor``."""
        while room is not None and total() > room:
            open_ = [c for c in candidates if widths[c.key] > floor[c.key]]
            if not open_:
                return
            widest = max(open_, key=lambda c: widths[c.key])
            widths[widest.key] -= 1

    if not any(c.compact is not None or c.flex is not None for c in columns):
        room = None  # fixed columns: drawn as declared, and scrolled sideways when too wide
    if room is not None and total() > room:
        # 1. sparklines down to a comfortable width
        shrink(flex, {c.key: max(FLEX_COMFORT, c.flex[0]) for c in flex if c.flex})
        # 2. columns with short words become compact, all at once (a column half-compact
        #    would show cut words)
        for c in columns:
            if total() <= room:
                break
            if c.compact is not None and c.short_label is not None:
                widths[c.key] = min(widths[c.key], c.compact)
                compact.add(c.key)
        # 3. one blank between columns instead of two
        if total() > room:
            pad = (0, PADDING)
        # 4. sparklines to their least, then the compact-only columns (the name) as needed
        shrink(flex, {c.key: c.flex[0] for c in flex if c.flex})
        rest = [c for c in columns if c.compact is not None and c.short_label is None]
        shrink(rest, {c.key: c.compact for c in rest if c.compact is not None})
        compact.update(c.key for c in rest if widths[c.key] < c.width)
        # 5. the sparklines go
        if total() > room:
            hidden.update(c.key for c in flex)
    elif room is not None and flex:
        # spare room: the sparklines grow, evenly, up to their most
        while total() < room:
            open_ = [c for c in flex if c.flex and widths[c.key] < c.flex[1]]
            if not open_:
                break
            narrowest = min(open_, key=lambda c: widths[c.key])
            widths[narrowest.key] += 1

    fitted = tuple(
        replace(
            c,
            width=widths[c.key],
            label=(c.short_label or c.label) if c.key in compact else c.label,
        )
        for c in columns
        if c.key not in hidden
    )
    return Fit(fitted, frozenset(compact), pad)


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
        self._fit = fit_columns(self.columns, None)
        self._drawn = self._drawn_columns(self._fit)
        self.table_width = self._fit.width
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

    class Highlighted(Message):
        """The cursor is on another row (``None``: the list is empty)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Resized(Message):
        """The list's size changed (its owner may lay the screen out again)."""

    class Refitted(Message):
        """The columns were fitted to a new width (their widths are :attr:`ResourceList.fit`)."""

    # --- columns ------------------------------------------------------------------------

    @property
    def fit(self) -> Fit:
        """The columns as drawn now."""
        return self._fit

    def width_of(self, key: str) -> int:
        """The drawn width of column ``key`` (0 when hidden at this width)."""
        return self._fit.width_of(key)

    def _drawn_columns(self, fit: Fit) -> tuple[tuple[Column, int, dict[str, str]], ...]:
        """Each drawn column with its index in the rows' cells and its short words."""
        return tuple(
            (c, self._column_index[c.key], dict(c.short) if c.key in fit.compact else {})
            for c in fit.columns
        )

    def _room(self) -> int:
        """Cells a line may take: the widget's width less a vertical scrollbar's, always
        (whether rows overflow must not change the widths: no back and forth)."""
        return max(1, self.size.width - self.styles.scrollbar_size_vertical)

    def refit(self, room: int | None = None) -> bool:
        """Fit the columns to ``room`` cells (default: the widget's width); redraw and post
        :class:`Refitted` when that changes anything.  Returns whether it did."""
        fit = fit_columns(self.columns, self._room() if room is None else room)
        if fit == self._fit:
            return False
        self._fit = fit
        self._drawn = self._drawn_columns(fit)
        self.table_width = fit.width
        self._strips.clear()
        self._header = None
        self.virtual_size = Size(self.table_width, len(self._keys) + 1)
        self.refresh()
        self.post_message(self.Refitted())
        return True

    def on_resize(self, event: events.Resize) -> None:
        self.refit()
        self.post_message(self.Resized())

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
        before = self.cursor_key
        self._keys, self._rows = keys, cells
        self._positions = {key: i for i, key in enumerate(keys)}
        self._version += 1
        self._versions = dict.fromkeys(keys, self._version)
        self._strips.clear()
        self.virtual_size = Size(self.table_width, len(keys) + 1)
        self._cursor = max(0, min(self._cursor, len(keys) - 1))
        self.refresh()
        if self.cursor_key != before:
            self.post_message(self.Highlighted(self.cursor_key))

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
            self.post_message(self.Highlighted(self.cursor_key))
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
            labels = [Text(column.label) for column in self.columns]  # cells' order
            self._header = (token, self._line(labels, style, Style(), width, header=True))
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

    def _line(
        self,
        cells: Sequence[Text],
        style: Style,
        post: Style,
        width: int,
        *,
        header: bool = False,
    ) -> Strip:
        left, right = self._fit.pad
        pad_left, pad_right = Segment(" " * left, style), Segment(" " * right, style)
        segments: list[Segment] = []
        for column, index, short in self._drawn:
            text = cells[index]
            if header:
                # the compact label when compact, or when the label is wider than the column
                label = column.label
                if column.short_label and cell_len(label) > column.width:
                    label = column.short_label
                text = Text(label)
            elif short and text.plain in short:
                text = Text(short[text.plain], style=text.style, justify=text.justify)
            if left:
                segments.append(pad_left)
            segments.extend(self._cell(text, column.width, style, post))
            segments.append(pad_right)
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
