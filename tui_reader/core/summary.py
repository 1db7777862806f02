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
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
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


def progress_of(row: Row, annotator: str) -> DocProgress:
    """One annotator's progress on a document, from its summary row (as
    ``DocumentRecord.progress``: a control's known answers are nobody's work)."""
    people = row["annotators"]
    own = people.get(annotator)
    spans = sum(own["labels"].values()) if own and "labels" in own else 0
    control = people.get(CONTROL)
    all_spans = row["spans"] - (sum(control["labels"].values())
                                if control and "labels" in control else 0)
    done_by = [n for n, a in people.items() if a.get("status") == "done" and n != CONTROL]
    return DocProgress(status=status_for(own.get("status") if own else None, spans > 0),  # type: ignore[arg-type]
                       spans=spans, all_spans=all_spans,
                       done_by=tuple(sorted(done_by)) if done_by else ())


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


def summary_of(doc_id: str, row: Row) -> DocSummary:
    """The typed summary of one index row."""
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
    def __init__(self, folder: Path, place_of: Callable[[str], tuple[str, int]],
                 lock_of: Callable[[int], FlockLock]) -> None:
        self.folder = folder
        self._place_of = place_of  # a document's file and stripe
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
        path, stripe = self._place_of(doc_id)
        row = None
        if changes is not None and before is not None:
            old = self._pending.get(stripe, {}).get(doc_id) or self._rows(stripe).get(doc_id)
            if old is not None and old.get("file") == before:
                row = updated(old, changes)
        if row is None:
            row = summarize(tables)
        row["file"] = journal.identity(path)
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
        return summary_of(doc_id, self.current_row(doc_id, read_tables, seen))

    def current_row(self, doc_id: str, read_tables: Callable[[], dict[str, Any]],
                    seen: dict[int, dict[str, Row]] | None = None,
                    journals: Container[str] | None = None) -> Row:
        """One document's row, checked against its files (``journals``: as in
        ``journal.identity``); made anew from ``read_tables`` when it is missing or stale."""
        path, stripe = self._place_of(doc_id)
        row = self.row(doc_id, seen, stripe)
        if row is not None and row.get("file") == journal.identity(path, journals):
            return row
        # Missing or stale (a project made before the index, or a crash between the two
        # writes): read the document, and mend the index under the stripe's lock.
        try:
            with self._lock_of(stripe):
                tables = read_tables()
                self.put(doc_id, tables)
        except OSError:  # a project this account may only read, a full disk: derived data waits
            tables = read_tables()
        return {**summarize(tables), "file": journal.identity(path)}

    def current_rows(self, doc_ids: Iterable[str],
                     read_tables_of: Callable[[str], dict[str, Any]],
                     journals: Container[str] | None,
                     on_error: Callable[[str, CorruptFileError], None] | None = None,
                     ) -> Iterator[tuple[str, Row]]:
        """:meth:`current_row` of each document, as one loop: a pass over 100,000 documents is
        a stat each and little else (``journals``: as in ``journal.identity``; None: each
        document's journal is looked for). A document whose file is damaged raises
        CorruptFileError, or is left out and handed to ``on_error`` when given."""
        seen: dict[int, dict[str, Row]] = {}
        place_of, stat, suffix = self._place_of, os.stat, journal.JOURNAL_SUFFIX
        for doc_id in doc_ids:
            path, stripe = place_of(doc_id)
            rows = seen.get(stripe)
            if rows is None:
                rows = seen[stripe] = self._rows(stripe)
            row = rows.get(doc_id)
            file = row.get("file") if row is not None else None
            if (journals is not None and type(file) is list and len(file) == 4 and file[3] == 0
                    and path + suffix not in journals):  # the common case: no journal
                try:
                    st = stat(path)
                except FileNotFoundError:
                    st = None
                if (st is not None and file[0] == st.st_ino and file[1] == st.st_mtime_ns
                        and file[2] == st.st_size):
                    yield doc_id, row  # type: ignore[misc]  # row is set when file is
                    continue
            try:
                row = self.current_row(doc_id, partial(read_tables_of, doc_id), seen, journals)
            except CorruptFileError as err:
                if on_error is None:
                    raise
                on_error(doc_id, err)
                continue
            yield doc_id, row

    def row(self, doc_id: str, seen: dict[int, dict[str, Row]] | None = None,
            stripe: int | None = None) -> Row | None:
        """One document's row as stored (a stat of its index file; see :meth:`rows`).
        ``seen``: index files already looked at in this pass, not looked at again (routing
        goes through thousands of rows, each file holding dozens of them)."""
        if stripe is None:
            stripe = self._place_of(doc_id)[1]
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

    def rows_changed(self, seen: dict[int, list[int] | None], stripes: range,
                     ) -> list[tuple[str, Row]]:
        """The rows in the index files that changed since ``seen`` (stripe -> identity, updated
        in place): a stat per index file, a read only of the changed ones."""
        out: list[tuple[str, Row]] = []
        for stripe, identity in self.identities(stripes).items():
            if seen.get(stripe) != identity:
                seen[stripe] = identity
                out += self._rows(stripe).items()
        return out
