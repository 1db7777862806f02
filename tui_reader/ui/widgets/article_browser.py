"""The left column: the annotator's progress, the search box (``/``) and the article list, whose
status filter ``f`` cycles. Searching runs in a worker: a search through 10k article texts never
holds up a key."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from ...core.search import matching_documents
from ...core.store import Project
from ...core.text import display_safe
from .article_list import FILTERS, ArticleTable


class ArticleBrowser(Vertical):
    def __init__(self, project: Project, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.project = project
        self.query_text = ""  # what the search box holds ("" no search)

    def compose(self) -> ComposeResult:
        yield Static(id="progress")
        search = Input(placeholder="search titles and text", id="search")
        search.display = False  # until / opens it
        yield search
        yield ArticleTable(id="articles")

    @property
    def table(self) -> ArticleTable:
        return self.query_one(ArticleTable)

    def show_progress(self) -> None:
        """The progress line: articles done, and the filter and search in force."""
        table = self.table
        done = sum(1 for p in table.progress.values() if p.status == "done")
        text = Text(f" {table.overall(done)}", style="bold")
        if table.status_filter != "all":
            text.append(f"  [{table.status_filter}]", style="dim")
        if self.query_text:
            text.append(f"  /{display_safe(self.query_text)}", style="dim")
        self.query_one("#progress", Static).update(text, layout=False)

    def progress_changed(self) -> None:
        """Statuses changed: filter again (a status filter may now keep other articles)."""
        self.table.set_filter(self.table.status_filter, self.table.matches)
        self.show_progress()

    def cycle_filter(self) -> None:
        table = self.table
        following = FILTERS[(FILTERS.index(table.status_filter) + 1) % len(FILTERS)]
        table.set_filter(following, table.matches)
        self.show_progress()

    def open_search(self) -> None:
        search = self.query_one("#search", Input)
        self.display = True
        search.display = True
        search.focus()

    def leave_search(self) -> None:
        """Back to reading: the box stays in sight while it holds a search."""
        self.query_one("#search", Input).display = bool(self.query_text)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.run_search(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, query: str) -> None:
        matches = matching_documents(self.project, query)
        self.app.call_from_thread(self._show_matches, matches)

    def _show_matches(self, matches: set[str] | None) -> None:
        self.table.set_filter(self.table.status_filter, matches)
        self.show_progress()
