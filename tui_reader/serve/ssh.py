"""The SSH front door: each authorized key is an annotator; each session is its own app process.

One asyncssh listener. A login is a public key from the authorized-keys file (no passwords, no
keyboard-interactive, no anonymous access); the key's comment is the annotator's name and the SSH
user name is ignored. Each session channel that asks for a pseudo-terminal and a shell gets a
fresh pty pair and a child process (:func:`.common.app_argv`) with TERM from the client, as
leader of its own session with the pty as its controlling terminal: a resize from the client
becomes ``TIOCSWINSZ`` on the master and the kernel sends the app SIGWINCH. Exec requests,
subsystems (sftp, scp), sessions without a pty, port/socket/agent/X11 forwarding are refused and
logged.

What one client can take is bounded (the numbers are in :mod:`.common` and the README):

* sessions: a slot is reserved synchronously when the shell request arrives, before anything is
  awaited, so parallel requests cannot overshoot ``--max-sessions`` / ``--max-per-key``; session
  channels per connection are capped; connections without a session are capped the same way,
  closed after a timeout and logged;
* input: the channel's receive window is small, input waits in the channel (not in memory) while
  the app is not reading, and every byte goes through :class:`.input.InputFilter` (UTF-8 only,
  sane escape sequences, pastes of bounded size and duration);
* terminal sizes are clamped at login and on every window-change;
* a key removed from the authorized-keys file ends its sessions within the reload interval.

One session's life is :class:`_Session` (channel requests, input and output pumps) around one
:class:`PtyApp` (the child process, its pty and its log pipe); the door keeps the slots.
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from ..core.suggest.model_process import SOCKET_VARIABLE as MODEL_SOCKET_VARIABLE
from .app_entry import LOG_FD_VARIABLE
from .common import (
    INPUT_WINDOW,
    KEYS_RELOAD_INTERVAL,
    MAX_CHANNELS_PER_CONNECTION,
    NO_SESSION_TIMEOUT,
    PASTE_LIMIT,
    PASTE_TIMEOUT,
    LogFn,
    ServeError,
    app_argv,
    clamp_size,
    format_duration,
    log_traceback,
    one_line,
    route_library_logs,
    safe_term,
    stderr_logger,
)
from .helpers import (
    AdoptedProcess,
    LogPipe,
    Trainer,
    Zygote,
    ZygoteUnavailable,
    become_subreaper,
    reap_strays,
    stop_being_subreaper,
)
from .input import InputFilter
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
             "SSH_CLIENT", "SSH_TTY", "DISPLAY", "WINDOWID", LOG_FD_VARIABLE, MODEL_SOCKET_VARIABLE)
_SAVED = "(your labels are saved)"


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
    preforked: bool = True  # sessions forked from a warm zygote (False: each one a new Python)
    shared_model: bool = True  # one model trainer for every session (False: one per session)

    @property
    def no_session_timeout(self) -> float:
        """Seconds an authenticated connection may stay open with no session."""
        if self.idle_timeout:
            return min(NO_SESSION_TIMEOUT, self.idle_timeout)
        return NO_SESSION_TIMEOUT


@dataclass
class SessionInfo:
    """One session slot: who, from where, its app process (pid 0 until it has started)."""

    number: int
    annotator: str
    key: bytes
    peer: str
    pid: int
    size: tuple[int, int]
    term: str
    started: float = field(default_factory=time.monotonic)
    released: bool = False  # its slot is back with the door and its connection


def set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _take_controlling_terminal() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _peer_text(conn: asyncssh.SSHServerConnection) -> str:
    peer = conn.get_extra_info("peername")
    if not peer:
        return "?"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


# ------------------------------------------------------------------------------- the app process
class PtyApp:
    """One app process on its own pseudo-terminal, its stderr (a pipe) copied into the log.

    :meth:`start` spawns a new Python; :meth:`fork` asks the zygote for a warm one. Either opens
    the pty and the pipe first, and on every error path closes both pty file descriptors and the
    pipe before the error goes up.
    """

    def __init__(self, process: asyncio.subprocess.Process | AdoptedProcess, master: int,
                 log_fd: int, log: LogFn, forked: bool = False) -> None:
        self.process = process
        self.master = master
        self.pid = process.pid
        self.forked = forked
        self.log_pipe = LogPipe(log_fd, log, "app: ")

    @property
    def last_error_line(self) -> str:
        return self.log_pipe.last_line

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str], size: tuple[int, int],
                    log: LogFn) -> PtyApp:
        """A session process of its own (a new Python running ``argv``)."""

        async def spawn(slave: int, log_write: int) -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave,
                env={**env, LOG_FD_VARIABLE: str(log_write)}, pass_fds=(log_write,),
                start_new_session=True, preexec_fn=_take_controlling_terminal, close_fds=True,
            )

        return await cls._open(size, log, spawn, forked=False)

    @classmethod
    async def fork(cls, zygote: Zygote, annotator: str, env: dict[str, str],
                   size: tuple[int, int], log: LogFn) -> PtyApp:
        """A session process forked by the zygote (raises :class:`ZygoteUnavailable` when there
        is none to be had: the caller spawns instead)."""

        async def forked(slave: int, log_write: int) -> AdoptedProcess:
            pid = await zygote.fork(annotator, env, slave, log_write)
            try:
                return AdoptedProcess(pid)
            except ChildProcessError:  # not re-parented here: it cannot be waited for
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                raise ZygoteUnavailable("a forked session was not re-parented to the server") from None

        return await cls._open(size, log, forked, forked=True)

    @classmethod
    async def _open(cls, size: tuple[int, int], log: LogFn,
                    begin: Callable[[int, int], Awaitable[asyncio.subprocess.Process | AdoptedProcess]],
                    forked: bool) -> PtyApp:
        """A pty and a log pipe for a session process that ``begin(slave, log_write)`` starts;
        every descriptor is closed on every error path, and the server keeps only the master
        and the pipe's read end."""
        master, slave = os.openpty()
        log_read, log_write = -1, -1
        try:
            set_winsize(master, *size)
            log_read, log_write = os.pipe()
            process = await begin(slave, log_write)
        except BaseException:
            os.close(master)
            if log_read >= 0:
                os.close(log_read)
            raise
        finally:
            os.close(slave)
            if log_write >= 0:
                os.close(log_write)
        os.set_blocking(master, False)
        return cls(process, master, log_read, log, forked=forked)

    def set_size(self, cols: int, rows: int) -> None:
        if self.master >= 0:
            set_winsize(self.master, cols, rows)  # the kernel sends the app SIGWINCH

    def hang_up(self) -> None:
        """Close the pty master: the kernel sends the app SIGHUP."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    async def reap(self) -> int:
        """Wait for a hung-up app; SIGKILL its process group if it lingers. Its exit status."""
        try:
            code = await asyncio.wait_for(asyncio.shield(self.process.wait()), _HANGUP_GRACE)
        except asyncio.TimeoutError:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = await self.process.wait()
        return code

    async def close(self) -> None:
        """After the app has exited: the rest of its log, then every file descriptor."""
        self.hang_up()
        try:
            await asyncio.wait_for(self.log_pipe.done.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
        self.log_pipe.close()


# ------------------------------------------------------------------------------ the connection
class _Channel(asyncssh.SSHServerChannel):
    """asyncssh's session channel, with the agent and X11 forwarding refusals logged."""

    owner: _Connection

    def _process_auth_agent_req_at_openssh_dot_com_request(self, packet) -> None:  # noqa: ANN001
        self.owner.refuse("agent forwarding")
        return super()._process_auth_agent_req_at_openssh_dot_com_request(packet)

    def _process_x11_req_request(self, packet) -> bool | None:  # noqa: ANN001
        self.owner.refuse("X11 forwarding")
        return super()._process_x11_req_request(packet)


