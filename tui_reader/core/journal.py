"""A document's file as a snapshot and a journal, so that a label costs the same in an article of
50 spans and in one of 5,000.

Rewriting a document's whole JSON file on every label costs what the file holds: 1.8 MB and about
25 ms at 5,000 spans (bench/bench_app.py). Here a change is one line appended to ``<file>.log``
(the rows it puts and the rows it deletes, whole) and fsynced; the snapshot (``<file>``, the
TinyDB tables as before) is rewritten only when the journal has grown as large as the snapshot
(at least ``COMPACT_AT`` bytes), so the bytes written per change stay proportional to the change.

Rows are addressed by a natural key (a span's id, a status's annotator: ``row_key``), never by
TinyDB's numbering, and every line says the whole row: replaying a line twice changes nothing.
That is what keeps it safe:

- *Crash during an append*: the line was not yet acknowledged (its fsync had not returned). A
  reader ignores a last line that is incomplete or not JSON; the next writer cuts it off before
  appending. A bad line with good lines after it is damage: CorruptFileError, nothing written.
- *Crash during compaction*: the new snapshot is renamed into place before the journal is
  emptied; a snapshot that already holds the journal's lines, replayed again, is unchanged.
- *A reader during compaction* (readers take no lock): it notes the snapshot it opened; if, once
  it has read the journal, the snapshot in place is another one, the journal it read may have
  been emptied already, and it reads again.

Writers hold the document's stripe lock (the store's ``_change_file``). A writer keeps the last
few documents it wrote in memory (``_RECENT``), checked against the files' identity on each
write, so a label reads only what other processes appended since.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import storage
from .errors import CorruptFileError

Row = dict[str, Any]
Tables = dict[str, dict[str, Row]]
RowKey = Callable[[str, Row], str]
Check = Callable[[Tables], None]

JOURNAL_SUFFIX = ".log"
# The journal is folded into the snapshot once it holds COMPACT_AT bytes and COMPACT_RATIO times
# the snapshot's size: the bytes written per change stay those of the change, and a reader reads
# at most twice the snapshot. (Tests set both low, so that compactions happen all the time.)
COMPACT_AT = int(os.environ.get("TUI_READER_COMPACT_AT", 32 * 1024))
COMPACT_RATIO = float(os.environ.get("TUI_READER_COMPACT_RATIO", 1.0))
_RECENT = 8  # documents a process keeps in memory after writing them
# Tests set this: after every write, the file is read back cold and compared with memory.
CHECK_WRITES = os.environ.get("TUI_READER_CHECK_JOURNAL") == "1"


@dataclass
class _State:
    tables: Tables  # by natural key
    snapshot: tuple[int, int, int]  # the snapshot's (inode, mtime_ns, size)
    journal_size: int  # bytes of the journal replayed (whole lines)


@dataclass(frozen=True)
class RowChange:
    """One row put or deleted by a write (``before`` None: new; ``after`` None: deleted)."""

    table: str
    before: Row | None
    after: Row | None


_recent: OrderedDict[str, _State] = OrderedDict()


def journal_path(path: Path | str) -> str:
    return os.fspath(path) + JOURNAL_SUFFIX


def journal_files(folders: str) -> set[str]:
    """The paths of the journals in the subfolders of ``folders``: one directory read each."""
    found: set[str] = set()
    try:
        subfolders = [entry.path for entry in os.scandir(folders) if entry.is_dir()]
    except FileNotFoundError:
        return found
    for folder in subfolders:
        with os.scandir(folder) as entries:
            found.update(e.path for e in entries if e.name.endswith(JOURNAL_SUFFIX))
    return found


def identity(path: Path | str, journals: Container[str] | None = None) -> list[int] | None:
    """What a document's files are now: the snapshot's inode, mtime and size, and the journal's
    size (None when there is no snapshot). Any write changes it. ``journals``: the journal
    files that existed a moment ago (see ``journal_files``), so that a pass over many documents
    does not stat the journals that are not there."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    log = journal_path(path)
    if journals is not None and log not in journals:
        return [st.st_ino, st.st_mtime_ns, st.st_size, 0]
    try:
        journal = os.stat(log).st_size
    except FileNotFoundError:
        journal = 0
    return [st.st_ino, st.st_mtime_ns, st.st_size, journal]


def _keyed(raw: Any, path: str, check: Check, row_key: RowKey | None) -> Tables:
    """The snapshot's tables, checked; rows by natural key (``row_key``) or as stored (None:
    for a reader that only goes through the rows)."""
    if not isinstance(raw, dict):
        raise CorruptFileError(f"{path}: not a TinyDB file; it was left untouched")
    check(raw)
    if row_key is None:
        return raw
    return {table: {row_key(table, row): row for row in rows.values()}
            for table, rows in raw.items()}


