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

What a browser can do is bounded as for serve-ssh: ``/ws`` checks ``Host`` and ``Origin`` against
the served address, ``--public-url`` and ``--allow-origin`` (no other site, no DNS rebinding);
sizes are clamped; input goes through :class:`.input.InputFilter`; the app runs without a shell
in its own process group, and :meth:`_AppProcess.stop` always ends it, whatever the websocket did.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shlex
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from .common import (
    APP_LOG_LIMIT,
    PASTE_LIMIT,
    LogFn,
    ServeError,
    app_argv,
    check_annotator_name,
    clamp_size,
    format_duration,
    log_traceback,
    route_library_logs,
    stderr_logger,
)
from .input import InputFilter

# A websocket message larger than this closes the connection (a paste is one message).
WS_MESSAGE_LIMIT = 2 * PASTE_LIMIT
_QUIT_GRACE = 2.0  # seconds an app has to exit after "quit" before it is killed
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-case, default ports left out."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


class _AppProcess(AppService):
    """textual-serve's AppService with the app started without a shell, in its own process group,
    its error output in the server's log, and a ``stop`` that always ends the process."""

    def __init__(self, argv: list[str], log: LogFn, **kwargs) -> None:  # noqa: ANN003
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = argv
        self.log = log
        self._stopping: asyncio.Task | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24):  # noqa: ANN202
        env = {k: v for k, v in self._build_environment(width=width, height=height).items()
               if k != "TEXTUAL" and k != "TEXTUAL_LOG"}
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True)
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """textual-serve's loop, with the app's stderr logged as it comes (bounded), not dumped."""
        process = self._process
        assert process is not None and process.stdout is not None and process.stderr is not None

        async def log_stderr() -> None:
            logged = 0
            while line := await process.stderr.readline():
                if logged < APP_LOG_LIMIT:
                    logged += len(line)
                    self.log("app: " + line.decode("utf-8", "replace").rstrip("\r\n"))

        stderr_task = asyncio.ensure_future(log_stderr())
        stdout = process.stdout
        try:
            for _ in range(10):  # textual's prelude says it is a Textual app
                line = await stdout.readline()
                if not line or line == b"__GANGLION__\n":
                    break
            while True:
                kind = await stdout.readexactly(1)
                size = int.from_bytes(await stdout.readexactly(4), "big")
                payload = await stdout.readexactly(size)
                if kind == b"D":
                    await self.on_data(payload)
                elif kind == b"M":
                    await self.on_meta(payload)
                elif kind == b"P":
                    await self.on_packed(payload)
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.CancelledError):
            pass
        except Exception as err:  # noqa: BLE001 - a bad packet ends this session, logged
            self.log(f"error reading the app's output: {err!r}")
        finally:
            try:
                await asyncio.wait_for(stderr_task, 1.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                stderr_task.cancel()

    async def stop(self) -> None:
        """End the app whatever state it or the websocket is in; safe to call twice or cancel."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        process = self._process
        try:
            await asyncio.wait_for(self._download_manager.cancel_app_downloads(
                app_service_id=self.app_service_id), 1.0)
        except Exception:  # noqa: BLE001, S110 - nothing to cancel, or cannot: the kill below holds
            pass
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(self.send_meta({"type": "quit"}), 1.0)
                await asyncio.wait_for(process.wait(), _QUIT_GRACE)
            except Exception:  # noqa: BLE001 - a wedged or dead app: killed below
                pass
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if process.returncode is not None:
                    break
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    await asyncio.wait_for(process.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                self._task.cancel()
            self._task = None


class WebServer(Server):
    """textual-serve's server, one app process per browser tab, each with its annotator."""

    def __init__(self, project_root: Path, host: str = "127.0.0.1", port: int = 8000,
                 annotator: str | None = None, annotator_header: str | None = None,
                 public_url: str | None = None, log_fn: LogFn | None = None,
                 allow_origins: tuple[str, ...] = ()) -> None:
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
        self.allowed_origins = self._origins(allow_origins)
        self.allowed_hosts = {urlsplit(o).netloc for o in self.allowed_origins}

    def _origins(self, extra: tuple[str, ...]) -> set[str]:
        """The origins a page that may drive an app is served from (a browser's Origin header)."""
        origins = {origin_of(self.public_url), origin_of(self._default_url)}
        if self.host in _LOOPBACK_NAMES or self.host == "::1" or self.host.startswith("127."):
            origins |= {origin_of(f"http://{name}:{self.port}") for name in _LOOPBACK_NAMES}
        for url in extra:
            origin = origin_of(url)
            if not urlsplit(origin).hostname:
                raise ServeError(f"--allow-origin {url!r}: not an origin (e.g. https://annotate.example.org)")
            origins.add(origin)
        return origins

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

    def check_origin(self, request: web.Request) -> None:
        """A ServeError (-> 403) unless Host, and Origin if sent, name this server.

        A page elsewhere (cross-site, or DNS rebinding onto 127.0.0.1) must not drive an app.
        """
        host = request.headers.get("Host", "").lower()
        if host not in self.allowed_hosts:
            raise ServeError(f"Host {host!r} is not this server's address (expected one of "
                             f"{', '.join(sorted(self.allowed_hosts))}; see --public-url)")
        origin = request.headers.get("Origin")
        if origin is not None and origin_of(origin) not in self.allowed_origins:
            raise ServeError(f"Origin {origin!r} is not allowed (allowed: "
                             f"{', '.join(sorted(self.allowed_origins))}; --allow-origin adds one)")

    def command_for(self, annotator: str) -> str:
        return shlex.join(app_argv(self.project_root, annotator))

    # -------------------------------------------------------------------- handlers
    def initialize_logging(self) -> None:
        """Library warnings as our own one-line log entries: no Rich tracebacks, no locals."""
        route_library_logs(self.log, ("textual-serve", "aiohttp", "asyncio"))

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a logo here; the log line comes once the port is bound."""

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        try:
            self.check_origin(request)
            self.annotator_for(request)
        except ServeError as err:
            self.log(f"refused page from {request.remote}: {err}")
            raise web.HTTPForbidden(text=f"tui-reader: {err}\n") from None
        return await super().handle_index(request)  # type: ignore[misc]

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the command chosen for this connection's annotator."""
        try:
            self.check_origin(request)
            name = self.annotator_for(request)
        except ServeError as err:
            self.log(f"refused session from {request.remote}: {err}")
            raise web.HTTPForbidden(text=f"tui-reader: {err}\n") from None
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=WS_MESSAGE_LIMIT)
        width, height = clamp_size(_to_int(request.query.get("width")),
                                   _to_int(request.query.get("height")))
        app_service: _AppProcess | None = None
        counted = False
        started = time.monotonic()
        reason = "browser closed the page"
        try:
            await websocket.prepare(request)
            app_service = _AppProcess(
                app_argv(self.project_root, name), lambda line: self.log(f"{name}: {line}"),
                write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=False)
            await app_service.start(width, height)
            self.sessions += 1
            self.apps_started += 1
            counted = True
            self.log(f"login {name} from {request.remote} ({width}x{height}; {self.sessions} open)")
            reason = await self._pump(websocket, app_service, name)
        except asyncio.CancelledError:
            reason = "server shutting down"
        except Exception as error:  # noqa: BLE001 - log it, close this session only
            reason = f"error: {error!r}"
            log_traceback(self.log, error, f"{name}: ")
        finally:
            if app_service is not None:
                await app_service.stop()
            if not websocket.closed:
                try:
                    await asyncio.shield(websocket.close())
                except Exception:  # noqa: BLE001, S110 - the browser is gone already
                    pass
            if counted:
                self.sessions -= 1
                self.log(f"logout {name} from {request.remote} (after "
                         f"{format_duration(time.monotonic() - started)}: {reason}; "
                         f"{self.sessions} open)")
        return websocket

    async def _pump(self, websocket: web.WebSocketResponse, app: _AppProcess, name: str) -> str:
        """The browser's messages to the app, made safe; why the session ended."""
        input_filter = InputFilter()

        async def expire_pastes() -> None:
            while True:
                await asyncio.sleep(0.5)
                marker = input_filter.expire(time.monotonic())
                if marker:
                    self.log(f"{name}: an unterminated paste was ended")
                    await app.send_bytes(marker)

        expiry = asyncio.ensure_future(expire_pastes())
        try:
            async for message in websocket:
                if message.type == WSMsgType.ERROR:
                    return f"websocket error: {websocket.exception()!r}"
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    envelope = json.loads(message.data)
                    kind, data = envelope[0], (envelope[1] if len(envelope) > 1 else None)
                except (ValueError, TypeError, IndexError, KeyError):
                    input_filter.dropped += 1
                    continue
                if kind == "stdin" and isinstance(data, str):
                    safe = input_filter.feed(data.encode("utf-8", "ignore"), time.monotonic())
                    if input_filter.paste_overflow:
                        await websocket.close(message=b"paste too large")
                        return f"paste over {PASTE_LIMIT} bytes"
                    if safe:
                        await app.send_bytes(safe)
                elif kind == "resize" and isinstance(data, dict):
                    columns, rows = clamp_size(_to_int(data.get("width")), _to_int(data.get("height")))
                    await app.set_terminal_size(columns, rows)
                elif kind == "ping" and isinstance(data, (str, int, float)):
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await app.blur()
                elif kind == "focus":
                    await app.focus()
            if websocket.close_code == 1009:
                return "message over the size limit"
            return "browser closed the page"
        finally:
            expiry.cancel()

    def serve(self, debug: bool = False) -> None:
        """Listen until SIGINT or SIGTERM. A port that cannot be bound is a one-line ServeError."""
        self.debug = False
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
                 + f"; websockets from {', '.join(sorted(self.allowed_origins))})")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            self.log(f"shutting down ({self.sessions} sessions open)")
            await runner.cleanup()


def _to_int(value: object) -> int:
    """A size from a client: an int, or 0 (unknown) for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0
