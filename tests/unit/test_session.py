"""The annotator's session without the UI: routing, suggestions, accept/reject and undo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.config import ProjectConfig
from tui_reader.core.errors import InputError
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project
from tui_reader.core.suggest.rules import Suggestion

TEXTS = {f"d{i}": f"Sentence one of {i}. Sentence two of {i}." for i in range(4)}


def test_routing_skips_documents_done_often_enough_by_others(tmp_path: Path):
    project = make_project(tmp_path, TEXTS)
    project.set_status("d0", "bo", "done")
    project.set_status("d1", "cy", "done")
    project.set_status("d1", "bo", "done")
    session = AnnotationSession(project, "ana")
    assert session.first_unfinished() == "d2"  # overlap 1: d0 and d1 were done by someone
    project.config = ProjectConfig(labels=project.config.labels, overlap=2)
    assert session.first_unfinished() == "d0"  # overlap 2: d0 needs a second annotator
    project.add_span("d1", 0, 8, "claim", "ana")  # started by ana: still hers to finish
    project.config = ProjectConfig(labels=project.config.labels, overlap=1)
    assert session.first_unfinished() == "d1"
    session.queue = ["d3", "d2"]
    assert session.first_unfinished() == "d3"


def test_accept_and_reject_suggestions_with_undo(tmp_path: Path):
    project = make_project(tmp_path, TEXTS)
    session = AnnotationSession(project, "ana")
    session.open("d0")
    first = Suggestion(0, 18, "quote", "rule:quotation-marks", 0.8)
    second = Suggestion(19, 37, "boilerplate", "rule:share-prompt", 0.9)
    session.set_suggestions([first, second])
    assert session.suggestions_at(3) == [first]

    session.accept(first)
    (span,) = Project.open(project.root).spans("d0")
    assert (span.start, span.end, span.label, span.source) == (
        0, 18, "quote", "suggestion:rule:quotation-marks")
    assert session.suggestions == [second]

    session.reject(second)
    assert session.suggestions == []
    assert [r.label for r in project.record("d0").rejections_of("ana")] == ["boilerplate"]
    session.set_suggestions([first, second])  # a rejected one is not proposed again
    assert session.suggestions == []

    session.undo()  # the rejection
    assert project.record("d0").rejections_of("ana") == [] and session.suggestions == [second]
    session.undo()  # the acceptance
    assert project.spans("d0") == [] and session.suggestions == [first, second]
    session.redo()
    session.redo()
    assert len(project.spans("d0")) == 1 and len(project.record("d0").rejections_of("ana")) == 1


def test_another_annotators_rejection_does_not_hide_a_suggestion(tmp_path: Path):
    project = make_project(tmp_path, TEXTS)
    project.reject("d0", 0, 18, "quote", "bo", "rule:x", "bo")
    session = AnnotationSession(project, "ana")
    session.open("d0")
    suggestion = Suggestion(0, 18, "quote", "rule:x")
    session.set_suggestions([suggestion])
    assert session.suggestions == [suggestion]


def test_accepting_many_is_one_write_and_one_undo(tmp_path: Path):
    project = make_project(tmp_path, TEXTS)
    session = AnnotationSession(project, "ana")
    session.open("d1")
    first = Suggestion(0, 18, "claim", "rule:a")
    second = Suggestion(19, 37, "claim", "rule:b")
    session.set_suggestions([first, second])
    change = session.accept_many([first, second])
    assert change is not None and change.describe() == "accept 2 claim spans"
    assert [s.key for s in Project.open(project.root).spans("d1")] == [first.key, second.key]
    assert session.suggestions == []
    session.undo()
    assert Project.open(project.root).spans("d1") == [] and session.suggestions == [first, second]
    session.redo()
    assert len(Project.open(project.root).spans("d1")) == 2
    assert session.accept_many([first]) is None  # already a span: nothing to do


def test_a_gold_name_is_refused_outside_review(tmp_path: Path):
    project = make_project(tmp_path, TEXTS)
    for name in ("gold", "union", " gold "):
        with pytest.raises(InputError, match="keeps for itself"):
            AnnotationSession(project, name)
    review = AnnotationSession(project, "rita", reviewer="rita")
    assert review.annotator == "gold" and review.accepted_source == "review:rita"
