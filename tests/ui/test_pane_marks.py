"""The reading pane updates its marks from what changed (a label at 5,000 spans draws as one at
50): after any run of labels, relabels, deletions and undos, the marks on every row are those a
pane indexing every span afresh would have."""

from __future__ import annotations

from tests.helpers import make_project
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp

TEXT = ("The minister said the plan would work. Critics said it would not. "
        "Officials declined to comment. The vote is on Monday. ") * 3


def _marks(pane) -> dict[int, list[tuple]]:  # noqa: ANN001
    return {row: sorted(set(m for m in marks if m[2] == "span"))
            for row, marks in pane._row_marks.items() if any(m[2] == "span" for m in marks)}


async def test_marks_kept_from_changes_equal_marks_built_afresh(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.pane
        # Label, relabel the same extent, label the same extent twice (one mark for two), delete,
        # undo and redo, across several sentences.
        for keys in (["1", ")", "2", ")", "3"], ["2"], ["(", "x"], ["u", "u"], ["ctrl+r"],
                     [")", ")", "v", "w", "4"], ["u"], ["U"]):
            await pilot.press(*keys)
            await pilot.pause()
            kept = _marks(pane)
            assert kept  # there are spans to compare
            pane._index_marks()
            assert kept == _marks(pane), keys
        assert {s.label for s in app.session.spans} <= {"claim", "quote", "opinion", "boilerplate"}
