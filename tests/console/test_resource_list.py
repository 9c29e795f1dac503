"""The capacity list widget on its own: keys, mouse, scrolling, and how cells are drawn.

Cells are compared with Rich's own rendering of the same ``Text`` (the widget turns text
into segments itself, so this is what proves it draws what Rich would), character by
character, style included.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from capcon.tui.console.widgets.resource_list import Column, ResourceList, UnknownCell

COLUMNS = (Column("name", "name", 10), Column("util", "util", 5), Column("spark", "spark", 6))


def rows(count: int) -> list[tuple[str, list[Text]]]:
    return [
        (f"t{i:03d}", [Text(f"t{i:03d}"), Text(f"{i}%", justify="right"), Text("▁▂▃")])
        for i in range(count)
    ]


class ListApp(App[None]):
    def __init__(self, count: int, columns: tuple[Column, ...] = COLUMNS) -> None:
        super().__init__()
        self.count = count
        self.columns = columns
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield ResourceList(self.columns)

    def on_mount(self) -> None:
        table = self.query_one(ResourceList)
        table.set_rows(rows(self.count))
        table.focus()

    def on_resource_list_opened(self, message: ResourceList.Opened) -> None:
        self.opened.append(message.key)


def line(table: ResourceList, y: int) -> str:
    return table.render_lines(Region(0, y, table.size.width, 1))[0].text


async def run(app: ListApp, scenario: Any, size: tuple[int, int] = (40, 12)) -> None:
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await scenario(app.query_one(ResourceList), pilot)


async def test_keys_move_the_cursor_and_keep_it_on_screen_under_a_fixed_header() -> None:
    async def scenario(table: ResourceList, pilot: Any) -> None:
        assert table.size.height == 12  # the header and 11 rows
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and table.cursor_key == "t002"
        await pilot.press("pagedown")
        assert table.cursor_row == 13
        assert table.scroll_offset.y == 3  # the cursor's row is the last one on screen
        assert line(table, 0).split()[:3] == ["name", "util", "spark"]  # the header stays
        assert line(table, 11).split()[0] == "t013"
        await pilot.press("end")
        assert table.cursor_row == 99
        assert line(table, 11).split()[0] == "t099"
        await pilot.press("down")  # past the end: stays
        assert table.cursor_row == 99
        await pilot.press("pageup")
        assert table.cursor_row == 88
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        await pilot.press("up")
        assert table.cursor_row == 0

    await run(ListApp(100), scenario)


async def test_enter_and_double_click_open_a_row_a_single_click_selects_it() -> None:
    app = ListApp(5)

    async def scenario(table: ResourceList, pilot: Any) -> None:
        await pilot.press("down", "enter")
        assert app.opened == ["t001"]
        await pilot.click(ResourceList, offset=(2, 4))  # line 4: row 3
        await pilot.pause()
        assert table.cursor_row == 3 and app.opened == ["t001"]
        await pilot.click(ResourceList, offset=(2, 0))  # the header: nothing
        await pilot.click(ResourceList, offset=(2, 9))  # below the last row: nothing
        await pilot.pause()
        assert table.cursor_row == 3
        await pilot.double_click(ResourceList, offset=(2, 2))
        await pilot.pause()
        assert table.cursor_row == 1 and app.opened == ["t001", "t001"]

    await run(app, scenario)


async def test_an_empty_list_has_no_cursor_row_to_open() -> None:
    app = ListApp(0)

    async def scenario(table: ResourceList, pilot: Any) -> None:
        await pilot.press("down", "end", "enter")
        assert table.cursor_key is None and table.row_count == 0 and app.opened == []
        assert line(table, 1).strip() == ""

    await run(app, scenario)


async def test_update_cells_changes_only_what_it_names_and_refuses_unknown_cells_whole() -> None:
    async def scenario(table: ResourceList, pilot: Any) -> None:
        before = [line(table, y) for y in range(1, 4)]
        repainted: list[tuple[Region, ...]] = []
        refresh = table.refresh

        def spy(*regions: Region, **options: Any) -> Any:
            repainted.append(regions)
            return refresh(*regions, **options)

        table.refresh = spy  # type: ignore[method-assign]
        table.update_cells([("t001", "util", Text("99%", justify="right"))])
        table.update_cells([("t040", "util", Text("1%", justify="right"))])  # off screen
        assert repainted == [(Region(0, 2, table.size.width, 1),)]  # t001's line, no other
        del table.refresh
        await pilot.pause()
        after = [line(table, y) for y in range(1, 4)]
        assert after[0] == before[0] and after[2] == before[2]
        assert "99%" in after[1] and table.get_cell("t001", "util").plain == "99%"
        with pytest.raises(UnknownCell, match="'nope'"):
            table.update_cells([("t002", "util", Text("1%")), ("nope", "util", Text("2%"))])
        with pytest.raises(UnknownCell, match="'colour'"):
            table.update_cells([("t002", "colour", Text("red"))])
        assert table.get_cell("t002", "util").plain == "2%"  # the valid change was not made
        with pytest.raises(UnknownCell):
            table.get_cell("t002", "colour")

    await run(ListApp(50), scenario)


def test_set_rows_refuses_a_duplicate_key_or_a_short_row() -> None:
    table = ResourceList(COLUMNS)
    with pytest.raises(ValueError, match="'a' appears twice"):
        table.set_rows([("a", [Text("a")] * 3), ("a", [Text("a")] * 3)])
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        table.set_rows([("a", [Text("a")] * 2)])
    assert table.row_count == 0


async def test_the_cursor_stays_on_its_index_clamped_when_rows_are_replaced() -> None:
    async def scenario(table: ResourceList, pilot: Any) -> None:
        table.move_cursor(row=8)
        table.set_rows(rows(4))
        assert table.cursor_row == 3 and table.row_keys == ["t000", "t001", "t002", "t003"]

    await run(ListApp(10), scenario)


async def test_a_list_wider_than_the_screen_scrolls_sideways_and_keeps_its_row_background() -> None:
    async def scenario(table: ResourceList, pilot: Any) -> None:
        assert table.table_width == 27
        assert table.max_scroll_x == 27 - 20
        await pilot.press("right")
        assert table.scroll_offset.x == 1
        assert line(table, 1).startswith("t000 ")  # the pad before "t000" scrolled off

    await run(ListApp(3), scenario, size=(20, 8))

    async def wide(table: ResourceList, pilot: Any) -> None:
        assert table.max_scroll_x == 0
        row = table.render_lines(Region(0, 1, 60, 1))[0]
        assert row.cell_length == 60
        backgrounds = {segment.style.bgcolor for segment in row if segment.style}
        assert len(backgrounds) == 1  # the row's background runs to the edge, in one colour

    await run(ListApp(3), wide, size=(60, 8))


# --- cells: the same characters and styles as Rich --------------------------------------


def cells(segments: list[Segment]) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for segment in segments for char in segment.text]


def rich_cells(text: Text, width: int, base: Style) -> list[tuple[str, Style | None]]:
    console = Console(width=width, color_system="truecolor", legacy_windows=False)
    lines = console.render_lines(text, console.options.update(width=width, no_wrap=True))
    rendered = list(Segment.apply_style(lines[0], base))
    return cells(rendered)


TEXTS = [
    Text("plain"),
    Text("right", justify="right"),
    Text("centre", justify="center"),
    Text("bold red", style="bold red"),
    Text.assemble(("▁▂", "#4aa3ff"), ("▇█", "#ffb000"), "··", ("▃", "#ff4f6d")),
    Text.assemble("pre ", ("mid", "italic"), " post", style="green"),
    Text.assemble(("12", "bold"), "%", justify="right"),
]


@pytest.mark.parametrize("text", TEXTS, ids=[t.plain or "blank" for t in TEXTS])
def test_a_cell_draws_the_characters_and_styles_rich_draws(text: Text) -> None:
    table = ResourceList(COLUMNS)
    base = Style(bgcolor="#202020", color="#d0d0d0")
    ours = cells(table._cell(text, 12, base, Style()))
    theirs = rich_cells(text, 12, base)
    assert [c for c, _ in ours] == [c for c, _ in theirs]
    for (char, mine), (_, rich) in zip(ours, theirs, strict=True):
        if char != " ":  # a blank's foreground is invisible
            assert mine == rich, char
        assert (mine or Style()).bgcolor == (rich or Style()).bgcolor


def test_overlapping_spans_are_left_to_rich() -> None:
    text = Text("abcdef")
    text.stylize("bold", 0, 4)
    text.stylize("red", 2, 6)
    table = ResourceList(COLUMNS)
    ours = cells(table._cell(text, 8, Style(), Style()))
    assert "".join(c for c, _ in ours) == "abcdef  "
    assert ours[3][1] == Style.parse("bold red")


def test_a_long_cell_is_cut_with_an_ellipsis_keeping_its_styles() -> None:
    table = ResourceList(COLUMNS)
    text = Text.assemble(("orders-", "red"), "archive-2026")
    ours = cells(table._cell(text, 10, Style(), Style()))
    assert "".join(c for c, _ in ours) == "orders-ar…"
    assert ours[0][1] == Style.parse("red") and ours[8][1] == Style()


def test_the_cursor_colour_wins_over_a_cells_own() -> None:
    table = ResourceList(COLUMNS)
    post = Style(color="#000000")
    ours = cells(table._cell(Text("hot", style="#ff0000"), 5, Style(bgcolor="#0000ff"), post))
    assert {style.color.name for _, style in ours if style and style.color} == {"#000000"}
