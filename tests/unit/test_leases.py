"""Leases in one process, with an injected clock: routing counts them, they expire, renew and
release. (tests/e2e/test_leases_processes.py runs real processes at once.)"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import make_project
from tui_reader.core.config import ProjectConfig
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project

TEXTS = {f"d{i}": f"Article {i}. It says things." for i in range(4)}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _project(tmp_path: Path, overlap: int = 1, minutes: float = 30.0) -> tuple[Project, Clock]:
    project = make_project(tmp_path, TEXTS)
    project.config = ProjectConfig(labels=project.config.labels, overlap=overlap,
                                   lease_minutes=minutes)
    project.leases.minutes = minutes
    clock = Clock()
    project.leases.clock = clock
    return project, clock


def test_an_open_article_is_passed_over_while_its_lease_lives(tmp_path):
    project, clock = _project(tmp_path)
    ana, bo, cy = (AnnotationSession(project, n) for n in ("ana", "bo", "cy"))
    assert ana.claim_next() == "d0"
    ana.open("d0")
    assert bo.claim_next() == "d1"  # d0 is held by ana: overlap 1 is full
    assert cy.first_unfinished() == "d2"
    assert ana.first_unfinished() == "d0"  # her own lease does not count against her
    assert [(lease.doc_id, lease.annotator) for lease in sorted(
        project.leases.live(), key=lambda lease: lease.doc_id)] == [("d0", "ana"), ("d1", "bo")]


def test_finished_work_and_leases_count_together_against_overlap(tmp_path):
    project, clock = _project(tmp_path, overlap=2)
    project.set_status("d0", "cy", "done")
    ana = AnnotationSession(project, "ana")
    ana.open("d0")  # opening takes the lease too
    assert AnnotationSession(project, "bo").first_unfinished() == "d1"  # cy done + ana = 2
    ana.open("d2")  # ana moved on: her lease moved with her
    assert AnnotationSession(project, "bo").first_unfinished() == "d0"


def test_an_expired_lease_frees_the_article_and_saved_work_stays(tmp_path):
    project, clock = _project(tmp_path, minutes=30)
    ana = AnnotationSession(project, "ana")
    ana.open(ana.claim_next())
    ana.label("claim", 0, 10)  # saved work on d0, not finished
    clock.now += 29 * 60
    assert AnnotationSession(project, "bo").first_unfinished() == "d1"
    clock.now += 2 * 60  # 31 minutes: ana walked away
    assert project.leases.live() == []
    assert AnnotationSession(project, "bo").first_unfinished() == "d0"
    # ana's work is there, and d0 is still hers to finish.
    assert [(s.start, s.end) for s in Project.open(project.root).spans("d0", "ana")] == [(0, 10)]
    assert AnnotationSession(project, "ana").first_unfinished() == "d0"
    ana.set_status("done")
    assert project.status("d0", "ana") == "done"


def test_renewing_keeps_the_lease_and_writes_at_most_once_a_minute(tmp_path):
    project, clock = _project(tmp_path, minutes=30)
    ana = AnnotationSession(project, "ana")
    ana.open("d0")
    written = project.root / "leases.json"
    stamp = written.stat().st_mtime_ns
    clock.now += 30  # half a minute: nothing to write yet
    assert ana.renew_lease() is False and written.stat().st_mtime_ns == stamp
    for _ in range(40):  # 40 minutes of work, a key every minute
        clock.now += 60
        assert ana.renew_lease() is True
    (lease,) = project.leases.live()
    assert lease.doc_id == "d0" and lease.expires == clock.now + 30 * 60
    assert AnnotationSession(project, "bo").first_unfinished() == "d1"
    # A lease that expired while the annotator was away is taken again on the next key.
    clock.now += 31 * 60
    assert project.leases.live() == []
    assert ana.renew_lease() is True
    assert [lease.doc_id for lease in project.leases.live()] == ["d0"]


def test_releasing_frees_the_article_at_once(tmp_path):
    project, clock = _project(tmp_path)
    ana = AnnotationSession(project, "ana")
    ana.open("d0")
    ana.release_lease()
    assert project.leases.live() == []
    assert AnnotationSession(project, "bo").first_unfinished() == "d0"


def test_the_leases_file_keeps_live_leases_only(tmp_path):
    project, clock = _project(tmp_path, minutes=1)
    for i, name in enumerate(("ana", "bo", "cy")):
        AnnotationSession(project, name).open(f"d{i}")
        clock.now += 40
    rows = json.loads((project.root / "leases.json").read_text())["leases"]
    assert sorted(r["annotator"] for r in rows.values()) == ["bo", "cy"]  # ana's expired


def test_two_windows_of_one_annotator_hold_one_article_each(tmp_path):
    project, clock = _project(tmp_path, overlap=1)
    AnnotationSession(project, "ana").open("d0")
    AnnotationSession(project, "ana").open("d1")
    bo = AnnotationSession(project, "bo")
    assert bo.first_unfinished() == "d2"


def test_a_damaged_leases_file_is_read_as_none_and_replaced(tmp_path):
    project, clock = _project(tmp_path)
    (project.root / "leases.json").write_bytes(b"{not json")
    ana = AnnotationSession(project, "ana")
    assert ana.claim_next() == "d0"
    assert [lease.doc_id for lease in project.leases.live()] == ["d0"]


def test_review_takes_no_lease(tmp_path):
    project, clock = _project(tmp_path)
    review = AnnotationSession(project, "ana", reviewer="ana")
    review.open("d0")
    assert project.leases.live() == []
