"""``Project``: the one API for documents, spans and statuses, used by the app, the CLI and scripts.

On disk a project is a folder::

    project.json                 marks the folder as a tui-reader project (format version)
    config.toml                  labels and settings (see config.py)
    catalog.json                 TinyDB: one row per document (id, title, source, length, sha256, order)
    docs/<ab>/<hash>.json        TinyDB, one file per document: its text, its spans, its statuses
    locks/                       flock files: one for the catalogue, 256 stripes for the documents
    index/<stripe>.json          the summary index (see summary.py): derived, may be rebuilt
    leases.json                  who holds which article open for annotation (see leases.py)
    controls.json                the control documents' ids (see controls.py)
    ranking/<annotator>.json     the learned model's uncertainty per article (see ranking.py)
    guidelines.md                the annotation guidelines, if any (the ``guidelines`` setting)

One file per document keeps every label write small (O(spans in that article), not O(project)),
and each file is replaced atomically under a lock, so a crash or a second annotator can never
tear or overwrite it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from . import journal
from .config import ProjectConfig, default_config_text, load_config
from .errors import CorruptFileError, InputError, NotFoundError, StoreError
from .leases import LeaseBook
from .model import (
    CONTROL,
    STATUSES,
    ArticleLabel,
    DocProgress,
    Document,
    DocumentInfo,
    DocumentRecord,
    Rejection,
    Relation,
    Span,
    StatusMark,
    StoredSuggestion,
)
from .schema import Schema
from .storage import FlockLock, SafeTinyDB, read_json_file, write_json_atomic
from .summary import DocSummary, SummaryIndex, progress_of
from .text import StyleRange

FORMAT_VERSION = 1
MARKER = "project.json"
DEFAULT_DB_DIRNAME = ".tui-reader"
_STRIPES = 256
_INDEX_SEEN = ("index files",)  # a key no document id can be: the index files' identities


_CATALOG_KEYS = frozenset({"id", "title", "source", "kind", "length", "sha256", "order"})
_SHARD_KEYS = {
    "document": frozenset({"id", "text", "sha256"}),
    "spans": frozenset({"id", "doc_id", "start", "end", "label", "annotator", "text", "created"}),
    "status": frozenset({"annotator", "status"}),
    "time": frozenset({"annotator", "seconds"}),
    "rejections": frozenset({"id", "start", "end", "label", "annotator", "source"}),
    "relations": frozenset({"id", "head", "child", "label", "annotator"}),
    "labels": frozenset({"annotator", "group", "values"}),
    "suggestions": frozenset({"id", "start", "end", "label", "annotator", "source"}),
}
MAX_GUIDELINES_BYTES = 1_000_000  # a guidelines file is a document for people, not a corpus


def _checked_tables(data: Any, path: Path | str, required: dict[str, frozenset[str]]) -> dict[str, Any]:
    """``data`` if it has the shape of these TinyDB tables; else an error naming the file."""
    if data is None:
        return {}
    problem = None
    if not isinstance(data, dict):
        problem = "not a TinyDB file"
    else:
        for table, keys in required.items():
            rows = data.get(table, {})
            try:  # at C speed (an export checks 100,000 rows): dict.keys refuses a non-dict row
                whole = all(map(keys.issubset, map(dict.keys, rows.values())))
            except (TypeError, AttributeError):
                whole = False
            if not whole:
                problem = f"its {table!r} table is damaged"
                break
    if problem:
        raise CorruptFileError(f"{path}: {problem}; it was left untouched")
    return data


def _check_shard(path: Path | str, tables: dict[str, Any]) -> None:
    _checked_tables(tables, path, _SHARD_KEYS)


def _row_key(table: str, row: dict[str, Any]) -> str:
    """A row's natural key in its table, by which the journal puts and deletes it."""
    if table in ("status", "time"):
        return row["annotator"]
    if table == "labels":
        return f"{row['annotator']}\x1f{row['group']}"
    if table == "document":
        return "1"
    if "id" in row:
        return row["id"]
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode()  # a table of a later version


def _span_order(span: Span) -> tuple[int, int, str, str]:
    return span.start, span.end, span.label, span.annotator


MAX_NOTE = 4096  # characters of a span note: a note is a remark, not a document


def check_note(note: str) -> str:
    if not isinstance(note, str):
        raise InputError("a note is text")
    if len(note) > MAX_NOTE:
        raise InputError(f"a note holds at most {MAX_NOTE:,} characters (this one has {len(note):,})")
    return note


def relation_problem(relation: Relation, spans: dict[str, dict[str, Any]], schema: Schema,
                     check_label: bool = True) -> str:
    """Why ``relation`` cannot stand among ``spans`` (rows by id), or "" when it can: both its
    spans there, both of its annotator, and a relation type that allows their labels."""
    head, child = spans.get(relation.head), spans.get(relation.child)
    if head is None or child is None:
        return "one of its spans is not there"
    if relation.head == relation.child:
        return "a span cannot be linked to itself"
    if head["annotator"] != relation.annotator or child["annotator"] != relation.annotator:
        return "both spans must be its annotator's"
    kind = schema.relation(relation.label)
    if kind is None:
        if not check_label:
            return ""  # a type taken out of config.toml: its relations stay, as spans of a label do
        known = ", ".join(r.name for r in schema.relations) or "none"
        return f"unknown relation {relation.label!r} (this project's: {known})"
    if not kind.fits(head["label"], child["label"]):
        return f"{relation.label} does not go from {head['label']} to {child['label']}"
    return ""


def _by(tables: dict[str, Any], table: str, key: str) -> dict[str, dict[str, Any]]:
    """The rows of ``table`` by the value of their ``key`` (a later row wins)."""
    return {row[key]: row for row in tables.get(table, {}).values()}


