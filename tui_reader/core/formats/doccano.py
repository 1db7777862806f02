"""doccano sequence-labelling JSONL (its "JSONL" import and export)::

    {"id": "...", "text": "...", "label": [[start, end, "label"], ...], "title": "...", ...}

and, as ``--format doccano-rel`` (formats/doccano_relations.py), doccano's "JSONL(Relation)"
shape for a project with relations::

    {"id": "...", "text": "...",
     "entities": [{"id": 1, "label": "quote", "start_offset": 0, "end_offset": 14}, ...],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "attributed_to"}],
     "cats": ["genre:news report"]}

Article labels are ``cats``, one ``"group:value"`` each. Span attributes have no place in doccano
(counted as lost).

Offsets are code points, end exclusive (doccano 1.8.4 counts them so too); the document's
metadata (title, source, ...) is spread into the record, where doccano keeps unknown keys as
metadata and writes them back on export (``id`` included; a key named ``text`` or ``label`` is
left out). One set of spans per document; span notes have no place here (counted as a notice,
"span notes not kept").

Overlapping and nested spans are written as they are, but doccano keeps them only in a project
created with "Allow overlapping spans": in any other (its default) its upload drops, without a
word, every span that starts before the end of the last span it kept (spans taken by start).
:func:`dropped_without_overlap` counts those spans exactly as doccano 1.8.4 does, and the export
reports them in one notice naming the setting.
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import Writer
from .dataset import ExportDoc
from .label_studio import is_label_studio
from .prodigy import is_prodigy
from .registry import Format, ReadContext

RESERVED = ("id", "text", "label", "entities", "relations", "cats")
OVERLAP_NOTICE = ('spans that doccano keeps only in a project with "Allow overlapping spans" '
                  "(it drops them silently otherwise)")


def dropped_without_overlap(spans: list[dict[str, Any]]) -> int:
    """How many of one document's spans doccano's upload drops in a project that does not allow
    overlapping spans: its rule (``Spans.clean``): spans in file order sorted by start (a stable
    sort), each kept when it starts at or after the end of the last one kept."""
    last_end = -1
    dropped = 0
    for span in sorted(spans, key=lambda s: s["start"]):
        if span["start"] >= last_end:
            last_end = span["end"]
        else:
            dropped += 1
    return dropped


class DoccanoWriter(Writer):
    relations_shape = False  # entities + relations (doccano-rel), or label lists

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        spans = self.layer_spans(doc)
        record: dict[str, Any] = {"id": doc.id, "text": doc.text}
        if self.relations_shape:
            numbers = {s["id"]: n for n, s in enumerate(spans, 1)}
            record["entities"] = [{"id": numbers[s["id"]], "label": s["label"],
                                   "start_offset": s["start"], "end_offset": s["end"]} for s in spans]
            record["relations"] = [
                {"id": n, "from_id": numbers[r["head"]], "to_id": numbers[r["child"]], "type": r["label"]}
                for n, r in enumerate(doc.relations, 1)]
        else:
            record["label"] = [[s["start"], s["end"], s["label"]] for s in spans]
            self.lose("relations dropped (--format doccano-rel keeps them)", doc, len(doc.relations))
        cats = [f"{group}:{value}" for group, values in doc.single_labels().items() for value in values]
        if cats:
            record["cats"] = cats
        self.lose_schema(doc, spans, relations=False, article_labels=False)
        for key, value in doc.meta.items():
            if key not in RESERVED:
                record[key] = value
        self.notice("span notes not kept", sum(1 for s in spans if s.get("note")))
        self.notice(OVERLAP_NOTICE, dropped_without_overlap(spans))
        self.out.write(orjson.dumps(record))
        self.out.write(b"\n")
        self.count_spans(spans)
        self.count_layer(doc.annotators[0] if doc.annotators else None)


# ------------------------------------------------------------------------------ reading
def is_doccano(record: dict[str, Any]) -> bool:
    return (not is_label_studio(record) and not is_prodigy(record)
            and any(isinstance(record.get(k), list) for k in ("label", "labels", "entities")))


def from_doccano(record: dict[str, Any], context: ReadContext | None = None) -> dict[str, Any]:
    annotator = next(
        (record[k] for k in ("annotator", "user") if isinstance(record.get(k), str) and record[k]),
        None,
    )
    raw = next((record[k] for k in ("label", "labels", "entities") if isinstance(record.get(k), list)),
               [])
    spans: list[Any] = []
    for item in raw:
        if isinstance(item, (list, tuple)) and len(item) >= 3:
            span: Any = {"start": item[0], "end": item[1], "label": item[2]}
        elif isinstance(item, dict):
            span = {
                "start": item.get("start_offset", item.get("start")),
                "end": item.get("end_offset", item.get("end")),
                "label": item.get("label"),
            }
            if isinstance(item.get("id"), (int, str)) and not isinstance(item.get("id"), bool):
                span["id"] = str(item["id"])
        else:
            span = item  # parse_record refuses it with a message
        if isinstance(span, dict) and annotator:
            span["annotator"] = annotator
        spans.append(span)
    skip = {"text", "label", "labels", "entities", "relations", "id", "annotator", "user",
            "Comments", "comments", "cats"}
    meta = {k: v for k, v in record.items() if k not in skip}
    out: dict[str, Any] = {"text": record.get("text"), "spans": spans, "meta": meta}
    relations = record.get("relations")
    if isinstance(relations, list):
        out["relations"] = [{"head": str(r.get("from_id")), "child": str(r.get("to_id")),
                             "label": r.get("type")} for r in relations if isinstance(r, dict)]
    cats = record.get("cats")
    if isinstance(cats, list):
        labels: dict[str, list[str]] = {}
        for cat in cats:
            if isinstance(cat, str) and ":" in cat:
                group, value = cat.split(":", 1)
                labels.setdefault(group, []).append(value)
        if labels:
            out["labels"] = labels
    if isinstance(record.get("id"), (str, int)) and not isinstance(record.get("id"), bool):
        out["id"] = record["id"]
    return out


FORMAT = Format(
    name="doccano", summary="doccano sequence-labelling JSONL", writer=DoccanoWriter,
    suffix=".jsonl",
    cannot_carry=("span notes", "span attributes", "relations (doccano-rel holds them)",
                  "more than one annotator's layer"),
    detect=is_doccano, read=from_doccano,
)
