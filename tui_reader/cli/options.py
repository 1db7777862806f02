"""What the commands share: options, the annotator's default name, error handling, import."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..core.errors import TuiReaderError
from ..core.model import check_annotator_name
from ..core.text import display_safe

if TYPE_CHECKING:
    from ..core.importer import ImportReport
    from ..core.store import Project


def default_annotator() -> str:
    """The login name (what ``--annotator`` defaults to)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "annotator"


def _checked_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_annotator_name(value, f"--{param.name}")
    except TuiReaderError as err:
        fail(str(err))


DB_OPTION = click.option(
    "--db", type=click.Path(path_type=Path),
    help="Project folder (default: .tui-reader/ in the corpus folder, or the nearest one above).",
)
ANNOTATOR_OPTION = click.option(
    "--annotator", envvar="TUI_READER_ANNOTATOR", default=default_annotator, callback=_checked_name,
    show_default="login user", help="Who is labelling (also $TUI_READER_ANNOTATOR).",
)
REVIEWER_OPTION = click.option(
    "--reviewer", envvar="TUI_READER_ANNOTATOR", default=default_annotator, callback=_checked_name,
    show_default="login user", help="Who is reviewing (recorded on every gold span).",
)
LS_USERS_OPTION = click.option(
    "--ls-users", type=click.Path(path_type=Path), metavar="FILE",
    help="Which Label Studio user each annotator is: lines of 'annotator email id' (either may be "
         "left out) or a JSON object. Export writes them as completed_by; import reads them back.",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="JSON for scripts instead of tables.")


def fail(message: str) -> NoReturn:
    """One line on stderr and exit status 2: the end of every problem a user can fix."""
    click.echo(f"tui-reader: {display_safe(message)}", err=True)
    sys.exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the problems a user can fix (the TuiReaderError family, and the environment's
    OSErrors: no such file, permission denied, disk full) into one line on stderr and exit
    status 2. Anything else is a bug: its traceback shows."""
    try:
        yield
    except TuiReaderError as err:
        fail(str(err))
    except OSError as err:
        fail(f"{err.filename}: {err.strerror}" if err.filename else str(err))


def run_import(project: Project, paths: list[str], annotator: str,
               ls_users: dict[str, Any] | None = None) -> ImportReport:
    """Import with a progress bar on a terminal; print one line per problem and a summary."""
    from ..core.importer import import_paths

    total = sum(_size(p) for p in paths)
    if sys.stderr.isatty() and total > 1_000_000:
        with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
            report = import_paths(project, paths, annotator, on_progress=bar.update,
                                  ls_users=ls_users)
    else:
        report = import_paths(project, paths, annotator, ls_users=ls_users)
    for problem in report.problems:
        click.echo(display_safe(problem), err=True)
    return report


def _size(path: str) -> int:
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if p.is_dir():
        return sum(
            f.stat().st_size for f in p.rglob("*") if f.is_file() and ".tui-reader" not in f.parts
        )
    return 0


def open_project(db: Path | None, corpus: str | None = None, *, import_corpus: bool = False,
                 annotator: str | None = None, then: str = "carrying on") -> Project:
    """The project that ``--db`` and a corpus PATH name; with ``import_corpus`` the corpus is
    imported first (the project made if needed), its problems printed, then a summary ending in
    ``then`` (what happens next)."""
    from ..core.errors import StoreError
    from ..core.store import Project, find_project_dir

    if import_corpus and corpus is not None and not os.path.exists(corpus):
        raise StoreError(f"{corpus}: no such file or folder")  # before any project is made
    project = Project.open(find_project_dir(db, corpus), create=import_corpus and corpus is not None)
    if import_corpus and corpus is not None:
        report = run_import(project, [corpus], annotator or default_annotator())
        if report.problems:
            click.echo(f"{report.summary()}; {then}", err=True)
    return project
