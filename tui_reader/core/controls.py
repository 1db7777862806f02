"""Control documents: articles whose right answers the lead knows, slipped into the queue.

A control is an ordinary document of the project (same catalogue, same file layout, placed among
the others in corpus order) whose known spans are stored as the reserved annotator ``control``,
marked done by it: that mark is what makes it a control (``DocumentRecord.is_control``,
``DocSummary.is_control``), so there is no second list to keep in step. Nothing an annotator sees
sets it apart: its known spans are left out of the spans shown as other annotators' (``o``) and
out of the article list's counts, its title and source are the record's own.

- :func:`read_controls` checks a controls file (the native JSONL that ``import`` reads, each
  record with a ``spans`` list: the known answers) as a whole before anything is written: a line
  that is not JSON, a record without ``spans``, a span outside its text or with a label not in
  config.toml, a file without a single span, an id already used by an ordinary article: an
  InputError naming the file, the line and the problem, and nothing changed.
- :func:`add_controls` stores them; :func:`control_documents` lists them; ``Project.remove_control``
  takes one out (its known answers deleted, the article and the work saved on it kept).
- :func:`control_scores`: each annotator's span F1 against the known answers, exact and overlap
  (``agreement.exact_counts`` / ``overlap_counts``, summed over the controls the annotator marked
  done: micro-averaged), per label and over all labels. A control the annotator has not marked
  done (not started, in progress, skipped) does not count.

Routing (one control every ``control_every`` articles) is in ``routing.py``; exports leave
controls out unless asked (``ExportFilter.include_controls``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .agreement import exact_counts, f1_exact, f1_overlap, overlap_counts
from .errors import InputError
from .importer import _Item, parse_record
from .model import CONTROL, GOLD
from .store import Project
from .text import DecodeError, decode, display_safe


@dataclass(frozen=True)
class ControlInfo:
    id: str
    title: str
    spans: int  # known spans
    done_by: tuple[str, ...]  # annotators who marked it done (scored)


@dataclass(frozen=True)
class LabelScore:
    known: int  # spans in the known answers
    given: int  # spans the annotator gave
    exact_f1: float | None
    overlap_f1: float | None


@dataclass
class ControlScore:
    """One annotator against the known answers of the controls they marked done."""

    annotator: str
    documents: int
    exact_f1: float | None
    overlap_f1: float | None
    labels: dict[str, LabelScore] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "exact_f1": self.exact_f1,
                "overlap_f1": self.overlap_f1,
                "labels": {name: vars(score) for name, score in self.labels.items()}}


@dataclass
class ControlReport:
    added: int = 0
    unchanged: int = 0  # already controls with the same text (any new spans were added)
    spans: int = 0  # known spans added

    def summary(self) -> str:
        return (f"{self.added} control{'s' if self.added != 1 else ''} added, {self.unchanged} "
                f"already there, {self.spans} known span{'s' if self.spans != 1 else ''} added")


def read_controls(project: Project, path: str | os.PathLike[str]) -> list[_Item]:
    """Every record of a controls file, checked (see the module docstring); nothing is written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: a folder; give the controls' JSONL file")
    try:
        content = decode(path.read_bytes())
    except DecodeError as err:
        raise InputError(f"{path}: {err}") from None
    labels = project.config.label_names
    schema = project.config.schema
    items: list[_Item] = []
    seen: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(content.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise InputError(f"{where}: not valid JSON (a controls file is JSONL: one JSON "
                             "object a line)") from None
        if isinstance(record, dict) and not isinstance(record.get("spans"), list):
            raise InputError(f"{where}: no \"spans\" list: a control needs its known answers "
                             "(\"spans\": [] for an article where the right answer is none)")
        problems: list[str] = []
        item = parse_record(record, where, CONTROL, problems)
        if item is None or problems:
            raise InputError(problems[0] if problems else f"{where}: not a record")
        for k, span in enumerate(item.spans, 1):
            if span["label"] not in labels:
                raise InputError(f"{where}: span {k}: unknown label {span['label']!r} (this "
                                 f"project's labels: {', '.join(labels)})")
            span["annotator"] = CONTROL
            span.pop("source", None)
        for relation in item.relations:
            if schema.relation(str(relation.get("label"))) is None:
                raise InputError(f"{where}: unknown relation {relation.get('label')!r}")
            relation["annotator"] = CONTROL
        for _name, group, values in item.labels:
            kind = schema.article_group(group)
            if kind is None or any(v not in kind.values for v in values):
                raise InputError(f"{where}: article label {group}={values!r} is not one this "
                                 "project's config.toml allows")
        item.labels = [(CONTROL, group, values) for _name, group, values in item.labels]
        item.done_by, item.skipped_by = [CONTROL], []
        doc = item.doc
        if doc.id in seen and seen[doc.id][1] != doc.sha256:
            raise InputError(f"{where}: id {doc.id!r} already used by {seen[doc.id][0]} with "
                             "another text")
        seen.setdefault(doc.id, (where, doc.sha256))
        if doc.id in project:
            if not project.is_control(doc.id):
                raise InputError(f"{where}: {doc.id!r} is already an ordinary article of this "
                                 "project; give the control another id")
            if project.info(doc.id).sha256 != doc.sha256:
                raise InputError(f"{where}: control {doc.id!r} is already there with another "
                                 "text; `tui-reader control remove` it first")
        items.append(item)
    if not items:
        raise InputError(f"{path}: no records (a controls file is JSONL: one JSON object a line, "
                         "each with \"text\" and \"spans\")")
    if not any(item.spans for item in items):
        raise InputError(f"{path}: no spans in any record: a control needs its known answers")
    return items


def add_controls(project: Project, path: str | os.PathLike[str]) -> ControlReport:
    """Check the whole file (:func:`read_controls`), then store its records as controls: each
    document placed among the others, its spans, relations and article labels as the
    ``control`` layer, marked done by it. Adding the same file again changes nothing."""
    items = read_controls(project, path)
    report = ControlReport()
    merged: dict[str, _Item] = {}
    for item in items:
        if item.doc.id in merged:
            merged[item.doc.id].spans.extend(item.spans)
            merged[item.doc.id].relations.extend(item.relations)
            merged[item.doc.id].labels.extend(item.labels)
        else:
            merged[item.doc.id] = item
    new = [item.doc for item in merged.values() if item.doc.id not in project]
    report.added = len(new)
    report.unchanged = len(merged) - len(new)
    project.add_documents(new, scatter=True)
    for item in merged.values():
        result = project.import_annotations(item.doc.id, item.spans, item.relations, item.labels,
                                            [(CONTROL, "done")])
        report.spans += result.spans
    project.note_controls(add=list(merged))
    return report


def control_documents(project: Project) -> list[ControlInfo]:
    """The project's controls in corpus order (from the summary index: no document file read)."""
    out = []
    for info in project.documents():
        summary = project.summary(info.id)
        if summary.is_control:
            control = summary.annotators[CONTROL]
            out.append(ControlInfo(info.id, info.title, control.spans,
                                   tuple(n for n in summary.done_by() if n not in (CONTROL, GOLD))))
    return out


def control_scores(project: Project, control_ids: list[str] | None = None,
                   ) -> dict[str, ControlScore]:
    """annotator -> their span F1 against the known answers (see the module docstring), for
    every annotator who marked at least one control done; reads the controls' files only
    (``control_ids``, when the caller knows them already: no pass over the summaries)."""
    labels = list(project.config.label_names)
    exact: dict[str, dict[str | None, list[int]]] = {}
    overlap: dict[str, dict[str | None, list[int]]] = {}
    counts: dict[str, dict[str, list[int]]] = {}
    documents: dict[str, int] = {}
    if control_ids is None:
        control_ids = [d.id for d in project.documents() if project.summary(d.id).is_control]
    for doc_id in control_ids:
        record = project.record(doc_id)
        if not record.is_control:
            continue
        scored = [n for n in record.done_by() if n not in (CONTROL, GOLD)]
        known = [s.key for s in record.spans_of(CONTROL)]
        for name in scored:
            given = [s.key for s in record.spans_of(name)]
            documents[name] = documents.get(name, 0) + 1
            scopes = [None, *sorted({k[2] for k in known} | {k[2] for k in given} | set(labels))]
            for scope in scopes:
                a = [k for k in given if scope is None or k[2] == scope]
                b = [k for k in known if scope is None or k[2] == scope]
                e = exact.setdefault(name, {}).setdefault(scope, [0, 0, 0])
                o = overlap.setdefault(name, {}).setdefault(scope, [0, 0, 0, 0])
                e[:] = [x + y for x, y in zip(e, exact_counts(a, b))]
                o[:] = [x + y for x, y in zip(o, overlap_counts(a, b))]
                if scope is not None:
                    c = counts.setdefault(name, {}).setdefault(scope, [0, 0])
                    c[0] += len(b)
                    c[1] += len(a)
    out: dict[str, ControlScore] = {}
    for name in sorted(documents):
        score = ControlScore(name, documents[name], f1_exact(*exact[name][None]),
                             f1_overlap(*overlap[name][None]))
        for scope in sorted((s for s in exact[name] if s is not None),
                            key=lambda s: (s not in labels, labels.index(s) if s in labels else 0, s)):
            known_n, given_n = counts[name][scope]
            score.labels[scope] = LabelScore(known_n, given_n, f1_exact(*exact[name][scope]),
                                             f1_overlap(*overlap[name][scope]))
        out[name] = score
    return out


def describe_control(info: ControlInfo) -> str:
    """One line about a control for the command line (names made safe to print)."""
    return display_safe(f"{info.id}\t{info.spans} known spans\t"
                        f"done by {', '.join(info.done_by) or 'nobody yet'}\t{info.title}")
