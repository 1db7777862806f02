"""The reading pane: the canonical text, wrapped, with spans highlighted, a caret and a selection.

A Line-API widget (like Toolong's log view) rather than a read-only TextArea: a caret move
repaints only the rows it touches (TextArea repaints the whole viewport, ~15 KB per keypress at
120x40, which is slow over SSH). Text is drawn from ``display_safe`` output as plain Segments, so
no markup is parsed and no control character reaches the terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.config import Label
from ...core.model import Span
from ...core.segment import Segments
from ...core.suggest.suggestion import Suggestion
from ...core.text import StyleRange, display_safe
from ..keymap import PANE_KEYS, bindings
from ..wrap import TAB_CELLS, RowIndex, cell_of_offset, offset_at_cell, wrap
from .repaint import refresh_rows

MARKDOWN_CLASSES = {
    "heading": "reading-pane--heading",
    "emphasis": "reading-pane--emphasis",
    "strong": "reading-pane--strong",
    "code": "reading-pane--code",
    "quote": "reading-pane--quote",
    "link": "reading-pane--link",
    "strike": "reading-pane--strike",
}


class RunStyle(NamedTuple):
    """Everything that decides how a run of text is drawn: the key of the pane's style cache."""

    markdown: tuple[str, ...]  # the Markdown kinds over the run (heading, emphasis, ...)
    label: str  # the label of the innermost of the annotator's spans over it ("": none)
    own_spans: int  # how many of the annotator's spans overlap there
    other_labels: tuple[str, ...]  # other annotators' spans over it (shown when asked for)
    suggestion: str  # the label of the innermost suggestion over it ("": none)
    selected: bool
    caret: bool
    linked: bool = False  # a span linked to the one at the caret, or the first end of a `c`


CARET_AT_LINE_END = RunStyle((), "", 0, (), "", False, True)


def _readable_on(color: str) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#ffffff"


