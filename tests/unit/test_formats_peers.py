"""Label Studio identities (``--ls-users``), statuses and JSON-MIN; the doccano overlap notice.

The same behaviour against the real servers: tests/e2e/test_peers.py."""

from __future__ import annotations

import orjson
import pytest

from tests.unit.test_formats_common import build_project
from tui_reader.core.errors import InputError
from tui_reader.core.formats.doccano import OVERLAP_NOTICE, dropped_without_overlap
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.label_studio import LSUser, load_ls_users
from tui_reader.core.formats.readers import detect_format, read_path
from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project


# ------------------------------------------------------------------------------ --ls-users
def test_users_file_lines_and_json(tmp_path):
    lines = tmp_path / "users.txt"
    lines.write_text("# annotator, Label Studio email and/or id\nalice alice@example.org 2\n"
                     "bob\t3\n\ncy = cy@example.org\n")
    assert load_ls_users(lines) == {"alice": LSUser(2, "alice@example.org"), "bob": LSUser(3, None),
                                    "cy": LSUser(None, "cy@example.org")}
    as_json = tmp_path / "users.json"
    as_json.write_text('{"alice": {"id": 2, "email": "alice@example.org"}, "bob": 3, '
                       '"cy": "cy@example.org"}')
    assert load_ls_users(as_json) == load_ls_users(lines)


@pytest.mark.parametrize(("content", "message"), [
    ("alice\n", r"users.txt:1: write an annotator and their Label Studio email and/or id"),
    ("alice not-an-email\n", r"users.txt:1: 'not-an-email' is not a Label Studio user id or email"),
    ("alice 2 3\n", r"users.txt:1: give one email and one id"),
    ("alice 2\nbob 2\n", r"users.txt: alice and bob are the same Label Studio user \(id 2\)"),
    ("alice a@x.org\nbob A@X.org\n", r"alice and bob are the same Label Studio user"),
    ("\n# nobody\n", r"users.txt: no annotator in the Label Studio users file"),
    ('{"alice": true}', r"users.txt: annotator 'alice': True is not a Label Studio user id or email"),
])
def test_a_bad_users_file_is_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "users.txt"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_ls_users(path)


def test_a_missing_users_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"missing.txt: cannot read the Label Studio users file"):
        load_ls_users(tmp_path / "missing.txt")


STATUS_RECORDS = [
    {"id": "a", "text": "One claim here.", "spans": [
        {"start": 4, "end": 9, "label": "claim", "annotator": "ana"},
        {"start": 4, "end": 9, "label": "claim", "annotator": "bo"}]},
    {"id": "b", "text": "Nothing here.", "spans": []},
]


def test_statuses_go_to_label_studio_and_come_back(tmp_path):
    source = build_project(tmp_path, STATUS_RECORDS)
    source.set_status("a", "ana", "done")
    source.set_status("a", "bo", "skipped")
    source.set_status("b", "bo", "skipped")  # skipped without a span
    source.set_status("b", "ana", "done")  # a real negative
    report = export_dataset(source, "label-studio", tmp_path / "ls.json",
                            extra={"completed_by": load_users(tmp_path)})
    tasks = {t["data"]["doc_id"]: t for t in orjson.loads((tmp_path / "ls.json").read_bytes())}
    shape = {doc: [(a["created_username"], a["was_cancelled"], len(a["result"]), a["completed_by"])
                   for a in t["annotations"]] for doc, t in tasks.items()}
    assert shape == {"a": [("ana", False, 1, {"email": "ana@example.org"}), ("bo", True, 1, 3)],
                     "b": [("ana", False, 0, {"email": "ana@example.org"}), ("bo", True, 0, 3)]}
    assert report.total.lines() == []  # everyone mapped, nobody in progress: nothing to say
    back = Project.open(tmp_path / "back", create=True)
    assert import_paths(back, [tmp_path / "ls.json"], "x").problems == []
    assert {(d, n, back.status(d, n)) for d in "ab" for n in ("ana", "bo")} == {
        ("a", "ana", "done"), ("a", "bo", "skipped"), ("b", "ana", "done"), ("b", "bo", "skipped")}
    assert {(s.annotator, s.start, s.end) for s in back.spans("a")} == {("ana", 4, 9), ("bo", 4, 9)}


