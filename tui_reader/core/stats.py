"""Project figures for `tui-reader stats` and the app's stats screen (one read per document)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .model import STATUSES
from .store import Project


def project_stats(project: Project) -> dict[str, Any]:
    """Documents by status per annotator, spans by label and annotator, active time."""
    labels: Counter[str] = Counter(dict.fromkeys(project.config.label_names, 0))
    spans_by: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: dict[str, float] = defaultdict(float)
    timed_docs: Counter[str] = Counter()
    touched: dict[str, set[str]] = defaultdict(set)  # annotator -> documents with spans or status
    documents = 0
    for info, shard in project.iter_documents():
        documents += 1
        for row in shard.get("spans", {}).values():
            labels[row["label"]] += 1
            spans_by[row["annotator"]][row["label"]] += 1
            touched[row["annotator"]].add(info.id)
        explicit = {r["annotator"]: r["status"] for r in shard.get("status", {}).values()}
        for name in explicit:
            touched[name].add(info.id)
        for name, docs in touched.items():
            if info.id in docs:
                statuses[name][explicit.get(name, "in progress")] += 1
        for row in shard.get("time", {}).values():
            seconds[row["annotator"]] += row["seconds"]
            timed_docs[row["annotator"]] += 1
    annotators = sorted(set(touched) | set(seconds))
    status_rows = {}
    for name in annotators:
        row = {s: statuses[name][s] for s in STATUSES}
        row["new"] = documents - sum(row.values())
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
    }
