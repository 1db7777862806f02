"""One annotator's working session: the open document, their spans, and undo/redo.

The app is a thin layer over this class; a script can drive it the same way. Every method that
changes data saves through :class:`Project` first and updates the session only once the save
returned, so an ``OSError`` (disk full, permission denied) leaves the session as it was.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from . import routing
from .errors import InputError, NotFoundError
from .leases import RENEW_AT_MOST_EVERY, RENEW_SHARE
from .model import (
    CONTROL,
    GOLD,
    Document,
    DocumentRecord,
    Rejection,
    Relation,
    Span,
    check_annotator_name,
    status_for,
)
from .schema import RelationType
from .segment import Segments
from .store import Project, now_iso
from .suggest.suggestion import (
    AttributeSuggestion,
    LinkSuggestion,
    RelationSuggestion,
    SpanKey,
    Suggestion,
)


class Change:
    """One saved action, enough to undo and redo it: :meth:`save` writes it (or, with
    ``reverse``, its undo) to disk, :meth:`mirror` then shows the same in the session's memory."""

    doc_id: str

    def save(self, session: AnnotationSession, reverse: bool) -> None:
        raise NotImplementedError

    def mirror(self, session: AnnotationSession, reverse: bool) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def offset(self) -> int | None:
        """Where in the text the change is (to show it there after an undo), if anywhere."""
        return None


def _shown(value: str | bool) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else _excerpt(value)


