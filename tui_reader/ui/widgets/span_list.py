"""This article's spans, one row each: a Line-API list, so 500 spans re-list in a millisecond
(an OptionList measures every option again on each change: ~70 ms at 500)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.model import Span
from ...core.text import display_safe
from ..wrap import cells


class SpanList(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("enter", "choose", "Go to span", show=False),
    ]
    COMPONENT_CLASSES = {"span-list--cursor"}

    class Chosen(Message):
        def __init__(self, span_id: str) -> None:
            super().__init__()
            self.span_id = span_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spans: list[Span] = []
        self.label_colors: dict[str, str] = {}
        self.cursor = 0

    def set_spans(self, spans: list[Span]) -> None:
        self.spans = list(spans)
        self.cursor = min(self.cursor, max(len(self.spans) - 1, 0))
        self.virtual_size = Size(self.size.width, len(self.spans))
        self.refresh()

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
        segments = [
            Segment("▍", Style(color=self.label_colors.get(span.label)) + style),
            Segment(label, style + Style(bold=True)),
            Segment(excerpt, style),
        ]
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def action_cursor(self, step: int) -> None:
        if not self.spans:
            return
        self.cursor = max(0, min(self.cursor + step, len(self.spans) - 1))
        self.scroll_to_region_of_cursor()
        self.refresh()

    def scroll_to_region_of_cursor(self) -> None:
        top, height = round(self.scroll_offset.y), self.size.height
        if not top <= self.cursor < top + height:
            self.scroll_to(y=max(0, self.cursor - height // 2), animate=False, immediate=True)

    def action_choose(self) -> None:
        if self.spans:
            self.post_message(self.Chosen(self.spans[self.cursor].id))

    def on_click(self, event: events.Click) -> None:
        n = event.y + round(self.scroll_offset.y)
        if 0 <= n < len(self.spans):
            self.cursor = n
            self.action_choose()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
