"""Turn files into documents (and spans) in a project: ``.txt``, ``.md``, ``.markdown``, ``.jsonl``.

One bad file or line never stops the rest: each problem becomes one line of the report, naming the
file (and the line, for JSONL). Re-importing an unchanged file changes nothing; a file whose text
changed after it was labelled is reported and left as it was, never re-attached to old offsets.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .store import NewDocument, Project
from .text import DecodeError, StyleRange, canonical, decode, normalize_newlines, text_sha256

TEXT_KINDS = {".txt": "txt", ".md": "md", ".markdown": "md"}
SUPPORTED = (*TEXT_KINDS, ".jsonl", ".json")
_BATCH = 500  # documents held in memory before they are written
TITLE_CHARS = 120


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    spans_added: int = 0
    relations_added: int = 0
    article_labels_added: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: int = 0  # files and JSONL lines not imported (each also has a line in ``problems``)

    def summary(self) -> str:
        parts = [
            f"{self.imported} imported", f"{self.updated} updated", f"{self.unchanged} unchanged",
            f"{self.skipped} skipped",
        ]
        if self.spans_added:
            parts.append(f"{self.spans_added} spans added")
        if self.relations_added:
            parts.append(f"{self.relations_added} relations added")
        if self.article_labels_added:
            parts.append(f"{self.article_labels_added} article labels added")
        parts.append(f"{len(self.problems)} problems")
        return ", ".join(parts)


@dataclass
class _Item:
    """One document parsed from a source, with any spans it carries."""

    doc: NewDocument
    where: str  # "file" or "file:line", for messages
    spans: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    labels: list[tuple[str, str, list[str]]] = field(default_factory=list)  # annotator, group, values
    done_by: list[str] = field(default_factory=list)
    skipped_by: list[str] = field(default_factory=list)
    repeat: bool = False  # the same document again, from an earlier batch: only spans are new


def collect_files(
    paths: list[str | os.PathLike[str]], problems: list[str]
) -> list[tuple[Path, str]]:
    """Files to import with their ids (path relative to the folder named, or the file name)."""
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = []
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in filenames:
                    if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED:
                        files.append(Path(dirpath) / name)
            rel = sorted((f.relative_to(path).as_posix(), f) for f in files)
            found.extend((f, r) for r, f in rel)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                found.append((path, path.name))
            else:
                problems.append(
                    f"{path}: skipped: unsupported file type (use .txt, .md, .markdown, .jsonl or .json)"
                )
        else:
            problems.append(f"{path}: skipped: no such file or folder")
    return found


def title_of(text: str, styles: list[StyleRange] | None = None) -> str:
    """A title for the article list: the first heading, else the first line that reads like one."""
    heading = next((s for s in styles or [] if s.kind == "heading"), None)
    lines = [line.strip().lstrip("•*-–· ").strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if heading is not None:
        first = text[heading.start : heading.end].strip()
    else:
        first = next((line for line in lines if len(line.split()) >= 5), lines[0] if lines else "")
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def import_paths(
    project: Project,
    paths: list[str | os.PathLike[str]],
    annotator: str,
    on_progress: Callable[[int], None] | None = None,
    fmt: str | None = None,
    ls_users: dict[str, Any] | None = None,
) -> ImportReport:
    """Import files and folders into ``project``; spans without an annotator get ``annotator``.

    JSON files are native, Prodigy, doccano or Label Studio records, recognised from their
    content unless ``fmt`` names the format. ``ls_users`` (``formats.label_studio.load_ls_users``)
    names Label Studio's users as annotators."""
    from .formats.registry import folder_format

    report = ImportReport()
    folders = [(Path(p), form) for p in paths if Path(p).is_dir()
               for form in [folder_format(Path(p))] if form is not None]
    files = collect_files([p for p in paths if Path(p) not in {f for f, _ in folders}],
                          report.problems)
    report.skipped = len(report.problems)

    def items() -> Iterator[_Item]:
        for folder, form in folders:  # a folder written in a dataset format (brat)
            assert form.read_folder is not None
            for where, record in form.read_folder(folder):
                report.problems.extend(f"{where}: {p}" for p in record.pop("problems", []))
                item = parse_record(record, where, annotator, report.problems, source=str(folder))
                if item is None:
                    report.skipped += 1
                else:
                    yield item
        for path, rel in files:
            yield from _read_file(path, rel, annotator, report, on_progress, fmt, ls_users)

    return _import_items(project, items(), report)


def import_records(project: Project, records: Iterable[tuple[str, Any]], annotator: str,
                   source: str = "") -> ImportReport:
    """Import native records (``(where, record)`` pairs, e.g. from ``formats.readers.read_path``)
    as ``import`` does."""
    report = ImportReport()

    def items() -> Iterator[_Item]:
        for where, record in records:
            item = parse_record(record, where, annotator, report.problems,
                                source=source or where.rsplit(":", 1)[0])
            if item is None:
                report.skipped += 1
            else:
                yield item

    return _import_items(project, items(), report)


