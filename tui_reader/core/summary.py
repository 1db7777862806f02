"""The summary index: what the article list and the figures need of each document, kept beside
the document files so that opening a project or counting its labels reads no document file.

``index/<stripe>.json`` holds, for each document of one lock stripe, its summary (each
annotator's stored status, spans and relations by label, article labels, active time) and the
identity of the document file it was made from (inode, mtime, size). The store rewrites a
document's summary in the same locked write as the document (``Project._change_file``); a reader
stats the document file and trusts the summary only when the file is the one it was made from,
else it reads the document and mends the summary. So the index is derived data: it may be
missing, stale or damaged (a crash between the two writes) and nothing is wrong, only slower. It
is written without fsync for that reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import journal
from .errors import CorruptFileError
from .journal import RowChange
from .model import CONTROL, DocProgress, status_for
from .storage import FlockLock, read_json_file, write_json_atomic

Row = dict[str, Any]


@dataclass(frozen=True)
class AnnotatorSummary:
    status: str | None = None  # as stored (see model.status_for for what it shows)
    labels: dict[str, int] = field(default_factory=dict)  # spans by label
    relations: dict[str, int] = field(default_factory=dict)  # relations by label
    article_labels: dict[str, list[str]] = field(default_factory=dict)  # group -> values
    seconds: float = 0.0
    updated: str = ""  # when the status was set (ISO time), if known

    @property
    def spans(self) -> int:
        return sum(self.labels.values())


@dataclass(frozen=True)
class DocSummary:
    id: str
    spans: int  # everyone's
    annotators: dict[str, AnnotatorSummary]
    file: list[int] | None = None  # the identity of the document file it was made from

    def status_of(self, annotator: str) -> str:
        summary = self.annotators.get(annotator)
        return status_for(summary.status if summary else None, bool(summary and summary.spans))

    def done_by(self) -> tuple[str, ...]:
        return tuple(sorted(n for n, a in self.annotators.items() if a.status == "done"))

    @property
    def is_control(self) -> bool:
        """A control document (see ``DocumentRecord.is_control``)."""
        control = self.annotators.get(CONTROL)
        return control is not None and control.status == "done"

    def touched_by(self) -> list[str]:
        """Who labelled something here (spans or the article) or set a status."""
        return sorted(n for n, a in self.annotators.items()
                      if a.labels or a.status is not None or a.article_labels)

    def progress(self, annotator: str) -> DocProgress:
        """As ``DocumentRecord.progress``: a control's known answers are nobody's work."""
        own = self.annotators.get(annotator)
        control = self.annotators.get(CONTROL)
        return DocProgress(status=self.status_of(annotator),  # type: ignore[arg-type]
                           spans=own.spans if own else 0,
                           all_spans=self.spans - (control.spans if control else 0),
                           done_by=tuple(n for n in self.done_by() if n != CONTROL))


def summarize(tables: dict[str, Any]) -> Row:
    """The summary row of a document's tables (as stored: see store.py)."""
    people: dict[str, Row] = {}

    def person(name: str) -> Row:
        return people.setdefault(name, {})

    spans = tables.get("spans", {}).values()
    for row in spans:
        labels = person(row["annotator"]).setdefault("labels", {})
        labels[row["label"]] = labels.get(row["label"], 0) + 1
    for row in tables.get("relations", {}).values():
        relations = person(row["annotator"]).setdefault("relations", {})
        relations[row["label"]] = relations.get(row["label"], 0) + 1
    for row in tables.get("status", {}).values():
        person(row["annotator"])["status"] = row["status"]
        if row.get("updated"):
            person(row["annotator"])["updated"] = row["updated"]
    for row in tables.get("labels", {}).values():
        person(row["annotator"]).setdefault("article_labels", {})[row["group"]] = list(row["values"])
    for row in tables.get("time", {}).values():
        person(row["annotator"])["seconds"] = row["seconds"]
    return {"spans": len(spans), "annotators": people}


