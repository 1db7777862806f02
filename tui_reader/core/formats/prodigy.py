"""Prodigy task JSONL, as ``prodigy db-out`` writes ``spans.manual`` annotations.

One task per annotator per document (every layer is kept: several annotators' tasks share an
``_input_hash``, as in Prodigy's review recipe)::

    {"text", "meta": {..., "id"}, "_input_hash", "_task_hash", "_view_id": "spans_manual",
     "tokens": [{"text", "start", "end", "id", "ws"}],
     "spans": [{"start", "end", "label", "token_start", "token_end"}],  # token_end inclusive
     "answer": "accept", "_timestamp", "_annotator_id", "_session_id"}

- ``tokens`` come from :func:`tokens.tokenize` (spaCy's blank tokenizer, whitespace tokens
  included, as Prodigy's own tokenization has them).
- ``_input_hash`` and ``_task_hash`` are stable across exports and machines (Prodigy's own hashes
  are 32-bit signed ints from MurmurHash; here: the first 4 bytes of a SHA-256, read as a signed
  32-bit int). The input hash covers the text; the task hash the input hash and the spans
  (start, end, label), so two annotators with identical spans share a task hash, as in Prodigy.
- ``_annotator_id`` is the annotator's name (what ``import`` reads back); ``_session_id`` is
  ``<dataset>-<name>`` as Prodigy names sessions. ``_timestamp``: the layer's latest change.
- A span whose offsets are not on token boundaries is kept with its character offsets only (no
  ``token_start``/``token_end``; Prodigy accepts character offsets) and counted as a loss
  ("spans not aligned to tokens"), since a token-based consumer will drop or reject it.
- A document with no layer (``--all``) becomes an input task with no ``answer``.
- Span notes travel as a ``note`` key on the span (Prodigy keeps unknown keys), span attributes
  as an ``attributes`` object on the span.
- Relations take the ``rel.manual`` shape: ``"relations": [{"head", "child", "head_span",
  "child_span", "label"}]`` where ``head`` and ``child`` are the index of the last token of each
  span (as Prodigy's own relation examples have them) and ``head_span``/``child_span`` hold the
  spans (``start``, ``end``, ``token_start``, ``token_end``, ``label``); ``_view_id`` is then
  ``relations``. A relation with an end off token boundaries is left out (a loss).
- Article labels are accepted options, as Prodigy's choice interface stores them: ``"options":
  [{"id": "genre:news report", "text": "genre: news report"}, ...]`` for every value of every
  group, ``"accept": [the chosen ids]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

from .base import Writer
from .dataset import ExportDoc
from .label_studio import is_label_studio
from .registry import Format, ReadContext
from .tokens import Token, tokenize


def stable_hash(value: Any) -> int:
    """A signed 32-bit int from the SHA-256 of ``value`` as sorted-key JSON (like Prodigy's
    hashes in range, but the same in every process and version)."""
    digest = hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def input_hash(text: str) -> int:
    return stable_hash({"text": text})


def task_hash(text_hash: int, spans: list[dict[str, Any]]) -> int:
    keys = sorted((s["start"], s["end"], s["label"]) for s in spans)
    return stable_hash({"_input_hash": text_hash, "spans": [list(k) for k in keys]})


def timestamp(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def token_bounds(tokens: list[Token]) -> tuple[dict[int, int], dict[int, int]]:
    """(token index by start offset, token index by end offset)."""
    return {t.start: i for i, t in enumerate(tokens)}, {t.end: i for i, t in enumerate(tokens)}


class ProdigyWriter(Writer):
    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        tokens = tokenize(doc.text, self.options.lang)
        starts, ends = token_bounds(tokens)
        token_dicts = [
            {"text": t.text, "start": t.start, "end": t.end, "id": i, "ws": t.ws}
            for i, t in enumerate(tokens)
        ]
        text_hash = input_hash(doc.text)
        meta = {**doc.meta, "id": doc.id}
        layers = doc.layers()
        if not layers:
            task = {"text": doc.text, "meta": meta, "_input_hash": text_hash,
                    "_task_hash": task_hash(text_hash, []), "tokens": token_dicts}
            self._emit(task)
            return
        options = [{"id": f"{g.group}:{v}", "text": f"{g.group}: {v}"}
                   for g in self.options.schema.article_labels for v in g.values]
        for name, spans in layers.items():
            out_spans = []
            unaligned = 0
            placed: dict[str, dict[str, Any]] = {}  # span id -> its Prodigy span
            for span in spans:
                item: dict[str, Any] = {"start": span["start"], "end": span["end"],
                                        "label": span["label"]}
                first, last = starts.get(span["start"]), ends.get(span["end"])
                if first is None or last is None or last < first:
                    unaligned += 1
                else:
                    item["token_start"], item["token_end"] = first, last
                if span.get("note"):
                    item["note"] = span["note"]
                if span.get("attributes"):
                    item["attributes"] = dict(span["attributes"])
                out_spans.append(item)
                placed[span["id"]] = item
            self.lose("spans not aligned to tokens (kept with character offsets only)", doc, unaligned)
            relations = []
            for relation in doc.relations_of(name):
                head, child = placed.get(relation["head"]), placed.get(relation["child"])
                if head is None or child is None or "token_end" not in head or "token_end" not in child:
                    self.lose("relations with an end off token boundaries dropped", doc)
                    continue
                relations.append({"head": head["token_end"], "child": child["token_end"],
                                  "head_span": _span_of(head), "child_span": _span_of(child),
                                  "label": relation["label"]})
            task = {
                "text": doc.text, "meta": meta, "_input_hash": text_hash,
                "_task_hash": task_hash(text_hash, out_spans),
                "_view_id": "relations" if relations else "spans_manual",
                "tokens": token_dicts, "spans": out_spans, "answer": "accept",
            }
            if relations:
                task["relations"] = relations
            chosen = doc.labels.get(name, {})
            if options and chosen:
                task["options"] = options
                task["accept"] = [f"{group}:{v}" for group, values in chosen.items() for v in values]
            stamp = timestamp(doc.stamps.get(name))
            if stamp is not None:
                task["_timestamp"] = stamp
            task["_annotator_id"] = name
            task["_session_id"] = f"{self.options.dataset}-{name}"
            self._emit(task)
            self.count_spans(spans)
            self.count_layer(name)

    def _emit(self, task: dict[str, Any]) -> None:
        assert self.out is not None
        self.out.write(orjson.dumps(task))
        self.out.write(b"\n")


def _span_of(span: dict[str, Any]) -> dict[str, Any]:
    return {k: span[k] for k in ("start", "end", "token_start", "token_end", "label")}


# ------------------------------------------------------------------------------ reading
def is_prodigy(record: dict[str, Any]) -> bool:
    if is_label_studio(record):
        return False
    if any(k in record for k in ("_input_hash", "_task_hash", "_annotator_id", "_session_id",
                                 "_view_id", "answer")):
        return True
    spans = record.get("spans")
    return isinstance(record.get("text"), str) and isinstance(spans, list) and any(
        isinstance(s, dict) and "token_start" in s for s in spans)


def from_prodigy(record: dict[str, Any], context: ReadContext | None = None) -> dict[str, Any]:
    """A Prodigy task as a native record: its spans (with ids for its ``rel.manual`` relations,
    whose ends are matched by character offsets and label), and its accepted ``group:value``
    options as article labels."""
    out = dict(record)
    annotator = record.get("_annotator_id") or record.get("annotator")
    if record.get("answer") == "accept" and not record.get("spans") and isinstance(annotator, str):
        out["done_by"] = [annotator]
    spans = [dict(s) for s in record.get("spans") or [] if isinstance(s, dict)] \
        if isinstance(record.get("spans"), list) else record.get("spans")
    relations = record.get("relations")
    if isinstance(spans, list) and isinstance(relations, list):
        ids: dict[tuple[Any, Any, Any], str] = {}
        for n, span in enumerate(spans):
            span.setdefault("id", f"p{n}")
            ids[(span.get("start"), span.get("end"), span.get("label"))] = str(span["id"])
        out["relations"] = []
        for relation in relations:
            if not isinstance(relation, dict):
                continue
            ends = []
            for side in ("head_span", "child_span"):
                part = relation.get(side) if isinstance(relation.get(side), dict) else {}
                key = (part.get("start"), part.get("end"), part.get("label"))
                if key not in ids:  # an end that is not among the task's spans: add it
                    ids[key] = f"p{len(spans)}"
                    spans.append({"id": ids[key], "start": key[0], "end": key[1], "label": key[2]})
                ends.append(ids[key])
            out["relations"].append({"head": ends[0], "child": ends[1], "label": relation.get("label")})
        out["spans"] = spans
    accepted = record.get("accept")
    if isinstance(accepted, list) and isinstance(record.get("options"), list):
        labels: dict[str, list[str]] = {}
        for option in accepted:
            if isinstance(option, str) and ":" in option:
                group, value = option.split(":", 1)
                labels.setdefault(group, []).append(value)
        if labels:
            out["labels"] = labels
    return out


FORMAT = Format(
    name="prodigy", summary="Prodigy spans.manual tasks with tokens, one task per annotator",
    writer=ProdigyWriter, suffix=".jsonl", every_layer=True, tokenized=True,
    cannot_carry=("token positions of spans off token boundaries (kept as characters)",),
    detect=is_prodigy, read=from_prodigy,
)
