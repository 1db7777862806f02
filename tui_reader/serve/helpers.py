"""The SSH server's helper processes, seen from the server: the zygote that forks warm sessions
(:mod:`.zygote`), the project's shared model trainer (:mod:`..core.suggest.model_process`), and
the sessions the zygote forks, which the kernel re-parents to the server.

* :class:`LogPipe`: a pipe whose lines go to the server's log, bounded.
* :class:`AdoptedProcess`: a re-parented session: its pid, ``await wait()`` for its exit status
  (a pidfd in the event loop), exactly like ``asyncio.subprocess.Process``.
* :class:`Helper`: a helper process kept running: started with the server, started again (after a
  short pause that grows if it keeps dying) when it ends, its stderr in the log.
* :class:`Zygote` and :class:`Trainer`: the two helpers.
* :func:`become_subreaper`, :func:`reap_strays`: the server adopts the sessions (and whatever
  they leave behind when they die) and reaps what nobody waits for.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from .common import APP_LOG_LIMIT, LogFn

_PR_SET_CHILD_SUBREAPER = 36
READY_TIMEOUT = 60.0  # seconds a helper may take to start (imports on a busy machine)
FORK_WAIT = 5.0  # seconds a login waits for a zygote that is (re)starting, before spawning
FORK_TIMEOUT = 10.0  # seconds for the zygote's answer to one fork request
_RESTART_PAUSE = (0.2, 30.0)  # first and longest pause before a helper is started again
_STOP_GRACE = 3.0


# ------------------------------------------------------------------------------------- the log
class LogPipe:
    """The read end of a pipe in the event loop: each line becomes ``log(prefix + line)``, up to
    ``limit`` bytes in all (then one line saying the rest was not logged)."""

    def __init__(self, fd: int, log: LogFn, prefix: str, limit: int = APP_LOG_LIMIT) -> None:
        self.fd = fd
        self._log = log
        self._prefix = prefix
        self._limit = limit
        self._logged = 0
        self._partial = b""
        self.last_line = ""
        self.done = asyncio.Event()
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._on_data)

    def _on_data(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()[-4096:]
        for raw in lines:
            self._line(raw)

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if line.strip():
            self.last_line = line
        if self._logged < self._limit:
            self._logged += len(raw) + 1
            self._log(f"{self._prefix}{line}" if self._logged < self._limit else
                      f"{self._prefix}{line} [more output not logged: over {self._limit} bytes]")

    def close(self) -> None:
        if self.fd >= 0:
            if self._partial:
                self._line(self._partial)
                self._partial = b""
            asyncio.get_running_loop().remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1
            self.done.set()


# ----------------------------------------------------------------------------- adopted processes
_subreaper_users = 0


def become_subreaper() -> bool:
    """Make this process the one orphaned descendants are re-parented to (Linux); False where
    that is not possible (then sessions are spawned, not forked)."""
    global _subreaper_users
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    _subreaper_users += 1
    return True


def stop_being_subreaper() -> None:
    """The last server in this process is closing (tests run several in one process)."""
    global _subreaper_users
    _subreaper_users -= 1
    if _subreaper_users == 0:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def child_pids() -> set[int]:
    """This process's children, from /proc."""
    found: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                found.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return found


def reap_strays(waited: set[int]) -> int:
    """Reap children that nobody waits for (a dead session's own children, re-parented here);
    ``waited``: the pids that have a waiter of their own. How many were reaped."""
    reaped = 0
    for pid in child_pids() - waited:
        try:
            got, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        reaped += bool(got)
    return reaped


