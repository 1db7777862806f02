"""serve-web in a real headless browser (Debian's chromium driven by selenium + chromedriver).

The page draws the terminal on a canvas (xterm.js with its WebGL/canvas renderer), so its DOM holds
no text: what the page shows is read from the websocket frames the browser received (Chrome's
performance log), and a key is typed into xterm.js's own input element.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install -e '.[test]')")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import Project  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver are not installed (apt-get install chromium chromium-driver); "
           ".ci/run installs them",
)

TITLE = "Zebra council approves the river budget"
TEXTS = {
    "a-zebra.txt": f"{TITLE}\n\nThe council met on Monday. It voted 7 to 2.\n",
    "b-quokka.txt": "Quokka numbers rise on the island\n\nRangers counted them twice.\n",
}
FIRST_DOC = "a-zebra.txt"


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TEXTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    project = Project.open(tmp_path / "db", create=True)
    import_paths(project, [corpus], "importer")
    return project.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebServer:
    """``python -m tui_reader serve-web`` on a free loopback port."""

    def __init__(self, root: Path, *options: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_reader", "serve-web", "--db", str(root),
             "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            self.log += line
            if not line or " serving " in line:
                break
        assert " serving " in self.log, self.log

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.log += err
        return self.log


class Browser:
    def __init__(self, profile: Path) -> None:
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,800", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.received = bytearray()

    def set_header(self, name: str, value: str) -> None:
        """Stand in for an authenticating proxy: every request (page and websocket) carries it."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {name: value}})

    def _collect(self) -> None:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.webSocketFrameReceived":
                frame = message["params"]["response"]
                data = frame["payloadData"]
                self.received += base64.b64decode(data) if frame["opcode"] == 2 else data.encode()

    def wait_for_screen_text(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.received:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never reached the page; got {bytes(self.received[-500:])!r}")
            time.sleep(0.1)
            self._collect()

    def type(self, keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        # xterm.js reads keys from its hidden textarea; focus it as a click would (without the click,
        # which would also reach the app as a mouse event).
        self.driver.execute_script("document.querySelector('.xterm-helper-textarea').focus()")
        ActionChains(self.driver).send_keys(keys).perform()

    def quit(self) -> None:
        self.driver.quit()


def wait_for_span(root: Path, annotator: str, timeout: float = 15.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        spans = [(s.start, s.end, s.label, s.annotator)
                 for s in Project.open(root).spans(FIRST_DOC) if s.annotator == annotator]
        if spans or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


@needs_browser
def test_the_page_shows_the_articles_and_a_key_labels_as_the_served_annotator(project_root, tmp_path):
    server = WebServer(project_root, "--annotator", "webby")
    browser = Browser(tmp_path / "profile")
    try:
        browser.driver.get(server.url)
        assert browser.driver.find_element("css selector", "#terminal")
        browser.wait_for_screen_text(TITLE[:14])  # the article list, then the open article
        browser.wait_for_screen_text(f"{len(TEXTS[FIRST_DOC])} characters")
        browser.type("1")
        assert wait_for_span(project_root, "webby") == [(0, len(TITLE), "claim", "webby")]
    finally:
        browser.quit()
        log = server.stop()
    assert re.search(r"serve-web: login webby from 127\.0\.0\.1", log), log


@needs_browser
def test_behind_a_proxy_each_connection_labels_as_the_header_says(project_root, tmp_path):
    # Both on the first article: two annotators wanted there (with overlap = 1, dave would be
    # sent to the other article while carol's lease on the first lives).
    config = project_root / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("overlap = 1", "overlap = 2"),
                      encoding="utf-8")
    server = WebServer(project_root, "--annotator-header", "X-Remote-User")
    browser = Browser(tmp_path / "profile")
    try:
        # No header (no proxy in front): the page is refused, and says why.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url, timeout=10)
        assert refused.value.code == 403
        assert b"no X-Remote-User header" in refused.value.read()
        # Two people, one after the other, through the same server.
        for name in ("carol", "dave"):
            browser.set_header("X-Remote-User", name)
            browser.received.clear()
            browser.driver.get(server.url)
            browser.wait_for_screen_text(f"{len(TEXTS[FIRST_DOC])} characters")
            browser.wait_for_screen_text(name)  # the footer names the annotator
            browser.type("1")
            assert wait_for_span(project_root, name) == [(0, len(TITLE), "claim", name)]
    finally:
        browser.quit()
        log = server.stop()
    assert re.search(r"refused page from 127\.0\.0\.1: no X-Remote-User header", log), log
    assert re.search(r"login carol from", log) and re.search(r"login dave from", log), log


def test_serve_web_warns_loudly_when_not_on_loopback_and_fails_in_one_line(project_root):
    with socket.socket() as taken:  # a port in use: nothing is ever served on 0.0.0.0 here
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "tui_reader", "serve-web", "--db", str(project_root), "--host",
             "0.0.0.0", "--port", str(port), "--annotator", "webby"],
            capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "WARNING: serve-web is listening on 0.0.0.0" in run.stderr
    assert "no login of its own" in run.stderr
    assert run.stderr.endswith(f"tui-reader: cannot listen on 0.0.0.0:{port}: address already in use\n")