def load_users(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("ana ana@example.org\nbo 3\n")
    return load_ls_users(path)


def test_an_import_never_turns_done_into_skipped(tmp_path):
    project = build_project(tmp_path, STATUS_RECORDS)
    project.set_status("a", "ana", "done")
    path = tmp_path / "ls.json"
    path.write_bytes(orjson.dumps([{"data": {"text": "One claim here.", "doc_id": "a"}, "annotations": [
        {"created_username": "ana", "was_cancelled": True, "result": []}]}]))
    import_paths(project, [path], "x")
    assert project.status("a", "ana") == "done"


JSON_MIN = [  # what Label Studio 1.23.2's JSON_MIN export wrote for two annotations of one task
    {"text": "Prices 😀 will fall.", "id": 3, "doc_id": "d1", "title": "T",
     "label": [{"start": 0, "end": 6, "text": "Prices", "labels": ["claim"]},
               {"start": 9, "end": 18, "text": "will fall", "labels": ["opinion"]}],
     "annotator": 2, "annotation_id": 6, "created_at": "x", "updated_at": "x", "lead_time": None},
    {"text": "Prices 😀 will fall.", "id": 3, "doc_id": "d1", "title": "T",
     "label": [{"start": 0, "end": 6, "text": "Prices", "labels": ["claim"]}],
     "annotator": 2, "annotation_id": 7, "created_at": "x", "updated_at": "x", "lead_time": None},
    {"text": "No annotation yet.", "id": 4, "annotator": None, "annotation_id": None,
     "created_at": None, "updated_at": None, "lead_time": None},
]


def test_label_studio_json_min_imports(tmp_path):
    path = tmp_path / "min.json"
    path.write_bytes(orjson.dumps(JSON_MIN))
    assert detect_format(path.read_bytes()) == "label-studio"  # its JSON-MIN export
    records = [r for _, r in read_path(path)]
    assert [r["id"] for r in records] == ["d1", "d1", 4]  # doc_id kept; else the task id
    assert records[0]["meta"] == {"title": "T"}
    project = Project.open(tmp_path / "p", create=True)
    report = import_paths(project, [path], "x", ls_users={"ana": LSUser(id=2)})
    assert report.problems == [] and report.imported == 2
    # one Label Studio user, two annotations: two layers, nothing merged
    assert sorted((s.annotator, s.text, s.label) for s in project.spans("d1")) == [
        ("ana", "Prices", "claim"), ("ana", "will fall", "opinion"), ("ana#7", "Prices", "claim")]
    assert project.status("d1", "ana") == project.status("d1", "ana#7") == "done"
    assert project.spans("4") == []


def test_an_array_that_is_neither_export_is_refused_with_one_line(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b'[{"text": "a"}]')
    project = Project.open(tmp_path / "p", create=True)
    report = import_paths(project, [path], "x")
    assert report.problems == [f"{path}: skipped: a JSON array whose items are neither Label Studio "
                               "tasks (its JSON export) nor records of its JSON-MIN export"]


# ------------------------------------------------------------------------------ doccano
def test_doccanos_rule_for_projects_without_overlaps():
    spans = [{"start": 0, "end": 10}, {"start": 2, "end": 4}, {"start": 5, "end": 12},
             {"start": 10, "end": 11}, {"start": 11, "end": 20}, {"start": 11, "end": 12}]
    # kept: 0-10, 10-11, 11-20 (ties by start keep file order); dropped: 2-4, 5-12, 11-12
    assert dropped_without_overlap(spans) == 3
    assert dropped_without_overlap([{"start": 0, "end": 3}, {"start": 3, "end": 5}]) == 0


def test_the_doccano_notice_appears_exactly_when_spans_overlap(tmp_path):
    project = build_project(tmp_path, [
        {"id": "flat", "text": "One claim. Two claims.", "spans": [
            {"start": 0, "end": 10, "label": "claim", "annotator": "ana"},
            {"start": 11, "end": 22, "label": "claim", "annotator": "ana"}]},
        {"id": "nested", "text": "A quote with a claim inside.", "spans": [
            {"start": 0, "end": 28, "label": "quote", "annotator": "ana"},
            {"start": 15, "end": 20, "label": "claim", "annotator": "ana"}]},
    ])
    from tui_reader.core.formats.jsonl import ExportFilter

    flat = export_dataset(project, "doccano", tmp_path / "flat.jsonl", flt=ExportFilter(labels=("claim",)))
    assert flat.total.notices == {} and "overlapping" not in flat.summary()
    both = export_dataset(project, "doccano", tmp_path / "both.jsonl")
    assert both.total.notices == {OVERLAP_NOTICE: 1}
    assert both.summary().endswith('spans that doccano keeps only in a project with "Allow '
                                   'overlapping spans" (it drops them silently otherwise): 1')
