"""The lab on a projector (issue 19): one y-scale across lanes, round time ticks, charts that
draw at 100×30 with four lanes, a full decision log, a stop at the experiment's 3 h, settings
changed in place, and bad lane lists refused (exit 2 on the command line, a message in the
app)."""

from __future__ import annotations

import re

import pytest
from textual.color import Color
from textual.widgets import Input, Static
from textual_plotext import PlotextPlot

from capcon.core.backends.sim.experiment import EXPERIMENT_HOURS, run_experiment
from capcon.tui.cli.main import main
from capcon.tui.lab.app import DecisionLog, LabApp
from capcon.tui.lab.axes import TIME_STEPS, time_ticks, value_ticks
from capcon.tui.lab.settings import SettingsDialog

FOUR = ("aas-legacy", "aas", "h2", "capcon")
CLOCK = re.compile(r"^\d+:[0-5]\d$")


# --- axes ------------------------------------------------------------------------------------


def test_time_ticks_are_round_clock_times_that_fit_their_width() -> None:
    positions, labels = time_ticks(180, 70)
    assert labels == ["0:00", "0:30", "1:00", "1:30", "2:00", "2:30", "3:00"]
    assert positions == [0, 30, 60, 90, 120, 150, 180]
    narrow_positions, narrow = time_ticks(180, 30)
    assert len(narrow) * 8 <= 30 and narrow[0] == "0:00"
    assert all(CLOCK.match(label) for label in narrow)
    step = narrow_positions[1] - narrow_positions[0]
    assert step in TIME_STEPS


def test_value_ticks_are_whole_round_numbers_at_most_one_every_other_row() -> None:
    top, positions, labels = value_ticks(430, 9)
    assert top == 500 and labels == ["0", "250", "500"] and positions == [0, 250, 500]
    top, _positions, labels = value_ticks(5_000, 20)
    assert top == 5_000 and labels[1] == "1,000" and len(labels) <= 10
    assert value_ticks(0, 3)[0] >= 1  # an empty chart still has an axis


# --- the app ---------------------------------------------------------------------------------


