"""What the project lead set up, met in the app: ``*`` labels every occurrence (one ``u``
undoes), ``H`` shows the guidelines, the article opened is leased (and freed on quitting),
``label-all --as-suggestions`` shows up as suggestions, control scores in ``i``. Driven through
Pilot and read back from disk with a fresh Project."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from tests.helpers import make_project
from tui_reader.core.config import ProjectConfig
from tui_reader.core.controls import add_controls
from tui_reader.core.label_all import label_all
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.screens.choose_span import ChooseScreen
from tui_reader.ui.screens.guidelines import GuidelinesScreen
from tui_reader.ui.screens.stats import StatsScreen
from tui_reader.ui.widgets.status_line import StatusLine

TEXT = ("Ana Ruiz spoke first. Later Ana Ruiz left, and Bo Li said Ana Ruiz was right.\n\n"
        "Nobody asked Ana Ruizova.")
NAME = "Ana Ruiz"
PLACES = [i for i in range(len(TEXT)) if TEXT.startswith(NAME, i)
          and not TEXT[i + len(NAME):i + len(NAME) + 1].isalpha()]


def status(app: AnnotatorApp) -> str:
    return str(app.query_one(StatusLine).render())


def spans_on_disk(project: Project, doc_id: str = "a", annotator: str = "alice"):
    record = Project.open(project.root).record(doc_id)
    return sorted((s.start, s.end, s.label) for s in record.spans if s.annotator == annotator)


async def test_star_labels_every_occurrence_of_a_span_and_one_u_undoes_them_all(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    project.add_span("a", PLACES[0], PLACES[0] + len(NAME), "quote", "alice")
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.pane.move_caret(PLACES[0] + 2)
        await pilot.press("asterisk")
        await pilot.pause()
        # Whole words only: "Ana Ruizova" is not an occurrence.
        assert spans_on_disk(project) == [(p, p + len(NAME), "quote") for p in PLACES]
        assert len(PLACES) == 3
        assert "2 occurrences of “Ana Ruiz” labelled" in status(app)
        assert "one u undoes them all" in status(app)
        await pilot.press("asterisk")  # again: nothing left to label, nothing written
        await pilot.pause()
        assert "Every occurrence is quote already" in status(app)
        await pilot.press("u")
        await pilot.pause()
        assert spans_on_disk(project) == [(PLACES[0], PLACES[0] + len(NAME), "quote")]


async def test_star_on_a_selection_asks_the_label(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.pane.move_caret(PLACES[1])
        await pilot.press("v", *"lllllll")  # "Ana Ruiz"
        await pilot.press("asterisk")
        await pilot.pause()
        assert isinstance(app.screen, ChooseScreen)
        names = project.config.label_names
        await pilot.press(str(names.index("claim") + 1))
        await pilot.pause()
        assert spans_on_disk(project) == [(p, p + len(NAME), "claim") for p in PLACES]
        # Nowhere to start from: a bell and a hint, nothing written.
        app.pane.clear_selection()
        app.pane.move_caret(TEXT.index("Nobody"))
        await pilot.press("asterisk")
        await pilot.pause()
        assert "put the caret on a span of yours" in status(app)
        assert len(spans_on_disk(project)) == 3


async def test_h_shows_the_guidelines_searchable_and_closing_keeps_the_place(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("H")
        await pilot.pause()
        assert not isinstance(app.screen, GuidelinesScreen)  # none yet: a hint where to write them
        assert "no guidelines yet" in status(app) and "guidelines.md" in status(app)
        lines = ["# Claims", "", "A **claim** states something as fact.", ""]
        lines += [f"Filler paragraph {n}." for n in range(80)]
        lines += ["", "## Quotes", "", "A quote is what a named source said: *zebra rule*."]
        project.guidelines_path.write_text("\n".join(lines), encoding="utf-8")
        app.pane.move_caret(PLACES[1])
        await pilot.press("H")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GuidelinesScreen)
        assert "claim" in screen.markdown
        body = screen.query_one("#guidelines-body")
        assert body.scroll_y == 0
        await pilot.press("slash", *"zebra", "enter")
        await pilot.pause()
        assert body.scroll_y > 0  # taken down to the match
        assert "“zebra”: line" in str(screen.query_one("#guidelines-title").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, GuidelinesScreen)
        assert app.pane.caret == PLACES[1]  # the article as it was


async def test_the_opened_article_is_leased_and_freed_on_quitting(tmp_path):
    project = make_project(tmp_path, {"a": "First article.", "b": "Second article."})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert {lease.doc_id: lease.annotator for lease in project.leases.live()} == {"a": "alice"}
        # Overlap 1: bob, starting now, is given the other article.
        bob = AnnotatorApp(Project.open(project.root), "bob", suggest=False)
        async with bob.run_test(size=(120, 30)) as bob_pilot:
            await bob_pilot.pause()
            assert bob.session.doc is not None and bob.session.doc.id == "b"
        await pilot.press("d")  # alice finishes a: the next not done is b (bob has left)
        await pilot.pause()
        assert app.session.doc is not None and app.session.doc.id == "b"
        assert {lease.doc_id for lease in project.leases.live()} == {"b"}
    assert project.leases.live() == []


async def test_stored_suggestions_from_label_all_are_offered_and_accepted(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    label_all(project, NAME, "quote", "alice", as_suggestions=True)
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        offered = [(s.start, s.end, s.label) for s in app.session.suggestions
                   if s.source.startswith("label-all")]  # beside the rules' own
        assert offered == [(p, p + len(NAME), "quote") for p in PLACES]
        app.pane.move_caret(PLACES[2] + 1)
        await pilot.press("a")
        await pilot.pause()
        assert spans_on_disk(project) == [(PLACES[2], PLACES[2] + len(NAME), "quote")]


def figures_shown(app: AnnotatorApp) -> str:
    """The figures screen's text as a terminal 130 columns wide shows it."""
    console = Console(width=130, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#stats", Static).content)
    return console.export_text()


async def test_stats_show_each_annotator_against_the_control_documents(tmp_path):
    project = make_project(tmp_path, {f"d{i}": f"Article {i} here." for i in range(3)})
    control = "Known text: the minister said it works."
    path = tmp_path / "controls.jsonl"
    path.write_text(json.dumps({"id": "k1", "text": control, "spans": [
        {"start": 0, "end": 5, "label": "claim"}, {"start": 12, "end": 24, "label": "quote"}]}) + "\n")
    add_controls(project, path)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        app.open_document("k1", caret=0)
        await pilot.press("v", *"llll")  # "Known": a known answer
        await pilot.press(str(project.config.label_names.index("claim") + 1))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = figures_shown(app)
        assert "Control documents (1)" in shown
        # One of two known spans found, nothing wrong: exact F1 2/3.
        assert "alice" in shown and "F1 exact 0.67" in shown
        assert "weakest: quote 0.00" in shown


async def test_the_figures_screen_counts_a_teammates_work_without_reading_an_article(
        tmp_path, monkeypatch):
    """Pressed while the app's first pass over the articles runs, the screen waits for it and
    then counts from the index: a teammate's label made a moment before is in the figures."""
    project = make_project(tmp_path, {f"d{i}": f"Article {i} here." for i in range(3)})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        Project.open(project.root).add_span("d1", 0, 7, "claim", "bo")  # another process
        reads: list[str] = []
        original = Project._read_shard
        monkeypatch.setattr(Project, "_read_shard",
                            lambda self, doc_id: reads.append(doc_id) or original(self, doc_id))
        await pilot.press("i")
        assert isinstance(app.screen, StatsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.browser.scanned.is_set()
        shown = figures_shown(app)
        assert "3 documents · 1 spans · 1 annotators" in shown
        assert "bo" in shown
        assert reads == []  # d1's summary changed with its file: no article had to be read


async def test_figures_shown_before_the_first_scan_are_counted_again_after_it(tmp_path,
                                                                              monkeypatch):
    """A crash left a label out of the index: the screen, opened before the app's first pass,
    first counts from the index as it is, then shows the label once that pass has mended it."""
    project = make_project(tmp_path, {f"d{i}": f"Article {i} here." for i in range(3)})
    index = {f: f.read_bytes() for f in (project.root / "index").iterdir()}
    project.add_span("d1", 0, 7, "claim", "bo")
    for path, data in index.items():  # the index as the crash left it
        path.write_bytes(data)
    monkeypatch.setattr("tui_reader.ui.app.FIRST_SCAN_DELAY", 1.0)  # i comes before the scan
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("i")
        shown = ""
        for _ in range(100):
            await pilot.pause(0.05)
            shown = figures_shown(app)
            if "1 spans" in shown:
                break
        assert app.browser.scanned.is_set()
        assert "3 documents · 1 spans · 1 annotators" in shown and "bo" in shown


def test_the_config_written_for_a_new_project_names_the_guidelines_file(tmp_path):
    assert ProjectConfig().guidelines == "guidelines.md"
    assert Path(make_project(tmp_path).root / "config.toml").read_text().count("guidelines") >= 1


async def test_closing_the_figures_screen_while_it_counts_leaves_the_app_running(tmp_path):
    project = make_project(tmp_path, {f"d{i}": f"Article {i} here." for i in range(3)})
    for name in ("ana", "bo"):
        project.add_span("d0", 0, 7, "claim", name)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("i", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, StatsScreen)
        await pilot.press("i")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "ana / bo" in figures_shown(app)  # agreement, once counted


async def test_figures_check_the_index_against_the_articles_after_the_first_scan_too(tmp_path):
    """A teammate's process dies between an article's write and its summary's while the app
    runs: the i screen still counts what the article holds."""
    project = make_project(tmp_path, {f"d{i}": f"Article {i} here." for i in range(3)})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        for _ in range(100):
            if app.browser.scanned.is_set():
                break
            await pilot.pause(0.05)
        assert app.browser.scanned.is_set()
        index = {f: f.read_bytes() for f in (project.root / "index").iterdir()}
        Project.open(project.root).add_span("d1", 0, 7, "claim", "bo")
        for path, data in index.items():  # the index as the crash left it
            path.write_bytes(data)
        await pilot.press("i")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "3 documents · 1 spans · 1 annotators" in figures_shown(app)


async def test_the_figures_screen_never_holds_up_quitting_when_the_scans_fail(tmp_path,
                                                                              monkeypatch):
    project = make_project(tmp_path, {"d0": "Article here."})

    def failing(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "docs")

    monkeypatch.setattr(Project, "progress_changes", failing)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("i")
        await pilot.pause(0.3)
        assert "1 documents" in figures_shown(app)  # from the index, at once
        assert counting()  # its thread waits for a first scan that never comes
        await pilot.press("escape")
        # A deadlock guard, not a timing: the thread waited 30 s, and quitting waited for it.
        for _ in range(100):
            if not counting():
                break
            await pilot.pause(0.1)
        assert not counting()


def counting() -> bool:
    """Whether some thread is running the figures screen's code."""
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_filename.endswith(os.path.join("screens", "stats.py")):
                return True
            frame = frame.f_back
    return False
