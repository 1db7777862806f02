"""The real ``tui-reader`` command, run as a user would: import, export, and what it says."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_corpus"


@dataclass
class Result:
    code: int
    out: bytes
    err: str

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.out.decode("utf-8").splitlines()]


def run(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None,
        check_traceback: bool = True) -> Result:
    base = {k: v for k, v in os.environ.items() if k != "TUI_READER_ANNOTATOR"}
    proc = subprocess.run(
        [sys.executable, "-m", "tui_reader", *map(str, args)], cwd=cwd, capture_output=True,
        env={**base, **(env or {})}, timeout=120, stdin=subprocess.DEVNULL,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))
    if check_traceback:
        assert "Traceback" not in result.err, result.err
    return result


def export_all(db: Path, cwd: Path, *extra: str) -> list[dict]:
    result = run("export", "--db", db, "-o", "-", *extra, cwd=cwd)
    assert result.code == 0, result.err
    return result.records


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: its sha256 and mtime (folders: "dir")."""
    state: dict[str, tuple[str, int]] = {}
    for path in sorted(root.rglob("*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[path.relative_to(root).as_posix()] = (digest, path.stat().st_mtime_ns)
    return state


# ---------------------------------------------------------------------------------- sample corpus


def test_sample_corpus_imports_and_exports_in_file_order_with_markdown_rendered(tmp_path):
    files = sorted(p for p in SAMPLE.iterdir() if p.is_file())
    assert len(files) == 5 and files[0].suffix == ".md"
    before = tree_state(SAMPLE)
    db = tmp_path / "db"

    imported = run("import", SAMPLE, "--db", db, cwd=tmp_path)

    assert imported.code == 0, imported.err
    assert "5 imported" in imported.err and "0 skipped" in imported.err
    records = export_all(db, tmp_path, "--all")
    assert [r["id"] for r in records] == [p.name for p in files]
    md = records[0]
    raw = files[0].read_text("utf-8")
    assert "## **Mexico demands" in raw and "](#)" in raw  # the file really is Markdown...
    # ...and the text is rendered. The source's one "\\*\\*\\*" is escaped: literal asterisks.
    assert raw.count("\\*\\*\\*") == 1 and md["text"].count("\n***\n") == 1
    rendered = md["text"].replace("\n***\n", "\n")
    assert "**" not in rendered and "](" not in rendered
    assert "\nMexico demands lifting of the US embargo against Cuba\n" in md["text"]
    assert not any(line.startswith("#") for line in md["text"].splitlines())
    assert md["text"].startswith("Mexican President AMLO to Lead International Campaign")
    assert md["meta"]["title"].startswith("Mexican President AMLO")
    for record, path in zip(records[1:], files[1:], strict=True):
        assert record["text"] == path.read_text("utf-8").replace("\r\n", "\n")
    assert tree_state(SAMPLE) == before  # nothing written into the corpus
    assert export_all(db, tmp_path) == []  # nothing labelled or done yet


# ------------------------------------------------------------------------------------ import


def test_bad_inputs_are_reported_one_line_each_and_the_rest_imports(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a-good.txt").write_text("A good article about the minister.", "utf-8")
    (corpus / "b-image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (corpus / "c-latin1.txt").write_bytes("Café olé".encode("latin-1"))
    (corpus / "d-empty.md").write_bytes(b"")
    (corpus / "e-blank.txt").write_bytes(b" \n\n\t \n")
    (corpus / "f-nul.txt").write_bytes(b"half text\x00half binary")
    (corpus / "g-utf16.txt").write_bytes("\ufeffUTF-16 text: ✓".encode("utf-16-le"))
    write_jsonl(corpus / "h-data.jsonl", [
        {"id": "j1", "text": "Good record one.", "spans": [{"start": 0, "end": 4, "label": "claim"}]},
        "{not json",
        "[\"a list\"]",
        {"id": "j4", "meta": {"note": "no text"}},
        {"id": "j5", "text": "Spans wrong.", "spans": "0-5"},
        {"id": "j6", "text": "Bool offsets.", "spans": [{"start": False, "end": 4, "label": "claim"},
                                                       {"start": 5, "end": 12, "label": "claim"}]},
        {"id": "j7", "text": "Out of range.", "spans": [{"start": 0, "end": 99, "label": "claim"},
                                                       {"start": 0, "end": 3, "label": "nope"}]},
        {"id": "j8", "text": "Good record eight."},
    ])
    db = tmp_path / "db"

    result = run("import", corpus, "--db", db, cwd=tmp_path)

    assert result.code != 0
    lines = result.err.strip().splitlines()
    summary = lines[-1]
    problems = lines[:-1]
    expected = {
        "b-image.txt": "binary", "c-latin1.txt": "UTF-8", "d-empty.md": "empty",
        "e-blank.txt": "whitespace", "f-nul.txt": "NUL", "h-data.jsonl:2:": "JSON",
        "h-data.jsonl:3:": "object", "h-data.jsonl:4:": "text", "h-data.jsonl:5:": "not a list",
        "h-data.jsonl:6:": "whole numbers", "h-data.jsonl:7: span 1": "outside",
        "h-data.jsonl:7: span 2": "unknown label",
    }
    assert len(problems) == len(expected), result.err
    for needle, reason in expected.items():
        (line,) = [p for p in problems if needle in p]
        assert reason in line, line
    assert "7 imported" in summary and "0 unchanged" in summary and "8 skipped" in summary
    records = export_all(db, tmp_path, "--all")
    assert [r["id"] for r in records] == ["a-good.txt", "g-utf16.txt", "j1", "j5", "j6", "j7",
                                          "j8"]
    assert records[1]["text"] == "UTF-16 text: ✓"
    spans = {r["id"]: [s["text"] for s in r["spans"]] for r in records}
    assert spans["j1"] == ["Good"] and spans["j6"] == ["offsets"] and spans["j7"] == []


def test_reimporting_an_unchanged_corpus_touches_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.txt").write_text("One article.", "utf-8")
    (corpus / "two.md").write_text("## Two\n\nA [linked](http://x) article.", "utf-8")
    write_jsonl(corpus / "three.jsonl", [
        {"id": "t", "text": "Three.", "spans": [{"start": 0, "end": 5, "label": "claim"}],
         "done_by": ["ana"]}])
    db = tmp_path / "db"
    assert run("import", corpus, "--db", db, cwd=tmp_path).code == 0
    before = tree_state(db)

    again = run("import", corpus, "--db", db, cwd=tmp_path)

    assert again.code == 0, again.err
    assert "0 imported, 0 updated, 3 unchanged" in again.err
    assert tree_state(db) == before


def test_without_db_the_project_goes_beside_the_corpus_and_is_found_again(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("An article.", "utf-8")
    assert run("import", corpus, cwd=tmp_path).code == 0
    assert (corpus / ".tui-reader" / "project.json").is_file()
    assert run("import", corpus, cwd=tmp_path).code == 0  # its own folder is not imported
    assert [r["id"] for r in export_all(corpus, tmp_path, "--all")] == ["a.txt"]
    found = run("export", "-o", "-", "--all", cwd=corpus)  # nearest .tui-reader/
    assert [r["id"] for r in found.records] == ["a.txt"]


def test_a_file_changed_after_labelling_is_named_and_kept(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = write_jsonl(corpus / "d.jsonl", [
        {"id": "kept", "text": "Original words.", "spans": [{"start": 0, "end": 8, "label": "claim"}]},
        {"id": "free", "text": "Never labelled."}])
    db = tmp_path / "db"
    assert run("import", corpus, "--db", db, cwd=tmp_path).code == 0
    write_jsonl(source, [{"id": "kept", "text": "Different words."},
                         {"id": "free", "text": "Changed, never labelled."}])

    result = run("import", corpus, "--db", db, cwd=tmp_path)

    assert result.code != 0
    (problem,) = [line for line in result.err.splitlines() if "changed after" in line]
    assert f"{source}:1" in problem and "'kept'" in problem
    assert "1 updated" in result.err
    records = {r["id"]: r for r in export_all(db, tmp_path, "--all")}
    assert records["kept"]["text"] == "Original words."
    assert [s["text"] for s in records["kept"]["spans"]] == ["Original"]
    assert records["free"]["text"] == "Changed, never labelled."


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {"LOGNAME": "login-person", "USER": "login-person"}, "login-person"),
        (("--annotator", "flag-person"), {"LOGNAME": "login-person"}, "flag-person"),
        ((), {"LOGNAME": "login-person", "TUI_READER_ANNOTATOR": "env-person"}, "env-person"),
    ],
)
def test_spans_without_an_annotator_get_the_annotator_option(tmp_path, args, env, expected):
    source = write_jsonl(tmp_path / "s.jsonl", [
        {"id": "a", "text": "Who labelled this?", "spans": [
            {"start": 0, "end": 3, "label": "claim"},
            {"start": 4, "end": 12, "label": "quote", "annotator": "named"}]}])
    db = tmp_path / "db"
    assert run("import", source, "--db", db, *args, cwd=tmp_path, env=env).code == 0
    (record,) = export_all(db, tmp_path)
    assert [(s["text"], s["annotator"]) for s in record["spans"]] == [
        ("Who", expected), ("labelled", "named")]


def test_large_inputs_import_intact(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    line = "Große Nachrichten 新闻 أخبار 👩‍👩‍👦 über alles.\n"
    text = line * (20_000_000 // len(line.encode()) + 1)
    (corpus / "big.txt").write_bytes(text.encode())
    long_text = ("x" * 999 + "é") * 1000
    write_jsonl(corpus / "long.jsonl", [{"id": "long", "text": long_text}])
    db = tmp_path / "db"

    result = run("import", corpus, "--db", db, cwd=tmp_path)

    assert result.code == 0, result.err
    records = {r["id"]: r for r in export_all(db, tmp_path, "--all")}
    assert records["big.txt"]["text"] == text
    assert records["big.txt"]["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert records["long"]["text"] == long_text


# ------------------------------------------------------------------------------------ export


@pytest.fixture
def labelled_db(tmp_path) -> Path:
    source = write_jsonl(tmp_path / "src.jsonl", [
        {"id": "d1", "text": "Ana and Bo both labelled this one.", "spans": [
            {"start": 0, "end": 3, "label": "claim", "annotator": "ana"},
            {"start": 8, "end": 10, "label": "quote", "annotator": "bo"}]},
        {"id": "d2", "text": "Only Bo labelled this, and finished.", "done_by": ["bo"],
         "spans": [{"start": 0, "end": 4, "label": "opinion", "annotator": "bo"}]},
        {"id": "d3", "text": "Ana read it: nothing to label.", "done_by": ["ana"]},
        {"id": "d4", "text": "Nobody has read this one yet."},
    ])
    db = tmp_path / "db"
    assert run("import", source, "--db", db, cwd=tmp_path).code == 0
    return db


def test_export_to_a_file_and_to_stdout_agree(labelled_db, tmp_path):
    out = tmp_path / "out.jsonl"
    to_file = run("export", "--db", labelled_db, "-o", out, "--format", "jsonl", cwd=tmp_path)
    assert to_file.code == 0 and "3 documents" in to_file.err
    to_stdout = run("export", "--db", labelled_db, "-o", "-", cwd=tmp_path)
    assert to_stdout.code == 0
    assert out.read_bytes() == to_stdout.out
    assert [r["id"] for r in to_stdout.records] == ["d1", "d2", "d3"]
    for record in to_stdout.records:
        assert set(record) >= {"id", "text", "text_sha256", "spans", "meta"}
        for span in record["spans"]:
            assert record["text"][span["start"]:span["end"]] == span["text"]
    assert to_stdout.records[2]["done_by"] == ["ana"] and to_stdout.records[2]["spans"] == []
    assert not out.with_name("out.jsonl.part").exists()


def test_export_all_adds_the_unread_documents(labelled_db, tmp_path):
    assert [r["id"] for r in export_all(labelled_db, tmp_path, "--all")] == ["d1", "d2", "d3", "d4"]


def test_export_annotator_filter(labelled_db, tmp_path):
    records = export_all(labelled_db, tmp_path, "--annotator", "bo")
    assert [r["id"] for r in records] == ["d1", "d2"]
    assert [s["text"] for s in records[0]["spans"]] == ["Bo"]
    assert {s["annotator"] for r in records for s in r["spans"]} == {"bo"}


def test_export_label_filter(labelled_db, tmp_path):
    records = export_all(labelled_db, tmp_path, "--label", "quote")
    assert [(r["id"], [s["label"] for s in r["spans"]]) for r in records] == [
        ("d1", ["quote"]), ("d2", []), ("d3", [])]  # done documents stay, minus other labels
    records = export_all(labelled_db, tmp_path, "--label", "quote", "--label", "claim")
    assert [s["label"] for s in records[0]["spans"]] == ["claim", "quote"]


def test_export_status_filter(labelled_db, tmp_path):
    assert [r["id"] for r in export_all(labelled_db, tmp_path, "--status", "done")] == ["d2", "d3"]
    only_ana = export_all(labelled_db, tmp_path, "--status", "done", "--annotator", "ana")
    assert [r["id"] for r in only_ana] == ["d3"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [(("--label", "rumour"), "rumour"), (("--status", "finished"), "finished"),
     (("--format", "csv"), "csv")],
)
def test_export_refuses_unknown_filter_values(labelled_db, tmp_path, args, needle):
    out = tmp_path / "out.jsonl"
    result = run("export", "--db", labelled_db, "-o", out, *args, cwd=tmp_path)
    assert result.code != 0 and needle in result.err
    assert not out.exists()


def test_round_trip_through_the_command_is_exact(tmp_path):
    family = "👩\u200d👩\u200d👧\u200d👧"
    raw = f"سلام {family} cafe\u0301 東京\r\nnext line"
    first = raw.index(family)
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "x", "text": raw, "meta": {"lang": "mixed"}, "annotator": "ana", "spans": [
            {"start": first, "end": first + len(family), "label": "claim"},
            {"start": 0, "end": first + len(family), "label": "quote", "annotator": "bo"},
            {"start": raw.index("東京"), "end": len(raw), "label": "opinion"}]},
        {"id": "neg", "text": "Nothing here.", "spans": [], "done_by": ["bo"]},
    ])
    db1, db2 = tmp_path / "db1", tmp_path / "db2"
    assert run("import", source, "--db", db1, cwd=tmp_path).code == 0
    out1 = tmp_path / "out1.jsonl"
    assert run("export", "--db", db1, "-o", out1, cwd=tmp_path).code == 0
    assert run("import", out1, "--db", db2, cwd=tmp_path).code == 0
    out2 = run("export", "--db", db2, "-o", "-", cwd=tmp_path)

    assert out2.out == out1.read_bytes()
    x, neg = out2.records
    assert x["text"] == raw.replace("\r\n", "\n")
    assert [(s["text"], s["annotator"]) for s in x["spans"]] == [
        (f"سلام {family}", "bo"), (family, "ana"), ("東京\nnext line", "ana")]
    assert neg["done_by"] == ["bo"] and neg["spans"] == []


# --------------------------------------------------------------------- not a project / corrupt


def _project(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "d.jsonl", [{"id": "a", "text": "Labelled text.", "spans": [
        {"start": 0, "end": 8, "label": "claim"}]}])
    db = tmp_path / "db"
    assert run("import", corpus, "--db", db, cwd=tmp_path).code == 0
    return db


def _doc_file(db: Path) -> Path:
    (path,) = (db / "docs").glob("*/*.json")
    return path


def _commands(db: Path, tmp_path: Path) -> list[tuple[str, ...]]:
    return [("import", str(tmp_path / "corpus"), "--db", str(db)),
            ("export", "--db", str(db), "-o", str(tmp_path / "out.jsonl"), "--all")]


def _assert_refused(result: Result, named: Path) -> None:
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert str(named) in lines[0] or named.name in lines[0], lines[0]


@pytest.mark.parametrize("command", [0, 1], ids=["import", "export"])
def test_db_that_is_a_regular_file_is_refused_and_left_alone(tmp_path, command):
    _project(tmp_path)  # makes the corpus
    db = tmp_path / "notes.txt"
    db.write_bytes(b"my precious notes\n")
    result = run(*_commands(db, tmp_path)[command], cwd=tmp_path)
    _assert_refused(result, db)
    assert db.read_bytes() == b"my precious notes\n"
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("command", [0, 1], ids=["import", "export"])
def test_db_that_is_a_foreign_folder_is_refused_and_left_alone(tmp_path, command):
    _project(tmp_path)
    db = tmp_path / "photos"
    (db / "2023").mkdir(parents=True)
    (db / "2023" / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (db / "catalog.json").write_text('{"mine": true}', "utf-8")
    before = tree_state(db)
    result = run(*_commands(db, tmp_path)[command], cwd=tmp_path)
    _assert_refused(result, db)
    assert tree_state(db) == before


@pytest.mark.parametrize("command", [0, 1], ids=["import", "export"])
@pytest.mark.parametrize(
    ("name", "content"),
    [("catalog.json", b'{"documents": {"1": {"id": "a", "ti'), ("catalog.json", b""),
     ("project.json", b"\x00\x01garbage"), ("config.toml", b"[[labels]\nname = ")],
)
def test_corrupt_project_files_are_named_and_left_alone(tmp_path, command, name, content):
    db = _project(tmp_path)
    target = db / name
    target.write_bytes(content)
    before = tree_state(db)
    result = run(*_commands(db, tmp_path)[command], cwd=tmp_path)
    _assert_refused(result, target)
    assert tree_state(db) == before
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("content", [b'{"document": {"1": {"id": "a", "te', b""])
def test_a_corrupt_document_file_is_named_and_left_alone(tmp_path, content):
    db = _project(tmp_path)
    target = _doc_file(db)
    target.write_bytes(content)
    before = tree_state(db)
    for command in _commands(db, tmp_path):
        # import re-reads the document to add the source's spans; export reads every document
        _assert_refused(run(*command, cwd=tmp_path), target)
        assert tree_state(db) == before
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("where", "content"),
    [("catalog", b"[]"), ("catalog", b'{"documents": []}'),
     ("catalog", b'{"documents": {"1": {}}}'),
     ("doc", b"[]"), ("doc", b'{"spans": []}')],
)
def test_wrong_shaped_json_in_a_project_is_named(tmp_path, where, content):
    db = _project(tmp_path)
    target = db / "catalog.json" if where == "catalog" else _doc_file(db)
    target.write_bytes(content)
    result = run("export", "--db", db, "-o", "-", "--all", cwd=tmp_path, check_traceback=False)
    assert "Traceback" not in result.err
    _assert_refused(result, target)
    assert target.read_bytes() == content


def test_export_without_a_project_says_how_to_make_one(tmp_path):
    result = run("export", "-o", "-", cwd=tmp_path)
    assert result.code != 0 and "import" in result.err and result.out == b""
