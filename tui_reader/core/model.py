"""Plain records the rest of the program passes around: documents, spans, statuses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("new", "in progress", "done", "skipped")


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
    styles: list[Any]  # list[text.StyleRange]

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True)
class Span:
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
    source: str = ""  # "" by hand; "import:<file>"; "suggestion:<rule or model>"

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Span:
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
        )


@dataclass(frozen=True)
class DocProgress:
    """One annotator's state of one document, for the article list."""

    status: str = "new"
    spans: int = 0  # this annotator's spans
    all_spans: int = 0  # everyone's
    done_by: tuple[str, ...] = ()
