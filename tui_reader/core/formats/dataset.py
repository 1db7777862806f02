"""What every dataset writer receives: documents with their spans, gold policies, splits.

:func:`export_docs` reads a project one document at a time (``Project.records``) and yields
:class:`ExportDoc` records. Which documents and spans: the semantics of
:class:`~tui_reader.core.formats.jsonl.ExportFilter` (by default the documents with a span or
that someone marked done; ``all_documents`` for every one; ``annotator``, ``labels`` and ``status``
filter), so a native export and a dataset export hold the same documents.

A document holds one *layer* per annotator present: everyone with a (matching) span, or who
marked it done (a done layer with no span is a real negative). A gold policy turns the layers
into one:

- ``annotator:NAME``: that annotator's spans only; documents without NAME's layer are left out.
- ``union``: every annotator's spans, exact duplicates (same start, end, label) merged.
- ``majority`` (with ``min_agree=k``): a span counts when at least k annotators marked the same
  start, end and label; by default k is more than half of the document's annotators. Documents
  with fewer than k annotators are left out (nothing in them could reach k).
- ``adjudicated``: the spans of the reserved annotator ``gold``; documents without gold spans and
  not marked done by ``gold`` are left out.

``union`` and ``majority`` leave the ``gold`` layer out (it is the adjudication, not a vote). With
``all_documents`` no document is left out; a document without the policy's layer has no spans.

Control documents (``controls.py``) are left out of every export unless the filter's
``include_controls``; even then their known answers (the ``control`` layer) are left out unless
asked for by name (``annotator="control"`` or ``--gold annotator:control``): they are the lead's
answer key, not anyone's work.

Splits (:func:`parse_split`, :func:`assign_split`) are decided per document from a hash of the seed
and the document id: adding documents never moves the others.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from ..errors import InputError
from ..model import CONTROL, GOLD, STATUSES, DocumentRecord, Span
from ..store import Project

POLICY_CHOICES = "--gold annotator:NAME, --gold union, --gold majority [--min-agree K], --gold adjudicated"


class _SpanFields(TypedDict):
    id: str  # stable: the store's id, or for a merged span one made from its start, end, label
    start: int
    end: int
    label: str
    text: str  # == the document's text[start:end]
    annotator: str  # a person, "gold", or the merging gold policy ("union", "majority")


class SpanRecord(_SpanFields, total=False):
    """A span as every export sees it (and as native JSONL writes it)."""

    note: str
    source: str
    attributes: dict[str, str | bool]  # only when it has some
    annotators: list[str]  # after a merging gold policy: who marked it


class _RelationFields(TypedDict):
    head: str  # a span id of this document's export
    child: str
    label: str
    annotator: str


class RelationRecord(_RelationFields, total=False):
    """A relation as every export sees it."""

    annotators: list[str]  # after a merging gold policy


ArticleLabels = dict[str, list[str]]  # group -> values chosen (one for a single-choice group)


def span_record(span: Span) -> SpanRecord:
    out = SpanRecord(id=span.id, start=span.start, end=span.end, label=span.label, text=span.text,
                     annotator=span.annotator)
    if span.note:
        out["note"] = span.note
    if span.source:
        out["source"] = span.source
    if span.attributes:
        out["attributes"] = dict(span.attributes)
    return out


def merged_span_id(doc_id: str, start: int, end: int, label: str) -> str:
    """The id of a span a gold policy merged from several annotators' (the same in every export)."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{label}".encode()).hexdigest()
    return f"m{digest[:15]}"


