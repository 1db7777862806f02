"""Uncertainty first: the learned model's doubt about each article, for ``order = "uncertain"``.

An article's *uncertainty* is the mean, over its sentences, of the margin between the model's two
most probable classes (``"none"`` included): 0 when the model cannot choose between two labels,
near 1 when it is sure. Routing (``routing.py``) then hands out the article with the smallest mean
margin first (ties in corpus order), so an annotator labels what teaches the model most.

Scoring 10k articles (about 250k sentences) takes the model tens of seconds, far too long for a
key press, so it is done away from the keys: :func:`rank_documents` scores the articles that
still need the annotator and writes the margins to ``ranking/<annotator>.json`` in the project
(atomically); routing only reads that file (one read, cached while the file is unchanged). The
app starts ``python -m tui_reader.core.ranking ROOT ANNOTATOR THRESHOLD`` (see
:func:`rank_in_background`) after each training of the learned model: it trains the same model
on the same labels (so the same weights: logistic regression's solver is deterministic), ranks,
writes and exits. Until a ranking file exists for the annotator, routing keeps corpus order.
Articles imported after the last ranking come after the ranked ones, in corpus order.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CorruptFileError
from .model import FINISHED
from .segment import Segments
from .storage import read_json_file, write_json_atomic

if TYPE_CHECKING:
    from .store import Project
    from .suggest.learned import SentenceModel

FOLDER = "ranking"
_cache: dict[Path, tuple[list[int], dict[str, float]]] = {}


def ranking_path(project: Project, annotator: str) -> Path:
    """``ranking/<hash of the annotator's name>.json`` (a name may hold any character)."""
    digest = hashlib.sha256(annotator.encode("utf-8")).hexdigest()[:20]
    return project.root / FOLDER / f"{digest}.json"


def document_margin(model: SentenceModel, text: str) -> float | None:
    """The mean top-two margin of the model over the sentences of ``text`` (None: no sentence)."""
    sentences = Segments(text).sentences()
    if not sentences:
        return None
    margins = model.margins([text[s:e] for s, e in sentences])
    return sum(margins) / len(margins)


def rank_documents(project: Project, annotator: str, model: SentenceModel) -> dict[str, float]:
    """Score every article that still needs ``annotator`` (not finished by them, not a
    control) and write the ranking file; returns doc id -> mean margin (rounded to 6 places,
    so that the same model and texts give the same file)."""
    rows = project.summary_rows()
    margins: dict[str, float] = {}
    batch: list[tuple[str, list[str]]] = []
    texts: list[str] = []

    def flush() -> None:
        if not texts:
            return
        scores = model.margins(texts)
        i = 0
        for doc_id, sentences in batch:
            part = scores[i:i + len(sentences)]
            i += len(sentences)
            margins[doc_id] = round(sum(part) / len(part), 6)
        batch.clear()
        texts.clear()

    for record in project.records():
        row = rows.get(record.id, {}).get("annotators", {})
        mine = row.get(annotator, {})
        if record.is_control or mine.get("status") in FINISHED:
            continue
        sentences = [record.text[s:e] for s, e in Segments(record.text).sentences()]
        if not sentences:
            continue
        batch.append((record.id, sentences))
        texts.extend(sentences)
        if len(texts) >= 5000:  # predict in batches: memory stays flat on a big corpus
            flush()
    flush()
    write_ranking(project, annotator, margins)
    return margins


def write_ranking(project: Project, annotator: str, margins: dict[str, float]) -> None:
    path = ranking_path(project, annotator)
    path.parent.mkdir(exist_ok=True)
    write_json_atomic(path, {"annotator": annotator, "made": time.time(), "margins": margins},
                      fsync=False)


def read_ranking(project: Project, annotator: str) -> dict[str, float] | None:
    """doc id -> mean margin from the annotator's ranking file; None when there is none (or it
    is damaged: routing then keeps corpus order until the next ranking replaces it)."""
    path = ranking_path(project, annotator)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    identity = [st.st_ino, st.st_mtime_ns, st.st_size]
    cached = _cache.get(path)
    if cached is not None and cached[0] == identity:
        return cached[1]
    try:
        data = read_json_file(path)
    except CorruptFileError:
        return None
    margins = data.get("margins") if isinstance(data, dict) else None
    if not isinstance(margins, dict):
        return None
    clean = {str(k): float(v) for k, v in margins.items() if isinstance(v, (int, float))}
    _cache[path] = (identity, clean)
    return clean


def rank_in_background(root: str | os.PathLike[str], annotator: str, threshold: int
                       ) -> subprocess.Popen[bytes]:
    """Start a process (at a lower CPU priority) that trains the annotator's model and writes
    their ranking; the caller may ``wait()`` for it or forget it (it exits by itself)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui_reader.core.ranking", os.fspath(root), annotator,
         str(threshold)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.nice(10),  # noqa: PLW1509 - only sets the child's priority
    )


def main(argv: list[str]) -> int:
    """``python -m tui_reader.core.ranking ROOT ANNOTATOR THRESHOLD``: train, rank, write.
    Exit status 0 when a ranking was written, 1 when there are too few labels for a model."""
    from .store import Project
    from .suggest import learned

    root, annotator, threshold = argv[0], argv[1], int(argv[2])
    project = Project.open(root)
    if not (learned.available() and learned.ready(project, annotator, threshold)):
        return 1
    model = learned.train(project, annotator)
    rank_documents(project, annotator, model)
    return 0


def _main() -> Any:
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    _main()
