"""serve-ssh against a hostile annotator with a valid key: a real server process, a real asyncssh
client, and the bound each attack must meet (issue 13)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

asyncssh = pytest.importorskip("asyncssh")

from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import Project  # noqa: E402

HEADLINE = "Zebra council approves the river budget"
TEXT = f"{HEADLINE}\n\nThe council met on Monday. It voted 7 to 2.\n"
DOC = "a-zebra.txt"
ON_SCREEN = f"{len(TEXT)} characters".encode()
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} tui-reader serve-ssh: ")


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / DOC).write_text(TEXT, encoding="utf-8")
    project = Project.open(tmp_path / "db", create=True)
    import_paths(project, [corpus], "importer")
    return project.root


def make_key(folder: Path, name: str, comment: str | None = None) -> tuple[Path, str]:
    """A private key file and its authorized-keys line (comment: the annotator's name)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = folder / f"key-{len(list(folder.iterdir()))}"
    key.write_private_key(path)
    blob = key.export_public_key().decode().split()[:2]
    return path, " ".join([*blob, comment if comment is not None else name])


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "keys"
    folder.mkdir()
    paths, lines = {}, []
    for name in ("alice", "bob"):
        paths[name], line = make_key(folder, name)
        lines.append(line)
    paths["authorized_keys"] = folder / "authorized_keys"
    paths["authorized_keys"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["folder"] = folder
    return paths


class Server:
    """``python -m tui_reader serve-ssh`` in its own process, its stderr collected line by line."""

    def __init__(self, root: Path, authorized_keys: Path, *options: str,
                 env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_reader", "serve-ssh", "--db", str(root), "--port", "0",
             "--authorized-keys", str(authorized_keys), "--host-key", str(root.parent / "hostkey"),
             *options],
            stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 30
        self.port = 0
        while not self.port and time.monotonic() < deadline:
            for line in list(self.lines):
                if m := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
                    self.port = int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        assert self.port, "".join(self.lines)

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logged(self, pattern: str) -> list[str]:
        return [line for line in list(self.lines) if re.search(pattern, line)]

    async def wait_logged(self, pattern: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(found := self.logged(pattern)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} logged {len(found)} times, not {count}:\n"
                                     + "".join(self.lines[-30:]))
            await asyncio.sleep(0.05)
        return found

    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(timeout=5)
        return self.log()


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.stop()


def start(servers: list[Server], root: Path, keys: dict[str, Path], *options: str,
          env: dict[str, str] | None = None) -> Server:
    server = Server(root, keys["authorized_keys"], *options, env=env)
    servers.append(server)
    return server


async def connect(port: int, key: Path, **options: object) -> asyncssh.SSHClientConnection:
    settings: dict[str, object] = {"username": "anyone", "known_hosts": None, "agent_path": None,
                                   "client_keys": [str(key)], "config": None, **options}
    return await asyncssh.connect("127.0.0.1", port, **settings)


class Session:
    """One session with a pty over a connection, its output collected as bytes."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess) -> None:
        self.conn, self.proc = conn, proc
        self.output = bytearray()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            try:
                data = await self.proc.stdout.read(65536)
            except (asyncssh.Error, OSError):
                return
            if not data:
                return
            self.output += data

    @classmethod
    async def open(cls, conn: asyncssh.SSHClientConnection, cols: int = 100, rows: int = 30,
                   term: str = "xterm-256color") -> Session:
        proc = await conn.create_process(term_type=term, term_size=(cols, rows), encoding=None,
                                         stderr=asyncssh.STDOUT)
        return cls(conn, proc)

    async def wait_for(self, marker: bytes, timeout: float = 20.0, start: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output[start:]:
            if time.monotonic() > deadline or self._reader.done():
                raise AssertionError(f"{marker!r} never came; got {bytes(self.output[-800:])!r}")
            await asyncio.sleep(0.02)

    async def closed(self, timeout: float = 20.0) -> int | None:
        await asyncio.wait_for(self.proc.wait_closed(), timeout)
        await asyncio.wait_for(self._reader, timeout)
        return self.proc.exit_status


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def app_pid(line: str) -> int:
    return int(re.search(r"pid (\d+)", line).group(1))


async def label_saved(root: Path, annotator: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.annotator == annotator for s in Project.open(root).spans(DOC)):
            return True
        await asyncio.sleep(0.05)
    return False


# ------------------------------------------------------------------------------------- 1. limits
async def test_twenty_parallel_session_requests_on_one_connection_open_at_most_the_limit(
        project_root, keys, servers):
    """Today's main: 17 apps under --max-sessions 4 --max-per-key 2."""
    server = start(servers, project_root, keys, "--max-sessions", "4", "--max-per-key", "2")
    conn = await connect(server.port, keys["alice"])
    results = await asyncio.gather(
        *(conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None,
                              stderr=asyncssh.STDOUT) for _ in range(20)),
        return_exceptions=True)
    opened = [r for r in results if not isinstance(r, BaseException)]
    refused_channels = [r for r in results if isinstance(r, asyncssh.ChannelOpenError)]
    assert len(opened) == 10 and len(refused_channels) == 10  # at most 10 channels per connection
    await server.wait_logged(r"refused alice: session: 2 already open with this key", 8)
    await asyncio.sleep(1.0)
    assert len(server.logged(r"login alice ")) == 2, server.log()
    assert server.logged(r"refused alice: session channel: 10 already open on this connection")
    conn.close()
    await server.wait_logged(r"logout alice ", 2)
    assert server.logged(r"logout alice .*; 0 open\)")


async def test_connections_without_a_session_count_time_out_and_are_logged(project_root, keys, servers):
    """Today's main: 30 `ssh -N` connections stayed open 25 s after a 5 s idle timeout."""
    server = start(servers, project_root, keys, "--idle-timeout", "2", "--max-per-key", "2")
    conns = [await connect(server.port, keys["alice"]) for _ in range(5)]
    await asyncio.sleep(0.5)
    open_now = [c for c in conns if c._transport is not None and not c.is_closed()]
    assert len(open_now) <= 2  # the key's older idle connections made room
    await server.wait_logged(r"closed alice's connection from 127\.0\.0\.1:\d+: no session open, and a "
                             r"newer login needed the room", 3)
    await server.wait_logged(r"closed alice's connection from 127\.0\.0\.1:\d+: no session open for 2s",
                             timeout=10)
    await asyncio.gather(*(asyncio.wait_for(c.wait_closed(), 10) for c in conns))
    for line in server.logged("closed alice's connection"):
        assert STAMP.match(line)


# ---------------------------------------------------------------------------------- 2. input
async def test_a_200_mb_paste_closes_the_session_and_leaves_server_memory_flat(project_root, keys,
                                                                             servers):
    """Today's main: accepted in 4.3 s, the server went 83 -> 262 MB and stayed there."""
    server = start(servers, project_root, keys)
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    await session.wait_for(ON_SCREEN)
    before = rss_mb(server.pid)
    chunk = b"x" * (1024 * 1024)
    sent = 0
    started = time.monotonic()
    try:
        session.proc.stdin.write(b"\x1b[200~")
        while sent < 200 * len(chunk) and time.monotonic() - started < 60:
            session.proc.stdin.write(chunk)
            await asyncio.wait_for(session.proc.stdin.drain(), 30)
            sent += len(chunk)
            if session.proc.stdin.is_closing():
                break
    except (asyncssh.Error, OSError, BrokenPipeError, asyncio.TimeoutError):
        pass
    await session.closed()
    await server.wait_logged(r"logout alice .*paste over 1048576 bytes")
    assert b"a paste of more than 1024 KiB closed the session" in session.output
    assert rss_mb(server.pid) - before < 20, (before, rss_mb(server.pid), sent)
    conn.close()


async def test_an_unterminated_paste_ends_and_keys_work_again(project_root, keys, servers):
    """Today's main: after `ESC[200~` with no end, the app ignores every key."""
    server = start(servers, project_root, keys)
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    await session.wait_for(ON_SCREEN)
    session.proc.stdin.write(b"\x1b[200~half a paste")
    await server.wait_logged(r"alice: an unterminated paste ended after 3s", timeout=10)
    session.proc.stdin.write(b"1")  # label the headline: the key works again
    assert await label_saved(project_root, "alice")
    session.proc.stdin.write(b"\x1b[201~q")  # the late end marker is dropped; q quits
    assert await session.closed() == 0
    conn.close()


# ---------------------------------------------------------------------------------- 3/4. sizes
async def test_ten_logins_at_65536_columns_leak_no_descriptor(project_root, keys, servers):
    """Today's main: a crash before the error handling, 2 pty fds leaked per try, nothing logged."""
    server = start(servers, project_root, keys, "--max-per-key", "10")
    warm = await connect(server.port, keys["bob"])  # the first connection allocates for good
    warm.close()
    await warm.wait_closed()
    await asyncio.sleep(0.5)
    before = fd_count(server.pid)
    for _ in range(10):
        conn = await connect(server.port, keys["alice"])
        session = await Session.open(conn, cols=65536, rows=40)
        await session.wait_for(ON_SCREEN)
        session.proc.stdin.write(b"q")
        await session.closed()
        conn.close()
        await conn.wait_closed()
    await server.wait_logged(r"logout alice ", 10)
    assert len(server.logged(r"login alice .* 1000x40 ")) == 10  # clamped, and logged
    await asyncio.sleep(0.5)
    assert fd_count(server.pid) == before, os.listdir(f"/proc/{server.pid}/fd")


async def test_a_huge_window_change_is_clamped_and_the_app_stays_small(project_root, keys, servers):
    """Today's main: 10000x10000 took the app to 2.9 GB; 65536 dropped the connection unlogged."""
    server = start(servers, project_root, keys)
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    await session.wait_for(ON_SCREEN)
    (login,) = await server.wait_logged(r"login alice ")
    pid = app_pid(login)
    for size in ((10000, 10000), (65536, 65536)):
        mark = len(session.output)
        session.proc.change_terminal_size(*size)
        await session.wait_for(b"\x1b[500;", start=mark)  # redrawn down to row 500, no further
    session.proc.stdin.write(b"\x1b[48;10000;10000;0;0t")  # an in-band resize report, too
    await asyncio.sleep(2.0)
    assert rss_mb(pid) < 300, rss_mb(pid)
    with open(os.readlink(f"/proc/{pid}/fd/0"), "rb", buffering=0) as tty:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(tty, termios.TIOCGWINSZ, b"\0" * 8))
    assert (cols, rows) == (1000, 500)
    session.proc.stdin.write(b"q")
    assert await session.closed() == 0
    await server.wait_logged(r"logout alice .*app exited 0")
    conn.close()