class ReadingPane(ScrollView, can_focus=True):
    """Shows one document; owns the caret and selection; knows nothing of the store."""

    BINDINGS = bindings(PANE_KEYS)
    COMPONENT_CLASSES = {
        "reading-pane--caret",
        "reading-pane--selection",
        "reading-pane--other-span",
        "reading-pane--suggestion",
        "reading-pane--linked",
        *MARKDOWN_CLASSES.values(),
    }
    ALLOW_SELECT = False  # the pane owns selection; Textual's is mouse-only and copy-oriented

    @dataclass
    class CaretMoved(Message):
        """The caret moved onto a different set of spans (the label panel shows their details)."""

        offset: int

    @dataclass
    class SelectionChanged(Message):
        """A selection started (visual mode) or ended."""

        selecting: bool

    class Escaped(Message):
        """Escape was pressed in the pane (it also clears the selection): the app cancels what
        it was doing (a relation half made with ``c``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        self.display_text = ""
        self.segments = Segments("")
        self.rows = RowIndex([(0, 0)])
        self.caret = 0
        self.sel_anchor: int | None = None  # set while selecting (visual mode)
        self._goal_x: int | None = None
        self._wrap_width = 0
        self._styles: list[StyleRange] = []
        self._spans: list[Span] = []
        self._others: list[Span] = []
        self._others_given: list[Span] | None = None  # the list set_spans was last given
        self._mine_marks: set[tuple[int, int, str, str]] | None = None
        self._mine_held: dict[int, Span] = {}  # id(span) -> span, for _count_mine
        self._mine_count: dict[tuple[int, int, str, str], int] = {}  # mark -> spans having it
        self._other_marks: set[tuple[int, int, str, str]] | None = None
        self._suggestions: list[Suggestion] = []  # suggestions, or in review the candidates
        self._linked: list[tuple[int, int]] = []  # extents shown as linked (relations, `c`)
        self.show_others = False
        self._label_styles: dict[str, Style] = {}
        self._label_order: dict[str, int] = {}
        self._row_marks: dict[int, list[tuple[int, int, str, str]]] = {}
        self._style_cache: dict[RunStyle, Style] = {}
        self._dragging = False
        self._caret_spans: tuple[str, ...] = ()

    # ------------------------------------------------------------------ loading
    def set_labels(self, labels: Iterable[Label]) -> None:
        self._label_order = {}
        self._label_styles = {}
        for i, label in enumerate(labels):
            self._label_order[label.name] = i
            self._label_styles[label.name] = Style(bgcolor=label.color, color=_readable_on(label.color))
        self._style_cache.clear()

    def load(self, text: str, styles: list[StyleRange], segments: Segments, caret: int = 0) -> None:
        """Show a new document with the caret at ``caret``."""
        self.text = text
        self.display_text = display_safe(text)
        self.segments = segments
        self._styles = styles
        self._spans, self._others, self._suggestions, self._linked = [], [], [], []
        self._others_given = self._mine_marks = self._other_marks = None
        self._mine_held, self._mine_count = {}, {}
        self.sel_anchor = None
        self._goal_x = None
        self._wrap_width = 0
        self.caret = self._clamp(caret)
        self._rewrap()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_to_caret()
        self.refresh()
        self._notify_caret(force=True)

    def set_spans(self, mine: list[Span], others: list[Span]) -> None:
        """Replace the highlighted spans; the marks of the spans that changed are updated and
        only their rows repainted (a label costs the same with 50 spans or 5,000)."""
        before = self._span_marks()
        if others is not self._others_given:  # a label leaves the others' list as it was
            self._others_given, self._other_marks = others, None
        self._spans, self._others = list(mine), list(others)
        self._count_mine(mine)
        self._update_marks(before, self._span_marks())
        self._notify_caret(force=True)

    def _count_mine(self, mine: list[Span]) -> None:
        """Bring the marks of the annotator's spans up to date from the spans that came and
        went, found by identity at C speed (records are never changed in place: a change is a
        new Span), so a label at 5,000 spans builds a tuple or two, not 5,000."""
        now = dict(zip(map(id, mine), mine))
        held = self._mine_held
        for key in held.keys() - now.keys():
            span = held[key]
            mark = (span.start, span.end, "span", span.label)
            self._mine_count[mark] -= 1
            if not self._mine_count[mark]:
                del self._mine_count[mark]
        for key in now.keys() - held.keys():
            span = now[key]
            mark = (span.start, span.end, "span", span.label)
            self._mine_count[mark] = self._mine_count.get(mark, 0) + 1
        self._mine_held = now  # holding them keeps their ids from being reused
        self._mine_marks = set(self._mine_count)

    def set_suggestions(self, suggestions: list[Suggestion]) -> None:
        """Replace the dimmed suggestions; repaints only rows whose suggestions changed."""
        before = self._suggestion_marks()
        self._suggestions = list(suggestions)
        self._update_marks(before, self._suggestion_marks())

    def _span_marks(self) -> set[tuple[int, int, str, str]]:
        # Kept between calls: a label at 5,000 spans should not build 20,000 tuples.
        if self._mine_marks is None:
            self._count_mine(self._spans)
            assert self._mine_marks is not None
        if not self.show_others:
            return self._mine_marks
        if self._other_marks is None:
            self._other_marks = {(s.start, s.end, "other", s.label) for s in self._others}
        return self._mine_marks | self._other_marks

    def _suggestion_marks(self) -> set[tuple[int, int, str, str]]:
        return {(p.start, p.end, "prop", p.label) for p in self._suggestions}

    def _update_marks(self, before: set[tuple[int, int, str, str]],
                      after: set[tuple[int, int, str, str]]) -> None:
        """Take the marks in ``before`` but not ``after`` off their rows and put the others on,
        repainting those rows only. (Two spans with the same extent and label share a mark: it
        goes only when neither is left.)"""
        for mark in before - after:
            start, end = mark[0], mark[1]
            for row in self.rows.rows_between(start, end):
                row_marks = self._row_marks.get(row)
                if row_marks and mark in row_marks:
                    row_marks.remove(mark)
            self._refresh_offsets(start, end)
        for mark in after - before:
            start, end = mark[0], mark[1]
            for row in self.rows.rows_between(start, end):
                self._row_marks.setdefault(row, []).append(mark)
            self._refresh_offsets(start, end)

    def set_linked(self, extents: list[tuple[int, int]]) -> None:
        """Mark these extents as linked (the spans related to the one at the caret, and the
        first end of a relation being made); repaints only the rows that change."""
        if extents == self._linked:
            return
        before = {(start, end, "link", "") for start, end in self._linked}
        self._linked = list(extents)
        self._update_marks(before, {(start, end, "link", "") for start, end in self._linked})

    def set_show_others(self, show: bool) -> None:
        self.show_others = show
        self._index_marks()
        self.refresh()

    # ----------------------------------------------------------------- geometry
    def _rewrap(self) -> None:
        width = max(self.scrollable_content_region.width, 10) - 1  # one column for the caret at EOL
        if width == self._wrap_width:
            return
        self._wrap_width = width
        self.rows = RowIndex(wrap(self.display_text, width) if self.text else [(0, 0)])
        self.virtual_size = Size(width, len(self.rows))
        self._index_marks()
        self._style_cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._rewrap()
        self._scroll_to_caret()
        self.refresh()

    def _visible_spans(self) -> list[Span]:
        return self._spans + (self._others if self.show_others else [])

    def _index_marks(self) -> None:
        """Per row: (start, end, kind, name) of every span and Markdown style on it."""
        marks: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
        for style in self._styles:
            for row in self.rows.rows_between(style.start, style.end):
                marks[row].append((style.start, style.end, "md", style.kind))
        for span in self._spans:
            for row in self.rows.rows_between(span.start, span.end):
                marks[row].append((span.start, span.end, "span", span.label))
        if self.show_others:
            for span in self._others:
                for row in self.rows.rows_between(span.start, span.end):
                    marks[row].append((span.start, span.end, "other", span.label))
        for suggestion in self._suggestions:
            for row in self.rows.rows_between(suggestion.start, suggestion.end):
                marks[row].append((suggestion.start, suggestion.end, "prop", suggestion.label))
        for start, end in self._linked:
            for row in self.rows.rows_between(start, end):
                marks[row].append((start, end, "link", ""))
        self._row_marks = dict(marks)

    def _refresh_offsets(self, start: int, end: int) -> None:
        rows = self.rows.rows_between(start, max(end, start + 1))
        refresh_rows(self, rows.start, len(rows))

    # ---------------------------------------------------------------- rendering
    def render_line(self, y: int) -> Strip:
        row = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if row >= len(self.rows) or not self.text:
            return Strip.blank(width, base)
        start, end = self.rows.rows[row]
        marks = self._row_marks.get(row, ())
        selection = self.selection()
        cuts = {start, end}
        for a, b, _kind, _name in marks:
            cuts.update(p for p in (a, b) if start < p < end)
        if selection:
            cuts.update(p for p in selection if start < p < end)
        if start <= self.caret < end:  # the caret covers a whole grapheme (an emoji, e + mark)
            cuts.update((self.caret, min(self.segments.next_grapheme(self.caret), end)))
        points = sorted(p for p in cuts if start <= p <= end)
        segments: list[Segment] = []
        display = self.display_text
        for a, b in zip(points, points[1:]):
            md: list[str] = []
            own: list[tuple[int, str]] = []
            others: list[str] = []
            props: list[tuple[int, str]] = []
            linked = False
            for s, e, kind, name in marks:
                if s <= a and e >= b:
                    if kind == "md":
                        md.append(name)
                    elif kind == "span":
                        own.append((e - s, name))
                    elif kind == "prop":
                        props.append((e - s, name))
                    elif kind == "link":
                        linked = True
                    else:
                        others.append(name)
            # The innermost (shortest) span decides the colour: a claim inside a quote shows.
            top = min(own)[1] if own else ""
            suggestion = min(props)[1] if props else ""
            key = RunStyle(tuple(md), top, len(own), tuple(others), suggestion,
                           bool(selection and selection[0] <= a and b <= selection[1]),
                           a == self.caret, linked)
            chunk = display[a:b]
            if "\t" in chunk:
                chunk = chunk.replace("\t", " " * TAB_CELLS)
            segments.append(Segment(chunk, self._style(base, key)))
        if self.caret == end and start <= self.caret and self.caret < len(self.text):
            # The caret on a newline: one cell after the text.
            segments.append(Segment(" ", self._style(base, CARET_AT_LINE_END)))
        strip = Strip(segments)
        return strip.crop(0, width).extend_cell_length(width, base)

    def _style(self, base: Style, run: RunStyle) -> Style:
        """The style of a run of text: Markdown, then spans, then selection, then the caret."""
        style = self._style_cache.get(run)
        if style is not None:
            return style
        style = base
        for kind in run.markdown:
            style += self.get_component_rich_style(MARKDOWN_CLASSES[kind], partial=True)
        if run.label:
            style += self._label_styles.get(run.label, Style(reverse=True))
            if run.own_spans > 1:  # overlapping spans: underlined and bold, so the overlap stands out
                style += Style(underline=True, bold=True)
        if run.other_labels:
            label_style = self._label_styles.get(run.other_labels[0])
            color = label_style.bgcolor if label_style and not run.label else None
            style += self.get_component_rich_style("reading-pane--other-span", partial=True)
            style += Style(underline=True, underline2=len(run.other_labels) > 1, color=color)
        if run.suggestion:  # dimmed, in its label's colour, until accepted or rejected
            label_style = self._label_styles.get(run.suggestion)
            style += self.get_component_rich_style("reading-pane--suggestion", partial=True)
            if label_style and not run.label:
                style += Style(color=label_style.bgcolor)
        if run.linked:
            style += self.get_component_rich_style("reading-pane--linked", partial=True)
        if run.selected:
            style += self.get_component_rich_style("reading-pane--selection", partial=True)
        if run.caret:
            style += self.get_component_rich_style("reading-pane--caret", partial=True)
        self._style_cache[run] = style
        return style

    def notify_style_update(self) -> None:
        self._style_cache.clear()
        super().notify_style_update()

    # ------------------------------------------------------------------- caret
    def _clamp(self, offset: int) -> int:
        return max(0, min(offset, max(len(self.text) - 1, 0)))

    def selection(self) -> tuple[int, int] | None:
        """The selected offsets (start, end exclusive), the character under the caret included."""
        if self.sel_anchor is None or not self.text:
            return None
        low, high = sorted((self.sel_anchor, self.caret))
        return low, self.segments.next_grapheme(high)

    def move_caret(self, offset: int, *, extend: bool = False, keep_goal: bool = False) -> None:
        old_caret, old_selection = self.caret, self.selection()
        if extend and self.sel_anchor is None:
            self.sel_anchor = self.caret
            self.post_message(self.SelectionChanged(True))
        self.caret = self._clamp(offset)
        if not keep_goal:
            self._goal_x = None
        new_selection = self.selection()
        if old_selection != new_selection:
            self._refresh_offsets(min(old_caret, self.caret), max(old_caret, self.caret) + 1)
            for sel in (old_selection, new_selection):
                if sel:
                    self._refresh_offsets(sel[0], sel[0] + 1)
                    self._refresh_offsets(sel[1] - 1, sel[1])
        self._refresh_offsets(old_caret, old_caret + 1)
        self._refresh_offsets(self.caret, self.caret + 1)
        self._scroll_to_caret()
        self._notify_caret()

    def _notify_caret(self, force: bool = False) -> None:
        here = tuple(s.id for s in self._spans if s.start <= self.caret < s.end) + tuple(
            p.key for p in self._suggestions if p.start <= self.caret < p.end)
        if force or here != self._caret_spans:
            self._caret_spans = here
            self.post_message(self.CaretMoved(self.caret))

    def _scroll_to_caret(self) -> None:
        row = self.rows.row_of(self.caret)
        top = round(self.scroll_offset.y)
        height = max(self.scrollable_content_region.height, 1)
        if top <= row < top + height:
            return
        # Jump so the caret sits a third down the page: fewer, larger scrolls repaint less often.
        target = max(0, row - height // 3)
        self.scroll_to(y=target, animate=False, immediate=True)

    def clear_selection(self) -> None:
        if self.sel_anchor is not None:
            old = self.selection()
            self.sel_anchor = None
            if old:
                self._refresh_offsets(*old)
            self.post_message(self.SelectionChanged(False))

    def select(self, start: int, end: int) -> None:
        """Select ``start..end`` (end exclusive), caret on the last character."""
        self.clear_selection()
        self.move_caret(start)
        self.move_caret(self.segments.prev_grapheme(end), extend=True)

    # ------------------------------------------------------------------ motions
    def _target(self, unit: str, step: int) -> int:
        seg, caret = self.segments, self.caret
        if unit == "grapheme":
            return seg.next_grapheme(caret) if step > 0 else seg.prev_grapheme(caret)
        if unit == "word":
            return seg.next_word_start(caret) if step > 0 else seg.prev_word_start(caret)
        if unit == "sentence":
            return seg.next_sentence_start(caret) if step > 0 else seg.prev_sentence_start(caret)
        if unit == "paragraph":
            return seg.next_paragraph_start(caret) if step > 0 else seg.prev_paragraph_start(caret)
        if unit == "text":
            return len(self.text) - 1 if step > 0 else 0
        row_no = self.rows.row_of(caret)
        if unit == "line":
            start, end = self.rows.rows[row_no]
            return start if step < 0 else max(start, end - (end == len(self.text)))
        lines = step if unit == "row" else step * max(self.scrollable_content_region.height - 2, 1)
        target_row = max(0, min(row_no + lines, len(self.rows) - 1))
        if self._goal_x is None:
            self._goal_x = cell_of_offset(self.display_text, self.rows.rows[row_no], caret)
        offset = offset_at_cell(self.display_text, self.rows.rows[target_row], self._goal_x)
        if not self.segments.is_grapheme_boundary(offset):
            offset = self.segments.prev_grapheme(offset)
        return offset

    def _selection_target(self, unit: str, step: int) -> int:
        """Extending a selection forward by a word, sentence or paragraph stops at its last
        character, so `v w w` selects two words and `v ) 1` one sentence, nothing of the next."""
        anchor = self.sel_anchor if self.sel_anchor is not None else self.caret
        if step > 0 and unit in ("word", "sentence", "paragraph") and self.caret >= anchor:
            end = self.segments.next_end(unit, self.caret)
            return self.caret if end is None else self.segments.prev_grapheme(end)
        return self._target(unit, step)

    def action_move(self, unit: str, step: int) -> None:
        vertical = unit in ("row", "page")
        if self.sel_anchor is not None:
            self.move_caret(self._selection_target(unit, step), extend=True, keep_goal=vertical)
        else:
            self.move_caret(self._target(unit, step), keep_goal=vertical)

    def action_extend(self, unit: str, step: int) -> None:
        self.move_caret(self._selection_target(unit, step), extend=True, keep_goal=unit == "row")

    def action_visual(self) -> None:
        if self.sel_anchor is None:
            self.sel_anchor = self.caret
            self._refresh_offsets(self.caret, self.caret + 1)
            self.post_message(self.SelectionChanged(True))
        else:
            self.clear_selection()

    def action_select_sentence(self) -> None:
        sentence = self.segments.sentence_at(self.caret)
        if sentence:
            self.select(*sentence)

    def action_clear_selection(self) -> None:
        self.clear_selection()
        self.post_message(self.Escaped())

    # -------------------------------------------------------------------- mouse
    def offset_at(self, x: int, y: int) -> int:
        """The offset shown at content-region cell ``(x, y)`` (padding excluded), clamped."""
        row = max(0, min(y + round(self.scroll_offset.y), len(self.rows) - 1))
        offset = offset_at_cell(self.display_text, self.rows.rows[row], x)
        if not self.segments.is_grapheme_boundary(offset):
            offset = self.segments.prev_grapheme(offset)
        return self._clamp(offset)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1 or not self.text:
            return
        self.focus()
        self.clear_selection()
        # Mouse coordinates include the padding; rows are laid out in the content region.
        self.move_caret(self.offset_at(*event.get_content_offset_capture(self)))
        self._dragging = True
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            offset = self.offset_at(*event.get_content_offset_capture(self))
            if offset != self.caret or self.sel_anchor is not None:
                self.move_caret(offset, extend=True)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
