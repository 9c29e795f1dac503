"""One grammar for every dialog that previews a change: Enter applies, Escape cancels, Tab
visits only the controls, focus shows in every theme, and no key is lost or reordered.

- :class:`PlanModal` is the base of the scale, auto-scaling and event dialogs: the keys they
  share (Escape, Ctrl+S, PgUp/PgDn for the plan), the one-line key hint under the title
  (:data:`KEY_HINT`), the styles that make the focused control visible in every theme, and
  what Enter does — apply when the plan may be applied, otherwise move the focus to what is
  still needed (the typed name) or say what is wrong (:meth:`PlanModal.action_apply`).
- :class:`PlanPanel` holds the rendered plan: it scrolls but never takes the focus, so Tab
  goes from the last input straight to the buttons.
- :class:`OrderedInput` runs its own editing keys (Backspace, arrows, Enter, …) where the key
  arrives instead of after it has bubbled up to the app.  Textual handles a printable key in
  the input itself but a bound key only once it has travelled up to the app and back: typed
  fast, ``⌫ ⌫ ⌫ 4 0 0`` became ``40`` or nothing (the ``4`` went in before the backspaces
  ran and was deleted by them; seen in tmux).  Textual PR #6631 (open, for issue #6605)
  proposes the same fix inside Textual.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.widgets._select import SelectOverlay

from capcon.tui.text import markup_safe

ResultT = TypeVar("ResultT")

#: The one-line key hint every preview dialog shows under its title.
KEY_HINT = (
    "[b]Enter[/b] apply · [b]Esc[/b] cancel · [b]Tab[/b] next field · "
    "[b]PgUp/PgDn[/b] scroll the plan"
)


class OrderedInput(Input):
    """An :class:`Input` whose keys act in the order they were typed.

    - Its own bindings (Backspace, Delete, arrows, Home/End …) run here, inline, as printable
      keys do.  Keys bound on the app with ``priority`` were handled before the key reached
      the input, and the input is first in the binding chain anyway, so what a key does is
      unchanged: only *when* it does it.
    - Enter calls the screen's :meth:`PlanModal.submit` (apply, or move to what is needed)
      here too, in order, after the digits typed before it.
    - The keys that were already on their way to this input when Enter moved the focus on
      belong to the control that has it now, and are handed on to it ("⏎orders" typed fast
      put the name into the capacity box).
    """

    _moved_on = False

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if self._moved_on and focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            focused._forward_event(events.Key(event.key, event.character))
            return
        if event.key == "enter" and isinstance(self.screen, PlanModal):
            event.stop()
            event.prevent_default()
            self.screen.submit()
            self._moved_on = self.screen.focused is not self
            return
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if binding.priority:
                    continue
                if await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)

    def _on_focus(self, event: events.Focus) -> None:
        self._moved_on = False
        super()._on_focus(event)


class PlanPanel(VerticalScroll, can_focus=False):
    """The plan (or the refusal) being previewed: scrolled with PgUp/PgDn from anywhere in the
    dialog, never a stop for Tab (it has nothing to type or press)."""


class PlanModal(ModalScreen[ResultT]):
    """The keys, hint and focus styles shared by the preview dialogs (see the module)."""

    # Tab and Shift+Tab are priority bindings: they move the focus as the key arrives, so
    # the keys typed before them stay with the control they were typed in and the keys after
    # them go to the next (as plain bindings they ran once the key had bubbled up: "40⇥300"
    # typed fast put 300 in the first box).  Enter is the input's (:class:`OrderedInput`).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "move_focus(1)", "Next field", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", "Previous field", show=False, priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply", show=True),
        Binding("pageup", "scroll_plan(-1)", "Scroll plan", show=False),
        Binding("pagedown", "scroll_plan(1)", "Scroll plan", show=False),
    ]

    # Focus must read on a projector as on a dark terminal (Textual's own focus styles were
    # a thin primary border and a reversed label, lost on a projector's white): the focused
    # control is framed or filled in the theme's accent (theme variables only).
    DEFAULT_CSS = """
    PlanModal .key-hint { color: $text-muted; height: 1; }
    PlanModal Input { border: tall $foreground 30%; }
    PlanModal Input:focus { border: tall $accent; background: $accent 12%; }
    PlanModal Button:focus { background: $accent; color: $background; text-style: bold; }
    PlanModal Select:focus > SelectCurrent { border: tall $accent; background: $accent 12%; }
    PlanModal Checkbox:focus { border: tall $accent; background: $accent 12%; }
    PlanModal Checkbox:focus > .toggle--label { text-style: bold underline; }
    """

    #: the Apply button's id (each dialog names its own)
    APPLY_ID: ClassVar[str] = "apply"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab is left to an open select list (it closes it)."""
        if action == "move_focus":
            return not isinstance(self.focused, SelectOverlay)
        return True

    def action_move_focus(self, step: int) -> None:
        """The next (``1``) or previous (``-1``) control, at once."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def submit(self) -> None:
        """Enter in an input (:class:`OrderedInput`): what *Apply* does."""
        self.action_apply()

    def key_hint(self) -> Static:
        return Static(KEY_HINT, classes="key-hint")

    # --- what Enter, Ctrl+S and Apply do -------------------------------------------------

    def recompute(self) -> None:
        """The plan (or the message) for what the inputs hold now."""
        raise NotImplementedError

    def applicable(self) -> object | None:
        """The plan to return when the dialog may apply now, else ``None``."""
        raise NotImplementedError

    def missing(self) -> tuple[str, str | None]:
        """Why the dialog cannot apply yet, and the id of the control that needs the user
        next (``None``: stay where you are): the name to type, a capacity still unchanged."""
        raise NotImplementedError

    def action_apply(self) -> None:
        """Enter, Ctrl+S and *Apply*: apply when the plan may be applied; otherwise move the
        focus to what is still needed and say what it is.

        The plan is made again first: the inputs' change messages may still be on their way
        (Enter typed right behind the digits applied the plan for the text before them)."""
        self.recompute()
        plan = self.applicable()
        if plan is not None:
            self.dismiss(plan)  # type: ignore[arg-type]
            return
        reason, needed = self.missing()
        if needed is not None:
            # now, not after a refresh: the keys typed next go where they are needed
            self.set_focus(self.query_one(f"#{needed}"))
        self.notify(markup_safe(reason), severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_scroll_plan(self, direction: int) -> None:
        panel = self.query_one(PlanPanel)
        if direction < 0:
            panel.scroll_page_up()
        else:
            panel.scroll_page_down()

    def _apply_enabled(self) -> bool:
        return not self.query_one(f"#{self.APPLY_ID}", Button).disabled
