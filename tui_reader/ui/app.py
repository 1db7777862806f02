"""The annotator's app: article list, reading pane, label panel, over one AnnotationSession."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from functools import partial

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static

from ..core.errors import StoreError, TuiReaderError
from ..core.model import DocProgress
from ..core.review import review_queue, review_suggestions
from ..core.search import matching_documents
from ..core.session import AnnotationSession, Change
from ..core.store import Project
from ..core.suggest import learned
from ..core.suggest.model_process import ModelProcess
from ..core.text import display_safe
from .keymap import APP_KEYS, bindings
from .widgets.article_list import FILTERS, ArticleTable
from .widgets.label_panel import LabelPanel
from .widgets.reading_pane import ReadingPane

RETRY_SECONDS = 2.0
MODEL_CONFIDENCE = 0.8  # bench/bench_suggest.py: 2.67 keys a span at 0.8, 3.14 at 0.6
RETRAIN_EVERY = 25  # new labels between two trainings of the learned suggestions
POLL_SECONDS = 3.0  # how often teammates' progress is picked up
FIRST_SCAN_DELAY = 0.3  # seconds after start-up before the article list's statuses are read
TIME_FLUSH_SECONDS = 60.0
IDLE_SECONDS = 300.0  # a gap longer than this between keys is not counted as active time
clock = time.monotonic  # the clock active time is measured with (tests replace it)
NARROW = 100  # below this many columns the label panel starts hidden
VERY_NARROW = 90  # and below this, the article list too: at 80x24 the text gets the width


class AnnotatorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-reader"
    BINDINGS = bindings(APP_KEYS)

    def __init__(self, project: Project, annotator: str, *, suggest: bool = True,
                 rules: list | None = None, reviewer: str | None = None) -> None:
        """``reviewer``: review mode, labelling the gold layer from every annotator's spans."""
        super().__init__()
        self.project = project
        self.reviewer = reviewer
        self.session = AnnotationSession(project, annotator, reviewer=reviewer)
        self.snap_words = True
        self.show_others = reviewer is not None
        self.suggest = suggest and reviewer is None
        self.extra_rules = list(rules or [])  # list[Rule], besides the built-in ones
        self._rules: list | None = None  # compiled on first use, after the first frame
        self.model_process = ModelProcess()  # the learned model lives in a process of its own
        self.model_ready = False
        self._labels_since_training = 0
        if reviewer is not None:
            self.sub_title = f"review by {reviewer}"
        # Actions whose save failed, oldest first: (do, after, verb), retried until they are on disk.
        self._pending: list[tuple[Callable[[], Change | None], Callable[[Change | None], None], str]] = []
        self._retry_timer = None
        self._failure = ""  # why the last save failed
        self._progress_set: set[str] = set()  # documents whose progress the UI set itself
        self._seen: dict[str, int] = {}  # doc id -> mtime of its file when its progress was read
        self._polled_once = False
        self._last_activity: float | None = None  # for active time (idle gaps left out)
        self._active_seconds = 0.0
        self._quit_armed = False  # q pressed once while something was unsaved
        self._save_state = Text("")
        self._search = ""
        for label in project.config.labels:
            self.bind(label.key, f"label('{label.name}')", description=label.name, show=False)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="list"):
                yield Static(id="progress")
                yield Input(placeholder="search titles and text", id="search")
                yield ArticleTable(id="articles")
            with Vertical(id="main"):
                yield Static(id="article-header")
                yield ReadingPane(id="pane")
            yield LabelPanel(self.project.config.labels, id="panel")
        yield Static(id="status")
        yield Footer()

    @property
    def pane(self) -> ReadingPane:
        return self.query_one(ReadingPane)

    @property
    def panel(self) -> LabelPanel:
        return self.query_one(LabelPanel)

    @property
    def table(self) -> ArticleTable:
        return self.query_one(ArticleTable)

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.pane.set_labels(self.project.config.labels)
        self.pane.set_show_others(self.show_others)
        if self.reviewer is not None:
            queue = review_queue(self.project)
            self.session.queue = [item.doc_id for item in queue]
            by_id = {d.id: d for d in self.project.documents()}
            self.table.set_documents([by_id[i] for i in self.session.queue])
        else:
            self.table.set_documents(self.project.documents())
        self._fit_to_width(self.size.width)
        first = self.session.first_unfinished() or self.session.neighbour(0)
        if first is None:
            self._set_header(Text("No articles in this project: import some with "
                                  "`tui-reader import PATH`.", style="bold"))
        else:
            self.open_document(first)
        self.pane.focus()
        self._show_status()
        # A moment after the first frame: a thread scanning every article's file would compete
        # with the thread that writes the frame to the terminal.
        self.set_timer(FIRST_SCAN_DELAY, self.load_progress)
        self.call_after_refresh(gc.enable)  # __main__ paused the cyclic collector for start-up
        self.set_interval(POLL_SECONDS, self.load_progress)
        self.set_interval(TIME_FLUSH_SECONDS, self._flush_time)

    def on_resize(self, event) -> None:  # type: ignore[no-untyped-def]
        self._fit_to_width(event.size.width)

    def _fit_to_width(self, width: int) -> None:
        self.query_one("#panel").display = width >= NARROW
        self.query_one("#list").display = width >= VERY_NARROW

    @work(thread=True, exclusive=True, group="progress")
    def load_progress(self) -> None:
        """Statuses and counts of the articles whose files changed (all of them the first time),
        read off the UI thread; repeated every few seconds so teammates' progress shows up."""
        if not self._polled_once:
            # Temp files of writers killed mid-write: walking 10k files is no job for start-up.
            try:
                self.project.clean_temp_files()
            except OSError:
                pass
        catalog_changed = self.project.reload_catalog()
        changed = self.project.progress_changes(self.session.annotator, self._seen)
        if changed or catalog_changed:
            self.call_from_thread(self._apply_progress, changed, catalog_changed)

    def _apply_progress(self, progress: dict[str, DocProgress], catalog_changed: bool) -> None:
        if catalog_changed:
            self.table.set_documents(self.project.documents())
        current = self.session.doc.id if self.session.doc else None
        for doc_id, item in progress.items():
            if doc_id == current:
                if self._polled_once and not self._pending:
                    self._reload_current()
            elif not (doc_id in self._progress_set and not self._polled_once):
                # On the first scan a document the UI already changed keeps its newer progress.
                self.table.progress[doc_id] = item
        if not self._polled_once:
            self._maybe_train()
        self._polled_once = True
        self.table.set_filter(self.table.status_filter, self.table.matches)
        self._show_progress()

    def _reload_current(self) -> None:
        """Another process changed the open article: show its spans as they are on disk."""
        try:
            self.session.reload_spans()
        except (OSError, StoreError):
            return
        self._show_spans()

    @work(thread=True, exclusive=True, group="model")
    def train_model(self) -> None:
        """(Re)train the learned suggestions in the model's own process (no GIL shared with the
        keys), once this annotator has enough labels."""
        try:
            trained = self.model_process.train(str(self.project.root), self.session.annotator,
                                               self.project.config.model_threshold)
        except Exception:  # noqa: BLE001 - a broken model must never break labelling
            return
        if trained:
            self.call_from_thread(self._use_model)

    def _use_model(self) -> None:
        first = not self.model_ready
        self.model_ready = True
        self._load_suggestions()
        if first:
            self._flash("Learned suggestions are on: the model was trained on your labels.")

    @work(thread=True, exclusive=True, group="model-suggest")
    def fetch_model_suggestions(self, doc_id: str, text: str, rule_suggestions: list) -> None:
        try:
            guesses = self.model_process.suggest(text, list(self.project.config.label_names),
                                                 MODEL_CONFIDENCE)
        except Exception:  # noqa: BLE001
            return
        merged = learned.merge(rule_suggestions, guesses)
        self.call_from_thread(self._show_model_suggestions, doc_id, merged)

    def _show_model_suggestions(self, doc_id: str, suggestions: list) -> None:
        if self.session.doc is None or self.session.doc.id != doc_id:
            return  # the annotator moved on
        self.session.set_suggestions(suggestions)
        self.pane.set_suggestions(self.session.suggestions)
        self._show_details()

    def _count_label(self) -> None:
        """Retrain after every few new labels (in the background, never blocking a key)."""
        self._labels_since_training += 1
        # Checking whether there are enough labels reads the whole project: not on every key.
        if self._labels_since_training >= RETRAIN_EVERY:
            self._labels_since_training = 0
            self._maybe_train()

    def _maybe_train(self) -> None:
        """Train when this annotator's spans could be enough (a cheap count from the list)."""
        spans = sum(p.spans for p in self.table.progress.values())
        if self.suggest and spans >= self.project.config.model_threshold:
            self.train_model()

    def _show_progress(self) -> None:
        done = sum(1 for p in self.table.progress.values() if p.status == "done")
        text = Text(f" {self.table.overall(done)}", style="bold")
        if self.table.status_filter != "all":
            text.append(f"  [{self.table.status_filter}]", style="dim")
        if self._search:
            text.append(f"  /{display_safe(self._search)}", style="dim")
        self.query_one("#progress", Static).update(text, layout=False)

    # --------------------------------------------------------------- documents
    def open_document(self, doc_id: str, caret: int | None = None) -> None:
        self._flush_time()
        doc = self.session.open(doc_id)
        text = doc.text
        if caret is None:  # the first character that is not whitespace, so `1` labels at once
            caret = len(text) - len(text.lstrip()) if text.strip() else 0
        self.pane.load(text, doc.styles, self.session.segments, caret)
        self.session.set_suggestions([])
        self.pane.set_suggestions([])
        # Suggestions a moment later: the article is on screen first.
        self.call_after_refresh(self._load_suggestions)
        self._show_spans()
        self.table.show_current(doc_id)
        self._update_header()

    def _update_header(self) -> None:
        doc = self.session.doc
        if doc is None:
            return
        # Its place in the list shown (the review queue in review mode), without a list copy
        # of every document on each label.
        index = self.table.position(doc.id)
        position = 0 if index is None else index + 1
        total = len(self.table.docs)
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(display_safe(doc.info.title), style="bold")
        # The file name, not its full path: the path is long and says where the corpus was
        # imported from, which the annotator does not need.
        source = doc.info.source.replace("\\", "/").rsplit("/", 1)[-1] or doc.id
        header.append(f"\n{position}/{total} · {self.session.status} · {len(doc.text):,} characters"
                      f" · {display_safe(source)}", style="dim")
        self._set_header(header)

    def _set_header(self, text: Text) -> None:
        self.query_one("#article-header", Static).update(text, layout=False)

    @property
    def rules(self) -> list:
        """The rules suggestions come from: the built-in ones and --patterns."""
        if self._rules is None:
            from ..core.suggest.rules import DEFAULT_RULES

            self._rules = [*DEFAULT_RULES, *self.extra_rules]
        return self._rules

    @rules.setter
    def rules(self, rules: list) -> None:
        self._rules = list(rules)

    def _load_suggestions(self) -> None:
        """Suggestions for the open article (rules, then the learned model), or in review mode
        the other annotators' spans still to settle."""
        session = self.session
        if session.doc is None:
            return
        if self.reviewer is not None:
            suggestions = review_suggestions(self.project, session.doc.id)
        elif self.suggest:
            from ..core.suggest.rules import apply_rules

            labels = self.project.config.label_names
            suggestions = apply_rules(session.doc.text, session.segments, self.rules, labels)
            if self.model_ready:
                # The model only where no rule fires, and only when fairly sure (measured on the
                # gold set, that saves keys); its guesses arrive from its process a moment later.
                self.fetch_model_suggestions(session.doc.id, session.doc.text, suggestions)
        else:
            suggestions = []
        session.set_suggestions(suggestions)
        self.pane.set_suggestions(session.suggestions)

    def _show_spans(self) -> None:
        session = self.session
        self.pane.set_spans(session.spans, session.others)
        self.pane.set_suggestions(session.suggestions)
        self.panel.show_counts(session.label_counts())
        self.panel.show_spans(session.spans)
        self._show_details()
        if session.doc is not None:
            self._progress_set.add(session.doc.id)
            doc_id, me = session.doc.id, session.annotator
            known = self.table.progress.get(doc_id, DocProgress())
            others_done = [a for a in known.done_by if a != me]
            done_by = tuple(sorted([*others_done, me] if session.status == "done" else others_done))
            self.table.set_progress(doc_id, DocProgress(
                status=session.status, spans=len(session.spans),
                all_spans=len(session.spans) + len(session.others), done_by=done_by))
            self._show_progress()

    def _show_details(self) -> None:
        caret = self.pane.caret
        others = [s for s in self.session.others if s.start <= caret < s.end]
        self.panel.show_details(self.session.spans_at(caret), others if self.show_others else [],
                                self.session.suggestions_at(caret),
                                "candidate" if self.reviewer else "suggestion")

    def on_reading_pane_caret_moved(self, event: ReadingPane.CaretMoved) -> None:
        self._show_details()

    def on_reading_pane_selection_changed(self, event: ReadingPane.SelectionChanged) -> None:
        self._show_status()

    def on_article_table_chosen(self, event: ArticleTable.Chosen) -> None:
        if self._busy():
            return
        self.open_document(event.doc_id)
        self.pane.focus()

    def on_label_panel_span_chosen(self, event: LabelPanel.SpanChosen) -> None:
        span = next((s for s in self.session.spans if s.id == event.span_id), None)
        if span is not None:
            self.pane.clear_selection()
            self.pane.move_caret(span.start)
            self.pane.focus()

    # ------------------------------------------------------------------ saving
    def _busy(self) -> bool:
        if self._pending:
            self.bell()
            # Keep the failure in sight: a new message must not hide that something is unsaved.
            self._save_state = Text(f" NOT SAVED: {display_safe(self._failure)} — retrying; that key "
                                    "was ignored until the last action is saved ",
                                    style="bold white on red")
            self._show_status()
            return True
        return False

    def _save(self, do: Callable[[], Change | None],
              after: Callable[[Change | None], None], verb: str = "saved") -> None:
        """Run a store action; on failure show it plainly and retry until it is on disk."""
        if self._busy():
            return
        try:
            change = do()
        except OSError as err:
            self._pending.append((do, after, verb))
            self._saving_failed(err)
            return
        except TuiReaderError as err:
            # Not worth retrying (a damaged file, a span deleted from another terminal):
            # say so plainly and show what is on disk.
            message = str(err.args[0]) if err.args else str(err)
            self.bell()
            self._save_state = Text(f" NOT SAVED: {display_safe(message)} ", style="bold white on red")
            self._show_status()
            self._reload_current()
            return
        self._saved(change, verb)
        after(change)

    def _saving_failed(self, err: OSError) -> None:
        reason = self._failure = err.strerror or str(err)
        self._save_state = Text(f" NOT SAVED: {display_safe(reason)} — retrying every "
                                f"{RETRY_SECONDS:.0f} s ", style="bold white on red")
        self._show_status()
        if self._retry_timer is None:
            self._retry_timer = self.set_interval(RETRY_SECONDS, self._retry)

    def _retry(self) -> None:
        while self._pending:
            do, after, verb = self._pending[0]
            try:
                change = do()
            except OSError as err:
                self._saving_failed(err)
                return
            self._pending.pop(0)
            self._saved(change, verb)
            after(change)
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def _saved(self, change: Change | None, verb: str = "saved") -> None:
        self._quit_armed = False
        if change is None:
            self._save_state = Text("nothing to change", style="dim")
        else:
            self._save_state = Text(f"✓ {verb}: {display_safe(change.describe())}", style="green")
        self._show_status()

    def _flash(self, message: str) -> None:
        self._save_state = Text(display_safe(message), style="yellow")
        self._show_status()

    def _show_status(self) -> None:
        status = Text()
        if self.pane.sel_anchor is not None:
            status.append(" VISUAL ", style="bold reverse")
            status.append(" ")
        status.append(f"{display_safe(self.session.annotator)} ", style="bold")
        status.append("words " if self.snap_words else "characters ", style="dim")
        status.append_text(self._save_state)
        self.query_one("#status", Static).update(status, layout=False)

    # ----------------------------------------------------------------- actions
    def action_label(self, name: str) -> None:
        if self.session.doc is None:
            return
        target = self.session.target(self.pane.selection(), self.pane.caret, self.snap_words)
        if target is None:
            self.bell()
            self._flash("Nothing to label here (only whitespace).")
            return
        start, end = target

        def after(change: Change | None) -> None:
            self.pane.clear_selection()
            self._show_spans()
            self._update_header()
            self._count_label()

        self._save(lambda: self.session.label(name, start, end), after)

    def action_accept(self) -> None:
        suggestions = self.session.suggestions_at(self.pane.caret)
        if not suggestions:
            self.bell()
            self._flash("No suggestion at the caret (> and < jump to the next and previous).")
            return
        suggestion = suggestions[0]  # the shortest, where several cover the caret
        self._save(lambda: self.session.accept(suggestion), lambda change: self._show_spans())

    def action_reject(self) -> None:
        suggestions = self.session.suggestions_at(self.pane.caret)
        if not suggestions:
            self.bell()
            self._flash("No suggestion at the caret to reject.")
            return
        suggestion = suggestions[0]
        self._save(lambda: self.session.reject(suggestion, by=self.reviewer),
                   lambda change: self._show_spans())

    def action_accept_all(self, label: str | None = None) -> None:
        """Accept every open suggestion of ``label`` (default: the label of the one at the caret)."""
        if label is None:
            here = self.session.suggestions_at(self.pane.caret)
            if not here:
                self.bell()
                self._flash("Put the caret on a suggestion first (or use the command palette).")
                return
            label = here[0].label
        chosen = [p for p in self.session.suggestions if p.label == label]
        self._save(lambda: self.session.accept_many(chosen), lambda change: self._show_spans())
        self._flash(f"Accepted {len(chosen)} {label} suggestions (u undoes them all).")

    def action_suggestion(self, step: int) -> None:
        caret = self.pane.caret
        starts = [p.start for p in self.session.suggestions]
        targets = [s for s in starts if s > caret] if step > 0 else [s for s in starts if s < caret]
        if not targets:
            self._flash("No more suggestions that way.")
            return
        self.pane.clear_selection()
        self.pane.move_caret(min(targets) if step > 0 else max(targets))

    def action_delete_span(self) -> None:
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._flash("No span of yours at the caret.")
            return
        if len(spans) == 1:
            self._delete(spans[0].id)
            return

        def chosen(span_id: str | None) -> None:
            if span_id:
                self._delete(span_id)

        from .screens.choose_span import ChooseSpanScreen

        self.push_screen(ChooseSpanScreen(spans), chosen)

    def _delete(self, span_id: str) -> None:
        self._save(lambda: self.session.delete(span_id), lambda change: self._show_spans())

    def action_undo(self) -> None:
        self._history(self.session.undo, self.session.undo_stack, "Nothing to undo.")

    def action_redo(self) -> None:
        self._history(self.session.redo, self.session.redo_stack, "Nothing to redo.")

    def _history(self, step: Callable[[], Change | None], stack: list[Change], empty: str) -> None:
        if not stack:
            self._flash(empty)
            return
        shown = self.session.doc.id if self.session.doc else None

        def after(change: Change | None) -> None:
            if change is None:
                return
            if change.doc_id != shown:  # the change was in another article: show it there
                self.open_document(change.doc_id, caret=change.offset)
            else:
                self._show_spans()
                self._update_header()

        self._save(step, after, "undone" if step == self.session.undo else "redone")

    def action_done(self) -> None:
        self._finish("done")

    def action_skip(self) -> None:
        self._finish("skipped")

    def _finish(self, status: str) -> None:
        if self.session.doc is None:
            return
        current = self.session.doc.id

        def after(change: Change | None) -> None:
            self._show_spans()
            following = self.session.first_unfinished(after=current)
            if following is None:
                self._update_header()
                self._save_state.append("  Every article is done or skipped: nothing left to open.",
                                        style="bold yellow")
                self._show_status()
                self.notify("Every article is done or skipped. Well done!", title="All done")
                return
            self.open_document(following)

        self._save(lambda: self.session.set_status(status), after)

    def action_article(self, step: int) -> None:
        if self._busy():
            return
        target = self.session.neighbour(step)
        if target is None:
            self._flash("No more articles that way.")
            return
        self.open_document(target)

    def action_toggle_snap(self) -> None:
        self.snap_words = not self.snap_words
        self._flash("Selections snap to whole words." if self.snap_words
                    else "Selections keep exact characters (graphemes).")

    def action_toggle_others(self) -> None:
        self.show_others = not self.show_others
        self.pane.set_show_others(self.show_others)
        self._show_details()
        count = len(self.session.others)
        self._flash(f"Showing {count} spans by other annotators (read-only)." if self.show_others
                    else "Showing only your spans.")

    def action_edit_note(self) -> None:
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._flash("No span of yours at the caret to write a note on.")
            return
        if not self.query_one("#panel").display:
            self.query_one("#panel").display = True
        self.panel.edit_note(spans[0])

    def on_label_panel_note_submitted(self, event: LabelPanel.NoteSubmitted) -> None:
        self._save(lambda: self.session.set_note(event.span_id, event.note),
                   lambda change: self._show_spans())
        self.pane.focus()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        self.query_one("#list").display = True
        search.display = True
        search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self._search = event.value
            self.run_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.table.focus()

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, query: str) -> None:
        matches = matching_documents(self.project, query)
        self.call_from_thread(self._apply_search, matches)

    def _apply_search(self, matches: set[str] | None) -> None:
        self.table.set_filter(self.table.status_filter, matches)
        self._show_progress()

    def action_cycle_filter(self) -> None:
        following = FILTERS[(FILTERS.index(self.table.status_filter) + 1) % len(FILTERS)]
        self.table.set_filter(following, self.table.matches)
        self._show_progress()

    def action_toggle_list(self) -> None:
        widget = self.query_one("#list")
        widget.display = not widget.display

    def action_toggle_panel(self) -> None:
        widget = self.query_one("#panel")
        widget.display = not widget.display

    def get_system_commands(self, screen):  # type: ignore[no-untyped-def]  # noqa: ANN201
        """The command palette (ctrl+p): Textual's commands and ours."""
        yield from super().get_system_commands(screen)
        for label in self.project.config.labels:
            yield SystemCommand(f"Accept all {label.name} suggestions",
                                f"Every open {label.name} suggestion in this article becomes a span",
                                partial(self.action_accept_all, label.name))
        yield SystemCommand("Mark article done", "And open the next one not done", self.action_done)
        yield SystemCommand("Statistics", "Labels, progress and agreement", self.action_stats)
        yield SystemCommand("Toggle other annotators' spans", "Read-only", self.action_toggle_others)

    def action_stats(self) -> None:
        from .screens.stats import StatsScreen

        self.push_screen(StatsScreen(self.project))

    def action_help(self) -> None:
        from .screens.help import HelpScreen  # loaded when first asked for

        self.push_screen(HelpScreen(self.project.config.labels))

    async def action_quit(self) -> None:
        """Quit; while an action is still unsaved, only when asked twice in a row."""
        if self._pending and not self._quit_armed:
            self._quit_armed = True
            self.bell()
            self._save_state = Text(f" NOT SAVED: {display_safe(self._failure)} — quitting now loses "
                                    "the last action: press q again to quit anyway ",
                                    style="bold white on red")
            self._show_status()
            return
        await super().action_quit()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._note_activity()
        await super().on_event(event)

    def _note_activity(self) -> None:
        now = clock()
        if self._last_activity is not None and now - self._last_activity <= IDLE_SECONDS:
            self._active_seconds += now - self._last_activity
        self._last_activity = now

    def _flush_time(self) -> None:
        """Add the active time on the open article to the store (on switching, done, quit)."""
        if self.session.doc is None or self._active_seconds < 1:
            return
        try:
            self.project.add_time(self.session.doc.id, self.session.annotator, self._active_seconds)
        except (OSError, StoreError):
            return  # kept, and tried again at the next flush
        self._active_seconds = 0.0

    def on_unmount(self) -> None:
        self._flush_time()
        self.model_process.close()

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # Escape leaves the search box or the note field and returns to reading.
        if event.key == "escape" and isinstance(self.focused, Input):
            if self.focused.id == "note":
                self.panel.close_note()
            else:
                self.focused.display = bool(self._search)
            self.pane.focus()
            event.stop()

