"""serve-ssh's warm sessions and shared model trainer (issue 12): a real server process, real
asyncssh clients, real kill -9. Each session is forked by the zygote and re-parented to the
server; it holds nothing of the server's; its random generator is its own; one session's death
takes nothing else with it; a dead zygote is replaced without losing a login; one trainer serves
every session."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

asyncssh = pytest.importorskip("asyncssh")

from tests.e2e import test_ssh_hostile as hostile  # noqa: E402
from tests.e2e.test_ssh_hostile import (  # noqa: E402
    DOC,
    ON_SCREEN,
    Server,
    Session,
    app_pid,
    connect,
    label_saved,
    start,
)
from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import Project  # noqa: E402
from tui_reader.core.suggest import learned  # noqa: E402

ZYGOTE_MODULE = "tui_reader.serve.zygote"


# The server, key and project fixtures are the hostile tests' own.
project_root = hostile.project_root
keys = hostile.keys
servers = hostile.servers


# --------------------------------------------------------------------------------- /proc helpers
def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def fd_targets(pid: int) -> dict[int, str]:
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return found


def all_descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in os.listdir(f"/proc/{current}/task"):
            try:
                kids = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                found.append(kid)
                todo.append(kid)
    return found


def listening_socket_inode(port: int) -> str:
    """The inode of the TCP socket listening on 127.0.0.1:``port`` (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            return f"socket:[{inode}]"
    raise AssertionError(f"nothing listens on port {port}")


def zygote_pids(server: Server) -> list[int]:
    return [int(m.group(1)) for line in server.logged(r"session zygote ready \(pid \d+\)")
            if (m := re.search(r"session zygote ready \(pid (\d+)\)", line))]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def open_session(server: Server, key: Path) -> tuple[asyncssh.SSHClientConnection, Session]:
    conn = await connect(server.port, key)
    session = await Session.open(conn, cols=120, rows=40)
    await session.wait_for(ON_SCREEN)
    return conn, session


async def login_pid(server: Server, who: str, count: int = 1) -> int:
    return app_pid((await server.wait_logged(rf"login {who} ", count))[count - 1])


# ------------------------------------------------------------------------------------------ tests
async def test_a_forked_session_holds_nothing_of_the_servers(project_root, keys, servers):
    """Its fds: the pty (0-2), its log pipe (3) and what the app opened itself; not the host key,
    not the listening socket, not any socket of the server's or the zygote's."""
    server = start(servers, project_root, keys)
    await server.wait_logged(r"session zygote ready")
    conn, session = await open_session(server, keys["alice"])
    pid = await login_pid(server, "alice")
    assert ZYGOTE_MODULE in cmdline(pid)  # forked from the zygote, not a new Python
    assert parent(pid) == server.pid  # re-parented: the server waits for it and signals it
    (zygote,) = zygote_pids(server)
    listening = listening_socket_inode(server.port)
    server_fds = fd_targets(server.pid)
    assert listening in server_fds.values()  # the check below looks for the right thing
    held = {t for t in [*server_fds.values(), *fd_targets(zygote).values()] if t.startswith("socket:")}
    app_fds = fd_targets(pid)
    host_key = str(project_root.parent / "hostkey")
    assert host_key not in app_fds.values(), app_fds
    assert listening not in app_fds.values(), app_fds
    assert not held & set(app_fds.values()), (held & set(app_fds.values()), app_fds)
    assert all(app_fds[fd].startswith("/dev/pts/") for fd in (0, 1, 2)), app_fds
    assert app_fds[3].startswith("pipe:"), app_fds
    # Nothing of the zygote's control socket or the server's sockets: every other fd is one the
    # app made for itself (its event loop, its threads' pipes, its model connection).
    for fd, target in app_fds.items():
        if fd > 3:
            assert target.startswith(("anon_inode:", "pipe:", "socket:", "/dev/pts/")) or \
                str(project_root) in target, (fd, target)
    session.proc.stdin.write(b"1")
    assert await label_saved(project_root, "alice")
    conn.close()


SEEDS = '''
import os
if os.environ.get("RANDOM_LOG"):
    import random
    import textual.app

    _run = textual.app.App.run

    def run(self, *args, **kwargs):
        with open(os.environ["RANDOM_LOG"], "a") as log:
            log.write(f"{os.getpid()} {random.getrandbits(64)}\\n")
        return _run(self, *args, **kwargs)

    textual.app.App.run = run
'''


async def test_two_forked_sessions_draw_different_random_numbers(project_root, keys, servers, tmp_path):
    """A forked copy of the zygote starts with the zygote's random state unless it is re-seeded."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(SEEDS)
    draws = tmp_path / "draws"
    server = start(servers, project_root, keys, env={
        "RANDOM_LOG": str(draws), "PYTHONPATH": os.pathsep.join([str(inject), *sys.path[1:]])})
    await server.wait_logged(r"session zygote ready")
    opened = [await open_session(server, keys[who]) for who in ("alice", "bob", "alice")]
    pids = [await login_pid(server, "alice"), await login_pid(server, "bob"),
            await login_pid(server, "alice", 2)]
    rows = [line.split() for line in draws.read_text().splitlines()]
    by_pid = {int(pid): value for pid, value in rows}
    assert sorted(by_pid) == sorted(pids), (rows, pids)
    assert all(ZYGOTE_MODULE in cmdline(pid) for pid in pids)
    assert len(set(by_pid.values())) == 3, rows
    for conn, _ in opened:
        conn.close()


async def test_kill_9_of_one_session_leaves_the_others_and_the_zygote_serving(project_root, keys,
                                                                             servers):
    server = start(servers, project_root, keys)
    await server.wait_logged(r"session zygote ready")
    alice_conn, alice = await open_session(server, keys["alice"])
    bob_conn, bob = await open_session(server, keys["bob"])
    alice_pid, bob_pid = await login_pid(server, "alice"), await login_pid(server, "bob")
    alice.proc.stdin.write(b"1")  # labelled and saved: the kill must not lose it
    assert await label_saved(project_root, "alice")
    os.kill(alice_pid, signal.SIGKILL)
    assert await alice.closed() not in (None, 0)
    assert b"the app stopped (app killed by signal 9); your labels are saved" in alice.output
    await server.wait_logged(r"logout alice .*app killed by signal 9")
    assert [(s.start, s.label) for s in Project.open(project_root).spans(DOC, "alice")] == [(0, "claim")]
    # bob's session goes on, and labels.
    assert alive(bob_pid)
    bob.proc.stdin.write(b"2")
    assert await label_saved(project_root, "bob")
    # The zygote is the one it was, and forks the next login.
    (zygote,) = zygote_pids(server)
    assert alive(zygote)
    again_conn, _ = await open_session(server, keys["alice"])
    again = await login_pid(server, "alice", 2)
    assert ZYGOTE_MODULE in cmdline(again) and parent(again) == server.pid
    assert zygote_pids(server) == [zygote] and not server.logged("session zygote ended")
    for conn in (alice_conn, bob_conn, again_conn):
        conn.close()


async def test_a_dead_zygote_is_started_again_and_no_login_is_lost(project_root, keys, servers):
    server = start(servers, project_root, keys, "--max-per-key", "5")
    await server.wait_logged(r"session zygote ready")
    bob_conn, bob = await open_session(server, keys["bob"])
    (zygote,) = zygote_pids(server)
    os.kill(zygote, signal.SIGKILL)
    # Logins at once, while the server is finding out: each gets its app, forked or spawned.
    opened = await asyncio.gather(*(open_session(server, keys["alice"]) for _ in range(3)))
    await server.wait_logged(r"session zygote ended \(killed by signal 9\); starting it again")
    await server.wait_logged(r"session zygote ready", 2)
    new = zygote_pids(server)[-1]
    assert new != zygote and alive(new)
    # The session that was open when the zygote died goes on.
    bob.proc.stdin.write(b"1")
    assert await label_saved(project_root, "bob")
    # The next login is forked again, by the new zygote.
    late_conn, _ = await open_session(server, keys["alice"])
    late = await login_pid(server, "alice", 4)
    assert ZYGOTE_MODULE in cmdline(late) and parent(late) == server.pid
    assert len(server.logged(r"login alice ")) == 4
    for conn, _ in [*opened, (late_conn, None), (bob_conn, None)]:
        conn.close()


async def test_without_a_zygote_every_login_is_spawned(project_root, keys, monkeypatch):
    """A zygote that cannot even start: logins are served the old way, and it is logged."""
    from tests.e2e.test_ssh import Client, start_door
    from tui_reader.serve import helpers

    monkeypatch.setattr(helpers.Zygote, "_spawn_args", lambda self: (
        [sys.executable, "-c", "import sys; sys.exit(3)"], ()))
    door = await start_door(project_root, keys)
    try:
        client = await Client.open(door.port, keys["alice"])
        await client.wait_for(ON_SCREEN)
        client.proc.stdin.write(b"1")
        assert await label_saved(project_root, "alice")
        (info,) = door.door.sessions.values()
        assert "tui_reader.serve.app_entry" in cmdline(info.pid)
        assert (door.door.apps_started, door.door.apps_forked) == (1, 0)
        assert door.logged(r"^session zygote could not start: it ended while starting")
        assert door.logged(r"^alice: the session zygote is not running; starting the app as a new "
                           r"process$")
        client.proc.stdin.write(b"q")
        assert await client.wait_closed() == 0
    finally:
        await door.door.close()


SETUP_FAILS = '''
import os
if os.environ.get("FAIL_SESSION_SETUP"):
    import random

    def seed(*args):
        secret_local = "SECRET-SETUP-VALUE"
        raise OSError("injected setup failure " + str(len(secret_local)))

    random.seed = seed  # called by the session's setup once it has its terminal
'''


async def test_a_session_that_cannot_be_set_up_shows_one_line_and_logs_why(project_root, keys,
                                                                          servers, tmp_path):
    """A failure between the fork and the app (here: re-seeding, once the pty is fds 0-2) is
    logged, never shown."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(SETUP_FAILS)
    server = start(servers, project_root, keys, env={
        "FAIL_SESSION_SETUP": "1", "PYTHONPATH": os.pathsep.join([str(inject), *sys.path[1:]])})
    await server.wait_logged(r"session zygote ready")
    conn = await connect(server.port, keys["alice"])
    session = await Session.open(conn)
    assert await session.closed() == 1
    assert b"Traceback" not in session.output and b"injected" not in session.output
    assert b"tui-reader: the app stopped (app exited 1); your labels are saved" in session.output
    await server.wait_logged(r"alice session 1: app: OSError: injected setup failure 18")
    assert server.logged(r"alice session 1: app: Traceback \(most recent call last\)")
    assert "SECRET-SETUP-VALUE" not in server.log()
    conn.close()


async def test_a_login_sees_the_project_as_it_is_now(project_root, keys, servers):
    """The zygote opened the project at start-up; a later login still gets today's config.toml
    and today's article list, as a new process would."""
    server = start(servers, project_root, keys)
    await server.wait_logged(r"session zygote ready")
    conn, first = await open_session(server, keys["alice"])
    assert b"1/1 \xc2\xb7 new" in first.output  # "1/1 · new": one article
    conn.close()
    config = project_root / "config.toml"
    config.write_text(config.read_text().replace(
        'description = "A statement of fact that could be checked"', 'description = "Zebra fact"'))
    corpus = project_root.parent / "more"
    corpus.mkdir()
    (corpus / "b-second.txt").write_text("A second article\n\nIt arrived later.\n", encoding="utf-8")
    import_paths(Project.open(project_root), [corpus], "importer")
    conn, second = await open_session(server, keys["alice"])
    assert b"Zebra fact" in second.output
    assert b"1/2 \xc2\xb7 new" in second.output
    assert await login_pid(server, "alice", 2) and zygote_pids(server)[-1:] == zygote_pids(server)
    conn.close()


# ------------------------------------------------------------------------------ the shared trainer
SENTENCES = [f"Sentence {n} says that the council met about the river budget on day {n}."
             for n in range(60)]
TRAINING_DOC = "b-training.txt"


@pytest.fixture
def trained_root(project_root: Path) -> Path:
    """The project with a second article where alice and bob each labelled 24 sentences (the
    model threshold lowered to 20), so that the learned model trains when they log in."""
    if not learned.available():
        pytest.skip("scikit-learn is not installed (the suggest extra)")
    corpus = project_root.parent / "corpus2"
    corpus.mkdir()
    text = "Training article\n\n" + " ".join(SENTENCES) + "\n"
    (corpus / TRAINING_DOC).write_text(text, encoding="utf-8")
    project = Project.open(project_root)
    import_paths(project, [corpus], "importer")
    config = project_root / "config.toml"
    # overlap 2: both annotators open the same first article (under 1, its lease sends the
    # second one on to the training article)
    config.write_text(config.read_text().replace("model_threshold = 50", "model_threshold = 20")
                      .replace("overlap = 1", "overlap = 2"))
    spans = []
    for who in ("alice", "bob"):
        for n, sentence in enumerate(SENTENCES[0:48:2]):
            start = text.index(sentence)
            spans.append(project.new_span(TRAINING_DOC, start, start + len(sentence),
                                          ("claim", "quote")[n % 2], who, text=text))
    project.replace_spans(TRAINING_DOC, (), spans)
    return project_root


TRAINED = b"Learned suggestions are on"


def model_processes(server: Server) -> list[int]:
    return [pid for pid in all_descendants(server.pid) if "model_process" in cmdline(pid)]


async def test_one_trainer_serves_every_session_and_outlives_one(trained_root, keys, servers):
    server = start(servers, trained_root, keys)
    alice_conn, alice = await open_session(server, keys["alice"])
    bob_conn, bob = await open_session(server, keys["bob"])
    await asyncio.gather(alice.wait_for(TRAINED, timeout=60), bob.wait_for(TRAINED, timeout=60))
    alice_pid, bob_pid = await login_pid(server, "alice"), await login_pid(server, "bob")
    (trainer,) = model_processes(server)
    assert "--shared" in cmdline(trainer) and parent(trainer) == server.pid
    for pid in (alice_pid, bob_pid):  # no model process and no scikit-learn in a session
        assert not all_descendants(pid)
        assert "sklearn" not in Path(f"/proc/{pid}/maps").read_text()
    os.kill(alice_pid, signal.SIGKILL)
    await alice.closed()
    await server.wait_logged(r"logout alice .*app killed by signal 9")
    # The trainer is still the same process, and still trains: bob's next session gets a model.
    assert alive(trainer)
    again_conn, again = await open_session(server, keys["bob"])
    await again.wait_for(TRAINED, timeout=60)
    assert model_processes(server) == [trainer]
    assert not server.logged("model trainer ended")
    for conn in (alice_conn, bob_conn, again_conn):
        conn.close()


async def test_a_trainer_started_again_serves_the_sessions_it_finds(trained_root, keys, servers):
    """The trainer dies: the server starts another on the same socket; a session asking again
    (a new login here) is served by it."""
    server = start(servers, trained_root, keys)
    conn, session = await open_session(server, keys["alice"])
    await session.wait_for(TRAINED, timeout=60)
    (trainer,) = model_processes(server)
    os.kill(trainer, signal.SIGKILL)
    await server.wait_logged(r"model trainer ended \(killed by signal 9\); starting it again")
    await server.wait_logged(r"model trainer ready", 2)
    again_conn, again = await open_session(server, keys["alice"])
    await again.wait_for(TRAINED, timeout=60)
    (new,) = model_processes(server)
    assert new != trainer
    conn.close()
    again_conn.close()


def test_the_trainer_socket_is_private_and_the_trainer_yields_the_cpu(project_root, keys, servers):
    """Sessions reach the trainer through a Unix socket in a folder only the server's user can
    enter; the trainer runs at a lower priority than the sessions (nice 10 above the server)."""
    server = start(servers, project_root, keys)
    deadline = time.monotonic() + 20
    while not (found := model_processes(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    (trainer,) = found
    inodes = {t[len("socket:["):-1] for t in fd_targets(trainer).values() if t.startswith("socket:")}
    paths = [fields[7] for line in Path("/proc/net/unix").read_text().splitlines()[1:]
             if len(fields := line.split()) >= 8 and fields[6] in inodes]
    assert len(paths) == 1 and paths[0].endswith("model.sock"), paths

    def niceness(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    wanted = min(19, niceness(server.pid) + 10)
    deadline = time.monotonic() + 20  # set as the trainer starts, after its first imports
    while niceness(trainer) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert niceness(trainer) == wanted
    folder = Path(paths[0]).parent
    assert folder.stat().st_uid == os.getuid()
    assert folder.stat().st_mode & 0o077 == 0, oct(folder.stat().st_mode)
    log = server.stop()
    assert not folder.exists(), log  # removed when the server stops


async def test_a_session_that_exits_before_the_server_looks_still_has_its_status():
    """A forked session that is already gone (a zombie) when the server takes it in: its exit
    status is the one it exited with, not lost."""
    from tui_reader.serve.helpers import AdoptedProcess, become_subreaper, stop_being_subreaper

    assert become_subreaper()
    try:
        report_read, report_write = os.pipe()
        go_between = os.fork()
        if go_between == 0:  # as the zygote does: a go-between forks the session and leaves
            pid = os.fork()
            if pid == 0:
                os._exit(7)
            os.write(report_write, str(pid).encode())
            os._exit(0)
        os.close(report_write)
        os.waitpid(go_between, 0)
        pid = int(os.read(report_read, 32))
        os.close(report_read)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        assert parent(pid) == os.getpid()  # re-parented to this process, the subreaper
        process = AdoptedProcess(pid)
        assert await asyncio.wait_for(process.wait(), 5) == 7
        assert not Path(f"/proc/{pid}").exists()  # reaped
    finally:
        stop_being_subreaper()
