"""``?``: every key of the app, read from the keymap so it can never fall out of date."""

from __future__ import annotations

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


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, labels: tuple[Label, ...]) -> None:
        super().__init__()
        self.labels = labels

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_row(Text("Labels", style="underline"), "")
        for label in self.labels:
            table.add_row(Text(label.key), Text(f"{label.name}: the selection, or the sentence at "
                                                "the caret (again on the same extent: relabel)"))
        table.add_row("", "")
        table.add_row(Text("Reading and selecting", style="underline"), "")
        for key in PANE_KEYS:
            table.add_row(Text(shown(key)), Text(key.help))
        table.add_row("", "")
        table.add_row(Text("Articles and the app", style="underline"), "")
        for key in APP_KEYS:
            table.add_row(Text(shown(key)), Text(key.help))
        table.add_row(Text("ctrl+p"), Text("command palette"))
        table.add_row("", "")
        table.add_row("", Text(display_safe("Every action is saved as it happens. esc closes."),
                               style="dim"))
        with VerticalScroll(id="help-body"):
            yield Static(table)