def _import_items(project: Project, items: Iterator[_Item], report: ImportReport) -> ImportReport:
    """Store items in batches. An id seen again with the same text adds its spans to that
    document (Prodigy and Label Studio write one task per annotator); with another text it is
    refused."""
    seen: dict[str, tuple[str, str]] = {}  # id -> (where first seen, text sha256)
    batch: dict[str, _Item] = {}
    project.bulk = True
    try:
        for item in items:
            doc_id = item.doc.id
            if doc_id in seen:
                first_where, sha = seen[doc_id]
                if sha != item.doc.sha256:
                    report.skipped += 1
                    report.problems.append(
                        f"{item.where}: skipped: id {doc_id!r} already used by {first_where}"
                    )
                    continue
                if doc_id in batch:
                    batch[doc_id].spans.extend(item.spans)
                    batch[doc_id].relations.extend(item.relations)
                    batch[doc_id].labels.extend(item.labels)
                    batch[doc_id].done_by.extend(d for d in item.done_by
                                                 if d not in batch[doc_id].done_by)
                    batch[doc_id].skipped_by.extend(d for d in item.skipped_by
                                                    if d not in batch[doc_id].skipped_by)
                    continue
                item.repeat = True  # the document is stored already: only its spans are new
            else:
                seen[doc_id] = (item.where, item.doc.sha256)
            batch[doc_id] = item
            if len(batch) >= _BATCH:
                _store_batch(project, list(batch.values()), report)
                batch = {}
        _store_batch(project, list(batch.values()), report)
    finally:
        project.bulk = False
        project.sync()  # nothing is reported imported before it is on disk
    return report


def _read_file(
    path: Path, rel: str, annotator: str, report: ImportReport,
    on_progress: Callable[[int], None] | None, fmt: str | None = None,
    ls_users: dict[str, Any] | None = None,
) -> Iterator[_Item]:
    try:
        data = path.read_bytes()
    except OSError as err:
        report.skipped += 1
        report.problems.append(f"{path}: skipped: cannot read ({err.strerror})")
        return
    kind = TEXT_KINDS.get(path.suffix.lower())
    try:
        if kind is not None:
            text, styles = canonical(data, kind)
            doc = NewDocument(
                id=rel, text=text, sha256=text_sha256(text), title=title_of(text, styles),
                source=str(path), kind=kind, styles=styles, meta={},
            )
            yield _Item(doc=doc, where=str(path))
        else:
            yield from _read_records(path, decode(data), annotator, report, on_progress, fmt,
                                     ls_users)
            return
    except DecodeError as err:
        report.skipped += 1
        report.problems.append(f"{path}: skipped: {err}")
    if on_progress:
        on_progress(len(data))


def _read_records(
    path: Path, content: str, annotator: str, report: ImportReport,
    on_progress: Callable[[int], None] | None, fmt: str | None,
    ls_users: dict[str, Any] | None = None,
) -> Iterator[_Item]:
    from .formats.readers import records_of  # formats import this module

    problems_before = len(report.problems)
    try:
        for where, record in records_of(path, content, fmt, report.problems, on_progress,
                                        ls_users=ls_users):
            item = parse_record(record, where, annotator, report.problems, source=str(path))
            if item is None:
                report.skipped += 1
            else:
                yield item
    except InputError as err:
        report.problems.append(f"{err}" if str(path) in str(err) else f"{path}: skipped: {err}")
    # Lines that were not JSON at all were reported by records_of: count them as skipped.
    report.skipped += sum(1 for p in report.problems[problems_before:] if "not valid JSON" in p)