# ------------------------------------------------------------------------------ 12. bad input
MALFORMED = [b"\xff", b"\x9b1;1R", b"\x1b[9999999999u", b"\x1b[27;5;9999999~", b"\x1b[M\xff\xff\xff",
             b"\x1b[" + b"9" * 5000 + b"A", b"\x1b[" + b"1;" * 3000 + b"H", b"\x1b[55296u",
             b"\x1b]52;c;AAAA\x07", b"\x1b[48;0;0;0;0t"]


async def test_malformed_input_is_dropped_and_the_session_goes_on(project_root, keys, servers):
    """Today's main: each of these crashed the app and sent a full traceback to the client."""
    server = start(servers, project_root, keys)
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    await session.wait_for(ON_SCREEN)
    for junk in MALFORMED:
        session.proc.stdin.write(junk)
        await asyncio.sleep(0.15)
    session.proc.stdin.write(b"1")
    assert await label_saved(project_root, "alice"), bytes(session.output[-1500:])
    session.proc.stdin.write(b"q")
    assert await session.closed() == 0
    assert b"Traceback" not in session.output and b".py" not in session.output
    (logout,) = await server.wait_logged(r"logout alice ")
    assert re.search(r"app exited 0; \d+ malformed input sequences dropped", logout), logout
    conn.close()


