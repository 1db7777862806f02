"""Label Studio: one JSON array of tasks, ready for its import (``Labels`` + ``Text`` config).

::

    [{"data": {"text": ..., "id": ..., "title": ..., "source": ...},
      "annotations": [{"result": [{"id", "from_name": "label", "to_name": "text", "type": "labels",
                                   "origin": "manual",
                                   "value": {"start", "end", "text", "labels": [label]}}],
                       "was_cancelled": false, "ground_truth": false,
                       "created_username": "alice"}]}]

Matches this labelling config (:func:`labeling_config` writes it for the project's labels)::

    <View><Labels name="label" toName="text">...</Labels><Text name="text" value="$text"/></View>

- One annotation per annotator (layer); the annotator's name is in ``created_username``. Label
  Studio's ``completed_by`` must be the id or email of a user of the receiving Label Studio (an
  unknown one fails the import), so it is written only when ``WriterOptions.extra["completed_by"]``
  maps annotator names to such ids or emails; without it Label Studio assigns the importing user.
  The ``gold`` layer is marked ``ground_truth``.
- A layer marked done without spans is an annotation with an empty result (a real negative).
- Overlapping spans are separate regions (Label Studio allows them). A span note goes in the
  region's ``meta.text``.
- Offsets are code points. Label Studio versions that count UTF-16 code units in the browser would
  shift a span that follows an emoji or other character outside the Basic Multilingual Plane:
  such spans are counted as a notice ("spans after characters outside the BMP ..."); the reader
  here (``readers.py``) checks ``value.text`` and accepts either kind of offset.
- A document with no layer (``--all``) is a task with no annotations.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import quoteattr

import orjson

from ..model import GOLD
from .base import Writer
from .dataset import ExportDoc
from .readers import from_label_studio, is_label_studio
from .registry import Format

RESERVED = ("text", "id")


def region_id(doc_id: str, layer: str, span: dict[str, Any]) -> str:
    """A stable region id (Label Studio uses 10-character ids)."""
    key = f"{doc_id}\x00{layer}\x00{span['start']}\x00{span['end']}\x00{span['label']}"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def labeling_config(labels: list[str] | tuple[str, ...]) -> str:
    """The Label Studio labelling config the exported tasks fit."""
    items = "\n".join(f"    <Label value={quoteattr(name)}/>" for name in labels)
    return (
        '<View>\n  <Labels name="label" toName="text">\n'
        f"{items}\n  </Labels>\n"
        '  <Text name="text" value="$text"/>\n</View>\n'
    )


def _astral_before(text: str, end: int) -> bool:
    return any(ord(c) > 0xFFFF for c in text[:end])


class LabelStudioWriter(Writer):
    def _begin(self) -> None:
        assert self.out is not None
        self.out.write(b"[")
        self._first = True
        self._completed_by: dict[str, Any] = dict(self.options.extra.get("completed_by") or {})

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        data: dict[str, Any] = {"text": doc.text, "id": doc.id}
        for key, value in doc.meta.items():
            if key not in RESERVED:
                data[key] = value
        annotations = []
        has_astral = any(ord(c) > 0xFFFF for c in doc.text)
        for name, spans in doc.layers().items():
            result = []
            for span in spans:
                region: dict[str, Any] = {
                    "id": region_id(doc.id, name, span),
                    "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
                    "value": {"start": span["start"], "end": span["end"], "text": span["text"],
                              "labels": [span["label"]]},
                }
                if span.get("note"):
                    region["meta"] = {"text": [span["note"]]}
                result.append(region)
            if has_astral:
                self.notice(
                    "spans after characters outside the BMP (offsets differ in UTF-16 code units)",
                    sum(1 for s in spans if _astral_before(doc.text, s["end"])),
                )
            annotation: dict[str, Any] = {
                "result": result, "was_cancelled": False, "ground_truth": name == GOLD,
                "created_username": name,
            }
            if name in self._completed_by:
                annotation["completed_by"] = self._completed_by[name]
            annotations.append(annotation)
            self.count_spans(spans)
            self.count_layer(name)
        task = {"data": data, "annotations": annotations}
        self.out.write(b"\n" if self._first else b",\n")
        self._first = False
        self.out.write(orjson.dumps(task))

    def _finish(self) -> None:
        assert self.out is not None
        self.out.write(b"]\n" if self._first else b"\n]\n")


FORMAT = Format(
    name="label-studio", summary="a JSON array of Label Studio tasks, one annotation per annotator",
    writer=LabelStudioWriter, suffix=".json", every_layer=True,
    detect=is_label_studio, read=from_label_studio,
)
