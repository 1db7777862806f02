"""``order = "uncertain"``: the learned model's least certain articles first, from a ranking file
made away from the keys; corpus order until there is one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_project
from tests.unit.test_suggest_learned import LABELS, NONE, _vocab, needs_sklearn, synthetic
from tui_reader.core.config import ProjectConfig
from tui_reader.core.ranking import (
    rank_documents,
    rank_in_background,
    ranking_path,
    read_ranking,
    write_ranking,
)
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project
from tui_reader.core.suggest import learned

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {f"d{i}": f"Article {i}. It has a sentence." for i in range(6)}


def _uncertain(project: Project, order: str = "uncertain") -> None:
    project.config = ProjectConfig(labels=project.config.labels, order=order)


def test_the_least_certain_article_comes_first_ties_in_corpus_order(tmp_path):
    project = make_project(tmp_path, TEXTS)
    _uncertain(project)
    ana = AnnotationSession(project, "ana")
    assert ana.first_unfinished() == "d0"  # no ranking yet: corpus order
    write_ranking(project, "ana", {"d1": 0.9, "d3": 0.1, "d4": 0.5, "d5": 0.1})
    assert ana.first_unfinished() == "d3"  # 0.1, and d3 before d5 in corpus order
    project.set_status("d3", "ana", "done")
    assert ana.first_unfinished() == "d5"
    assert ana.first_unfinished(after="d5") == "d4"  # the one just finished is never next
    project.set_status("d5", "bo", "done")  # overlap 1: done by someone else
    assert ana.first_unfinished() == "d4"
    for doc in ("d4", "d1"):
        project.set_status(doc, "ana", "done")
    assert ana.first_unfinished() == "d0"  # ranked ones finished: the rest in corpus order
    assert AnnotationSession(project, "bo").first_unfinished() == "d0"  # bo has no ranking
    _uncertain(project, "corpus")
    assert AnnotationSession(project, "ana").first_unfinished() == "d0"


def test_a_damaged_ranking_file_means_corpus_order(tmp_path):
    project = make_project(tmp_path, TEXTS)
    _uncertain(project)
    path = ranking_path(project, "ana")
    path.parent.mkdir()
    path.write_bytes(b"{broken")
    assert read_ranking(project, "ana") is None
    assert AnnotationSession(project, "ana").first_unfinished() == "d0"


def _labelled_project(tmp_path: Path) -> tuple[Project, dict[str, str]]:
    """ann labelled one long article of synthetic sentences; the other articles are clear
    sentences of one label (the model is sure), or mixes of two labels' words (it is not)."""
    data = synthetic(8, 120)
    words = {label: _vocab(i, 50) for i, label in enumerate(LABELS)}
    texts = {"train": "\n".join(t for t, _ in data)}
    texts["clear"] = "\n".join(" ".join(words["claim"][i:i + 6]) + "." for i in range(0, 30, 6))
    texts["torn"] = "\n".join(" ".join(words["claim"][i:i + 3] + words["quote"][i:i + 3]) + "."
                              for i in range(0, 30, 3))
    texts["noise"] = "\n".join(" ".join(_vocab(99, 300)[i:i + 8]) + "." for i in range(0, 80, 8))
    project = make_project(tmp_path, texts)
    offset = 0
    for text, label in data:
        if label != NONE:
            project.add_span("train", offset, offset + len(text), label, "ann")
        offset += len(text) + 1
    project.set_status("train", "ann", "done")
    return project, texts


@needs_sklearn
def test_ranking_scores_the_articles_by_mean_margin_and_is_deterministic(tmp_path):
    project, texts = _labelled_project(tmp_path)
    model = learned.train(project, "ann")
    margins = rank_documents(project, "ann", model)
    assert sorted(margins) == ["clear", "noise", "torn"]  # the finished one is not ranked
    assert margins["torn"] < margins["clear"] and margins["noise"] < margins["clear"]
    assert 0.0 <= min(margins.values()) and max(margins.values()) <= 1.0
    by_hand = model.margins(texts["clear"].split("\n"))
    assert margins["clear"] == round(sum(by_hand) / len(by_hand), 6)
    assert read_ranking(project, "ann") == margins
    again = rank_documents(project, "ann", learned.train(project, "ann"))
    assert again == margins  # the same labels give the same model and the same order
    _uncertain(project)
    least = min(margins, key=lambda d: (margins[d], list(texts).index(d)))
    assert AnnotationSession(project, "ann").first_unfinished() == least


@needs_sklearn
def test_the_ranking_process_writes_the_file_away_from_the_app(tmp_path):
    project, _ = _labelled_project(tmp_path)
    command = [sys.executable, "-m", "tui_reader.core.ranking", str(project.root)]
    few = subprocess.run([*command, "nobody", "50"], cwd=ROOT, capture_output=True, timeout=120)
    assert few.returncode == 1 and not ranking_path(project, "nobody").exists()
    process = rank_in_background(project.root, "ann", 50)  # what the app starts after training
    assert process.wait(timeout=120) == 0
    assert sorted(read_ranking(project, "ann")) == ["clear", "noise", "torn"]


@needs_sklearn
def test_margins_are_the_gap_between_the_two_most_probable_classes():
    model = learned.SentenceModel().fit(synthetic(1, 100))
    sentences = [t for t, _ in synthetic(2, 10)]
    probabilities = model._pipeline.predict_proba(sentences)
    expected = [sorted(row)[-1] - sorted(row)[-2] for row in probabilities]
    assert model.margins(sentences) == pytest.approx(expected)


@needs_sklearn
def test_a_ranking_scores_a_window_of_the_articles_that_still_need_the_annotator(tmp_path):
    project, _ = _labelled_project(tmp_path)
    project.set_status("clear", "bo", "done")  # overlap 1: routing would pass it over
    model = learned.train(project, "ann")
    assert sorted(rank_documents(project, "ann", model, limit=1)) == ["torn"]
    assert sorted(rank_documents(project, "ann", model, limit=None)) == ["noise", "torn"]
