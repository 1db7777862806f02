"""Importing files and folders: what lands in the project, what is refused, and why."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project


def new_project(tmp_path: Path) -> Project:
    return Project.open(tmp_path / "db", create=True)


def write_jsonl(path: Path, records: list, newline: str = "\n") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text(newline.join(lines) + newline, encoding="utf-8", newline="")
    return path


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder under ``root`` with its bytes and mtime."""
    result: dict[str, tuple[bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.stat()
        result[path.relative_to(root).as_posix()] = (
            path.read_bytes() if path.is_file() else None, st.st_mtime_ns
        )
    return result


def span_tuples(project: Project, doc_id: str) -> list[tuple[int, int, str, str, str]]:
    return [(s.start, s.end, s.label, s.annotator, s.text) for s in project.spans(doc_id)]


# ------------------------------------------------------------------------------- files and folders


def test_folder_import_is_recursive_in_path_order_with_relative_ids(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub" / "deeper").mkdir(parents=True)
    # Written in reverse of the expected order, so neither creation order nor mtime can pass.
    (corpus / "sub" / "deeper" / "e.markdown").write_text("# Deep\n\nA *deep* file.", "utf-8")
    (corpus / "sub" / "c.md").write_text("Some **bold** words here.", "utf-8")
    write_jsonl(corpus / "b.jsonl", [{"text": "Line one record.", "id": "r1"},
                                     {"text": "Line two record.", "id": "r0"}])
    (corpus / "a.txt").write_text("Plain text file.\n", "utf-8")
    (corpus / "notes.csv").write_text("not,imported\n", "utf-8")  # unsupported inside a folder
    (corpus / ".hidden.txt").write_text("hidden file", "utf-8")
    project = new_project(tmp_path)

    report = import_paths(project, [corpus], "ana")

    ids = [d.id for d in project.documents()]
    assert ids == ["a.txt", "r1", "r0", "sub/c.md", "sub/deeper/e.markdown"]
    assert report.imported == 5 and report.problems == []
    assert project.document("sub/c.md").text == "Some bold words here."
    assert project.document("sub/deeper/e.markdown").text == "Deep\n\nA deep file."
    assert project.document("a.txt").text == "Plain text file.\n"


def test_a_single_file_is_named_by_its_file_name(tmp_path):
    folder = tmp_path / "x" / "y"
    folder.mkdir(parents=True)
    (folder / "article.txt").write_text("An article about things.", "utf-8")
    project = new_project(tmp_path)
    import_paths(project, [folder / "article.txt"], "ana")
    assert [d.id for d in project.documents()] == ["article.txt"]


def test_ids_are_stable_whichever_way_the_folder_is_named(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "one.txt").write_text("First text of the corpus.", "utf-8")
    write_jsonl(corpus / "data.jsonl", [{"text": "No id given here."},
                                        {"text": "Id in meta.", "meta": {"id": "m-7"}},
                                        {"text": "Null id falls back to meta.", "id": None,
                                         "meta": {"id": "m-8"}}])
    project = new_project(tmp_path)
    import_paths(project, [corpus], "ana")
    first = [d.id for d in project.documents()]
    assert first[1:] == ["m-7", "m-8", "sub/one.txt"]
    assert len(first[0]) >= 8  # derived from the text

    monkeypatch.chdir(tmp_path)
    report = import_paths(project, ["corpus/"], "ana")  # relative, trailing slash
    assert [d.id for d in project.documents()] == first
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 4)


def test_unsupported_and_missing_paths_are_reported(tmp_path):
    (tmp_path / "table.csv").write_text("a,b\n", "utf-8")
    good = tmp_path / "good.txt"
    good.write_text("A good file.", "utf-8")
    project = new_project(tmp_path)
    report = import_paths(project, [tmp_path / "table.csv", tmp_path / "nope", good], "ana")
    assert [d.id for d in project.documents()] == ["good.txt"]
    assert any("table.csv" in p and "unsupported" in p for p in report.problems)
    assert any("nope" in p and "no such file" in p for p in report.problems)
    assert report.skipped == 2


# ------------------------------------------------------------------------------------ decoding


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8.txt", "Grüße aus Köln 👋\n".encode()),
        ("bom8.txt", b"\xef\xbb\xbf" + "Grüße aus Köln 👋\n".encode()),
        ("bom16le.txt", "\ufeffGrüße aus Köln 👋\n".encode("utf-16-le")),
        ("bom16be.txt", "\ufeffGrüße aus Köln 👋\n".encode("utf-16-be")),
    ],
)
def test_utf8_and_boms_decode_to_the_same_text(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    project = new_project(tmp_path)
    import_paths(project, [tmp_path / name], "ana")
    assert project.document(name).text == "Grüße aus Köln 👋\n"


def test_utf16_jsonl_with_bom_imports(tmp_path):
    line = json.dumps({"id": "u16", "text": "Ünïcödé ✓", "spans": [
        {"start": 0, "end": 7, "label": "claim"}]}, ensure_ascii=False)
    path = tmp_path / "u16.jsonl"
    path.write_bytes(("\ufeff" + line + "\r\n").encode("utf-16-le"))
    project = new_project(tmp_path)
    report = import_paths(project, [path], "ana")
    assert report.problems == []
    assert span_tuples(project, "u16") == [(0, 7, "claim", "ana", "Ünïcödé")]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary"),
        ("latin1.txt", "café olé, señor".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\t\r\n   \n", "whitespace-only"),
        ("nul.txt", b"text with a \x00 NUL byte in it", "NUL"),
        ("controls.txt", bytes(range(1, 9)) * 50, "binary"),
        ("latin1.jsonl", '{"text": "café"}\n'.encode("latin-1"), "not UTF-8"),
        ("empty.jsonl", b"", "empty"),
    ],
)
def test_bad_files_are_skipped_with_their_reason_and_the_rest_imports(tmp_path, name, data,
                                                                       reason):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_bytes(data)
    (corpus / "zz-good.txt").write_text("The good file after the bad one.", "utf-8")
    project = new_project(tmp_path)

    report = import_paths(project, [corpus], "ana")

    assert [d.id for d in project.documents()] == ["zz-good.txt"]
    (problem,) = report.problems
    assert name in problem and "skipped" in problem and reason in problem
    assert report.skipped == 1 and report.imported == 1
    assert "1 skipped" in report.summary()