def _numbered(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows as a TinyDB table (its document ids, 1..n)."""
    return {str(i): row for i, row in enumerate(rows, 1)}


def check_annotator(name: object) -> str:
    """A span or status needs an annotator (any name: an import may carry the gold layer; a
    person's name is checked where it comes in, see ``model.check_annotator_name``)."""
    if not isinstance(name, str) or not name:
        raise InputError("a span needs an annotator name")
    return name


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _scattered(rows: list[dict[str, Any]], new: set[str]) -> list[dict[str, Any]]:
    """``rows`` (in corpus order) with those of ``new`` each moved to a place among the others
    fixed by a hash of its id, every row's ``order`` renumbered 0..n-1."""
    placed = [r for r in rows if r["id"] not in new]
    for row in sorted((r for r in rows if r["id"] in new), key=lambda r: _doc_hash(r["id"])):
        placed.insert(int(_doc_hash("place\x00" + row["id"]), 16) % (len(placed) + 1), row)
    for order, row in enumerate(placed):
        row["order"] = order
    return placed


def _doc_hash(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class NewDocument:
    """A document ready to add: canonical text already made (see text.canonical)."""

    id: str
    text: str
    sha256: str
    title: str
    source: str
    kind: str
    styles: list[StyleRange]
    meta: dict[str, Any]


def find_project_dir(db: str | os.PathLike[str] | None, corpus: str | os.PathLike[str] | None) -> Path:
    """Where a command's project lives.

    ``--db`` wins; a corpus folder given as ``--db`` means its ``.tui-reader/``. Without ``--db``: the
    ``.tui-reader/`` folder in the corpus folder (or beside a corpus file); with no corpus either,
    the nearest ``.tui-reader/`` in the current folder or its parents.
    """
    if db is not None:
        path = Path(db)
        if path.is_dir() and not (path / MARKER).exists() and (path / DEFAULT_DB_DIRNAME).is_dir():
            return path / DEFAULT_DB_DIRNAME
        return path
    if corpus is not None:
        base = Path(corpus)
        return (base if base.is_dir() else base.parent) / DEFAULT_DB_DIRNAME
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_DB_DIRNAME / MARKER).exists():
            return folder / DEFAULT_DB_DIRNAME
    raise StoreError(
        "no project here: pass --db PATH, or run in a folder whose .tui-reader/ holds one "
        "(`tui-reader import CORPUS` makes it)"
    )


@dataclass
class ImportResult:
    spans: int = 0
    relations: int = 0
    labels: int = 0
    statuses: int = 0
    problems: list[str] = field(default_factory=list)


class Project:
    """A tui-reader project folder. Every method that changes data returns once it is on disk."""

    def __init__(self, root: Path, config: ProjectConfig) -> None:
        self.root = root
        self.config = config
        self._catalog_db = SafeTinyDB(root / "catalog.json", lock=FlockLock(root / "locks" / "catalog.lock"))
        self._stripes: dict[int, FlockLock] = {}
        self._paths: dict[str, tuple[str, int]] = {}  # doc id -> (file, stripe)
        self._docs_folder = f"{root}/docs/"  # formatted once: a pass makes 100,000 paths
        self._catalog: list[DocumentInfo] = []
        self._by_id: dict[str, DocumentInfo] = {}
        self._catalog_stamp: tuple[int, int] | None = None
        self._index = SummaryIndex(root / "index", self._place, self._stripe_lock)
        self._written: dict[str, list[int] | None] = {}  # doc id -> its files after our last write
        self.bulk = False  # set by imports: skip per-file fsync, sync once at the end
        self.leases = LeaseBook(root / "leases.json", FlockLock(root / "locks" / "leases.lock"),
                                config.lease_minutes)
        self.reload_catalog()

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | os.PathLike[str], create: bool = False) -> Project:
        """Open the project folder at ``path`` (make it when ``create``); never touches foreign files."""
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} is a file, not a tui-reader project folder; it was left untouched")
        marker = root / MARKER
        if marker.exists():
            data = read_json_file(marker)
            if not isinstance(data, dict) or data.get("app") != "tui-reader":
                raise CorruptFileError(f"{marker}: not a tui-reader project marker; it was left untouched")
            if not isinstance(data.get("format"), int):
                raise CorruptFileError(f"{marker}: no whole-number format version; it was left untouched")
            if data["format"] > FORMAT_VERSION:
                raise StoreError(f"{root} was made by a newer tui-reader (format {data['format']})")
        elif not create:
            raise StoreError(f"no tui-reader project at {root} (run `tui-reader import CORPUS` first)")
        elif root.exists() and any(root.iterdir()):
            raise StoreError(
                f"{root} is a folder with other files and no {MARKER}; refusing to write into it"
            )
        else:
            (root / "locks").mkdir(parents=True, exist_ok=True)
            (root / "config.toml").write_text(default_config_text(), encoding="utf-8")
            write_json_atomic(marker, {"app": "tui-reader", "format": FORMAT_VERSION, "created": now_iso()})
        (root / "locks").mkdir(exist_ok=True)
        return cls(root, load_config(root / "config.toml"))

    # --------------------------------------------------------------- catalogue
    def reload_catalog(self) -> bool:
        """Re-read the document list if another process changed it; True when it changed."""
        path = self.root / "catalog.json"
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self._catalog_stamp and self._catalog_stamp is not None:
            return False
        # Parsed directly rather than through TinyDB's Table.all(): 10k rows open ~3x faster.
        rows = _checked_tables(read_json_file(path), path, {"documents": _CATALOG_KEYS})
        rows = rows.get("documents", {}).values()
        infos = [
            DocumentInfo(
                id=r["id"], title=r["title"], source=r["source"], kind=r["kind"], length=r["length"],
                sha256=r["sha256"], order=r["order"], meta=r.get("meta", {}),
            )
            for r in rows
        ]
        infos.sort(key=lambda d: d.order)
        self._catalog = infos
        self._by_id = {d.id: d for d in infos}
        self._catalog_stamp = stamp
        return True

    def documents(self) -> list[DocumentInfo]:
        """Every document, in corpus order."""
        return list(self._catalog)

    def info(self, doc_id: str) -> DocumentInfo:
        try:
            return self._by_id[doc_id]
        except KeyError:
            raise NotFoundError(f"no document {doc_id!r} in {self.root}") from None

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._by_id

    def document(self, doc_id: str) -> Document:
        info = self.info(doc_id)
        row = next(iter(self._read_shard(doc_id).get("document", {}).values()), None)
        if row is None:
            raise CorruptFileError(f"{self.doc_path(doc_id)}: the text of {doc_id!r} is missing")
        styles = [StyleRange.from_json(s) for s in row.get("styles", [])]
        return Document(info=info, text=row["text"], styles=styles)

    def add_documents(self, docs: Iterable[NewDocument], scatter: bool = False) -> list[DocumentInfo]:
        """Add or replace documents (text, title, meta); one catalogue write for the whole batch.

        New documents go to the end of corpus order; with ``scatter`` (control documents) each
        takes a place among the others fixed by a hash of its id, so that its place in the list
        does not set it apart."""
        new_rows: list[dict[str, Any]] = []
        for doc in docs:
            self._write_text(doc)
            new_rows.append(
                {
                    "id": doc.id, "title": doc.title, "source": doc.source, "kind": doc.kind,
                    "length": len(doc.text), "sha256": doc.sha256, "meta": doc.meta,
                }
            )
        if not new_rows:
            return []
        storage = self._catalog_db.storage
        with storage.lock:
            data = storage.read() or {}
            existing = {r["id"]: r for r in data.get("documents", {}).values()}
            old_ids = set(existing)
            next_order = max((r["order"] for r in existing.values()), default=-1) + 1
            for row in new_rows:
                old = existing.get(row["id"])
                if old is not None:
                    row["order"] = old["order"]
                else:
                    row["order"] = next_order
                    next_order += 1
                existing[row["id"]] = row
            # One atomic write for the whole batch (a crash leaves the old or the new list).
            rows = sorted(existing.values(), key=lambda r: r["order"])
            if scatter:
                rows = _scattered(rows, {r["id"] for r in new_rows if r["id"] not in old_ids})
            data["documents"] = {str(i): r for i, r in enumerate(rows, 1)}
            storage.write(data)
        self.reload_catalog()
        return [self._by_id[r["id"]] for r in new_rows]

    def _write_text(self, doc: NewDocument) -> None:
        record = {
            "id": doc.id, "text": doc.text, "sha256": doc.sha256,
            "styles": [s.to_json() for s in doc.styles],
        }

        def change(tables: dict[str, Any]) -> None:
            tables["document"] = {"1": record}

        self._change_file(doc.id, change, known=False)

    # ------------------------------------------------------------------ shards
    def doc_path(self, doc_id: str) -> Path:
        return Path(self._doc_file(doc_id))

    def _doc_file(self, doc_id: str) -> str:
        return self._place(doc_id)[0]

    def _stripe(self, doc_id: str) -> int:
        return self._place(doc_id)[1]

    def _place(self, doc_id: str) -> tuple[str, int]:
        """A document's file and stripe, from one hash per process (a pass over 100,000
        documents asks for both of each several times)."""
        place = self._paths.get(doc_id)
        if place is None:
            h = _doc_hash(doc_id)
            place = self._paths[doc_id] = (self._docs_folder + h[:2] + "/" + h + ".json",
                                           int(h[:6], 16) % _STRIPES)
        return place

    def _lock_for(self, doc_id: str) -> FlockLock:
        return self._stripe_lock(self._stripe(doc_id))

    def _stripe_lock(self, stripe: int) -> FlockLock:
        lock = self._stripes.get(stripe)
        if lock is None:  # one lock object per stripe per process: flock is per open file
            lock = self._stripes[stripe] = FlockLock(self.root / "locks" / f"{stripe:03d}.lock")
        return lock

    def _read_shard(self, doc_id: str) -> dict[str, Any]:
        """The tables of one document (snapshot and journal: journal.py), read without a lock
        (files are always whole)."""
        path = self._doc_file(doc_id)
        return journal.read_tables(path, partial(_check_shard, path), _row_key) or {}

    def record(self, doc_id: str) -> DocumentRecord:
        """One document with every annotator's spans, statuses, rejections and time (one read,
        no lock: files are always whole)."""
        return self._record_from(self.info(doc_id), self._read_shard(doc_id))

    def records(self) -> Iterator[DocumentRecord]:
        """Every document's record in corpus order, read one at a time (for exports and figures)."""
        for info in self._catalog:
            yield self._record_from(info, self._read_shard(info.id))

    def _record_from(self, info: DocumentInfo, shard: dict[str, Any]) -> DocumentRecord:
        text_row = next(iter(shard.get("document", {}).values()), None)
        if text_row is None:
            raise CorruptFileError(f"{self.doc_path(info.id)}: the text of {info.id!r} is missing")
        spans = [Span.from_record(r) for r in shard.get("spans", {}).values()]
        spans.sort(key=_span_order)
        relation_rows = shard.get("relations", {}).values()
        place = {span.id: _span_order(span) for span in spans} if relation_rows else {}
        statuses = {
            r["annotator"]: StatusMark(r["annotator"], r["status"], r.get("updated", ""))
            for r in shard.get("status", {}).values()
        }
        return DocumentRecord(
            document=Document(info=info, text=text_row["text"],
                              styles=[StyleRange.from_json(s) for s in text_row.get("styles", [])]),
            sha256=text_row["sha256"],
            spans=tuple(spans),
            statuses=statuses,
            rejections=tuple(Rejection.from_record(r) for r in shard.get("rejections", {}).values()),
            seconds={r["annotator"]: r["seconds"] for r in shard.get("time", {}).values()},
            # In text order (the tables keep rows in the order they were last written).
            relations=tuple(sorted((Relation.from_record(r)
                                    for r in relation_rows),
                                   key=lambda r: (place.get(r.head, ()), place.get(r.child, ()),
                                                  r.label, r.annotator))),
            article_labels=tuple(
                ArticleLabel(r["annotator"], r["group"], tuple(r["values"]), r.get("updated", ""))
                for r in shard.get("labels", {}).values()),
            suggestions=tuple(sorted((StoredSuggestion.from_record(r)
                                      for r in shard.get("suggestions", {}).values()),
                                     key=lambda s: (s.start, s.end, s.label, s.annotator))),
        )

    # ------------------------------------------------------------------- spans
    def spans(self, doc_id: str, annotator: str | None = None) -> list[Span]:
        """Spans of a document (one annotator's, or everyone's), ordered by start, then end."""
        rows = self._read_shard(doc_id).get("spans", {}).values()
        spans = [Span.from_record(r) for r in rows if annotator is None or r["annotator"] == annotator]
        spans.sort(key=_span_order)
        return spans

    def add_span(
        self, doc_id: str, start: int, end: int, label: str, annotator: str,
        *, note: str = "", source: str = "", text: str | None = None,
    ) -> Span:
        """Add a span and return it once it is on disk. Offsets are checked, never adjusted."""
        span = self.new_span(doc_id, start, end, label, annotator, note=note, source=source,
                             text=text)
        self.replace_spans(doc_id, (), (span,))
        return span

    def new_span(
        self, doc_id: str, start: int, end: int, label: str, annotator: str,
        *, note: str = "", source: str = "", text: str | None = None,
    ) -> Span:
        """A checked span with a new id, not yet saved (see :meth:`replace_spans`)."""
        if text is None:
            text = self.document(doc_id).text
        self._check_span(doc_id, start, end, label, annotator, len(text))
        check_note(note)
        stamp = now_iso()
        return Span(
            id=uuid.uuid4().hex, doc_id=doc_id, start=start, end=end, label=label,
            annotator=annotator, text=text[start:end], created=stamp, updated=stamp,
            note=note, source=source,
        )

    def replace_spans(self, doc_id: str, remove: Iterable[Span], add: Iterable[Span], *,
                      remove_relations: Iterable[Relation] = (),
                      add_relations: Iterable[Relation] = (), changing: bool = False) -> None:
        """In one atomic write: delete the spans ``remove`` (by id; gone ones are ignored), put
        ``add`` in exactly as they are (a span whose id is already there is replaced), and the
        same for relations. A relation left without one of its spans, or whose spans' labels it
        no longer fits, is deleted with them. Doing it twice changes nothing more, so a save that
        failed can simply be tried again. Every change of spans and relations, undo and redo
        included, goes through here. ``changing``: the spans in ``remove`` are being changed (a
        new label, note or attribute), not restored: when one is gone (deleted from another
        window), NotFoundError, and nothing is written."""
        remove, add = list(remove), list(add)
        remove_relations, add_relations = list(remove_relations), list(add_relations)

        def change(tables: dict[str, Any]) -> None:
            if changing:
                there = {row["id"] for row in tables.get("spans", {}).values()}
                if any(span.id not in there for span in remove):
                    raise NotFoundError("that span is no longer there (deleted in another window?)")
            self._edit_tables(doc_id, tables, remove, add, remove_relations, add_relations)

        self._change_file(doc_id, change)

    def _edit_tables(self, doc_id: str, tables: dict[str, Any], remove: list[Span], add: list[Span],
                     remove_relations: list[Relation], add_relations: list[Relation]) -> None:
        # Rows by id, as the journal keeps them (journal.read_for_change): a copy and a few
        # changes, whatever the number of spans.
        spans = dict(tables.get("spans", {}))
        for span in remove:
            spans.pop(span.id, None)
        for span in add:
            spans[span.id] = span.to_record()
        drop_relations = {r.id for r in remove_relations} | {r.id for r in add_relations}
        relations = [row for row in tables.get("relations", {}).values()
                     if row["id"] not in drop_relations]
        for relation in add_relations:
            problem = relation_problem(relation, spans, self.config.schema)
            if problem:
                raise InputError(f"relation {relation.label!r} refused: {problem}")
            relations.append(relation.to_record())
        relations = [row for row in relations
                     if not relation_problem(Relation.from_record(row), spans, self.config.schema,
                                             check_label=False)]
        tables["spans"] = spans
        if relations or "relations" in tables:
            tables["relations"] = {row["id"]: row for row in relations}

    def add_relation(self, doc_id: str, head: str, child: str, label: str, annotator: str,
                     ) -> Relation:
        """Link span ``head`` to span ``child`` (ids; both of ``annotator``) and return the
        relation once it is on disk. Refused when the project's relation types do not allow it."""
        relation = Relation(id=uuid.uuid4().hex, head=head, child=child, label=label,
                            annotator=annotator, created=now_iso())
        self.replace_spans(doc_id, (), (), add_relations=(relation,))
        return relation

    def remove_relation(self, doc_id: str, relation_id: str) -> None:
        relation = next((r for r in self.record(doc_id).relations if r.id == relation_id), None)
        if relation is not None:
            self.replace_spans(doc_id, (), (), remove_relations=(relation,))

    def set_attribute(self, doc_id: str, span_id: str, name: str,
                      value: str | bool | None) -> Span:
        """Set (or with None remove) an attribute of a span; returns the span as saved."""
        return self.update_span(doc_id, span_id, attributes={name: value})

    def set_article_labels(self, doc_id: str, annotator: str, group: str,
                           values: Iterable[str]) -> tuple[str, ...]:
        """Set one annotator's values in one group of article labels (none: unset); returns the
        values before."""
        chosen = tuple(values)
        kind = self.config.schema.article_group(group)
        if kind is None:
            known = ", ".join(g.group for g in self.config.schema.article_labels) or "none"
            raise InputError(f"unknown article label group {group!r} (this project's: {known})")
        unknown = [v for v in chosen if v not in kind.values]
        if unknown:
            raise InputError(f"{group} takes {', '.join(kind.values)}, not {unknown[0]!r}")
        if len(chosen) != len(set(chosen)) or (len(chosen) > 1 and not kind.multiple):
            raise InputError(f"{group} takes one value at a time")
        check_annotator(annotator)
        previous: tuple[str, ...] = ()

        def change(tables: dict[str, Any]) -> None:
            nonlocal previous
            rows = []
            for row in tables.get("labels", {}).values():
                if (row["annotator"], row["group"]) == (annotator, group):
                    previous = tuple(row["values"])
                else:
                    rows.append(row)
            if chosen:
                # Kept in the group's order, so that equal choices compare equal.
                ordered = [v for v in kind.values if v in chosen]
                rows.append({"annotator": annotator, "group": group, "values": ordered,
                             "updated": now_iso()})
            tables["labels"] = _numbered(rows)

        self._change_file(doc_id, change)
        return previous

    def import_spans(self, doc_id: str, items: list[dict[str, Any]]) -> tuple[int, list[str]]:
        """Add many spans to one document in one write, skipping exact duplicates (see
        :meth:`import_annotations`). Returns (spans added, one message per refused span)."""
        result = self.import_annotations(doc_id, items)
        return result.spans, result.problems

    def import_annotations(self, doc_id: str, spans: list[dict[str, Any]],
                           relations: list[dict[str, Any]] = (),  # type: ignore[assignment]
                           labels: list[tuple[str, str, list[str]]] = (),  # type: ignore[assignment]
                           statuses: list[tuple[str, str]] = (),  # type: ignore[assignment]
                           ) -> ImportResult:
        """Add spans, relations and article labels to one document in one write.

        ``spans``: dicts with start, end, label, annotator and optionally id (kept when free, so
        that re-exports keep referring to it), ref (what relations call it; the id by default),
        note, source, attributes and ``n``
        (its number in the source, for messages); a span equal to one already there (start, end,
        label, annotator) is not added again, and stands for it. ``relations``: dicts with head and
        child (refs of those spans), label, annotator. ``labels``: (annotator, group, values).
        ``statuses``: (annotator, "done" or "skipped"); done is never undone, and skipped never
        replaces done. What cannot be taken is refused one by one, with a message; the rest is
        kept."""
        text = self.document(doc_id).text
        schema = self.config.schema
        result = ImportResult()
        stamp = now_iso()

        def change(tables: dict[str, Any]) -> bool:
            rows = {row["id"]: row for row in tables.get("spans", {}).values()}
            existing = {(r["start"], r["end"], r["label"], r["annotator"]): r["id"] for r in rows.values()}
            given: dict[str, str] = {}  # a span's id in the source -> its id in the project
            for item in spans:
                start, end, label = item["start"], item["end"], item["label"]
                annotator = item["annotator"]
                n = item.get("n", "?")
                try:
                    self._check_span(doc_id, start, end, label, annotator, len(text))
                    check_note(item.get("note", ""))
                except InputError as err:
                    result.problems.append(f"span {n} refused: {err}")
                    continue
                source_id = item.get("id")
                ref = item.get("ref", source_id)
                key = (start, end, label, annotator)
                if key in existing:
                    if isinstance(ref, str):
                        given[ref] = existing[key]
                    continue
                span_id = source_id if isinstance(source_id, str) and source_id and \
                    source_id not in rows else uuid.uuid4().hex
                attributes: dict[str, str | bool] = {}
                for name, value in (item.get("attributes") or {}).items():
                    kind = schema.attribute(name)
                    try:
                        if kind is None or label not in kind.labels:
                            raise InputError(f"no attribute {name!r} for a {label} span")
                        if kind.kind == "yes/no" and value in ("yes", "no"):  # as other tools write it
                            value = value == "yes"
                        if kind.kind == "choice" and isinstance(value, str) and value not in kind.values:
                            # brat writes a value's spaces as _ ("news_report")
                            value = next((v for v in kind.values if v.replace(" ", "_") == value), value)
                        attributes[name] = kind.check(value)
                    except InputError as err:
                        result.problems.append(f"span {n}: attribute refused: {err}")
                span = Span(id=span_id, doc_id=doc_id, start=start, end=end, label=label,
                            annotator=annotator, text=text[start:end], created=stamp, updated=stamp,
                            note=item.get("note", ""), source=item.get("source", ""),
                            attributes=attributes)
                rows[span_id] = span.to_record()
                existing[key] = span_id
                if isinstance(ref, str):
                    given[ref] = span_id
                result.spans += 1
            tables["spans"] = _numbered(list(rows.values()))
            have = list(tables.get("relations", {}).values())
            seen = {(r["head"], r["child"], r["label"], r["annotator"]) for r in have}
            for n, item in enumerate(relations, 1):
                relation = Relation(id=uuid.uuid4().hex, head=given.get(str(item.get("head")), ""),
                                    child=given.get(str(item.get("child")), ""),
                                    label=str(item.get("label")), annotator=str(item.get("annotator")),
                                    created=stamp)
                problem = relation_problem(relation, rows, schema)
                if problem:
                    result.problems.append(f"relation {n} refused: {problem}")
                    continue
                ends = (relation.head, relation.child, relation.label, relation.annotator)
                if ends not in seen:
                    seen.add(ends)
                    have.append(relation.to_record())
                    result.relations += 1
            if have:
                tables["relations"] = _numbered(have)
            chosen = {(r["annotator"], r["group"]): r for r in tables.get("labels", {}).values()}
            for annotator, group, values in labels:
                kind = schema.article_group(group)
                if kind is None:
                    result.problems.append(f"article label group {group!r} refused: not in this "
                                           "project's config.toml")
                    continue
                unknown = [v for v in values if v not in kind.values]
                if unknown or (len(values) > 1 and not kind.multiple):
                    result.problems.append(f"article label {group}={values!r} refused: {group} takes "
                                           + ("any of " if kind.multiple else "one of ")
                                           + ", ".join(kind.values))
                    continue
                chosen[(annotator, group)] = {"annotator": annotator, "group": group,
                                              "values": [v for v in kind.values if v in values],
                                              "updated": stamp}
                result.labels += 1
            if chosen:
                tables["labels"] = _numbered(list(chosen.values()))
            marks = _by(tables, "status", "annotator")
            for annotator, status in statuses:
                now = marks.get(annotator, {}).get("status")
                if now == "done" or (status == "skipped" and now == "skipped"):
                    continue
                marks[annotator] = {"annotator": annotator, "status": status, "updated": stamp}
                result.statuses += 1
            if result.statuses:
                tables["status"] = _numbered(list(marks.values()))
            return bool(result.spans or result.relations or result.labels or result.statuses)

        self._change_file(doc_id, change)
        return result

    def restore_span(self, span: Span) -> Span:
        """Put back a span exactly as it was (undo of a delete)."""
        self.replace_spans(span.doc_id, (), (span,))
        return span

    def remove_span(self, doc_id: str, span_id: str) -> Span | None:
        """Delete a span and its relations; returns what was deleted (None if it was already gone)."""
        removed: Span | None = None

        def change(tables: dict[str, Any]) -> bool:
            nonlocal removed
            row = next((r for r in tables.get("spans", {}).values() if r["id"] == span_id), None)
            if row is None:
                return False
            removed = Span.from_record(row)
            self._edit_tables(doc_id, tables, [removed], [], [], [])
            return True

        self._change_file(doc_id, change)
        return removed

    def update_span(self, doc_id: str, span_id: str, *, label: str | None = None,
                    note: str | None = None,
                    attributes: dict[str, str | bool | None] | None = None) -> Span:
        """Change a span's label, note or attributes (None removes one); returns the span as saved.
        A new label drops the attributes that do not apply to it and the relations it no longer
        fits."""
        if label is not None and label not in self.config.label_names:
            raise InputError(self._unknown_label(label))
        if note is not None:
            check_note(note)
        saved: Span | None = None

        def change(tables: dict[str, Any]) -> None:
            nonlocal saved
            row = next((r for r in tables.get("spans", {}).values() if r["id"] == span_id), None)
            if row is None:
                raise NotFoundError(f"no span {span_id} in document {doc_id!r}")
            before = Span.from_record(row)
            after = self.changed_span(before, label=label, note=note, attributes=attributes)
            self._edit_tables(doc_id, tables, [before], [after], [], [])
            saved = after

        self._change_file(doc_id, change)
        assert saved is not None
        return saved

    def changed_span(self, span: Span, *, label: str | None = None, note: str | None = None,
                     attributes: dict[str, str | bool | None] | None = None) -> Span:
        """``span`` with a new label, note or attributes, checked, not saved."""
        schema = self.config.schema
        new_label = span.label if label is None else label
        values = dict(span.attributes)
        for name, value in (attributes or {}).items():
            kind = schema.attribute(name)
            if kind is None or new_label not in kind.labels:
                raise InputError(f"no attribute {name!r} for a {new_label} span (attributes: "
                                 + (", ".join(a.name for a in schema.attributes_of(new_label)) or "none")
                                 + ")")
            if value is None:
                values.pop(name, None)
            else:
                values[name] = kind.check(value)
        # Attributes the new label does not have go with the old one.
        values = {name: value for name, value in values.items()
                  if (kind := schema.attribute(name)) is None or new_label in kind.labels}
        return Span(id=span.id, doc_id=span.doc_id, start=span.start, end=span.end, label=new_label,
                    annotator=span.annotator, text=span.text, created=span.created,
                    updated=now_iso(), note=span.note if note is None else note, source=span.source,
                    attributes=values)

    def _change_file(self, doc_id: str, change: Callable[[dict[str, Any]], bool | None],
                     known: bool = True) -> None:
        """One locked read-modify-write of a document's file: ``change`` edits its tables
        (replacing a table or a row, never editing one in place; False when it changed nothing)
        and what differs is saved as one journal line (journal.py). Every write of a document
        goes through here, and updates the document's summary in the index with it."""
        if known:
            self.info(doc_id)
        path = self._doc_file(doc_id)
        check = partial(_check_shard, path)
        with self._lock_for(doc_id):
            tables = journal.read_for_change(path, check, _row_key)
            before = journal.identity(path)
            if change(tables) is not False:
                changes = journal.write_change(path, tables, check, _row_key, fsync=not self.bulk)
                if changes:
                    self._index.put(doc_id, tables, changes, before, later=self.bulk)
                    self._written[doc_id] = journal.identity(path)

    def changed_elsewhere(self, doc_id: str) -> bool:
        """Whether the document's files changed since this Project last wrote them (another
        process, or another Project, wrote it); True for a document it never wrote."""
        written = self._written.get(doc_id)
        return written is None or written != journal.identity(self._doc_file(doc_id))

    def _check_span(self, doc_id: str, start: int, end: int, label: str, annotator: str,
                    length: int) -> None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise InputError(f"span offsets must be whole numbers, got {start!r}-{end!r}")
        if not 0 <= start < end <= length:
            raise InputError(
                f"span {start}-{end} is outside the text of {doc_id!r} ({length} characters) "
                "or empty"
            )
        if label not in self.config.label_names:
            raise InputError(self._unknown_label(label))
        check_annotator(annotator)

    def _unknown_label(self, label: str) -> str:
        return f"unknown label {label!r} (this project's labels: {', '.join(self.config.label_names)})"

    # ----------------------------------------------------------------- status
    def status(self, doc_id: str, annotator: str) -> str:
        """One annotator's status of a document (see ``model.status_for``)."""
        return self.progress(doc_id, annotator).status

    def set_status(self, doc_id: str, annotator: str, status: str) -> str:
        """Set one annotator's status of a document; returns the status stored before ("new"
        when none was)."""
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r} (one of: {', '.join(STATUSES)})")
        check_annotator(annotator)
        previous = "new"

        def change(tables: dict[str, Any]) -> None:
            nonlocal previous
            rows = _by(tables, "status", "annotator")
            if annotator in rows:
                previous = rows[annotator]["status"]
            rows[annotator] = {"annotator": annotator, "status": status, "updated": now_iso()}
            tables["status"] = _numbered(list(rows.values()))

        self._change_file(doc_id, change)
        return previous

    def reject(self, doc_id: str, start: int, end: int, label: str, annotator: str,
               source: str, by: str, target: str = "") -> Rejection:
        """Record that ``annotator`` (a person, or the gold layer) turned down a suggested span
        (a rule's, or in review another annotator's), or with ``target`` a relation from it or an
        attribute of it, so that it is not suggested again."""
        rejection = Rejection(id=uuid.uuid4().hex, start=start, end=end, label=label,
                              annotator=annotator, source=source, by=by, created=now_iso(),
                              target=target)
        self.restore_rejection(doc_id, rejection)
        return rejection

    def restore_rejection(self, doc_id: str, rejection: Rejection) -> None:
        """Put back a rejection exactly as it was (redo); there once, however often it is done."""

        def change(tables: dict[str, Any]) -> None:
            rows = _by(tables, "rejections", "id")
            rows[rejection.id] = rejection.to_record()
            tables["rejections"] = _numbered(list(rows.values()))

        self._change_file(doc_id, change)

    def unreject(self, doc_id: str, rejection_id: str) -> None:
        def change(tables: dict[str, Any]) -> bool:
            rows = _by(tables, "rejections", "id")
            if rows.pop(rejection_id, None) is None:
                return False
            tables["rejections"] = _numbered(list(rows.values()))
            return True

        self._change_file(doc_id, change)

    def add_time(self, doc_id: str, annotator: str, seconds: float) -> None:
        """Add active reading time (the app leaves out idle gaps) to one annotator's total."""
        if seconds <= 0:
            return

        def change(tables: dict[str, Any]) -> None:
            rows = _by(tables, "time", "annotator")
            total = rows.get(annotator, {}).get("seconds", 0.0) + seconds
            rows[annotator] = {"annotator": annotator, "seconds": round(total, 1)}
            tables["time"] = _numbered(list(rows.values()))

        self._change_file(doc_id, change)

    # ------------------------------------------------- occurrences, suggestions
    def add_occurrences(self, doc_id: str, places: Iterable[tuple[int, int]], label: str,
                        annotator: str, *, as_suggestions: bool = False, source: str = "",
                        ) -> tuple[int, int]:
        """In one write, label each of ``places`` (start, end) with ``label`` for ``annotator``,
        as spans, or with ``as_suggestions`` as stored suggestions (see
        :meth:`stored_suggestions`), passing over the places that already hold that label: inside
        one of the annotator's spans of that label (or, for a suggestion, offered already or
        turned down). Returns (places labelled, places passed over)."""
        places = sorted(set(places))
        if label not in self.config.label_names:
            raise InputError(self._unknown_label(label))
        check_annotator(annotator)
        text = self.document(doc_id).text
        for start, end in places:
            self._check_span(doc_id, start, end, label, annotator, len(text))
        counts = [0, 0]
        stamp = now_iso()

        def change(tables: dict[str, Any]) -> bool:
            held = [(r["start"], r["end"]) for r in tables.get("spans", {}).values()
                    if r["annotator"] == annotator and r["label"] == label]
            offered = {(r["start"], r["end"]) for r in tables.get("suggestions", {}).values()
                       if r["annotator"] == annotator and r["label"] == label}
            offered |= {(r["start"], r["end"]) for r in tables.get("rejections", {}).values()
                        if r["annotator"] == annotator and r["label"] == label
                        and not r.get("target")}
            rows = list(tables.get("suggestions" if as_suggestions else "spans", {}).values())
            counts[:] = [0, 0]
            for start, end in places:
                if any(s <= start and end <= e for s, e in held) or (
                        as_suggestions and (start, end) in offered):
                    counts[1] += 1
                    continue
                counts[0] += 1
                if as_suggestions:
                    offered.add((start, end))
                    rows.append(StoredSuggestion(
                        id=uuid.uuid4().hex, start=start, end=end, label=label,
                        annotator=annotator, source=source, created=stamp).to_record())
                else:
                    held.append((start, end))
                    rows.append(Span(
                        id=uuid.uuid4().hex, doc_id=doc_id, start=start, end=end, label=label,
                        annotator=annotator, text=text[start:end], created=stamp, updated=stamp,
                        source=source).to_record())
            if not counts[0]:
                return False
            tables["suggestions" if as_suggestions else "spans"] = _numbered(rows)
            return True

        self._change_file(doc_id, change)
        return counts[0], counts[1]

    def stored_suggestions(self, doc_id: str, annotator: str) -> list[StoredSuggestion]:
        """The suggestions stored with a document for ``annotator`` (``label-all
        --as-suggestions``). ``AnnotationSession.stored_suggestions`` gives them for the open
        document as ``Suggestion``s, ready for ``set_suggestions``, without reading its file
        again."""
        return self.record(doc_id).suggestions_for(annotator)

    # ------------------------------------------------------------------ controls
    def is_control(self, doc_id: str) -> bool:
        """Whether a document is a control (its known answers, the ``control`` layer, marked
        done): from the summary index, without reading the document's file."""
        return self.summary(doc_id).is_control

    def remove_control(self, doc_id: str) -> int:
        """Delete a control's known answers (the ``control`` layer: spans, relations, article
        labels, status) in one write: the document stays, an ordinary article with the work
        annotators saved on it. Returns the number of known spans deleted."""
        if not self.is_control(doc_id):
            raise InputError(f"{doc_id!r} is not a control document")
        removed = 0

        def change(tables: dict[str, Any]) -> bool:
            nonlocal removed
            spans = [r for r in tables.get("spans", {}).values() if r["annotator"] != CONTROL]
            removed = len(tables.get("spans", {})) - len(spans)
            tables["spans"] = _numbered(spans)
            for table in ("relations", "labels", "status"):
                if table in tables:
                    tables[table] = _numbered([r for r in tables[table].values()
                                               if r["annotator"] != CONTROL])
            return True

        self._change_file(doc_id, change)
        self.note_controls(remove=[doc_id])
        return removed

    # ---------------------------------------------------------------- guidelines
    @property
    def guidelines_path(self) -> Path:
        """Where the guidelines are (the ``guidelines`` setting, relative to the project folder)."""
        return self.root / self.config.guidelines

    def guidelines(self) -> str | None:
        """The annotation guidelines (Markdown text, newlines made LF, a BOM dropped), or None
        when the project has none (no file, or an empty one). A file that is not UTF-8 text, a
        folder in its place or one over MAX_GUIDELINES_BYTES is an error naming the file."""
        path = self.guidelines_path
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_GUIDELINES_BYTES + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise StoreError(f"{path}: a folder where the guidelines (a Markdown file) should be"
                             ) from None
        if len(raw) > MAX_GUIDELINES_BYTES:
            raise StoreError(f"{path}: guidelines over {MAX_GUIDELINES_BYTES:,} bytes; "
                             "link long material from a shorter file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise StoreError(f"{path}: the guidelines are not UTF-8 text (byte {err.start}); "
                             "save the file as UTF-8") from None
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text if text.strip() else None

    # --------------------------------------------------------------- overview
    def progress_changes(self, annotator: str, seen: dict[Any, Any],
                         problems: list[str] | None = None) -> dict[str, DocProgress]:
        """Progress of the documents that changed since ``seen`` (the caller's memory of earlier
        scans, updated in place; empty the first time, when every document is "changed").

        Later scans stat the index files (at most 256) and read only those that changed, so a
        scan every few seconds costs the same with 100 documents or 100,000; the first one
        stats every document (and mends the index where it is stale). A document whose file is
        damaged is left out, and named in ``problems`` (when given); the others are read."""
        changed: dict[str, DocProgress] = {}
        stripes: dict[int, Any] = seen.setdefault(_INDEX_SEEN, {})

        def failed(doc_id: str, err: CorruptFileError) -> None:
            if problems is not None:
                problems.append(str(err))
            seen[doc_id] = None

        if not stripes:
            stripes.update(self._index.identities(range(_STRIPES)))  # before reading: no gap
            doc_ids = [info.id for info in self._catalog]
            journals: set[str] | None = journal.journal_files(f"{self.root}/docs")
        else:
            for doc_id, row in self._index.rows_changed(stripes, range(_STRIPES)):
                if doc_id in self._by_id and seen.get(doc_id) != row.get("file"):
                    seen[doc_id] = row.get("file")
                    changed[doc_id] = progress_of(row, annotator)
            # Documents imported since the last scan.
            doc_ids = [info.id for info in self._catalog if info.id not in seen]
            journals = None
        for doc_id, row in self._index.current_rows(doc_ids, self._read_shard, journals, failed):
            seen[doc_id] = row.get("file")
            changed[doc_id] = progress_of(row, annotator)
        return changed

    def progress(self, doc_id: str, annotator: str) -> DocProgress:
        """One annotator's status and span counts of one document, from the summary index (one
        stat of its file to check the summary is current; a read only when it is not)."""
        return progress_of(self._index.current_row(doc_id, partial(self._read_shard, doc_id)),
                           annotator)

    def summary(self, doc_id: str, seen: dict[int, Any] | None = None) -> DocSummary:
        """What the article list and the figures need of one document (see :class:`DocSummary`),
        without reading its file when the index's summary is current. ``seen``: a dict kept
        through a pass over many documents (each index file is then looked at once)."""
        return self._index.get(doc_id, partial(self._read_shard, doc_id), seen)

    def current_summary_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every document's summary row in corpus order, checked against its files: one read of
        each index file and of each folder of documents, a stat per document; a document's file
        is read only where its row is missing or stale. (The rows as :meth:`summary_rows`
        describes them, with ``relations``, ``article_labels`` and ``seconds`` too.)"""
        journals = journal.journal_files(f"{self.root}/docs")
        return self._index.current_rows([info.id for info in self._catalog], self._read_shard,
                                        journals)

    def summary_rows(self) -> dict[str, dict[str, Any]]:
        """Every document's summary row (see summary.py: ``spans``, ``annotators`` -> name ->
        ``status``, ``updated``, ``labels`` ...) read from the index files as they are, without a
        stat of each document: ~50 ms for 10k documents and 100k spans the first time, a stat
        of each index file (and a read of those that changed) after that. A document missing
        from the index is summarised (and the index mended) here."""
        rows = self._index.rows(range(_STRIPES))
        for info in self._catalog:
            if info.id not in rows:
                rows[info.id] = self._row_of(info.id)
        return rows

    def indexed_summary_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """Every document's summary row as the index holds it, in corpus order: a stat per
        index file, not checked against the documents (see :meth:`current_summary_rows`)."""
        catalog = self._catalog  # one list: a reload of the catalogue makes a new one
        rows = self._index.rows(range(_STRIPES))
        return [(info.id, rows.get(info.id) or self._row_of(info.id)) for info in catalog]

    def summary_row(self, doc_id: str, seen: dict[int, Any] | None = None) -> dict[str, Any]:
        """One document's row, as :meth:`summary_rows` gives it (a stat of one index file,
        none when ``seen``, a dict kept through a pass, already holds that file's rows)."""
        row = self._index.row(doc_id, seen)
        return row if row is not None else self._row_of(doc_id)

    def _row_of(self, doc_id: str) -> dict[str, Any]:
        return self._index.current_row(doc_id, partial(self._read_shard, doc_id))  # mends it

    # The control documents' ids, kept in controls.json so that routing knows whether there are
    # any without reading every summary (DocSummary.is_control is the truth; this is a hint).
    def control_ids(self) -> list[str]:
        """The ids ``control add`` stored and ``control remove`` has not taken out."""
        data = read_json_file(self.root / "controls.json")
        ids = data.get("controls") if isinstance(data, dict) else None
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []

    def note_controls(self, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Change the list :meth:`control_ids` reads (atomically, under the catalogue's lock)."""
        with self._catalog_db.storage.lock:
            ids = [i for i in self.control_ids() if i not in set(remove)]
            ids += [i for i in add if i not in ids]
            write_json_atomic(self.root / "controls.json", {"controls": ids})

    def sync(self) -> None:
        """Flush everything written in bulk mode to disk (and the summaries it kept back)."""
        self._index.flush()
        os.sync()

    def clean_temp_files(self, older_than: float = 60.0) -> int:
        """Delete temp files left by writers killed mid-write (a live writer needs milliseconds)."""
        removed = 0
        cutoff = time.time() - older_than
        for tmp in self.root.glob("**/.tmp-*.json"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed
