"""Warm session processes: one helper that has imported Textual and the app and opened the project,
and forks a process for each SSH session.

Starting Python and importing Textual for every login took 0.4-0.6 s alone and many seconds when
dozens of annotators logged in together; a forked copy of a process that has done it already is
ready at once and shares those pages with every other session.

The server starts ``python -m tui_reader.serve.zygote --control-fd N PROJECT`` (a fresh
interpreter, started with only the descriptors below: nothing of the server's host key or sockets
is ever in it) with

* fd N: one end of a ``SOCK_SEQPACKET`` socket pair, one message per request or reply;
* stderr: a pipe into the server's log; stdin and stdout: /dev/null.

It is single-threaded and runs no event loop. It says ``{"ready": pid}`` once warm, then for each
request ``{"annotator": NAME, "env": {...}}`` carrying two descriptors (SCM_RIGHTS: the pty's
slave side and the write end of the session's log pipe) it answers ``{"pid": N}`` or
``{"error": "..."}``. The session process is a grandchild: a go-between forks it and exits at once,
so the kernel re-parents it to the server (a child subreaper), which waits for it, signals it and
reads its exit status exactly as for an app it spawned itself. In the session process, before the
app runs: a new session with the pty as controlling terminal and as fds 0-2, the log pipe as fd 3,
every other descriptor closed, the environment replaced by the request's, the random generator
re-seeded, the zygote's signal handlers back to Python's defaults. Then it runs exactly what
:mod:`.app_entry` runs (crash output to the log, one line to the client).

The zygote ends when the server closes its end of the socket pair (or dies).
"""

from __future__ import annotations

import gc
import importlib
import os
import random
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import orjson

from .app_entry import LOG_FD_VARIABLE

SESSION_LOG_FD = 3  # where a session process finds its log pipe
MAX_MESSAGE = 256 * 1024  # one request: an environment and a name
# Modules the app imports while it starts or on a key, loaded here once so that every session
# shares them (measured: the rest of a session's first frame is its own work).
PRELOAD = (
    "textual.app", "textual.drivers.linux_driver", "textual.drivers._writer_thread",
    "textual._xterm_parser", "textual._keyboard_protocol", "textual.layouts.factory",
    "textual.layouts.horizontal", "textual.layouts.vertical", "textual.layouts.stream",
    "textual.scrollbar", "textual.widgets._footer", "textual.widgets._input", "textual.command",
    "textual.pilot", "concurrent.futures.thread", "tty", "rich.console", "rich.table",
    "tui_reader.ui.app", "tui_reader.ui.screens.help", "tui_reader.ui.screens.stats",
    "tui_reader.ui.screens.choose_span", "tui_reader.core.suggest.rules",
    "tui_reader.core.suggest.learned", "tui_reader.core.suggest.model_process",
    "tui_reader.core.agreement", "tui_reader.core.search", "tui_reader.core.stats",
    "tui_reader.core.review",
)


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def preload() -> None:
    """Import what every session needs and compile the suggestion rules' patterns once."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as err:  # a module renamed in a new Textual: slower, not broken
            _log(f"not preloaded: {name} ({err})")
    from ..core.segment import Segments
    from ..core.suggest.rules import DEFAULT_RULES, apply_rules

    sample = 'Share this article. "We will vote," the minister said on Monday. Photo: AP.'
    apply_rules(sample, Segments(sample), DEFAULT_RULES, ["claim", "quote", "opinion", "boilerplate"])


class WarmProject:
    """The project as the zygote holds it: opened once, refreshed before each fork (a new
    catalogue, a changed config.toml), or None when it cannot be opened (then the session opens
    it itself and reports the problem as the app always does)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.project: Any = None
        self._stamp: tuple[int, int, int] | None = None

    def _config_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(Path(self.root) / "config.toml")
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def fresh(self) -> Any:
        from ..core.errors import TuiReaderError
        from ..core.store import Project

        stamp = self._config_stamp()
        try:
            if self.project is None or stamp != self._stamp:
                self.project, self._stamp = Project.open(self.root), stamp
            else:
                self.project.reload_catalog()
        except (TuiReaderError, OSError):
            self.project, self._stamp = None, None
        return self.project


# ------------------------------------------------------------------------------ the session side
_session_log = [-1]  # in a session process: the fd of its log pipe, wherever it is just now


