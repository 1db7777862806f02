"""serve-ssh over loopback with asyncssh's client: each key is an annotator, each session its own app."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

asyncssh = pytest.importorskip("asyncssh")

from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import Project  # noqa: E402
from tui_reader.serve.keys import load_or_create_host_key  # noqa: E402
from tui_reader.serve.ssh import SSHFrontDoor, SSHServeConfig  # noqa: E402

HEADLINE = "Zebra council approves the river budget"
TEXTS = {
    "a-zebra.txt": f"{HEADLINE}\n\nThe council met on Monday. It voted 7 to 2.\n",
    "b-quokka.txt": "Quokka numbers rise on the island\n\nRangers counted them twice.\n",
}
FIRST_DOC = "a-zebra.txt"
# The article's status line ("1/2 · new · 85 characters · ...") shows once it is open on screen.
ON_SCREEN = f"{len(TEXTS[FIRST_DOC])} characters".encode()
# The second article's status line: where routing sends a second annotator under overlap = 1
# while the first holds the first article (its lease).
SECOND_ON_SCREEN = f"{len(TEXTS['b-quokka.txt'])} characters".encode()
HEADLINE_SPAN = (0, len(HEADLINE))


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TEXTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    project = Project.open(tmp_path / "db", create=True)
    import_paths(project, [corpus], "importer")
    return project.root


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Private key files for alice, bob and dave (authorized) and mallory (not)."""
    folder = tmp_path_factory.mktemp("keys")
    paths = {}
    for name in ("alice", "bob", "dave", "mallory"):
        key = asyncssh.generate_private_key("ssh-ed25519", comment=name)
        key.write_private_key(folder / name)
        key.write_public_key(folder / f"{name}.pub")
        paths[name] = folder / name
    lines = [(folder / f"{n}.pub").read_text().strip() for n in ("alice", "bob", "dave")]
    (folder / "authorized_keys").write_text("# annotators\n\n" + "\n".join(lines) + "\n")
    paths["authorized_keys"] = folder / "authorized_keys"
    return paths


class Door:
    """An in-process front door on a free loopback port, its log lines kept."""

    def __init__(self, door: SSHFrontDoor, lines: list[str]) -> None:
        self.door = door
        self.lines = lines

    @property
    def port(self) -> int:
        return self.door.port

    def logged(self, pattern: str) -> list[str]:
        return [line for line in self.lines if re.search(pattern, line)]


async def start_door(project_root: Path, keys: dict[str, Path], **options: float) -> Door:
    lines: list[str] = []
    config = SSHServeConfig(project_root=project_root, authorized_keys=keys["authorized_keys"],
                            host="127.0.0.1", port=0, **options)
    door = SSHFrontDoor(config, log=lines.append)
    await door.start()
    return Door(door, lines)


class Client:
    """One SSH session with a pty, its output collected as bytes."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess) -> None:
        self.conn = conn
        self.proc = proc
        self.output = bytearray()
        self._reader = asyncio.create_task(self._read())

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
    async def open(cls, port: int, key: Path, cols: int = 100, rows: int = 30,
                   username: str = "anyone") -> Client:
        conn = await connect(port, key, username)
        proc = await conn.create_process(term_type="xterm-256color", term_size=(cols, rows),
                                         encoding=None, stderr=asyncssh.STDOUT)
        return cls(conn, proc)

    async def wait_for(self, marker: bytes, timeout: float = 15.0, start: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output[start:]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} never appeared; got {bytes(self.output[-600:])!r}")
            if self._reader.done():
                raise AssertionError(f"session ended before {marker!r}: {bytes(self.output[-600:])!r}")
            await asyncio.sleep(0.02)

    async def wait_closed(self, timeout: float = 15.0) -> int | None:
        await asyncio.wait_for(self.proc.wait_closed(), timeout)
        await asyncio.wait_for(self._reader, timeout)
        return self.proc.exit_status

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()
        self._reader.cancel()


async def connect(port: int, key: Path | None, username: str = "anyone",
                  **options: object) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1", port, username=username, known_hosts=None, agent_path=None,
        client_keys=[str(key)] if key else None, config=None, **options)


async def wait_for_span(root: Path, annotator: str, timeout: float = 10.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        spans = [(s.start, s.end, s.label, s.annotator)
                 for s in Project.open(root).spans(FIRST_DOC) if s.annotator == annotator]
        if spans or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.05)


def children(pid: int) -> list[int]:
    return [int(p) for task in os.listdir(f"/proc/{pid}/task")
            for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]


async def wait_until(condition, timeout: float = 10.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# --------------------------------------------------------------------------------- tests
def test_the_real_command_logs_in_by_key_and_labels_as_that_annotator(project_root, keys, tmp_path):
    """`python -m tui_reader serve-ssh`: alice's key (user name "root") lands as alice; "1" is saved."""
    host_key = tmp_path / "hostkey"
    server = subprocess.Popen(
        [sys.executable, "-m", "tui_reader", "serve-ssh", "--db", str(project_root), "--port", "0",
         "--authorized-keys", str(keys["authorized_keys"]), "--host-key", str(host_key)],
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
                port = int(m.group(1))
        assert port, "".join(lines)
        assert stat.S_IMODE(host_key.stat().st_mode) == 0o600
        fingerprint = load_or_create_host_key(host_key)[0].get_fingerprint()
        assert fingerprint in "".join(lines)

        async def session() -> tuple[list[tuple], int | None, str]:
            client = await Client.open(port, keys["alice"], username="root")
            seen = client.conn.get_server_host_key().get_fingerprint()
            await client.wait_for(ON_SCREEN)
            # Forked from the warm zygote, and a child of the server's (which waits for it).
            (app,) = [pid for pid in children(server.pid) if os.readlink(f"/proc/{pid}/fd/0")
                      .startswith("/dev/pts/")]
            assert b"tui_reader.serve.zygote" in Path(f"/proc/{app}/cmdline").read_bytes()
            client.proc.stdin.write(b"1")
            spans = await wait_for_span(project_root, "alice")
            client.proc.stdin.write(b"q")
            status = await client.wait_closed()
            return spans, status, seen

        spans, status, seen = asyncio.run(session())
        assert spans == [(*HEADLINE_SPAN, "claim", "alice")]
        assert not Project.open(project_root).spans(FIRST_DOC, "root")
        assert status == 0
        assert seen == fingerprint
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    log = "".join(lines) + err
    assert server.returncode == 0, log
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} tui-reader serve-ssh: "
    assert re.search(stamp + r"login alice from 127\.0\.0\.1:\d+ \(session 1", log, re.M), log
    assert re.search(stamp + r"logout alice from 127\.0\.0\.1:\d+ .*app exited 0", log, re.M), log


