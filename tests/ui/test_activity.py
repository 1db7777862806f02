"""Active reading time on its own: gaps between keys count, idle gaps do not, and what was counted
reaches the store (or waits for the next flush when the store cannot take it). The clock is
injected: no test sleeps."""

from __future__ import annotations

import errno
from pathlib import Path

from tests.helpers import make_project
from tui_reader.core.errors import StoreError
from tui_reader.core.stats import project_stats
from tui_reader.core.store import Project
from tui_reader.ui.activity import IDLE_SECONDS, ActivityClock


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


def test_gaps_between_keys_count_and_idle_gaps_do_not() -> None:
    clock = Clock()
    activity = ActivityClock(clock)
    activity.note_activity()  # the first key starts the count: nothing before it is known
    assert activity.seconds == 0
    clock.wait(40)
    activity.note_activity()
    clock.wait(IDLE_SECONDS + 1)  # away: not counted
    activity.note_activity()
    clock.wait(IDLE_SECONDS)  # exactly the limit still counts (reading a long article)
    activity.note_activity()
    clock.wait(20)
    activity.note_activity()
    assert activity.seconds == 40 + IDLE_SECONDS + 20


def test_flush_hands_the_time_to_the_store_once(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a": "Some text.", "b": "Other text."})
    clock = Clock()
    activity = ActivityClock(clock)
    activity.note_activity()
    clock.wait(0.5)
    activity.note_activity()
    activity.flush(lambda seconds: project.add_time("a", "ann", seconds))
    assert activity.seconds == 0.5  # under a second: not worth a write, kept
    clock.wait(59.5)
    activity.note_activity()
    activity.flush(lambda seconds: project.add_time("a", "ann", seconds))
    activity.flush(lambda seconds: project.add_time("b", "ann", seconds))  # nothing new: no write
    assert activity.seconds == 0
    stats = project_stats(Project.open(project.root))
    assert stats["time"]["ann"]["seconds"] == 60.0


def test_time_the_store_could_not_take_waits_for_the_next_flush(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a": "Some text."})
    clock = Clock()
    activity = ActivityClock(clock)
    activity.note_activity()
    clock.wait(30)
    activity.note_activity()

    def disk_full(seconds: float) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def damaged(seconds: float) -> None:
        raise StoreError("docs/ab/ab12.json: not valid JSON")

    activity.flush(disk_full)
    activity.flush(damaged)
    assert activity.seconds == 30
    clock.wait(15)
    activity.note_activity()
    activity.flush(lambda seconds: project.add_time("a", "ann", seconds))
    assert project_stats(Project.open(project.root))["time"]["ann"]["seconds"] == 45.0
