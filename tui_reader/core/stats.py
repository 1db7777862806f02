"""Project figures for `tui-reader stats` and the app's stats screen, from the summary index
(a stat per document; no document file is read while the index is current), and each annotator's
score against the control documents (which reads the controls' files only)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from .controls import control_scores
from .model import CONTROL, STATUSES, status_for
from .store import Project


def project_stats(project: Project,
                  rows: Iterable[tuple[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Documents by status per annotator, spans by label and annotator, active time, and
    ``controls``: annotator -> span F1 against the control documents' known answers
    (``ControlScore.to_json``: documents, exact_f1, overlap_f1, labels -> label -> known, given,
    exact_f1, overlap_f1). The known answers themselves are nobody's work: they are not counted
    as an annotator's spans or statuses. ``rows``: ``project.current_summary_rows()`` when the
    caller already has them (the app's figures screen walks them once for this and agreement)."""
    labels: Counter[str] = Counter(dict.fromkeys(project.config.label_names, 0))
    spans_by: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: dict[str, float] = defaultdict(float)
    timed_docs: Counter[str] = Counter()
    relations: Counter[str] = Counter(dict.fromkeys((r.name for r in project.config.schema.relations), 0))
    relations_by: dict[str, Counter[str]] = defaultdict(Counter)
    article: dict[str, Counter[str]] = {
        g.group: Counter(dict.fromkeys(g.values, 0)) for g in project.config.schema.article_labels}
    article_docs: dict[str, Counter[str]] = defaultdict(Counter)  # annotator -> group -> documents
    touched: set[str] = set()  # annotators with a span or a status somewhere
    documents = 0
    controls: list[str] = []
    # The summary index's rows as they are (summary.py), not typed summaries: at 100,000
    # documents building those was a quarter of the time.
    for doc_id, row in project.current_summary_rows() if rows is None else rows:
        documents += 1
        people = row["annotators"]
        control = people.get(CONTROL)
        if control is not None and control.get("status") == "done":
            controls.append(doc_id)
        for name, own in people.items():
            if name == CONTROL:
                continue
            own_labels = own.get("labels")
            if own_labels:
                _add(own_labels, labels, spans_by[name])
            own_relations = own.get("relations")
            if own_relations:
                _add(own_relations, relations, relations_by[name])
            groups = own.get("article_labels")
            if groups:
                for group, values in groups.items():
                    article.setdefault(group, Counter()).update(values)
                    article_docs[name][group] += 1
            if own.get("seconds"):
                seconds[name] += own["seconds"]
                timed_docs[name] += 1
            stored = own.get("status")
            if own_labels or groups or stored is not None:  # DocSummary.touched_by
                touched.add(name)
                statuses[name][status_for(stored, bool(own_labels))] += 1
    annotators = sorted(touched | set(seconds))
    status_rows = {}
    for name in annotators:
        row = {s: statuses[name][s] for s in STATUSES}
        row["new"] = documents - sum(n for s, n in row.items() if s != "new")  # untouched ones too
        status_rows[name] = row
    return {
        "documents": documents,
        "spans": sum(labels.values()),
        "annotators": annotators,
        "labels": dict(labels),
        "status": status_rows,
        "spans_by_annotator": {name: dict(spans_by[name]) for name in annotators},
        "time": {name: {"seconds": round(seconds[name], 1), "documents": timed_docs[name]}
                 for name in annotators},
        "relations": dict(relations),
        "relations_by_annotator": {name: dict(relations_by[name]) for name in annotators
                                   if relations_by[name]},
        "article_labels": {group: dict(counts) for group, counts in article.items()},
        "article_labels_by_annotator": {name: dict(article_docs[name]) for name in annotators
                                        if article_docs[name]},
        "control_documents": len(controls),
        "controls": {name: score.to_json()
                     for name, score in control_scores(project, controls).items()},
    }


def _add(counts: dict[str, int], *totals: Counter[str]) -> None:
    """Add one annotator's counts by label to each of ``totals`` (a loop: Counter.update costs
    more on dicts this small)."""
    for label, n in counts.items():
        for total in totals:
            total[label] += n
