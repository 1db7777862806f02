"""Review into a gold layer: every annotator's spans side by side, disagreements first.

The gold layer is a set of ordinary spans whose annotator is ``GOLD`` (``source`` names the
reviewer); exports use it with ``--gold adjudicated``. A reviewer accepts a candidate (copies it
into gold), rejects it (recorded, so it is settled), or labels gold spans directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .model import CONTROL, GOLD, DocumentRecord
from .store import Project
from .suggest.suggestion import (
    AttributeSuggestion,
    LinkSuggestion,
    RelationSuggestion,
    Suggestion,
)

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
    """Who labelled the document or marked it done, the gold layer (and a control's known
    answers) left out."""
    names = {s.annotator for s in record.spans} | set(record.done_by())
    names -= {GOLD, CONTROL}
    return tuple(sorted(names))


def candidates_from(record: DocumentRecord) -> list[Candidate]:
    annotators = annotators_of(record)
    by_key: dict[Key, set[str]] = defaultdict(set)
    gold: set[Key] = set()
    for span in record.spans:
        if span.annotator == GOLD:
            gold.add(span.key)
        elif span.annotator != CONTROL:
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
    """Documents with more than one annotator, most open disagreements first. Control documents
    are left out: their answers are known already."""
    items = []
    for record in project.records():
        if record.is_control:
            continue
        names = annotators_of(record)
        if len(names) < 2:
            continue
        cands = candidates_from(record)
        items.append(ReviewItem(record.id, record.info.title, names,
                                sum(1 for c in cands if not c.agreed),
                                sum(1 for c in cands if not c.decision)))
    items.sort(key=lambda i: (-(i.open > 0), -i.disagreements, i.doc_id))
    return items


def review_suggestions(project: Project, doc_id: str) -> list[Suggestion | LinkSuggestion]:
    """What the annotators of one document did that the gold layer has not settled, as
    suggestions the reviewer accepts (``a``) or rejects (``r``): their spans, their relations
    (matched by their ends' start, end and label) and their attribute values. The confidence is
    the share of the document's annotators who gave it. (Their article labels are offered by the
    article-label chooser, see :func:`article_label_votes`.)"""
    record = project.record(doc_id)
    names = annotators_of(record)

    def share(who: set[str] | tuple[str, ...]) -> float:
        return len(who) / max(len(names), 1)

    def by(who: set[str] | tuple[str, ...]) -> str:
        return f"by {', '.join(sorted(who))}"

    out: list[Suggestion | LinkSuggestion] = [
        Suggestion(c.start, c.end, c.label, by(c.annotators), share(c.annotators))
        for c in candidates_from(record) if not c.decision
    ]
    keys = {s.id: s.key for s in record.spans}
    gold_relations = {(keys[r.head], keys[r.child], r.label) for r in record.relations_of(GOLD)
                      if r.head in keys and r.child in keys}
    relation_votes: dict[tuple[Key, Key, str], set[str]] = defaultdict(set)
    for relation in record.relations:
        if relation.annotator not in (GOLD, CONTROL) and relation.head in keys \
                and relation.child in keys:
            relation_votes[(keys[relation.head], keys[relation.child], relation.label)].add(
                relation.annotator)
    out += [RelationSuggestion(head, child, label, by(who), share(who))
            for (head, child, label), who in sorted(relation_votes.items())
            if (head, child, label) not in gold_relations]
    gold_values = {(s.key, name, value) for s in record.spans_of(GOLD)
                   for name, value in s.attributes.items()}
    attribute_votes: dict[tuple[Key, str, str | bool], set[str]] = defaultdict(set)
    for span in record.spans:
        if span.annotator not in (GOLD, CONTROL):
            for name, value in span.attributes.items():
                attribute_votes[(span.key, name, value)].add(span.annotator)
    out += [AttributeSuggestion(key, name, value, by(who), share(who))
            for (key, name, value), who in sorted(attribute_votes.items(), key=lambda kv: str(kv[0]))
            if (key, name, value) not in gold_values]
    return out


def article_label_votes(record: DocumentRecord, group: str) -> dict[str, tuple[str, ...]]:
    """For one group of article labels, who (not the gold layer) chose each value."""
    votes: dict[str, list[str]] = defaultdict(list)
    for chosen in record.article_labels:
        if chosen.group == group and chosen.annotator not in (GOLD, CONTROL):
            for value in chosen.values:
                votes[value].append(chosen.annotator)
    return {value: tuple(sorted(who)) for value, who in votes.items()}