def test_markdown_that_renders_to_nothing_is_skipped(tmp_path):
    (tmp_path / "rule.md").write_text("---\n\n***\n", "utf-8")
    project = new_project(tmp_path)
    report = import_paths(project, [tmp_path / "rule.md"], "ana")
    assert project.documents() == []
    assert any("rule.md" in p and "skipped" in p for p in report.problems)


# ---------------------------------------------------------------------------------------- JSONL


def test_jsonl_spans_keep_their_offsets_exactly(tmp_path):
    text = "  Alpha beta, gamma delta.  "
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "d", "text": text, "meta": {"src": "x"},
                                               "spans": [
        {"start": 1, "end": 8, "label": "claim"},  # a leading space and a trailing one
        {"start": 3, "end": 6, "label": "quote"},  # inside a word: "lph"
        {"start": 8, "end": 13, "label": "opinion"},  # "beta,": punctuation kept
    ]}])
    project = new_project(tmp_path)
    report = import_paths(project, [path], "ana")
    assert report.problems == [] and report.spans_added == 3
    assert project.document("d").text == text
    assert span_tuples(project, "d") == [
        (1, 8, "claim", "ana", " Alpha "),
        (3, 6, "quote", "ana", "lph"),
        (8, 13, "opinion", "ana", "beta,"),
    ]
    assert project.info("d").meta["src"] == "x"


def test_a_bad_span_is_refused_alone_naming_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "first", "text": "Nothing wrong here."},
        {"id": "d", "text": "Ten chars.", "spans": [
            {"start": 0, "end": 3, "label": "claim"},
            {"start": 4, "end": 11, "label": "claim"},  # past the end
            {"start": -1, "end": 2, "label": "claim"},  # negative
            {"start": 5, "end": 5, "label": "claim"},  # empty
            {"start": 4, "end": 9, "label": "rumour"},  # unknown label
            {"start": True, "end": 3, "label": "claim"},  # bool offsets
            {"start": 0, "end": True, "label": "claim"},
            {"start": 1.0, "end": 3, "label": "claim"},  # float offset
            {"start": "1", "end": 3, "label": "claim"},  # string offset
            "not a span",
            {"start": 4, "end": 9, "label": "quote"},
        ]},
    ])
    project = new_project(tmp_path)

    report = import_paths(project, [path], "ana")

    assert span_tuples(project, "d") == [(0, 3, "claim", "ana", "Ten"),
                                         (4, 9, "quote", "ana", "chars")]
    assert len(report.problems) == 9
    for problem in report.problems:
        assert problem.startswith(f"{path}:2: span "), problem
    assert any("span 5" in p and "rumour" in p for p in report.problems)
    assert any("span 7" in p and "whole numbers" in p for p in report.problems)
    assert any("span 2" in p and "4-11" in p for p in report.problems)
    assert [d.id for d in project.documents()] == ["first", "d"]


