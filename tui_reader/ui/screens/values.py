"""``t`` (a span's attributes) and ``T`` (the article's labels): number keys pick a value.

One field at a time has the keys (``j``/``k`` or the arrows move between fields): in a choice
field ``1`` picks the first value (again: unsets it), a yes/no field takes ``1`` yes and ``2`` no,
a multiple-choice field toggles the value, and a text field opens a one-line input on ``enter``;
``0`` clears the field. Each pick is saved at once (the app's save: NOT SAVED shows there, and
``u`` undoes it). With a single field, a pick closes the chooser: ``t 1`` is a whole action.
In review the chooser also shows who chose each value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...core.text import display_safe

Value = str | bool | list[str] | None


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "choice", "yes/no", "text" or "multiple"
    values: tuple[str, ...] = ()
    description: str = ""
    votes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # review: value -> who


class ValuesScreen(ModalScreen[None]):
    AUTO_FOCUS = None  # the keys go to the chooser, not to its (hidden) text input
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("j,down,tab", "move(1)", "Next field", show=False),
        Binding("k,up,shift+tab", "move(-1)", "Previous field", show=False),
    ]

    def __init__(self, title: str, fields: list[Field], current: Callable[[], dict[str, Value]],
                 pick: Callable[[str, Value], None]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.current = current
        self.pick = pick
        self.at = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="values"):
            yield Static(id="values-body")
            # Disabled (so it cannot take the keys) until enter opens it on a text field.
            yield Input(id="values-text", placeholder="text (enter saves, esc cancels)",
                        max_length=200, disabled=True)

    def on_mount(self) -> None:
        self.query_one("#values-text", Input).display = False
        self._show()

    def _show(self) -> None:
        now = self.current()
        text = Text(display_safe(self.title_text), style="bold")
        text.append("\n1-9 pick · 0 clear · j/k field · esc close", style="dim")
        for index, item in enumerate(self.fields):
            here = index == self.at
            text.append("\n\n")
            text.append(("▶ " if here and len(self.fields) > 1 else "  ") + display_safe(item.name),
                        style="bold" if here else "")
            if item.description:
                text.append(f"  {display_safe(item.description)}", style="dim")
            value = now.get(item.name)
            if item.kind == "text":
                text.append(f"\n    {display_safe(value) if isinstance(value, str) else '(none)'}")
                text.append("  enter: write it", style="dim")
                continue
            chosen = set(value) if isinstance(value, list) else {value}
            for n, shown in enumerate(item.values, 1):
                as_value: object = (shown == "yes") if item.kind == "yes/no" else shown
                mark = "●" if as_value in chosen else "○"
                text.append(f"\n    {n} {mark} {display_safe(shown)}")
                who = item.votes.get(shown)
                if who:
                    text.append(f"  by {display_safe(', '.join(who))}", style="dim")
        self.query_one("#values-body", Static).update(text)

    def action_move(self, step: int) -> None:
        self.at = (self.at + step) % len(self.fields)
        self._show()

    def on_key(self, event: events.Key) -> None:
        item = self.fields[self.at]
        text_input = self.query_one("#values-text", Input)
        if text_input.display:
            return  # the input has the keys
        if event.key == "enter" and item.kind == "text":
            event.stop()
            now = self.current().get(item.name)
            text_input.value = now if isinstance(now, str) else ""
            text_input.disabled = False
            text_input.display = True
            text_input.focus()
            return
        if not (event.character and event.character.isdigit()):
            return
        event.stop()
        number = int(event.character)
        now = self.current().get(item.name)
        if number == 0:
            self._pick(item, None)
            return
        if number > len(item.values):
            self.app.bell()
            return
        shown = item.values[number - 1]
        if item.kind == "multiple":
            values = list(now) if isinstance(now, list) else []
            self._pick(item, [v for v in values if v != shown] if shown in values else [*values, shown])
            return
        value: Value = (shown == "yes") if item.kind == "yes/no" else shown
        self._pick(item, None if now == value else value)

    def _pick(self, item: Field, value: Value) -> None:
        self.pick(item.name, value)
        if len(self.fields) == 1 and item.kind != "multiple":
            self.dismiss(None)
        else:
            self._show()

    @on(Input.Submitted, "#values-text")
    def _text_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_input()
        self._pick(self.fields[self.at], event.value.strip() or None)

    def action_close(self) -> None:
        """Escape: out of the text input if it is open, else the chooser closes."""
        text_input = self.query_one("#values-text", Input)
        if text_input.display:
            self._close_input()
            self._show()
            return
        self.dismiss(None)

    def _close_input(self) -> None:
        text_input = self.query_one("#values-text", Input)
        text_input.display = False
        text_input.disabled = True
        self.set_focus(None)
