"""Typed records the rest of the program passes around: documents, spans, statuses.

The store (``store.py``) is the only code that knows how these are kept on disk; everything else
reads a :class:`DocumentRecord` (one document with every annotator's work on it) or the smaller
records it holds. The rules shared by every reader are defined here, once: which statuses exist,
how a document's status for one annotator is worked out, and the names the tool keeps for itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import InputError
from .text import display_safe

if TYPE_CHECKING:
    from .text import StyleRange

Status = Literal["new", "in progress", "done", "skipped"]
STATUSES: tuple[Status, ...] = ("new", "in progress", "done", "skipped")
FINISHED: frozenset[str] = frozenset({"done", "skipped"})

GOLD = "gold"  # the annotator name of the reviewed (adjudicated) layer
CONTROL = "control"  # the annotator name of a control document's known answers
# Names the tool writes spans under itself: no person may label under them (the gold layer, the
# known answers of control documents, and the layers that merging gold policies make in exports).
RESERVED_ANNOTATORS: frozenset[str] = frozenset({GOLD, CONTROL, "union", "majority"})
MAX_NAME_LENGTH = 100  # characters of an annotator's name


def check_annotator_name(name: str, where: str = "annotator") -> str:
    """``name`` stripped, if a person may label under it; else an InputError naming ``where``
    (the option, key file line or header it came from). Any Unicode letter is fine (José, Аня,
    🦊); refused: an empty name, control or invisible characters, over MAX_NAME_LENGTH
    characters, and the names the tool keeps for itself, in any case."""
    name = name.strip()
    if not name:
        raise InputError(f"{where}: no annotator name")
    if display_safe(name) != name or "\n" in name or "\t" in name:
        raise InputError(f"{where}: the annotator name {display_safe(name)!r} holds control characters")
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"{where}: the annotator name is longer than {MAX_NAME_LENGTH} characters")
    if name.casefold() in RESERVED_ANNOTATORS:
        raise InputError(f"{where}: {name!r} is a name tui-reader keeps for itself "
                         f"({', '.join(sorted(RESERVED_ANNOTATORS))}); choose another")
    return name


def status_for(stored: str | None, has_spans: bool) -> Status:
    """One annotator's status of a document: the status they set, else "in progress" when they
    have spans there, else "new". A stored "new" (an undone "done") does not hide their spans."""
    if stored is not None and stored != "new":
        return stored  # type: ignore[return-value]  # checked against STATUSES when stored
    return "in progress" if has_spans else "new"


@dataclass(slots=True)
class DocumentInfo:
    """What the article list needs about a document, without its text. (Not frozen: a frozen
    dataclass costs twice as much to build, and a project opens 10k of them; treat as read-only.)"""

    id: str
    title: str
    source: str
    kind: str  # "txt", "md" or "jsonl"
    length: int  # code points of the canonical text
    sha256: str
    order: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """A document's canonical text: every span offset indexes ``text`` (code points, end exclusive)."""

    info: DocumentInfo
    text: str
    styles: list[StyleRange]

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(slots=True)
class Span:
    """One annotator's labelled span of a document. (Not frozen, for the same reason as
    DocumentInfo: an export builds 100k of them; treat as read-only.)"""

    id: str
    doc_id: str
    start: int
    end: int
    label: str
    annotator: str
    text: str
    created: str
    updated: str
    note: str = ""
    source: str = ""  # "" by hand; "import:<file>"; "suggestion:<rule or model>"; "review:<name>";
    # "label-all:<text>" (tui-reader label-all)
    attributes: dict[str, str | bool] = field(default_factory=dict)  # see schema.AttributeType

    @property
    def key(self) -> tuple[int, int, str]:
        """What makes two annotators' spans "the same": start, end and label."""
        return self.start, self.end, self.label

    def to_record(self) -> dict[str, Any]:
        # By hand, not asdict(): that deep-copies every field, a second per 10,000 spans imported.
        record: dict[str, Any] = {
            "id": self.id, "doc_id": self.doc_id, "start": self.start, "end": self.end,
            "label": self.label, "annotator": self.annotator, "text": self.text,
            "created": self.created, "updated": self.updated, "note": self.note,
            "source": self.source}
        if self.attributes:  # most spans have none: keep their rows as they were
            record["attributes"] = dict(self.attributes)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Span:
        try:  # a row as to_record() wrote it: every field, nothing else
            return cls(**record)
        except TypeError:
            pass
        return cls(
            id=record["id"],
            doc_id=record["doc_id"],
            start=record["start"],
            end=record["end"],
            label=record["label"],
            annotator=record["annotator"],
            text=record["text"],
            created=record["created"],
            updated=record.get("updated", record["created"]),
            note=record.get("note", ""),
            source=record.get("source", ""),
            attributes=dict(record.get("attributes") or {}),
        )


@dataclass(frozen=True)
class Relation:
    """A link from one span (``head``) to another (``child``), both of ``annotator``; for an
    undirected relation type the order carries no meaning."""

    id: str
    head: str  # span id
    child: str  # span id
    label: str
    annotator: str
    created: str = ""

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Relation:
        return cls(id=record["id"], head=record["head"], child=record["child"], label=record["label"],
                   annotator=record["annotator"], created=record.get("created", ""))


