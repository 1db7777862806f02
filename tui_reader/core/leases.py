"""Leases: opening an article for annotation holds it against other annotators for a while.

Without them, ``overlap = N`` routing counts only the annotators who *finished* a document, so
eight annotators opening the app at once under ``overlap = 1`` would all be sent to the same
first article. A lease says "annotator A is working on document D until time T"; routing counts
live leases as it counts finished work, and an expired lease (an annotator who walked away, a
killed session) frees the document again. Work already saved is never touched by a lease.

All leases of a project live in one small file, ``leases.json`` (a few entries per annotator at
most: expired ones are dropped on every write), read and written under one ``flock``
(``locks/leases.lock``), so routing reads one file, never every document's. A session holds at
most one lease, keyed by its ``holder`` token, so two windows of one annotator each hold theirs.

Leases are soft state, not labels: the file is written atomically but not fsynced, and a damaged
one is read as "no leases" and replaced on the next write (the worst that can happen is that an
article is handed to one annotator too many while it was unreadable).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CorruptFileError
from .storage import FlockLock, read_json_file, write_json_atomic

#: How often (at most) renewing a lease writes the file: a tenth of the lease, never more than
#: once a minute; a renew in between only remembers that the annotator was active.
RENEW_SHARE = 0.1
RENEW_AT_MOST_EVERY = 60.0


@dataclass(frozen=True)
class Lease:
    holder: str  # the session's token
    doc_id: str
    annotator: str
    taken: float  # time.time() when taken or last renewed
    expires: float

    def to_record(self) -> dict[str, Any]:
        return {"doc": self.doc_id, "annotator": self.annotator, "taken": self.taken,
                "expires": self.expires}


class LeaseBook:
    """The leases of one project. ``clock`` (seconds since the epoch; wall time, because the
    leases are compared across processes) can be replaced by tests."""

    def __init__(self, path: Path, lock: FlockLock, minutes: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.lock = lock
        self.minutes = minutes
        self.clock = clock

    @property
    def seconds(self) -> float:
        return self.minutes * 60.0

    def _read(self) -> dict[str, Lease]:
        try:
            data = read_json_file(self.path)
        except (CorruptFileError, OSError):
            return {}  # soft state (see the module docstring): the next write replaces it
        leases: dict[str, Lease] = {}
        if not isinstance(data, dict) or not isinstance(data.get("leases"), dict):
            return leases
        for holder, row in data["leases"].items():
            try:
                leases[holder] = Lease(holder, str(row["doc"]), str(row["annotator"]),
                                       float(row["taken"]), float(row["expires"]))
            except (KeyError, TypeError, ValueError):
                continue
        return leases

    def _write(self, leases: dict[str, Lease]) -> None:
        write_json_atomic(self.path, {"leases": {h: lease.to_record() for h, lease in leases.items()}},
                          fsync=False)

    def live(self) -> list[Lease]:
        """The leases not yet expired (one read of one file, no lock: it is always whole)."""
        now = self.clock()
        return [lease for lease in self._read().values() if lease.expires > now]

    def holders_of(self, exclude: str | None = None) -> dict[str, set[str]]:
        """Document id -> the annotators holding a live lease on it (``exclude`` left out)."""
        out: dict[str, set[str]] = {}
        for lease in self.live():
            if lease.annotator != exclude:
                out.setdefault(lease.doc_id, set()).add(lease.annotator)
        return out

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the leases' lock: a routing decision and the lease it takes are one step."""
        with self.lock:
            yield

    def take(self, holder: str, doc_id: str, annotator: str) -> Lease:
        """``holder`` now holds ``doc_id`` (and no longer whatever it held before) until
        ``lease_minutes`` from now."""
        with self.lock:
            leases = self._live_rows()
            now = self.clock()
            lease = Lease(holder, doc_id, annotator, now, now + self.seconds)
            leases[holder] = lease
            self._write(leases)
        return lease

    def renew(self, holder: str) -> Lease | None:
        """Push ``holder``'s lease on to ``lease_minutes`` from now, even if it had expired
        meanwhile (its annotator is back at work: their saved work was never given away);
        None when the holder has no lease."""
        with self.lock:
            leases = self._read()
            old = leases.get(holder)
            now = self.clock()
            leases = {h: lease for h, lease in leases.items() if lease.expires > now or h == holder}
            if old is None:
                return None
            lease = Lease(holder, old.doc_id, old.annotator, now, now + self.seconds)
            leases[holder] = lease
            self._write(leases)
        return lease

    def release(self, holder: str) -> None:
        """Give ``holder``'s lease up (the annotator quit or moved on)."""
        with self.lock:
            leases = self._live_rows()
            if leases.pop(holder, None) is not None:
                self._write(leases)

    def _live_rows(self) -> dict[str, Lease]:
        now = self.clock()
        return {h: lease for h, lease in self._read().items() if lease.expires > now}
