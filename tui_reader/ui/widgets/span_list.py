"""This article's spans, one row each: a Line-API list, so 500 spans re-list in a millisecond
(an OptionList measures every option again on each change: ~70 ms at 500)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from ...core.model import Span
from ...core.text import display_safe
from ..wrap import cells
from .cursor_list import CursorList
from .repaint import refresh_rows

ROWS_BLOCK = 32  # rows the list's scrollable height moves by


class SpanList(CursorList):
    COMPONENT_CLASSES = {"span-list--cursor"}

    @dataclass
    class Chosen(Message):
        """A span was chosen (enter or a click)."""

        span_id: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spans: list[Span] = []
        self.label_colors: dict[str, str] = {}

    def set_spans(self, spans: list[Span]) -> None:
        """Show ``spans``; only the rows from the first one that changed down to the bottom of
        the view are drawn again (a span added below the view draws nothing)."""
        old, self.spans = self.spans, list(spans)
        first = next((n for n, (a, b) in enumerate(zip(old, self.spans))
                      if (a.id, a.label, a.text) != (b.id, b.label, b.text)), min(len(old), len(spans)))
        self.cursor = min(self.cursor, max(len(self.spans) - 1, 0))
        # The height grows and shrinks in blocks: a new size re-lays the whole screen out (and
        # repaints the list twice), which one label or undo should not cost.
        rows = -(-(len(self.spans) + 1) // ROWS_BLOCK) * ROWS_BLOCK
        if self.virtual_size.height != rows or self.virtual_size.width != self.size.width:
            self.virtual_size = Size(self.size.width, rows)
        top, height = round(self.scroll_offset.y), self.size.height
        if first < top + height:
            start = max(first, top)
            refresh_rows(self, start, top + height - start)

    def render_line(self, y: int) -> Strip:
        n = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if n >= len(self.spans):
            return Strip.blank(width, base)
        span = self.spans[n]
        style = base
        if n == self.cursor and self.has_focus:
            style += self.get_component_rich_style("span-list--cursor", partial=True)
        excerpt = " ".join(display_safe(span.text).split())
        label = f"{span.label[:10]:<11}"
        room = max(width - 1 - cells(label), 0)
        if cells(excerpt) > room:
            cut, used = [], 0
            for char in excerpt:
                used += cells(char)
                if used > room - 1:
                    break
                cut.append(char)
            excerpt = "".join(cut) + "…"
        # Two segments a row (the bar in the label's colour, then the text): each segment costs
        # its colour codes again, and a label repaints every row below the new span.
        segments = [
            Segment("▍", style + Style(color=self.label_colors.get(span.label))),
            Segment(label + excerpt, style),
        ]
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def row_count(self) -> int:
        return len(self.spans)

    def choose(self, row: int) -> None:
        self.post_message(self.Chosen(self.spans[row].id))
