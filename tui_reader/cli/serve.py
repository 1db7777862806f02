"""``tui-reader serve-ssh`` and ``tui-reader serve-web``: the app for remote annotators.

asyncssh and textual-serve are imported inside the commands, so that other commands do not load
them.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from ..core.errors import InputError, PackageMissingError
from ..core.model import check_annotator_name
from .options import default_annotator, open_project, user_errors

PROJECT_ARGUMENT = click.argument("project", required=False)
SERVE_DB_OPTION = click.option(
    "--db", type=click.Path(path_type=Path),
    help="Project folder (default: .tui-reader/ in the PROJECT corpus folder).",
)


def resolve_project(project: str | None, db: Path | None) -> Path:
    """The project folder that PROJECT and --db name, as for ``annotate``; PROJECT is imported once.

    PROJECT may be a corpus folder or file (imported now, into its .tui-reader/ unless --db says
    otherwise) or a project folder itself. Without either, the nearest .tui-reader/ is used.
    """
    from ..core.store import MARKER, Project

    if project is not None and db is None and (Path(project) / MARKER).is_file():
        return Project.open(project).root.resolve()
    opened = open_project(db, project, import_corpus=True, annotator=default_annotator(),
                          then="serving anyway")
    opened.clean_temp_files()
    return opened.root.resolve()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve-ssh")
@PROJECT_ARGUMENT
@SERVE_DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=2222, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--authorized-keys", "authorized_keys", required=True, type=click.Path(path_type=Path),
              help="OpenSSH-format public keys, one per line; each key's comment is its annotator.")
@click.option("--host-key", type=click.Path(path_type=Path),
              help="The server's private key; made (ed25519, 0600) if missing "
                   "[default: PROJECT_FOLDER/ssh_host_ed25519_key].")
@click.option("--max-sessions", type=click.IntRange(min=1), default=50, show_default=True,
              help="Sessions open at once, all keys together.")
@click.option("--max-per-key", type=click.IntRange(min=1), default=3, show_default=True,
              help="Sessions open at once with one key.")
@click.option("--idle-timeout", type=click.FloatRange(min=0), default=1800, show_default=True,
              help="Seconds without input before a session is closed (0: never).")
def serve_ssh_command(project: str | None, db: Path | None, host: str, port: int,
                      authorized_keys: Path, host_key: Path | None, max_sessions: int,
                      max_per_key: int, idle_timeout: float) -> None:
    """Serve the app over SSH: each key in --authorized-keys logs in as its annotator."""
    import asyncio

    with user_errors():
        try:
            from ..serve.ssh import SSHServeConfig, serve
        except ImportError as err:  # pragma: no cover - depends on the install
            raise PackageMissingError(
                f"serve-ssh needs asyncssh ({err}); pip install 'tui-reader[ssh]'") from None
        root = resolve_project(project, db)
        config = SSHServeConfig(
            project_root=root, authorized_keys=authorized_keys, host=host, port=port,
            host_key=host_key, max_sessions=max_sessions, max_per_key=max_per_key,
            idle_timeout=idle_timeout,
        )
        asyncio.run(serve(config))


@click.command("serve-web")
@PROJECT_ARGUMENT
@SERVE_DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. There is no login: keep it on 127.0.0.1 behind a proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--annotator-header", metavar="HEADER",
              help="Take each browser's annotator from this request header, set by an "
                   "authenticating proxy (e.g. X-Remote-User); requests without it are refused.")
@click.option("--annotator", metavar="NAME",
              help="Everyone who opens the page labels as NAME (one annotator per serve-web) "
                   "[default: login user, unless --annotator-header].")
@click.option("--public-url", metavar="URL",
              help="The address browsers use, when it is not http://HOST:PORT (behind a proxy).")
@click.option("--allow-origin", "allow_origins", metavar="ORIGIN", multiple=True,
              help="Also accept the app's websocket from pages at ORIGIN (e.g. "
                   "https://annotate.example.org); repeatable. By default only the served address "
                   "and --public-url may open it.")
def serve_web_command(project: str | None, db: Path | None, host: str, port: int,
                      annotator_header: str | None, annotator: str | None,
                      public_url: str | None, allow_origins: tuple[str, ...]) -> None:
    """Serve the app in a browser (textual-serve). Local-only by default: it has no login."""
    with user_errors():
        if annotator_header and annotator:
            raise InputError("give --annotator-header or --annotator, not both")
        try:
            from ..serve.web import WebServer
        except ImportError as err:
            raise PackageMissingError(f"serve-web needs textual-serve ({err}); "
                                      "pip install 'tui-reader[web]'") from None

        if annotator_header is None:
            annotator = check_annotator_name(annotator or default_annotator(), "--annotator")
        root = resolve_project(project, db)
        server = WebServer(root, host=host, port=port, annotator=annotator,
                           annotator_header=annotator_header, public_url=public_url,
                           allow_origins=allow_origins)
        if not is_loopback(host):
            who = (f"anyone who can reach it can label under any name they put in {annotator_header}"
                   if annotator_header else f"anyone who can reach it can label as {annotator!r}")
            bar = "!" * 78
            click.echo(f"{bar}\nWARNING: serve-web is listening on {host}:{port}, not on 127.0.0.1.\n"
                       f"It has no login of its own: {who}.\n"
                       "Bind it to 127.0.0.1 and put an authenticating proxy in front "
                       f"(see the README).\n{bar}", err=True)
        server.serve()
    sys.exit(0)
