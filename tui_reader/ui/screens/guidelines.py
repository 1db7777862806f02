"""``H``: the project's guidelines (``guidelines.md``), rendered from Markdown, scrollable and
searchable (``/`` then text, ``n`` the next match); closing returns to the article as it was.

The Markdown is the project lead's, read as text: it is rendered by Textual's Markdown widget,
whose text never goes through Rich markup, and every character goes through ``display_safe``
first, so a control character in the file cannot reach the terminal.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Markdown, Static

from ...core.text import display_safe


class GuidelinesScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,H", "close", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("space,pagedown", "scroll(10)", "Page down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", show=False),
        Binding("slash", "search", "Search", show=False),
        Binding("n", "next_match", "Next match", show=False),
    ]

    def __init__(self, markdown: str, source: str) -> None:
        super().__init__()
        self.markdown = display_safe(markdown)
        self.source = source
        self.query_text = ""
        self._last_line = -1

    def compose(self) -> ComposeResult:
        with Vertical(id="guidelines"):
            yield Static(f"Guidelines · {display_safe(self.source)} · / search, n next, esc closes",
                         id="guidelines-title", markup=False)
            with VerticalScroll(id="guidelines-body"):
                yield Markdown(self.markdown)
            yield Input(placeholder="search the guidelines", id="guidelines-search")

    def on_mount(self) -> None:
        self.query_one("#guidelines-search", Input).display = False
        self.query_one("#guidelines-body", VerticalScroll).focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#guidelines-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_search(self) -> None:
        box = self.query_one("#guidelines-search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#guidelines-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_text = event.value.strip().casefold()
        event.input.display = False
        self.query_one("#guidelines-body", VerticalScroll).focus()
        self._last_line = -1
        self.action_next_match()

    def action_next_match(self) -> None:
        """Scroll to the next line of the text holding the search (wrapping round)."""
        if not self.query_text:
            return
        lines = self.markdown.casefold().split("\n")
        order = list(range(self._last_line + 1, len(lines))) + list(range(0, self._last_line + 1))
        found = next((n for n in order if self.query_text in lines[n]), None)
        title = self.query_one("#guidelines-title", Static)
        if found is None:
            self.app.bell()
            title.update(f"No “{display_safe(self.query_text)}” in the guidelines")
            return
        self._last_line = found
        body = self.query_one("#guidelines-body", VerticalScroll)
        # Markdown blocks are not line-for-line: scroll in proportion, close enough to see it.
        share = found / max(len(lines) - 1, 1)
        body.scroll_to(y=int(share * max(body.virtual_size.height - body.size.height, 0)),
                       animate=False)
        title.update(f"“{display_safe(self.query_text)}”: line {found + 1} of {len(lines)} · "
                     "n next · esc closes")

    @on(Markdown.LinkClicked)
    def _no_links(self, event: Markdown.LinkClicked) -> None:
        """A link is not followed: served, the app would open it on the server."""
        event.prevent_default()
        event.stop()
        self.app.bell()

    def action_close(self) -> None:
        box = self.query_one("#guidelines-search", Input)
        if box.display:
            box.display = False
            self.query_one("#guidelines-body", VerticalScroll).focus()
            return
        self.dismiss(None)