class AdoptedProcess:
    """A child of the server it did not start itself (a session the zygote forked): ``pid``,
    ``returncode`` and ``await wait()`` as ``asyncio.subprocess.Process`` has them (negative: the
    signal that killed it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._pidfd = -1
        # ChildProcessError if it is not this process's child; WNOWAIT: an exit is left to _check.
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd (Linux < 5.3): a thread waits instead
            threading.Thread(target=self._wait_in_thread, daemon=True).start()
        else:
            self._loop.add_reader(self._pidfd, self._check)
            self._check()

    def _check(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: it is gone, its status unknown
            pid, status = self.pid, 255 << 8
        if pid:
            self._done(os.waitstatus_to_exitcode(status))

    def _wait_in_thread(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = 255
        self._loop.call_soon_threadsafe(self._done, code)

    def _done(self, code: int) -> None:
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        if self.returncode is None:
            self.returncode = code
            self._exited.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


# ------------------------------------------------------------------------------------- helpers
class Helper:
    """A helper process the server keeps running (see the module's docstring)."""

    name = "helper"

    def __init__(self, project_root: Path, env: dict[str, str], log: LogFn) -> None:
        self.project_root = project_root
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.spawning = False  # a process of its own is being started (not yet waited for)
        self.launching = False  # started and not ready yet
        self._closing = False
        self._task: asyncio.Task | None = None
        self._log_pipe: LogPipe | None = None

    def start(self) -> None:
        self.launching = True
        self._task = asyncio.ensure_future(self._keep_running())

    async def _launch(self) -> None:
        """Start the process and wait until it is ready (override)."""
        raise NotImplementedError

    def _spawn_args(self) -> tuple[list[str], tuple[int, ...]]:
        raise NotImplementedError

    async def _spawn(self) -> asyncio.subprocess.Process:
        argv, pass_fds = self._spawn_args()
        log_read, log_write = os.pipe()
        self.spawning = True
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=log_write, env=self.env, pass_fds=pass_fds, close_fds=True,
                start_new_session=True)
            self.process = process
        except BaseException:
            os.close(log_read)
            raise
        finally:
            self.spawning = False
            os.close(log_write)
        self._log_pipe = LogPipe(log_read, self.log, f"{self.name}: ", limit=APP_LOG_LIMIT * 4)
        return process

    async def _keep_running(self) -> None:
        pause = _RESTART_PAUSE[0]
        while not self._closing:
            started = time.monotonic()
            self.launching = True
            self.process = None  # the last one was reaped: its pid may be anybody's now
            try:
                await asyncio.wait_for(self._launch(), READY_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - logged; the server goes on without it
                self.log(f"{self.name} could not start: {err or type(err).__name__}")
                self._kill()
                if self.process is not None:
                    await self.process.wait()
            else:
                self.launching = False
                assert self.process is not None
                self.log(f"{self.name} ready (pid {self.process.pid})")
                await self.process.wait()
            self.launching = False
            self.ready.clear()
            if self._log_pipe is not None:
                try:
                    await asyncio.wait_for(self._log_pipe.done.wait(), 1.0)
                except asyncio.TimeoutError:
                    self._log_pipe.close()
            if self._closing:
                return
            code = self.process.returncode if self.process is not None else None
            how = (f"killed by signal {-code}" if code is not None and code < 0 else f"exited {code}")
            if time.monotonic() - started > 60:
                pause = _RESTART_PAUSE[0]
            self.log(f"{self.name} ended ({how}); starting it again in {pause:g}s")
            await asyncio.sleep(pause)
            pause = min(pause * 4, _RESTART_PAUSE[1])

    def _kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    async def close(self) -> None:
        self._closing = True
        self.ready.clear()
        self._stop()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), _STOP_GRACE)
            except asyncio.TimeoutError:
                self._kill()
                await self.process.wait()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._log_pipe is not None:
            self._log_pipe.close()

    def _stop(self) -> None:
        """Ask the process to end (override)."""
        self._kill()


class ZygoteUnavailable(Exception):
    """No warm session process can be had now: the caller spawns one instead."""