async def test_one_y_scale_across_lanes_by_default_and_y_gives_each_its_own() -> None:
    app = LabApp("bell", 80.0, ("aas-legacy", "h2"), autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        app.advance(95 * 60)  # past the bell's peak: the lanes provisioned differently
        await pilot.pause()
        tops = [lane.axis_top for lane in app.lanes]
        assert tops[0] == tops[1]
        assert "one y-scale" in str(app.query_one("#lab-status", Static).render())
        await pilot.press("y")
        await pilot.pause()
        own = [lane.axis_top for lane in app.lanes]
        assert own[0] != own[1]
        assert "y-scale per lane" in str(app.query_one("#lab-status", Static).render())


async def test_four_lanes_at_100x30_draw_charts_with_round_time_ticks() -> None:
    app = LabApp("bell", 70.0, FOUR, autoplay=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance(90 * 60)
        await pilot.pause()
        for plot in app.query(PlotextPlot):
            assert plot.size.height >= 5 and plot.size.width >= 30
        for lane in app.lanes:
            assert lane.time_labels[0] == "0:00" and len(lane.time_labels) >= 3
            assert all(CLOCK.match(label) for label in lane.time_labels)
        screen = app.export_screenshot()
        assert "0:00" in screen and "3:00" in screen
        assert "254.2" not in screen


async def test_the_decision_log_keeps_every_line_whole_and_l_focuses_it() -> None:
    app = LabApp("bell", 80.0, FOUR, autoplay=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance(90 * 60)
        await pilot.pause()
        logs = list(app.query(DecisionLog))
        capcon = logs[3]
        assert any(len(line.plain) > 60 for line in capcon.entries)  # longer than the lane
        for log in logs:
            # wrapped to the log's width: nothing to scroll sideways, nothing cut
            assert log.virtual_size.width <= log.scrollable_content_region.width
            assert len(log.lines) >= len(log.entries)
        await pilot.press("l")
        assert app.focused is logs[0]
        assert logs[0].parent is not None and logs[0].parent.has_class("reading")
        await pilot.press("l")
        assert app.focused is logs[1]
        await pilot.press("escape")
        assert app.focused is None
        assert not any(lane.has_class("reading") for lane in app.query(".lane"))


async def test_the_run_stops_at_3_h_with_the_grids_totals_until_c() -> None:
    app = LabApp("bell", 80.0, ("aas-legacy", "h1"), autoplay=True, speed=3_600)
    async with app.run_test(size=(160, 50)) as pilot:
        app.advance(5 * 3600)
        await pilot.pause()
        assert app.elapsed_seconds == round(EXPERIMENT_HOURS * 3600)
        assert not app.playing
        assert "3 h done — press c to continue" in str(
            app.query_one("#lab-status", Static).render()
        )
        for lane in app.lanes:  # the same numbers as `capcon sim --grid`
            grid = run_experiment("bell", 80.0, lane.policy)
            assert lane.figures["success"] == pytest.approx(grid.success_rate, abs=1e-12)
            assert lane.figures["unit_hours"] == pytest.approx(grid.capacity_unit_hours)
        await pilot.press("space")  # play does not run past the stop
        assert not app.playing
        await pilot.press("c")
        assert app.playing and app.continued
        await pilot.press("space")  # pause again: past the stop now
        before = app.elapsed_seconds
        app.advance(600)
        assert app.elapsed_seconds == before + 600 > round(EXPERIMENT_HOURS * 3600)


async def test_settings_change_pattern_target_and_lanes_in_place() -> None:
    app = LabApp("bell", 70.0, FOUR, autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        app.advance(30 * 60)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, SettingsDialog)
        dialog.query_one("#settings-pattern", Input).value = "top-heavy"
        dialog.query_one("#settings-target", Input).value = "50"
        dialog.query_one("#settings-policies", Input).value = "aas, h1, h2"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsDialog)
        assert (app.pattern, app.target, app.policy_names) == (
            "top-heavy",
            50.0,
            ("aas", "h1", "h2"),
        )
        assert app.elapsed_seconds == 0  # the lanes restarted
        assert len(app.query(".lane")) == 3 and len(app.query(DecisionLog)) == 3
        assert "top-heavy · target 50%" in str(app.query_one("#lab-status", Static).render())


@pytest.mark.parametrize(
    ("policies", "words"),
    [
        ("aas,aas", "more than once"),
        ("aas,h9", "unknown lane 'h9'"),
        ("aas", "choose 2 to 4"),
        ("aas,kinesis-ish", "unknown lane 'kinesis-ish'"),
    ],
)
async def test_a_bad_lane_list_is_named_in_the_dialog_and_nothing_changes(
    policies: str, words: str
) -> None:
    app = LabApp("bell", 70.0, FOUR, autoplay=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance(600)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, SettingsDialog)
        dialog.query_one("#settings-policies", Input).value = policies
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert words in str(dialog.query_one("#settings-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsDialog)
        assert app.policy_names == FOUR and app.elapsed_seconds == 600


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--policies", "aas,aas"], "more than once"),
        (["--policies", "aas,h9"], "unknown lane 'h9'"),
        (["--policies", "h2"], "choose 2 to 4"),
        (["--policies", "aas,h1,h2,capcon,oracle"], "choose 2 to 4"),
        (["--pattern", "bell", "--policies", "aas,scheduled"], "known event"),
    ],
)
def test_bad_lane_lists_exit_2_naming_the_problem(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", *argv]) == 2
    captured = capsys.readouterr()
    assert words in captured.err + captured.out
    assert "Traceback" not in captured.err


async def test_the_lab_starts_in_the_configured_theme_and_t_cycles_with_the_charts() -> None:
    def shown(app: LabApp, variable: str) -> bool:
        """The status line as drawn carries the theme's colour for ``variable``."""
        r, g, b = Color.parse(app.theme_variables[variable]).rgb
        drawn = app.query_one("#lab-status", Static).render()
        return f"Color({r}, {g}, {b})" in str(getattr(drawn, "spans", ""))

    app = LabApp("bell", 70.0, ("aas", "h2"), autoplay=False, theme="capcon-projector")
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance(30 * 60)
        await pilot.pause()
        assert app.theme == "capcon-projector"
        assert shown(app, "demand")
        before = app.theme_variables["demand"]
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "capcon-colorblind"
        assert app.theme_variables["demand"] != before
        assert shown(app, "demand")  # repainted in the new theme's colours