@dataclass(frozen=True)
class ExportFilter:
    """Which documents and spans an export holds.

    By default: documents with at least one (matching) span, or that someone marked done (a done
    article with no span is a real negative; one nobody read is not). ``all_documents``: every one.
    """

    annotator: str | None = None
    labels: tuple[str, ...] = ()
    status: str | None = None
    all_documents: bool = False
    include_controls: bool = False  # control documents too (see the module docstring)

    def check(self, project: Project) -> None:
        if self.annotator == CONTROL and not self.include_controls:
            raise InputError(f"--annotator {CONTROL} keeps the known answers of control documents: "
                             "it goes with --include-controls")
        unknown = [label for label in self.labels if label not in project.config.label_names]
        if unknown:
            raise InputError(
                f"unknown label {unknown[0]!r} (this project's labels: "
                f"{', '.join(project.config.label_names)})"
            )
        if self.status is not None and self.status not in STATUSES:
            raise InputError(f"unknown status {self.status!r} (one of: {', '.join(STATUSES)})")


@dataclass(frozen=True)
class ExportDoc:
    """One document as a writer sees it. ``spans`` are dicts with ``start``, ``end``, ``label``,
    ``text`` (``== text[start:end]``) and ``annotator`` (optionally ``note``, ``source``, and
    ``annotators`` after a merging policy), sorted by start, end, label, annotator.

    ``annotators``: the layers present (see the module docstring), sorted; ``stamps``: each
    layer's latest change (ISO time), when known."""

    id: str
    text: str
    sha256: str
    meta: dict[str, Any]
    spans: list[SpanRecord]
    done_by: list[str]
    annotators: tuple[str, ...]
    stamps: dict[str, str] = field(default_factory=dict)
    policy: str | None = None
    relations: list[RelationRecord] = field(default_factory=list)
    labels: dict[str, ArticleLabels] = field(default_factory=dict)  # annotator -> their article labels
    skipped_by: list[str] = field(default_factory=list)  # who marked it skipped

    def layers(self) -> dict[str, list[SpanRecord]]:
        """Spans per annotator, one entry per layer present (possibly empty), in name order."""
        out: dict[str, list[SpanRecord]] = {name: [] for name in self.annotators}
        for span in self.spans:
            out.setdefault(span["annotator"], []).append(span)
        return out

    def single_layer(self, fmt: str) -> list[SpanRecord]:
        """The spans of a format that holds one set of spans per document.

        Raises InputError (one line, listing the choices) when several annotators' layers are
        present and no gold policy chose one."""
        if len(self.annotators) > 1:
            raise InputError(
                f"{fmt} holds one set of spans per document, but document {self.id!r} has "
                f"spans by {', '.join(self.annotators)}: choose one with {POLICY_CHOICES} "
                "(or --annotator NAME)"
            )
        return list(self.spans)

    def relations_of(self, annotator: str) -> list[RelationRecord]:
        return [r for r in self.relations if r["annotator"] == annotator]

    def single_labels(self) -> ArticleLabels:
        """The article labels of a one-layer document (see :meth:`single_layer`)."""
        return next(iter(self.labels.values()), {})


# ------------------------------------------------------------------------------ gold policies
@dataclass(frozen=True)
class GoldPolicy:
    kind: str  # "annotator", "union", "majority", "adjudicated"
    annotator: str | None = None
    min_agree: int | None = None

    @property
    def name(self) -> str:
        if self.kind == "annotator":
            return f"annotator:{self.annotator}"
        if self.kind == "majority" and self.min_agree is not None:
            return f"majority (min_agree={self.min_agree})"
        return self.kind


def parse_gold(spec: str | None, min_agree: int | None = None) -> GoldPolicy | None:
    """``annotator:NAME``, ``union``, ``majority`` or ``adjudicated`` (None: no policy)."""
    if min_agree is not None and (isinstance(min_agree, bool) or not isinstance(min_agree, int)
                                  or min_agree < 1):
        raise InputError(f"--min-agree must be a whole number of at least 1, not {min_agree!r}")
    if spec is None:
        if min_agree is not None:
            raise InputError("--min-agree goes with --gold majority")
        return None
    if spec.startswith("annotator:") and spec[len("annotator:"):]:
        policy = GoldPolicy("annotator", annotator=spec[len("annotator:"):])
    elif spec in ("union", "majority", "adjudicated"):
        policy = GoldPolicy(spec, min_agree=min_agree if spec == "majority" else None)
    else:
        raise InputError(f"unknown gold policy {spec!r} (one of: {POLICY_CHOICES})")
    if min_agree is not None and policy.kind != "majority":
        raise InputError("--min-agree goes with --gold majority")
    return policy


