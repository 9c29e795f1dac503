"""One grammar for the preview dialogs, keys that are never lost, and the palette's search
(issue 19).

- Enter applies in the scale, auto-scaling and event dialogs alike; where it cannot, it moves
  the focus to what is still needed; Escape cancels; Tab visits only controls (never the
  plan panel); focus is styled in every built-in theme.
- Keys typed in a burst arrive in order: :func:`burst` posts every key to the driver before
  the app handles the first, which is how a terminal delivers fast typing (``pilot.press``
  waits for the app to go idle after each key, which hides the races).
- The palette finds a command by any word of its title or help ("thr").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.color import Color
from textual.widgets import Button, Input, Select, Static

from capcon.tui.console.app import SORTS, CapconApp
from capcon.tui.console.modals.autoscaling import AutoScalingModal
from capcon.tui.console.modals.event import EventModal
from capcon.tui.console.modals.grammar import KEY_HINT, PlanModal, PlanPanel
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.palette import AnyWordCommands, any_word_hits
from capcon.tui.console.testing import demo_console, plain, settle
from capcon.tui.console.theming import BUILTIN_THEME_FILES, THEME_ALIASES

SIZE = (160, 50)
THEMES = [THEME_ALIASES[stem] for stem in BUILTIN_THEME_FILES]
NAMED_KEYS = {"/": "slash", " ": "space", "\b": "backspace", "\r": "enter", "\t": "tab"}


def burst(app: CapconApp, *keys: str) -> None:
    """Every key posted to the driver at once, with no pause between them (a fast typist,
    or tmux's send-keys): ``"\\b"`` is Backspace, ``"\\r"`` Enter, ``"\\t"`` Tab."""
    driver = app._driver
    assert driver is not None
    for text in keys:
        for char in text:
            name = NAMED_KEYS.get(char, char)
            printable = char if char.isprintable() else None
            driver.send_message(events.Key(name, printable))


async def started(tmp_path: Path, pilot: Any, app: CapconApp) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None


async def opened(app: CapconApp, pilot: Any, name: str, action: str) -> PlanModal[Any]:
    app.jump_to(name)
    row = app.selected_row()
    assert row is not None and row.name == name
    getattr(app, f"action_{action}")()
    await settle(app, pilot)
    modal = app.screen
    assert isinstance(modal, PlanModal), modal
    return modal


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def notes(app: CapconApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --------------------------------------------------------------------------------------------
# Enter applies, Escape cancels, in every dialog
# --------------------------------------------------------------------------------------------


async def test_enter_applies_in_the_auto_scaling_dialog_as_in_the_scale_dialog(
    tmp_path: Path,
) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "inventory", "autoscaling")  # the no-policy trap
        assert isinstance(modal, AutoScalingModal)
        assert modal.focused is modal.query_one("#aas-min", Input)
        burst(app, "\b\b\b\b40", "\t", "\b\b\b\b\b300", "\t", "\b\b\b60", "\r")
        await settle(app, pilot)
        assert app.screen is not modal, notes(app)  # Enter applied it
        policies = [
            p for p in acc.describe_scaling_policies() if p.resource_id == "table/inventory"
        ]
        assert [p.target_value for p in policies] == [60.0]
        assert [r["outcome"] for r in app.audit.read() if r["phase"] == "outcome"] == ["applied"]


async def test_enter_on_an_unchanged_auto_scaling_moves_to_min_and_says_why(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "checkout", "autoscaling")  # already set up
        modal.set_focus(modal.query_one("#aas-target", Input))
        await pilot.press("enter")
        assert app.screen is modal
        assert modal.focused is modal.query_one("#aas-min", Input)
        assert any("nothing to apply yet" in n for n in notes(app))
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is not modal
        assert app.audit.read() == []


async def test_enter_in_the_event_dialog_moves_to_the_peak_still_to_type(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "orders", "event")
        assert isinstance(modal, EventModal)
        assert modal.focused is modal.query_one("#event-start", Input)
        burst(app, "\r", "\b900")  # Enter, then the peak typed straight after it
        await settle(app, pilot)
        assert app.screen is modal
        peak = modal.query_one("#event-rcu", Input)
        assert modal.focused is peak and peak.value == "900"
        assert (
            isinstance(modal, EventModal)
            and modal.error is None
            and plain(modal.query_one("#event-plan", Static)).strip()
        )


async def test_every_dialog_has_the_same_buttons_hint_and_escape(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        main = app.screen
        for name, action, kind in (
            ("orders", "scale", ScaleModal),
            ("inventory", "autoscaling", AutoScalingModal),
            ("orders", "event", EventModal),
        ):
            modal = await opened(app, pilot, name, action)
            assert isinstance(modal, kind)
            labels = [str(b.label) for b in modal.query(Button) if b.id and "apply" in b.id]
            labels += [str(b.label) for b in modal.query(Button) if b.id and "cancel" in b.id]
            assert labels == ["Apply", "Cancel"], (kind, labels)
            hints = [plain(s) for s in modal.query(Static) if s.has_class("key-hint")]
            assert hints == [plain(Static(KEY_HINT))]
            assert "Enter apply" in hints[0] and "Esc cancel" in hints[0]
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is main, kind


# --------------------------------------------------------------------------------------------
# Tab visits only controls
# --------------------------------------------------------------------------------------------


async def test_tab_never_stops_on_the_plan_panel_and_pgdn_scrolls_it(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "orders", "scale")
        burst(app, "\b\b\b\b700")  # a plan long enough to scroll at 100×30
        await settle(app, pilot)
        visited = []
        for _ in range(12):
            await pilot.press("tab")
            visited.append(modal.focused)
        assert visited and all(w is not None for w in visited)
        assert not [w for w in visited if isinstance(w, PlanPanel)]
        assert {type(w).__name__ for w in visited} <= {"OrderedInput", "Select", "Button"}
        panel = modal.query_one(PlanPanel)
        assert panel.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert panel.scroll_y > 0


async def test_split_merge_then_tab_then_enter_applies_the_targeted_plan(tmp_path: Path) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "payments", "scale")
        assert isinstance(modal, ScaleModal)
        assert modal.focused is modal.query_one("#shards", Input)
        await pilot.press("tab")
        assert isinstance(modal.focused, Select)
        modal.query_one("#strategy", Select).value = "targeted"
        await pilot.pause()
        # nothing typed yet: Tab, Enter → the shard count is what is needed next
        await pilot.press("tab", "enter")
        assert app.screen is modal
        assert modal.focused is modal.query_one("#shards", Input)
        assert any("type the new capacity first" in n for n in notes(app))
        burst(app, "\b5", "\t", "\t", "\r")  # 4 → 5 by one split; Tab, Tab, Enter
        await settle(app, pilot)
        assert app.screen is not modal, (modal.error, notes(app))
        assert acc.describe_stream("payments").open_shard_count == 5


# --------------------------------------------------------------------------------------------
# Focus visible in every theme
# --------------------------------------------------------------------------------------------


async def test_the_focused_control_stands_out_in_every_theme(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "orders", "scale")
        rcu, wcu = modal.query_one("#rcu", Input), modal.query_one("#wcu", Input)
        apply_button = modal.query_one("#apply", Button)
        cancel = modal.query_one("#cancel", Button)
        for theme in THEMES:
            app.theme = theme
            await pilot.pause()
            accent = Color.parse(app.theme_variables["accent"])
            surface = Color.parse(app.theme_variables["surface"])
            modal.set_focus(rcu)
            await pilot.pause()
            # the focused input is framed in the accent, a blurred one is not; readable
            assert rcu.styles.border_top[1] == accent, theme
            assert wcu.styles.border_top[1] != accent, theme
            assert contrast(accent, surface) >= 3.0, theme
            modal.set_focus(cancel)
            await pilot.pause()
            # the focused button is filled with the accent, the others are not
            assert cancel.styles.background == accent, theme
            assert apply_button.styles.background != accent, theme


# --------------------------------------------------------------------------------------------
# No dropped keys
# --------------------------------------------------------------------------------------------


async def test_keys_typed_right_after_slash_go_into_the_filter(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        burst(app, "/ord")
        await settle(app, pilot)
        assert app.query_one("#filter", Input).value == "ord"
        assert app.needle == "ord"
        burst(app, "/x\b\bers")  # "/" in the filter is text; the backspaces act in order
        await settle(app, pilot)
        assert app.needle == "orders"


async def test_a_burst_of_backspaces_and_digits_arrives_in_order(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "orders", "scale")
        box = modal.query_one("#rcu", Input)
        assert box.value == "500"
        burst(app, "\b\b\b400")  # the text is selected on focus: one ⌫ clears it all
        await settle(app, pilot)
        assert box.value == "400"
        await pilot.press("backspace", "backspace", "backspace", *"650")  # key by key
        assert box.value == "650"
        burst(app, "\b\b", "\t", "7")  # Tab acts before the key behind it
        await settle(app, pilot)
        assert box.value == "6"


async def test_a_name_typed_right_after_enter_goes_into_the_confirmation(
    tmp_path: Path,
) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "orders", "scale")
        modal.set_focus(modal.query_one("#wcu", Input))
        await pilot.pause()
        burst(app, "\b3000", "\r", "orders", "\r")  # ×10: the name is needed, then Enter
        await settle(app, pilot)
        assert app.screen is not modal, notes(app)
        capacity = acc.describe_table("orders").provisioned
        assert capacity is not None and capacity.write == 3000


async def test_the_message_and_the_plan_always_describe_the_same_text(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        modal = await opened(app, pilot, "payments", "scale")
        burst(app, "\b8")
        await settle(app, pilot)
        assert "4 → 8" in plain(modal.query_one("#plan", Static))
        burst(app, "\b")  # the box is empty now
        await settle(app, pilot)
        message = plain(modal.query_one("#message", Static))
        shown = plain(modal.query_one("#plan", Static))
        assert "type a whole number" in message
        assert "4 → 8" not in shown and "type a whole number" in shown
        assert modal.query_one("#apply", Button).disabled


# --------------------------------------------------------------------------------------------
# The palette
# --------------------------------------------------------------------------------------------


def test_any_word_of_the_title_or_the_help_matches() -> None:
    commands = [
        ("Sort by throttles", "Order the list by throttles now"),
        ("Go to inventory", "table, provisioned, 150/80 · throttling now"),
        ("Refresh", "Read the backend now (r)"),
    ]
    hits = {index: (score, spans) for score, index, spans in any_word_hits("thr", commands)}
    assert set(hits) == {0, 1}
    assert hits[0][1] == [(8, 11)]  # "thr" of "throttles" in the title, highlighted
    assert hits[0][0] > hits[1][0]  # a title word ranks above a help word
    assert {i for _, i, _ in any_word_hits("go inv", commands)} == {1}
    assert any_word_hits("zzz", commands) == []
    assert any_word_hits("ttl", commands) == []  # a word's start, not any part of it


async def test_the_palette_finds_throttling_commands_for_thr(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        assert AnyWordCommands in app.COMMANDS
        provider = AnyWordCommands(app.screen)
        found = [hit.text async for hit in provider.search("thr")]
        assert "Sort by throttles" in found
        throttling = [r.name for r in app.snapshot.rows if r.throttling] if app.snapshot else []
        assert throttling and all(f"Go to {name}" in found for name in throttling)
        assert found.index("Sort by throttles") < min(
            found.index(f"Go to {name}") for name in throttling
        )
        # chosen from the palette, it sorts
        hits = [h async for h in provider.search("thr") if h.text == "Sort by throttles"]
        hits[0].command()
        await pilot.pause()
        assert SORTS[app.sort_index][0] == "throttles"


async def test_every_key_of_the_console_is_in_the_palette(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(tmp_path, pilot, app)
        callbacks = {
            getattr(c.callback, "__name__", "") for c in app.get_system_commands(app.screen)
        }
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for binding in CapconApp.BINDINGS:
            action = getattr(binding, "action", "")
            if action == "quit":
                assert "Quit" in titles
                continue
            assert f"action_{action}" in callbacks, action
        assert titles.count("Screenshot") == 1  # ours, not Textual's ~/Downloads one