def _apply(tables: Tables, line: bytes, check: Check, row_key: RowKey) -> None:
    """Apply one journal line (raises ValueError, KeyError or TypeError when it is not one)."""
    entry = orjson.loads(line)
    puts: dict[str, dict[str, Row]] = {}
    for n, op in enumerate(entry["ops"]):
        if op[0] == "put":
            puts.setdefault(op[1], {})[str(n)] = op[3]
    if puts:
        check(puts)
    ops = entry["ops"]
    if any(op[0] not in ("put", "del") for op in ops):
        raise ValueError("unknown journal operation")
    _apply_ops(tables, ops)


def _replay(tables: Tables, data: bytes, path: str, check: Check, row_key: RowKey) -> int:
    """Apply the whole lines of ``data`` to ``tables``; returns the bytes used. The last line
    may be torn (never acknowledged) and is left out; a bad line before others is damage."""
    used = 0
    while used < len(data):
        end = data.find(b"\n", used)
        if end < 0:
            break  # an append cut short: not acknowledged
        try:
            _apply(tables, data[used:end], check, row_key)
        except CorruptFileError:
            raise
        except (ValueError, KeyError, TypeError, IndexError) as err:
            if data.find(b"\n", end + 1) < 0 and not data[end + 1:].strip():
                break  # the last line, damaged by a crash before its fsync returned
            raise CorruptFileError(f"{journal_path(path)}: line at byte {used} is damaged "
                                   f"({err}); it was left untouched") from None
        used = end + 1
    return used


def read_tables(path: Path | str, check: Check, row_key: RowKey) -> Tables | None:
    """A document's tables (snapshot and journal) to go through (rows keyed as stored, or by
    natural key once a journal applies), without a lock; None when the document has no file.
    Not kept in memory: for readers going through many documents."""
    state = _read_cold(os.fspath(path), check, row_key, rows_only=True)
    return None if state is None else state.tables


