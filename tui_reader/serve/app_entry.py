"""``python -m tui_reader.serve.app_entry --db PROJECT --annotator NAME``: a served annotator's app.

It runs the app as ``tui-reader annotate`` does, with one difference: no traceback ever reaches
the client. The server passes a pipe in ``TUI_READER_LOG_FD`` (serve-ssh: the app's own stderr is the client's
terminal); Python's ``sys.stderr`` goes there, so a crash's traceback lands in the server's log and
the client sees the server's one-line message. Textual's crash report is replaced by a plain
traceback without local variables (they hold article text and other people's labels), and a crash
exits with status 1, never 0.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..core.store import Project

LOG_FD_VARIABLE = "TUI_READER_LOG_FD"
CRASH_STATUS = 1


def _log_stream() -> TextIO:
    """Where error output goes: the server's pipe. Textual swaps ``sys.stderr`` while it runs, so
    the crash handlers below write to this stream, not to whatever ``sys.stderr`` is then."""
    fd = os.environ.pop(LOG_FD_VARIABLE, None)
    if fd is None:
        return sys.__stderr__  # serve-web: stderr is a pipe to the server, not the client's screen
    stream = open(int(fd), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    sys.stderr = stream
    return stream


def main(argv: list[str], project: Project | None = None) -> int:
    """Run the app; ``project``: the project already open (a session forked by the zygote)."""
    log = _log_stream()
    crashed: list[bool] = []

    import textual.app

    def fatal_error(app: textual.app.App) -> None:  # replaces App._fatal_error
        crashed.append(True)
        traceback.print_exc(file=log)  # frames and source lines; no local variables
        app.bell()
        app._close_messages_no_wait()

    def panic(app: textual.app.App, *renderables: object) -> None:  # replaces App.panic
        from rich.console import Console

        crashed.append(True)
        console = Console(file=log, color_system=None, width=120, markup=False,
                          highlight=False, emoji=False)
        for renderable in renderables:  # the input thread's Traceback() has no locals
            console.print(renderable)
        app._close_messages_no_wait()

    textual.app.App._fatal_error = fatal_error  # type: ignore[method-assign]
    textual.app.App.panic = panic  # type: ignore[method-assign,assignment]
    try:
        code = _run_app(argv, log, project)
    except BaseException:  # noqa: BLE001 - anything at all: its traceback to the log, not the client
        traceback.print_exc(file=log)
        return CRASH_STATUS
    return CRASH_STATUS if crashed and code == 0 else code


def _run_app(argv: list[str], log: TextIO, project: Project | None) -> int:
    """The annotator's app on the project, as ``tui-reader annotate --db PROJECT --annotator
    NAME`` runs it (the server has already checked the name and imported the corpus)."""
    import argparse

    from ..core.errors import TuiReaderError
    from ..core.model import check_annotator_name
    from ..core.store import Project
    from ..ui.app import AnnotatorApp

    parser = argparse.ArgumentParser(prog="tui_reader.serve.app_entry")
    parser.add_argument("--db", required=True)
    parser.add_argument("--annotator", required=True)
    args = parser.parse_args(argv)
    try:
        if project is None:
            project = Project.open(args.db)
        app = AnnotatorApp(project, check_annotator_name(args.annotator, "--annotator"),
                           suggest=project.config.suggest, ml_backend=project.config.ml_backend)
    except TuiReaderError as err:
        print(f"tui-reader: {err}", file=log)
        return 2
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    import gc

    gc.disable()  # as tui_reader.__main__: the app turns the collector on after its first frame
    try:
        status = main(sys.argv[1:])
    finally:
        gc.enable()
    sys.exit(status)
