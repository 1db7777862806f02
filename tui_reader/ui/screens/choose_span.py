"""Small choosers: which of several overlapping spans (``x``, ``c``, ``t``), which relation (``c``),
or a span or one of its relations (``x``). Number keys pick too (1 = the first)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.model import Span
from ..widgets.label_panel import excerpt


class ChooseScreen(ModalScreen[str | None]):
    """A question and its options (``(id, text)`` each); dismissed with the chosen id, or None."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, options: list[tuple[str, Text]]) -> None:
        super().__init__()
        self.question = question
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-span"):
            yield Static(Text(f"{self.question} (enter or 1-9 chooses, esc cancels)", style="bold"))
            yield OptionList(*(Option(Text(f"{n} ", style="dim") + text, id=option_id)
                               for n, (option_id, text) in enumerate(self.options, 1)))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit() and event.character != "0":
            index = int(event.character) - 1
            if index < len(self.options):
                event.stop()
                self.dismiss(self.options[index][0])


def span_option(span: Span) -> Text:
    text = Text(f"{span.label:<11}", style="bold")
    text.append(excerpt(span.text, 50))
    return text


class ChooseSpanScreen(ChooseScreen):
    """Several spans of the annotator overlap at the caret: which one."""

    def __init__(self, spans: list[Span], question: str = "Delete which span?") -> None:
        super().__init__(question, [(span.id, span_option(span)) for span in spans])
        self.spans = spans
