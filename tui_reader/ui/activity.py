"""Active reading time: how long an annotator worked on an article, idle gaps left out.

Time counts between two keys or clicks, unless they are more than ``IDLE_SECONDS`` apart (a
coffee break is not work). The app flushes what was counted to the store when the annotator
switches article or quits, and every ``TIME_FLUSH_SECONDS``, so a dropped connection loses at
most that much.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..core.errors import TuiReaderError

IDLE_SECONDS = 300.0
TIME_FLUSH_SECONDS = 60.0


class ActivityClock:
    """Active seconds not yet in the store. ``clock`` is the time source (tests pass their own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.seconds = 0.0
        self._last: float | None = None

    def note_activity(self) -> None:
        """A key or a click: the time since the last one is work, unless it was an idle gap."""
        now = self.clock()
        if self._last is not None and now - self._last <= self.idle_seconds:
            self.seconds += now - self._last
        self._last = now

    def flush(self, record: Callable[[float], None]) -> None:
        """Hand the counted seconds to ``record`` (the store). If the store cannot take them now
        they are kept, and handed over with the next flush; under a second is not worth a write."""
        if self.seconds < 1:
            return
        try:
            record(self.seconds)
        except (OSError, TuiReaderError):
            return
        self.seconds = 0.0
