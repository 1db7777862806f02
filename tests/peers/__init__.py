"""Real peer tools for the round-trip tests: Label Studio, doccano and a label-studio-ml backend.

Each peer is installed from PyPI into a virtual environment of its own under
``~/.cache/tui-reader-peers`` (``TUI_READER_PEERS_CACHE`` moves it), never into the project's
environment, and reused while its requirements are unchanged (a marker file holds them). A peer
that cannot be installed or started makes its tests skip with the reason (pip's last error line,
or the server's last log lines).

Servers bind 127.0.0.1 only, on a free port, with their data in a temporary folder, and are
stopped (their whole process group) when the tests end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("TUI_READER_PEERS_CACHE", "~/.cache/tui-reader-peers")).expanduser()

# What each peer's environment holds. doccano 1.8.4 needs an older marshmallow and numpy than
# pip would pick; label-studio-ml 1.0.9 imports rq without declaring it.
PEERS: dict[str, list[str]] = {
    "label-studio": ["label-studio==1.23.2"],
    "doccano": ["doccano==1.8.4", "marshmallow<4", "numpy<2"],
    "label-studio-ml": ["label-studio-ml==1.0.9", "rq"],
}
INSTALL_TIMEOUT = 1800  # seconds: a cold install of label-studio took ~2 min here


class PeerUnavailable(Exception):
    """A peer that could not be installed or started; the message says why (one line)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peer_env(name: str) -> Path:
    """The virtual environment of peer ``name``, installed on first use. PeerUnavailable if pip
    fails (its last error line) or takes longer than INSTALL_TIMEOUT."""
    requirements = PEERS[name]
    venv = CACHE / name
    marker = venv / "tui-reader-peer.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, even across test runs
        if marker.exists() and json.loads(marker.read_text()) == requirements and (
            venv / "bin" / "python"
        ).exists():
            return venv
        log = CACHE / f"{name}-install.log"
        started = time.monotonic()
        with open(log, "w") as out:
            try:
                subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                               stdout=out, stderr=subprocess.STDOUT, timeout=300)
                subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install",
                                "--disable-pip-version-check", *requirements], check=True,
                               stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise PeerUnavailable(f"installing {' '.join(requirements)} took longer than "
                                      f"{INSTALL_TIMEOUT} s (log: {log})") from None
            except subprocess.CalledProcessError:
                raise PeerUnavailable(f"pip could not install {' '.join(requirements)}: "
                                      f"{_last_error(log)} (log: {log})") from None
        marker.write_text(json.dumps(requirements))
        print(f"\n[peers] installed {name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        return venv


def _last_error(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()
             if line.strip() and not line.startswith("WARNING: Location")]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1][:300]


class Server:
    """A peer's server process (its own process group) and a JSON client for its REST API."""

    def __init__(self, name: str, base: str, log: Path) -> None:
        self.name = name
        self.base = base
        self.log = log
        self.processes: list[subprocess.Popen[bytes]] = []
        self.headers: dict[str, str] = {}
        self.users: dict[str, Any] = {}  # the peer's users the tests made, by name

    def spawn(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.processes.append(subprocess.Popen(
            args, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        ))

    def wait_until_up(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise PeerUnavailable(f"{self.name} exited with code {process.returncode}: "
                                          f"{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status < 500:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise PeerUnavailable(f"{self.name} did not answer {path} within {timeout:.0f} s: {self.tail()}")

    def tail(self, n: int = 3) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-n:])[-600:]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json", expect: int | None = None) -> Any:
        """One REST call; the decoded JSON answer (bytes when it is not JSON). An HTTP error
        raises AssertionError with the server's answer, unless ``expect`` names that status."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={**self.headers, "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, content = err.code, err.read()
        if expect is not None:
            assert status == expect, f"{method} {path}: HTTP {status}: {content[:500]!r}"
        elif status >= 400:
            raise AssertionError(f"{method} {path}: HTTP {status}: {content[:500]!r}")
        try:
            return json.loads(content)
        except ValueError:
            return content


# ------------------------------------------------------------------------------ Label Studio
LS_ADMIN = "admin@example.org"
LS_TOKEN = uuid.uuid4().hex[:40]


def start_label_studio(data_dir: Path) -> Server:
    venv = peer_env("label-studio")
    port = free_port()
    server = Server("label-studio", f"http://127.0.0.1:{port}", data_dir / "label-studio.log")
    server.spawn(
        [str(venv / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
         "--port", str(port), "--data-dir", str(data_dir), "--username", LS_ADMIN,
         "--password", uuid.uuid4().hex, "--user-token", LS_TOKEN, "--enable-legacy-api-token"],
        env={"LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "HOME": str(data_dir)},
    )
    try:
        server.wait_until_up("/health", timeout=300)
    except PeerUnavailable:
        server.stop()
        raise
    server.headers = {"Authorization": f"Token {LS_TOKEN}"}
    return server


# ------------------------------------------------------------------------------ doccano
DOCCANO_ADMIN = ("admin", uuid.uuid4().hex)


def start_doccano(data_dir: Path) -> Server:
    """doccano 1.8.4: its database set up, an admin, its web app under gunicorn on 127.0.0.1
    (``doccano webserver`` binds 0.0.0.0) and its task queue (imports and exports run there)."""
    venv = peer_env("doccano")
    backend = next((venv / "lib").glob("python3*/site-packages/backend"))
    env = {
        "DOCCANO_HOME": str(data_dir), "HOME": str(data_dir), "STANDALONE": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}", "MEDIA_ROOT": str(data_dir / "media"),
    }
    log = data_dir / "doccano.log"
    doccano = str(venv / "bin" / "doccano")
    for args in (["init"], ["createuser", "--username", DOCCANO_ADMIN[0],
                            "--password", DOCCANO_ADMIN[1], "--email", "admin@example.org"]):
        with open(log, "ab") as out:
            done = subprocess.run([doccano, *args], env={**os.environ, **env}, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=300)
        if done.returncode != 0:
            raise PeerUnavailable(f"doccano {args[0]} failed: {Server('doccano', '', log).tail()}")
    # Its task queue (celery on the SQLite broker) sometimes gives up at start on a busy
    # machine ("exited with code 0" after a celery TimeoutError): a second start then works.
    for attempt in (1, 2):
        port = free_port()
        server = Server("doccano", f"http://127.0.0.1:{port}", log)
        server.spawn([str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
                      "1", "--chdir", str(backend), "config.wsgi"], env=env)
        server.spawn([doccano, "task", "--concurrency", "1"], env=env)
        try:
            server.wait_until_up("/v1/health/", timeout=120)
            token = server.call("POST", "/v1/auth/login/",
                                {"username": DOCCANO_ADMIN[0], "password": DOCCANO_ADMIN[1]})["key"]
        except (PeerUnavailable, AssertionError):
            server.stop()
            if attempt == 2:
                raise
            continue
        server.headers = {"Authorization": f"Token {token}"}
        return server
    raise AssertionError("unreachable")


def doccano_upload(server: Server, project_id: int, name: str, content: bytes,
                   task_name: str = "SequenceLabeling") -> list[Any]:
    """Upload a JSONL file through doccano's own import (filepond, then its task queue); returns
    the import's errors. ``task_name``: "SequenceLabeling", or "RelationExtraction" for the
    JSONL(Relation) shape."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="filepond"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + (
            f"\r\n--{boundary}--\r\n").encode()
    upload_id = server.call("POST", "/v1/fp/process/", raw=body,
                            content_type=f"multipart/form-data; boundary={boundary}")
    upload_id = upload_id.decode() if isinstance(upload_id, bytes) else str(upload_id)
    task = server.call("POST", f"/v1/projects/{project_id}/upload", {
        "uploadIds": [upload_id], "format": "JSONL", "task": task_name,
        "column_data": "text", "column_label": "label", "encoding": "utf_8",
    })
    status = doccano_wait(server, task["task_id"])
    return status["result"]["error"]