def test_malformed_lines_are_skipped_one_by_one(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [
        {"id": "ok1", "text": "First good line."},
        '{"id": "broken", "text": "unterminated',
        "[1, 2, 3]",
        '"just a string"',
        {"id": "no-text", "meta": {}},
        {"id": "num-text", "text": 42},
        {"id": "blank-text", "text": " \n\t "},
        {"id": "spans-dict", "text": "Spans are not a list.", "spans": {"start": 0}},
        "",
        {"id": "ok2", "text": "Last good line.", "spans": [{"start": 0, "end": 4, "label": "claim"}]},
    ])
    project = new_project(tmp_path)

    report = import_paths(project, [path], "ana")

    assert [d.id for d in project.documents()] == ["ok1", "spans-dict", "ok2"]
    assert project.spans("spans-dict") == []
    assert span_tuples(project, "ok2") == [(0, 4, "claim", "ana", "Last")]
    by_line = {int(p.split(":")[1]): p for p in report.problems}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8]
    assert all(p.startswith(f"{path}:") for p in report.problems)
    assert "not valid JSON" in by_line[2]
    assert "object" in by_line[3] and "object" in by_line[4]
    assert "text" in by_line[5] and "text" in by_line[6]
    assert "whitespace" in by_line[7]
    assert "not a list" in by_line[8]
    assert report.skipped == 6 and report.imported == 3


def test_crlf_text_is_stored_with_lf_and_spans_cover_the_same_characters(tmp_path):
    raw = "First line.\r\nSecond line here.\r\n\r\nThird: café 👍🏽.\r\n"
    wanted = ["Second", "line.\r\nSecond", "Third: café 👍🏽", "here.\r\n\r\nThird"]
    spans = [{"start": raw.index(w), "end": raw.index(w) + len(w), "label": "claim"}
             for w in wanted]
    path = write_jsonl(tmp_path / "crlf.jsonl", [{"id": "c", "text": raw, "spans": spans}])
    project = new_project(tmp_path)

    report = import_paths(project, [path], "ana")

    assert report.problems == []
    text = project.document("c").text
    assert text == raw.replace("\r\n", "\n")
    got = sorted(s.text for s in project.spans("c"))
    assert got == sorted(w.replace("\r\n", "\n") for w in wanted)
    for span in project.spans("c"):
        assert text[span.start:span.end] == span.text


def test_jsonl_file_with_crlf_line_endings(tmp_path):
    path = write_jsonl(tmp_path / "win.jsonl", [{"id": "a", "text": "One."},
                                                {"id": "b", "text": "Two."}], newline="\r\n")
    project = new_project(tmp_path)
    report = import_paths(project, [path], "ana")
    assert report.problems == []
    assert [project.document(i).text for i in ("a", "b")] == ["One.", "Two."]


def test_prodigy_tasks_load_with_their_annotator(tmp_path):
    text = "The minister said the plan works."
    task = {
        "text": text, "meta": {"source": "wire"}, "_input_hash": -123, "_task_hash": 456,
        "tokens": [{"text": "The", "start": 0, "end": 3, "id": 0}],
        "spans": [{"start": 4, "end": 12, "label": "quote", "token_start": 1, "token_end": 1}],
        "_view_id": "spans_manual", "answer": "accept", "_timestamp": 1700000000,
        "_annotator_id": "news_ner-alice", "_session_id": "news_ner-alice",
    }
    rejected = {**task, "text": "A rejected task.", "answer": "reject",
                "spans": [{"start": 0, "end": 1, "label": "quote"}]}
    path = write_jsonl(tmp_path / "prodigy.jsonl", [task, rejected])
    project = new_project(tmp_path)

    report = import_paths(project, [path], "fallback")

    assert report.problems == [] and report.imported == 2
    first, second = project.documents()
    assert span_tuples(project, first.id) == [(4, 12, "quote", "news_ner-alice", "minister")]
    assert first.source == "wire"
    assert project.spans(second.id) == []  # a rejected answer is not a label