def updated(row: Row, changes: Iterable[RowChange]) -> Row:
    """``row`` (a summary as :func:`summarize` makes it) after ``changes``: what a write costs
    stays proportional to what it changed, not to the spans the document holds."""
    people: dict[str, Row] = dict(row["annotators"])
    copied: set[str] = set()
    spans = row["spans"]

    def person(name: str) -> Row:
        if name not in copied:
            copied.add(name)
            people[name] = {k: dict(v) if isinstance(v, dict) else v
                            for k, v in people.get(name, {}).items()}
        return people[name]

    def count(name: str, kind: str, label: str, step: int) -> None:
        counts = person(name).setdefault(kind, {})
        counts[label] = counts.get(label, 0) + step
        if counts[label] <= 0:
            del counts[label]

    for change in changes:
        for step, r in ((-1, change.before), (1, change.after)):
            if r is None:
                continue
            table = change.table
            if table == "spans":
                count(r["annotator"], "labels", r["label"], step)
                spans += step
            elif table == "relations":
                count(r["annotator"], "relations", r["label"], step)
            elif table == "status":
                mine = person(r["annotator"])
                mine.pop("status", None)
                mine.pop("updated", None)
                if step > 0:
                    mine["status"] = r["status"]
                    if r.get("updated"):
                        mine["updated"] = r["updated"]
            elif table == "labels":
                groups = person(r["annotator"]).setdefault("article_labels", {})
                groups.pop(r["group"], None)
                if step > 0:
                    groups[r["group"]] = list(r["values"])
            elif table == "time":
                mine = person(r["annotator"])
                mine.pop("seconds", None)
                if step > 0:
                    mine["seconds"] = r["seconds"]
    for name in copied:  # as summarize leaves them: no empty parts, no one with nothing
        mine = {k: v for k, v in people[name].items() if v or not isinstance(v, dict)}
        if mine:
            people[name] = mine
        else:
            del people[name]
    return {"spans": spans, "annotators": people}


def _summary(doc_id: str, row: Row) -> DocSummary:
    return DocSummary(doc_id, row["spans"], {
        name: AnnotatorSummary(a.get("status"), a.get("labels", {}), a.get("relations", {}),
                               a.get("article_labels", {}), a.get("seconds", 0.0),
                               a.get("updated", ""))
        for name, a in row["annotators"].items()
    }, row.get("file"))