def _become_session(control: socket.socket, request: dict[str, Any], slave: int, log_fd: int,
                    project: Any) -> int:
    """In the forked session process: take the terminal, drop everything of the zygote's, run the
    app. Returns the exit status."""
    import fcntl
    import termios

    _session_log[0] = log_fd
    control.close()
    if log_fd != SESSION_LOG_FD:  # the log first, so that any failure below is logged
        if slave == SESSION_LOG_FD:
            slave = os.dup(slave)
        os.dup2(log_fd, SESSION_LOG_FD)
        _session_log[0] = SESSION_LOG_FD
        os.close(log_fd)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(SESSION_LOG_FD + 1, _max_fd())
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.environ[LOG_FD_VARIABLE] = str(SESSION_LOG_FD)
    random.seed(os.urandom(32))  # never the zygote's (or another session's) sequence
    from . import app_entry

    return app_entry.main(["--db", str(request["root"]), "--annotator", str(request["annotator"])],
                          project=project)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536


def _fork_session(control: socket.socket, request: dict[str, Any], slave: int, log_fd: int,
                  project: Any) -> int:
    """Fork the session process through a go-between that exits at once (so the session becomes
    the server's child); its pid."""
    sys.stdout.flush()
    sys.stderr.flush()  # nothing of the zygote's buffered output may reach a session's terminal
    report_read, report_write = os.pipe()
    go_between = os.fork()
    if go_between == 0:  # the go-between
        status = 1
        try:
            os.close(report_read)
            pid = os.fork()
            if pid == 0:  # the session
                os.close(report_write)
                code = 1
                try:  # the collector stays off, as app_entry starts: the app turns it on
                    code = _become_session(control, request, slave, log_fd, project)
                except SystemExit as done:
                    code = done.code if isinstance(done.code, int) else 1
                except BaseException:  # noqa: BLE001 - its traceback to the log, never the client
                    try:
                        with os.fdopen(os.dup(_session_log[0]), "w") as log:
                            traceback.print_exc(file=log)
                    except OSError:
                        pass
                finally:
                    try:
                        sys.stdout.flush()
                    except (OSError, ValueError):
                        pass
                    os._exit(code)
            os.write(report_write, str(pid).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(report_write)
    try:
        data = b""
        while chunk := os.read(report_read, 64):
            data += chunk
    finally:
        os.close(report_read)
        os.waitpid(go_between, 0)
    if not data:
        raise OSError("the session process could not be forked")
    return int(data)


# ------------------------------------------------------------------------------------ the zygote
def serve(root: str, control: socket.socket) -> int:
    """Answer fork requests until the server closes its end."""
    warm = WarmProject(root)
    warm.fresh()
    gc.collect()
    gc.freeze()  # what is here now is shared with every session: the collector leaves it alone
    control.send(orjson.dumps({"ready": os.getpid()}))
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, MAX_MESSAGE, 4)
        except InterruptedError:
            continue
        except OSError as err:
            _log(f"the server's socket failed: {err}")
            return 1
        if not message and not fds:
            return 0  # the server is gone or shutting down
        try:
            if len(fds) != 2:
                raise ValueError(f"{len(fds)} descriptors with the request, not 2")
            if threading.active_count() != 1:
                raise RuntimeError("the zygote has threads; it cannot fork safely")
            request = orjson.loads(message)
            request["root"] = root
            pid = _fork_session(control, request, fds[0], fds[1], warm.fresh())
            reply: dict[str, Any] = {"pid": pid}
        except Exception as err:  # noqa: BLE001 - the server falls back to a spawn, and logs it
            reply = {"error": f"{type(err).__name__}: {err}"}
            traceback.print_exc(file=sys.stderr)
        finally:
            for fd in fds:
                os.close(fd)
        control.send(orjson.dumps(reply))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "--control-fd" or not argv[1].isdigit():
        _log("usage: python -m tui_reader.serve.zygote --control-fd N PROJECT_FOLDER")
        return 2
    # Ctrl-C at the server's terminal is for the server, which then closes this process's socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=int(argv[1]))
    preload()
    return serve(argv[2], control)


if __name__ == "__main__":
    gc.disable()  # as app_entry: nothing to collect while importing
    sys.exit(main(sys.argv[1:]))
