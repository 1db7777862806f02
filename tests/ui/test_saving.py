"""The Saver on its own: what the status line says, the retry of an action the disk refused, the
refusal of new actions meanwhile, q twice to quit, and which errors it catches (the user-fixable
family and OSError) and which it lets through (bugs).

Store actions here are real writes into a real project; the disk's failures are OSErrors raised
by the action the way the store's atomic write raises them. The retry timer is the one thing
faked: ``every`` records the callback, and a test calls it where the timer would fire.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.errors import CorruptFileError, InputError, NotFoundError
from tui_reader.core.session import AnnotationSession, Change
from tui_reader.core.store import Project
from tui_reader.ui.saving import RETRY_SECONDS, Saver
from tui_reader.ui.widgets.status_line import Notice, Tone

TEXT = "First sentence here. Second one there. Third at last."
FIRST, SECOND = (0, 20), (21, 38)


class Timer:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class Harness:
    """A Saver with what it says, its bells, reloads and timers recorded."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.bells = 0
        self.reloads = 0
        self.timers: list[tuple[float, Callable[[], None], Timer]] = []
        self.saver = Saver(show=self.notices.append, bell=self.ring, reload=self.reload,
                           every=self.every)

    def ring(self) -> None:
        self.bells += 1

    def reload(self) -> None:
        self.reloads += 1

    def every(self, seconds: float, callback: Callable[[], None]) -> Timer:
        timer = Timer()
        self.timers.append((seconds, callback, timer))
        return timer

    def tick(self) -> None:
        """The retry timer fires."""
        (_seconds, callback, timer), = self.timers
        assert not timer.stopped
        callback()

    @property
    def said(self) -> str:
        return self.notices[-1].text

    @property
    def tone(self) -> Tone:
        return self.notices[-1].tone


class Disk:
    """Makes store actions fail as a full disk would, until it has room again."""

    def __init__(self) -> None:
        self.full = False
        self.attempts: list[str] = []

    def write(self, name: str, action: Callable[[], Change | None]) -> Callable[[], Change | None]:
        def attempt() -> Change | None:
            self.attempts.append(name)
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            return action()

        return attempt


@pytest.fixture
def session(tmp_path: Path) -> AnnotationSession:
    make_project(tmp_path, {"a": TEXT})
    session = AnnotationSession(Project.open(tmp_path / "db"), "ann")
    session.open("a")
    return session


def on_disk(session: AnnotationSession) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in Project.open(session.project.root).spans("a")]


def test_a_saved_action_says_what_was_saved_and_runs_after(session: AnnotationSession) -> None:
    h = Harness()
    afters: list[Change | None] = []
    h.saver.save(lambda: session.label("claim", *FIRST), afters.append)
    assert on_disk(session) == [(*FIRST, "claim")]
    assert h.said == "✓ saved: add claim: First sentence here." and h.tone is Tone.SAVED
    assert [c.verb for c in afters if c] == ["add"]
    h.saver.save(lambda: session.label("claim", *FIRST), afters.append, "relabelled")
    assert h.said == "nothing to change" and h.tone is Tone.UNCHANGED  # already a claim
    assert not h.saver.unsaved and h.bells == 0 and h.timers == []