def _read_whole(path: str) -> tuple[os.stat_result, bytes]:
    """A file's status and bytes, through the raw descriptor (an export reads 20,000 of them)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        chunks = [os.read(fd, st.st_size + 1)]
        while chunks[-1]:  # grew since the fstat: read to the end
            chunks.append(os.read(fd, 1 << 20))
        return st, b"".join(chunks)
    finally:
        os.close(fd)


def _read_cold(path: str, check: Check, row_key: RowKey, rows_only: bool = False
               ) -> _State | None:
    """``rows_only``: the rows are read, not changed, so they are keyed by natural key only
    when a journal has to be applied to them (an export reads 10,000 files this way)."""
    for _ in range(100):  # another process compacting at that moment: read again
        try:
            st, raw = _read_whole(path)
        except FileNotFoundError:
            return None
        if not raw:
            raise CorruptFileError(f"{path}: empty file where a tui-reader data file should be")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise CorruptFileError(f"{path}: not valid JSON ({err}); it was left untouched") from None
        try:
            journal = _read_whole(journal_path(path))[1]
        except FileNotFoundError:
            journal = b""
        tables = _keyed(data, path, check, None if rows_only and not journal else row_key)
        used = _replay(tables, journal, path, check, row_key)
        try:
            now = os.stat(path)
        except FileNotFoundError:
            continue
        if now.st_ino == st.st_ino:
            return _State(tables, (st.st_ino, st.st_mtime_ns, st.st_size), used)
    raise CorruptFileError(f"{path}: kept changing while it was read")


def _current(path: str, check: Check, row_key: RowKey) -> _State | None:
    """The document as it is now, for a writer holding its lock: from memory when the snapshot
    is the one remembered, plus whatever other processes appended to the journal since."""
    state = _recent.get(path)
    if state is not None:
        try:
            st = os.stat(path)
            journal_size = os.stat(journal_path(path)).st_size
        except FileNotFoundError:
            state = None
        else:
            if (st.st_ino, st.st_mtime_ns, st.st_size) != state.snapshot or \
                    journal_size < state.journal_size:
                state = None
            elif journal_size > state.journal_size:
                with open(journal_path(path), "rb") as f:
                    f.seek(state.journal_size)
                    more = f.read()
                state.journal_size += _replay(state.tables, more, path, check, row_key)
    if state is None:
        state = _read_cold(path, check, row_key)
        if state is None:
            _recent.pop(path, None)
            return None
    _recent[path] = state
    _recent.move_to_end(path)
    while len(_recent) > _RECENT:
        _recent.popitem(last=False)
    return state


def read_for_change(path: Path | str, check: Check, row_key: RowKey) -> Tables:
    """The tables to edit in a change (the caller holds the lock): a dict of its own, the
    tables and rows shared with memory. Replace a table or a row; never edit one in place."""
    state = _current(os.fspath(path), check, row_key)
    return {} if state is None else dict(state.tables)


def _diff(before: Tables, after: dict[str, dict[str, Row]], row_key: RowKey) -> list[RowChange]:
    """The rows of ``after`` that are not in ``before`` (new, or replaced by an unequal row),
    and the rows of ``before`` gone from it. A row kept as the same object under its key is
    passed over at C speed: a change of one span in 5,000 compares 5,000 pointers."""
    changes: list[RowChange] = []
    for table in before.keys() | after.keys():
        old, new = before.get(table, {}), after.get(table)
        if new is old:
            continue  # the same table object: untouched
        new = new or {}
        kept = {key for key, row in new.items() if old.get(key) is row}
        seen = set(kept)
        for key in new.keys() - kept:
            row = new[key]
            natural = row_key(table, row)
            seen.add(natural)
            was = old.get(natural)
            if was is not row and was != row:
                changes.append(RowChange(table, was, row))
        for key in old.keys() - seen:
            changes.append(RowChange(table, old[key], None))
    return changes


def write_change(path: Path | str, tables: dict[str, dict[str, Row]], check: Check,
                 row_key: RowKey, fsync: bool = True) -> list[RowChange]:
    """Save ``tables`` (edited from :func:`read_for_change`, under the same lock): one journal
    line with the rows that differ, or a new snapshot when there is none yet or the journal has
    grown as large as it (or the write is not fsynced and there is no journal). Returns the rows
    changed (nothing written when there are none)."""
    path = os.fspath(path)
    state = _current(path, check, row_key)
    try:
        if state is None:
            check(tables)
            keyed = {t: {row_key(t, r): r for r in rows.values()} for t, rows in tables.items()}
            _write_snapshot(path, keyed, fsync)
            return [RowChange(t, None, r) for t, rows in keyed.items() for r in rows.values()]
        changes = _diff(state.tables, tables, row_key)
        if not changes:
            return []
        new_rows: dict[str, dict[str, Row]] = {}
        for n, change in enumerate(changes):
            if change.after is not None:
                new_rows.setdefault(change.table, {})[str(n)] = change.after
        check(new_rows)
        ops = [["put", c.table, row_key(c.table, c.after), c.after] if c.after is not None
               else ["del", c.table, row_key(c.table, c.before or {})] for c in changes]
        # Unsynced writes (an import) rewrite a snapshot that has no journal yet: a line per
        # imported document would be replayed by every later reader, to save bytes nobody waits
        # for. Never over acknowledged lines: emptying the journal before an fsync could lose them.
        fold = (not fsync and state.journal_size == 0) or \
            state.journal_size >= max(COMPACT_AT, COMPACT_RATIO * state.snapshot[2])
        if fold:
            merged = dict(state.tables)
            for table in {c.table for c in changes}:
                merged[table] = dict(merged.get(table, {}))
            _apply_ops(merged, ops)
            _write_snapshot(path, merged, fsync)
        else:
            _append(path, state, orjson.dumps({"ops": ops}) + b"\n", fsync)
            _apply_ops(state.tables, ops)
    except BaseException:
        _recent.pop(path, None)  # memory may no longer be what the files hold
        raise
    if CHECK_WRITES:
        _check_against_disk(path, check, row_key)
    return changes


def _apply_ops(tables: Tables, ops: list[list[Any]]) -> None:
    for op in ops:
        if op[0] == "put":
            tables.setdefault(op[1], {})[op[2]] = op[3]
        else:
            tables.get(op[1], {}).pop(op[2], None)


def _check_against_disk(path: str, check: Check, row_key: RowKey) -> None:
    """What memory holds must be what a reader finds on disk (tests turn this on)."""
    cold = _read_cold(path, check, row_key)
    warm = _recent[path].tables
    assert cold is not None
    assert {t: r for t, r in cold.tables.items() if r} == {t: r for t, r in warm.items() if r}, (
        f"{path}: the journal and memory differ (a row edited in place?)")


def _append(path: str, state: _State, line: bytes, fsync: bool) -> None:
    # At the end of the whole lines: a torn last line from a crash (never acknowledged) goes.
    storage.append_at(journal_path(path), state.journal_size, line, fsync=fsync)
    state.journal_size += len(line)


def _write_snapshot(path: str, tables: Tables, fsync: bool) -> None:
    """Fold everything into a new snapshot (TinyDB tables, rows numbered 1..n), then empty the
    journal. A crash between the two leaves lines the snapshot already holds: harmless."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    numbered = {table: {str(i): row for i, row in enumerate(rows.values(), 1)}
                for table, rows in tables.items()}
    storage.write_json_atomic(path, numbered, fsync=fsync)
    journal = journal_path(path)
    if os.path.exists(journal):
        fd = os.open(journal, os.O_WRONLY)
        try:
            os.ftruncate(fd, 0)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    st = os.stat(path)
    _recent[path] = _State(dict(tables), (st.st_ino, st.st_mtime_ns, st.st_size), 0)
    _recent.move_to_end(path)
    while len(_recent) > _RECENT:
        _recent.popitem(last=False)
