"""Control documents: added from a checked file, invisible as such, slipped into the queue,
scored against their known answers, kept out of exports, review and agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.agreement import documents_for_agreement
from tui_reader.core.config import ProjectConfig
from tui_reader.core.controls import add_controls, control_documents, control_scores, read_controls
from tui_reader.core.errors import InputError
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.jsonl import ExportFilter, export_records
from tui_reader.core.model import CONTROL
from tui_reader.core.review import review_queue
from tui_reader.core.routing import control_phase
from tui_reader.core.session import AnnotationSession
from tui_reader.core.stats import project_stats
from tui_reader.core.store import Project

TEXTS = {f"d{i}": f"Article {i} says the plan works. It does not." for i in range(10)}
CONTROL_TEXT = "Known text: the minister said it works. Critics disagree strongly here."
#               0123456789012345678901234567890
CONTROLS = [
    {"id": "k1", "text": CONTROL_TEXT, "meta": {"title": "Minister on the plan"},
     "spans": [{"start": 0, "end": 5, "label": "claim"}, {"start": 10, "end": 20, "label": "quote"}]},
    {"id": "k2", "text": "An article where the right answer is nothing at all.", "spans": []},
]


def _write(path: Path, records: list[dict] | str) -> Path:
    text = records if isinstance(records, str) else "".join(json.dumps(r) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")
    return path


def _project(tmp_path: Path, **settings: object) -> Project:
    project = make_project(tmp_path, TEXTS)
    add_controls(project, _write(tmp_path / "controls.jsonl", CONTROLS))
    if settings:
        project.config = ProjectConfig(labels=project.config.labels, **settings)  # type: ignore[arg-type]
    return project


def test_controls_are_stored_as_the_control_layer_and_placed_among_the_articles(tmp_path):
    project = _project(tmp_path)
    ids = [d.id for d in project.documents()]
    assert len(ids) == 12
    # Placed among the articles by a hash of their ids, not appended where they would stand out.
    assert ids == ["d0", "d1", "d2", "d3", "d4", "k2", "d5", "d6", "k1", "d7", "d8", "d9"]
    assert [c.id for c in control_documents(project)] == [i for i in ids if i.startswith("k")]
    record = project.record("k1")
    assert record.is_control and project.is_control("k1") and not project.is_control("d0")
    assert [(s.start, s.end, s.label, s.annotator) for s in record.spans] == [
        (0, 5, "claim", CONTROL), (10, 20, "quote", CONTROL)]
    assert project.record("k2").is_control  # a control whose answer is "nothing" is one too
    # Adding the same file again changes nothing.
    before = project.doc_path("k1").stat().st_mtime_ns
    report = add_controls(project, tmp_path / "controls.jsonl")
    assert (report.added, report.unchanged, report.spans) == (0, 2, 0)
    assert project.doc_path("k1").stat().st_mtime_ns == before
    assert [d.id for d in Project.open(project.root).documents()] == ids


def test_an_annotator_cannot_tell_a_control_from_an_article(tmp_path):
    project = _project(tmp_path)
    info = project.info("k1")
    shown = json.dumps([info.title, info.source, info.meta, info.kind]).lower()
    assert "control" not in shown and info.title == "Minister on the plan"
    session = AnnotationSession(project, "ana")
    session.open("k1")
    assert session.others == [] and session.spans == []  # the answers are not shown with `o`
    assert session.status == "new"
    for progress in (project.progress("k1", "ana"), project.record("k1").progress("ana")):
        assert progress.done_by == () and progress.all_spans == 0 and progress.status == "new"
    ana = AnnotationSession(project, "ana")
    assert ana.first_unfinished() == "d0"  # a control is not "done by someone": no tell there


def _finish_in_order(session: AnnotationSession, count: int) -> list[str]:
    order: list[str] = []
    current = None
    for _ in range(count):
        current = session.claim_next(after=current)
        if current is None:
            break
        session.open(current)
        session.set_status("done")
        order.append(current)
    return order


def _names_with_phases(every: int) -> tuple[str, str]:
    names = [f"annotator{i}" for i in range(1000)]
    zero = next(n for n in names if control_phase(n, every) == 0)
    other = next(n for n in names if control_phase(n, every) == 1)
    return zero, other


def test_one_control_is_slipped_in_every_k_articles_finished(tmp_path):
    project = _project(tmp_path, control_every=3, overlap=2)
    zero, one = _names_with_phases(3)
    order = _finish_in_order(AnnotationSession(project, zero), 12)
    controls = [i for i, d in enumerate(order) if d.startswith("k")]
    # Phase 0: a control after 3 articles, then one after each 3 more, until they run out.
    assert controls == [3, 7], order
    assert sorted(d for d in order if d.startswith("k")) == ["k1", "k2"]
    assert len(order) == 12 and len(set(order)) == 12
    order = _finish_in_order(AnnotationSession(project, one), 12)
    assert [i for i, d in enumerate(order) if d.startswith("k")] == [2, 6]  # phase 1: after 2
    # Controls are for everyone: overlap does not pass them over (both annotators got both).


def test_control_routing_is_deterministic_per_annotator(tmp_path):
    first = _finish_in_order(AnnotationSession(_project(tmp_path / "a", control_every=2), "ana"), 12)
    second = _finish_in_order(AnnotationSession(_project(tmp_path / "b", control_every=2), "ana"), 12)
    assert first == second


def test_a_control_is_not_handed_out_before_it_is_due(tmp_path):
    project = _project(tmp_path, control_every=20)
    zero, _ = _names_with_phases(20)
    order = _finish_in_order(AnnotationSession(project, zero), 10)
    assert order == [f"d{i}" for i in range(10)]  # 10 < 20 articles: no control yet
    assert AnnotationSession(project, zero).first_unfinished() is None


def _label(project: Project, doc_id: str, who: str, spans: list[tuple[int, int, str]],
           done: bool = True) -> None:
    for start, end, label in spans:
        project.add_span(doc_id, start, end, label, who)
    if done:
        project.set_status(doc_id, who, "done")


def test_scores_against_the_known_answers_by_hand(tmp_path):
    project = _project(tmp_path)
    # ana: the claim exactly, the quote one character short, a spurious opinion.
    _label(project, "k1", "ana", [(0, 5, "claim"), (11, 20, "quote"), (30, 35, "opinion")])
    _label(project, "k2", "ana", [])  # the nothing-article, done with nothing: right
    _label(project, "k1", "bo", [(0, 5, "claim"), (10, 20, "quote")])
    _label(project, "k1", "cy", [(0, 5, "claim")], done=False)  # not finished: not scored
    scores = control_scores(project)
    assert sorted(scores) == ["ana", "bo"]
    ana = scores["ana"]
    assert ana.documents == 2
    assert ana.exact_f1 == pytest.approx(2 * 1 / (3 + 2))  # 1 match, 3 given, 2 known
    assert ana.overlap_f1 == pytest.approx(0.8)  # P = 2/2 known found, R = 2/3 given found
    assert ana.labels["claim"].exact_f1 == 1.0
    assert (ana.labels["quote"].exact_f1, ana.labels["quote"].overlap_f1) == (0.0, 1.0)
    assert (ana.labels["opinion"].known, ana.labels["opinion"].given) == (0, 1)
    assert ana.labels["opinion"].exact_f1 == 0.0
    assert ana.labels["source"].exact_f1 is None  # nothing known, nothing given: undefined
    assert (scores["bo"].exact_f1, scores["bo"].overlap_f1, scores["bo"].documents) == (1.0, 1.0, 1)
    stats = project_stats(project)
    assert stats["controls"]["ana"]["exact_f1"] == pytest.approx(0.4)
    assert stats["controls"]["ana"]["labels"]["quote"]["overlap_f1"] == 1.0
    assert stats["control_documents"] == 2
    # The known answers are nobody's work in the figures.
    assert CONTROL not in stats["annotators"] and CONTROL not in stats["spans_by_annotator"]
    assert stats["labels"]["quote"] == 2  # ana's and bo's, not the answer key's


def test_exports_leave_controls_out_unless_asked(tmp_path):
    project = _project(tmp_path)
    _label(project, "k1", "ana", [(0, 5, "claim")])
    _label(project, "d0", "ana", [(0, 7, "claim")])
    assert [r["id"] for r in export_records(project)] == ["d0"]
    assert [r["id"] for r in export_records(project, ExportFilter(all_documents=True))] == [
        d.id for d in project.documents() if not d.id.startswith("k")]
    records = {r["id"]: r for r in export_records(project, ExportFilter(include_controls=True))}
    assert sorted(records) == ["d0", "k1"]  # k2: nobody's work on it
    assert {s["annotator"] for s in records["k1"]["spans"]} == {"ana"}
    assert records["k1"]["done_by"] == ["ana"]
    with pytest.raises(InputError, match="goes with --include-controls"):
        list(export_records(project, ExportFilter(annotator=CONTROL)))
    answers = list(export_records(project, ExportFilter(annotator=CONTROL, include_controls=True)))
    assert sorted((r["id"], [s["annotator"] for s in r["spans"]]) for r in answers) == [
        ("k1", [CONTROL, CONTROL]), ("k2", [])]


def test_review_and_agreement_leave_the_known_answers_out(tmp_path):
    project = _project(tmp_path)
    _label(project, "k1", "ana", [(0, 5, "claim")])
    _label(project, "k1", "bo", [(0, 6, "claim")])
    _label(project, "d1", "ana", [(0, 5, "claim")])
    _label(project, "d1", "bo", [(0, 6, "claim")])
    assert [item.doc_id for item in review_queue(project)] == ["d1"]
    docs = {d.id: d for d in documents_for_agreement(project)}
    assert sorted(docs["k1"].spans) == ["ana", "bo"]


def test_remove_control_keeps_the_article_and_the_work_on_it(tmp_path):
    project = _project(tmp_path)
    _label(project, "k1", "ana", [(0, 5, "claim")])
    assert project.remove_control("k1") == 2
    record = project.record("k1")
    assert not record.is_control and not project.is_control("k1")
    assert [(s.annotator, s.label) for s in record.spans] == [("ana", "claim")]
    assert record.status_of("ana") == "done"
    assert [c.id for c in control_documents(project)] == ["k2"]
    assert "k1" in [r["id"] for r in export_records(project)]
    with pytest.raises(InputError, match="not a control"):
        project.remove_control("d0")


BAD_FILES = [
    ("not JSON at all\n", "controls.jsonl:1: not valid JSON"),
    ('{"id": "x", "text": "Some words here."}\n', "no \"spans\" list"),
    ('{"id": "x", "text": "Some words.", "spans": [{"start": 0, "end": 4, "label": "zz"}]}\n',
     "span 1: unknown label 'zz'"),
    ('{"id": "x", "text": "Some words.", "spans": [{"start": 0, "end": 99, "label": "claim"}]}\n',
     "outside the text"),
    ('{"id": "x", "text": "Some words.", "spans": []}\n', "no spans in any record"),
    ("\n\n", "whitespace-only file"),
    ("\n \n{}\n", "no \"spans\" list"),
    ('{"id": "d0", "text": "Other.", "spans": [{"start": 0, "end": 5, "label": "claim"}]}\n',
     "'d0' is already an ordinary article"),
    ('{"id": "k1", "text": "Other.", "spans": [{"start": 0, "end": 5, "label": "claim"}]}\n',
     "control 'k1' is already there with another text"),
    ('{"id": "y", "text": "Good.", "spans": [{"start": 0, "end": 4, "label": "claim"}]}\n'
     '{"id": "z", "text": "Bad.", "spans": [{"start": 0, "end": 3, "label": "claim"}]}\n'
     "{broken\n", "controls.jsonl:3: not valid JSON"),
    (b"\xff\xfe\x00bad", "controls.jsonl"),
]


@pytest.mark.parametrize("content, message", BAD_FILES)
def test_a_bad_controls_file_changes_nothing(tmp_path, content, message):
    project = _project(tmp_path)
    catalog = (project.root / "catalog.json").read_bytes()
    files = {p: p.read_bytes() for p in (project.root / "docs").rglob("*.json")}
    bad = tmp_path / "bad" / "controls.jsonl"
    bad.parent.mkdir()
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        add_controls(project, bad)
    assert (project.root / "catalog.json").read_bytes() == catalog
    assert {p: p.read_bytes() for p in (project.root / "docs").rglob("*.json")} == files


def test_read_controls_takes_the_native_jsonl_import_reads(tmp_path):
    project = make_project(tmp_path, TEXTS)
    path = _write(tmp_path / "c.jsonl", [
        {"id": "k9", "text": "Said Bo: it works.\r\nYes.", "meta": {"source": "wire/2024.txt"},
         "spans": [{"start": 0, "end": 7, "label": "source", "annotator": "someone"},
                   {"start": 20, "end": 24, "label": "claim"}]}])
    (item,) = read_controls(project, path)
    assert [(s["start"], s["end"], s["annotator"]) for s in item.spans] == [
        (0, 7, CONTROL), (19, 23, CONTROL)]  # CRLF made LF, offsets moved with it
    add_controls(project, path)
    assert project.info("k9").source == "wire/2024.txt"
    assert [s.text for s in project.spans("k9")] == ["Said Bo", "Yes."]


def test_overlap_and_leases_do_not_keep_anyone_from_a_control(tmp_path):
    project = make_project(tmp_path, TEXTS)
    add_controls(project, _write(tmp_path / "one.jsonl", CONTROLS[:1]))
    project.config = ProjectConfig(labels=project.config.labels, overlap=1, control_every=1)
    ana, bo = AnnotationSession(project, "ana"), AnnotationSession(project, "bo")
    assert _finish_in_order(ana, 2) == ["d0", "k1"]  # ana did k1 (done: overlap 1 is full)
    bo.open(bo.claim_next())
    bo.set_status("done")
    ana.open("k1")  # and holds it open again
    assert bo.claim_next(after=bo.doc.id) == "k1"


def test_the_known_answers_go_into_an_export_only_by_name(tmp_path):
    project = _project(tmp_path)
    with pytest.raises(InputError, match="goes with --include-controls"):
        export_dataset(project, "jsonl", tmp_path / "a.jsonl", gold="annotator:control")
    export_dataset(project, "jsonl", tmp_path / "b.jsonl", gold="annotator:control",
                   flt=ExportFilter(include_controls=True))
    rows = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["k1", "k2"]


def test_a_status_filter_looks_at_the_annotators_not_the_answer_key(tmp_path):
    project = _project(tmp_path)
    flt = ExportFilter(include_controls=True, status="done", all_documents=True)
    assert [r["id"] for r in export_records(project, flt)] == []
    project.set_status("k2", "ana", "done")
    assert [r["id"] for r in export_records(project, flt)] == ["k2"]
