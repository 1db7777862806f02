"""``?``: every key of the app, read from the keymap so it can never fall out of date."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.config import Label
from ...core.text import display_safe
from ..keymap import APP_KEYS, PANE_KEYS, shown


def _section(title: str, rows: list[tuple[str, str]]) -> Group:
    # One grid per section, headings outside it, so the key column is only as wide as its keys.
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=10)
    table.add_column()
    for keys, help_text in rows:
        table.add_row(Text(keys), Text(help_text))
    return Group(Text(title, style="underline"), table, Text(""))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
        Binding("space", "scroll(10)", "Page down", show=False),
    ]

    def __init__(self, labels: tuple[Label, ...]) -> None:
        super().__init__()
        self.labels = labels

    def compose(self) -> ComposeResult:
        label_rows = [(label.key, display_safe(label.name)) for label in self.labels]
        labels = _section(
            "Labels: the selection, or else the sentence at the caret (the same extent again: "
            "relabel)", label_rows)
        pane = _section("Reading and selecting", [(shown(k), k.help) for k in PANE_KEYS])
        app = _section("Articles and the app",
                       [(shown(k), k.help) for k in APP_KEYS] + [("ctrl+p", "command palette")])
        footer = Text(display_safe("Every action is saved as it happens. esc closes."), style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(Group(labels, pane, app, footer), id="help-table")

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=lines, animate=False)