def doccano_wait(server: Server, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.call("GET", f"/v1/tasks/status/{task_id}")
        if status.get("ready"):
            assert status.get("error") is None, status
            return status
        time.sleep(0.3)
    raise AssertionError(f"doccano task {task_id} not done within {timeout} s: {server.tail()}")


def doccano_export(server: Server, project_id: int) -> dict[str, bytes]:
    """doccano's JSONL export (a zip of one file per user): file name -> content."""
    import io
    import zipfile

    task = server.call("POST", f"/v1/projects/{project_id}/download",
                       {"format": "JSONL", "exportApproved": False})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = server.call("GET", f"/v1/projects/{project_id}/download?taskId={task['task_id']}")
        if isinstance(answer, bytes):
            with zipfile.ZipFile(io.BytesIO(answer)) as archive:
                return {n: archive.read(n) for n in archive.namelist()}
        time.sleep(0.3)
    raise AssertionError(f"doccano export not ready within 120 s: {server.tail()}")


def doccano_all(server: Server, path: str) -> list[Any]:
    """Every item of a paginated doccano list."""
    items: list[Any] = []
    offset = 0
    while True:
        sep = "&" if "?" in path else "?"
        page = server.call("GET", f"{path}{sep}limit=100&offset={offset}")
        if isinstance(page, list):
            return page
        items += page["results"]
        if not page.get("next"):
            return items
        offset += 100


# ------------------------------------------------------------------------------ label-studio-ml
def start_ml_backend(model_file: Path, model_class: str, work_dir: Path) -> Server:
    """label-studio-ml's own server app (``label_studio_ml.api.init_app``) serving
    ``model_class`` from ``model_file``, on 127.0.0.1."""
    venv = peer_env("label-studio-ml")
    port = free_port()
    script = work_dir / "_wsgi_tui_reader.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(model_file.parent)!r})\n"
        "from label_studio_ml.api import init_app\n"
        f"from {model_file.stem} import {model_class}\n"
        f"app = init_app(model_class={model_class}, model_dir={str(work_dir)!r})\n"
        f"app.run(host='127.0.0.1', port={port}, threaded=True)\n"
    )
    server = Server("label-studio-ml", f"http://127.0.0.1:{port}", work_dir / "ml-backend.log")
    server.spawn([str(venv / "bin" / "python"), str(script)], env={}, cwd=work_dir)
    try:
        server.wait_until_up("/health", timeout=60)
    except PeerUnavailable:
        server.stop()
        raise
    return server


class HungServer:
    """A model server that accepts connections and never answers, until ``release`` closes them."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self.listener.accept()[0]
            except OSError:
                continue
            with self._lock:
                self.held.append(conn)

    def release(self) -> None:
        """Close every held connection (the clients see them reset) and go on accepting."""
        with self._lock:
            held, self.held = self.held, []
        for conn in held:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.release()
        self.listener.close()


@contextlib.contextmanager
def hung_http_server() -> Iterator[HungServer]:
    """A server that accepts connections and never answers (a hung model server)."""
    server = HungServer()
    try:
        yield server
    finally:
        server.stop()
