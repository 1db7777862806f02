"""The annotator's app: article list, reading pane, label panel and status line over one
AnnotationSession.

This module wires the parts; the rules live in units of their own: saving and NOT SAVED
(saving.py), active reading time (activity.py), the learned model (learning.py), the status line
(widgets/status_line.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input

from ..core.errors import TuiReaderError
from ..core.model import Span
from ..core.review import article_label_votes, review_queue, review_suggestions
from ..core.schema import RelationType
from ..core.session import AnnotationSession, Change
from ..core.store import Project
from ..core.suggest.suggestion import LinkSuggestion, RelationSuggestion, Suggestion
from .activity import TIME_FLUSH_SECONDS, ActivityClock
from .keymap import APP_KEYS, bindings
from .learning import LearnedSuggestions
from .saving import Saver
from .widgets.article_browser import ArticleBrowser
from .widgets.article_header import NO_ARTICLES, ArticleHeader, Heading
from .widgets.article_list import ArticleTable
from .widgets.label_panel import LabelPanel
from .widgets.reading_pane import ReadingPane
from .widgets.status_line import Notice, StatusLine, Tone

if TYPE_CHECKING:
    from ..core.suggest.ml_backend import BackgroundSuggester
    from ..core.suggest.rules import Rule


def quoted(text: str) -> str:
    """``text`` in quotation marks, unless it is a quotation already."""
    return text if text[:1] in "“\"«„‘'" else f"“{text}”"

POLL_SECONDS = 3.0  # how often teammates' progress is picked up
FIRST_SCAN_DELAY = 0.3  # seconds after start-up before the article list's statuses are read
NARROW = 100  # below this many columns the label panel starts hidden
VERY_NARROW = 90  # and below this, the article list too: at 80x24 the text gets the width
# Textual's palette command that saves an SVG of the screen into ~/Downloads: served over SSH,
# that is the server's disk, so it is not offered (the palette's other commands write nothing).
SCREENSHOT_COMMAND = "Screenshot"


class AnnotatorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-reader"
    BINDINGS = bindings(APP_KEYS)

    snap_words: reactive[bool] = reactive(True)  # selections snap to whole words (W toggles)

    def __init__(self, project: Project, annotator: str, *, suggest: bool = True,
                 rules: list[Rule] | None = None, reviewer: str | None = None,
                 ml_backend: str | None = None) -> None:
        """``rules``: suggestion rules besides the built-in ones (--patterns). ``reviewer``:
        review mode, labelling the gold layer from every annotator's spans. ``ml_backend``: the
        URL of a model server (Label Studio's ML backend protocol) to suggest with."""
        super().__init__()
        self.project = project
        self.reviewer = reviewer
        self.session = AnnotationSession(project, annotator, reviewer=reviewer)
        self.show_others = reviewer is not None
        self.suggest = suggest and reviewer is None
        self.extra_rules = list(rules or [])
        self._rules: list[Rule] | None = None  # compiled on first use, after the first frame
        self.learned = LearnedSuggestions(project, self.session.annotator)
        self.saver = Saver(show=self._say, bell=self.bell, reload=self._reload_current,
                           every=self.set_interval)
        self.activity = ActivityClock()
        self._connect_from: Span | None = None  # the first end of a relation being made with c
        self._links: list[LinkSuggestion] = []  # relation suggestions of the open article
        self.ml: BackgroundSuggester | None = None
        if ml_backend and self.suggest:
            from ..core.suggest.ml_backend import BackgroundSuggester, MLBackend

            self.ml = BackgroundSuggester(
                MLBackend(ml_backend, project.config.label_names),
                on_result=lambda key, found: self._from_thread(self._ml_answered, key),
                on_error=lambda line: self._from_thread(self._ml_failed, line))
        if reviewer is not None:
            self.sub_title = f"review by {reviewer}"
        for label in project.config.labels:
            self.bind(label.key, f"label('{label.name}')", description=label.name, show=False)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield ArticleBrowser(self.project, self.session.annotator, id="list")
            with Vertical(id="main"):
                yield ArticleHeader(id="article-header")
                yield ReadingPane(id="pane")
            yield LabelPanel(self.project.config.labels, id="panel")
        yield StatusLine(self.session.annotator, id="status").data_bind(AnnotatorApp.snap_words)
        yield Footer()

    @property
    def pane(self) -> ReadingPane:
        return self.query_one(ReadingPane)

    @property
    def panel(self) -> LabelPanel:
        return self.query_one(LabelPanel)

    @property
    def browser(self) -> ArticleBrowser:
        return self.query_one(ArticleBrowser)

    @property
    def table(self) -> ArticleTable:
        return self.query_one(ArticleTable)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
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
        try:  # the next article this annotator should do, held for them (leases.py)
            first = self.session.claim_next() or self.session.neighbour(0)
        except (OSError, TuiReaderError):  # a damaged file on the way: start at the top
            first = self.session.neighbour(0)
        if first is None:
            self.query_one(ArticleHeader).heading = NO_ARTICLES
        else:
            self.open_document(first)
        self.pane.focus()
        # A moment after the first frame: a thread scanning every article's file would compete
        # with the thread that writes the frame to the terminal.
        self.set_timer(FIRST_SCAN_DELAY, self.browser.scan)
        self.call_after_refresh(gc.enable)  # __main__ paused the cyclic collector for start-up
        self.set_interval(POLL_SECONDS, self.browser.scan)
        self.set_interval(TIME_FLUSH_SECONDS, self._flush_time)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_to_width(event.size.width)

    def _fit_to_width(self, width: int) -> None:
        self.panel.display = width >= NARROW
        self.browser.display = width >= VERY_NARROW

    # ------------------------------------------------------------- the list
    def on_article_browser_scanned(self, event: ArticleBrowser.Scanned) -> None:
        doc = self.session.doc
        if (event.current_changed and not event.first and not self.saver.unsaved
                and doc is not None and self.project.changed_elsewhere(doc.id)):
            self._reload_current()  # not after our own writes: the session has them already
        if event.first:
            self._maybe_train()

    def _reload_current(self) -> None:
        """Another process changed the open article: show its spans as they are on disk."""
        try:
            self.session.reload_spans()
        except (OSError, TuiReaderError):
            return
        self._show_spans()

    def on_article_table_chosen(self, event: ArticleTable.Chosen) -> None:
        if self.saver.busy():
            return
        self.open_document(event.doc_id)
        self.pane.focus()

    # ------------------------------------------------------ learned suggestions
    @work(thread=True, exclusive=True, group="model")
    def train_model(self) -> None:
        """(Re)train the learned suggestions, off the UI thread (in the model's own process)."""
        if self.learned.train():
            self._from_thread(self._use_model)
            if self.project.config.order == "uncertain" and self.reviewer is None:
                from ..core.ranking import rank_in_background

                # The queue's order is rewritten by a process of its own, at low priority.
                rank_in_background(self.project.root, self.session.annotator,
                                   self.project.config.model_threshold).wait()

    def _use_model(self) -> None:
        first = not self.learned.ready
        self.learned.ready = True
        self._load_suggestions()
        if first:
            self._hint("Learned suggestions are on: the model was trained on your labels.")

    @work(thread=True, exclusive=True, group="model-suggest")
    def fetch_model_suggestions(self, doc_id: str, text: str,
                                rule_suggestions: list[Suggestion]) -> None:
        merged = self.learned.suggest(text, rule_suggestions)
        if merged is not None:
            self.call_from_thread(self._show_model_suggestions, doc_id, merged)

    def _show_model_suggestions(self, doc_id: str, suggestions: list[Suggestion]) -> None:
        if self.session.doc is None or self.session.doc.id != doc_id:
            return  # the annotator moved on
        self.session.set_suggestions([*suggestions, *self._links])
        self.pane.set_suggestions(self.session.suggestions)
        self._show_details()

    def _count_label(self) -> None:
        # Checking whether there are enough labels reads the whole project: not on every key.
        if self.learned.count_label():
            self._maybe_train()

    def _maybe_train(self) -> None:
        spans = sum(p.spans for p in self.table.progress.values())
        if self.suggest and self.learned.worth_training(spans):
            self.train_model()

    # --------------------------------------------------------------- documents
    def open_document(self, doc_id: str, caret: int | None = None) -> None:
        self._flush_time()
        try:
            doc = self.session.open(doc_id)
        except (OSError, TuiReaderError) as err:  # its file is damaged: the open one stays
            self.bell()
            self.status_line.show(Notice(f"{doc_id} could not be opened: {err}", Tone.WARNING))
            return
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
        self.query_one(ArticleHeader).heading = Heading.of(
            doc, 0 if index is None else index + 1, len(self.table.docs), self.session.status)

    @property
    def rules(self) -> list[Rule]:
        """The rules suggestions come from: the built-in ones and --patterns."""
        if self._rules is None:
            from ..core.suggest.rules import DEFAULT_RULES

            self._rules = [*DEFAULT_RULES, *self.extra_rules]
        return self._rules

    @rules.setter
    def rules(self, rules: list[Rule]) -> None:
        self._rules = list(rules)

    def _load_suggestions(self) -> None:
        """Suggestions for the open article (rules, then the learned model), or in review mode
        the other annotators' spans still to settle."""
        session = self.session
        if session.doc is None:
            return
        self._links = []
        if self.reviewer is not None:
            suggestions: list[Suggestion | LinkSuggestion] = list(
                review_suggestions(self.project, session.doc.id))
        elif self.suggest:
            from ..core.suggest.rules import apply_rules

            labels = self.project.config.label_names
            spans = apply_rules(session.doc.text, session.segments, self.rules, labels)
            if self.ml is not None:
                from ..core.suggest.ml_backend import with_ml

                # From the cache at once, else in the background: never a wait for the server.
                found = self.ml.request(session.doc.text)
                if found is not None:
                    spans = with_ml(spans, found)
            spans = [*spans, *session.stored_suggestions()]  # from label-all --as-suggestions
            self._links = self._attribution(spans)
            suggestions = [*spans, *(s for s in self._links if isinstance(s, Suggestion))]
            self._links = [s for s in self._links if not isinstance(s, Suggestion)]
            if self.learned.ready:
                # The model only where no rule fires, and only when fairly sure (measured on the
                # gold set, that saves keys); its guesses arrive from its process a moment later.
                self.fetch_model_suggestions(session.doc.id, session.doc.text,
                                             [s for s in suggestions if isinstance(s, Suggestion)])
            suggestions += self._links
        else:
            suggestions = []
        session.set_suggestions(suggestions)
        self.pane.set_suggestions(session.suggestions)
        self._show_details()

    def _from_thread(self, callback: Callable[..., None], *args: object) -> None:
        """Run ``callback`` on the app's loop from a background thread (nothing once it quit)."""

        def while_running() -> None:
            if self.is_running:  # not while it shuts down: its widgets are being removed
                callback(*args)

        try:
            self.call_from_thread(while_running)
        except RuntimeError:
            pass  # the app has ended

    def _ml_answered(self, text_key: str) -> None:
        from ..core.suggest.ml_backend import text_key as key_of

        doc = self.session.doc
        if doc is not None and key_of(doc.text) == text_key:
            self._load_suggestions()  # the answer is in the cache now

    def _ml_failed(self, line: str) -> None:
        self.status_line.show(Notice(f"Model server: {line}", Tone.WARNING))

    def _attribution(self, rule_spans: list[Suggestion]) -> list[Suggestion | LinkSuggestion]:
        """Who said it: for the statements the rules suggest and the annotator's own, the named
        source and the relation to it (when the project has a relation to ``source`` spans)."""
        kind = next((r for r in self.project.config.schema.relations if "source" in r.children
                     and "source" in self.project.config.label_names), None)
        session = self.session
        if kind is None or session.doc is None or session.segments is None:
            return []
        from ..core.suggest.attribution import attribution_suggestions

        heads = {s.key for s in rule_spans if s.label in kind.heads}
        heads |= {s.key for s in session.spans if s.label in kind.heads}
        return list(attribution_suggestions(session.doc.text, session.segments, sorted(heads),
                                            kind.name, "source"))

    def _show_spans(self) -> None:
        session = self.session
        self.pane.set_spans(session.spans, session.others)
        self.pane.set_suggestions(session.suggestions)
        self.panel.show_counts(session.label_counts())
        self.panel.show_spans(session.spans)
        self._show_details()
        if session.doc is not None:
            self.browser.show_own_progress(session.doc.id, session.status, len(session.spans),
                                           len(session.spans) + len(session.others))

    def _show_details(self) -> None:
        caret = self.pane.caret
        session = self.session
        others = [s for s in session.others if s.start <= caret < s.end]
        mine = session.spans_at(caret)
        about = {span.id: self._about(span) for span in mine}
        links = [self._describe_link(link) for link in session.links_at(caret)]
        self.panel.show_details(mine, others if self.show_others else [],
                                session.suggestions_at(caret),
                                "candidate" if self.reviewer else "suggestion", about, links)
        self._show_linked(mine)

    def _about(self, span: Span) -> list[str]:
        """What the panel says of one of the annotator's spans beyond its label: its
        attributes and its relations (``attributed_to → “Ana Ruiz”``)."""
        schema = self.project.config.schema
        meaning = {kind.name: kind.description for kind in schema.attributes_of(span.label)}
        lines = [f"{name}: {('yes' if value else 'no') if isinstance(value, bool) else value}"
                 + (f" · {meaning[name]}" if meaning.get(name) else "")
                 for name, value in span.attributes.items()]
        for relation in self.session.relations_of(span.id):
            outgoing = relation.head == span.id
            other = self.session.span(relation.child if outgoing else relation.head)
            kind = schema.relation(relation.label)
            lines.append(f"{relation.label} {'→' if outgoing else '←'} "
                         f"{quoted(other.text) if other is not None else '?'}"
                         + (f" · {kind.description}" if kind and kind.description else ""))
        return lines

    def _describe_link(self, link: LinkSuggestion) -> str:
        text = self.session.doc.text if self.session.doc else ""
        if isinstance(link, RelationSuggestion):
            return (f"{link.label}: {quoted(text[link.head[0]:link.head[1]])} → "
                    f"{quoted(text[link.child[0]:link.child[1]])}  {link.source}")
        return f"{link.name} = {link.value} on {quoted(text[link.span[0]:link.span[1]])}  {link.source}"

    def _show_linked(self, at_caret: list[Span]) -> None:
        """Mark the spans linked to the ones at the caret (or the first end of a c)."""
        if self._connect_from is not None:
            self.pane.set_linked([(self._connect_from.start, self._connect_from.end)])
            return
        extents = []
        for span in at_caret:
            for relation in self.session.relations_of(span.id):
                other = self.session.span(relation.child if relation.head == span.id else relation.head)
                if other is not None:
                    extents.append((other.start, other.end))
        self.pane.set_linked(sorted(set(extents)))

    def on_reading_pane_caret_moved(self, event: ReadingPane.CaretMoved) -> None:
        self._show_details()

    def on_reading_pane_escaped(self, event: ReadingPane.Escaped) -> None:
        if self._connect_from is not None:
            self._connect_from = None
            self._hint("No relation made.")
            self._show_details()

    def on_reading_pane_selection_changed(self, event: ReadingPane.SelectionChanged) -> None:
        self.status_line.visual = event.selecting

    def on_label_panel_span_chosen(self, event: LabelPanel.SpanChosen) -> None:
        span = next((s for s in self.session.spans if s.id == event.span_id), None)
        if span is not None:
            self.pane.clear_selection()
            self.pane.move_caret(span.start)
            self.pane.focus()

    # ------------------------------------------------------------ status line
    def _say(self, notice: Notice) -> None:
        self.status_line.show(notice)

    def _hint(self, message: str) -> None:
        self.status_line.show(Notice(message, Tone.HINT))

    # ----------------------------------------------------------------- actions
    def action_label(self, name: str) -> None:
        if self.session.doc is None:
            return
        target = self.session.target(self.pane.selection(), self.pane.caret, self.snap_words)
        if target is None:
            self.bell()
            self._hint("Nothing to label here (only whitespace).")
            return
        start, end = target

        def after(change: Change | None) -> None:
            self.pane.clear_selection()
            self._show_spans()
            self._update_header()
            self._count_label()

        self.saver.save(lambda: self.session.label(name, start, end), after)

    def _suggestion_here(self) -> Suggestion | LinkSuggestion | None:
        """The suggestion at the caret: the shortest span suggestion over it, else a relation
        or attribute suggestion touching it."""
        spans = self.session.suggestions_at(self.pane.caret)
        if spans:
            return spans[0]
        links = self.session.links_at(self.pane.caret)
        return links[0] if links else None

    def action_accept(self) -> None:
        suggestion = self._suggestion_here()
        if suggestion is None:
            self.bell()
            self._hint("No suggestion at the caret (> and < jump to the next and previous).")
            return
        self.saver.save(lambda: self.session.accept(suggestion), self._after_span_change)

    def action_reject(self) -> None:
        suggestion = self._suggestion_here()
        if suggestion is None:
            self.bell()
            self._hint("No suggestion at the caret to reject.")
            return
        self.saver.save(lambda: self.session.reject(suggestion, by=self.reviewer),
                        self._after_span_change)

    def action_accept_all(self, label: str | None = None) -> None:
        """Accept every open suggestion of ``label`` (default: the label of the one at the caret)."""
        if label is None:
            here = self.session.suggestions_at(self.pane.caret)
            if not here:
                self.bell()
                self._hint("Put the caret on a suggestion first (or use the command palette).")
                return
            label = here[0].label
        chosen = [p for p in self.session.suggestions if p.label == label]

        def after(change: Change | None) -> None:
            self._show_spans()
            self._hint(f"Accepted {len(chosen)} {label} suggestions (one u undoes them all).")

        self.saver.save(lambda: self.session.accept_many(chosen), after)

    def action_label_every(self) -> None:
        """``*``: the text of the span at the caret (or of the selection), labelled wherever else
        it occurs in this article; a selection asks which label."""
        if self.session.doc is None:
            return
        selection = self.pane.selection()
        if selection is not None and selection[0] < selection[1]:
            from rich.text import Text

            from .screens.choose_span import ChooseScreen

            target = self.session.target(selection, self.pane.caret, self.snap_words)
            if target is None:
                self.bell()
                self._hint("Nothing to look for in the selection (only whitespace).")
                return
            start, end = target
            text = self.session.doc.text[start:end].strip()
            options = [(label.name, Text(label.name)) for label in self.project.config.labels]
            self.push_screen(ChooseScreen(f"Label every “{text[:30]}” as", options),
                             lambda name: self._label_every((start, end), name) if name else None)
            return
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._hint("* labels every occurrence of a span's text: put the caret on a span of "
                       "yours, or select the text first.")
            return
        self._pick_span(spans, "Every occurrence of which span?", lambda span_id: self._label_every(
            self.session.span(span_id), None))

    def _label_every(self, what: Span | tuple[int, int] | None, label: str | None) -> None:
        if what is None:
            return
        name = label or (what.label if isinstance(what, Span) else "")

        def after(change: Change | None) -> None:
            self.pane.clear_selection()
            self._show_spans()
            self._update_header()
            if change is None:
                self._hint(f"Every occurrence is {name} already.")
            else:
                self._hint(f"{change.describe()} (one u undoes them all).")
                self._count_label()

        self.saver.save(lambda: self.session.label_every(what, name), after)

    def action_suggestion(self, step: int) -> None:
        caret = self.pane.caret
        starts = [p.start for p in self.session.suggestions]
        targets = [s for s in starts if s > caret] if step > 0 else [s for s in starts if s < caret]
        if not targets:
            self._hint("No more suggestions that way.")
            return
        self.pane.clear_selection()
        self.pane.move_caret(min(targets) if step > 0 else max(targets))

    def action_delete_span(self) -> None:
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._hint("No span of yours at the caret.")
            return
        self._pick_span(spans, "Delete which span?", self._delete)

    def _pick_span(self, spans: list[Span], question: str, then: Callable[[str], None]) -> None:
        """``then`` the span at the caret: the only one, or the one chosen where they overlap."""
        if len(spans) == 1:
            then(spans[0].id)
            return
        from .screens.choose_span import ChooseSpanScreen

        self.push_screen(ChooseSpanScreen(spans, question),
                         lambda span_id: then(span_id) if span_id else None)

    def _delete(self, span_id: str) -> None:
        relations = self.session.relations_of(span_id)
        if not relations:
            self.saver.save(lambda: self.session.delete(span_id), self._after_span_change)
            return
        from rich.text import Text

        from .screens.choose_span import ChooseScreen

        span = self.session.span(span_id)
        options = [("span", Text(f"the {span.label if span else ''} span, and its "
                                 f"{len(relations)} relation{'s' * (len(relations) > 1)}"))]
        for relation in relations:
            outgoing = relation.head == span_id
            other = self.session.span(relation.child if outgoing else relation.head)
            arrow, shown = "→" if outgoing else "←", other.text if other else "?"
            options.append((relation.id, Text(f"the relation {relation.label} {arrow} {quoted(shown)}")))

        def chosen(choice: str | None) -> None:
            if choice == "span":
                self.saver.save(lambda: self.session.delete(span_id), self._after_span_change)
            elif choice:
                self.saver.save(lambda: self.session.disconnect(choice), self._after_span_change)

        self.push_screen(ChooseScreen("Delete what?", options), chosen)

    # ------------------------------------------------ relations and attributes
    def action_connect(self) -> None:
        """``c`` on one span, then ``c`` on another: the relation the config allows between
        their labels, oriented by the config whichever was first."""
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._hint("No span of yours at the caret: c links two of your spans.")
            return
        self._pick_span(spans, "Link which span?", self._connect_end)

    def _connect_end(self, span_id: str) -> None:
        span = self.session.span(span_id)
        if span is None:
            return
        first, self._connect_from = self._connect_from, None
        if first is None:
            if not any(r.fits(span.label, lab) or r.fits(lab, span.label)
                       for r in self.project.config.schema.relations
                       for lab in self.project.config.label_names):
                self.bell()
                self._hint(f"No relation starts or ends at a {span.label} span (config.toml's "
                           "[[relations]]).")
                return
            self._connect_from = span
            self._hint(f"Linking from {span.label} “{span.text[:30]}”: move to the other span and "
                       "press c (esc: no relation).")
            self._show_details()
            return
        choices = self.session.relation_choices(first, span)
        self._show_details()
        if not choices:
            self.bell()
            self._hint("A span cannot be linked to itself." if first.id == span.id else
                       f"No relation goes between a {first.label} and a {span.label} span "
                       "(config.toml's [[relations]]).")
            return
        if len(choices) == 1:
            self._link(*choices[0])
            return
        from rich.text import Text

        from .screens.choose_span import ChooseScreen

        options = [(str(n), Text(f"{kind.name}: {head.label} “{head.text[:20]}” → {child.label} "
                                 f"“{child.text[:20]}”")) for n, (kind, head, child) in enumerate(choices)]
        self.push_screen(ChooseScreen("Which relation?", options),
                         lambda n: self._link(*choices[int(n)]) if n is not None else None)

    def _link(self, kind: RelationType, head: Span, child: Span) -> None:
        def after(change: Change | None) -> None:
            self._show_spans()
            if change is None:
                self._hint(f"Already linked: {kind.name}.")

        self.saver.save(lambda: self.session.connect(head, child, kind.name), after)

    def action_attributes(self) -> None:
        """``t``: the attributes of the span at the caret, number keys pick."""
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._hint("No span of yours at the caret: t sets a span's attributes.")
            return
        self._pick_span(spans, "Attributes of which span?", self._edit_attributes)

    def _edit_attributes(self, span_id: str) -> None:
        span = self.session.span(span_id)
        if span is None:
            return
        kinds = self.project.config.schema.attributes_of(span.label)
        if not kinds:
            self.bell()
            self._hint(f"A {span.label} span has no attributes (config.toml's [[attributes]]).")
            return
        from .screens.values import Field, ValuesScreen

        votes: dict[str, dict[str, list[str]]] = {}
        for other in self.session.others:  # in review: what the annotators gave this span
            if other.key == span.key:
                for name, value in other.attributes.items():
                    shown = ("yes" if value else "no") if isinstance(value, bool) else value
                    votes.setdefault(name, {}).setdefault(shown, []).append(other.annotator)
        fields = [Field(k.name, k.kind, k.values if k.kind == "choice" else ("yes", "no")
                        if k.kind == "yes/no" else (), k.description,
                        {v: tuple(who) for v, who in votes.get(k.name, {}).items()})
                  for k in kinds]

        def current() -> dict[str, object]:
            now = self.session.span(span_id)
            return dict(now.attributes) if now is not None else {}

        def pick(name: str, value: object) -> None:
            self.saver.save(lambda: self.session.set_attribute(span_id, name, value),  # type: ignore[arg-type]
                            self._after_span_change)

        self.push_screen(ValuesScreen(f"{span.label} “{span.text[:40]}”", fields, current, pick))

    def action_article_labels(self) -> None:
        """``T``: the labels of the whole article, number keys pick."""
        doc = self.session.doc
        groups = self.project.config.schema.article_labels
        if doc is None or not groups:
            self.bell()
            self._hint("This project has no article labels (config.toml's [[article_labels]]).")
            return
        from .screens.values import Field, ValuesScreen

        record = self.project.record(doc.id) if self.reviewer else None
        fields = [Field(g.group, "multiple" if g.multiple else "choice", g.values, g.description,
                        article_label_votes(record, g.group) if record else {}) for g in groups]

        def current() -> dict[str, object]:
            return {g.group: (list(self.session.article_labels.get(g.group, ())) if g.multiple
                              else next(iter(self.session.article_labels.get(g.group, ())), None))
                    for g in groups}

        def pick(group: str, value: object) -> None:
            values = value if isinstance(value, list) else [] if value is None else [value]
            self.saver.save(lambda: self.session.set_article_labels(group, values),  # type: ignore[arg-type]
                            self._after_span_change)

        self.push_screen(ValuesScreen(f"Article: {doc.info.title[:50]}", fields, current, pick))

    def _after_span_change(self, change: Change | None) -> None:
        self._show_spans()

    def action_undo(self) -> None:
        self._history(self.session.undo, self.session.undo_stack, "Nothing to undo.")

    def action_redo(self) -> None:
        self._history(self.session.redo, self.session.redo_stack, "Nothing to redo.")

    def _history(self, step: Callable[[], Change | None], stack: list[Change], empty: str) -> None:
        if not stack:
            self._hint(empty)
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

        self.saver.save(step, after, "undone" if step == self.session.undo else "redone")

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
            try:
                following = self.session.claim_next(after=current)
            except (OSError, TuiReaderError) as err:  # another article's file is damaged
                self._update_header()
                self.status_line.add(Notice(f"  The next article could not be chosen: {err}",
                                            Tone.WARNING))
                return
            if following is None:
                self._update_header()
                self.status_line.add(Notice("  Every article is done or skipped: nothing left "
                                            "to open.", Tone.FINISHED))
                self.notify("Every article is done or skipped. Well done!", title="All done")
                return
            self.open_document(following)

        self.saver.save(lambda: self.session.set_status(status), after)

    def action_article(self, step: int) -> None:
        if self.saver.busy():
            return
        target = self.session.neighbour(step)
        if target is None:
            self._hint("No more articles that way.")
            return
        self.open_document(target)

    def action_toggle_snap(self) -> None:
        self.snap_words = not self.snap_words
        self._hint("Selections snap to whole words." if self.snap_words
                   else "Selections keep exact characters (graphemes).")

    def action_toggle_others(self) -> None:
        self.show_others = not self.show_others
        self.pane.set_show_others(self.show_others)
        self._show_details()
        count = len(self.session.others)
        self._hint(f"Showing {count} spans by other annotators (read-only)." if self.show_others
                   else "Showing only your spans.")

    def action_edit_note(self) -> None:
        spans = self.session.spans_at(self.pane.caret)
        if not spans:
            self.bell()
            self._hint("No span of yours at the caret to write a note on.")
            return
        if not self.panel.display:
            self.panel.display = True
        self.panel.edit_note(spans[0])

    def on_label_panel_note_submitted(self, event: LabelPanel.NoteSubmitted) -> None:
        self.saver.save(lambda: self.session.set_note(event.span_id, event.note),
                        self._after_span_change)
        self.pane.focus()

    def action_search(self) -> None:
        self.browser.open_search()

    def action_cycle_filter(self) -> None:
        self.browser.cycle_filter()

    def action_toggle_list(self) -> None:
        self.browser.display = not self.browser.display

    def action_toggle_panel(self) -> None:
        self.panel.display = not self.panel.display

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p): Textual's commands but the screenshot, and ours."""
        for command in super().get_system_commands(screen):
            if command.title != SCREENSHOT_COMMAND:
                yield command
        for label in self.project.config.labels:
            yield SystemCommand(f"Accept all {label.name} suggestions",
                                f"Every open {label.name} suggestion in this article becomes a span",
                                partial(self.action_accept_all, label.name))
        yield SystemCommand("Mark article done", "And open the next one not done", self.action_done)
        yield SystemCommand("Statistics", "Labels, progress and agreement", self.action_stats)
        yield SystemCommand("Toggle other annotators' spans", "Read-only", self.action_toggle_others)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Textual's screenshot action writes a file where the app runs (the server, when
        served): refused, whatever binding or link asks for it."""
        self.bell()

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        self.bell()
        return None

    def action_stats(self) -> None:
        from .screens.stats import StatsScreen

        self.push_screen(StatsScreen(self.project, after=self.browser.scanned))

    def action_guidelines(self) -> None:
        """``H``: the project's guidelines over the article; closing returns to it as it was."""
        try:
            text = self.project.guidelines()
        except (OSError, TuiReaderError) as err:
            self.bell()
            self.status_line.show(Notice(f"The guidelines could not be read: {err}", Tone.WARNING))
            return
        if text is None:
            self._hint(f"This project has no guidelines yet: write them in "
                       f"{self.project.config.guidelines} in the project folder.")
            return
        from .screens.guidelines import GuidelinesScreen

        self.push_screen(GuidelinesScreen(text, self.project.config.guidelines))

    def action_help(self) -> None:
        from .screens.help import HelpScreen  # loaded when first asked for

        self.push_screen(HelpScreen(self.project.config.labels))

    async def action_quit(self) -> None:
        """Quit; while an action is still unsaved, only when asked twice in a row."""
        if self.saver.may_quit():
            await super().action_quit()

    # ------------------------------------------------------------ active time
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.activity.note_activity()
            self._renew_lease()
        await super().on_event(event)

    def _flush_time(self) -> None:
        """Add the active time on the open article to the store."""
        doc = self.session.doc
        if doc is not None:
            self.activity.flush(partial(self.project.add_time, doc.id, self.session.annotator))

    def _renew_lease(self) -> None:
        # At most one small write a minute (session.renew_lease); never in the way of a key.
        try:
            self.session.renew_lease()
        except (OSError, TuiReaderError):
            pass  # the lease lapses; routing only loses a hint

    def on_unmount(self) -> None:
        self._flush_time()
        try:  # the article is free for the others at once, not when the lease runs out
            self.session.release_lease()
        except (OSError, TuiReaderError):
            pass
        self.learned.close()
        if self.ml is not None:
            self.ml.close()

    def on_key(self, event: events.Key) -> None:
        # Escape leaves the search box or the note field and returns to reading.
        if event.key == "escape" and isinstance(self.focused, Input):
            if self.focused.id == "note":
                self.panel.close_note()
            else:
                self.browser.leave_search()
            self.pane.focus()
            event.stop()
