"""Project figures for `tui-reader stats` and the app's stats screen, from the summary index
(a stat per document; no document file is read while the index is current), and each annotator's
score against the control documents (which reads the controls' files only)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .controls import control_scores
from .model import CONTROL, STATUSES
from .store import Project


def project_stats(project: Project) -> dict[str, Any]:
    """Documents by status per annotator, spans by label and annotator, active time, and
    ``controls``: annotator -> span F1 against the control documents' known answers
    (``ControlScore.to_json``: documents, exact_f1, overlap_f1, labels -> label -> known, given,
    exact_f1, overlap_f1). The known answers themselves are nobody's work: they are not counted
    as an annotator's spans or statuses."""
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
    for summary in project.summaries():  # the summary index: no document file is read
        documents += 1
        if summary.is_control:
            controls.append(summary.id)
        for name, own in summary.annotators.items():
            if name == CONTROL:
                continue
            for label, n in own.labels.items():
                labels[label] += n
                spans_by[name][label] += n
            for label, n in own.relations.items():
                relations[label] += n
                relations_by[name][label] += n
            for group, values in own.article_labels.items():
                article.setdefault(group, Counter()).update(values)
                article_docs[name][group] += 1
            if own.seconds:
                seconds[name] += own.seconds
                timed_docs[name] += 1
        for name in summary.touched_by():
            if name == CONTROL:
                continue
            touched.add(name)
            statuses[name][summary.status_of(name)] += 1
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