class _Connection(asyncssh.SSHServer):
    """asyncssh's per-connection callbacks: authentication by key, sessions, no forwarding."""

    def __init__(self, door: SSHFrontDoor) -> None:
        self.door = door
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.username = ""
        self.candidate: tuple[bytes, AuthorizedKey] | None = None
        self.identity: tuple[bytes, AuthorizedKey] | None = None
        self.unknown: list[str] = []
        self.channels: set[_Session] = set()  # session channels open on this connection
        self.sessions = 0  # of those, the ones holding a session slot
        self.ever_had_session = False
        self.connected = time.monotonic()
        self.closed = False
        self._no_session_timer: asyncio.TimerHandle | None = None

    @property
    def who(self) -> str:
        return self.identity[1].annotator if self.identity else "?"

    def refuse(self, what: str) -> None:
        self.door.refuse(f"{self.who}: {what}", self.peer)

    # ---------------------------------------------------------------- connection
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.peer = _peer_text(conn)
        self.door.connections.add(self)
        self.door.reload_keys()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.door.connections.discard(self)
        self._cancel_no_session_timer()
        if self.identity is None:
            if self.unknown:
                keys = ", ".join(dict.fromkeys(self.unknown))
                self.door.refuse(f"unknown key {keys} (user {self.username!r})", self.peer)
            else:
                self.door.refuse(f"no public key offered (user {self.username!r}; passwords and "
                                 "keyboard-interactive are not accepted)", self.peer)
        elif not self.ever_had_session:
            self.door.log(f"disconnect {self.who} from {self.peer}: no session was opened (after "
                          f"{format_duration(time.monotonic() - self.connected)})")

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
        self.door.admit_connection(self)
        self.became_sessionless()

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def disconnect(self, reason: str) -> None:
        if self.conn is not None and not self.closed:
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, reason)

    # ------------------------------------------------------------ no session open
    def close_if_revoked(self) -> bool:
        """Close the connection if its key is no longer in the authorized-keys file."""
        if self.closed or self.identity is None:
            return self.closed
        key, who = self.identity
        if self.door.keys.holds(key, who.annotator):
            return False
        self.door.log(f"closed {who.annotator}'s connection from {self.peer}: the key was removed")
        self.disconnect("tui-reader: your key was removed from the server's authorized keys")
        return True

    def became_sessionless(self) -> None:
        """No session open (just logged in, or the last one ended): close it if it stays so."""
        if self.close_if_revoked() or self.identity is None:
            return
        self._cancel_no_session_timer()
        timeout = self.door.config.no_session_timeout
        self._no_session_timer = asyncio.get_running_loop().call_later(
            timeout, self._close_without_session, timeout)

    def _cancel_no_session_timer(self) -> None:
        if self._no_session_timer is not None:
            self._no_session_timer.cancel()
            self._no_session_timer = None

    def _close_without_session(self, timeout: float) -> None:
        if self.sessions or self.closed:
            return
        self.door.log(f"closed {self.who}'s connection from {self.peer}: no session open for "
                      f"{timeout:g}s")
        self.disconnect(f"tui-reader: no session was opened for {timeout:g}s")

    # -------------------------------------------------------------------- sessions
    def session_requested(self) -> tuple[asyncssh.SSHServerChannel, _Session] | bool:
        if self.identity is None or self.conn is None:
            return False
        if len(self.channels) >= MAX_CHANNELS_PER_CONNECTION:
            self.refuse(f"session channel: {len(self.channels)} already open on this connection "
                        f"(at most {MAX_CHANNELS_PER_CONNECTION})")
            return False
        chan = self.conn.create_server_channel(window=INPUT_WINDOW)
        chan.__class__ = _Channel  # same object, with the two logging overrides above
        chan.owner = self
        session = _Session(self)
        self.channels.add(session)
        return chan, session

    # ------------------------------------------------------------------ forwarding
    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        self.refuse(f"port forwarding to {dest_host}:{dest_port}")
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self.refuse(f"remote port forwarding {listen_host}:{listen_port}")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.refuse(f"socket forwarding to {dest_path}")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self.refuse(f"remote socket forwarding {listen_path}")
        return False

    def tun_requested(self, unit: int | None) -> bool:
        self.refuse("tunnel forwarding")
        return False


