"""Snapshot tests of the main screen on the sample corpus (pytest-textual-snapshot).

Regenerate the SVGs under ``__snapshots__/`` with ``pytest tests/ui/test_snapshots.py
--snapshot-update`` and look at them before committing. Nothing time-dependent may appear: no span
whose creation time the details panel would show is under the caret, and the article header shows
file names, not the temporary folder the corpus was imported into.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.helpers import project_from_folder
from tui_reader.ui.app import AnnotatorApp

SAMPLE_CORPUS = Path(__file__).resolve().parents[2] / "sample_corpus"
ANNOTATOR = "snapshot-annotator"


@pytest.fixture
def app(tmp_path: Path) -> AnnotatorApp:
    project = project_from_folder(SAMPLE_CORPUS, tmp_path / "db", ANNOTATOR)
    return AnnotatorApp(project, ANNOTATOR)


async def loaded(pilot: Pilot) -> None:
    """Wait for the article list's statuses so the picture is stable. They are read in a worker
    that a timer starts FIRST_SCAN_DELAY after start-up: waiting for the workers alone returned
    at once when the timer had not fired yet, and the picture then depended on the machine's
    load (a status column with or without its glyphs)."""
    app = pilot.app
    assert isinstance(app, AnnotatorApp)
    for _ in range(200):
        if len(app.table.progress) == len(app.table.docs):
            break
        await pilot.pause(0.05)
    else:
        raise AssertionError("the article list's statuses never arrived")
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_main_screen_80x24(app: AnnotatorApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


def test_main_screen_160x50(app: AnnotatorApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=(160, 50), run_before=loaded)


def test_labels_and_selection_120x40(app: AnnotatorApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    # A claim on the title, a quote on the next sentence, then a selection in visual mode, the
    # caret past both spans so the details panel shows no creation time.
    keys = ["1", "right_parenthesis", "2", "right_parenthesis", "right_parenthesis", "v", "w", "w"]
    assert snap_compare(app, press=keys, terminal_size=(120, 40), run_before=loaded)
