"""The SSH front door: each authorized key is an annotator; each session is its own app process.

One asyncssh listener. A login is a public key from the authorized-keys file (no passwords, no
keyboard-interactive, no anonymous access); the key's comment is the annotator's name and the SSH
user name is ignored. Each session that asks for a pseudo-terminal gets a fresh pty pair and a
child process ``python -m tui_reader annotate --db PROJECT --annotator NAME`` with TERM from the
client, as leader of its own session with the pty as its controlling terminal: a resize from the
client becomes ``TIOCSWINSZ`` on the master and the kernel sends the app SIGWINCH. Bytes are
pumped both ways unchanged (``encoding=None``, ``line_editor=False``). Exec requests, subsystems,
sessions without a pty, port and agent forwarding and X11 are refused.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import signal
import struct
import termios
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from .common import LogFn, ServeError, app_argv, format_duration, stderr_logger
from .keys import AuthorizedKey, AuthorizedKeysFile, load_or_create_host_key

# What the client's terminal is left in if the app could not restore it (killed, idle timeout):
# kitty keyboard off, mouse reporting off, bracketed paste off, focus events off, autowrap on,
# normal screen, cursor shown, attributes reset. Mirrors textual.drivers.linux_driver.
TERMINAL_RESET = (b"\x1b[<u\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2004l"
                  b"\x1b[?2048l\x1b[?1004l\x1b[?7h\x1b[0m\x1b[?1049l\x1b[?25h")
_OUTPUT_HIGH_WATER = 256 * 1024
_HANGUP_GRACE = 2.0
# Environment variables of the server that must not leak into an annotator's app.
_DROP_ENV = ("COLUMNS", "LINES", "TERM", "COLORTERM", "TUI_READER_ANNOTATOR", "TMUX", "TMUX_PANE",
             "STY", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "SSH_AUTH_SOCK", "SSH_CONNECTION",
             "SSH_CLIENT", "SSH_TTY", "DISPLAY", "WINDOWID")


@dataclass
class SSHServeConfig:
    """What ``tui-reader serve-ssh`` was told (after the project folder is resolved)."""

    project_root: Path
    authorized_keys: Path
    host: str = "127.0.0.1"
    port: int = 2222
    host_key: Path | None = None  # default: <project_root>/ssh_host_ed25519_key
    max_sessions: int = 50
    max_per_key: int = 3
    idle_timeout: float = 1800.0  # seconds without input; 0 = never


@dataclass
class SessionInfo:
    """One running app: who, from where, its process."""

    number: int
    annotator: str
    key: bytes
    peer: str
    pid: int
    size: tuple[int, int]
    term: str
    started: float = field(default_factory=time.monotonic)


def set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def get_winsize(fd: int) -> tuple[int, int]:
    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    return cols, rows


def _take_controlling_terminal() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _peer_text(conn: asyncssh.SSHServerConnection) -> str:
    peer = conn.get_extra_info("peername")
    if not peer:
        return "?"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


class _Connection(asyncssh.SSHServer):
    """asyncssh's per-connection callbacks: authentication by key, no forwarding of any kind."""

    def __init__(self, door: SSHFrontDoor) -> None:
        self.door = door
        self.peer = "?"
        self.username = ""
        self.candidate: tuple[bytes, AuthorizedKey] | None = None
        self.identity: tuple[bytes, AuthorizedKey] | None = None
        self.unknown: list[str] = []

    # ---------------------------------------------------------------- connection
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.peer = _peer_text(conn)
        self.door._connections[conn] = self
        problem = self.door.keys.reload()
        if problem:
            self.door.log(f"authorized keys: {problem}")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.identity is None:
            if self.unknown:
                keys = ", ".join(dict.fromkeys(self.unknown))
                self.door.refuse(f"unknown key {keys} (user {self.username!r})", self.peer)
            else:
                self.door.refuse(f"no public key offered (user {self.username!r}; passwords and "
                                 "keyboard-interactive are not accepted)", self.peer)

    # -------------------------------------------------------------- authentication
    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True  # always authenticate: no anonymous access

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        found = self.door.keys.lookup(key)
        if found is None:
            self.unknown.append(key.get_fingerprint())
            return False
        # asyncssh calls this for a key query and again, last, for the signed request that
        # succeeds: the key seen last before auth_completed is the one that proved itself.
        self.candidate = (key.public_data, found)
        return True

    def auth_completed(self) -> None:
        self.identity = self.candidate

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    # ------------------------------------------------------------------ forwarding
    def _who(self) -> str:
        return self.identity[1].annotator if self.identity else "?"

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        self.door.refuse(f"{self._who()}: port forwarding to {dest_host}:{dest_port}", self.peer)
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self.door.refuse(f"{self._who()}: remote port forwarding {listen_host}:{listen_port}",
                         self.peer)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.door.refuse(f"{self._who()}: socket forwarding to {dest_path}", self.peer)
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self.door.refuse(f"{self._who()}: remote socket forwarding {listen_path}", self.peer)
        return False

    def tun_requested(self, unit: int | None) -> bool:
        self.door.refuse(f"{self._who()}: tunnel forwarding", self.peer)
        return False


