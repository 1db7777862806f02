"""Review into a gold layer: every annotator's spans side by side, disagreements first.

The gold layer is a set of ordinary spans whose annotator is ``GOLD`` (``source`` names the
reviewer); exports use it with ``--gold adjudicated``. A reviewer accepts a candidate (copies it
into gold), rejects it (recorded, so it is settled), or labels gold spans directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .model import GOLD, DocumentRecord
from .store import Project
from .suggest.suggestion import Suggestion

Key = tuple[int, int, str]


@dataclass(frozen=True)
class Candidate:
    """One distinct (start, end, label) proposed by one or more annotators."""

    start: int
    end: int
    label: str
    annotators: tuple[str, ...]
    agreed: bool  # every annotator of the document marked exactly this
    decision: str  # "accepted", "rejected" or "" (open)

    @property
    def key(self) -> Key:
        return self.start, self.end, self.label


@dataclass(frozen=True)
class ReviewItem:
    doc_id: str
    title: str
    annotators: tuple[str, ...]
    disagreements: int  # candidates not marked by every annotator
    open: int  # candidates neither accepted nor rejected


def annotators_of(record: DocumentRecord) -> tuple[str, ...]:
    """Who labelled the document or marked it done, the gold layer left out."""
    names = {s.annotator for s in record.spans} | set(record.done_by())
    names.discard(GOLD)
    return tuple(sorted(names))


def candidates_from(record: DocumentRecord) -> list[Candidate]:
    annotators = annotators_of(record)
    by_key: dict[Key, set[str]] = defaultdict(set)
    gold: set[Key] = set()
    for span in record.spans:
        if span.annotator == GOLD:
            gold.add(span.key)
        else:
            by_key[span.key].add(span.annotator)
    rejected = {r.key for r in record.rejections_of(GOLD)}
    out = []
    for key, names in by_key.items():
        decision = "accepted" if key in gold else "rejected" if key in rejected else ""
        out.append(Candidate(*key, annotators=tuple(sorted(names)),
                             agreed=set(names) == set(annotators), decision=decision))
    out.sort(key=lambda c: (c.agreed, c.start, c.end, c.label))  # disagreements first
    return out


def review_queue(project: Project) -> list[ReviewItem]:
    """Documents with more than one annotator, most open disagreements first."""
    items = []
    for record in project.records():
        names = annotators_of(record)
        if len(names) < 2:
            continue
        cands = candidates_from(record)
        items.append(ReviewItem(record.id, record.info.title, names,
                                sum(1 for c in cands if not c.agreed),
                                sum(1 for c in cands if not c.decision)))
    items.sort(key=lambda i: (-(i.open > 0), -i.disagreements, i.doc_id))
    return items


def review_suggestions(project: Project, doc_id: str) -> list[Suggestion]:
    """The open candidates of one document, as suggestions the reviewer accepts or rejects; the
    confidence is the share of the document's annotators who marked it."""
    record = project.record(doc_id)
    names = annotators_of(record)
    return [
        Suggestion(c.start, c.end, c.label, f"by {', '.join(c.annotators)}",
                   len(c.annotators) / max(len(names), 1))
        for c in candidates_from(record) if not c.decision
    ]
