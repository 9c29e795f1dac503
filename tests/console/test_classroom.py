"""Classroom aids (issue 19): the screenshot key, and the ``?`` help's lessons page.

- ``p`` (``F12`` anywhere, over a dialog too) saves an SVG of the screen in the screenshot
  folder (``$CAPCON_SCREENSHOT_DIR``, else ``screenshots`` in capcon's state folder), made
  if missing, and says the full path; a folder that cannot be written is said in words.
- The help has two pages, keys and lessons; every demo row a lesson names exists in the
  demo scenario, so a lesson cannot outlive a renamed row.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static, TabbedContent

from capcon.core.backends.sim.scenarios import build_scenario
from capcon.tui.console.app import CapconApp
from capcon.tui.console.screens.help import LESSONS, HelpScreen, cited_rows, lessons_text
from capcon.tui.console.testing import DEMO_NOW, demo_console, plain, settle
from capcon.tui.screenshots import SCREENSHOT_DIR_ENV, screenshot_dir

SIZE = (160, 50)


def notes(app: CapconApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --------------------------------------------------------------------------------------------
# Screenshots
# --------------------------------------------------------------------------------------------


async def test_p_saves_an_svg_in_a_folder_it_makes_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "class" / "shots"  # neither exists yet
    monkeypatch.setenv(SCREENSHOT_DIR_ENV, str(folder))
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        await pilot.press("p")
        await pilot.pause()
        saved = sorted(folder.glob("*.svg"))
        assert len(saved) == 1
        assert saved[0].read_text().startswith("<svg")
        assert "audit-log" in saved[0].read_text()  # the list, as on screen
        assert any(f"screenshot saved: {saved[0].resolve()}" in n for n in notes(app))


async def test_f12_saves_over_a_dialog_where_p_is_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCREENSHOT_DIR_ENV, str(tmp_path / "shots"))
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to("orders")
        app.action_scale()
        await settle(app, pilot)
        modal = app.screen
        await pilot.press("f12")
        await pilot.pause()
        saved = list((tmp_path / "shots").glob("*.svg"))
        assert len(saved) == 1 and "Scale orders" in saved[0].read_text().replace("&#160;", " ")
        assert app.screen is modal  # still open


async def test_a_folder_that_cannot_be_written_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(SCREENSHOT_DIR_ENV, str(blocker / "shots"))
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        errors = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert f"screenshot not saved: cannot write to {blocker / 'shots'}" in errors[0]
        assert app.is_running and app.return_code is None


def test_the_default_folder_is_under_capcons_state_folder_not_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SCREENSHOT_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert screenshot_dir() == tmp_path / "state" / "capcon" / "screenshots"
    # the config key, relative to the config file's folder
    (tmp_path / "config" / "capcon").mkdir(parents=True)
    (tmp_path / "config" / "capcon" / "config.toml").write_text('screenshot_dir = "shots"\n')
    assert screenshot_dir() == tmp_path / "config" / "capcon" / "shots"
    monkeypatch.setenv(SCREENSHOT_DIR_ENV, "~/class")
    assert screenshot_dir() == Path("~/class").expanduser()
    assert screenshot_dir(tmp_path / "given") == tmp_path / "given"


async def test_the_lab_saves_a_screenshot_with_f12(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capcon.tui.lab.app import LabApp

    monkeypatch.setenv(SCREENSHOT_DIR_ENV, str(tmp_path / "lab-shots"))
    app = LabApp("bell", 70.0, ("aas", "h2"), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f12")
        await pilot.pause()
        assert len(list((tmp_path / "lab-shots").glob("*.svg"))) == 1
        assert any("screenshot saved" in str(n.message) for n in app._notifications)


# --------------------------------------------------------------------------------------------
# Help: keys and lessons
# --------------------------------------------------------------------------------------------


def test_every_row_a_lesson_names_is_in_the_demo() -> None:
    account = build_scenario("demo", DEMO_NOW)
    demo_rows = set(account.list_tables()) | set(account.list_streams())
    cited = cited_rows()
    assert cited, "the lessons name no row"
    assert cited <= demo_rows, cited - demo_rows
    # each field note has its lesson, and each lesson names at least one row
    assert [lesson.note for lesson in LESSONS] == ["A", "B", "C"]
    assert all(cited_rows((lesson,)) for lesson in LESSONS)
    # the field notes' own demo rows are taught
    assert {"inventory", "recommendations", "user-events", "checkout"} <= cited
    text = lessons_text()
    assert "{row:" not in text and "[b]inventory[/b]" in text


async def test_help_opens_on_keys_and_l_shows_the_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCREENSHOT_DIR_ENV, str(tmp_path / "shots"))
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        tabs = help_screen.query_one(TabbedContent)
        assert tabs.active == "keys"
        keys = plain(help_screen.query_one("#keys-text", Static))
        assert "screenshot" in keys and str(tmp_path / "shots") in keys
        await pilot.press("l")
        await pilot.pause()
        assert tabs.active == "lessons"
        lessons = help_screen.query_one("#lessons-text")
        assert lessons.region.height > 0  # on screen
        shown = "\n".join(plain(s) for s in lessons.query(Static))
        for lesson in LESSONS:
            assert f"{lesson.note}. {lesson.title}" in shown
        assert "capcon lab --pattern bell" in shown
        assert isinstance(lessons, VerticalScroll) and lessons.max_scroll_y > 0  # at 100×30
        await pilot.press("pagedown")
        await pilot.pause()
        assert lessons.scroll_y > 0
        await pilot.press("k")
        await pilot.pause()
        assert tabs.active == "keys"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
