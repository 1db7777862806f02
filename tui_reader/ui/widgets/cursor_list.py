"""A Line-API list with a cursor row: up/down (or j/k), enter and a click choose a row.

The article list and the span list are both this; subclasses say how many rows there are, draw
one row, and say what choosing a row means.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.scroll_view import ScrollView


class CursorList(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("enter", "choose", "Choose", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursor = 0

    def row_count(self) -> int:
        raise NotImplementedError

    def choose(self, row: int) -> None:
        """Row ``row`` was chosen (enter or a click)."""
        raise NotImplementedError

    def action_cursor(self, step: int) -> None:
        if not self.row_count():
            return
        self.cursor = max(0, min(self.cursor + step, self.row_count() - 1))
        top, height = round(self.scroll_offset.y), self.size.height
        if not top <= self.cursor < top + height:
            self.scroll_to(y=max(0, self.cursor - height + 1) if step > 0 else self.cursor,
                           animate=False, immediate=True)
        self.refresh()

    def action_choose(self) -> None:
        if self.row_count():
            self.choose(self.cursor)

    def on_click(self, event: events.Click) -> None:
        row = event.y + round(self.scroll_offset.y)
        if 0 <= row < self.row_count():
            self.cursor = row
            self.choose(row)

    def on_focus(self) -> None:
        self.refresh()  # the cursor row is only highlighted while the list has the focus

    def on_blur(self) -> None:
        self.refresh()