def _identity(path: Path | str) -> list[int] | None:
    """An index file's identity (a document's: ``journal.identity``)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_mtime_ns, st.st_size]


class SummaryIndex:
    def __init__(self, folder: Path, path_of: Callable[[str], Path | str], stripe_of: Callable[[str], int],
                 lock_of: Callable[[int], FlockLock]) -> None:
        self.folder = folder
        self._path_of = path_of
        self._stripe_of = stripe_of
        self._lock_of = lock_of
        self._cache: dict[int, tuple[list[int] | None, dict[str, Row]]] = {}
        self._pending: dict[int, dict[str, Row]] = {}  # deferred rows by stripe (bulk writes)

    def _file(self, stripe: int) -> str:
        return f"{self.folder}/{stripe:03d}.json"

    def _rows(self, stripe: int) -> dict[str, Row]:
        """The rows of one index file, from memory while the file is unchanged."""
        path = self._file(stripe)
        identity = _identity(path)
        cached = self._cache.get(stripe)
        if cached is not None and cached[0] == identity:
            return cached[1]
        try:
            data = read_json_file(path) if identity is not None else None
        except CorruptFileError:
            data = None  # derived data: the next write of its stripe replaces it
        rows = data.get("documents", {}) if isinstance(data, dict) else {}
        self._cache[stripe] = (identity, rows)
        return rows

    def put(self, doc_id: str, tables: dict[str, Any], changes: list[RowChange] | None = None,
            before: list[int] | None = None, later: bool = False) -> None:
        """Record the summary of a document just written (the caller holds its stripe's lock):
        its summary before, updated by ``changes``, when that summary was made from the files
        as they were before the write (``before``: their identity then); else made anew.
        ``later``: keep it until :meth:`flush` (an import writes thousands of documents, and
        each index file once is enough)."""
        stripe = self._stripe_of(doc_id)
        row = None
        if changes is not None and before is not None:
            old = self._pending.get(stripe, {}).get(doc_id) or self._rows(stripe).get(doc_id)
            if old is not None and old.get("file") == before:
                row = updated(old, changes)
        if row is None:
            row = summarize(tables)
        row["file"] = journal.identity(self._path_of(doc_id))
        if later:
            self._pending.setdefault(stripe, {})[doc_id] = row
            return
        self._write(stripe, {doc_id: row})

    def _write(self, stripe: int, new_rows: dict[str, Row]) -> None:
        rows = dict(self._rows(stripe))
        rows.update(new_rows)
        self.folder.mkdir(exist_ok=True)
        write_json_atomic(self._file(stripe), {"documents": rows}, fsync=False)
        self._cache.pop(stripe, None)

    def flush(self) -> None:
        """Write the rows :meth:`put` kept for later, each index file once, under its lock."""
        pending, self._pending = self._pending, {}
        for stripe, rows in sorted(pending.items()):
            with self._lock_of(stripe):
                self._write(stripe, rows)

    def get(self, doc_id: str, read_tables: Callable[[], dict[str, Any]],
            seen: dict[int, dict[str, Row]] | None = None) -> DocSummary:
        """``seen``: as in :meth:`row` (a pass over every document stats each index file once)."""
        stripe = self._stripe_of(doc_id)
        row = self.row(doc_id, seen)
        if row is not None and row.get("file") == journal.identity(self._path_of(doc_id)):
            return _summary(doc_id, row)
        # Missing or stale (a project made before the index, or a crash between the two
        # writes): read the document, and mend the index under the stripe's lock.
        with self._lock_of(stripe):
            tables = read_tables()
            self.put(doc_id, tables)
        return _summary(doc_id, {**summarize(tables),
                                 "file": journal.identity(self._path_of(doc_id))})

    def row(self, doc_id: str, seen: dict[int, dict[str, Row]] | None = None) -> Row | None:
        """One document's row as stored (a stat of its index file; see :meth:`rows`).
        ``seen``: index files already looked at in this pass, not looked at again (routing
        goes through thousands of rows, each file holding dozens of them)."""
        stripe = self._stripe_of(doc_id)
        if seen is None:
            return self._rows(stripe).get(doc_id)
        rows = seen.get(stripe)
        if rows is None:
            rows = seen[stripe] = self._rows(stripe)
        return rows.get(doc_id)

    def rows(self, stripes: range) -> dict[str, Row]:
        """Every summary row in the index files, by document id, as stored (a stat per index
        file; a file is parsed again only when it changed). Not checked against the document
        files: for decisions that may be a moment out of date, such as routing."""
        out: dict[str, Row] = {}
        for stripe in stripes:
            out.update(self._rows(stripe))
        return out

    def identities(self, stripes: range) -> dict[int, list[int] | None]:
        """The identity (inode, mtime, size) of each index file: a stat each."""
        return {stripe: _identity(self._file(stripe)) for stripe in stripes}

    def summaries_changed(self, seen: dict[int, list[int] | None], stripes: range,
                          ) -> list[DocSummary]:
        """The summaries in the index files that changed since ``seen`` (stripe -> identity,
        updated in place): a stat per index file, a read only of the changed ones."""
        out: list[DocSummary] = []
        for stripe, identity in self.identities(stripes).items():
            if seen.get(stripe) != identity:
                seen[stripe] = identity
                out += [_summary(doc_id, row) for doc_id, row in self._rows(stripe).items()]
        return out
