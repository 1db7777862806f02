"""`stats`: documents by status, spans by label and annotator, active time."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import make_project
from tui_reader.core.stats import project_stats


def _project(tmp_path):
    project = make_project(tmp_path, {"a": "One claim. Two quote.", "b": "Three.", "c": "Four."})
    project.add_span("a", 0, 10, "claim", "ana")
    project.add_span("a", 11, 21, "quote", "ana")
    project.add_span("a", 0, 10, "claim", "bo")
    project.set_status("a", "ana", "done")
    project.set_status("b", "bo", "skipped")
    project.add_time("a", "ana", 90)
    project.add_time("a", "ana", 30.5)
    project.add_time("b", "bo", 12)
    return project


def test_counts_by_status_label_annotator_and_time(tmp_path):
    stats = project_stats(_project(tmp_path))
    assert stats["documents"] == 3 and stats["spans"] == 3
    assert stats["annotators"] == ["ana", "bo"]
    assert stats["status"]["ana"] == {"new": 2, "in progress": 0, "done": 1, "skipped": 0}
    assert stats["status"]["bo"] == {"new": 1, "in progress": 1, "done": 0, "skipped": 1}
    assert stats["labels"] == {"claim": 2, "quote": 1, "opinion": 0, "boilerplate": 0, "source": 0}
    assert stats["spans_by_annotator"] == {"ana": {"claim": 1, "quote": 1}, "bo": {"claim": 1}}
    assert stats["time"] == {"ana": {"seconds": 120.5, "documents": 1},
                             "bo": {"seconds": 12.0, "documents": 1}}


def test_stats_command_tables_and_json(tmp_path):
    project = _project(tmp_path)
    run = [sys.executable, "-m", "tui_reader", "stats", "--db", str(project.root)]
    table = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "Documents by status" in table.stdout and "ana" in table.stdout
    data = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True,
                                     check=True).stdout)
    assert data["time"]["ana"]["seconds"] == 120.5
