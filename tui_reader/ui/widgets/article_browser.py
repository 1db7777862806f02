"""The left column: the annotator's progress, the search box (``/``) and the article list, whose
status filter ``f`` cycles.

Statuses and counts come from scans of the articles' files in a worker (the app starts them a
moment after start-up, then every few seconds, so teammates' progress shows up); only files that
changed since the last scan are read. Searching runs in a worker too: a search through 10k
article texts never holds up a key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ...core.errors import TuiReaderError
from ...core.model import DocProgress
from ...core.search import matching_documents
from ...core.store import Project
from ...core.text import display_safe
from .article_list import FILTERS, ArticleTable

MANY_ROWS = 64  # changed articles in one scan past which the whole list is drawn again


class ArticleBrowser(Vertical):
    @dataclass
    class Scanned(Message):
        """A scan of the articles' progress came in."""

        first: bool  # the first since start-up
        current_changed: bool  # the open article's file changed (another process wrote it)

    def __init__(self, project: Project, annotator: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.project = project
        self.annotator = annotator
        self.query_text = ""  # what the search box holds ("" no search)
        self._seen: dict[object, object] = {}  # the store's memory of earlier scans
        self._progress_shown = ""  # the progress line as last drawn
        self._scanned_once = False
        self._set_here: set[str] = set()  # articles whose progress the app set itself
        self._scan_problem = ""  # why the last scan failed ("" it did not)
        # Set once a scan has checked every article's summary against its file: the figures
        # screen waits for it rather than compete with it (two passes over 100,000 files at
        # once take 4x as long), and then reads the summaries as the list does.
        self.scanned = threading.Event()

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
        if text.plain != self._progress_shown:  # unchanged: not drawn again
            self._progress_shown = text.plain
            self.query_one("#progress", Static).update(text, layout=False)

    def show_own_progress(self, doc_id: str, status: str, spans: int, all_spans: int) -> None:
        """The annotator's progress on ``doc_id`` as the app has just saved it."""
        known = self.table.progress.get(doc_id, DocProgress())
        others_done = [a for a in known.done_by if a != self.annotator]
        done_by = tuple(sorted([*others_done, self.annotator] if status == "done" else others_done))
        self._set_here.add(doc_id)
        self.table.set_progress(doc_id, DocProgress(status=status, spans=spans,
                                                    all_spans=all_spans, done_by=done_by))
        self.show_progress()

    @work(thread=True, exclusive=True, group="progress")
    def scan(self) -> None:
        """Statuses and counts of the articles whose files changed (all of them the first time),
        read off the UI thread."""
        if not self._scanned_once:
            # Temp files of writers killed mid-write: walking 10k files is no job for start-up.
            try:
                self.project.clean_temp_files()
            except OSError:
                pass
        seen = dict(self._seen)  # kept as it was if the scan fails half-way
        problems: list[str] = []
        try:
            catalog_changed = self.project.reload_catalog()
            changed = self.project.progress_changes(self.annotator, seen, problems)
        except (OSError, TuiReaderError) as err:
            # A damaged file must not end the session: the list waits, the next scan tries again.
            self.app.call_from_thread(self._scan_failed, str(err))
            return
        self.scanned.set()
        self._seen = seen
        if problems:  # damaged articles are left out of the list's figures, and said once
            self.app.call_from_thread(self._scan_failed, "; ".join(problems))
        else:
            self._scan_problem = ""
        if changed or catalog_changed:
            self.app.call_from_thread(self._apply_scan, changed, catalog_changed)

    def _scan_failed(self, problem: str) -> None:
        if problem != self._scan_problem:  # said once, not at every scan
            self._scan_problem = problem
            self.notify(f"The article list is not up to date: {display_safe(problem)}",
                        severity="warning", markup=False)

    def _apply_scan(self, progress: dict[str, DocProgress], catalog_changed: bool) -> None:
        table = self.table
        if catalog_changed:
            table.set_documents(self.project.documents())
        first = not self._scanned_once
        current_changed = False
        news: dict[str, DocProgress] = {}
        for doc_id, item in progress.items():
            if doc_id == table.current_id:
                current_changed = True  # shown from the session: the app reloads it
            elif not (first and doc_id in self._set_here):
                # On the first scan an article the app already changed keeps its newer progress.
                news[doc_id] = item
        self._scanned_once = True
        if first or catalog_changed or len(news) > MANY_ROWS:
            table.progress.update(news)
            table.set_filter(table.status_filter, table.matches)  # a filter may keep others now
        else:  # a teammate's few changes: their rows only (a whole list is ~2.6 KB over SSH)
            for doc_id, item in news.items():
                table.set_progress(doc_id, item)
        self.show_progress()
        self.post_message(self.Scanned(first, current_changed))

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