class SSHFrontDoor:
    """The server. ``await start()``, then ``await serve_forever()`` or ``await close()``."""

    def __init__(self, config: SSHServeConfig, log: LogFn | None = None) -> None:
        self.config = config
        self.log = log or stderr_logger("tui-reader serve-ssh")
        self.keys = AuthorizedKeysFile(config.authorized_keys)
        self.host_key_path = config.host_key or (config.project_root / "ssh_host_ed25519_key")
        self.host_key, self.host_key_created = load_or_create_host_key(self.host_key_path)
        self.sessions: dict[int, SessionInfo] = {}
        self.apps_started = 0  # every app process ever started (tests read it)
        self._numbers = 0
        self._connections: weakref.WeakKeyDictionary[asyncssh.SSHServerConnection, _Connection] = (
            weakref.WeakKeyDictionary())
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._hangups: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        assert self._acceptor is not None
        return self._acceptor.get_port()

    async def start(self) -> None:
        cfg = self.config
        try:
            self._acceptor = await asyncssh.listen(
                cfg.host, cfg.port,
                server_factory=lambda: _Connection(self),
                server_host_keys=[self.host_key],
                process_factory=self._run_session,
                encoding=None, line_editor=False,  # bytes both ways; the line editor eats keys
                allow_pty=True, x11_forwarding=False, agent_forwarding=False, allow_scp=False,
                password_auth=False, kbdint_auth=False, host_based_auth=False, gss_host=None,
                authorized_client_keys=None,  # our own lookup: the key's comment is the annotator
                login_timeout=60, keepalive_interval=60, keepalive_count_max=3,
            )
        except OSError as err:
            reason = "address already in use" if err.errno == errno.EADDRINUSE else (
                err.strerror or str(err))
            raise ServeError(f"cannot listen on {cfg.host}:{cfg.port}: {reason}") from None
        made = "generated" if self.host_key_created else "host key"
        self.log(f"{made} {self.host_key_path} ({self.host_key.get_fingerprint()})")
        self.log(f"listening on {cfg.host}:{self.port} for {len(self.keys.keys)} keys "
                 f"({len({k.annotator for k in self.keys.keys.values()})} annotators); project "
                 f"{cfg.project_root}; at most {cfg.max_sessions} sessions, {cfg.max_per_key} per key"
                 + (f", idle timeout {cfg.idle_timeout:g}s" if cfg.idle_timeout else ""))

    async def serve_forever(self) -> None:
        assert self._acceptor is not None
        await self._acceptor.wait_closed()

    async def close(self) -> None:
        """Stop listening and hang up every session (their apps get SIGHUP, then SIGKILL)."""
        if self._acceptor is not None:
            self._acceptor.close()
        for future in list(self._hangups):
            if not future.done():
                future.set_result(None)
        deadline = time.monotonic() + _HANGUP_GRACE + 2
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._acceptor is not None:
            await self._acceptor.wait_closed()

    def refuse(self, what: str, peer: str) -> None:
        self.log(f"refused {what} from {peer}")

    # -------------------------------------------------------------------- sessions
    def _count_for(self, key: bytes) -> int:
        return sum(1 for s in self.sessions.values() if s.key == key)

    def _child_env(self, term: str, client_env: dict) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in _DROP_ENV and not k.startswith("TEXTUAL")}
        env["TERM"] = term
        env["PYTHONIOENCODING"] = "utf-8"
        colorterm = client_env.get("COLORTERM", client_env.get(b"COLORTERM"))
        if isinstance(colorterm, bytes):
            colorterm = colorterm.decode("ascii", "replace")
        if colorterm in ("truecolor", "24bit"):
            env["COLORTERM"] = colorterm
        return env

    async def _run_session(self, process: asyncssh.SSHServerProcess) -> None:
        conn = process.channel.get_connection()
        owner = self._connections.get(conn)
        peer = owner.peer if owner else "?"
        if owner is None or owner.identity is None:  # cannot happen after auth; refuse anyway
            self._refuse_session(process, "?", peer, "not authenticated", "not authenticated")
            return
        key, who = owner.identity
        name = who.annotator
        if process.command is not None:
            self._refuse_session(process, name, peer, "exec request",
                                 "commands are not accepted here; log in without one (ssh -t)")
            return
        if process.subsystem:
            self._refuse_session(process, name, peer, f"subsystem {process.subsystem!r}",
                                 "subsystems (sftp, scp) are not accepted here")
            return
        term = process.get_terminal_type()
        if not term:
            self._refuse_session(process, name, peer, "session without a terminal",
                                 "this server needs a terminal: connect with `ssh -t`")
            return
        cfg = self.config
        if len(self.sessions) >= cfg.max_sessions:
            self._refuse_session(process, name, peer, f"session: server full ({len(self.sessions)} sessions)",
                                 f"the server is full ({cfg.max_sessions} sessions); try again later")
            return
        if self._count_for(key) >= cfg.max_per_key:
            self._refuse_session(
                process, name, peer, f"session: {cfg.max_per_key} already open with this key",
                f"{name} already has {cfg.max_per_key} session(s) open with this key "
                f"(at most {cfg.max_per_key}); close one first")
            return
        await self._run_app(process, key, name, peer, term)

    def _refuse_session(self, process: asyncssh.SSHServerProcess, name: str, peer: str,
                        what: str, message: str) -> None:
        self.refuse(f"{name}: {what}", peer)
        try:
            process.stderr.write(f"tui-reader: {message}\r\n".encode())
            process.exit(1)
        except (OSError, asyncssh.Error):
            pass

    async def _run_app(self, process: asyncssh.SSHServerProcess, key: bytes, name: str, peer: str,
                       term: str) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        cols, rows, _, _ = process.get_terminal_size()
        cols, rows = cols or 80, rows or 24
        master, slave = os.openpty()
        try:
            set_winsize(master, cols, rows)
            child = await asyncio.create_subprocess_exec(
                *app_argv(cfg.project_root, name), stdin=slave, stdout=slave, stderr=slave,
                env=self._child_env(term, dict(process.env)), start_new_session=True,
                preexec_fn=_take_controlling_terminal, close_fds=True,
            )
        except OSError as err:
            os.close(master)
            os.close(slave)
            self.log(f"error starting the app for {name} from {peer}: {err}")
            process.stderr.write(b"tui-reader: the app could not start; tell the administrator\r\n")
            process.exit(1)
            return
        os.close(slave)
        os.set_blocking(master, False)
        self._numbers += 1
        self.apps_started += 1
        info = SessionInfo(self._numbers, name, key, peer, child.pid, (cols, rows), term)
        self.sessions[info.number] = info
        self.log(f"login {name} from {peer} (session {info.number}, pid {child.pid}, "
                 f"{cols}x{rows} {term}; {len(self.sessions)} open)")

        closed = False
        reading = False
        out_done = asyncio.Event()
        last_input = time.monotonic()
        hangup: asyncio.Future[None] = loop.create_future()
        self._hangups.add(hangup)

        def stop_reading() -> None:
            nonlocal reading
            if reading:
                loop.remove_reader(master)
                reading = False

        def start_reading() -> None:
            nonlocal reading
            if not reading and not closed and not out_done.is_set():
                loop.add_reader(master, on_output)
                reading = True

        def on_output() -> None:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: the app and everything it started closed the terminal
                data = b""
            if not data:
                stop_reading()
                out_done.set()
                return
            try:
                process.stdout.write(data)
            except (OSError, asyncssh.Error):  # the client is gone
                stop_reading()
                out_done.set()
                return
            if process.channel.get_write_buffer_size() > _OUTPUT_HIGH_WATER:
                stop_reading()  # a slow client: let it drain before reading more from the app
                loop.create_task(resume())

        async def resume() -> None:
            try:
                await process.stdout.drain()
            except (OSError, asyncssh.Error):
                out_done.set()
                return
            start_reading()

        async def write_input(data: bytes) -> None:
            view = memoryview(data)
            while view and not closed:
                try:
                    view = view[os.write(master, view):]
                except BlockingIOError:  # the app is not reading: wait until it does
                    ready = loop.create_future()
                    loop.add_writer(master, ready.set_result, None)
                    try:
                        await ready
                    finally:
                        loop.remove_writer(master)

        async def pump_input() -> str:
            nonlocal last_input
            while True:
                try:
                    data = await process.stdin.read(65536)
                except asyncssh.TerminalSizeChanged as change:
                    if change.width and change.height and not closed:
                        set_winsize(master, change.width, change.height)  # the app gets SIGWINCH
                        info.size = (change.width, change.height)
                    continue
                except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue
                except (OSError, asyncssh.Error):
                    return "client disconnected"
                if not data:
                    return "client disconnected"
                last_input = time.monotonic()
                try:
                    await write_input(data)
                except OSError:
                    return "app closed its terminal"

        async def watch_idle() -> str:
            while True:
                left = last_input + cfg.idle_timeout - time.monotonic()
                if left <= 0:
                    return "idle"
                await asyncio.sleep(left)

        start_reading()
        waits: dict[asyncio.Future, str] = {
            asyncio.ensure_future(child.wait()): "app",
            asyncio.ensure_future(pump_input()): "input",
            hangup: "server",
        }
        if cfg.idle_timeout:
            waits[asyncio.ensure_future(watch_idle())] = "idle"
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        which = {waits[f] for f in done}
        try:
            if "app" in which:
                # Everything the app wrote before it exited is still to be read from the master.
                try:
                    await asyncio.wait_for(out_done.wait(), 2.0)
                except asyncio.TimeoutError:
                    pass
                code = child.returncode if child.returncode is not None else 1
                reason = f"app exited {code}" if code >= 0 else f"app killed by signal {-code}"
                if code != 0:
                    self._write(process, TERMINAL_RESET + b"\r\ntui-reader: the app stopped ("
                                + reason.encode() + b"); your labels are saved\r\n")
            else:
                if "idle" in which:
                    reason = f"idle {cfg.idle_timeout:g}s"
                    message = (f"\r\ntui-reader: no input for {format_duration(cfg.idle_timeout)}; "
                               "session closed (your labels are saved)\r\n")
                elif "server" in which:
                    reason = "server shutting down"
                    message = "\r\ntui-reader: the server is shutting down (your labels are saved)\r\n"
                else:
                    reason = next(f.result() for f in done if waits[f] == "input")
                    message = ""
                stop_reading()
                closed = True
                os.close(master)  # hang up: the kernel sends the app SIGHUP
                code = await self._reap(child)
                if message:
                    self._write(process, TERMINAL_RESET + message.encode())
        finally:
            for future in waits:
                future.cancel()
            stop_reading()
            if not closed:
                closed = True
                os.close(master)
            self._hangups.discard(hangup)
            self.sessions.pop(info.number, None)
        self.log(f"logout {name} from {peer} (session {info.number}, after "
                 f"{format_duration(time.monotonic() - info.started)}: {reason}; "
                 f"{len(self.sessions)} open)")
        try:
            process.exit(code if code >= 0 else 128 - code)
        except (OSError, asyncssh.Error):
            pass

    @staticmethod
    def _write(process: asyncssh.SSHServerProcess, data: bytes) -> None:
        try:
            process.stdout.write(data)
        except (OSError, asyncssh.Error):
            pass

    @staticmethod
    async def _reap(child: asyncio.subprocess.Process) -> int:
        """Wait for a hung-up app; SIGKILL its process group if it lingers."""
        try:
            return await asyncio.wait_for(child.wait(), _HANGUP_GRACE)
        except asyncio.TimeoutError:
            pass
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return await child.wait()


async def serve(config: SSHServeConfig, log: LogFn | None = None) -> None:
    """Run the front door until SIGINT or SIGTERM, then hang up every session."""
    door = SSHFrontDoor(config, log)
    await door.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    door.log(f"shutting down ({len(door.sessions)} sessions open)")
    await door.close()
