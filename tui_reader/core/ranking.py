"""Uncertainty first: the learned model's doubt about each article, for ``order = "uncertain"``.

An article's *uncertainty* is the mean, over its sentences, of the margin between the model's two
most probable classes (``"none"`` included): 0 when the model cannot choose between two labels,
near 1 when it is sure. Routing (``routing.py``) then hands out the article with the smallest mean
margin first (ties in corpus order), so an annotator labels what teaches the model most.

Scoring an article takes the model ~6 ms (25 sentences; bench/bench_routing.py), a minute for 10k
articles, far too long for a key press, so it is done away from the keys: :func:`rank_documents`
scores the next RANK_WINDOW (2,000) articles that still need the annotator, in corpus order (a
window that moves on as they work: the way Prodigy and INCEpTION rank a stream in batches), and
writes the margins to ``ranking/<annotator>.json`` in the project (atomically); routing only reads
that file (one read, cached while the file is unchanged). The
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
from .model import CONTROL, FINISHED
from .segment import Segments
from .storage import read_json_file, write_json_atomic

if TYPE_CHECKING:
    from .store import Project
    from .suggest.learned import SentenceModel

FOLDER = "ranking"
#: Articles scored per ranking: the next ones in corpus order that still need the annotator.
#: Scoring runs at ~160 articles/s on one core (bench/bench_routing.py), so 2,000 take ~12 s;
#: a whole 10k corpus would keep a core busy for a minute after every training.
RANK_WINDOW = 2_000
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


def rank_documents(project: Project, annotator: str, model: SentenceModel,
                   limit: int | None = RANK_WINDOW) -> dict[str, float]:
    """Score the articles that still need ``annotator`` (not finished by them, not passed over
    by ``overlap``, not a control), the first ``limit`` of them in corpus order (None: all),
    and write the ranking file; returns doc id -> mean margin (rounded to 6 places, so that the
    same model and texts give the same file)."""
    rows = project.summary_rows()
    overlap = project.config.overlap
    candidates: list[str] = []
    for info in project.documents():
        people = rows.get(info.id, {}).get("annotators", {})
        mine = people.get(annotator, {})
        if mine.get("status") in FINISHED or people.get(CONTROL, {}).get("status") == "done":
            continue
        others = sum(1 for name, own in people.items()
                     if own.get("status") == "done" and name not in (annotator, CONTROL))
        if others >= overlap and not any(mine.get("labels", {}).values()):
            continue
        candidates.append(info.id)
        if limit is not None and len(candidates) >= limit:
            break
    margins: dict[str, float] = {}
    batch: list[tuple[str, int]] = []
    texts: list[str] = []

    def flush() -> None:
        if not texts:
            return
        scores = model.margins(texts)
        i = 0
        for doc_id, n in batch:
            margins[doc_id] = round(sum(scores[i:i + n]) / n, 6)
            i += n
        batch.clear()
        texts.clear()

    for doc_id in candidates:
        text = project.document(doc_id).text
        sentences = [text[s:e] for s, e in Segments(text).sentences()]
        if not sentences:
            continue
        batch.append((doc_id, len(sentences)))
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
    """Start a process (it lowers its own CPU priority) that trains the annotator's model and
    writes their ranking; it exits by itself. Safe from a thread (no ``preexec_fn``); ``wait()``
    for it in a worker thread, or ``poll()`` it now and then, so that it leaves no zombie."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui_reader.core.ranking", os.fspath(root), annotator,
         str(threshold)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def main(argv: list[str]) -> int:
    """``python -m tui_reader.core.ranking ROOT ANNOTATOR THRESHOLD``: train, rank, write.
    Exit status 0 when a ranking was written, 1 when there are too few labels for a model."""
    from .store import Project
    from .suggest import learned

    root, annotator, threshold = argv[0], argv[1], int(argv[2])
    try:
        os.nice(10)  # the annotators' keys come first
    except OSError:
        pass
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
