"""Every action is saved the moment it happens, and the status line says whether it is on disk.

A :class:`Saver` runs each store action of the app. Saved: the line says what. An ``OSError`` (a
full disk, a permission taken away) keeps the action and retries it every ``RETRY_SECONDS`` until
it is on disk; meanwhile new actions are refused (a bell, and NOT SAVED stays in sight) so nothing
reaches the disk out of order, and quitting takes ``q`` twice. A :class:`TuiReaderError` (a
damaged file, a span deleted from another terminal) is not worth retrying: it is said plainly and
the open article is shown as it is on disk. Anything else is a bug: it propagates with its
traceback (whatever was saved before it is on disk already).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..core.errors import TuiReaderError
from ..core.session import Change
from .widgets.status_line import Notice, Tone

RETRY_SECONDS = 2.0
QUIT_LOSES = "quitting now loses the last action: press q again to quit anyway"


class Repeating(Protocol):
    """A repeating timer (Textual's ``Timer``)."""

    def stop(self) -> None: ...


StoreAction = Callable[[], Change | None]
AfterSaved = Callable[[Change | None], None]
Every = Callable[[float, Callable[[], None]], Repeating]


def not_saved(reason: str, consequence: str = "") -> Notice:
    """The one way the status line says that something is not on disk."""
    then = f" — {consequence}" if consequence else ""
    return Notice(f" NOT SAVED: {reason}{then} ", Tone.NOT_SAVED)


@dataclass(frozen=True)
class _Waiting:
    """An action whose save failed, retried until it is on disk."""

    action: StoreAction
    after: AfterSaved
    verb: str


class Saver:
    """Runs store actions; keeps the one that failed for lack of disk until it is saved.

    ``show`` puts a notice on the status line, ``bell`` rings, ``reload`` shows the open article
    as it is on disk, and ``every(seconds, callback)`` starts a repeating timer (the app's
    ``set_interval``). At most one action waits: new ones are refused while it does.
    """

    def __init__(self, *, show: Callable[[Notice], None], bell: Callable[[], None],
                 reload: Callable[[], None], every: Every) -> None:
        self._show = show
        self._bell = bell
        self._reload = reload
        self._every = every
        self._waiting: _Waiting | None = None
        self._retrying: Repeating | None = None
        self._reason = ""
        self._quit_asked = False

    @property
    def unsaved(self) -> bool:
        """An action is not on disk yet (it is being retried)."""
        return self._waiting is not None

    @property
    def reason(self) -> str:
        """Why the waiting action is not on disk ("" when none waits)."""
        return self._reason if self._waiting else ""

    def busy(self) -> bool:
        """True while an action waits: the key that asked is ignored, with a bell, and the line
        keeps saying NOT SAVED (a new message must not hide that something is unsaved)."""
        if self._waiting is None:
            return False
        self._bell()
        self._show(not_saved(self._reason, "retrying; that key was ignored until the last action "
                                           "is saved"))
        return True

    def save(self, action: StoreAction, after: AfterSaved = lambda change: None,
             verb: str = "saved") -> None:
        """Run ``action`` (a store write); once it is on disk, say so and call ``after``."""
        if self.busy():
            return
        try:
            change = action()
        except OSError as err:
            self._waiting = _Waiting(action, after, verb)
            self._failed(err)
            return
        except TuiReaderError as err:
            self._refused(err)
            return
        self._saved(change, verb)
        after(change)

    def retry(self) -> None:
        """Try the waiting action again (the timer calls this every ``RETRY_SECONDS``)."""
        waiting = self._waiting
        if waiting is not None:
            try:
                change = waiting.action()
            except OSError as err:
                self._failed(err)
                return
            except TuiReaderError as err:
                self._waiting = None
                self._refused(err)
            else:
                self._waiting = None
                self._saved(change, waiting.verb)
                waiting.after(change)
        if self._retrying is not None:
            self._retrying.stop()
            self._retrying = None

    def may_quit(self) -> bool:
        """Quitting now loses nothing, or ``q`` was pressed twice in a row while it would."""
        if self._waiting is None or self._quit_asked:
            return True
        self._quit_asked = True
        self._bell()
        self._show(not_saved(self._reason, QUIT_LOSES))
        return False

    def _failed(self, err: OSError) -> None:
        self._reason = err.strerror or str(err)
        # Said again after every failed retry (a hint may have covered it); once q was pressed,
        # what the next q does is what the annotator must see.
        consequence = QUIT_LOSES if self._quit_asked else f"retrying every {RETRY_SECONDS:.0f} s"
        self._show(not_saved(self._reason, consequence))
        if self._retrying is None:
            self._retrying = self._every(RETRY_SECONDS, self.retry)

    def _refused(self, err: TuiReaderError) -> None:
        self._bell()
        self._show(not_saved(str(err)))
        self._reload()

    def _saved(self, change: Change | None, verb: str) -> None:
        self._quit_asked = False
        if change is None:
            self._show(Notice("nothing to change", Tone.UNCHANGED))
        else:
            self._show(Notice(f"✓ {verb}: {change.describe()}", Tone.SAVED))
