"""Task routing: which article an annotator gets next (``AnnotationSession.first_unfinished``).

Rules, in order:

1. **Controls.** One control document (``tui-reader control add``) in every ``control_every``
   (K) articles an annotator finishes (done or skipped): the first after K − p finished articles,
   p in 0..K−1 fixed by a hash of the annotator's name (so a team does not meet its controls at
   the same count), then one whenever K articles were finished since the last control finished.
   Which control: the annotator's next unfinished one in an order fixed by a hash of their name
   and the control's id. ``overlap`` and leases do not apply to controls: each is meant for
   everyone. Controls not yet due are passed over (one the annotator started is theirs to finish).
2. **Their own work stays theirs:** an article the annotator started (in progress) is never
   passed over, whoever else holds or finished it.
3. **Overlap and leases:** an article the annotator has not started is passed over when the
   annotators who finished it (done) and those holding a live lease on it (see leases.py) number
   ``overlap`` or more.
4. **Order:** corpus order, starting after the article just finished and wrapping round; with
   ``order = "uncertain"`` and a ranking for the annotator (ranking.py), the articles the learned
   model is least sure about first (ties, and articles the ranking does not cover, in corpus
   order).

Everything comes from the summary index (the index files, no document file) and the leases file.
Without controls (``Project.control_ids``, one small file) routing reads the index file of each
article it passes over and stops at the first one that needs the annotator, as before; with
controls it needs every article's row (``Project.summary_rows``: ~50 ms the first time for 10k
articles and 100k spans, ~8 ms after, when only changed index files are read again;
bench/bench_routing.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .model import CONTROL, FINISHED, status_for
from .ranking import read_ranking
from .store import Project

Row = dict[str, Any]


def _mine(row: Row, annotator: str) -> tuple[str, str]:
    """(status shown, when it was set) of one annotator in a summary row."""
    own = row.get("annotators", {}).get(annotator)
    if own is None:
        return "new", ""
    return status_for(own.get("status"), any(own.get("labels", {}).values())), own.get("updated") or ""


def is_control_row(row: Row) -> bool:
    control = row.get("annotators", {}).get(CONTROL)
    return control is not None and control.get("status") == "done"


def _done_by_others(row: Row, annotator: str) -> set[str]:
    return {name for name, own in row.get("annotators", {}).items()
            if own.get("status") == "done" and name not in (annotator, CONTROL)}


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16], 16)


def control_phase(annotator: str, every: int) -> int:
    """p in 0..every−1: the annotator's first control comes after ``every − p`` articles."""
    return _hash("control phase", annotator) % every


def control_due(annotator: str, every: int, regular: list[str], controls: list[str]) -> bool:
    """Whether a control is due: ``regular`` and ``controls`` are the times (ISO, "" when
    unknown) at which the annotator finished ordinary articles and controls."""
    if not controls:
        return len(regular) >= every - control_phase(annotator, every)
    last = max(controls)
    return sum(1 for stamp in regular if stamp > last) >= every


class _RowsByDocument:
    """The summary rows routing asks for, read one index file at a time as it goes (when there
    are no controls it stops at the first article that needs the annotator)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.seen: dict[int, Any] = {}  # each index file is looked at once in a pass

    def get(self, doc_id: str, default: Row | None = None) -> Row:
        return self.project.summary_row(doc_id, self.seen)


def next_document(project: Project, annotator: str, after: str | None = None,
                  holders: dict[str, set[str]] | None = None) -> str | None:
    """The article ``annotator`` should open next (see the module docstring), never ``after``
    (the one just finished); None when nothing needs them. ``holders``: doc id -> annotators
    holding a live lease there (``LeaseBook.holders_of``)."""
    holders = holders or {}
    ids = [d.id for d in project.documents()]
    overlap = project.config.overlap
    rows: dict[str, Row] | _RowsByDocument
    if project.control_ids():
        # Whether a control is due depends on every article the annotator finished.
        rows = project.summary_rows()
        regular_finished: list[str] = []
        control_finished: list[str] = []
        open_controls: list[str] = []
        empty: Row = {}
        for doc_id in ids:
            people = rows.get(doc_id, empty).get("annotators", empty)
            control = people.get(CONTROL)
            is_control = control is not None and control.get("status") == "done"
            own = people.get(annotator)
            if own is None and not is_control:
                continue  # most articles, for most annotators: not theirs yet, not a control
            status, stamp = _mine(rows[doc_id], annotator) if own is not None else ("new", "")
            if is_control:
                if status in FINISHED:
                    control_finished.append(stamp)
                elif status == "new" and doc_id != after:
                    open_controls.append(doc_id)
            elif status in FINISHED:
                regular_finished.append(stamp)
        if open_controls and control_due(annotator, project.config.control_every,
                                         regular_finished, control_finished):
            return min(open_controls, key=lambda d: _hash("control order", annotator, d))
    else:
        rows = _RowsByDocument(project)
    for doc_id in _order(project, annotator, ids, after):
        if doc_id == after:
            continue
        row = rows.get(doc_id, {})
        status, _ = _mine(row, annotator)
        if status in FINISHED:
            continue
        if status == "new":
            if is_control_row(row):
                continue
            busy = _done_by_others(row, annotator) | holders.get(doc_id, set())
            busy.discard(annotator)
            if len(busy) >= overlap:
                continue
        return doc_id
    return None


def _order(project: Project, annotator: str, ids: list[str], after: str | None) -> list[str]:
    if project.config.order == "uncertain":
        ranking = read_ranking(project, annotator)
        if ranking is not None:
            place = {doc_id: i for i, doc_id in enumerate(ids)}
            ranked = sorted((d for d in ranking if d in place),
                            key=lambda d: (ranking[d], place[d]))
            seen = set(ranked)
            return ranked + [d for d in ids if d not in seen]
    if after in ids:
        i = ids.index(after) + 1
        return ids[i:] + ids[:i]
    return ids
