"""A document's snapshot and journal (core/journal.py): a label appends what it changed, a crash
mid-append loses nothing acknowledged, damage is reported and never written over, and what a
fresh reader finds is what the writer holds."""

from __future__ import annotations

import os

import pytest

from tests.helpers import make_project
from tui_reader.core import journal
from tui_reader.core.errors import CorruptFileError
from tui_reader.core.store import Project
from tui_reader.core.summary import summarize, updated

TEXT = "The minister said the plan would work. Critics disagreed. " * 200


def _big(tmp_path, spans: int) -> Project:
    project = make_project(tmp_path, {"a": TEXT, "b": "Short one."})
    items = [{"start": i, "end": i + 10, "label": "claim", "annotator": "seed"}
             for i in range(spans)]
    project.import_spans("a", items)
    return project


def _sizes(project: Project, doc_id: str = "a") -> tuple[int, int]:
    path = project.doc_path(doc_id)
    log = journal.journal_path(path)
    return path.stat().st_size, os.path.getsize(log) if os.path.exists(log) else 0


@pytest.mark.parametrize("spans", [50, 2000])
def test_a_label_appends_its_own_few_hundred_bytes_whatever_the_article_holds(tmp_path, spans):
    project = _big(tmp_path, spans)
    project.set_status("a", "ana", "in progress")  # folds the import's large line in, if due
    snapshot = project.doc_path("a").stat()
    _, log_before = _sizes(project)
    project.add_span("a", 0, 12, "quote", "ana")
    after = project.doc_path("a").stat()
    _, log_after = _sizes(project)
    assert (after.st_ino, after.st_mtime_ns) == (snapshot.st_ino, snapshot.st_mtime_ns)
    assert 0 < log_after - log_before < 600  # the span's row, not the article's 2,000
    fresh = Project.open(project.root)
    assert [(s.start, s.end, s.label) for s in fresh.spans("a", "ana")] == [(0, 12, "quote")]
    assert len(fresh.spans("a")) == spans + 1


def test_the_journal_is_folded_into_the_snapshot_once_it_is_as_large(tmp_path, monkeypatch):
    project = _big(tmp_path, 20)
    monkeypatch.setattr(journal, "COMPACT_AT", 0)
    snapshot, _ = _sizes(project)
    n = 0
    while _sizes(project)[1] > 0 or n == 0:  # until a write folds the journal in
        project.add_span("a", 100 + n, 110 + n, "opinion", "ana", note="x" * 300)
        n += 1
        assert n < 1000
    assert _sizes(project)[1] == 0 and _sizes(project)[0] > snapshot
    fresh = Project.open(project.root)
    assert len(fresh.spans("a", "ana")) == n and len(fresh.spans("a")) == 20 + n


def test_a_torn_last_line_is_not_a_label_and_the_next_write_cuts_it_off(tmp_path):
    project = _big(tmp_path, 5)
    project.add_span("a", 0, 12, "quote", "ana")
    log = journal.journal_path(project.doc_path("a"))
    whole = open(log, "rb").read()
    with open(log, "ab") as f:  # a crash halfway through an append (its fsync never returned)
        f.write(b'{"ops": [["put", "spans", "zz", {"id": "zz", "note": "' + b"n" * 3000)
    fresh = Project.open(project.root)
    assert [s.label for s in fresh.spans("a", "ana")] == ["quote"]
    fresh.add_span("a", 20, 30, "claim", "ana")
    data = open(log, "rb").read()
    assert data.startswith(whole) and b'"zz"' not in data and data.endswith(b"\n")
    assert sorted(s.label for s in Project.open(project.root).spans("a", "ana")) == [
        "claim", "quote"]


def test_a_damaged_line_before_others_is_reported_and_nothing_is_written(tmp_path):
    project = _big(tmp_path, 5)
    project.add_span("a", 0, 12, "quote", "ana")
    project.add_span("a", 20, 30, "claim", "ana")
    log = journal.journal_path(project.doc_path("a"))
    lines = open(log, "rb").read().split(b"\n")
    lines[0] = b"#" + lines[0][1:]
    open(log, "wb").write(b"\n".join(lines))
    damaged = open(log, "rb").read()
    fresh = Project.open(project.root)
    with pytest.raises(CorruptFileError, match=r"\.log: line at byte 0 is damaged.*left untouched"):
        fresh.record("a")
    with pytest.raises(CorruptFileError):
        fresh.add_span("a", 40, 50, "claim", "ana")
    assert open(log, "rb").read() == damaged


def test_another_process_appending_is_seen_by_a_writer_that_remembers_the_document(tmp_path):
    project = _big(tmp_path, 5)
    project.add_span("a", 0, 12, "quote", "ana")  # this process now remembers "a"
    log = journal.journal_path(project.doc_path("a"))
    # What another process's write looks like on disk: one more line.
    row = {"id": "other1", "doc_id": "a", "start": 40, "end": 50, "label": "claim",
           "annotator": "bo", "text": TEXT[40:50], "created": "2026-01-01T00:00:00"}
    import orjson

    with open(log, "ab") as f:
        f.write(orjson.dumps({"ops": [["put", "spans", "other1", row]]}) + b"\n")
    project.add_span("a", 60, 70, "claim", "ana")
    fresh = Project.open(project.root)
    assert {s.annotator for s in fresh.spans("a")} == {"seed", "ana", "bo"}
    assert fresh.progress("a", "bo").spans == 1  # the summary counted bo's row too