def parse_record(
    record: Any, where: str, annotator: str, problems: list[str], source: str = "",
) -> _Item | None:
    """One native or Prodigy JSONL record -> an item; problems are appended, never raised."""
    if not isinstance(record, dict):
        problems.append(f"{where}: skipped: a line must be a JSON object with a \"text\" field")
        return None
    raw_text = record.get("text")
    if not isinstance(raw_text, str):
        problems.append(f"{where}: skipped: no \"text\" string")
        return None
    if not raw_text.strip():
        problems.append(f"{where}: skipped: empty or whitespace-only text")
        return None
    text = normalize_newlines(raw_text)
    to_canonical = _offset_mapper(raw_text)
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    doc_id = next(
        (
            str(raw) for raw in (record.get("id"), meta.get("id"))
            if isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw)
        ),
        text_sha256(text)[:16],
    )
    title = meta.get("title") if isinstance(meta.get("title"), str) else title_of(text)
    record_annotator = record.get("annotator") or record.get("_annotator_id") or annotator
    doc = NewDocument(
        id=doc_id, text=text, sha256=text_sha256(text), title=title,
        source=str(meta.get("source") or meta.get("url") or source), kind="jsonl", styles=[],
        meta=meta,
    )
    item = _Item(doc=doc, where=where)
    if record.get("answer") in ("reject", "ignore"):
        return item  # Prodigy: the annotator rejected or skipped this task: its spans are no labels
    raw_spans = record.get("spans")
    if raw_spans is None:
        raw_spans = []
    if not isinstance(raw_spans, list):
        problems.append(f"{where}: \"spans\" is not a list; text imported without spans")
        raw_spans = []
    for n, span in enumerate(raw_spans, 1):
        if not isinstance(span, dict):
            problems.append(f"{where}: span {n} refused: not an object")
            continue
        start, end, label = span.get("start"), span.get("end"), span.get("label")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            problems.append(f"{where}: span {n} refused: start and end must be whole numbers")
            continue
        if not 0 <= start < end <= len(raw_text):
            problems.append(
                f"{where}: span {n} ({start}-{end}) refused: outside the text "
                f"({len(raw_text)} characters) or empty"
            )
            continue
        parsed = {
            "start": to_canonical(start), "end": to_canonical(end), "label": label,
            "annotator": str(span.get("annotator") or record_annotator),
            "note": span.get("note", "") if isinstance(span.get("note"), str) else "",
            "source": span.get("source", "") if isinstance(span.get("source"), str) else "",
            "n": n,
        }
        if isinstance(span.get("id"), (str, int)) and not isinstance(span.get("id"), bool):
            # Kept as the span's id when free; relations of this record find it by ``ref``
            # (records of one document from several files may reuse ids).
            parsed["id"] = str(span["id"])
            parsed["ref"] = f"{where}#{span['id']}"
        if isinstance(span.get("attributes"), dict):
            parsed["attributes"] = span["attributes"]
        item.spans.append(parsed)
    relations = record.get("relations", [])
    if not isinstance(relations, list):
        problems.append(f"{where}: \"relations\" is not a list; relations not imported")
        relations = []
    for relation in relations:
        if isinstance(relation, dict):
            item.relations.append({**relation, "head": f"{where}#{relation.get('head')}",
                                   "child": f"{where}#{relation.get('child')}",
                                   "annotator": str(relation.get("annotator") or record_annotator)})
    item.labels = _article_labels(record.get("labels"), str(record_annotator), where, problems)
    done_by = record.get("done_by", [])
    if isinstance(done_by, list):
        item.done_by = [str(a) for a in done_by if isinstance(a, str) and a]
    skipped_by = record.get("skipped_by", [])
    if isinstance(skipped_by, list):
        item.skipped_by = [a for a in skipped_by if isinstance(a, str) and a and a not in item.done_by]
    return item


def _article_labels(raw: Any, annotator: str, where: str, problems: list[str],
                    ) -> list[tuple[str, str, list[str]]]:
    """A record's ``labels``: ``{annotator: {group: value or [values]}}`` (native JSONL), or for
    one annotator ``{group: value or [values]}`` (the record's annotator)."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append(f"{where}: \"labels\" is not an object; article labels not imported")
        return []
    out: list[tuple[str, str, list[str]]] = []
    by_annotator = raw if all(isinstance(v, dict) for v in raw.values()) else {annotator: raw}
    for name, groups in by_annotator.items():
        for group, values in groups.items():
            chosen = [values] if isinstance(values, str) else values
            if not isinstance(chosen, list) or not all(isinstance(v, str) for v in chosen):
                problems.append(f"{where}: article label {group!r} refused: not a value or a list")
                continue
            out.append((str(name), str(group), chosen))
    return out


def _offset_mapper(raw: str) -> Callable[[int], int]:
    """Offsets into ``raw`` -> offsets into normalize_newlines(raw) (each CRLF loses its CR)."""
    if "\r\n" not in raw:
        return lambda offset: offset
    removed = []
    index = raw.find("\r\n")
    while index != -1:
        removed.append(index)
        index = raw.find("\r\n", index + 2)
    return lambda offset: offset - bisect.bisect_left(removed, offset)


def _store_batch(project: Project, batch: list[_Item], report: ImportReport) -> None:
    to_add: list[NewDocument] = []
    ready: list[_Item] = []
    for item in batch:
        doc = item.doc
        if item.repeat:
            ready.append(item)
            continue
        if doc.id in project:
            old = project.info(doc.id)
            if old.sha256 == doc.sha256:
                report.unchanged += 1
                ready.append(item)
                continue
            if project.record(doc.id).annotators():
                report.skipped += 1
                report.problems.append(
                    f"{item.where}: not re-imported: the text of {doc.id!r} changed after it was "
                    "labelled; the labelled version is kept (import it under a new id to label it "
                    "anew)"
                )
                continue
            report.updated += 1
        else:
            report.imported += 1
        to_add.append(doc)
        ready.append(item)
    project.add_documents(to_add)
    for item in ready:
        statuses = [(name, "done") for name in item.done_by] + [
            (name, "skipped") for name in item.skipped_by if name not in item.done_by]
        if item.spans or item.relations or item.labels or statuses:
            result = project.import_annotations(item.doc.id, item.spans, item.relations, item.labels,
                                                statuses)
            report.spans_added += result.spans
            report.relations_added += result.relations
            report.article_labels_added += result.labels
            report.problems.extend(f"{item.where}: {msg}" for msg in result.problems)