CRASHER = '''
import os
if os.environ.get("CRASH_ON_TILDE"):
    import textual.app

    _on_event = textual.app.App.on_event

    async def on_event(self, event):
        if getattr(event, "character", None) == "~":
            secret_local = "SECRET-LOCAL-VALUE"
            raise RuntimeError("injected crash " + str(len(secret_local)))
        return await _on_event(self, event)

    textual.app.App.on_event = on_event
'''


async def test_a_crash_shows_the_client_one_line_and_logs_a_traceback_without_locals(
        project_root, keys, servers, tmp_path):
    """Today's main: the client got Rich's full traceback (server paths, source, locals);
    the log said "app exited 0"."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(CRASHER)
    server = start(servers, project_root, keys, env={
        "CRASH_ON_TILDE": "1", "PYTHONPATH": os.pathsep.join([str(inject), *sys.path[1:]])})
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    await session.wait_for(ON_SCREEN)
    session.proc.stdin.write(b"~")
    status = await session.closed()
    assert status == 1
    tail = bytes(session.output).split(b"\x1b[?1049l")[-1]  # after the app left its screen
    assert b"Traceback" not in session.output and b"RuntimeError" not in session.output
    assert b"tui-reader: the app stopped (app exited 1); your labels are saved" in tail
    await server.wait_logged(r"logout alice .*app exited 1")
    log = server.log()
    assert re.search(r"alice session 1: app: Traceback \(most recent call last\)", log), log
    assert re.search(r"alice session 1: app: RuntimeError: injected crash 18", log), log
    assert "SECRET-LOCAL-VALUE" not in log  # the frame's source line names it, its value never
    conn.close()


# ------------------------------------------------------------------------------ 14/15. the log
async def test_a_term_with_a_newline_cannot_forge_a_log_line(project_root, keys, servers):
    """Today's main: TERM "xterm\\n<stamp> ... login mallory" wrote a forged line."""
    server = start(servers, project_root, keys)
    conn = await connect(server.port, keys["alice"])
    forged = "xterm\n2026-01-01T00:00:00+0000 tui-reader serve-ssh: login mallory from 10.0.0.1"
    session = await Session.open(conn, term=forged)
    await session.wait_for(ON_SCREEN)
    session.proc.stdin.write(b"q")
    await session.closed()
    await server.wait_logged(r"logout alice")
    assert not server.logged("mallory from 10.0.0.1") or all(
        not line.startswith("2026-01-01") for line in server.lines)
    assert all(STAMP.match(line) for line in server.lines), server.log()
    (login,) = server.logged("login alice")
    assert "xterm-256color; TERM 'xterm\\n2026-01-01" in login  # shown escaped, not used
    conn.close()


