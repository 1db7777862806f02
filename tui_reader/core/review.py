"""Review into a gold layer: every annotator's spans side by side, disagreements first.

The gold layer is a set of ordinary spans whose annotator is ``GOLD`` (``source`` names the
reviewer); exports use it with ``--gold adjudicated``. A reviewer accepts a candidate (copies it
into gold), rejects it (recorded, so it is settled), or labels gold spans directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .store import Project
from .suggest.proposal import Suggestion

GOLD = "gold"
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


def annotators_of(shard: dict) -> tuple[str, ...]:
    names = {r["annotator"] for r in shard.get("spans", {}).values()}
    names |= {r["annotator"] for r in shard.get("status", {}).values() if r["status"] == "done"}
    names.discard(GOLD)
    return tuple(sorted(names))


def candidates_from(shard: dict) -> list[Candidate]:
    annotators = annotators_of(shard)
    by_key: dict[Key, set[str]] = defaultdict(set)
    gold: set[Key] = set()
    for row in shard.get("spans", {}).values():
        key = (row["start"], row["end"], row["label"])
        if row["annotator"] == GOLD:
            gold.add(key)
        else:
            by_key[key].add(row["annotator"])
    rejected = {(r["start"], r["end"], r["label"]) for r in shard.get("rejections", {}).values()
                if r["annotator"] == GOLD}
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
    for info, shard in project.iter_documents():
        names = annotators_of(shard)
        if len(names) < 2:
            continue
        cands = candidates_from(shard)
        items.append(ReviewItem(info.id, info.title, names,
                                sum(1 for c in cands if not c.agreed),
                                sum(1 for c in cands if not c.decision)))
    items.sort(key=lambda i: (-(i.open > 0), -i.disagreements, i.doc_id))
    return items


def review_suggestions(project: Project, doc_id: str) -> list[Suggestion]:
    """The open candidates of one document, as suggestions the reviewer accepts or rejects; the
    confidence is the share of the document's annotators who marked it."""
    shard = project.read_document_file(doc_id)
    names = annotators_of(shard)
    return [
        Suggestion(c.start, c.end, c.label, f"by {', '.join(c.annotators)}",
                   len(c.annotators) / max(len(names), 1))
        for c in candidates_from(shard) if not c.decision
    ]
