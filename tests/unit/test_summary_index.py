"""The summary index: statuses and figures without reading document files, and never wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import make_project
from tui_reader.core.stats import project_stats
from tui_reader.core.store import Project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEXTS = {f"d{i}": f"Sentence one of {i}. Sentence two of {i}." for i in range(6)}


def _labelled(tmp_path: Path) -> Project:
    project = make_project(tmp_path, TEXTS)
    project.add_span("d0", 0, 8, "claim", "ana")
    project.add_span("d0", 0, 8, "quote", "bo")
    project.set_status("d1", "ana", "done")
    project.set_status("d2", "bo", "skipped")
    project.add_time("d0", "ana", 30)
    project.set_article_labels("d3", "ana", "genre", ["other"])
    return project


def _count_reads(project: Project, monkeypatch) -> list[str]:
    reads: list[str] = []
    original = Project._read_shard

    def counting(self, doc_id):
        if self is project:  # the reader's reads, not a teammate's writes
            reads.append(doc_id)
        return original(self, doc_id)

    monkeypatch.setattr(Project, "_read_shard", counting)
    return reads


def test_statuses_and_figures_come_from_the_index_without_reading_documents(tmp_path, monkeypatch):
    project = _labelled(tmp_path)
    expected = project_stats(project)
    fresh = Project.open(project.root)
    reads = _count_reads(fresh, monkeypatch)
    assert project_stats(fresh) == expected
    assert fresh.progress("d1", "ana").status == "done"
    assert fresh.progress("d0", "bo").status == "in progress"
    assert reads == []
    assert expected["status"]["ana"] == {"new": 4, "in progress": 1, "done": 1, "skipped": 0}
    assert expected["article_labels"]["genre"]["other"] == 1


def test_a_stale_or_damaged_index_is_noticed_and_mended(tmp_path, monkeypatch):
    project = _labelled(tmp_path)
    expected = project_stats(project)
    # Another program (or a crash between the two writes) changes a document behind the index:
    # its summary no longer matches the file, and is made anew from the file.
    doc = project.doc_path("d4")
    tables = json.loads(doc.read_bytes())
    tables["status"] = {"1": {"annotator": "cy", "status": "done", "updated": "x"}}
    doc.write_text(json.dumps(tables), encoding="utf-8")
    fresh = Project.open(project.root)
    reads = _count_reads(fresh, monkeypatch)
    assert fresh.progress("d4", "cy").status == "done"
    assert reads == ["d4"]
    assert project_stats(fresh)["status"]["cy"]["done"] == 1
    assert reads == ["d4"]  # mended: read once
    # A damaged index file is derived data: figures stay right, and it is written anew.
    for index_file in (project.root / "index").iterdir():
        index_file.write_bytes(b"{broken")
    again = Project.open(project.root)
    stats = project_stats(again)
    assert stats["status"]["ana"] == expected["status"]["ana"] and stats["spans"] == expected["spans"]
    assert project_stats(again) == stats


def test_a_project_made_before_the_index_gets_one(tmp_path):
    root = tmp_path / "old"
    shutil.copytree(FIXTURES / "v0.1-project", root)
    assert not (root / "index").exists()
    project = Project.open(root)
    stats = project_stats(project)
    assert stats["status"]["alice"]["done"] == 1 and stats["status"]["bob"]["skipped"] == 1
    assert stats["time"]["alice"]["seconds"] == 42.5
    assert len(list((root / "index").iterdir())) == 2  # one file per stripe that has documents


def test_scans_after_the_first_read_no_document_file(tmp_path, monkeypatch):
    project = _labelled(tmp_path)
    seen: dict = {}
    assert len(project.progress_changes("ana", seen)) == len(TEXTS)
    reads = _count_reads(project, monkeypatch)
    assert project.progress_changes("ana", seen) == {}
    other = Project.open(project.root)  # a teammate's process
    other.set_status("d5", "bo", "done")
    other.add_span("d4", 0, 8, "claim", "ana")
    changed = project.progress_changes("ana", seen)
    assert set(changed) == {"d4", "d5"}
    assert changed["d5"].done_by == ("bo",) and changed["d4"].status == "in progress"
    assert reads == []  # the summaries came from the index


def test_a_write_the_index_missed_is_counted_by_every_pass(tmp_path):
    """A crash between a document's write and its index row's: the figures, the first scan of
    the article list and agreement still see the write, whether it went into a journal the
    document already had or into a new one (a pass skips looking for journals it did not see)."""
    project = _labelled(tmp_path)
    project.add_span("d5", 0, 8, "claim", "ana")
    project.add_span("d5", 0, 8, "claim", "bo")
    index = {f: f.read_bytes() for f in (project.root / "index").iterdir()}
    before = project_stats(project)
    project.add_span("d0", 9, 20, "opinion", "ana")  # d0 has a journal already
    project.add_span("d4", 0, 8, "claim", "cy")  # d4 had none: a new journal
    project.add_span("d5", 9, 20, "quote", "bo")
    for path, data in index.items():  # as the crash left it
        path.write_bytes(data)
    fresh = Project.open(project.root)
    stats = project_stats(fresh)
    assert stats["spans"] == before["spans"] + 3
    assert stats["spans_by_annotator"]["cy"] == {"claim": 1}
    first_scan = fresh.progress_changes("cy", {})
    assert first_scan["d4"].status == "in progress" and first_scan["d4"].spans == 1
    assert first_scan["d0"].all_spans == 3
    from tui_reader.core.agreement import documents_for_agreement

    (d0, d5) = sorted(documents_for_agreement(Project.open(project.root)), key=lambda d: d.id)
    assert d5.spans["bo"] == [(0, 8, "claim"), (9, 20, "quote")]
    assert len(d0.spans["ana"]) == 2


def test_a_stale_summary_that_cannot_be_mended_is_still_counted_right(tmp_path, monkeypatch):
    """A read-only project or a full disk: the index cannot be written, the figures are right."""
    project = _labelled(tmp_path)
    index = {f: f.read_bytes() for f in (project.root / "index").iterdir()}
    project.add_span("d4", 0, 8, "claim", "cy")
    for path, data in index.items():
        path.write_bytes(data)

    def refused(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("tui_reader.core.summary.SummaryIndex.put", refused)
    fresh = Project.open(project.root)
    assert project_stats(fresh)["spans_by_annotator"]["cy"] == {"claim": 1}
    assert fresh.progress("d4", "cy").status == "in progress"
