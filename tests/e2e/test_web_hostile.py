"""serve-web against a hostile client: a real server process and real websockets (aiohttp's client),
each attack held to its bound (issue 13)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install -e '.[test]')")

from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import Project  # noqa: E402

HEADLINE = "Zebra council approves the river budget"
TEXT = f"{HEADLINE}\n\nThe council met on Monday. It voted 7 to 2.\n"
DOC = "a-zebra.txt"
ON_SCREEN = f"{len(TEXT)} characters".encode()


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / DOC).write_text(TEXT, encoding="utf-8")
    project = Project.open(tmp_path / "db", create=True)
    import_paths(project, [corpus], "importer")
    return project.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebServer:
    """``python -m tui_reader serve-web`` on a free loopback port, its stderr collected."""

    def __init__(self, root: Path, *options: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_reader", "serve-web", "--db", str(root),
             "--port", str(self.port), *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not self.logged(" serving ") and time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            time.sleep(0.05)
        assert self.logged(" serving "), self.log()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def logged(self, pattern: str) -> list[str]:
        return [line for line in list(self.lines) if re.search(pattern, line)]

    async def wait_logged(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while not (found := self.logged(pattern)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never logged:\n{self.log()}")
            await asyncio.sleep(0.05)
        return found[0]

    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def servers():
    started: list[WebServer] = []
    yield started
    for server in started:
        server.stop()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the app, and anything between)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Tab:
    """A browser tab's websocket: what it receives, and what it types."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http, self.ws = http, ws
        self.received = bytearray()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port: int, headers: dict[str, str] | None = None,
                   query: str = "width=100&height=30") -> Tab:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?{query}", headers=headers or {})
        except BaseException:
            await http.close()
            raise
        return cls(http, ws)

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.received += message.data.encode()

    async def wait_for(self, marker: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.received:
            if time.monotonic() > deadline or self._reader.done():
                raise AssertionError(f"{marker!r} never came; got {bytes(self.received[-500:])!r}")
            await asyncio.sleep(0.05)

    async def send(self, kind: str, data: object) -> None:
        await self.ws.send_str(json.dumps([kind, data]))

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()
        self._reader.cancel()


async def label_saved(root: Path, annotator: str, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.annotator == annotator for s in Project.open(root).spans(DOC)):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_cross_origin_websocket_is_refused(project_root, servers):
    """Today's main: /ws with Origin http://evil.example and Host evil.example:8000 saved a label."""
    server = WebServer(project_root, "--annotator", "webby",
                       "--allow-origin", "https://annotate.example.org")
    servers.append(server)
    for headers in ({"Origin": "http://evil.example"},
                    {"Host": f"evil.example:{server.port}", "Origin": f"http://evil.example:{server.port}"},
                    {"Host": f"evil.example:{server.port}"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Tab.open(server.port, headers)
        assert refused.value.status == 403
    await server.wait_logged(r"refused session from 127\.0\.0\.1: Origin 'http://evil\.example' is "
                             r"not allowed")
    await server.wait_logged(r"refused session from 127\.0\.0\.1: Host 'evil\.example:\d+' is not")
    assert not server.logged(" login ")
    # The served address, its loopback aliases and --allow-origin are fine.
    for origin in (f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}",
                   "https://annotate.example.org"):
        tab = await Tab.open(server.port, {"Origin": origin})
        await tab.wait_for(ON_SCREEN)
        await tab.close()
    await server.wait_logged(r"logout webby .*; 0 open\)")


async def test_a_huge_resize_is_clamped_and_closing_the_tab_ends_the_app(project_root, servers):
    """Today's main: 10000x10000 took the app to 1.2 GB; closing the websocket then crashed the
    stop routine: the app was orphaned, the session counter stuck at 1, no logout line."""
    server = WebServer(project_root, "--annotator", "webby")
    servers.append(server)
    tab = await Tab.open(server.port, query="width=100000&height=100000")
    await tab.wait_for(ON_SCREEN)
    assert await server.wait_logged(r"login webby from 127\.0\.0\.1 \(1000x500; 1 open\)")
    await tab.send("resize", {"width": 10000, "height": 10000})
    await tab.send("stdin", "\x1b[48;10000;10000;0;0t")
    await tab.send("resize", {"width": "x", "height": -5})  # nonsense: ignored, no crash
    await asyncio.sleep(3.0)
    apps = descendants(server.proc.pid)
    assert apps
    assert max(rss_mb(pid) for pid in apps) < 300, [rss_mb(pid) for pid in apps]
    await tab.close()
    await server.wait_logged(r"logout webby from 127\.0\.0\.1 \(after \d+s: .*; 0 open\)")
    deadline = time.monotonic() + 10
    while any(rss_mb(pid) for pid in apps) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not [pid for pid in apps if os.path.exists(f"/proc/{pid}") and rss_mb(pid)]


async def test_malformed_input_over_the_websocket_is_dropped(project_root, servers):
    """Today's main: a key code past U+10FFFF killed the app's input thread: no key worked after."""
    server = WebServer(project_root, "--annotator", "webby")
    servers.append(server)
    tab = await Tab.open(server.port)
    await tab.wait_for(ON_SCREEN)
    for junk in ("\x1b[9999999999u", "\x1b[27;5;9999999~", "\x9b1;1R", "\x1b[55296u",
                 "\x1b[" + "9" * 5000 + "A"):
        await tab.send("stdin", junk)
    await tab.ws.send_str("not json at all")
    await tab.send("stdin", "1")
    assert await label_saved(project_root, "webby")
    await tab.close()
    await server.wait_logged(r"logout webby ")
    assert "Traceback" not in server.log()


async def test_a_paste_over_the_limit_closes_the_tab_and_is_logged(project_root, servers):
    server = WebServer(project_root, "--annotator", "webby")
    servers.append(server)
    tab = await Tab.open(server.port)
    await tab.wait_for(ON_SCREEN)
    await tab.send("stdin", "\x1b[200~")
    for _ in range(3):
        await tab.send("stdin", "x" * (512 * 1024))
    await asyncio.wait_for(tab._reader, 15)
    await server.wait_logged(r"logout webby .*paste over 1048576 bytes; 0 open\)")
    await tab.close()


async def test_gold_cannot_come_in_through_the_proxy_header(project_root, servers):
    """Today's main: X-Remote-User: gold wrote straight into the reviewed gold layer."""
    server = WebServer(project_root, "--annotator-header", "X-Remote-User")
    servers.append(server)
    for name in ("gold", "GOLD"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Tab.open(server.port, {"X-Remote-User": name})
        assert refused.value.status == 403
    await server.wait_logged(r"refused session from 127\.0\.0\.1: X-Remote-User header: 'gold' is a "
                             r"name tui-reader keeps for itself")
    tab = await Tab.open(server.port, {"X-Remote-User": "José"})
    await tab.wait_for(ON_SCREEN)
    await tab.close()
    await server.wait_logged(r"logout José ")
