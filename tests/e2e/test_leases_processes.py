"""Leases with real processes: annotators opening the app at the same moment, and expiry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import make_project
from tui_reader.core.store import Project

WORKER = Path(__file__).with_name("lease_worker.py")
ROOT = Path(__file__).resolve().parents[2]
DOCS = {f"doc{i:02d}": f"Article {i} tells a story. It has two sentences." for i in range(12)}


def _config(db: Path, **settings: object) -> None:
    path = db / "config.toml"
    lines = [f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"'
             for key, value in settings.items()]
    text = path.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if line.split("=")[0].strip() not in settings]
    path.write_text("\n".join(lines + kept) + "\n", encoding="utf-8")


def _start(db: Path, names: list[str], go: Path, label: bool = False) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(WORKER), "claim", str(db), name, str(go),
                               *(["label"] if label else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in names]
    for proc in procs:  # every process is up, its project open, before any asks
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read()
    return procs


def _claimed(procs: list[subprocess.Popen]) -> list[str]:
    out = []
    for proc in procs:
        # read through the pipe's buffered reader: "ready" may have come with the answer in one
        # chunk, and communicate() would read past what that reader already holds
        stdout = proc.stdout.read()
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        out.append(stdout.strip())
    return out


def test_eight_annotators_opening_at_once_get_eight_different_articles(tmp_path):
    make_project(tmp_path, DOCS)
    db = tmp_path / "db"
    _config(db, overlap=1)
    for trial in range(3):
        go = tmp_path / f"go{trial}"
        procs = _start(db, [f"annotator{trial}-{i}" for i in range(8)], go)
        go.touch()  # all eight ask at the same moment
        claimed = _claimed(procs)
        assert "None" not in claimed
        assert len(set(claimed)) == 8, claimed
        (db / "leases.json").unlink()  # the next trial starts with every article free


def test_an_expired_lease_frees_the_article_for_the_next_annotator(tmp_path):
    make_project(tmp_path, DOCS)
    db = tmp_path / "db"
    _config(db, overlap=1, lease_minutes=0.05)  # 3 seconds
    go = tmp_path / "go"
    go.touch()
    (first,) = _claimed(_start(db, ["ana"], go, label=True))  # labels, then walks away
    (second,) = _claimed(_start(db, ["bo"], go))
    assert (first, second) == ("doc00", "doc01")  # doc00 is ana's while her lease lives
    time.sleep(3.5)
    (third,) = _claimed(_start(db, ["cy"], go))
    assert third == "doc00"  # her lease expired: the article is free
    assert [(s.annotator, s.start, s.end) for s in Project.open(db).spans("doc00")] == [
        ("ana", 0, 7)]  # her saved work stays
    (again,) = _claimed(_start(db, ["ana"], go))
    assert again == "doc00"  # and it is still hers to finish