async def test_refusals_are_logged_and_rapid_disconnects_leave_no_stray_lines(project_root, keys,
                                                                            servers, tmp_path):
    """Today's main: sftp and agent-forwarding refusals unlogged; 100 rapid disconnects left 71
    untimestamped `socket.send() raised exception.` lines."""
    server = start(servers, project_root, keys, "--max-per-key", "20")
    conn = await connect(server.port, keys["alice"], agent_forwarding=True,
                         agent_path=str(tmp_path / "no-agent.sock"))
    with pytest.raises((asyncssh.Error, OSError)):
        await conn.start_sftp_client()
    with pytest.raises((asyncssh.Error, OSError)):
        await conn.start_sftp_client()
    session = await Session.open(conn)  # asks for agent forwarding too
    await session.wait_for(ON_SCREEN)
    conn.close()
    await server.wait_logged(r"refused alice: subsystem 'sftp' from 127\.0\.0\.1")
    await server.wait_logged(r"refused alice: agent forwarding from 127\.0\.0\.1")
    for _ in range(4):  # sessions dropped while the app is still drawing, 60 in all
        async def drop() -> None:
            c = await connect(server.port, keys["bob"])
            s = await Session.open(c)
            await s.wait_for(b"\x1b[", timeout=30)
            c.abort()
        await asyncio.gather(*(drop() for _ in range(15)), return_exceptions=True)
    await asyncio.sleep(3)
    log = server.stop()
    stray = [line for line in log.splitlines() if not STAMP.match(line)]
    assert not stray, stray[:5]
    assert "socket.send() raised exception" not in log


