"""What every dataset writer receives: documents with their spans, gold policies, splits.

:func:`export_docs` reads a project one document at a time (``Project.iter_documents``) and yields
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
from typing import Any

from ..store import Project
from .jsonl import ExportFilter, document_statuses, span_record

GOLD = "gold"  # the reserved annotator name of adjudicated spans
POLICY_CHOICES = "--gold annotator:NAME, --gold union, --gold majority [--min-agree K], --gold adjudicated"


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
    spans: list[dict[str, Any]]
    done_by: list[str]
    annotators: tuple[str, ...]
    stamps: dict[str, str] = field(default_factory=dict)
    policy: str | None = None
    skipped_by: list[str] = field(default_factory=list)  # who marked it skipped

    def layers(self) -> dict[str, list[dict[str, Any]]]:
        """Spans per annotator, one entry per layer present (possibly empty), in name order."""
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in self.annotators}
        for span in self.spans:
            out.setdefault(span["annotator"], []).append(span)
        return out

    def single_layer(self, fmt: str) -> list[dict[str, Any]]:
        """The spans of a format that holds one set of spans per document.

        Raises ValueError (one line, listing the choices) when several annotators' layers are
        present and no gold policy chose one."""
        if len(self.annotators) > 1:
            raise ValueError(
                f"{fmt} holds one set of spans per document, but document {self.id!r} has "
                f"spans by {', '.join(self.annotators)}: choose one with {POLICY_CHOICES} "
                "(or --annotator NAME)"
            )
        return list(self.spans)


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
        raise ValueError(f"--min-agree must be a whole number of at least 1, not {min_agree!r}")
    if spec is None:
        if min_agree is not None:
            raise ValueError("--min-agree goes with --gold majority")
        return None
    if spec.startswith("annotator:") and spec[len("annotator:"):]:
        policy = GoldPolicy("annotator", annotator=spec[len("annotator:"):])
    elif spec in ("union", "majority", "adjudicated"):
        policy = GoldPolicy(spec, min_agree=min_agree if spec == "majority" else None)
    else:
        raise ValueError(f"unknown gold policy {spec!r} (one of: {POLICY_CHOICES})")
    if min_agree is not None and policy.kind != "majority":
        raise ValueError("--min-agree goes with --gold majority")
    return policy


def apply_gold(doc: ExportDoc, policy: GoldPolicy | None, keep_all: bool = False) -> ExportDoc | None:
    """``doc`` reduced to the policy's one layer; None when the policy leaves it out."""
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
    votes: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
    for name in sorted(voters):
        for span in voters[name]:
            votes.setdefault((span["start"], span["end"], span["label"]), []).append(span)
    if policy.kind == "union":
        need = 1
    else:
        need = policy.min_agree if policy.min_agree is not None else len(voters) // 2 + 1
        if len(voters) < need:
            return _only(doc, policy, None, []) if keep_all else None
    merged = []
    for (start, end, label), group in sorted(votes.items()):
        names = sorted({s["annotator"] for s in group})
        if len(names) < need:
            continue
        span = {"start": start, "end": end, "label": label, "text": group[0]["text"],
                "annotator": policy.kind, "annotators": names}
        notes = list(dict.fromkeys(s["note"] for s in group if s.get("note")))
        if notes:
            span["note"] = " | ".join(notes)
        merged.append(span)
    stamps = [v for k, v in doc.stamps.items() if k in voters]
    return replace(
        doc, spans=merged, annotators=(policy.kind,), policy=policy.name,
        stamps={policy.kind: max(stamps)} if stamps else {},
    )


def _only(doc: ExportDoc, policy: GoldPolicy, name: str | None,
          spans: list[dict[str, Any]]) -> ExportDoc:
    stamps = {name: doc.stamps[name]} if name is not None and name in doc.stamps else {}
    return replace(doc, spans=list(spans), annotators=(name,) if name else (), policy=policy.name,
                   stamps=stamps)


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
        raise ValueError(
            f"--annotator {flt.annotator} keeps only that annotator's spans: it cannot go with "
            f"--gold {gold.name}"
        )
    for info, shard in project.iter_documents():
        if flt.status is not None and flt.status not in document_statuses(shard, flt.annotator):
            continue
        status_rows = [
            r for r in shard.get("status", {}).values()
            if flt.annotator is None or r["annotator"] == flt.annotator
        ]
        rows = [
            r for r in shard.get("spans", {}).values()
            if (flt.annotator is None or r["annotator"] == flt.annotator)
            and (not flt.labels or r["label"] in flt.labels)
        ]
        done_by = sorted(r["annotator"] for r in status_rows if r["status"] == "done")
        skipped_by = sorted(r["annotator"] for r in status_rows if r["status"] == "skipped")
        if not (flt.all_documents or rows or done_by):
            continue
        text_row = next(iter(shard.get("document", {}).values()), None)
        if text_row is None:
            continue
        rows.sort(key=lambda r: (r["start"], r["end"], r["label"], r["annotator"]))
        stamps: dict[str, str] = {}
        for r in rows:
            stamp = r.get("updated") or r.get("created") or ""
            if stamp > stamps.get(r["annotator"], ""):
                stamps[r["annotator"]] = stamp
        for r in status_rows:
            if r["status"] == "done" and r.get("updated", "") > stamps.get(r["annotator"], ""):
                stamps[r["annotator"]] = r["updated"]
        doc = ExportDoc(
            id=info.id, text=text_row["text"], sha256=text_row["sha256"],
            meta={**info.meta, "title": info.title, "source": info.source},
            spans=[span_record(r) for r in rows], done_by=done_by,
            annotators=tuple(sorted({r["annotator"] for r in rows} | set(done_by))),
            stamps=stamps, skipped_by=skipped_by,
        )
        out = apply_gold(doc, gold, keep_all=flt.all_documents)
        if out is None:
            if skipped is not None:
                skipped[_left_out_reason(gold)] += 1
            continue
        yield out


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
            raise ValueError(f"bad --split {spec!r}: {_SPLIT_FORM}")
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"bad --split {spec!r}: {value!r} is not a number; {_SPLIT_FORM}") from None
        if not math.isfinite(fraction):
            raise ValueError(f"bad --split {spec!r}: {value!r} is not a number; {_SPLIT_FORM}")
        if fraction < 0:
            raise ValueError(f"bad --split {spec!r}: the fraction of {name!r} is negative")
        if any(name == n for n, _ in parts):
            raise ValueError(f"bad --split {spec!r}: {name!r} is named twice")
        parts.append((name, fraction))
    total = sum(f for _, f in parts)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"bad --split {spec!r}: the fractions add up to {total:g}, not 1")
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
    "GOLD", "ExportDoc", "ExportFilter", "GoldPolicy", "apply_gold", "assign_split",
    "export_docs", "parse_gold", "parse_split", "split_point",
]
