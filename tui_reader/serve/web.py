"""The app in a browser, on textual-serve, with the annotator fixed or taken from a proxy's header.

textual-serve's ``Server`` runs one command string for every browser connection: each websocket
(``/ws``) gets its own ``AppService``, which starts the command with
``asyncio.create_subprocess_shell`` and the environment of the server. The command is fixed when
the server is made, so stock textual-serve cannot know who is at the other end. ``WebServer``
overrides the two request handlers, both public methods of ``Server``:

* ``handle_websocket`` builds the command for that connection: ``--annotator`` from the request
  header named by ``--annotator-header`` (quoted for the shell), or the one fixed name;
* ``handle_index`` refuses the page (403) when the header is missing, so a misconfigured proxy
  shows a message instead of an app that would label as nobody.

textual-serve has no login. The header is believed as sent: only an authenticating proxy that
sets it (and overwrites any value a browser sends) may reach the server.
"""

from __future__ import annotations

import asyncio
import errno
import shlex
import signal
import time
from pathlib import Path

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, log

from .common import LogFn, ServeError, app_argv, check_annotator_name, format_duration, stderr_logger


class WebServer(Server):
    """textual-serve's server, one app process per browser tab, each with its annotator."""

    def __init__(self, project_root: Path, host: str = "127.0.0.1", port: int = 8000,
                 annotator: str | None = None, annotator_header: str | None = None,
                 public_url: str | None = None, log_fn: LogFn | None = None) -> None:
        if (annotator is None) == (annotator_header is None):
            raise ServeError("serve-web needs exactly one of an annotator name or an annotator header")
        self.project_root = project_root
        self.annotator = annotator
        self.annotator_header = annotator_header
        self.log = log_fn or stderr_logger("tui-reader serve-web")
        self.sessions = 0
        self.apps_started = 0
        shown = shlex.join(app_argv(project_root, annotator or f"<{annotator_header}>"))
        super().__init__(shown, host=host, port=port, title="tui-reader", public_url=public_url)
        self._default_url = f"http://{host}:{port}"

    # -------------------------------------------------------------------- identity
    def annotator_for(self, request: web.Request) -> str:
        """Who this request labels as; a ServeError (-> 403) when the proxy sent no usable name."""
        if self.annotator_header is None:
            assert self.annotator is not None
            return self.annotator
        value = request.headers.get(self.annotator_header)
        if value is None:
            raise ServeError(f"no {self.annotator_header} header: serve-web expects an "
                             "authenticating proxy in front of it to set it")
        return check_annotator_name(value, f"{self.annotator_header} header")

    def command_for(self, annotator: str) -> str:
        return shlex.join(app_argv(self.project_root, annotator))

    # -------------------------------------------------------------------- handlers
    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a logo here; the log line comes once the port is bound."""

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        try:
            self.annotator_for(request)
        except ServeError as err:
            self.log(f"refused page from {request.remote}: {err}")
            raise web.HTTPForbidden(text=f"tui-reader: {err}\n") from None
        return await super().handle_index(request)  # type: ignore[misc]

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the command chosen for this connection's annotator."""
        try:
            name = self.annotator_for(request)
        except ServeError as err:
            self.log(f"refused session from {request.remote}: {err}")
            raise web.HTTPForbidden(text=f"tui-reader: {err}\n") from None
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _to_int(request.query.get("width", "80"), 80)
        height = _to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        counted = False
        started = time.monotonic()
        try:
            await websocket.prepare(request)
            app_service = AppService(
                self.command_for(name),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            self.sessions += 1
            self.apps_started += 1
            counted = True
            self.log(f"login {name} from {request.remote} ({width}x{height}; {self.sessions} open)")
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - as textual-serve: log, close this session only
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
            if counted:
                self.sessions -= 1
                self.log(f"logout {name} from {request.remote} (after "
                         f"{format_duration(time.monotonic() - started)}; {self.sessions} open)")
        return websocket

    def serve(self, debug: bool = False) -> None:
        """Listen until SIGINT or SIGTERM. A port that cannot be bound is a one-line ServeError."""
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        runner = web.AppRunner(await self._make_app(), handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as err:
            await runner.cleanup()
            reason = "address already in use" if err.errno == errno.EADDRINUSE else (
                err.strerror or str(err))
            raise ServeError(f"cannot listen on {self.host}:{self.port}: {reason}") from None
        who = (f"annotator from the {self.annotator_header} header" if self.annotator_header
               else f"annotator {self.annotator!r}")
        self.log(f"serving {self.project_root} on http://{self.host}:{self.port} ({who}"
                 + (f"; public URL {self.public_url}" if self.public_url != self._default_url else "")
                 + ")")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            self.log(f"shutting down ({self.sessions} sessions open)")
            await runner.cleanup()


def _to_int(value: str, default: int) -> int:
    try:
        return max(1, min(int(value), 1000))
    except ValueError:
        return default