def apply_gold(doc: ExportDoc, policy: GoldPolicy | None, keep_all: bool = False) -> ExportDoc | None:
    """``doc`` reduced to the policy's one layer; None when the policy leaves it out.

    ``union`` and ``majority`` vote on spans (start, end, label), relations (head span, child span,
    label: kept when both ends are kept), span attributes and article labels: a value counts when
    at least ``need`` annotators gave it (union: 1; majority: min_agree, or more than half); where
    several values of one attribute or single-choice group would count, the one most annotators
    gave is kept, and none when that is a tie."""
    if policy is None:
        return doc
    layers = doc.layers()
    if policy.kind in ("annotator", "adjudicated"):
        name = policy.annotator if policy.kind == "annotator" else GOLD
        assert name is not None
        if name not in layers:
            return _only(doc, policy, None, []) if keep_all else None
        return _only(doc, policy, name, layers[name])
    voters = {name: spans for name, spans in layers.items() if name != GOLD}
    if not voters:
        return _only(doc, policy, None, []) if keep_all else None
    if policy.kind == "union":
        need = 1
    else:
        need = policy.min_agree if policy.min_agree is not None else len(voters) // 2 + 1
        if len(voters) < need:
            return _only(doc, policy, None, []) if keep_all else None
    Key = tuple[int, int, str]
    votes: dict[Key, list[SpanRecord]] = {}
    key_of: dict[str, Key] = {}
    for name in sorted(voters):
        for span in voters[name]:
            key = (span["start"], span["end"], span["label"])
            votes.setdefault(key, []).append(span)
            key_of[span["id"]] = key
    merged: list[SpanRecord] = []
    merged_id: dict[Key, str] = {}
    for (start, end, label), group in sorted(votes.items()):
        names = sorted({s["annotator"] for s in group})
        if len(names) < need:
            continue
        span = SpanRecord(id=merged_span_id(doc.id, start, end, label), start=start, end=end,
                          label=label, text=group[0]["text"], annotator=policy.kind, annotators=names)
        notes = list(dict.fromkeys(s["note"] for s in group if s.get("note")))
        if notes:
            span["note"] = " | ".join(notes)
        attributes: dict[str, str | bool] = {}
        for attribute in sorted({a for s in group for a in s.get("attributes", {})}):
            value = _voted([s["attributes"][attribute] for s in group
                            if attribute in s.get("attributes", {})], need)
            if value is not None:
                attributes[attribute] = value
        if attributes:
            span["attributes"] = attributes
        merged.append(span)
        merged_id[(start, end, label)] = span["id"]
    relation_votes: dict[tuple[Key, Key, str], set[str]] = {}
    for relation in doc.relations:
        if relation["annotator"] in voters and relation["head"] in key_of and relation["child"] in key_of:
            rkey = (key_of[relation["head"]], key_of[relation["child"]], relation["label"])
            relation_votes.setdefault(rkey, set()).add(relation["annotator"])
    relations = [
        RelationRecord(head=merged_id[head], child=merged_id[child], label=label,
                       annotator=policy.kind, annotators=sorted(names))
        for (head, child, label), names in sorted(relation_votes.items())
        if len(names) >= need and head in merged_id and child in merged_id
    ]
    labels: ArticleLabels = {}
    for group in sorted({g for name, chosen in doc.labels.items() if name in voters for g in chosen}):
        chosen = [doc.labels[name][group] for name in voters if group in doc.labels.get(name, {})]
        counts = Counter(v for values in chosen for v in values)
        single = all(len(values) <= 1 for values in chosen)
        if single:
            value = _voted([v for values in chosen for v in values], need)
            kept = [value] if isinstance(value, str) else []
        else:
            kept = [v for v, n in counts.items() if n >= need]
        if kept:
            labels[group] = kept
    stamps = [v for k, v in doc.stamps.items() if k in voters]
    return replace(
        doc, spans=merged, annotators=(policy.kind,), policy=policy.name,
        stamps={policy.kind: max(stamps)} if stamps else {}, relations=relations,
        labels={policy.kind: labels} if labels else {},
    )


