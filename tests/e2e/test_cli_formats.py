"""The export formats, gold policies and re-imports through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.store import Project

TEXT = "Héllo 👨‍👩‍👧 world. 日本語です。 The minister said: \"no\"."


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_reader", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, {"news": TEXT, "empty": "Nothing to see here."})
    project.add_span("news", 0, 5, "claim", "ana")
    project.add_span("news", 0, 19, "quote", "ana")  # overlaps the claim
    project.add_span("news", 0, 5, "claim", "bo")
    project.set_status("empty", "ana", "done")  # a real negative
    return project


@pytest.mark.parametrize("fmt", ["prodigy", "doccano", "label-studio"])
def test_export_then_import_gives_the_same_spans(tmp_path, project, fmt):
    out = tmp_path / ("out.json" if fmt == "label-studio" else "out.jsonl")
    gold = [] if fmt in ("prodigy", "label-studio") else ["--gold", "union"]
    result = run("export", "--db", str(project.root), "--format", fmt, "-o", str(out), *gold)
    assert result.returncode == 0, result.stderr
    fresh = tmp_path / "fresh"
    result = run("import", str(out), "--db", str(fresh), "--annotator", "importer")
    assert result.returncode == 0, result.stderr
    back = Project.open(fresh)
    got = {(s.start, s.end, s.label, s.text) for s in back.spans("news")}
    assert got == {(0, 5, "claim", "Héllo"), (0, 19, "quote", TEXT[:19])}
    if fmt != "doccano":  # formats with every annotator keep who labelled what
        assert {s.annotator for s in back.spans("news")} == {"ana", "bo"}


def test_single_layer_formats_ask_for_a_gold_policy(tmp_path, project):
    result = run("export", "--db", str(project.root), "--format", "conll", "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "--gold" in result.stderr and "union" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_stdout_is_for_native_jsonl_only(project):
    result = run("export", "--db", str(project.root), "--format", "hf", "-o", "-")
    assert result.returncode == 2 and "native JSONL" in result.stderr


def test_folder_export_with_split_and_card(tmp_path, project):
    out = tmp_path / "ds"
    result = run("export", "--db", str(project.root), "--format", "jsonl", "--split",
                 "train=0.5,test=0.5", "--seed", "3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "README.md" in names and "labels.json" in names
    rows = [json.loads(line) for f in out.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["empty", "news"]  # each document once
    card = (out / "README.md").read_text()
    assert "code point" in card and "claim" in card and "ana / bo" in card  # agreement table


def test_agree_json(project):
    result = run("agree", "--db", str(project.root), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    claim = next(p for p in data["pairs"] if p["label"] == "claim")
    assert (claim["a"], claim["b"], claim["exact_f1"]) == ("ana", "bo", 1.0)


def test_ls_users_map_annotators_both_ways(tmp_path, project):
    users = tmp_path / "users.txt"
    users.write_text("ana ana@example.org 2\nbo 3\n", encoding="utf-8")
    out = tmp_path / "ls.json"
    result = run("export", "--db", str(project.root), "--format", "label-studio", "-o", str(out),
                 "--ls-users", str(users))
    assert result.returncode == 0, result.stderr
    tasks = json.loads(out.read_text("utf-8"))
    news = next(t for t in tasks if t["data"]["doc_id"] == "news")
    assert sorted(json.dumps(a["completed_by"]) for a in news["annotations"]) == [
        "3", '{"email": "ana@example.org"}']
    # What Label Studio exports names users by id: the same file names them back.
    for annotation in news["annotations"]:
        annotation["completed_by"] = 2 if isinstance(annotation["completed_by"], dict) else 3
        annotation.pop("created_username", None)
    out.write_text(json.dumps(tasks), encoding="utf-8")
    back = tmp_path / "back"
    result = run("import", str(out), "--db", str(back), "--ls-users", str(users))
    assert result.returncode == 0, result.stderr
    assert {s.annotator for s in Project.open(back).spans("news")} == {"ana", "bo"}


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "doccano", "--gold", "union", "--ls-users", "users.txt"],
     "--ls-users goes with --format label-studio"),
    (["--format", "jsonl", "--license", "mit"], "--license goes with --format hf"),
    (["--format", "hf", "--gold", "union", "--license", "Not A License"], "Hugging Face license id"),
    (["--format", "label-studio", "--ls-users", "missing.txt"], "missing.txt"),
])
def test_format_options_refused_in_one_line(tmp_path, project, args, message):
    (tmp_path / "users.txt").write_text("ana 2\n", encoding="utf-8")
    result = run("export", "--db", str(project.root), "-o", str(tmp_path / "out"), *args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