@dataclass(frozen=True)
class ArticleLabel:
    """The values one annotator chose in one group of article labels (a single-choice group
    holds one value)."""

    annotator: str
    group: str
    values: tuple[str, ...]
    updated: str = ""


@dataclass(frozen=True)
class StatusMark:
    """The status one annotator set on a document, and when."""

    annotator: str
    status: Status
    updated: str = ""


@dataclass(frozen=True)
class Rejection:
    """A proposed span (a suggestion, or in review another annotator's span) that ``annotator``
    (a person, or the gold layer) turned down, so that it is not proposed again; ``by`` is who
    pressed the key (the reviewer, for the gold layer)."""

    id: str
    start: int
    end: int
    label: str
    annotator: str
    source: str
    by: str
    created: str
    target: str = ""  # "": the span itself; else a relation from it or an attribute of it

    @property
    def key(self) -> tuple[int, int, str]:
        return self.start, self.end, self.label

    @property
    def full_key(self) -> tuple[int, int, str, str]:
        return self.start, self.end, self.label, self.target

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        if not self.target:
            del record["target"]
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Rejection:
        return cls(
            id=record["id"], start=record["start"], end=record["end"], label=record["label"],
            annotator=record["annotator"], source=record["source"],
            by=record.get("by", record["annotator"]), created=record.get("created", ""),
            target=record.get("target", ""),
        )


@dataclass(frozen=True)
class StoredSuggestion:
    """A span offered to ``annotator`` that was stored with the document (``label-all
    --as-suggestions``), as opposed to the rules' and the model's, which are worked out afresh."""

    id: str
    start: int
    end: int
    label: str
    annotator: str
    source: str  # "label-all:<text>"
    created: str = ""

    @property
    def key(self) -> tuple[int, int, str]:
        return self.start, self.end, self.label

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StoredSuggestion:
        return cls(id=record["id"], start=record["start"], end=record["end"], label=record["label"],
                   annotator=record["annotator"], source=record["source"],
                   created=record.get("created", ""))


@dataclass(frozen=True)
class DocProgress:
    """One annotator's state of one document, for the article list."""

    status: Status = "new"
    spans: int = 0  # this annotator's spans
    all_spans: int = 0  # everyone's
    done_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentRecord:
    """One document with everything every annotator did on it, as the store holds it.

    ``spans`` are sorted by start, end, label, annotator; ``statuses`` holds the statuses that
    annotators set (see :meth:`status_of` for the status of anyone); ``seconds`` is active
    reading time per annotator."""

    document: Document
    sha256: str
    spans: tuple[Span, ...] = ()
    statuses: dict[str, StatusMark] = field(default_factory=dict)
    rejections: tuple[Rejection, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    article_labels: tuple[ArticleLabel, ...] = ()
    suggestions: tuple[StoredSuggestion, ...] = ()

    @property
    def id(self) -> str:
        return self.document.info.id

    @property
    def is_control(self) -> bool:
        """A control document: its known answers are the ``control`` layer, marked done."""
        mark = self.statuses.get(CONTROL)
        return mark is not None and mark.status == "done"

    def suggestions_for(self, annotator: str) -> list[StoredSuggestion]:
        return [s for s in self.suggestions if s.annotator == annotator]

    @property
    def info(self) -> DocumentInfo:
        return self.document.info

    @property
    def text(self) -> str:
        return self.document.text

    def spans_of(self, annotator: str) -> list[Span]:
        return [s for s in self.spans if s.annotator == annotator]

    def status_of(self, annotator: str) -> Status:
        mark = self.statuses.get(annotator)
        return status_for(mark.status if mark else None,
                          any(s.annotator == annotator for s in self.spans))

    def done_by(self) -> tuple[str, ...]:
        """Who marked this document done, sorted."""
        return tuple(sorted(name for name, mark in self.statuses.items() if mark.status == "done"))

    def annotators(self) -> set[str]:
        """Everyone who labelled something here (spans or the article) or set a status."""
        return ({s.annotator for s in self.spans} | set(self.statuses)
                | {a.annotator for a in self.article_labels})

    def relations_of(self, annotator: str) -> list[Relation]:
        return [r for r in self.relations if r.annotator == annotator]

    def article_labels_of(self, annotator: str) -> dict[str, tuple[str, ...]]:
        """One annotator's article labels, group -> values."""
        return {a.group: a.values for a in self.article_labels if a.annotator == annotator}

    def statuses_shown(self, annotator: str | None = None) -> set[Status]:
        """The statuses the app shows for this document: one per annotator who touched it (or of
        ``annotator`` only); "new" for a document nobody touched. A control's known answers are
        nobody's status."""
        names: Iterable[str] = ((annotator,) if annotator is not None
                                else self.annotators() - {CONTROL})
        return {self.status_of(name) for name in names} or {"new"}

    def rejections_of(self, annotator: str) -> list[Rejection]:
        return [r for r in self.rejections if r.annotator == annotator]

    def progress(self, annotator: str) -> DocProgress:
        """What the article list shows; the known answers of a control are not anyone's work
        there (an annotator must not tell a control from other articles)."""
        own = sum(1 for s in self.spans if s.annotator == annotator)
        hidden = sum(1 for s in self.spans if s.annotator == CONTROL)
        return DocProgress(status=self.status_of(annotator), spans=own,
                           all_spans=len(self.spans) - hidden,
                           done_by=tuple(n for n in self.done_by() if n != CONTROL))
