"""A model server's suggestions in the app: accepted with a from a real label-studio-ml server,
and a hung server never delays a key."""

from __future__ import annotations

import asyncio
import time

import pytest

import tui_reader.core.suggest.ml_backend as ml_backend
from tests.helpers import make_project
from tests.peers import PeerUnavailable, hung_http_server, start_ml_backend
from tests.unit.test_ml_backend import MODEL
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.widgets.status_line import StatusLine

TEXT = 'The minister spoke. "Nothing will change this year" she added. Prices rose 4.5% in May.'


@pytest.fixture(scope="module")
def ml_url(tmp_path_factory):
    work = tmp_path_factory.mktemp("ml-backend")
    (work / "quote_rules.py").write_text(MODEL.format(log=str(work / "asked.txt")))
    try:
        server = start_ml_backend(work / "quote_rules.py", "QuoteRules", work)
    except PeerUnavailable as err:
        pytest.skip(f"label-studio-ml 1.0.9 unavailable: {err}")
    yield server.base
    server.stop()


async def test_a_model_servers_suggestion_is_accepted_with_a(tmp_path, ml_url):
    project = make_project(tmp_path, {"a": TEXT})
    app = AnnotatorApp(Project.open(project.root), "alice", ml_backend=ml_url)
    async with app.run_test(size=(140, 40)) as pilot:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
                s.source.startswith("ml:") for s in app.session.suggestions):
            await pilot.pause(0.1)
        # The quotation is the rules' too (their suggestion is kept); the figure is the server's.
        (claim,) = [s for s in app.session.suggestions if s.source == "ml:quote-rules-1"]
        assert (TEXT[claim.start:claim.end], claim.label) == ("4.5%", "claim")
        app.pane.move_caret(claim.start + 1)
        await pilot.pause()
        await pilot.press("a")
    (span,) = Project.open(project.root).spans("a")
    assert (span.start, span.end, span.label, span.source) == (
        claim.start, claim.end, "claim", "suggestion:ml:quote-rules-1")


async def test_a_hung_model_server_never_delays_a_key_and_says_so_once(tmp_path, monkeypatch):
    """The server holds every request for a minute: the keys are all answered while it does, and
    when it drops the connections the status line says so."""
    monkeypatch.setattr(ml_backend, "DEFAULT_TIMEOUT", 60.0)
    project = make_project(tmp_path, {"a": TEXT, "b": "Second article. Two sentences."})
    with hung_http_server() as server:
        app = AnnotatorApp(Project.open(project.root), "alice", ml_backend=server.url)
        async with app.run_test(size=(140, 40)) as pilot:
            first = app.session.doc.id

            async def keys() -> None:
                for key in ["l"] * 10 + ["n", "p"] * 3 + ["1"]:  # motions, articles, a label
                    await pilot.press(key)
                await pilot.pause()

            # A deadlock guard, far above the milliseconds the keys take: a key that waited for
            # the server would wait its full minute.
            await asyncio.wait_for(keys(), timeout=30)
            assert app.session.doc.id == first
            assert [span.label for span in Project.open(project.root).spans(first)] == ["claim"]
            assert server.held  # a request reached the server and is still unanswered
            assert "Model server" not in str(app.query_one(StatusLine).render())
            server.release()
            deadline = time.monotonic() + 10
            shown = ""
            while time.monotonic() < deadline and "Model server" not in shown:
                await pilot.pause(0.1)
                shown = str(app.query_one(StatusLine).render())
            assert "Model server" in shown and "127.0.0.1" in shown
            assert app.is_running
