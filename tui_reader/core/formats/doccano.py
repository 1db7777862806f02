"""doccano sequence-labelling JSONL (its "JSONL" import and export)::

    {"id": "...", "text": "...", "label": [[start, end, "label"], ...], "title": "...", ...}

Offsets are code points, end exclusive; the document's metadata (title, source, ...) is spread
into the record, where doccano keeps unknown keys as metadata (a key named ``text``, ``label`` or
``id`` is left out). Overlapping and nested spans are written as they are: doccano shows them in
a project created with "Allow overlapping spans". One set of spans per document; span notes have
no place here (counted as a notice, "span notes not kept").
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import Writer
from .dataset import ExportDoc
from .readers import from_doccano, is_doccano
from .registry import Format

RESERVED = ("id", "text", "label")


class DoccanoWriter(Writer):
    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        spans = self.layer_spans(doc)
        record: dict[str, Any] = {
            "id": doc.id,
            "text": doc.text,
            "label": [[s["start"], s["end"], s["label"]] for s in spans],
        }
        for key, value in doc.meta.items():
            if key not in RESERVED:
                record[key] = value
        self.notice("span notes not kept", sum(1 for s in spans if s.get("note")))
        self.out.write(orjson.dumps(record))
        self.out.write(b"\n")
        self.count_spans(spans)
        self.count_layer(doc.annotators[0] if doc.annotators else None)


FORMAT = Format(
    name="doccano", summary="doccano sequence-labelling JSONL", writer=DoccanoWriter,
    suffix=".jsonl", cannot_carry=("span notes", "more than one annotator's layer"),
    detect=is_doccano, read=from_doccano,
)