def test_bad_options_end_in_one_line_and_status_2(project_root, keys, tmp_path):
    args = [sys.executable, "-m", "tui_reader", "serve-ssh", "--db", str(project_root), "--port", "0"]
    # A key without a comment: refused at load, naming the file and the line.
    bare = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    (tmp_path / "ak").write_text(keys["authorized_keys"].read_text() + bare)
    run = subprocess.run(args + ["--authorized-keys", str(tmp_path / "ak")], capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and f"{tmp_path / 'ak'}, line 6: the key has no comment" in run.stderr
    # A missing authorized-keys file.
    run = subprocess.run(args + ["--authorized-keys", str(tmp_path / "nope")], capture_output=True,
                         text=True, timeout=30)
    assert (run.returncode, run.stderr) == (2, f"tui-reader: {tmp_path / 'nope'}: authorized-keys "
                                                "file not found\n")
    # A port in use.
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(args[:-1] + [str(port), "--authorized-keys", str(keys["authorized_keys"])],
                             capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert run.stderr == f"tui-reader: cannot listen on 127.0.0.1:{port}: address already in use\n"


async def test_unknown_key_password_and_no_pty_are_refused_without_an_app(project_root, keys):
    door = await start_door(project_root, keys)
    try:
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(door.port, keys["mallory"], username="alice")
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(door.port, None, username="alice", password="alice")
        # Known key, but no pty: refused with a message; an exec request too.
        conn = await connect(door.port, keys["alice"])
        async with conn:
            result = await conn.run(encoding=None)  # a shell session without a pty
            assert result.exit_status == 1
            assert b"needs a terminal" in result.stderr
            result = await conn.run("tui-reader export -o -", term_type="xterm", encoding=None)
            assert result.exit_status == 1
            assert b"commands are not accepted" in result.stderr
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", door.port)  # port forwarding
        assert door.door.apps_started == 0
        mallory = asyncssh.read_public_key(f"{keys['mallory']}.pub").get_fingerprint()
        assert await wait_until(lambda: len(door.logged("^refused")) >= 5), door.lines
        unknown = rf"^refused unknown key {re.escape(mallory)} \(user 'alice'\) from 127"
        assert door.logged(unknown), door.lines
        assert door.logged(r"^refused no public key offered \(user 'alice'; passwords"), door.lines
        assert door.logged(r"^refused alice: session without a terminal from 127"), door.lines
        assert door.logged(r"^refused alice: exec request from 127"), door.lines
        assert door.logged(r"^refused alice: port forwarding to 127\.0\.0\.1"), door.lines
        assert not door.logged("^login")
    finally:
        await door.door.close()


async def test_a_resize_reaches_the_app(project_root, keys):
    door = await start_door(project_root, keys)
    try:
        client = await Client.open(door.port, keys["alice"], cols=80, rows=24)
        await client.wait_for(ON_SCREEN)
        assert b"\x1b[30;" not in client.output  # nothing below row 24 yet
        mark = len(client.output)
        client.proc.change_terminal_size(110, 30)
        await client.wait_for(b"\x1b[30;", start=mark)  # the app repaints down to its new last row
        (info,) = door.door.sessions.values()
        tty = os.readlink(f"/proc/{info.pid}/fd/0")  # the child's own terminal says 110x30
        import fcntl
        import struct
        import termios

        with open(tty, "rb", buffering=0) as fd:
            rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        assert (cols, rows) == (110, 30)
        await client.close()
    finally:
        await door.door.close()


async def test_session_limits_hold(project_root, keys):
    door = await start_door(project_root, keys, max_per_key=1, max_sessions=2)
    try:
        first = await Client.open(door.port, keys["alice"])
        await first.wait_for(ON_SCREEN)
        # A second session with alice's key, on a new connection: refused with a message.
        second = await Client.open(door.port, keys["alice"])
        assert await second.wait_closed() == 1
        assert b"alice already has 1 session(s) open with this key" in second.output
        bob = await Client.open(door.port, keys["bob"])
        await bob.wait_for(SECOND_ON_SCREEN)  # alice holds the first article: bob gets the next
        # Two sessions open: dave finds the server full.
        dave = await Client.open(door.port, keys["dave"])
        assert await dave.wait_closed() == 1
        assert b"the server is full" in dave.output
        assert door.door.apps_started == door.door.apps_forked == 2  # warm, forked sessions
        assert door.logged(r"^refused alice: session: 1 already open with this key")
        assert door.logged(r"^refused dave: session: server full")
        # When alice leaves, her key may log in again.
        await first.close()
        assert await wait_until(lambda: len(door.door.sessions) == 1)
        again = await Client.open(door.port, keys["alice"])
        await again.wait_for(ON_SCREEN)
        assert door.door.apps_started == door.door.apps_forked == 3
        for client in (bob, again, second, dave):
            await client.close()
    finally:
        await door.door.close()


async def test_two_annotators_at_once_label_without_interfering(project_root, keys):
    # Both on the same article: two annotators wanted there (with overlap = 1 the second would
    # be sent to the other article, the first being held open).
    config = project_root / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("overlap = 1", "overlap = 2"),
                      encoding="utf-8")
    door = await start_door(project_root, keys)
    try:
        alice, bob = await asyncio.gather(Client.open(door.port, keys["alice"]),
                                          Client.open(door.port, keys["bob"]))
        await asyncio.gather(alice.wait_for(ON_SCREEN), bob.wait_for(ON_SCREEN))
        alice.proc.stdin.write(b"1")  # claim, the headline
        bob.proc.stdin.write(b")2")  # quote, the next sentence
        spans_a, spans_b = await asyncio.gather(wait_for_span(project_root, "alice"),
                                                wait_for_span(project_root, "bob"))
        text = TEXTS[FIRST_DOC]
        start_b = text.index("The council")
        assert spans_a == [(*HEADLINE_SPAN, "claim", "alice")]
        assert spans_b == [(start_b, text.index("Monday.") + 7, "quote", "bob")]
        # Each screen shows its own annotator's work: bob's label panel counts one quote.
        assert sorted(s.annotator for s in Project.open(project_root).spans(FIRST_DOC)) == ["alice", "bob"]
        for client in (alice, bob):
            client.proc.stdin.write(b"q")
        assert await asyncio.gather(alice.wait_closed(), bob.wait_closed()) == [0, 0]
        assert len(door.logged("^login")) == len(door.logged("^logout")) == 2
        assert door.door.apps_forked == 2
    finally:
        await door.door.close()


async def test_idle_timeout_closes_the_session_with_a_message(project_root, keys):
    door = await start_door(project_root, keys, idle_timeout=1.5)
    try:
        client = await Client.open(door.port, keys["alice"])
        await client.wait_for(ON_SCREEN)
        started = time.monotonic()
        client.proc.stdin.write(b"j")  # input resets the clock
        status = await client.wait_closed(timeout=15)
        assert time.monotonic() - started >= 1.4
        assert status not in (None, 0)
        tail = bytes(client.output[-400:])
        assert b"\x1b[?1049l" in tail  # the client's terminal is given back (normal screen)
        assert b"no input for 1s; session closed" in tail
        assert door.logged(r"^logout alice from 127\.0\.0\.1:\d+ .*idle 1\.5s")
        assert not door.door.sessions
    finally:
        await door.door.close()


def test_the_command_line_does_not_load_the_servers_until_asked():
    code = ("import sys, tui_reader.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('asyncssh', 'textual_serve', "
            "'aiohttp')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
