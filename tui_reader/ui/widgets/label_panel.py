"""The label panel: labels with keys and counts, this article's spans, and the span at the caret."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ...core.config import Label
from ...core.model import Span
from ...core.store import MAX_NOTE
from ...core.suggest.suggestion import Suggestion
from ...core.text import display_safe
from .span_list import SpanList


def excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(display_safe(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class LabelPanel(Vertical):
    @dataclass
    class SpanChosen(Message):
        """A span was chosen in the list: the caret goes to it."""

        span_id: str

    @dataclass
    class NoteSubmitted(Message):
        """The note field was submitted: ``note`` is to be saved on ``span_id``."""

        span_id: str
        note: str

    def __init__(self, labels: tuple[Label, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = labels
        self._counts: dict[str, int] = {}
        self._spans_shown: list[Span] = []
        self._note_span: str | None = None
        # What the details show: unchanged, they are not drawn again (a caret move is cheap).
        self._details_key: tuple[tuple[object, ...], ...] | None = None
        self._labels_shown = False
        self._descriptions = {label.name: label.description for label in labels}

    def compose(self) -> ComposeResult:
        with Vertical(id="labels", classes="panel-section"):  # a line a label: a count repaints one
            for n in range(len(self.labels)):
                yield Static(id=f"label-{n}", classes="label-line")
        yield Static(Text("Spans in this article", style="bold"), classes="panel-title")
        yield SpanList(id="span-list")
        yield Static(id="details", classes="panel-section")
        yield Input(placeholder="note for this span (enter saves, esc cancels)", id="note",
                    max_length=MAX_NOTE)

    def on_mount(self) -> None:
        self.query_one("#note", Input).display = False
        self.show_counts({label.name: 0 for label in self.labels})

    def show_counts(self, counts: dict[str, int]) -> None:
        if counts == self._counts:
            return
        old, self._counts = self._counts, dict(counts)
        # One line a label whatever the counts: only the first fill needs a layout, and a label
        # key repaints its own line only.
        first = not self._labels_shown
        self._labels_shown = True
        for i, label in enumerate(self.labels):
            if not first and old.get(label.name) == counts.get(label.name):
                continue
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f" {label.key} ", style="bold reverse")
            text.append(" ")
            text.append("  ", style=f"on {label.color}")
            text.append(f" {label.name} ", style="bold")
            text.append(f"{counts.get(label.name, 0)}")
            if label.description:
                text.append(f"  {display_safe(label.description)}", style="dim")
            self.query_one(f"#label-{i}", Static).update(text, layout=first)

    def show_spans(self, spans: list[Span]) -> None:
        # The same records in the same order: nothing changed (a change is a new Span), found
        # at C speed; a label at 5,000 spans builds no 5,000 strings.
        shown = self._spans_shown
        if len(spans) == len(shown) and all(map(operator.is_, spans, shown)):
            return
        self._spans_shown = list(spans)
        span_list = self.query_one(SpanList)
        span_list.label_colors = {label.name: label.color for label in self.labels}
        span_list.set_spans(spans)

    def show_details(self, spans: list[Span], others: list[Span], suggestions: list[Suggestion],
                     suggestion_name: str = "suggestion", about: dict[str, list[str]] | None = None,
                     links: list[str] | None = None) -> None:
        """The spans and suggestions at the caret; in review, suggestions are "candidates".
        ``about``: more lines on the annotator's spans (attributes, relations), by span id;
        ``links``: relation and attribute suggestions touching the caret, described."""
        about, links = about or {}, links or []
        key = (tuple((s.id, s.label, s.note) for s in spans + others)
               + tuple(p.key for p in suggestions) + (tuple(map(tuple, about.values())), tuple(links)))
        if key == self._details_key:
            return
        self._details_key = key
        text = Text()
        for suggestion in suggestions:
            if text:
                text.append("\n")
            text.append(f"{suggestion_name}: ", style="italic")
            text.append(suggestion.label, style="bold")
            text.append(f"  {display_safe(suggestion.source)}", style="dim")
            if suggestion_name == "suggestion":
                text.append(f"  {suggestion.confidence:.0%}", style="dim")
            text.append("\n  a accept · r reject · A accept all of this label", style="dim")
        for link in links:
            if text:
                text.append("\n")
            text.append(f"{suggestion_name}: ", style="italic")
            text.append(excerpt(link, 110))
            text.append("\n  a accept · r reject", style="dim")
        if not spans and not others and not suggestions and not links:
            text.append("No span at the caret.\n", style="dim")
            text.append("1-9 label the sentence, or v / s to select first.", style="dim")
        for span in spans + others:
            if text:
                text.append("\n")
            mine = span in spans
            text.append(span.label, style="bold")
            text.append(f"  by {display_safe(span.annotator)}" + ("" if mine else " (read-only)"))
            text.append(f"\n{span.start}–{span.end}  {span.created[:19].replace('T', ' ')}",
                        style="dim")
            text.append(f"\n“{excerpt(span.text, 120)}”")
            if span.note:
                text.append(f"\nnote: {excerpt(span.note, 120)}", style="italic")
            for line in about.get(span.id, ()):
                text.append(f"\n{excerpt(line, 120)}")
            description = self._descriptions.get(span.label)
            if mine and description:
                text.append(f"\n{excerpt(description, 120)}", style="dim")
        # Fixed height (app.tcss): no re-layout, so a caret move repaints these lines only.
        self.query_one("#details", Static).update(text, layout=False)

    def edit_note(self, span: Span) -> None:
        note = self.query_one("#note", Input)
        self._note_span = span.id
        note.value = span.note
        note.display = True
        note.focus()

    def close_note(self) -> None:
        note = self.query_one("#note", Input)
        note.display = False
        self._note_span = None

    @on(Input.Submitted, "#note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._note_span:
            self.post_message(self.NoteSubmitted(self._note_span, event.value))
            self.close_note()

    def on_span_list_chosen(self, event: SpanList.Chosen) -> None:
        self.post_message(self.SpanChosen(event.span_id))
        event.stop()
