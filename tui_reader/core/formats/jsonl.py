"""Native JSONL: one document per line with its spans; the shape ``import`` reads back exactly.

``{"id", "text", "text_sha256", "spans": [{"start", "end", "label", "text", "annotator"}],
"meta": {...}, "done_by": [...]}``. Offsets are code points into ``text`` (LF newlines), end
exclusive, and ``text[start:end] == span["text"]`` always.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from ..model import STATUSES
from ..store import Project


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

    def check(self, project: Project) -> None:
        unknown = [label for label in self.labels if label not in project.config.label_names]
        if unknown:
            raise ValueError(
                f"unknown label {unknown[0]!r} (this project's labels: "
                f"{', '.join(project.config.label_names)})"
            )
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r} (one of: {', '.join(STATUSES)})")


def export_records(project: Project, flt: ExportFilter) -> Iterator[dict[str, Any]]:
    """Yield one record per exported document, in corpus order, reading one document at a time."""
    flt.check(project)
    for info, shard in project.iter_documents():
        statuses = [
            r for r in shard.get("status", {}).values()
            if flt.annotator is None or r["annotator"] == flt.annotator
        ]
        if flt.status is not None and flt.status not in document_statuses(shard, flt.annotator):
            continue
        spans = [
            r for r in shard.get("spans", {}).values()
            if (flt.annotator is None or r["annotator"] == flt.annotator)
            and (not flt.labels or r["label"] in flt.labels)
        ]
        done_by = sorted(r["annotator"] for r in statuses if r["status"] == "done")
        if not (flt.all_documents or spans or done_by):
            continue
        text_row = next(iter(shard.get("document", {}).values()), None)
        if text_row is None:
            continue
        spans.sort(key=lambda r: (r["start"], r["end"], r["label"], r["annotator"]))
        yield {
            "id": info.id,
            "text": text_row["text"],
            "text_sha256": text_row["sha256"],
            "spans": [span_record(r) for r in spans],
            "meta": {**info.meta, "title": info.title, "source": info.source},
            "done_by": done_by,
        }


def document_statuses(shard: dict[str, Any], annotator: str | None) -> set[str]:
    """The statuses the app shows for a document: one per annotator (or ``annotator`` only).

    As in ``Project.progress``: a status someone set, else "in progress" when they have spans, else
    "new"; a document nobody touched is "new".
    """
    explicit = {r["annotator"]: r["status"] for r in shard.get("status", {}).values()}
    labelled = {r["annotator"] for r in shard.get("spans", {}).values()}
    names = {annotator} if annotator is not None else explicit.keys() | labelled
    if not names:
        return {"new"}
    # A stored "new" (an undone "done") does not hide spans: as in Project.progress.
    return {(explicit.get(n) if explicit.get(n) not in (None, "new") else None)
            or ("in progress" if n in labelled else "new") for n in names}


def span_record(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("start", "end", "label", "text", "annotator")}
    for optional in ("note", "source"):
        if row.get(optional):
            out[optional] = row[optional]
    return out


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[bytes]) -> int:
    """Write records one per line; returns how many were written."""
    count = 0
    for record in records:
        out.write(orjson.dumps(record))
        out.write(b"\n")
        count += 1
    return count
