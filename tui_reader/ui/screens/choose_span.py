"""``x`` where several of your spans overlap: pick the one to delete."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.model import Span
from ..widgets.label_panel import excerpt


class ChooseSpanScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]

    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        self.spans = spans

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-span"):
            yield Static(Text("Delete which span? (enter deletes, esc cancels)", style="bold"))
            options = []
            for span in self.spans:
                prompt = Text(f"{span.label:<11}", style="bold")
                prompt.append(excerpt(span.text, 50))
                options.append(Option(prompt, id=span.id))
            yield OptionList(*options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
