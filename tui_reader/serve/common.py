"""Small pieces shared by the SSH and web servers: bounds, log lines, annotator names, the app command.

Every bound a client can run into is a constant here; the README's "Remote annotators" section
states the same numbers (tests/e2e/test_serve_bounds.py reads both).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core import model
from ..core.errors import (
    InputError,
    ServeError,  # noqa: F401 - imported from here by ssh.py, web.py, keys.py
)
from ..core.text import display_safe

LogFn = Callable[[str], None]

# ------------------------------------------------------------------------------------ bounds
MAX_COLUMNS = 1000  # a terminal size from a client is clamped to this many columns...
MAX_ROWS = 500  # ...and rows (at login, on window-change, in serve-web's resize)
PASTE_LIMIT = 1024 * 1024  # bytes in one bracketed paste; past it the session is closed
PASTE_TIMEOUT = 3.0  # seconds without input that end a paste the client never ended
INPUT_WINDOW = 64 * 1024  # SSH channel receive window: input in flight or queued per session
MAX_CHANNELS_PER_CONNECTION = 10  # session channels open at once on one SSH connection
NO_SESSION_TIMEOUT = 30.0  # an SSH connection with no session open is closed after this
KEYS_RELOAD_INTERVAL = 2.0  # seconds between looks at the authorized-keys file
APP_LOG_LIMIT = 64 * 1024  # bytes of an app's error output copied into the log per session
MAX_NAME_LENGTH = model.MAX_NAME_LENGTH
# Names the tool writes under itself: an annotator by that name would write into its layer.
RESERVED_NAMES = model.RESERVED_ANNOTATORS  # refused as annotators, in any case


def clamp_size(columns: int, rows: int, default: tuple[int, int] = (80, 24)) -> tuple[int, int]:
    """A client's terminal size within 1..MAX_COLUMNS x 1..MAX_ROWS; 0 (unknown) is ``default``."""
    columns = default[0] if columns <= 0 else min(columns, MAX_COLUMNS)
    rows = default[1] if rows <= 0 else min(rows, MAX_ROWS)
    return columns, rows


_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def safe_term(term: str, default: str = "xterm-256color") -> str:
    """A client's TERM if it looks like a terminal type (letters, digits, ``._+-``), else ``default``."""
    return term if _TERM.fullmatch(term or "") else default


# --------------------------------------------------------------------------------------- log
def one_line(text: str) -> str:
    """``text`` safe for one log line: controls as visible stand-ins, newlines and tabs too."""
    return display_safe(text).translate(_LINE_BREAKS)


_LINE_BREAKS = {0x0A: 0x240A, 0x09: 0x2409}  # ␊ ␉


def stderr_logger(prefix: str) -> LogFn:
    """One timestamped line per event on stderr, e.g. ``2025-01-31T12:00:00+0000 serve-ssh: ...``.

    A message is always one line: a newline or control character in it (a client's TERM, a key's
    comment) shows as a visible stand-in, so nothing a client sends can forge a log line.
    """

    def log(message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        sys.stderr.write(f"{stamp} {prefix}: {one_line(message)}\n")
        sys.stderr.flush()

    return log


class _ToLog(logging.Handler):
    """Library log records (asyncio, asyncssh, aiohttp) as our own timestamped, one-line entries."""

    # asyncio says this for every write to a socket its peer already closed: noise, not news.
    _NOISE = ("socket.send() raised exception.",)

    def __init__(self, log: LogFn) -> None:
        super().__init__(logging.WARNING)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string in a library must not stop us
            message = str(record.msg)
        if message in self._NOISE:
            return
        self._log(f"{record.name}: {message}")
        if record.exc_info and record.exc_info[1] is not None:
            log_traceback(self._log, record.exc_info[1], f"{record.name}: ")


def route_library_logs(log: LogFn, names: tuple[str, ...]) -> None:
    """Send warnings and errors of the named library loggers through ``log``, never raw to stderr."""
    handler = _ToLog(log)
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


def log_traceback(log: LogFn, error: BaseException, prefix: str = "") -> None:
    """The traceback of ``error`` as log lines: frames and source lines, never local variables."""
    import traceback

    for block in traceback.format_exception(type(error), error, error.__traceback__):
        for line in block.rstrip("\n").split("\n"):
            log(prefix + line)


# ------------------------------------------------------------------------------------ names
def check_annotator_name(name: str, where: str) -> str:
    """``name`` stripped, or a ServeError naming ``where`` when it cannot be an annotator's name
    (the core's rule: ``model.check_annotator_name``)."""
    try:
        return model.check_annotator_name(name, where)
    except InputError as err:
        raise ServeError(str(err)) from None


# ------------------------------------------------------------------------------------ the app
def app_argv(project_root: Path, annotator: str) -> list[str]:
    """The command that runs one annotator's app on the project (no import, no shell).

    It is the serve-owned entry point (:mod:`.app_entry`), which runs the app as ``tui-reader
    annotate`` does and keeps any traceback away from the client.
    """
    return [sys.executable, "-m", "tui_reader.serve.app_entry", "--db", str(project_root),
            "--annotator", annotator]


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
