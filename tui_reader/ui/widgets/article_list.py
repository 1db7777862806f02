"""The article list: status, title, span count, length and source of every document.

A Line-API list (only visible rows are drawn), so 10k documents open instantly; statuses and
counts arrive later from a background scan and fill in row by row.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from rich.segment import Segment
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from ...core.model import DocProgress, DocumentInfo
from ...core.text import display_safe
from ..wrap import cells
from .cursor_list import CursorList

STATUS_GLYPHS = {"new": "·", "in progress": "◐", "done": "✓", "skipped": "↷"}
FILTERS = ("all", "new", "in progress", "done", "skipped")


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells (with an ellipsis) and pad it."""
    if cells(text) <= width:
        return text + " " * (width - cells(text))
    out, used = [], 0
    for char in text:
        w = cells(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…" + " " * (width - 1 - used)


class ArticleTable(CursorList):
    COMPONENT_CLASSES = {
        "article-table--cursor",
        "article-table--current",
        "article-table--done",
        "article-table--dim",
    }

    @dataclass
    class Chosen(Message):
        """An article was chosen (enter or a click): it opens."""

        doc_id: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.docs: list[DocumentInfo] = []
        self.progress: dict[str, DocProgress] = {}
        self.shown_rows: list[int] = []  # indexes into docs that pass the filter
        self.current_id: str | None = None
        self.status_filter = "all"
        self.matches: set[str] | None = None  # ids matching the search, None = no search
        self._positions: dict[str, int] = {}

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        self.docs = docs
        self._positions = {d.id: i for i, d in enumerate(docs)}
        self._refilter()

    def set_progress(self, doc_id: str, progress: DocProgress) -> None:
        old = self.progress.get(doc_id)
        if old == progress:
            return
        self.progress[doc_id] = progress
        if self.status_filter != "all" and (old is None or old.status != progress.status):
            self._refilter()
            return
        # Repaint that one row only: a label must not resend the whole list over SSH.
        index = self._positions.get(doc_id)
        if index is not None:
            n = bisect.bisect_left(self.shown_rows, index)
            if n < len(self.shown_rows) and self.shown_rows[n] == index:
                self.refresh_line(n)

    def set_filter(self, status_filter: str, matches: set[str] | None) -> None:
        self.status_filter, self.matches = status_filter, matches
        self._refilter()

    def _refilter(self) -> None:
        keep_id = self.docs[self.shown_rows[self.cursor]].id if self.shown_rows else self.current_id
        self.shown_rows = [
            i for i, d in enumerate(self.docs)
            if (self.matches is None or d.id in self.matches)
            and (self.status_filter == "all"
                 or self.progress.get(d.id, DocProgress()).status == self.status_filter)
        ]
        self.cursor = next((n for n, i in enumerate(self.shown_rows) if self.docs[i].id == keep_id), 0)
        self.virtual_size = Size(self.size.width, len(self.shown_rows))
        self.refresh()

    def show_current(self, doc_id: str) -> None:
        self.current_id = doc_id
        for n, i in enumerate(self.shown_rows):
            if self.docs[i].id == doc_id:
                self.cursor = n
                self.scroll_to(y=max(0, n - self.size.height // 2), animate=False, immediate=True)
                break
        self.refresh()

    def render_line(self, y: int) -> Strip:
        n = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if n >= len(self.shown_rows):
            return Strip.blank(width, base)
        doc = self.docs[self.shown_rows[n]]
        progress = self.progress.get(doc.id)
        glyph = STATUS_GLYPHS[progress.status] if progress else " "
        spans = str(progress.spans) if progress and progress.spans else ""
        length = f"{doc.length / 1000:.1f}k" if doc.length >= 1000 else str(doc.length)
        source = display_safe(doc.source.rsplit("/", 1)[-1])
        tail = f" {spans:>3} {length:>5} "  # narrow: the title needs the room
        title_width = max(width - 2 - len(tail), 4)
        title = _fit(display_safe(doc.title), title_width)
        style = base
        if progress and progress.status in ("done", "skipped"):
            style += self.get_component_rich_style("article-table--done", partial=True)
        if doc.id == self.current_id:
            style += self.get_component_rich_style("article-table--current", partial=True)
        if n == self.cursor and self.has_focus:
            style += self.get_component_rich_style("article-table--cursor", partial=True)
        dim = style + self.get_component_rich_style("article-table--dim", partial=True)
        segments = [Segment(f"{glyph} ", style), Segment(title, style), Segment(tail, dim)]
        if width > 2 + title_width + len(tail):
            segments.append(Segment(source, dim))
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def position(self, doc_id: str) -> int | None:
        """Where ``doc_id`` stands among all the documents this list holds (None: not here)."""
        return self._positions.get(doc_id)

    def row_count(self) -> int:
        return len(self.shown_rows)

    def choose(self, row: int) -> None:
        self.post_message(self.Chosen(self.docs[self.shown_rows[row]].id))

    def overall(self, annotator_done: int) -> str:
        total = len(self.docs)
        pct = 100 * annotator_done // total if total else 0
        return f"{annotator_done}/{total} done ({pct}%)"

