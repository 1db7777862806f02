"""The team lead's commands, run as a user would: ``label-all``, ``control add|list|remove``,
``export --include-controls`` and the control scores in ``stats``. Bad input ends in one line on
stderr, exit status 2, and nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run
from tests.helpers import make_project
from tui_reader.core.store import Project

TEXTS = {
    "a": "Reuters reported the vote. (Reuters) Reutersberg is a town.",
    "b": "Sign up for our newsletter. The mayor spoke. Sign up for our newsletter.",
    "c": "Nothing to find here.",
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    make_project(tmp_path, TEXTS)
    return tmp_path / "db"


def _files(db: Path) -> dict[Path, bytes]:
    """Every file of the project that holds data (documents, catalogue), byte for byte."""
    return {p: p.read_bytes() for p in [db / "catalog.json", *(db / "docs").rglob("*.json")]}


def _one_line_error(result, needle: str) -> None:
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-reader: ") and needle in lines[0], result.err


def test_label_all_labels_every_occurrence_and_says_how_many(db, tmp_path):
    result = run("label-all", "Reuters", "--label", "source", "--db", db, "--annotator", "ana",
                 cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out.decode() == "2 occurrences of 'Reuters' labelled as source in 1 document\n"
    assert [(s.start, s.end) for s in Project.open(db).spans("a", "ana")] == [(0, 7), (28, 35)]
    again = run("label-all", "Reuters", "--label", "source", "--db", db, "--annotator", "ana",
                cwd=tmp_path)
    assert again.out.decode() == ("0 occurrences of 'Reuters' labelled as source in 0 documents "
                                  "(2 already held it)\n")


def test_label_all_as_suggestions_stores_them_for_the_app(db, tmp_path):
    result = run("label-all", "Sign up for our newsletter.", "--label", "boilerplate",
                 "--as-suggestions", "--db", db, "--annotator", "ana", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "2 occurrences of 'Sign up for our newsletter.' suggested as boilerplate" in result.out.decode()
    project = Project.open(db)
    assert project.spans("b") == []
    assert [(s.start, s.end) for s in project.stored_suggestions("b", "ana")] == [(0, 27), (45, 72)]


@pytest.mark.parametrize("args, needle", [
    (["Reuters", "--label", "nope"], "unknown label 'nope' (this project's labels: claim"),
    (["", "--label", "source"], "nothing to look for"),
    (["  \t ", "--label", "source"], "nothing to look for"),
    (["Reuters", "--label", "source", "--annotator", "Control"], "keeps for itself"),
])
def test_label_all_bad_input_is_one_line_and_changes_nothing(db, tmp_path, args, needle):
    before = _files(db)
    result = run("label-all", *args, "--db", db, cwd=tmp_path)
    _one_line_error(result, needle)
    assert _files(db) == before


def test_label_all_without_a_label_is_refused_by_the_command(db, tmp_path):
    result = run("label-all", "Reuters", "--db", db, cwd=tmp_path)
    assert result.code == 2 and "--label" in result.err


CONTROLS = [
    {"id": "k1", "text": "The minister said the plan works. Critics disagree.",
     "spans": [{"start": 0, "end": 33, "label": "claim"}], "meta": {"title": "Plan"}},
    {"id": "k2", "text": "An article with nothing to label at all.", "spans": []},
]


def _controls(tmp_path: Path) -> Path:
    path = tmp_path / "controls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in CONTROLS), encoding="utf-8")
    return path


def test_control_add_list_remove(db, tmp_path):
    added = run("control", "add", _controls(tmp_path), "--db", db, cwd=tmp_path)
    assert added.code == 0, added.err
    assert added.out.decode().startswith("2 controls added, 0 already there, 1 known span added")
    listed = run("control", "list", "--db", db, "--json", cwd=tmp_path)
    assert sorted((c["id"], c["spans"], c["done_by"]) for c in json.loads(listed.out)) == [
        ("k1", 1, []), ("k2", 0, [])]
    table = run("control", "list", "--db", db, cwd=tmp_path).out.decode()
    assert "2 control documents" in table and "nobody yet" in table
    removed = run("control", "remove", "k1", "--db", db, cwd=tmp_path)
    assert removed.code == 0, removed.err
    assert removed.out.decode() == ("k1 is no longer a control: 1 known span deleted; the work "
                                    "saved on it stays\n")
    assert [c["id"] for c in json.loads(run("control", "list", "--db", db, "--json",
                                            cwd=tmp_path).out)] == ["k2"]
    _one_line_error(run("control", "remove", "k1", "--db", db, cwd=tmp_path),
                    "'k1' is not a control document")
    _one_line_error(run("control", "remove", "zz", "--db", db, cwd=tmp_path), "no document 'zz'")


@pytest.mark.parametrize("content, needle", [
    ("this is not JSONL\n", "controls.jsonl:1: not valid JSON"),
    ('{"id": "x", "text": "Words here."}\n', 'no "spans" list'),
    ('{"id": "x", "text": "Words here.", "spans": []}\n', "no spans in any record"),
    ('{"id": "x", "text": "Words here.", "spans": [{"start": 0, "end": 5, "label": "gossip"}]}\n',
     "span 1: unknown label 'gossip'"),
])
def test_a_malformed_controls_file_is_one_line_and_changes_nothing(db, tmp_path, content, needle):
    path = tmp_path / "controls.jsonl"
    path.write_text(content, encoding="utf-8")
    before = _files(db)
    _one_line_error(run("control", "add", path, "--db", db, cwd=tmp_path), needle)
    assert _files(db) == before


def test_a_missing_controls_file_is_one_line(db, tmp_path):
    _one_line_error(run("control", "add", tmp_path / "nope.jsonl", "--db", db, cwd=tmp_path),
                    "nope.jsonl: No such file or directory")


def test_exports_leave_controls_out_unless_included_and_stats_scores_them(db, tmp_path):
    run("control", "add", _controls(tmp_path), "--db", db, cwd=tmp_path)
    project = Project.open(db)
    project.add_span("k1", 0, 12, "claim", "ana")
    project.set_status("k1", "ana", "done")
    project.add_span("a", 0, 7, "source", "ana")
    plain = run("export", "--db", db, "-o", "-", cwd=tmp_path)
    assert [r["id"] for r in plain.records] == ["a"]
    included = run("export", "--db", db, "-o", "-", "--include-controls", cwd=tmp_path)
    assert sorted(r["id"] for r in included.records) == ["a", "k1"]
    k1 = next(r for r in included.records if r["id"] == "k1")
    assert [s["annotator"] for s in k1["spans"]] == ["ana"]  # not the known answers
    _one_line_error(run("export", "--db", db, "-o", "-", "--annotator", "control", cwd=tmp_path),
                    "goes with --include-controls")
    stats = json.loads(run("stats", "--db", db, "--json", cwd=tmp_path).out)
    assert stats["controls"]["ana"]["documents"] == 1
    assert stats["controls"]["ana"]["exact_f1"] == 0.0
    assert stats["controls"]["ana"]["overlap_f1"] == 1.0
    assert "control" not in stats["annotators"]
    table = run("stats", "--db", db, cwd=tmp_path).out.decode()
    assert "Control documents (2): span F1 against the known answers" in table
    row = next(line for line in table.splitlines() if "ana" in line and "all labels" in line)
    assert [cell.strip() for cell in row.split("│")[-3:-1]] == ["0.000", "1.000"]


def test_help_lists_the_new_commands(tmp_path):
    out = run("--help", cwd=tmp_path).out.decode()
    assert "label-all" in out and "control" in out
    export_help = run("export", "--help", cwd=tmp_path).out.decode()
    assert "--include-controls" in export_help