def test_the_summary_kept_up_to_date_change_by_change_equals_one_made_afresh(tmp_path):
    project = _big(tmp_path, 3)
    project.add_span("a", 0, 12, "quote", "ana")
    span = project.add_span("a", 20, 30, "claim", "ana")
    project.set_status("a", "ana", "done")
    project.add_time("a", "ana", 12.5)
    project.set_article_labels("a", "ana", "genre", ["other"])
    project.update_span("a", span.id, label="opinion")
    project.remove_span("a", span.id)
    project.set_status("a", "ana", "skipped")
    tables = project._read_shard("a")
    kept = project._index.row("a")
    assert {k: v for k, v in kept.items() if k != "file"} == summarize(tables)


def test_updated_summaries_drop_what_summarize_would_not_have():
    tables = {"spans": {"s": {"id": "s", "annotator": "ana", "label": "claim"}}}
    row = summarize(tables)
    gone = updated(row, [journal.RowChange("spans", tables["spans"]["s"], None)])
    assert gone == summarize({}) == {"spans": 0, "annotators": {}}
    assert row == {"spans": 1, "annotators": {"ana": {"labels": {"claim": 1}}}}  # not changed


def test_a_label_is_on_disk_before_it_is_reported_saved(tmp_path, monkeypatch):
    """Every write is fsynced before the call returns: the journal line, and a new snapshot
    with the folder holding it (a process kill cannot tell; a power cut could)."""
    project = _big(tmp_path, 5)
    synced: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    project.add_span("a", 0, 12, "quote", "ana")
    assert journal.journal_path(project.doc_path("a")) in synced
    synced.clear()
    monkeypatch.setattr(journal, "COMPACT_AT", 0)
    monkeypatch.setattr(journal, "COMPACT_RATIO", 0.0)
    project.add_span("a", 20, 30, "claim", "ana")  # folds the journal into a new snapshot
    folder = str(project.doc_path("a").parent)
    assert any(os.path.basename(p).startswith(".tmp-") for p in synced)  # the new snapshot
    assert folder in synced  # its rename
    assert journal.journal_path(project.doc_path("a")) in synced  # the journal emptied


def test_an_import_leaves_whole_snapshots_and_no_lines_to_replay(tmp_path):
    """Unsynced writes (imports) fold in: readers of a freshly imported project replay nothing."""
    from tui_reader.core.importer import import_paths

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(
        f'{{"id": "d{i}", "text": "Article {i}. It has words.", "spans": [{{"start": 0, '
        f'"end": 7, "label": "claim", "annotator": "seed"}}]}}\n' for i in range(5)),
        encoding="utf-8")
    project = Project.open(tmp_path / "db", create=True)
    import_paths(project, [corpus], "importer")
    ids = [d.id for d in project.documents()]
    assert len(ids) == 5
    assert not [p for p in (tmp_path / "db").rglob("*.log")]
    assert all(len(Project.open(tmp_path / "db").spans(d)) == 1 for d in ids)
    project.add_span(ids[0], 8, 10, "quote", "ana")  # a label after it: one line, as ever
    assert [p.name for p in (tmp_path / "db").rglob("*.log")] == [
        os.path.basename(journal.journal_path(project.doc_path(ids[0])))]
    fresh = Project.open(tmp_path / "db")  # a reader that replays it sees both spans
    assert [(s.start, s.label) for s in fresh.record(ids[0]).spans] == [(0, "claim"), (8, "quote")]


def test_a_span_row_holds_every_field_of_the_span():
    """Span.to_record is written by hand (asdict deep-copies): a new field must reach the row."""
    from dataclasses import asdict, fields

    from tui_reader.core.model import Span

    span = Span(id="s", doc_id="d", start=0, end=3, label="claim", annotator="ana", text="abc",
                created="c", updated="u", note="n", source="import:x", attributes={"kind": "direct"})
    assert span.to_record() == asdict(span)
    assert set(span.to_record()) == {f.name for f in fields(Span)}
    assert Span.from_record(span.to_record()) == span


def test_an_unsynced_write_never_empties_a_journal_of_acknowledged_lines(tmp_path, monkeypatch):
    """A bulk write (no fsync) over a document with fsynced journal lines appends a line: it
    does not fold them into a snapshot that is not on disk yet and then empty the journal."""
    project = _big(tmp_path, 5)
    project.set_status("a", "ana", "in progress")
    project.add_span("a", 0, 12, "quote", "ana")  # acknowledged: fsynced in the journal
    _, log_before = _sizes(project)
    assert log_before > 0
    project.bulk = True
    try:
        project.add_span("a", 20, 30, "claim", "ana")
    finally:
        project.bulk = False
    _, log_after = _sizes(project)
    assert log_after > log_before  # appended; the acknowledged lines are still there
