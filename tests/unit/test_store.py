"""The store: spans and statuses saved, listed, changed and refused as a user expects."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.helpers import make_project
from tui_reader.core.storage import CorruptFileError, StoreError
from tui_reader.core.store import Project, find_project_dir

TEXT = "Mr. López said \"no\". 日本語です。 👨‍👩‍👧 family cafe\u0301."


def test_add_span_is_on_disk_for_a_fresh_reader(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    span = project.add_span("a", 0, 10, "claim", "ana")
    assert span.text == TEXT[0:10]
    again = Project.open(tmp_path / "db")  # a second process would open it like this
    (stored,) = again.spans("a")
    assert (stored.start, stored.end, stored.label, stored.annotator, stored.text) == (
        0, 10, "claim", "ana", TEXT[:10]
    )


def test_offsets_index_code_points_of_emoji_and_combining_marks(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    start = TEXT.index("👨")
    end = TEXT.index(" family")
    span = project.add_span("a", start, end, "quote", "ana")
    assert span.text == "👨‍👩‍👧"
    cafe = TEXT.index("cafe")
    assert project.add_span("a", cafe, cafe + 5, "opinion", "ana").text == "cafe\u0301"


def test_spans_filter_by_annotator_and_sort_by_position(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    project.add_span("a", 5, 9, "claim", "bo")
    project.add_span("a", 0, 3, "quote", "ana")
    project.add_span("a", 0, 9, "claim", "ana")  # overlaps are allowed
    assert [(s.start, s.end) for s in project.spans("a")] == [(0, 3), (0, 9), (5, 9)]
    assert [s.annotator for s in project.spans("a", "bo")] == ["bo"]


@pytest.mark.parametrize(
    ("start", "end", "label", "message"),
    [
        (5, 5, "claim", "outside the text"),
        (-1, 3, "claim", "outside the text"),
        (0, 999, "claim", "outside the text"),
        (0, 3, "PERSON", "unknown label 'PERSON'"),
    ],
)
def test_bad_spans_are_refused_with_a_reason(tmp_path, start, end, label, message):
    project = make_project(tmp_path, {"a": TEXT})
    with pytest.raises(ValueError, match=message):
        project.add_span("a", start, end, label, "ana")
    assert project.spans("a") == []


def test_remove_and_restore_give_back_the_same_span(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    span = project.add_span("a", 0, 3, "claim", "ana")
    assert project.remove_span("a", span.id) == span
    assert project.spans("a") == []
    assert project.remove_span("a", span.id) is None
    project.restore_span(span)
    assert project.spans("a") == [span]


def test_relabel_and_note(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    span = project.add_span("a", 0, 3, "claim", "ana")
    changed = project.update_span("a", span.id, label="opinion", note="hedged")
    assert (changed.label, changed.note, changed.created) == ("opinion", "hedged", span.created)
    assert project.spans("a") == [changed]
    with pytest.raises(ValueError, match="unknown label"):
        project.update_span("a", span.id, label="nope")


def test_status_per_annotator_and_progress(tmp_path):
    project = make_project(tmp_path, {"a": TEXT, "b": "Second text."})
    assert project.status("a", "ana") == "new"
    assert project.set_status("a", "ana", "done") == "new"
    project.add_span("b", 0, 6, "claim", "ana")
    assert project.status("a", "bo") == "new"
    progress = {doc_id: project.progress(doc_id, "ana") for doc_id in ("a", "b")}
    assert progress["a"].status == "done" and progress["a"].done_by == ("ana",)
    assert progress["b"].status == "in progress" and progress["b"].spans == 1
    with pytest.raises(ValueError, match="unknown status"):
        project.set_status("a", "ana", "finished")


def test_documents_keep_their_order_and_text(tmp_path):
    texts = {f"d{i}": f"Text number {i}." for i in (3, 1, 2)}
    project = make_project(tmp_path, texts)
    assert [d.id for d in project.documents()] == ["d3", "d1", "d2"]
    assert project.document("d1").text == "Text number 1."
    assert project.document("d1").info.sha256 == hashlib.sha256(b"Text number 1.").hexdigest()


def _digest_tree(root):
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_regular_file_as_the_database_is_refused_untouched(tmp_path):
    victim = tmp_path / "notes.json"
    victim.write_bytes(b'{"my": "data"}')
    with pytest.raises(StoreError, match="notes.json is a file"):
        Project.open(victim, create=True)
    assert victim.read_bytes() == b'{"my": "data"}'


def test_a_foreign_folder_is_refused_untouched(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(StoreError, match="refusing to write"):
        Project.open(folder, create=True)
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]


def test_a_corrupt_document_file_is_named_and_never_overwritten(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    project.add_span("a", 0, 3, "claim", "ana")
    path = project.doc_path("a")
    path.write_bytes(b'{"spans": {"1": {"start": 0,')  # torn by something else
    before = _digest_tree(tmp_path / "db")
    with pytest.raises(CorruptFileError, match=str(path)):
        project.add_span("a", 0, 3, "claim", "ana")
    with pytest.raises(CorruptFileError, match="left untouched"):
        project.spans("a")
    assert _digest_tree(tmp_path / "db") == before


def test_a_corrupt_catalogue_is_named_and_never_overwritten(tmp_path):
    make_project(tmp_path, {"a": TEXT})
    catalog = tmp_path / "db" / "catalog.json"
    catalog.write_bytes(b"\x00\x01garbage")
    with pytest.raises(CorruptFileError, match="catalog.json"):
        Project.open(tmp_path / "db")
    assert catalog.read_bytes() == b"\x00\x01garbage"


def test_a_foreign_marker_is_refused(tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "project.json").write_text('{"app": "something-else"}')
    with pytest.raises(CorruptFileError, match="not a tui-reader project"):
        Project.open(tmp_path / "db")


def test_missing_project_without_create_says_how_to_make_one(tmp_path):
    with pytest.raises(StoreError, match="tui-reader import"):
        Project.open(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_find_project_dir_defaults(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Hello there.")
    assert find_project_dir(None, corpus) == corpus / ".tui-reader"
    assert find_project_dir(None, corpus / "a.txt") == corpus / ".tui-reader"
    make = Project.open(corpus / ".tui-reader", create=True)
    assert find_project_dir(corpus, None) == make.root  # a corpus folder given as --db
    monkeypatch.chdir(corpus)
    assert find_project_dir(None, None).resolve() == make.root.resolve()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="no project here"):
        find_project_dir(None, None)


def test_nothing_is_written_outside_the_project_folder(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    project.add_span("a", 0, 3, "claim", "ana")
    assert sorted(os.listdir(tmp_path)) == ["db"]
    assert not list((tmp_path / "db").rglob(".tmp-*"))


def test_clean_temp_files_removes_only_old_orphans(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    orphan = project.doc_path("a").parent / ".tmp-abc.json"
    orphan.write_text("{")
    fresh = project.doc_path("a").parent / ".tmp-new.json"
    fresh.write_text("{")
    old = 1_000_000_000
    os.utime(orphan, (old, old))
    assert project.clean_temp_files() == 1
    assert fresh.exists() and not orphan.exists()


def test_progress_changes_reads_only_changed_documents(tmp_path):
    project = make_project(tmp_path, {"a": TEXT, "b": "Other text."})
    seen: dict[str, int] = {}
    first = project.progress_changes("ana", seen)
    assert set(first) == {"a", "b"}
    assert project.progress_changes("ana", seen) == {}
    other = Project.open(tmp_path / "db")  # another annotator's process
    other.add_span("b", 0, 5, "claim", "bo")
    changed = project.progress_changes("ana", seen)
    assert set(changed) == {"b"} and changed["b"].all_spans == 1


def test_the_default_config_file_reads_back_as_the_defaults(tmp_path):
    from tui_reader.core.config import DEFAULT_LABELS, load_config

    project = make_project(tmp_path)
    config = load_config(project.root / "config.toml")
    assert config.labels == DEFAULT_LABELS
    assert (config.overlap, config.suggest, config.model_threshold) == (1, True, 50)


@pytest.mark.parametrize("collecting", [True, False])
def test_reading_a_file_leaves_the_cyclic_collector_as_it_found_it(tmp_path, collecting):
    """A parse pauses the collector (a large file parses faster); it must never stay paused,
    nor be turned on under the app's start-up, which pauses it on purpose."""
    import gc

    from tui_reader.core.storage import read_json_file

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(b'{"documents": {"d": {"spans": 1}}}')
    bad.write_bytes(b"{broken")
    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        assert read_json_file(good) == {"documents": {"d": {"spans": 1}}}
        assert gc.isenabled() is collecting
        with pytest.raises(CorruptFileError, match="not valid JSON"):
            read_json_file(bad)
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()


def test_parses_in_two_threads_at_once_turn_the_collector_back_on_once_both_end():
    import gc
    import threading

    from tui_reader.core.storage import _collector_paused

    entered, leave = threading.Event(), threading.Event()

    def second() -> None:
        with _collector_paused():
            entered.set()
            leave.wait(10)

    was = gc.isenabled()
    gc.enable()
    try:
        thread = threading.Thread(target=second)
        with _collector_paused():  # the first parse begins
            thread.start()
            assert entered.wait(10)  # the second begins while the first goes on
        assert not gc.isenabled()  # the first has ended: the second still parses
        leave.set()
        thread.join(10)
        assert gc.isenabled()
    finally:
        gc.enable() if was else gc.disable()
