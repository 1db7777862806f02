"""The app next to other annotators: their progress shows up live, their deletions do not crash
it; and active time is recorded without idle gaps."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import tui_reader.ui.app as app_module
from tests.helpers import make_project
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.widgets.status_line import StatusLine

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {"a": "First article here. It has two sentences.", "b": "Second article. Also two.",
         "c": "Third article, one sentence."}


def _other_process(db: Path, code: str) -> None:
    script = f"from tui_reader.core.store import Project\np = Project.open({str(db)!r})\n{code}"
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def _wait_for(pilot, condition, seconds: float = 8.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        await pilot.pause(0.2)
    return condition()


async def test_teammates_progress_shows_in_the_list_without_restarting(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.5)
    project = make_project(tmp_path, TEXTS)
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        assert await _wait_for(pilot, lambda: "b" in app.table.progress)
        assert app.table.progress["b"].all_spans == 0
        _other_process(project.root, "p.add_span('b', 0, 15, 'claim', 'bob')\n"
                                     "p.set_status('c', 'bob', 'done')")
        assert await _wait_for(pilot, lambda: app.table.progress["b"].all_spans == 1)
        assert await _wait_for(pilot, lambda: app.table.progress["c"].done_by == ("bob",))
        # The open article too: bob's span on it appears (read-only) without a restart.
        _other_process(project.root, "p.add_span('a', 0, 19, 'quote', 'bob')")
        assert await _wait_for(pilot, lambda: len(app.session.others) == 1)
        await pilot.press("o")
        assert any(s.annotator == "bob" for s in app.pane._visible_spans())


async def test_the_open_article_is_read_again_only_when_someone_else_wrote_it(tmp_path, monkeypatch):
    # Re-reading costs what the article holds: after our own labels the session has them.
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.3)
    project = make_project(tmp_path, TEXTS)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(120, 40)) as pilot:
        reloads = []
        real = app.session.reload_spans
        monkeypatch.setattr(app.session, "reload_spans", lambda: (reloads.append(1), real())[1])
        await pilot.pause(0.5)
        await pilot.press("1", ")", "2")
        await pilot.pause(1.2)  # several scans, each seeing the article's files changed
        assert reloads == [] and len(app.session.spans) == 2
        _other_process(project.root, "p.add_span('a', 0, 19, 'quote', 'bob')")
        assert await _wait_for(pilot, lambda: len(app.session.others) == 1)
        assert reloads


async def test_a_scan_redraws_only_the_rows_of_the_articles_that_changed(tmp_path, monkeypatch):
    # Over SSH the whole list is ~2.6 KB at 120x40, and every session scans every few seconds.
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.3)
    project = make_project(tmp_path, TEXTS)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await _wait_for(pilot, lambda: "c" in app.table.progress)
        await pilot.pause(0.5)
        whole, rows = [], []
        table = app.table
        real_refresh, real_line = table.refresh, table.refresh_line
        monkeypatch.setattr(table, "refresh",
                            lambda *a, **k: (a or whole.append(k), real_refresh(*a, **k))[1])
        monkeypatch.setattr(table, "refresh_line", lambda y: (rows.append(y), real_line(y))[1])
        await pilot.press("1")  # our own label: its row's count, and nothing from the scans
        await pilot.pause(1.0)
        assert whole == [] and rows == [0]
        _other_process(project.root, "p.set_status('c', 'bob', 'done')")
        assert await _wait_for(pilot, lambda: table.progress["c"].done_by == ("bob",))
        assert whole == [] and rows == [0, 2]  # c's row, nothing else


async def test_a_span_deleted_elsewhere_is_reported_not_a_crash(tmp_path):
    project = make_project(tmp_path, TEXTS)
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        (span,) = Project.open(project.root).spans("a")
        # The same annotator deletes it from a second terminal.
        other = Project.open(project.root)
        other.remove_span("a", span.id)
        await pilot.press("u")  # undo an add whose span is already gone: nothing to remove
        await pilot.pause()
        assert app.is_running
        await pilot.press("2")
        await pilot.pause()
        assert [s.label for s in Project.open(project.root).spans("a")] == ["quote"]


async def test_active_time_leaves_out_idle_gaps(tmp_path):
    project = make_project(tmp_path, TEXTS)
    clock = [1000.0]
    app = AnnotatorApp(Project.open(project.root), "alice")
    app.activity.clock = lambda: clock[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")  # starts the clock
        clock[0] += 40
        await pilot.press("l")  # 40 s of work
        clock[0] += 3600
        await pilot.press("l")  # an hour away: not counted
        clock[0] += 20
        await pilot.press("1")  # 20 s more
        await pilot.press("n")  # switching article records the time
        await pilot.pause()
    rows = Project.open(project.root)._read_shard("a")["time"].values()
    assert [r["seconds"] for r in rows if r["annotator"] == "alice"] == [60.0]


def _seconds(db: Path, doc_id: str, annotator: str = "alice") -> list[float]:
    rows = Project.open(db)._read_shard(doc_id).get("time", {}).values()
    return [r["seconds"] for r in rows if r["annotator"] == annotator]


async def test_active_time_is_recorded_while_reading_and_on_quit(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "TIME_FLUSH_SECONDS", 0.2)
    project = make_project(tmp_path, TEXTS)
    clock = [1000.0]
    app = AnnotatorApp(Project.open(project.root), "alice")
    app.activity.clock = lambda: clock[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        clock[0] += 30
        await pilot.press("l")
        # Still on the same article: the periodic flush records it (a dropped line loses little).
        assert await _wait_for(pilot, lambda: _seconds(project.root, "a") == [30.0])
    assert _seconds(project.root, "a") == [30.0]  # recorded once, not again on quit


async def test_active_time_is_recorded_on_quit(tmp_path):
    project = make_project(tmp_path, TEXTS)
    clock = [1000.0]
    app = AnnotatorApp(Project.open(project.root), "alice")
    app.activity.clock = lambda: clock[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        clock[0] += 25
        await pilot.press("l")
        assert _seconds(project.root, "a") == []
        await pilot.press("q")
    assert _seconds(project.root, "a") == [25.0]


async def test_relabelling_a_span_deleted_elsewhere_says_not_saved_and_shows_the_disk(tmp_path):
    project = make_project(tmp_path, TEXTS)
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        (span,) = Project.open(project.root).spans("a")
        Project.open(project.root).remove_span("a", span.id)  # from a second terminal
        await pilot.press("2")  # a relabel of the span that is gone
        await pilot.pause()
        assert app.is_running and "NOT SAVED" in str(app.query_one(StatusLine).render())
        assert app.session.spans == []  # what is on disk now
        await pilot.press("2")
    assert [s.label for s in Project.open(project.root).spans("a")] == ["quote"]


async def test_a_file_damaged_elsewhere_is_reported_once_and_labelling_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.3)
    project = make_project(tmp_path, TEXTS)
    damaged = Project.open(project.root).doc_path("b")
    damaged.write_bytes(b'{"spans": ')  # another article's file, by another program
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:

        def shown() -> str:
            return "\n".join(strip.text for strip in app.screen._compositor.render_strips())

        assert await _wait_for(pilot, lambda: "The article list is not up to date" in shown())
        await pilot.pause(1.0)  # three more scans fail the same way: said once
        assert shown().count("The article list is not up to date") == 1
        await pilot.press("1")  # the open article is fine: labelling goes on
        assert app.is_running and "saved" in str(app.query_one(StatusLine).render())
    assert [s.label for s in Project.open(project.root).spans("a")] == ["claim"]
    assert damaged.read_bytes() == b'{"spans": '  # never overwritten


async def test_a_damaged_article_is_named_and_the_session_goes_on(tmp_path):
    """Another article's file damaged (by hand, a bad copy): opening it, or looking past it for
    the next article to do, says so and stays where it is, instead of ending the session."""
    texts = {"a": "First article here.", "b": "Second article.", "c": "Third article."}
    project = make_project(tmp_path, texts)
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        damaged = Project.open(project.root).doc_path("b")
        damaged.write_bytes(b'{"document": ')
        await pilot.press("n")  # b: cannot be opened
        status = str(app.query_one(StatusLine).render())
        assert app.is_running and app.session.doc.id == "a"
        assert "b could not be opened" in status and "not valid JSON" in status
        await pilot.press("1", "d")  # done; the next one to do is b, which cannot be opened
        await pilot.pause()
        status = str(app.query_one(StatusLine).render())
        assert app.is_running and app.session.doc.id == "a"
        assert "b could not be opened" in status and "not valid JSON" in status
        assert Project.open(project.root).record("a").statuses["alice"].status == "done"
        await pilot.press("u")  # still usable
    assert Project.open(project.root).record("a").statuses["alice"].status == "new"  # undone
    assert damaged.read_bytes() == b'{"document": '


async def test_a_damaged_article_at_start_up_does_not_stop_the_app(tmp_path):
    texts = {"a": "First article here.", "b": "Second article."}
    project = make_project(tmp_path, texts)
    project.set_status("a", "alice", "done")
    Project.open(project.root).doc_path("a").write_bytes(b"{")
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.is_running
        # The summary index knows a is done: the app opens b without reading a's file.
        assert app.session.doc is not None and app.session.doc.id == "b"
        await pilot.click("#articles", offset=(4, 0))  # a, from the list: named, b stays open
        assert "a could not be opened" in str(app.query_one(StatusLine).render())
        assert app.is_running and app.session.doc.id == "b"
        await pilot.press("1")
    assert [s.label for s in Project.open(project.root).spans("b")] == ["claim"]
