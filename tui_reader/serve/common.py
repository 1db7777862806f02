"""Small pieces shared by the SSH and web servers: log lines, annotator names, the app command."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core.errors import ServeError  # noqa: F401 - imported from here by ssh.py, web.py, keys.py
from ..core.text import display_safe

LogFn = Callable[[str], None]


def stderr_logger(prefix: str) -> LogFn:
    """One timestamped line per event on stderr, e.g. ``2025-01-31T12:00:00+0000 serve-ssh: ...``."""

    def log(message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        sys.stderr.write(f"{stamp} {prefix}: {display_safe(message)}\n")
        sys.stderr.flush()

    return log


def check_annotator_name(name: str, where: str) -> str:
    """``name`` stripped, or a ServeError naming ``where`` when it cannot be an annotator's name."""
    name = name.strip()
    if not name:
        raise ServeError(f"{where}: no annotator name")
    if display_safe(name) != name or "\n" in name or "\t" in name:
        raise ServeError(f"{where}: the annotator name {display_safe(name)!r} holds control characters")
    if len(name) > 100:
        raise ServeError(f"{where}: the annotator name is longer than 100 characters")
    return name


def app_argv(project_root: Path, annotator: str) -> list[str]:
    """The command that runs one annotator's app on the project (no import, no shell)."""
    return [sys.executable, "-m", "tui_reader", "annotate", "--db", str(project_root),
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