class Zygote(Helper):
    """The server's end of the zygote: ``await fork(...)`` gives the pid of a new session process."""

    name = "session zygote"

    def __init__(self, project_root: Path, env: dict[str, str], log: LogFn) -> None:
        super().__init__(project_root, env, log)
        self._control: socket.socket | None = None
        self._child_end: socket.socket | None = None
        self._lock = asyncio.Lock()  # one fork request at a time on the socket

    def _spawn_args(self) -> tuple[list[str], tuple[int, ...]]:
        assert self._child_end is not None
        fd = self._child_end.fileno()
        return ([sys.executable, "-m", "tui_reader.serve.zygote", "--control-fd", str(fd),
                 str(self.project_root)], (fd,))

    async def _launch(self) -> None:
        self._close_control()
        self._control, self._child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control.setblocking(False)
        try:
            self.process = await self._spawn()
        finally:
            self._child_end.close()
            self._child_end = None
        message = await asyncio.get_running_loop().sock_recv(self._control, 4096)
        if not message:
            raise OSError("it ended while starting")
        if orjson.loads(message).get("ready") != self.process.pid:
            raise OSError(f"unexpected first message {message[:80]!r}")
        self.ready.set()

    def _close_control(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None

    def _stop(self) -> None:
        self._close_control()  # the zygote sees the end of its socket and exits

    async def fork(self, annotator: str, env: dict[str, str], slave: int, log_write: int) -> int:
        """Ask for a session process on ``slave`` (fds 0-2) logging to ``log_write``; its pid.
        Raises :class:`ZygoteUnavailable` when there is no working zygote now."""
        if self._closing:
            raise ZygoteUnavailable("the server is closing")
        if not self.ready.is_set() and self.launching:  # starting: worth a short wait
            try:
                await asyncio.wait_for(self.ready.wait(), FORK_WAIT)
            except asyncio.TimeoutError:
                pass
        if not self.ready.is_set():
            raise ZygoteUnavailable("the session zygote is not running")
        async with self._lock:
            control = self._control
            if control is None or not self.ready.is_set():
                raise ZygoteUnavailable("the session zygote is not running")
            request = orjson.dumps({"annotator": annotator, "env": env})
            try:
                socket.send_fds(control, [request], [slave, log_write])
                reply = await asyncio.wait_for(
                    asyncio.get_running_loop().sock_recv(control, 4096), FORK_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as err:
                self._broken(f"no answer ({type(err).__name__})")
                raise ZygoteUnavailable("the session zygote did not answer") from None
            if not reply:
                self._broken("its socket closed")
                raise ZygoteUnavailable("the session zygote ended") from None
        answer = orjson.loads(reply)
        if "pid" not in answer:
            raise ZygoteUnavailable(f"the session zygote could not fork: {answer.get('error')}")
        return int(answer["pid"])

    def _broken(self, why: str) -> None:
        """The zygote stopped answering: kill it; :meth:`_keep_running` starts another."""
        self.log(f"{self.name}: {why}; stopping it")
        self.ready.clear()
        self._close_control()
        self._kill()


class Trainer(Helper):
    """The project's shared model trainer, behind a Unix socket in a private folder. The server
    holds the listening socket, so a trainer started again serves the same path and the
    connections that waited meanwhile."""

    name = "model trainer"

    def __init__(self, project_root: Path, env: dict[str, str], log: LogFn) -> None:
        super().__init__(project_root, env, log)
        self.folder = Path(tempfile.mkdtemp(prefix="tui-reader-model-"))  # mode 0700
        self.socket_path = str(self.folder / "model.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        self.listener.listen(256)

    def _spawn_args(self) -> tuple[list[str], tuple[int, ...]]:
        fd = self.listener.fileno()
        return ([sys.executable, "-m", "tui_reader.core.suggest.model_process", "--shared",
                 str(self.project_root), "--listen-fd", str(fd)], (fd,))

    async def _launch(self) -> None:
        self.process = await self._spawn()
        self.ready.set()

    def _stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            try:
                self.process.terminate()
            except ProcessLookupError:
                pass

    async def close(self) -> None:
        await super().close()
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)