def _excerpt(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


@dataclass(frozen=True)
class SpanChange(Change):
    """Spans and the relations between them replaced by others in one write: an add (nothing
    before), a delete (nothing after, its relations with it), a relabel, note or attribute (the
    same span id before and after), a relation made or deleted, or several at once."""

    doc_id: str
    verb: str  # "add", "delete", "relabel", "note", "attribute", "accept", "link", "unlink"
    before: tuple[Span, ...]
    after: tuple[Span, ...]
    relations_before: tuple[Relation, ...] = ()
    relations_after: tuple[Relation, ...] = ()

    def _sides(self, reverse: bool) -> tuple[tuple[Span, ...], tuple[Span, ...],
                                              tuple[Relation, ...], tuple[Relation, ...]]:
        if reverse:
            return self.after, self.before, self.relations_after, self.relations_before
        return self.before, self.after, self.relations_before, self.relations_after

    def save(self, session: AnnotationSession, reverse: bool) -> None:
        old, new, old_relations, new_relations = self._sides(reverse)
        session.project.replace_spans(self.doc_id, old, new, remove_relations=old_relations,
                                      add_relations=new_relations, changing=self.changes_spans)

    @property
    def changes_spans(self) -> bool:
        """A relabel, note or attribute: the span must still be there to be changed."""
        return self.verb in ("relabel", "note", "attribute")

    def mirror(self, session: AnnotationSession, reverse: bool) -> None:
        old, new, old_relations, new_relations = self._sides(reverse)
        session._replace_spans(old, new, old_relations, new_relations)

    def describe(self) -> str:
        spans = self.after or self.before
        if self.verb in ("link", "unlink"):
            relation = (self.relations_after or self.relations_before)[0]
            return f"{'linked' if self.verb == 'link' else 'unlinked'}: {relation.label}"
        if self.verb == "attribute":
            (span,) = self.after
            shown = ", ".join(f"{k}={_shown(v)}" for k, v in span.attributes.items()) or "none"
            return f"attributes of {span.label} “{_excerpt(span.text)}”: {shown}"
        if len(spans) > 1:
            return f"{self.verb} {len(spans)} {spans[0].label} spans"
        span = spans[0]
        if self.verb == "relabel":
            return f"{self.before[0].label} → {span.label}: {_excerpt(span.text)}"
        linked = len(self.relations_before) if self.verb == "delete" else 0
        return (f"{self.verb} {span.label}: {_excerpt(span.text)}"
                + (f" (and {linked} relation{'s' if linked > 1 else ''})" if linked else ""))

    @property
    def offset(self) -> int | None:
        spans = self.after or self.before
        return spans[0].start if spans else None


@dataclass(frozen=True)
class OccurrencesChange(SpanChange):
    """Every occurrence of a text in the article labelled at once (``*``): one save, one undo."""

    text: str = ""

    def describe(self) -> str:
        spans = self.after or self.before
        n = len(spans)
        return (f"{spans[0].label}: {n} occurrence{'s' if n != 1 else ''} of "
                f"“{_excerpt(self.text)}” labelled")


@dataclass(frozen=True)
class StatusChange(Change):
    doc_id: str
    before: str  # the status stored before ("new" when none was)
    after: str

    def save(self, session: AnnotationSession, reverse: bool) -> None:
        session.project.set_status(self.doc_id, session.annotator,
                                   self.before if reverse else self.after)

    def mirror(self, session: AnnotationSession, reverse: bool) -> None:
        session.status = status_for(self.before if reverse else self.after, bool(session.spans))

    def describe(self) -> str:
        return f"status {self.before} → {self.after}"


@dataclass(frozen=True)
class ArticleLabelChange(Change):
    doc_id: str
    group: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def save(self, session: AnnotationSession, reverse: bool) -> None:
        session.project.set_article_labels(self.doc_id, session.annotator, self.group,
                                           self.before if reverse else self.after)

    def mirror(self, session: AnnotationSession, reverse: bool) -> None:
        values = self.before if reverse else self.after
        if values:
            session.article_labels[self.group] = values
        else:
            session.article_labels.pop(self.group, None)

    def describe(self) -> str:
        return f"article {self.group}: {', '.join(self.after) or 'none'}"


@dataclass(frozen=True)
class RejectionChange(Change):
    """A suggestion turned down (undone: proposed again)."""

    doc_id: str
    rejection: Rejection

    def save(self, session: AnnotationSession, reverse: bool) -> None:
        if reverse:
            session.project.unreject(self.doc_id, self.rejection.id)
        else:
            session.project.restore_rejection(self.doc_id, self.rejection)

    def mirror(self, session: AnnotationSession, reverse: bool) -> None:
        key = self.rejection.full_key
        if reverse:
            session._rejected.discard(key)
            if not self.rejection.target:
                session._restore_suggestion(self.rejection.key, self.rejection.source)
        else:
            session._rejected.add(key)
            if not self.rejection.target:
                session.suggestions = [p for p in session.suggestions if p.key != self.rejection.key]
        session._refresh_links()

    def describe(self) -> str:
        return f"rejected {self.rejection.label} ({self.rejection.source})"

    @property
    def offset(self) -> int | None:
        return self.rejection.start


class AnnotationSession:
    """``annotator`` labels; in review (``reviewer`` given) the session labels the gold layer."""

    def __init__(self, project: Project, annotator: str, *, reviewer: str | None = None) -> None:
        self.project = project
        self.reviewer = reviewer
        if reviewer is not None:
            check_annotator_name(reviewer, "reviewer")
            annotator = GOLD
        else:
            annotator = check_annotator_name(annotator)
        self.annotator = annotator
        self.doc: Document | None = None
        self.segments: Segments | None = None
        self.spans: list[Span] = []  # this annotator's, in the open document
        self.others: list[Span] = []  # everyone else's, shown read-only
        self.relations: list[Relation] = []  # this annotator's, between their spans
        self.other_relations: list[Relation] = []
        self.article_labels: dict[str, tuple[str, ...]] = {}  # this annotator's, group -> values
        self.status = "new"
        self.undo_stack: list[Change] = []
        self.redo_stack: list[Change] = []
        self.queue: list[str] | None = None  # documents to work through, in order (None: all)
        self.suggestions: list[Suggestion] = []  # open suggestions (or review candidates) here
        # What an accepted suggestion's span records as its source.
        self.accepted_source = f"review:{reviewer}" if reviewer is not None else "suggestion"
        self._offered: dict[tuple[int, int, str], Suggestion] = {}
        # What this annotator turned down here: (start, end, label, target) of its rejections.
        self._rejected: set[tuple[int, int, str, str]] = set()
        self.links: list[LinkSuggestion] = []  # open relation and attribute suggestions
        self._offered_links: list[LinkSuggestion] = []
        self._stored: list[Suggestion] = []  # suggestions stored with the open document for us
        # This session's lease (see leases.py): the token it is kept under, the document it
        # holds, and when the lease file was last written for it (time.time()).
        self.holder = uuid.uuid4().hex
        self.lease_doc: str | None = None
        self._lease_written = 0.0

    # ---------------------------------------------------------------- documents
    def open(self, doc_id: str) -> Document:
        """Open a document for annotation: its text and this annotator's work on it, and (out
        of review) a lease on it, so that routing does not send more than ``overlap``
        annotators to it at once."""
        record = self.project.record(doc_id)
        self.doc = record.document
        self.segments = Segments(record.text)
        self._take(record)
        if self.reviewer is None and not (self.lease_doc == doc_id and self._lease_fresh()):
            try:
                self.take_lease(doc_id)
            except OSError:
                pass  # a project this account can only read: nothing to hold
        return self.doc

    def reload_spans(self) -> None:
        """Take the open document's spans and statuses as they are on disk now."""
        assert self.doc is not None
        self._take(self.project.record(self.doc.id))

    def _take(self, record: DocumentRecord) -> None:
        # A control's known answers are nobody's work to see: with them shown, a control would
        # stand out from the other articles.
        self.spans = record.spans_of(self.annotator)
        self.others = [s for s in record.spans if s.annotator not in (self.annotator, CONTROL)]
        self.relations = record.relations_of(self.annotator)
        self.other_relations = [r for r in record.relations
                                if r.annotator not in (self.annotator, CONTROL)]
        self._stored = [Suggestion(s.start, s.end, s.label, s.source)
                        for s in record.suggestions_for(self.annotator)]
        self.article_labels = record.article_labels_of(self.annotator)
        self.status = record.status_of(self.annotator)
        self._rejected = {r.full_key for r in record.rejections_of(self.annotator)}
        self._refresh_links()

    def first_unfinished(self, after: str | None = None) -> str | None:
        """The next document (after ``after``, wrapping round) that still needs this annotator.

        Task routing (``routing.py``): a document this annotator finished (done or skipped) is
        passed over, and so is one that ``overlap`` other annotators (the project setting) have
        done or hold a live lease on, unless this annotator has started it; one control document
        in every ``control_every`` articles finished; ``order = "uncertain"`` puts the learned
        model's least certain articles first. This reads; :meth:`claim_next` also takes the
        lease. ``self.queue`` (review mode) replaces all that with its own order."""
        if self.queue is not None or self.reviewer is not None:
            return self._next_in_queue(after)
        return routing.next_document(self.project, self.annotator, after,
                                     self.project.leases.holders_of(exclude=self.annotator))

    def claim_next(self, after: str | None = None) -> str | None:
        """:meth:`first_unfinished` and a lease on the document it gives, in one step under the
        leases' lock: annotators asking at the same moment, in any number of processes, are
        each given a document the others' leases do not already fill. Open it with
        :meth:`open` (which keeps this lease)."""
        if self.queue is not None or self.reviewer is not None:
            return self._next_in_queue(after)
        leases = self.project.leases
        with leases.locked():
            doc_id = routing.next_document(self.project, self.annotator, after,
                                           leases.holders_of(exclude=self.annotator))
            if doc_id is not None:
                self.take_lease(doc_id)
        return doc_id

    def _next_in_queue(self, after: str | None) -> str | None:
        ids = self.queue if self.queue is not None else [d.id for d in self.project.documents()]
        if after in ids:
            i = ids.index(after) + 1
            ids = ids[i:] + ids[:i]
        overlap = self.project.config.overlap
        for doc_id in ids:
            if doc_id == after:
                continue
            progress = self.project.progress(doc_id, self.annotator)
            if progress.status in ("done", "skipped"):
                continue
            others_done = [a for a in progress.done_by if a != self.annotator]
            if progress.status == "new" and len(others_done) >= overlap:
                continue
            return doc_id
        return None

    # ------------------------------------------------------------------- leases
    def take_lease(self, doc_id: str) -> None:
        """Hold ``doc_id`` for ``lease_minutes`` (this session's lease moves from its last
        document to this one)."""
        self.project.leases.take(self.holder, doc_id, self.annotator)
        self.lease_doc = doc_id
        self._lease_written = self.project.leases.clock()

    def _lease_fresh(self) -> bool:
        leases = self.project.leases
        interval = min(leases.seconds * RENEW_SHARE, RENEW_AT_MOST_EVERY)
        return leases.clock() - self._lease_written < interval

    def renew_lease(self) -> bool:
        """The annotator is at work: keep the open document's lease alive. Call it on every key
        or click: it writes the leases file at most once every tenth of ``lease_minutes`` (and
        at most once a minute), else does nothing. True when it wrote."""
        if self.lease_doc is None or self._lease_fresh():
            return False
        if self.project.leases.renew(self.holder) is None:  # released elsewhere: take it anew
            self.project.leases.take(self.holder, self.lease_doc, self.annotator)
        self._lease_written = self.project.leases.clock()
        return True

    def release_lease(self) -> None:
        """Give this session's lease up (on quitting): its document is free for others at once."""
        if self.lease_doc is not None:
            self.project.leases.release(self.holder)
            self.lease_doc = None

    def neighbour(self, step: int) -> str | None:
        """The document ``step`` places away in corpus order, or None at either end."""
        ids = self.queue if self.queue is not None else [d.id for d in self.project.documents()]
        if self.doc is None or not ids:
            return ids[0] if ids else None
        i = ids.index(self.doc.id) + step
        return ids[i] if 0 <= i < len(ids) else None

    # ------------------------------------------------------------------ reading
    def spans_at(self, offset: int) -> list[Span]:
        """This annotator's spans covering ``offset``, shortest first."""
        hits = [s for s in self.spans if s.start <= offset < s.end]
        return sorted(hits, key=lambda s: (s.end - s.start, s.start))

    def label_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.project.config.label_names, 0)
        counts.update(Counter(map(attrgetter("label"), self.spans)))  # C speed at 5,000 spans
        return counts

    def target(self, selection: tuple[int, int] | None, caret: int, snap_words: bool = True
               ) -> tuple[int, int] | None:
        """What a label key applies to: the selection (snapped), else the sentence at the caret."""
        assert self.segments is not None
        if selection is not None and selection[0] != selection[1]:
            return self.segments.snap_selection(*selection, to_words=snap_words)
        return self.segments.sentence_at(caret)

    # ---------------------------------------------------------------- suggestions
    def stored_suggestions(self) -> list[Suggestion]:
        """The suggestions stored with the open document for this annotator (``tui-reader
        label-all --as-suggestions``), read when it was opened: pass them to
        :meth:`set_suggestions` with the rules' (accepted with ``a``/``A`` like those)."""
        return list(self._stored)

    def set_suggestions(self, suggestions: Sequence[Suggestion | LinkSuggestion]) -> None:
        """Suggestions (or, in review, other annotators' spans, relations and attributes) for the
        open document; those this annotator already has or turned down are left out."""
        assert self.doc is not None
        have = {s.key for s in self.spans}
        spans = [p for p in suggestions if isinstance(p, Suggestion)]
        self._offered = {p.key: p for p in spans}
        self.suggestions = sorted(
            (p for p in spans if p.key not in have and (*p.key, "") not in self._rejected),
            key=lambda p: (p.start, p.end, p.label),
        )
        self._offered_links = [p for p in suggestions if not isinstance(p, Suggestion)]
        self._refresh_links()

    def _refresh_links(self) -> None:
        """The relation and attribute suggestions still open: not done, not turned down."""
        self.links = []
        if not self._offered_links:  # the usual case: nothing to look through on every label
            return
        by_key = {s.key: s for s in self.spans}
        by_id = {s.id: s for s in (*self.spans, *self.others)}
        have = set()
        for relation in self.relations:
            head, child = by_id.get(relation.head), by_id.get(relation.child)
            if head is not None and child is not None:
                have.add((head.key, child.key, relation.label))
        for link in self._offered_links:
            if isinstance(link, RelationSuggestion):
                done = link.key in have
                rejected = (*link.head, link.rejection_target) in self._rejected
            else:
                span = by_key.get(link.span)
                done = span is not None and span.attributes.get(link.name) == link.value
                rejected = (*link.span, link.rejection_target) in self._rejected
            if not done and not rejected:
                self.links.append(link)

    def links_at(self, offset: int) -> list[LinkSuggestion]:
        """Open relation and attribute suggestions touching ``offset``."""
        return [link for link in self.links if link.covers(offset)]

    def suggestions_at(self, offset: int) -> list[Suggestion]:
        """Open suggestions covering ``offset``, shortest first."""
        hits = [p for p in self.suggestions if p.start <= offset < p.end]
        return sorted(hits, key=lambda p: (p.end - p.start, p.start))

    def accept(self, suggestion: Suggestion | LinkSuggestion) -> Change | None:
        """Make a suggestion this annotator's: a span, a relation (and any of its ends not yet
        theirs) or an attribute value; the spans made record where they came from."""
        assert self.doc is not None
        if isinstance(suggestion, Suggestion):
            return self.accept_many([suggestion])
        if isinstance(suggestion, RelationSuggestion):
            return self._accept_relation(suggestion)
        return self._accept_attribute(suggestion)

    def _own_or_new(self, key: SpanKey, source: str, made: list[Span]) -> Span:
        """This annotator's span of ``key``, or a new one (added to ``made``, not yet saved)."""
        assert self.doc is not None
        span = next((s for s in (*self.spans, *made) if s.key == key), None)
        if span is None:
            span = self.project.new_span(self.doc.id, *key, self.annotator, text=self.doc.text,
                                         source=f"{self.accepted_source}:{source}")
            made.append(span)
        return span

    def _accept_relation(self, suggestion: RelationSuggestion) -> Change | None:
        assert self.doc is not None
        made: list[Span] = []
        head = self._own_or_new(suggestion.head, suggestion.source, made)
        child = self._own_or_new(suggestion.child, suggestion.source, made)
        if any(r.head == head.id and r.child == child.id and r.label == suggestion.label
               for r in self.relations):
            return None
        relation = Relation(id=uuid.uuid4().hex, head=head.id, child=child.id,
                            label=suggestion.label, annotator=self.annotator, created=now_iso())
        self.project.replace_spans(self.doc.id, (), made, add_relations=(relation,))
        return self._record(SpanChange(self.doc.id, "accept" if made else "link", (), tuple(made),
                                       (), (relation,)))

    def _accept_attribute(self, suggestion: AttributeSuggestion) -> Change | None:
        assert self.doc is not None
        made: list[Span] = []
        span = self._own_or_new(suggestion.span, suggestion.source, made)
        if made:
            span = self.project.changed_span(span, attributes={suggestion.name: suggestion.value})
            self.project.replace_spans(self.doc.id, (), (span,))
            return self._record(SpanChange(self.doc.id, "accept", (), (span,)))
        return self.set_attribute(span.id, suggestion.name, suggestion.value)

    def accept_many(self, suggestions: Sequence[Suggestion]) -> Change | None:
        """Accept several suggestions in one write and one undo step; those already spans of this
        annotator are passed over (None when nothing is left to accept)."""
        assert self.doc is not None
        have = {s.key for s in self.spans}
        spans = []
        for suggestion in suggestions:
            if suggestion.key in have:
                continue
            have.add(suggestion.key)
            spans.append(self.project.new_span(
                self.doc.id, suggestion.start, suggestion.end, suggestion.label, self.annotator,
                text=self.doc.text, source=f"{self.accepted_source}:{suggestion.source}"))
        if not spans:
            return None
        self.project.replace_spans(self.doc.id, (), spans)
        return self._record(SpanChange(self.doc.id, "accept" if len(spans) > 1 else "add", (),
                                       tuple(spans)))

    def reject(self, suggestion: Suggestion | LinkSuggestion, by: str | None = None) -> Change:
        """Turn a suggestion down: recorded, so it is not suggested again here."""
        assert self.doc is not None
        if isinstance(suggestion, Suggestion):
            key, target = suggestion.key, ""
        elif isinstance(suggestion, RelationSuggestion):
            key, target = suggestion.head, suggestion.rejection_target
        else:
            key, target = suggestion.span, suggestion.rejection_target
        rejection = self.project.reject(self.doc.id, *key, self.annotator, suggestion.source,
                                        by or self.reviewer or self.annotator, target)
        return self._record(RejectionChange(self.doc.id, rejection))

    # ------------------------------------------------------------------ changes
    def label(self, label: str, start: int, end: int) -> Change | None:
        """Label ``start..end``: relabel this annotator's span of exactly that extent, else add.

        None (nothing saved, nothing to undo) when that span already has this label.
        """
        assert self.doc is not None
        # self.spans is sorted by start: look where ``start`` begins, not through them all.
        at = bisect.bisect_left(self.spans, start, key=lambda s: s.start)
        same = next((s for s in itertools.islice(self.spans, at, None)
                     if s.start != start or s.end == end), None)
        if same is not None and (same.start, same.end) != (start, end):
            same = None
        if same is not None:
            if same.label == label:
                return None
            return self._change_span(same, "relabel", label=label)
        span = self.project.add_span(self.doc.id, start, end, label, self.annotator,
                                     text=self.doc.text)
        return self._record(SpanChange(self.doc.id, "add", (), (span,)))

    def label_every(self, text_or_span: str | Span | tuple[int, int], label: str) -> Change | None:
        """Label every occurrence in the open article of a text (given as text, as one of the
        annotator's spans, or as a selection's (start, end)) with ``label``: exact text (same
        case), both ends on word boundaries (``Segments.occurrences``), surrounding whitespace
        of the text left out. Places inside a span of this annotator with that label already
        are passed over; other spans are left as they are (an occurrence labelled otherwise gets
        a second span). One save and one undo step for all of them; None when every occurrence
        already holds the label. InputError for an empty text or an unknown label."""
        assert self.doc is not None and self.segments is not None
        if isinstance(text_or_span, Span):
            needle = text_or_span.text
        elif isinstance(text_or_span, tuple):
            needle = self.doc.text[text_or_span[0]:text_or_span[1]]
        else:
            needle = text_or_span
        needle = needle.strip()
        if not needle:
            raise InputError("nothing to look for: the text is empty")
        if label not in self.project.config.label_names:
            raise InputError(f"unknown label {label!r} (this project's labels: "
                             f"{', '.join(self.project.config.label_names)})")
        held = [(s.start, s.end) for s in self.spans if s.label == label]
        spans = [self.project.new_span(self.doc.id, start, end, label, self.annotator,
                                       text=self.doc.text)
                 for start, end in self.segments.occurrences(needle)
                 if not any(s <= start and end <= e for s, e in held)]
        if not spans:
            return None
        self.project.replace_spans(self.doc.id, (), spans)
        return self._record(OccurrencesChange(self.doc.id, "add", (), tuple(spans), text=needle))

    def delete(self, span_id: str) -> Change | None:
        """Delete one of this annotator's spans, and its relations with it."""
        assert self.doc is not None
        span = next((s for s in self.spans if s.id == span_id), None)
        if span is None:
            self.reload_spans()
            return None
        linked = tuple(r for r in self.relations if span_id in (r.head, r.child))
        self.project.replace_spans(self.doc.id, (span,), (), remove_relations=linked)
        return self._record(SpanChange(self.doc.id, "delete", (span,), (), linked, ()))

    def set_note(self, span_id: str, note: str) -> Change:
        return self._change_span(self._own(span_id), "note", note=note)

    def set_attribute(self, span_id: str, name: str, value: str | bool | None) -> Change | None:
        """Set (None: remove) an attribute of one of this annotator's spans; None when it already
        has that value."""
        span = self._own(span_id)
        if span.attributes.get(name) == value:
            return None
        return self._change_span(span, "attribute", attributes={name: value})

    def _own(self, span_id: str) -> Span:
        span = next((s for s in self.spans if s.id == span_id), None)
        if span is None:
            raise NotFoundError("that span is no longer there (deleted in another window?)")
        return span

    def _change_span(self, span: Span, verb: str, **changes: object) -> Change:
        """Save ``span`` changed; relations that no longer fit its label go in the same write."""
        assert self.doc is not None
        after = self.project.changed_span(span, **changes)  # type: ignore[arg-type]
        unfit = tuple(r for r in self.relations if span.id in (r.head, r.child)
                      and not self._fits(r, {span.id: after}))
        self.project.replace_spans(self.doc.id, (span,), (after,), remove_relations=unfit,
                                   changing=True)
        return self._record(SpanChange(self.doc.id, verb, (span,), (after,), unfit, ()))

    # ---------------------------------------------------------------- relations
    def relation_choices(self, first: Span, second: Span) -> list[tuple[RelationType, Span, Span]]:
        """The relations the project allows between two of this annotator's spans, each as
        (type, head, child): the head and child are set by the type, whichever was chosen first."""
        if first.id == second.id:
            return []
        return [(kind, first if first_is_head else second, second if first_is_head else first)
                for kind, first_is_head in self.project.config.schema.relations_between(
                    first.label, second.label)]

    def connect(self, head: Span, child: Span, label: str) -> Change | None:
        """Link ``head`` to ``child`` with a relation of type ``label``; None when that relation
        is already there."""
        assert self.doc is not None
        kind = self.project.config.schema.relation(label)
        for relation in self.relations:
            if relation.label != label:
                continue
            ends = (relation.head, relation.child)
            if ends == (head.id, child.id) or (kind is not None and not kind.directed
                                              and ends == (child.id, head.id)):
                return None
        relation = Relation(id=uuid.uuid4().hex, head=head.id, child=child.id, label=label,
                            annotator=self.annotator, created=now_iso())
        self.project.replace_spans(self.doc.id, (), (), add_relations=(relation,))
        return self._record(SpanChange(self.doc.id, "link", (), (), (), (relation,)))

    def disconnect(self, relation_id: str) -> Change | None:
        assert self.doc is not None
        relation = next((r for r in self.relations if r.id == relation_id), None)
        if relation is None:
            return None
        self.project.replace_spans(self.doc.id, (), (), remove_relations=(relation,))
        return self._record(SpanChange(self.doc.id, "unlink", (), (), (relation,), ()))

    def relations_of(self, span_id: str) -> list[Relation]:
        """This annotator's relations that start or end at the span."""
        return [r for r in self.relations if span_id in (r.head, r.child)]

    def span(self, span_id: str) -> Span | None:
        return next((s for s in (*self.spans, *self.others) if s.id == span_id), None)

    def _fits(self, relation: Relation, changed: dict[str, Span]) -> bool:
        head = changed.get(relation.head) or self.span(relation.head)
        child = changed.get(relation.child) or self.span(relation.child)
        kind = self.project.config.schema.relation(relation.label)
        return (head is not None and child is not None
                and (kind is None or kind.fits(head.label, child.label)))

    # ----------------------------------------------------------- article labels
    def set_article_labels(self, group: str, values: Sequence[str]) -> Change | None:
        """Set this annotator's values in one group of the open article's labels; None when
        they already are those."""
        assert self.doc is not None
        kind = self.project.config.schema.article_group(group)
        chosen = tuple(v for v in (kind.values if kind else ()) if v in values) or tuple(values)
        before = self.article_labels.get(group, ())
        if before == chosen:
            return None
        self.project.set_article_labels(self.doc.id, self.annotator, group, chosen)
        return self._record(ArticleLabelChange(self.doc.id, group, before, chosen))

    def toggle_article_label(self, group: str, value: str) -> Change | None:
        """Key ``n`` in the article-label chooser: a single-choice group takes ``value`` (or drops
        it when it is the one set); a multiple-choice group adds or removes it."""
        kind = self.project.config.schema.article_group(group)
        if kind is None:
            raise InputError(f"unknown article label group {group!r}")
        now = self.article_labels.get(group, ())
        if value in now:
            return self.set_article_labels(group, [v for v in now if v != value])
        return self.set_article_labels(group, [*now, value] if kind.multiple else [value])

    def set_status(self, status: str) -> Change | None:
        """Set this annotator's status of the open document; None when it already is ``status``."""
        assert self.doc is not None
        mark = self.project.record(self.doc.id).statuses.get(self.annotator)
        if (mark.status if mark else "new") == status:
            return None
        previous = self.project.set_status(self.doc.id, self.annotator, status)
        return self._record(StatusChange(self.doc.id, previous, status))

    def undo(self) -> Change | None:
        if not self.undo_stack:
            return None
        change = self.undo_stack[-1]
        self._apply(change, reverse=True)
        self.redo_stack.append(self.undo_stack.pop())
        return change

    def redo(self) -> Change | None:
        if not self.redo_stack:
            return None
        change = self.redo_stack[-1]
        self._apply(change, reverse=False)
        self.undo_stack.append(self.redo_stack.pop())
        return change

    # ---------------------------------------------------------------- internals
    def _record(self, change: Change) -> Change:
        self.undo_stack.append(change)
        self.redo_stack.clear()
        change.mirror(self, reverse=False)
        return change

    def _apply(self, change: Change, reverse: bool) -> None:
        """Save the undo (``reverse``) or redo of ``change``; raises before changing anything
        in memory."""
        change.save(self, reverse)
        if self.doc is None or self.doc.id != change.doc_id:
            self.open(change.doc_id)
        else:
            change.mirror(self, reverse)

    def _restore_suggestion(self, key: tuple[int, int, str], source: str) -> None:
        suggestion = self._offered.get(key) or Suggestion(*key, source)
        if suggestion.key not in {p.key for p in self.suggestions}:
            bisect.insort(self.suggestions, suggestion, key=lambda p: (p.start, p.end, p.label))

    def _replace_spans(self, old: Sequence[Span], new: Sequence[Span],
                       old_relations: Sequence[Relation] = (),
                       new_relations: Sequence[Relation] = ()) -> None:
        """Mirror a saved change of spans in memory: no re-read of the document file on every key."""
        if old_relations or new_relations:
            dropped = {r.id for r in old_relations} | {r.id for r in new_relations}
            self.relations = [r for r in self.relations if r.id not in dropped] + list(new_relations)
        gone = {s.id for s in old} | {s.id for s in new}
        self.spans = [s for s in self.spans if s.id not in gone]
        for span in new:
            bisect.insort(self.spans, span, key=lambda s: (s.start, s.end, s.label, s.annotator))
        added = {s.key for s in new}
        self.suggestions = [p for p in self.suggestions if p.key not in added]
        kept_ids = {s.id for s in new}
        for span in old:
            if span.id not in kept_ids and span.source.startswith(f"{self.accepted_source}:"):
                # An accepted suggestion undone: it is proposed again.
                self._restore_suggestion(span.key, span.source.split(":", 1)[1])
        if self.status in ("new", "in progress"):
            self.status = status_for(None, bool(self.spans))
        self._refresh_links()
