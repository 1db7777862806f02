"""TinyDB storage that survives SIGKILL and several writer processes.

Stock TinyDB rewrites its JSON file in place and caches ids and queries per process, so a crash can
leave a torn file and two processes lose each other's writes (see shared/research/tinydb-storage.md).
Here every write goes to a temp file that is fsynced and renamed over the old one, and every
read-modify-write of a table runs under a blocking ``flock`` with TinyDB's caches reset.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from .errors import CorruptFileError, StoreError  # noqa: F401 - StoreError: where it was


class FlockLock:
    """Blocking, re-entrant (per object) exclusive ``flock`` on a lock file.

    A plain blocking flock, not a polling lock library: the kernel wakes the waiter at once and
    releases the lock when its holder dies, so a killed annotator never leaves a stale lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> FlockLock:
        if self._depth == 0:
            # Read access suffices for flock, so lock files made by another account still work.
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file written by this module; ``None`` when it does not exist."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    if not raw:
        raise CorruptFileError(f"{path}: empty file where a tui-reader data file should be")
    try:
        with _collector_paused():
            return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise CorruptFileError(f"{path}: not valid JSON ({err}); it was left untouched") from None


# A parse only makes new objects, with no cycles among them: the cyclic collector has nothing
# to find in it, yet would walk every live object several times while a large file is parsed
# (at 100k documents that was a third of `stats`). Threads parse at once (the app's list, its
# figures screen), so the pause is counted: the last parse to end turns the collector back on,
# and only if it was on when the first began.
_pauses = 0
_pauses_lock = threading.Lock()
_collector_was_on = False


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    global _pauses, _collector_was_on
    with _pauses_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


def write_json_atomic(path: str | os.PathLike[str], data: Any, *, fsync: bool = True) -> None:
    """Write ``data`` as JSON so that ``path`` always holds either the old or the new version."""
    path = os.fspath(path)
    directory = os.path.dirname(path)
    payload = orjson.dumps(data)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o664)  # mkstemp makes 0600; teammates' accounts must read it
            f.write(payload)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if fsync:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def append_at(path: str | os.PathLike[str], offset: int, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` at ``offset`` of ``path`` (made if missing) and cut the file there: an
    append after the last good byte, whatever a crash left beyond it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o664)
    try:
        os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


class AtomicStorage(Storage):
    """TinyDB storage: orjson, opened by path on every read, replaced atomically on every write."""

    def __init__(self, path: str, lock: FlockLock | None = None, fsync: bool = True) -> None:
        self.path = os.path.abspath(path)
        self.lock = lock or FlockLock(self.path + ".lock")
        self.fsync = fsync

    def read(self) -> dict[str, Any] | None:
        data = read_json_file(self.path)
        if data is not None and not isinstance(data, dict):
            raise CorruptFileError(f"{self.path}: not a TinyDB file; it was left untouched")
        return data

    def write(self, data: dict[str, Any]) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        write_json_atomic(self.path, data, fsync=self.fsync)

    def close(self) -> None:
        pass


def _locked(method):  # type: ignore[no-untyped-def]
    @functools.wraps(method)
    def wrapper(self: LockedTable, *args: Any, **kwargs: Any) -> Any:
        with self.storage.lock:
            # TinyDB caches the next id per Table object (private ``_next_id``, pinned by
            # tinydb==4.9.0 and guarded by tests/unit/test_pins.py); another process may have
            # inserted since, so recompute it from the file we are about to read.
            self._next_id = None
            self.clear_cache()
            return method(self, *args, **kwargs)

    return wrapper


class LockedTable(Table):
    # A query cache would serve results from before another process's write.
    default_query_cache_capacity = 0


for _name in ("insert", "insert_multiple", "update", "update_multiple", "upsert", "remove", "truncate"):
    setattr(LockedTable, _name, _locked(getattr(Table, _name)))


class SafeTinyDB(TinyDB):
    """TinyDB on :class:`AtomicStorage` whose writes are locked read-modify-writes."""

    table_class = LockedTable
    default_storage_class = AtomicStorage

    def __init__(self, path: str | Path, lock: FlockLock | None = None, fsync: bool = True):
        super().__init__(os.fspath(path), storage=AtomicStorage, lock=lock, fsync=fsync)