# ------------------------------------------------------------------------------------- 9/10. keys
async def test_a_removed_key_is_out_within_the_reload_interval_and_unicode_names_log_in(
        project_root, keys, servers):
    """Today's main: a removed key's session went on, and José/Cyrillic/emoji names were refused
    (so the reload failed and every old key, the removed one too, stayed valid)."""
    server = start(servers, project_root, keys)
    alice_conn = await connect(server.port, keys["alice"])
    alice = await Session.open(alice_conn)
    await alice.wait_for(ON_SCREEN)
    folder = keys["folder"]
    names = ["José", "аня", "🦊 fox"]
    new = [make_key(folder, name) for name in names]
    bob_line = keys["authorized_keys"].read_text(encoding="utf-8").splitlines()[1]
    keys["authorized_keys"].write_text("\n".join([bob_line, *(line for _, line in new)]) + "\n",
                                       encoding="utf-8")
    removed = time.monotonic()
    assert await alice.closed(timeout=10) not in (None, 0)
    assert time.monotonic() - removed < 2.0 + 2.0  # the reload interval, and a margin
    assert b"your key was removed from the server's authorized keys; session closed" in alice.output
    await server.wait_logged(r"logout alice .*key removed")
    assert server.logged(r"authorized keys: dropped alice \(SHA256:")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, keys["alice"])
    for (path, _), name in zip(new, names):
        conn = await connect(server.port, path)
        session = await Session.open(conn)
        await session.wait_for(ON_SCREEN)
        session.proc.stdin.write(b"1")
        assert await label_saved(project_root, name)
        conn.close()
    assert server.logged("login José from") and server.logged("login 🦊 fox from")


async def test_a_reload_that_fails_keeps_only_keys_in_both_versions(project_root, keys, servers):
    """Today's main: a failed reload kept every old key valid, bob's removed one included."""
    server = start(servers, project_root, keys)
    bob_conn = await connect(server.port, keys["bob"])
    bob = await Session.open(bob_conn)
    await bob.wait_for(ON_SCREEN)
    alice_line, _ = keys["authorized_keys"].read_text(encoding="utf-8").splitlines()
    carol_key, carol_line = make_key(keys["folder"], "carol")
    _, gold_line = make_key(keys["folder"], "gold")
    # bob removed, carol added, and a line that does not load: fail closed.
    keys["authorized_keys"].write_text(
        "\n".join([alice_line, carol_line, gold_line, "restrict ssh-ed25519 AAAA oops"]) + "\n",
        encoding="utf-8")
    assert await bob.closed(timeout=10) not in (None, 0)
    await server.wait_logged(r"authorized keys: .*line 3: 'gold' is a name tui-reader keeps for itself")
    await server.wait_logged(r"serving only the 1 keys in both the old and the new version")
    assert server.logged(r"authorized keys: dropped bob \(SHA256:")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, keys["bob"])
    with pytest.raises(asyncssh.PermissionDenied):  # new keys wait for a clean file
        await connect(server.port, carol_key)
    conn = await connect(server.port, keys["alice"])  # in both versions: still in
    conn.close()


def test_gold_cannot_be_an_annotator_in_the_key_file(project_root, keys):
    """Today's main: a key named gold wrote straight into the reviewed gold layer."""
    _, gold_line = make_key(keys["folder"], "gold")
    (keys["folder"] / "with_gold").write_text(gold_line + "\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "tui_reader", "serve-ssh", "--db", str(project_root), "--port", "0",
         "--authorized-keys", str(keys["folder"] / "with_gold")],
        capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "line 1: 'gold' is a name tui-reader keeps for itself" in run.stderr
