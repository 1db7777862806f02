"""Suggestions and review, driven through the keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import fill_the_disk, make_project
from tui_reader.core.store import Project
from tui_reader.ui.app import FIRST_SCAN_DELAY, AnnotatorApp

NEWS = ('Share this article on Facebook.\n\n'
        'The minister said: "We will cut the deficit by half next year."\n\n'
        'Officials said growth was 3.5 percent. Critics called it "a reckless gamble for families."\n\n'
        'Copyright 2023 Example News. All rights reserved.')


def _spans(db: Path, doc: str = "news", annotator: str | None = None):
    return [(s.start, s.end, s.label, s.source) for s in Project.open(db).spans(doc, annotator)]


async def test_accept_reject_and_accept_all_suggestions(tmp_path):
    project = make_project(tmp_path, {"news": NEWS})
    app = AnnotatorApp(Project.open(project.root), "ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # suggestions arrive just after the first frame
        suggestions = {(p.label, NEWS[p.start:p.end]) for p in app.session.suggestions}
        assert ("boilerplate", "Share this article on Facebook.") in suggestions
        assert ("quote", '"We will cut the deficit by half next year."') in suggestions
        # The caret starts on the share prompt: a accepts the suggestion there.
        await pilot.press("a")
        (span,) = _spans(project.root)
        assert span[:3] == (0, 31, "boilerplate") and span[3].startswith("suggestion:rule:")
        # > jumps to the next suggestion, r rejects it; it is not suggested again, even reopened.
        await pilot.press("greater_than_sign")
        rejected = app.session.suggestions_at(app.pane.caret)[0]
        await pilot.press("r")
        assert rejected.key not in {p.key for p in app.session.suggestions}
        await pilot.press("n", "p")  # away and back: suggestions are computed afresh
        assert rejected.key not in {p.key for p in app.session.suggestions}
        assert [r.label for r in Project.open(project.root).record("news").rejections_of("ana")] == [
            rejected.label]
        # u undoes the rejection: proposed again.
        await pilot.press("u")
        assert rejected.key in {p.key for p in app.session.suggestions}
        # A accepts every quote suggestion at once.
        quote = next(p for p in app.session.suggestions if p.label == "quote")
        app.pane.move_caret(quote.start)
        await pilot.press("A")
        await pilot.pause()
        quotes = [s for s in _spans(project.root) if s[2] == "quote"]
        assert len(quotes) == len([p for p in suggestions if p[0] == "quote"]) >= 2
        assert not [p for p in app.session.suggestions if p.label == "quote"]


async def test_no_suggest_shows_none(tmp_path):
    project = make_project(tmp_path, {"news": NEWS})
    app = AnnotatorApp(Project.open(project.root), "ana", suggest=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.session.suggestions == []
        await pilot.press("a")
        assert _spans(project.root) == []


async def test_review_settles_a_disagreement_into_gold_and_export_uses_it(tmp_path):
    text = "Prices rose by 5 percent. The plan is a disaster. Officials declined to comment."
    project = make_project(tmp_path, {"news": text, "solo": "Only one annotator here."})
    ana, bo = "ana", "bo"
    project.add_span("news", 0, 25, "claim", ana)  # both agree on the claim
    project.add_span("news", 0, 25, "claim", bo)
    project.add_span("news", 26, 49, "opinion", ana)  # they disagree on the second sentence
    project.add_span("news", 26, 49, "claim", bo)
    project.add_span("solo", 0, 8, "claim", ana)
    app = AnnotatorApp(Project.open(project.root), "rita", reviewer="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.session.doc.id == "news" and app.session.queue == ["news"]  # solo: one annotator
        assert app.show_others
        # Disagreements are the open candidates; the agreed claim too, until accepted.
        assert {(p.start, p.label) for p in app.session.suggestions} == {
            (0, "claim"), (26, "opinion"), (26, "claim")}
        await pilot.press("a")  # accept the agreed claim at the caret
        await pilot.press("right_parenthesis")  # to the disputed sentence
        here = app.session.suggestions_at(app.pane.caret)
        assert {p.label for p in here} == {"opinion", "claim"}
        opinion = next(p for p in here if p.label == "opinion")
        claim = next(p for p in here if p.label == "claim")
        assert app.session.suggestions_at(app.pane.caret)[0] == claim  # equal length: claim first
        await pilot.press("r")  # the reviewer rules bo's claim out ...
        assert app.session.suggestions_at(app.pane.caret) == [opinion]
        await pilot.press("a")  # ... and accepts ana's opinion
        await pilot.press("d")
        await pilot.pause()
    gold = [(s.start, s.end, s.label, s.source) for s in Project.open(project.root).spans("news", "gold")]
    assert gold == [(0, 25, "claim", "review:rita:by ana, bo"), (26, 49, "opinion", "review:rita:by ana")]
    (rejection,) = Project.open(project.root).record("news").rejections_of("gold")
    assert (rejection.label, rejection.by) == ("claim", "rita")
    out = tmp_path / "gold.jsonl"
    result = subprocess.run([sys.executable, "-m", "tui_reader", "export", "--db", str(project.root),
                             "--format", "doccano", "--gold", "adjudicated", "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(row["label"]) == [[0, 25, "claim"], [26, 49, "opinion"]]


async def test_the_learned_model_starts_after_enough_labels_and_suggests(tmp_path):
    import pytest

    from tui_reader.core.suggest import learned

    if not learned.available():
        pytest.skip("scikit-learn is not installed (the suggest extra)")
    claims = [f"Exports rose by {n} percent in {2000 + n}." for n in range(12)]
    noise = [f"Click here to share this story number {n}." for n in range(12)]
    texts = {f"t{n}": f"{c}\n{b}" for n, (c, b) in enumerate(zip(claims, noise))}
    texts["zz-new"] = "Imports rose by 7 percent in 2031.\nClick here to share this story now."
    project = make_project(tmp_path, texts)
    for n in range(12):
        text = texts[f"t{n}"]
        project.add_span(f"t{n}", 0, len(claims[n]), "claim", "ana")
        project.add_span(f"t{n}", len(claims[n]) + 1, len(text), "boilerplate", "ana")
        project.set_status(f"t{n}", "ana", "done")
    (project.root / "config.toml").write_text(
        (project.root / "config.toml").read_text().replace("model_threshold = 50", "model_threshold = 20"))
    app = AnnotatorApp(Project.open(project.root), "ana", rules=[])
    app.rules = []  # only the model: its suggestions must come from what ana labelled
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.session.doc.id == "zz-new"
        for _ in range(150):  # the model trains in its own process: allow it a few seconds
            if any(p.source == "model:linear" for p in app.session.suggestions):
                break
            await pilot.pause(0.1)
        assert app.learned.ready
        by_label = {p.label: p for p in app.session.suggestions}
        assert by_label["claim"].source == "model:linear" and by_label["claim"].start == 0
        assert "boilerplate" in by_label
        await pilot.press("a")
        assert Project.open(project.root).spans("zz-new")[0].source == "suggestion:model:linear"


def _status(app: AnnotatorApp) -> str:
    return str(app.query_one("#status").render())


@pytest.mark.parametrize("failure", ["disk full", "damaged file"])
async def test_accept_all_whose_save_failed_keeps_not_saved_in_sight(tmp_path, monkeypatch, failure):
    project = make_project(tmp_path, {"news": NEWS})
    app = AnnotatorApp(Project.open(project.root), "ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # suggestions arrive just after the first frame
        quote = next(p for p in app.session.suggestions if p.label == "quote")
        app.pane.move_caret(quote.start)
        if failure == "disk full":
            fill_the_disk(monkeypatch)
            reason = "No space left on device"
        else:  # the article's file was damaged behind the app's back: never overwritten
            damaged = b'{"spans": {"1": '
            Project.open(project.root).doc_path("news").write_bytes(damaged)
            reason = "not valid JSON"
        await pilot.press("A")
        # The article list's scan reads that file too: it must not end the session either.
        await pilot.pause(FIRST_SCAN_DELAY + 0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        status = _status(app)
        assert "NOT SAVED" in status and reason in status
        assert "Accepted" not in status
        if failure == "damaged file":
            assert Project.open(project.root).doc_path("news").read_bytes() == damaged
    if failure == "disk full":
        assert _spans(project.root) == []
