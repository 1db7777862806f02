"""Real processes: SIGKILL at random moments, and several writers at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.store import Project

WORKER = Path(__file__).with_name("store_worker.py")
ROOT = Path(__file__).resolve().parents[2]
DOCS = {f"doc{i}": ("The minister said the plan would work. " * 40) + f"End {i}." for i in range(3)}


# A document's changes go to a journal, folded into its snapshot once the journal is as large
# (journal.py). "often": every few changes, so kills and readers meet compactions too.
COMPACTION = {"rarely": "262144", "often": "3000"}


def _spawn(*args: str, compact_at: str = COMPACTION["rarely"]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUI_READER_COMPACT_AT": compact_at,
           "TUI_READER_COMPACT_RATIO": "0" if compact_at != COMPACTION["rarely"] else "1"}
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _check_after_kill(db: Path, log: list[list[str]]) -> None:
    project = Project.open(db)  # must load: no torn file anywhere
    present = {s.id: s for d in DOCS for s in project.spans(d, "crash")}
    for d in DOCS:
        assert project.document(d).text == DOCS[d]
    expected: dict[str, str | None] = {}  # span id -> label (None = removed)
    in_flight: list[str] | None = None
    for words in log:
        kind, op = words[0], words[1]
        if kind == "intent":
            in_flight = words
            continue
        in_flight = None
        if op == "add":
            expected[words[3]] = "?"
        elif op == "remove":
            expected[words[2]] = None
        elif op == "relabel":
            expected[words[2]] = words[3]
    uncertain = {in_flight[3]} if in_flight and in_flight[1] in ("remove", "relabel") else set()
    for span_id, label in expected.items():
        if span_id in uncertain:
            continue
        if label is None:
            assert span_id not in present, f"acknowledged delete of {span_id} came back"
        else:
            assert span_id in present, f"acknowledged span {span_id} was lost"
            if label != "?":
                assert present[span_id].label == label
    for span in present.values():
        assert DOCS[span.doc_id][span.start:span.end] == span.text


@pytest.mark.parametrize("compaction", ["rarely", "often"])
def test_sigkill_at_random_moments_never_corrupts_or_loses_an_acknowledged_label(tmp_path,
                                                                                  compaction):
    db = tmp_path / "db"
    project = make_project(tmp_path, DOCS)
    for i in range(300):  # files of a realistic size, so writes take a while
        project.add_span(f"doc{i % 3}", i, i + 10, "claim", "seed", note="n" * 200)
    rng = random.Random(7)
    acked_total = 0
    for _trial in range(25):
        proc = _spawn("crash", str(db), *DOCS, compact_at=COMPACTION[compaction])
        # Wait for the first acknowledged action, then kill at a random moment after it.
        first = proc.stdout.readline()
        assert first, proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate()
        log = [line.split() for line in (first + out).splitlines() if line.strip()]
        acked_total += sum(1 for words in log if words[0] == "ack")
        _check_after_kill(db, log)
    assert acked_total > 100  # the kills really interrupted a busy writer
    assert len(Project.open(db).spans("doc0", "seed")) == 100


@pytest.mark.parametrize(("writers", "compaction"), [(4, "rarely"), (8, "rarely"), (8, "often")])
def test_processes_writing_at_once_lose_nothing_and_see_each_other(tmp_path, writers, compaction):
    db = tmp_path / "db"
    make_project(tmp_path, DOCS)
    go = tmp_path / "go"
    per = 480 // writers
    names = [f"annotator{i}" for i in range(writers)]
    procs = [_spawn("hammer", str(db), name, str(per), str(go), *DOCS,
                    compact_at=COMPACTION[compaction]) for name in names]
    time.sleep(1.0)  # let every process reach the barrier
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    project = Project.open(db)
    spans = [s for d in DOCS for s in project.spans(d)]
    assert len(spans) == writers * per
    notes = {s.note for s in spans}
    assert notes == {f"{n}-{i}" for n in names for i in range(per)}
    # Each process saw at least everything it wrote, and the last to finish saw all of it.
    seen = [int(out.split()[1]) for out, _ in outputs]
    assert min(seen) >= per and max(seen) == writers * per
    for name in names:
        assert {project.status(d, name) for d in DOCS} == {"in progress"}