def test_annotator_comes_from_span_then_record_then_default(tmp_path):
    path = write_jsonl(tmp_path / "who.jsonl", [
        {"id": "a", "text": "Span annotators win.", "annotator": "rec",
         "spans": [{"start": 0, "end": 4, "label": "claim", "annotator": "own"},
                   {"start": 5, "end": 15, "label": "claim"}]},
        {"id": "b", "text": "Prodigy annotator id.", "_annotator_id": "prod",
         "spans": [{"start": 0, "end": 7, "label": "claim"}]},
        {"id": "c", "text": "Nobody named.", "spans": [{"start": 0, "end": 6, "label": "claim"}]},
    ])
    project = new_project(tmp_path)
    import_paths(project, [path], "default-user")
    assert [s.annotator for s in project.spans("a")] == ["own", "rec"]
    assert [s.annotator for s in project.spans("b")] == ["prod"]
    assert [s.annotator for s in project.spans("c")] == ["default-user"]


def test_one_id_twice_in_one_import_keeps_the_first(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [{"id": "x", "text": "First version."},
                                                {"id": "x", "text": "Second version."}])
    project = new_project(tmp_path)
    report = import_paths(project, [path], "ana")
    assert project.document("x").text == "First version."
    (problem,) = report.problems
    assert problem.startswith(f"{path}:2:") and "'x'" in problem


def test_done_by_is_imported_as_done(tmp_path):
    path = write_jsonl(tmp_path / "done.jsonl", [
        {"id": "neg", "text": "A read article with nothing to label.", "spans": [],
         "done_by": ["ana", "bo"]},
    ])
    project = new_project(tmp_path)
    import_paths(project, [path], "ana")
    assert project.status("neg", "ana") == "done" and project.status("neg", "bo") == "done"
    assert project.status("neg", "cy") == "new"


# ------------------------------------------------------------------------------------ re-import


