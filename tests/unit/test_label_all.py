"""Every occurrence in one go: ``*`` in one article (``AnnotationSession.label_every``) and
``label-all`` across the corpus (``core.label_all``), with word boundaries, skips and undo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core import journal
from tui_reader.core.controls import add_controls
from tui_reader.core.errors import InputError
from tui_reader.core.label_all import label_all
from tui_reader.core.segment import Segments
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project

ARTICLE = ("Reuters reported the vote. (Reuters) Reutersberg is a town, not Reuters.\n"
           "A Reuters' photographer and REUTERS staff were there; Reuters-owned sites too.")


def _occurrences(text: str, needle: str) -> list[str]:
    return [text[s:e] + f"@{s}" for s, e in Segments(text).occurrences(needle)]


def test_occurrences_are_exact_text_on_word_boundaries():
    found = Segments(ARTICLE).occurrences("Reuters")
    starts = [s for s, _ in found]
    assert all(ARTICLE[s:e] == "Reuters" for s, e in found)
    # Found: at the start, in brackets, before a full stop, before an apostrophe.
    assert starts == [0, 28, 64, 75]
    # Not inside "Reutersberg", not "REUTERS" (exact case), not "Reuters-owned" (one word).
    assert ARTICLE.index("Reutersberg") not in starts
    assert ARTICLE.index("Reuters-owned") not in starts


@pytest.mark.parametrize("text, needle, expected", [
    # An apostrophe or hyphen between letters joins one word, as the app's word motions see it.
    ("José said; José's plan; Josér no; José.", "José", ["José@0", "José@34"]),
    ("Reuters's reporter, Reuters' desk", "Reuters", ["Reuters@20"]),
    # A combining mark after the match belongs to its last letter: not a boundary.
    ("Cafe\u0301 and Cafe here", "Cafe", ["Cafe@10"]),
    ("我爱北京。北京欢迎你", "北京", ["北京@2", "北京@5"]),  # each ideograph is a word
    ("Go 👍🏽 now, 👍 then", "👍", ["👍@11"]),  # not the first half of a skin-tone emoji
    ("عاجل: الخبر عاجل", "عاجل", ["عاجل@0", "عاجل@12"]),
    ("Sign up now!\r\nSign up", "Sign up", ["Sign up@0", "Sign up@14"]),
    ("aaa", "aa", []),
    ("x", "", []),
])
def test_occurrences_in_many_scripts(text, needle, expected):
    assert _occurrences(text, needle) == expected


def _session(tmp_path: Path, texts: dict[str, str] | None = None) -> AnnotationSession:
    project = make_project(tmp_path, texts or {"a": ARTICLE, "b": "Reuters again. Reuters."})
    session = AnnotationSession(project, "ana")
    session.open("a")
    return session


def test_label_every_labels_all_occurrences_in_one_change_and_one_undo(tmp_path):
    session = _session(tmp_path)
    db = session.project.root
    change = session.label_every("Reuters", "source")
    assert change is not None
    assert "source: 4 occurrences of “Reuters” labelled" == change.describe()
    on_disk = [(s.start, s.end, s.label) for s in Project.open(db).spans("a", "ana")]
    assert on_disk == [(0, 7, "source"), (28, 35, "source"), (64, 71, "source"), (75, 82, "source")]
    assert Project.open(db).spans("b") == []  # this article only
    assert len(session.undo_stack) == 1
    session.undo()
    assert Project.open(db).spans("a") == [] and session.spans == []
    session.redo()
    assert len(Project.open(db).spans("a")) == 4 and len(session.spans) == 4


def test_label_every_from_a_span_skips_places_that_hold_the_label(tmp_path):
    session = _session(tmp_path)
    first = session.label("source", 0, 7)
    session.label("quote", 28, 35)  # another label there: a second span is added beside it
    town = ARTICLE.index("not Reuters.")
    session.label("source", town, town + 12)  # the one in there is inside a source span: skipped
    span = first.after[0]
    change = session.label_every(span, "source")
    added = sorted((s.start, s.end) for s in change.after)
    assert added == [(28, 35), (75, 82)]  # neither the span itself nor the covered place
    labels_at_28 = sorted(s.label for s in session.project.spans("a", "ana") if s.start == 28)
    assert labels_at_28 == ["quote", "source"]
    assert session.label_every(span, "source") is None  # every occurrence holds it now


def test_label_every_from_a_selection_strips_whitespace(tmp_path):
    session = _session(tmp_path)
    change = session.label_every((0, 8), "source")  # "Reuters " -> "Reuters"
    assert change is not None and {s.text for s in change.after} == {"Reuters"}
    assert len(change.after) == 4
    change = session.label_every((26, 37), "quote")  # " (Reuters) " -> "(Reuters)": once
    assert [(s.start, s.end, s.text) for s in change.after] == [(27, 36, "(Reuters)")]


@pytest.mark.parametrize("text, label, message", [
    ("", "source", "nothing to look for"),
    ("   \n", "source", "nothing to look for"),
    ("Reuters", "nope", "unknown label 'nope'"),
])
def test_label_every_refuses_bad_input_and_saves_nothing(tmp_path, text, label, message):
    session = _session(tmp_path)
    with pytest.raises(InputError, match=message):
        session.label_every(text, label)
    assert session.project.spans("a") == [] and session.undo_stack == []


def test_label_all_labels_the_corpus_with_one_write_per_document(tmp_path, monkeypatch):
    texts = {"a": ARTICLE, "b": "Reuters again. Reuters.", "c": "Nothing here.", "d": "Reutersberg."}
    project = make_project(tmp_path, texts)
    writes: list[str] = []
    real = journal.write_change

    def counting(path, tables, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        changes = real(path, tables, *args, **kwargs)
        if changes:
            writes.append(next(iter(tables["document"].values()))["id"])
        return changes

    monkeypatch.setattr(journal, "write_change", counting)
    report = label_all(project, "Reuters", "source", "ana")
    assert (report.occurrences, report.documents, report.already) == (6, 2, 0)
    assert sorted(writes) == ["a", "b"]  # one write per document with an occurrence
    assert report.summary() == "6 occurrences of 'Reuters' labelled as source in 2 documents"
    spans = Project.open(project.root).spans("b", "ana")
    assert [(s.start, s.end, s.source) for s in spans] == [
        (0, 7, "label-all:Reuters"), (15, 22, "label-all:Reuters")]
    writes.clear()
    again = label_all(project, "Reuters", "source", "ana")  # everything holds it: no write
    assert (again.occurrences, again.documents, again.already) == (0, 0, 6) and writes == []
    other = label_all(project, "Reuters", "source", "bo")  # another annotator's own layer
    assert other.occurrences == 6


def test_label_all_leaves_control_documents_alone(tmp_path):
    project = make_project(tmp_path, {"a": "Reuters said so."})
    controls = tmp_path / "controls.jsonl"
    controls.write_text('{"id": "c1", "text": "Reuters said it too.", "spans": '
                        '[{"start": 0, "end": 7, "label": "source"}]}\n', encoding="utf-8")
    add_controls(project, controls)
    report = label_all(project, "Reuters", "source", "ana")
    assert (report.occurrences, report.documents) == (1, 1)
    assert project.spans("c1", "ana") == []


@pytest.mark.parametrize("text, label, annotator, message", [
    ("", "source", "ana", "nothing to look for"),
    (" \t", "source", "ana", "nothing to look for"),
    ("Reuters", "nope", "ana", "unknown label 'nope'"),
    ("Reuters", "source", "gold", "keeps for itself"),
])
def test_label_all_refuses_bad_input_and_writes_nothing(tmp_path, text, label, annotator, message):
    project = make_project(tmp_path, {"a": ARTICLE})
    before = project.doc_path("a").stat().st_mtime_ns
    with pytest.raises(InputError, match=message):
        label_all(project, text, label, annotator)
    assert project.doc_path("a").stat().st_mtime_ns == before


def test_label_all_as_suggestions_are_offered_and_accepted_per_article(tmp_path):
    project = make_project(tmp_path, {"a": ARTICLE, "b": "Reuters again."})
    project.add_span("a", 0, 7, "source", "ana")  # held already: not suggested
    report = label_all(project, "Reuters", "source", "ana", as_suggestions=True)
    assert (report.occurrences, report.documents, report.already) == (4, 2, 1)
    assert report.summary().startswith("4 occurrences of 'Reuters' suggested as source")
    assert [s.label for s in project.spans("a", "ana")] == ["source"]  # nothing labelled
    assert [(s.start, s.source) for s in project.stored_suggestions("b", "ana")] == [
        (0, "label-all:Reuters")]
    assert project.stored_suggestions("b", "bo") == []  # offered to ana only

    session = AnnotationSession(project, "ana")
    session.open("a")
    stored = session.stored_suggestions()
    assert [(s.start, s.end, s.label, s.source) for s in stored] == [
        (28, 35, "source", "label-all:Reuters"), (64, 71, "source", "label-all:Reuters"),
        (75, 82, "source", "label-all:Reuters")]
    session.set_suggestions(stored)
    session.reject(session.suggestions[0])
    change = session.accept_many(session.suggestions)  # A: every one of the label
    assert {s.source for s in change.after} == {"suggestion:label-all:Reuters"}
    assert len(project.spans("a", "ana")) == 3
    # Asked again: the rejected place and the accepted ones are not offered again.
    again = label_all(project, "Reuters", "source", "ana", as_suggestions=True)
    assert (again.occurrences, again.documents) == (0, 0)


def test_a_place_the_annotator_turned_down_is_not_suggested_again(tmp_path):
    project = make_project(tmp_path, {"a": ARTICLE})
    project.reject("a", 28, 35, "source", "ana", "rule:attribution", "ana")  # a rule's, earlier
    report = label_all(project, "Reuters", "source", "ana", as_suggestions=True)
    assert (report.occurrences, report.already) == (3, 1)
    assert report.summary() == ("3 occurrences of 'Reuters' suggested as source in 1 document "
                                "(1 already held it, were offered or turned down)")
    assert 28 not in [s.start for s in project.stored_suggestions("a", "ana")]