def _voted(values: list[str | bool], need: int) -> str | bool | None:
    """The value given most often, if at least ``need`` gave it and no other value ties with it."""
    ranked = Counter(values).most_common(2)
    if not ranked or ranked[0][1] < need or (len(ranked) == 2 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def _only(doc: ExportDoc, policy: GoldPolicy, name: str | None,
          spans: list[SpanRecord]) -> ExportDoc:
    stamps = {name: doc.stamps[name]} if name is not None and name in doc.stamps else {}
    return replace(doc, spans=list(spans), annotators=(name,) if name else (), policy=policy.name,
                   stamps=stamps, relations=doc.relations_of(name) if name else [],
                   labels={name: doc.labels[name]} if name in doc.labels else {})


# ------------------------------------------------------------------------------ reading
def export_docs(
    project: Project, flt: ExportFilter | None = None, gold: GoldPolicy | None = None,
    skipped: Counter[str] | None = None,
) -> Iterator[ExportDoc]:
    """Yield the documents to export, in corpus order, one document read at a time.

    ``skipped`` (when given) counts the documents a gold policy left out, by reason."""
    flt = flt or ExportFilter()
    flt.check(project)
    if gold is not None and flt.annotator is not None and not (
        gold.kind == "annotator" and gold.annotator == flt.annotator
    ):
        raise InputError(
            f"--annotator {flt.annotator} keeps only that annotator's spans: it cannot go with "
            f"--gold {gold.name}"
        )
    if gold is not None and gold.kind == "annotator" and gold.annotator == CONTROL \
            and not flt.include_controls:
        raise InputError(f"--gold annotator:{CONTROL} keeps the known answers of control documents: "
                         "it goes with --include-controls")
    keep_answers = flt.annotator == CONTROL or (
        gold is not None and gold.kind == "annotator" and gold.annotator == CONTROL)
    for record in project.records():
        if record.is_control and not flt.include_controls:
            continue
        doc = export_doc(record, flt, keep_answers)
        if doc is None:
            continue
        out = apply_gold(doc, gold, keep_all=flt.all_documents)
        if out is None:
            if skipped is not None:
                skipped[_left_out_reason(gold)] += 1
            continue
        yield out


def export_doc(record: DocumentRecord, flt: ExportFilter, keep_answers: bool = False,
               ) -> ExportDoc | None:
    """One document as exports see it, with the filter's spans, relations, article labels and
    statuses; None when the filter leaves it out (no gold policy applied yet). The ``control``
    layer only with ``keep_answers``."""
    if flt.status is not None and flt.status not in record.statuses_shown(flt.annotator):
        return None

    def wanted(annotator: str) -> bool:
        if annotator == CONTROL and not keep_answers:
            return False
        return flt.annotator is None or annotator == flt.annotator

    marks = [m for m in record.statuses.values() if wanted(m.annotator)]
    if flt.annotator is None and not flt.labels:  # every span but the answer key's: no call each
        spans = [s for s in record.spans if s.annotator != CONTROL] if not keep_answers \
            else list(record.spans)
    else:
        spans = [s for s in record.spans
                 if wanted(s.annotator) and (not flt.labels or s.label in flt.labels)]
    labels: dict[str, ArticleLabels] = {}
    for chosen in record.article_labels:
        if wanted(chosen.annotator):
            labels.setdefault(chosen.annotator, {})[chosen.group] = list(chosen.values)
    done_by = sorted(m.annotator for m in marks if m.status == "done")
    skipped_by = sorted(m.annotator for m in marks if m.status == "skipped")
    if not (flt.all_documents or spans or done_by or labels):
        return None
    kept = {s.id for s in spans}
    relations = [RelationRecord(head=r.head, child=r.child, label=r.label, annotator=r.annotator)
                 for r in record.relations if r.head in kept and r.child in kept]
    stamps: dict[str, str] = {}
    for span in spans:
        if span.updated > stamps.get(span.annotator, ""):
            stamps[span.annotator] = span.updated
    for mark in marks:
        if mark.status == "done" and mark.updated > stamps.get(mark.annotator, ""):
            stamps[mark.annotator] = mark.updated
    info = record.info
    return ExportDoc(
        id=info.id, text=record.text, sha256=record.sha256,
        meta={**info.meta, "title": info.title, "source": info.source},
        spans=[span_record(s) for s in spans], done_by=done_by,
        annotators=tuple(sorted({s.annotator for s in spans} | set(done_by) | set(labels))),
        stamps=stamps, relations=relations,
        labels={name: labels[name] for name in sorted(labels)}, skipped_by=skipped_by,
    )


def _left_out_reason(gold: GoldPolicy | None) -> str:
    if gold is None:
        return ""
    if gold.kind == "annotator":
        return f"documents without spans or done status by {gold.annotator} left out"
    if gold.kind == "adjudicated":
        return f"documents without spans or done status by {GOLD} left out"
    if gold.kind == "majority":
        return "documents with too few annotators for a majority left out"
    return "documents without annotators left out"


# ------------------------------------------------------------------------------ splits
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$")
_SPLIT_FORM = "write NAME=FRACTION pairs separated by commas, e.g. train=0.8,dev=0.1,test=0.1"


def parse_split(spec: str) -> tuple[tuple[str, float], ...]:
    """``"train=0.8,dev=0.1,test=0.1"`` -> ``(("train", 0.8), ("dev", 0.1), ("test", 0.1))``.

    Names are letters, digits, ``_ . -`` (they become file names); fractions are non-negative and
    add up to 1 (within 1e-6). Errors are ValueErrors with one line naming the problem."""
    parts: list[tuple[str, float]] = []
    for piece in spec.split(","):
        name, sep, value = (p.strip() for p in piece.partition("="))
        if not sep or not _SPLIT_NAME.match(name):
            raise InputError(f"bad --split {spec!r}: {_SPLIT_FORM}")
        try:
            fraction = float(value)
        except ValueError:
            raise InputError(f"bad --split {spec!r}: {value!r} is not a number; {_SPLIT_FORM}") from None
        if not math.isfinite(fraction):
            raise InputError(f"bad --split {spec!r}: {value!r} is not a number; {_SPLIT_FORM}")
        if fraction < 0:
            raise InputError(f"bad --split {spec!r}: the fraction of {name!r} is negative")
        if any(name == n for n, _ in parts):
            raise InputError(f"bad --split {spec!r}: {name!r} is named twice")
        parts.append((name, fraction))
    total = sum(f for _, f in parts)
    if abs(total - 1.0) > 1e-6:
        raise InputError(f"bad --split {spec!r}: the fractions add up to {total:g}, not 1")
    return tuple(parts)


def split_point(doc_id: str, seed: int) -> float:
    """A number in [0, 1) fixed by the seed and the document id alone (SHA-256)."""
    digest = hashlib.sha256(f"{seed}\x00{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(doc_id: str, spec: str | tuple[tuple[str, float], ...], seed: int = 0) -> str:
    """The split of one document: deterministic, independent of every other document."""
    parts = parse_split(spec) if isinstance(spec, str) else spec
    point = split_point(doc_id, seed)
    cumulative = 0.0
    for name, fraction in parts:
        cumulative += fraction
        if point < cumulative:
            return name
    return next(name for name, fraction in reversed(parts) if fraction > 0)


__all__ = [
    "ArticleLabels", "ExportDoc", "ExportFilter", "GoldPolicy", "RelationRecord", "SpanRecord",
    "apply_gold", "assign_split",
    "export_doc", "export_docs", "parse_gold", "parse_split", "span_record", "split_point",
]