def test_reimporting_unchanged_files_changes_nothing_on_disk(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A plain article.\n", "utf-8")
    (corpus / "b.md").write_text("# Title\n\nSome *text*.", "utf-8")
    write_jsonl(corpus / "c.jsonl", [
        {"id": "c1", "text": "Labelled record.", "spans": [
            {"start": 0, "end": 8, "label": "claim", "annotator": "bo"}], "done_by": ["bo"]},
        {"text": "Record without id."},
    ])
    project = new_project(tmp_path)
    first = import_paths(project, [corpus], "ana")
    assert (first.imported, first.spans_added) == (4, 1)
    project.add_span("a.txt", 0, 7, "claim", "ana")  # labelled by hand since
    before = snapshot(project.root)

    again = import_paths(Project.open(project.root), [corpus], "ana")

    assert (again.imported, again.updated, again.unchanged, again.spans_added) == (0, 0, 4, 0)
    assert again.problems == []
    assert snapshot(project.root) == before


def test_changed_text_after_labelling_is_reported_and_the_old_version_kept(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "labelled.txt").write_text("The old text was labelled.", "utf-8")
    (corpus / "untouched.txt").write_text("Nobody labelled this one.", "utf-8")
    write_jsonl(corpus / "d.jsonl", [{"id": "j", "text": "Old record text.", "spans": [
        {"start": 0, "end": 3, "label": "claim"}]}])
    project = new_project(tmp_path)
    import_paths(project, [corpus], "ana")
    project.add_span("labelled.txt", 4, 12, "claim", "ana")

    (corpus / "labelled.txt").write_text("Brand new text, other offsets.", "utf-8")
    (corpus / "untouched.txt").write_text("Edited before anyone labelled it.", "utf-8")
    write_jsonl(corpus / "d.jsonl", [{"id": "j", "text": "New record text!", "spans": [
        {"start": 0, "end": 3, "label": "quote"}]}])
    report = import_paths(project, [corpus], "ana")

    assert project.document("labelled.txt").text == "The old text was labelled."
    assert span_tuples(project, "labelled.txt") == [(4, 12, "claim", "ana", "old text")]
    assert project.document("j").text == "Old record text."
    assert span_tuples(project, "j") == [(0, 3, "claim", "ana", "Old")]
    assert project.document("untouched.txt").text == "Edited before anyone labelled it."
    assert (report.updated, report.imported) == (1, 0)
    assert len(report.problems) == 2
    assert any(p.startswith(str(corpus / "labelled.txt")) and "changed" in p
               for p in report.problems)
    assert any(p.startswith(f"{corpus / 'd.jsonl'}:1") and "changed" in p
               for p in report.problems)


def test_an_updated_document_keeps_its_place_in_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (corpus / name).write_text(f"Text of {name}.", "utf-8")
    project = new_project(tmp_path)
    import_paths(project, [corpus], "ana")
    (corpus / "a.txt").write_text("Edited text of a.", "utf-8")
    report = import_paths(project, [corpus], "ana")
    assert (report.updated, report.unchanged) == (1, 2)
    assert [d.id for d in Project.open(project.root).documents()] == ["a.txt", "b.txt", "c.txt"]
    assert project.document("a.txt").text == "Edited text of a."


def test_marking_done_counts_as_labelled(tmp_path):
    (tmp_path / "a.txt").write_text("Read, nothing to label.", "utf-8")
    project = new_project(tmp_path)
    import_paths(project, [tmp_path / "a.txt"], "ana")
    project.set_status("a.txt", "ana", "done")
    (tmp_path / "a.txt").write_text("Rewritten after it was read.", "utf-8")
    report = import_paths(project, [tmp_path / "a.txt"], "ana")
    assert project.document("a.txt").text == "Read, nothing to label."
    assert len(report.problems) == 1 and "a.txt" in report.problems[0]


def test_reimport_adds_only_new_spans(tmp_path):
    record = {"id": "r", "text": "Some text to label.", "spans": [
        {"start": 0, "end": 4, "label": "claim"}]}
    path = write_jsonl(tmp_path / "r.jsonl", [record])
    project = new_project(tmp_path)
    import_paths(project, [path], "ana")
    record["spans"].append({"start": 5, "end": 9, "label": "quote"})
    write_jsonl(path, [record])
    report = import_paths(project, [path], "ana")
    assert report.spans_added == 1 and report.unchanged == 1
    assert span_tuples(project, "r") == [(0, 4, "claim", "ana", "Some"),
                                         (5, 9, "quote", "ana", "text")]


# ------------------------------------------------------------------------------------ large


def test_a_20_mb_text_file_imports_intact(tmp_path):
    paragraph = (
        "Línea de texto con acentos, 日本語, عربى and an emoji 👨‍👩‍👧 family.\n"
        "Second line\tafter a tab; quotes “like this” and a combining e\u0301.\n\n"
    )
    text = paragraph * (20_000_000 // len(paragraph.encode()) + 1)
    data = text.encode("utf-8")
    assert len(data) > 20_000_000
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    project = new_project(tmp_path)

    report = import_paths(project, [path], "ana")

    assert report.imported == 1 and report.problems == []
    stored = Project.open(project.root).document("big.txt")
    assert stored.text == text
    assert hashlib.sha256(stored.text.encode()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert stored.info.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.info.length == len(text)


def test_a_1_mb_jsonl_line_imports_intact(tmp_path):
    text = ("Ein langer Satz mit Umlauten äöü und 🇲🇽 Flaggen. " * 25_000)[:1_000_000]
    path = write_jsonl(tmp_path / "long.jsonl", [
        {"id": "small", "text": "Before the long line."},
        {"id": "long", "text": text, "spans": [{"start": 999_990, "end": 1_000_000,
                                                "label": "claim"}]},
        {"id": "after", "text": "After the long line."},
    ])
    assert os.path.getsize(path) > 1_000_000
    project = new_project(tmp_path)
    report = import_paths(project, [path], "ana")
    assert report.problems == []
    assert project.document("long").text == text
    assert [s.text for s in project.spans("long")] == [text[999_990:]]
    assert [d.id for d in project.documents()] == ["small", "long", "after"]