# --------------------------------------------------------------------------------- the session
class _Session(asyncssh.SSHServerSession):
    """One session channel: its requests, then one app with input and output pumped both ways."""

    def __init__(self, owner: _Connection) -> None:
        self.owner = owner
        self.door = owner.door
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.client_term = ""
        self.size = (80, 24)
        self.refusal: tuple[str, str] | None = None
        self.info: SessionInfo | None = None
        self.app: PtyApp | None = None
        self.filter = InputFilter()
        self.last_input = time.monotonic()
        self._pending = bytearray()  # filtered input the app has not taken yet (<= one packet)
        self._input_paused = False
        self._writer_added = False
        self._reading_output = False
        self._output_paused = False
        self._output_done = asyncio.Event()
        self._ended: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._paste_timer: asyncio.TimerHandle | None = None
        self._channel_closed = False

    # ------------------------------------------------------------------ requests
    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan
        chan.set_write_buffer_limits(_OUTPUT_HIGH_WATER)

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: dict) -> bool:
        self.client_term = term_type
        self.term = safe_term(term_type)
        self.size = clamp_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.refusal = ("exec request", "commands are not accepted here; log in without one (ssh -t)")
        return True  # accepted so that the client sees why, then closed

    def subsystem_requested(self, subsystem: str) -> bool:
        self.owner.refuse(f"subsystem {subsystem!r}")
        return False  # an sftp/scp client could not show a message: a plain refusal

    def session_started(self) -> None:
        owner = self.owner
        if owner.identity is None:  # cannot happen after auth; refuse anyway
            self._refuse("not authenticated", "not authenticated")
            return
        if self.refusal is not None:
            self._refuse(*self.refusal)
            return
        if self.term is None:
            self._refuse("session without a terminal",
                         "this server needs a terminal: connect with `ssh -t`")
            return
        slot = self.door.reserve(self)  # synchronous: no await between the check and the slot
        if isinstance(slot, tuple):
            self._refuse(*slot)
            return
        self.info = slot
        task = asyncio.ensure_future(self._run())
        self.door.tasks.add(task)
        task.add_done_callback(self.door.tasks.discard)

    def _refuse(self, what: str, message: str) -> None:
        self.owner.refuse(what)
        if self.chan is not None:
            try:
                self.chan.write_stderr(f"tui-reader: {message}\r\n".encode())
                self.chan.exit(1)
            except (OSError, asyncssh.Error):
                pass

    # --------------------------------------------------------------------- input
    def data_received(self, data: bytes, datatype: int | None) -> None:
        now = time.monotonic()
        self.last_input = now
        self._pending += self.filter.feed(data, now)
        if self.filter.paste_overflow:
            self._pending.clear()
            self.end(f"paste over {PASTE_LIMIT} bytes",
                     f"a paste of more than {PASTE_LIMIT // 1024} KiB closed the session {_SAVED}")
            return
        if self.filter.in_paste and self._paste_timer is None:
            self._paste_timer = self._later(PASTE_TIMEOUT, self._expire_paste)
        self._flush_input()

    def _expire_paste(self) -> None:
        self._paste_timer = None
        marker = self.filter.expire(time.monotonic())
        if marker:
            self.door.log(f"{self.owner.who}: an unterminated paste ended after {PASTE_TIMEOUT:g}s "
                          f"without input (session {self.info.number if self.info else '?'})")
            self._pending += marker
            self._flush_input()
        elif self.filter.in_paste:
            deadline = self.filter.paste_deadline() or time.monotonic()
            self._paste_timer = self._later(max(0.05, deadline - time.monotonic()), self._expire_paste)

    def _flush_input(self) -> None:
        """Write pending input to the app; while it cannot take more, the channel stops reading."""
        app = self.app
        if app is None or app.master < 0:
            if self._pending:
                self._pause_input()
            return
        while self._pending:
            try:
                written = os.write(app.master, self._pending)
            except BlockingIOError:  # the app is not reading: wait until it does
                if not self._writer_added:
                    asyncio.get_running_loop().add_writer(app.master, self._flush_input)
                    self._writer_added = True
                self._pause_input()
                return
            except OSError:
                self._pending.clear()
                self.end("app closed its terminal", "")
                return
            del self._pending[:written]
        if self._writer_added:
            asyncio.get_running_loop().remove_writer(app.master)
            self._writer_added = False
        if self._input_paused:
            self._input_paused = False
            if self.chan is not None and not self._channel_closed:
                self.chan.resume_reading()  # may deliver buffered data right now

    def _pause_input(self) -> None:
        if not self._input_paused and self.chan is not None:
            self._input_paused = True
            self.chan.pause_reading()  # the channel keeps at most its window; the client waits

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = clamp_size(width, height, default=self.size)
        if self.info is not None:
            self.info.size = self.size
        if self.app is not None:
            self.app.set_size(*self.size)

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def eof_received(self) -> bool:
        self.end("client disconnected", "")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._channel_closed = True
        self.owner.channels.discard(self)
        self.end("client disconnected", "")

    # -------------------------------------------------------------------- output
    def _start_output(self) -> None:
        app = self.app
        if app is not None and app.master >= 0 and not self._reading_output \
                and not self._output_paused and not self._output_done.is_set():
            asyncio.get_running_loop().add_reader(app.master, self._on_output)
            self._reading_output = True

    def _stop_output(self) -> None:
        if self._reading_output and self.app is not None:
            asyncio.get_running_loop().remove_reader(self.app.master)
        self._reading_output = False

    def _on_output(self) -> None:
        assert self.app is not None
        try:
            data = os.read(self.app.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app and everything it started closed the terminal
            data = b""
        if not data or self._channel_closed or self.chan is None:
            self._stop_output()
            self._output_done.set()
            return
        try:
            self.chan.write(data)
        except (OSError, asyncssh.Error):  # the client is gone
            self._stop_output()
            self._output_done.set()

    def pause_writing(self) -> None:  # asyncssh: the client is not reading fast enough
        self._output_paused = True
        self._stop_output()

    def resume_writing(self) -> None:
        self._output_paused = False
        self._start_output()

    # ------------------------------------------------------------------ lifecycle
    def end(self, reason: str, message: str) -> None:
        """End the session (first reason wins); ``message`` is shown to the client, if any."""
        if not self._ended.done():
            self._ended.set_result((reason, message))

    @staticmethod
    def _later(delay: float, callback) -> asyncio.TimerHandle:  # noqa: ANN001
        return asyncio.get_running_loop().call_later(delay, callback)

    def _watch_idle(self) -> None:
        timeout = self.door.config.idle_timeout
        left = self.last_input + timeout - time.monotonic()
        if left <= 0:
            self.end(f"idle {timeout:g}s", f"no input for {format_duration(timeout)}; session closed "
                     f"{_SAVED}")
        else:
            self._idle_timer = self._later(left, self._watch_idle)

    async def _run(self) -> None:
        info = self.info
        assert info is not None and self.term is not None
        door, cfg, name, peer = self.door, self.door.config, info.annotator, info.peer
        try:
            self.app = await door.start_app(name, self.term, self.chan, self.size,
                                            lambda line: door.log(f"{name} session {info.number}: {line}"))
        except Exception as err:  # noqa: BLE001 - whatever it was, this session only, and logged
            door.release(info, self.owner)
            door.log(f"error starting the app for {name} from {peer}: {err}")
            if not isinstance(err, OSError):
                log_traceback(door.log, err)
            self._write_and_exit(b"tui-reader: the app could not start; tell the administrator\r\n", 1)
            return
        app = self.app
        info.pid = app.pid
        door.apps_started += 1
        if self.size != info.size:  # a window-change arrived while the app was starting
            app.set_size(*self.size)
        info.size = self.size
        shown_term = info.term if self.client_term == info.term else (
            f"{info.term}; TERM {self.client_term!r} from the client not used")
        door.log(f"login {name} from {peer} (session {info.number}, pid {app.pid}, "
                 f"{info.size[0]}x{info.size[1]} {shown_term}; {len(door.sessions)} open)")
        self._start_output()
        self._flush_input()
        if cfg.idle_timeout:
            self._idle_timer = self._later(cfg.idle_timeout, self._watch_idle)
        app_exit = asyncio.ensure_future(app.process.wait())
        message = ""
        try:
            await asyncio.wait({app_exit, self._ended}, return_when=asyncio.FIRST_COMPLETED)
            if app_exit.done():
                # Everything the app wrote before it exited is still to be read from the master.
                try:
                    await asyncio.wait_for(self._output_done.wait(), 2.0)
                except asyncio.TimeoutError:
                    pass
                code = app_exit.result()
                reason = f"app exited {code}" if code >= 0 else f"app killed by signal {-code}"
                if code != 0:
                    await app.close()
                    detail = one_line(app.last_error_line) if code == 2 and \
                        app.last_error_line.startswith("tui-reader: ") else ""
                    message = (detail[len("tui-reader: "):] + " " if detail else "") + \
                        f"the app stopped ({reason}); your labels are saved"
            else:
                reason, message = self._ended.result()
                self._detach()
                app.hang_up()
                code = await app.reap()
        finally:
            app_exit.cancel()
            for timer in (self._idle_timer, self._paste_timer):
                if timer is not None:
                    timer.cancel()
            self._detach()
            await app.close()
            door.waited.discard(app.pid)
            door.forget(info)
        try:
            count = self.filter.dropped
            dropped = f"; {count} malformed input sequences dropped" if count else ""
            door.log(f"logout {name} from {peer} (session {info.number}, after "
                     f"{format_duration(time.monotonic() - info.started)}: {reason}{dropped}; "
                     f"{len(door.sessions)} open)")
            if message:
                self._write(TERMINAL_RESET + f"\r\ntui-reader: {message}\r\n".encode())
            self._write_and_exit(b"", code if code >= 0 else 128 - code)
        finally:
            door.release(info, self.owner)  # after the client has its message: this may disconnect

    def _detach(self) -> None:
        """Stop watching the pty master (before it is closed)."""
        self._stop_output()
        if self._writer_added and self.app is not None and self.app.master >= 0:
            asyncio.get_running_loop().remove_writer(self.app.master)
        self._writer_added = False

    def _write(self, data: bytes) -> None:
        if self.chan is not None and not self._channel_closed:
            try:
                self.chan.write(data)
            except (OSError, asyncssh.Error):
                pass

    def _write_and_exit(self, stderr: bytes, status: int) -> None:
        if self.chan is None or self._channel_closed:
            return
        try:
            if stderr:
                self.chan.write_stderr(stderr)
            self.chan.exit(status)
        except (OSError, asyncssh.Error):
            pass


# ------------------------------------------------------------------------------------ the door
class SSHFrontDoor:
    """The server. ``await start()``, then ``await serve_forever()`` or ``await close()``."""

    def __init__(self, config: SSHServeConfig, log: LogFn | None = None) -> None:
        self.config = config
        self.log = log or stderr_logger("tui-reader serve-ssh")
        self.keys = AuthorizedKeysFile(config.authorized_keys)
        self.host_key_path = config.host_key or (config.project_root / "ssh_host_ed25519_key")
        self.host_key, self.host_key_created = load_or_create_host_key(self.host_key_path)
        self.sessions: dict[int, SessionInfo] = {}  # every slot, reserved or running
        self.session_objects: dict[int, _Session] = {}
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Future] = set()
        self.apps_started = 0  # every app process ever started (tests read it)
        self.apps_forked = 0  # of those, the ones forked by the zygote
        self.waited: set[int] = set()  # child pids with a waiter of their own
        self.zygote: Zygote | None = None
        self.trainer: Trainer | None = None
        self._starting = 0  # app processes being started: their pids are not in `waited` yet
        self._subreaper = False
        self._numbers = 0
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._watcher: asyncio.Task | None = None

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
                encoding=None, line_editor=False,  # bytes both ways; the line editor eats keys
                window=INPUT_WINDOW,
                allow_pty=True, x11_forwarding=False, agent_forwarding=False, allow_scp=False,
                password_auth=False, kbdint_auth=False, host_based_auth=False, gss_host=None,
                authorized_client_keys=None,  # our own lookup: the key's comment is the annotator
                login_timeout=60, keepalive_interval=60, keepalive_count_max=3,
            )
        except OSError as err:
            reason = "address already in use" if err.errno == errno.EADDRINUSE else (
                err.strerror or str(err))
            raise ServeError(f"cannot listen on {cfg.host}:{cfg.port}: {reason}") from None
        self._watcher = asyncio.ensure_future(self._watch_keys())
        self._start_helpers()
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
        if self._watcher is not None:
            self._watcher.cancel()
        for session in list(self.session_objects.values()):
            session.end("server shutting down", f"the server is shutting down {_SAVED}")
        deadline = time.monotonic() + _HANGUP_GRACE + 2
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.disconnect("tui-reader: the server is shutting down")
        for helper in (self.zygote, self.trainer):
            if helper is not None:
                await helper.close()
        if self._acceptor is not None:
            await self._acceptor.wait_closed()
        if self._subreaper:
            self._reap_strays()
            stop_being_subreaper()
            self._subreaper = False

    def refuse(self, what: str, peer: str) -> None:
        self.log(f"refused {what} from {peer}")

    # ------------------------------------------------------------------------ keys
    def reload_keys(self) -> None:
        """Read the authorized-keys file if it changed; end the sessions of keys no longer in it."""
        for line in self.keys.reload():
            self.log(line)
        for session in list(self.session_objects.values()):
            info = session.info
            if info is not None and not self.keys.holds(info.key, info.annotator):
                session.end("key removed", "your key was removed from the server's authorized "
                            f"keys; session closed {_SAVED}")
        for connection in list(self.connections):
            if connection.sessions == 0:
                connection.close_if_revoked()

    async def _watch_keys(self) -> None:
        while True:
            await asyncio.sleep(KEYS_RELOAD_INTERVAL)
            try:
                self._reap_strays()
                self.reload_keys()
            except Exception as err:  # noqa: BLE001 - the watcher must outlive any one bad reload
                self.log(f"error reading the authorized keys: {err!r}")
                log_traceback(self.log, err)

    # -------------------------------------------------------------------- slots
    def admit_connection(self, connection: _Connection) -> None:
        """Make room for one more connection without a session.

        Connections with no session open count on their own: at most ``max_per_key`` per key and
        ``max_sessions`` in all. A new login always gets in: the key's own oldest idle connection,
        or else the oldest idle connection of all, is closed to make room (an idle connection
        holds no work; a login that is about to open a session is seconds old).
        """
        assert connection.identity is not None
        key, who = connection.identity
        cfg = self.config
        waiting = sorted((c for c in self.connections if c is not connection and c.identity is not None
                          and c.sessions == 0 and not c.closed), key=lambda c: c.connected)
        mine = [c for c in waiting if c.identity is not None and c.identity[0] == key]
        for stale in mine[:max(0, len(mine) - cfg.max_per_key + 1)]:
            self._close_idle(stale, f"{cfg.max_per_key} per key")
            waiting.remove(stale)
        for stale in waiting[:max(0, len(waiting) - cfg.max_sessions + 1)]:
            self._close_idle(stale, f"{cfg.max_sessions} in all")

    def _close_idle(self, stale: _Connection, limit: str) -> None:
        self.log(f"closed {stale.who}'s connection from {stale.peer}: no session open, and a newer "
                 f"login needed the room (connections without a session: at most {limit})")
        stale.disconnect("tui-reader: closed to make room for a newer login (no session was open)")
        stale.closed = True

    def reserve(self, session: _Session) -> SessionInfo | tuple[str, str]:
        """A session slot for ``session``, or (log text, client text) when a limit is reached.

        Synchronous on purpose: the check and the reservation happen with no await between them.
        """
        owner = session.owner
        assert owner.identity is not None
        key, who = owner.identity
        name, cfg = who.annotator, self.config
        if not self.keys.holds(key, name):
            return ("session: the key was removed", "your key is no longer authorized here")
        if len(self.sessions) >= cfg.max_sessions:
            return (f"session: server full ({len(self.sessions)} sessions)",
                    f"the server is full ({cfg.max_sessions} sessions); try again later")
        if sum(1 for s in self.sessions.values() if s.key == key) >= cfg.max_per_key:
            return (f"session: {cfg.max_per_key} already open with this key",
                    f"{name} already has {cfg.max_per_key} session(s) open with this key "
                    f"(at most {cfg.max_per_key}); close one first")
        self._numbers += 1
        info = SessionInfo(self._numbers, name, key, owner.peer, 0, session.size, session.term or "")
        self.sessions[info.number] = info
        self.session_objects[info.number] = session
        owner.sessions += 1
        owner.ever_had_session = True
        owner._cancel_no_session_timer()
        return info

    def forget(self, info: SessionInfo) -> None:
        """The session's app is gone: its slot is free (the connection's count follows in release)."""
        self.sessions.pop(info.number, None)
        self.session_objects.pop(info.number, None)

    def release(self, info: SessionInfo, owner: _Connection) -> None:
        if info.released:
            return
        info.released = True
        self.forget(info)
        owner.sessions -= 1
        if owner.sessions == 0:
            owner.became_sessionless()

    # ------------------------------------------------------------------- children
    def _start_helpers(self) -> None:
        """The zygote (warm sessions) and the shared model trainer, each kept running."""
        cfg = self.config
        env = self.helper_env()
        if cfg.preforked:
            if become_subreaper():
                self._subreaper = True
                self.zygote = Zygote(cfg.project_root, env, self.log)
                self.zygote.start()
            else:
                self.log("sessions are started as new processes: this system cannot hand forked "
                         "processes to the server (no child subreaper)")
        if cfg.shared_model:
            self.trainer = Trainer(cfg.project_root, env, self.log)
            self.trainer.start()

    def _reap_strays(self) -> None:
        """Reap the children nobody waits for: what a dead session left behind, re-parented here."""
        if not self._subreaper or self._starting or any(
                h is not None and h.spawning for h in (self.zygote, self.trainer)):
            return
        waited = set(self.waited)
        for helper in (self.zygote, self.trainer):
            if helper is not None and helper.process is not None:
                waited.add(helper.process.pid)
        reap_strays(waited)

    async def start_app(self, annotator: str, term: str, chan: asyncssh.SSHServerChannel | None,
                        size: tuple[int, int], log: LogFn) -> PtyApp:
        """One annotator's app on a new pty: forked by the zygote, or spawned when there is no
        zygote to be had (not started yet, died, or this system cannot)."""
        env = self.child_env(term, chan)
        self._starting += 1
        try:
            app = None
            if self.zygote is not None:
                try:
                    app = await PtyApp.fork(self.zygote, annotator, env, size, log)
                    self.apps_forked += 1
                except ZygoteUnavailable as err:
                    self.log(f"{annotator}: {err}; starting the app as a new process")
            if app is None:
                app = await PtyApp.start(app_argv(self.config.project_root, annotator), env, size, log)
            self.waited.add(app.pid)
            return app
        finally:
            self._starting -= 1

    def helper_env(self) -> dict[str, str]:
        """The environment of the helpers: the server's, without what belongs to its terminal."""
        env = {k: v for k, v in os.environ.items()
               if k not in _DROP_ENV and not k.startswith("TEXTUAL")}
        env["PYTHONIOENCODING"] = "utf-8"
        return env

    def child_env(self, term: str, chan: asyncssh.SSHServerChannel | None) -> dict[str, str]:
        env = self.helper_env()
        env["TERM"] = term
        if self.trainer is not None:
            env[MODEL_SOCKET_VARIABLE] = self.trainer.socket_path
        client_env = dict(chan.get_environment()) if chan is not None else {}
        colorterm = client_env.get("COLORTERM", client_env.get(b"COLORTERM"))  # type: ignore[call-overload]
        if isinstance(colorterm, bytes):
            colorterm = colorterm.decode("ascii", "replace")
        if colorterm in ("truecolor", "24bit"):
            env["COLORTERM"] = colorterm
        return env


async def serve(config: SSHServeConfig, log: LogFn | None = None) -> None:
    """Run the front door until SIGINT or SIGTERM, then hang up every session."""
    door = SSHFrontDoor(config, log)
    route_library_logs(door.log, ("asyncio", "asyncssh"))
    await door.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    door.log(f"shutting down ({len(door.sessions)} sessions open)")
    await door.close()
