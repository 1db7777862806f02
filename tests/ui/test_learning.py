"""The learned model's wiring on its own: when it trains, that it suggests only where no rule
fires, and that a broken model never raises into the app. The model runs in its real process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.store import Project
from tui_reader.core.suggest import learned
from tui_reader.core.suggest.suggestion import Suggestion
from tui_reader.ui.learning import RETRAIN_EVERY, LearnedSuggestions


def test_training_is_due_after_every_few_labels_and_enough_spans(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a": "Text."})
    model = LearnedSuggestions(project, "ann")
    due = [n for n in range(1, 3 * RETRAIN_EVERY + 1) if model.count_label()]
    assert due == [RETRAIN_EVERY, 2 * RETRAIN_EVERY, 3 * RETRAIN_EVERY]
    threshold = project.config.model_threshold
    assert not model.worth_training(threshold - 1) and model.worth_training(threshold)


def test_a_broken_model_means_no_model_not_an_error(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a": "Text."})
    model = LearnedSuggestions(project, "ann")
    shutil.rmtree(project.root)  # the model's process cannot open the project
    try:
        assert model.train() is False
        assert not model.ready
    finally:
        model.close()


def test_the_model_suggests_where_no_rule_fires(tmp_path: Path) -> None:
    if not learned.available():
        pytest.skip("scikit-learn is not installed (the suggest extra)")
    claims = [f"Exports rose by {n} percent in {2000 + n}." for n in range(12)]
    noise = [f"Click here to share this story number {n}." for n in range(12)]
    texts = {f"t{n}": f"{c}\n{b}" for n, (c, b) in enumerate(zip(claims, noise))}
    project = make_project(tmp_path, texts)
    for n in range(12):
        project.add_span(f"t{n}", 0, len(claims[n]), "claim", "ana")
        project.add_span(f"t{n}", len(claims[n]) + 1, len(texts[f"t{n}"]), "boilerplate", "ana")
        project.set_status(f"t{n}", "ana", "done")
    (project.root / "config.toml").write_text(
        (project.root / "config.toml").read_text().replace("model_threshold = 50", "model_threshold = 20"))
    model = LearnedSuggestions(Project.open(project.root), "ana")
    try:
        assert model.train()
        text = "Imports rose by 7 percent in 2031.\nClick here to share this story now."
        alone = model.suggest(text, [])
        assert alone is not None
        assert {(s.start, s.label, s.source) for s in alone} >= {(0, "claim", "model:linear")}
        # Where a rule speaks for the first sentence, the model's guess there is left out.
        rule = Suggestion(0, 34, "quote", "rule:test")
        merged = model.suggest(text, [rule])
        assert merged is not None and rule in merged
        assert not [s for s in merged if s.source == "model:linear" and s.start < 34]
        assert [s for s in merged if s.source == "model:linear" and s.start > 34]
    finally:
        model.close()
