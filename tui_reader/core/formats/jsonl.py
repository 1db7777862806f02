"""Native JSONL: one document per line with its spans; the shape ``import`` reads back exactly.

``{"id", "text", "text_sha256", "spans": [{"start", "end", "label", "text", "annotator"}],
"meta": {...}, "done_by": [...]}``. Offsets are code points into ``text`` (LF newlines), end
exclusive, and ``text[start:end] == span["text"]`` always.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from ..store import Project
from .base import Writer
from .dataset import ExportDoc, ExportFilter, export_docs
from .registry import Format, ReadContext

__all__ = ["ExportFilter", "NativeWriter", "export_records", "native_record", "write_jsonl"]


def native_record(doc: ExportDoc) -> dict[str, Any]:
    """The native JSONL record of one exported document (the one place it is built)."""
    record: dict[str, Any] = {"id": doc.id, "text": doc.text, "text_sha256": doc.sha256,
                              "spans": doc.spans, "meta": doc.meta, "done_by": doc.done_by}
    if doc.relations:
        record["relations"] = doc.relations
    if doc.labels:
        record["labels"] = doc.labels
    return record


def export_records(project: Project, flt: ExportFilter | None = None) -> Iterator[dict[str, Any]]:
    """Yield one native record per exported document, in corpus order, reading one document at a
    time."""
    return (native_record(doc) for doc in export_docs(project, flt))


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """Write records one per line; returns how many were written."""
    count = 0
    for record in records:
        out.write(orjson.dumps(record))
        out.write(b"\n")
        count += 1
    return count


class NativeWriter(Writer):
    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        self.out.write(orjson.dumps(native_record(doc)))
        self.out.write(b"\n")
        self.count_spans(doc.spans)
        for name in doc.annotators:
            self.count_layer(name)


def is_native(record: dict[str, Any]) -> bool:
    return isinstance(record.get("text"), str)


def from_native(record: dict[str, Any], context: ReadContext | None = None) -> dict[str, Any]:
    return record


FORMAT = Format(
    name="jsonl", summary="native JSONL: text, spans with their annotators, notes and sources",
    writer=NativeWriter, suffix=".jsonl", every_layer=True, to_stdout=True,
    detect=is_native, read=from_native,
)