def test_a_full_disk_keeps_the_action_and_retries_it_first(session: AnnotationSession) -> None:
    h, disk = Harness(), Disk()
    afters: list[str] = []
    disk.full = True
    h.saver.save(disk.write("first", lambda: session.label("claim", *FIRST)),
                 lambda change: afters.append("first"))
    # Not on disk, and the line says so, why, and that it is being retried.
    assert on_disk(session) == [] and afters == []
    assert h.saver.unsaved and h.saver.reason == "No space left on device"
    assert h.said == " NOT SAVED: No space left on device — retrying every 2 s "
    assert h.tone is Tone.NOT_SAVED
    assert [seconds for seconds, _, _ in h.timers] == [RETRY_SECONDS]

    # A new action meanwhile is refused, with a bell, and never run: nothing out of order.
    h.saver.save(disk.write("second", lambda: session.label("quote", *SECOND)),
                 lambda change: afters.append("second"))
    assert disk.attempts == ["first"] and h.bells == 1
    assert h.said.startswith(" NOT SAVED: No space left on device — retrying; that key was ignored")
    assert h.saver.busy() and h.bells == 2

    h.tick()  # still full
    assert disk.attempts == ["first", "first"] and h.saver.unsaved
    assert h.said == " NOT SAVED: No space left on device — retrying every 2 s "

    disk.full = False
    h.tick()  # room again: the waiting action is saved, said, and its after runs
    assert on_disk(session) == [(*FIRST, "claim")] and afters == ["first"]
    assert h.said == "✓ saved: add claim: First sentence here."
    assert not h.saver.unsaved and h.saver.reason == "" and not h.saver.busy()
    assert h.timers[0][2].stopped  # no more retries

    h.saver.save(disk.write("second", lambda: session.label("quote", *SECOND)),
                 lambda change: afters.append("second"))
    assert disk.attempts == ["first", "first", "first", "second"]
    assert on_disk(session) == [(*FIRST, "claim"), (*SECOND, "quote")]
    assert afters == ["first", "second"]


def test_a_permission_taken_away_is_named(session: AnnotationSession) -> None:
    h = Harness()

    def read_only() -> Change | None:
        raise PermissionError(errno.EACCES, "Permission denied")

    h.saver.save(read_only)
    assert h.said == " NOT SAVED: Permission denied — retrying every 2 s "


def test_quitting_while_unsaved_takes_q_twice_and_the_warning_stays(session: AnnotationSession
                                                                      ) -> None:
    h, disk = Harness(), Disk()
    assert h.saver.may_quit()  # nothing unsaved: at once
    disk.full = True
    h.saver.save(disk.write("first", lambda: session.label("claim", *FIRST)))
    assert not h.saver.may_quit()
    assert h.bells == 1
    warning = " NOT SAVED: No space left on device — quitting now loses the last action: press q again"
    assert h.said.startswith(warning)
    h.tick()  # a failed retry must not hide what the next q does
    assert h.said.startswith(warning)
    assert h.saver.may_quit()  # asked twice

    disk.full = False
    h.tick()
    disk.full = True
    h.saver.save(disk.write("second", lambda: session.label("quote", *SECOND)))
    assert not h.saver.may_quit()  # a save in between: asking once is not enough again


@pytest.mark.parametrize("error", [
    CorruptFileError("docs/ab/ab12.json: not valid JSON; it was left untouched"),
    NotFoundError("no span 1f3e in document 'a'"),
    InputError("unknown label 'claims' (this project's labels: claim, quote)"),
])
def test_a_user_fixable_error_is_said_and_the_article_reloaded(session: AnnotationSession,
                                                               error: Exception) -> None:
    h = Harness()
    afters: list[Change | None] = []

    def refused() -> Change | None:
        raise error

    h.saver.save(refused, afters.append)
    assert h.said == f" NOT SAVED: {error} " and h.tone is Tone.NOT_SAVED
    assert h.bells == 1 and h.reloads == 1 and afters == []
    assert not h.saver.unsaved and h.timers == []  # not worth retrying; the next key works
    h.saver.save(lambda: session.label("claim", *FIRST))
    assert on_disk(session) == [(*FIRST, "claim")]


def test_a_file_damaged_while_retrying_ends_the_retry(session: AnnotationSession) -> None:
    h = Harness()
    failures: list[Exception] = [OSError(errno.ENOSPC, "No space left on device"),
                                 CorruptFileError("docs/ab/ab12.json: not valid JSON")]

    def action() -> Change | None:
        raise failures.pop(0)

    h.saver.save(action)
    h.tick()
    assert h.said == " NOT SAVED: docs/ab/ab12.json: not valid JSON " and h.reloads == 1
    assert not h.saver.unsaved and h.timers[0][2].stopped


@pytest.mark.parametrize("bug", [KeyError("span"), ValueError("bad offset"), AssertionError()])
def test_a_bug_is_not_caught(session: AnnotationSession, bug: Exception) -> None:
    h = Harness()

    def broken() -> Change | None:
        raise bug

    with pytest.raises(type(bug)):
        h.saver.save(broken)
    assert h.notices == [] and h.reloads == 0 and not h.saver.unsaved
