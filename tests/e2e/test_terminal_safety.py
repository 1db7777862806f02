"""Article-borne escape sequences never reach the terminal: read the bytes of a real pty."""

from __future__ import annotations

import re

from tests.ptyrun import PtyApp, tui_reader_args

HOSTILE = (
    "Headline with markup [bold red]x[/] and [link=http://evil.example]y[/link] "
    "and [@click=app.quit]quit[/].\n\n"
    "Clear screen \x1b[2J here. Title \x1b]0;PWNED-TITLE\x07 set. "
    "Hyperlink \x1b]8;;http://evil.example/osc8\x07click\x1b]8;;\x07 done. "
    "Clipboard \x1b]52;c;cm0gLXJmIH4=\x07 write. C1 CSI \x9b31m red. "
    "Bidi \u202eevil\u202c text. Bell \x07 and backspace \x08 and DEL \x7f end.\n"
)


def _foreign_osc(out: bytes) -> list[bytes]:
    return [m.group() for m in re.finditer(rb"\x1b\][^\x07\x1b]{0,40}", out)
            if not m.group().startswith(b"\x1b]22;")]


def test_no_escape_sequence_from_an_article_reaches_the_terminal(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    app = PtyApp(tui_reader_args("annotate", str(corpus), "--annotator", "alice"), cols=120, rows=40)
    try:
        app.read_until_quiet(quiet=1.0)
        app.send(b"j")  # move the caret: the article's rows are drawn again
        app.read_until_quiet(quiet=0.5)
        app.send(b"q")
    finally:
        code = app.close()
    out = bytes(app.output)
    assert code == 0, out[-2000:]
    # The article's own sequences, byte for byte, never appear.
    for payload in (b"\x1b]0;PWNED", b"\x1b]8;;http://evil", b"\x1b]52;", b"\xc2\x9b31m",
                    "\u202e".encode(), b"\x1b[2J here", b"\x07 and backspace", b"\x08"):
        assert payload not in out, payload
    # No OSC but Textual's own pointer-shape one (OSC 22), and no C1 control characters.
    assert _foreign_osc(out) == []
    assert not re.search(rb"\xc2[\x80-\x9f]", out)
    # The markup shows literally and the escapes show as visible stand-ins.
    assert b"[bold red]x[/]" in out
    assert b"[@click=app.quit]quit[/]" in out
    assert "␛[2J".encode() in out and "␛]0;PWNED-TITLE␇".encode() in out


def test_titles_and_file_names_are_made_safe_too(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil\x1b]0;NAME\x07.txt").write_text("\x1b]0;TITLE\x07 Line one is a headline here\n\nBody.\n")
    app = PtyApp(tui_reader_args("annotate", str(corpus), "--annotator", "alice"), cols=120, rows=40)
    try:
        app.read_until_quiet(quiet=1.0)
        app.send(b"q")
    finally:
        app.close()
    out = bytes(app.output)
    assert _foreign_osc(out) == []
    assert "␛]0;TITLE␇".encode() in out


# Zero-width and other invisible characters: terminals draw them 0 or 1 cells wide and Rich joins
# "C\u200dD" into one cell, so a raw one shifts the pane's right border. Each is shown as ␣.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\U000e0067\u3164"
ZERO_WIDTH_TEXT = (
    "Invisible characters in a headline\n\n"
    "A\u200bB zwsp. C\u200dD zwj. E\u2060F wj. G\u200cH zwnj. Family 👨\u200d👩\u200d👧 here.\n"
    "Tag\U000e0067\U000e0062 and filler\u3164 end. Plain line for comparison.\n"
)


def test_invisible_characters_reach_the_terminal_as_visible_stand_ins(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zw.txt").write_text(ZERO_WIDTH_TEXT, encoding="utf-8")
    app = PtyApp(tui_reader_args("annotate", str(corpus), "--annotator", "alice"), cols=120, rows=30)
    try:
        app.read_until_quiet(quiet=1.0)
        app.send(b"q")
    finally:
        code = app.close()
    out = bytes(app.output).decode("utf-8", "replace")
    assert code == 0, out[-2000:]
    assert not [hex(ord(c)) for c in INVISIBLE if c in out]
    assert "A␣B zwsp. C␣D zwj. E␣F wj. G␣H zwnj. Family 👨␣👩␣👧" in out


def test_invisible_characters_leave_the_pane_border_in_place_in_tmux(tmp_path):
    """tmux draws what the app sent; every row's right border of the article pane is at one column."""
    import shutil
    import subprocess
    import sys
    import time

    from rich.cells import get_character_cell_size

    if not shutil.which("tmux"):
        import pytest

        pytest.skip("tmux is not installed (apt-get install tmux)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zw.txt").write_text(ZERO_WIDTH_TEXT, encoding="utf-8")
    name = f"zw{tmp_path.name[-12:]}".replace(".", "")
    socket = str(tmp_path / "tmux.sock")
    command = f"{sys.executable} -m tui_reader annotate {corpus} --annotator alice"
    subprocess.run(["tmux", "-S", socket, "new-session", "-d", "-s", name, "-x", "120", "-y", "30",
                    command], check=True, env={"TERM": "xterm-256color", "PATH": "/usr/bin:/bin",
                                               "HOME": str(tmp_path)})
    try:
        deadline = time.monotonic() + 20
        screen = ""
        while "Plain line for comparison" not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = subprocess.run(["tmux", "-S", socket, "capture-pane", "-p", "-t", name],
                                    capture_output=True, text=True).stdout
        assert "Plain line for comparison" in screen, screen
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
    # The article pane is the second column of boxes: the column of its right border as tmux drew
    # it, counted as tmux counts (code point by code point: wide 2, zero-width 0, others 1).
    borders = set()
    for row in screen.splitlines()[1:20]:
        cuts = [i for i, c in enumerate(row) if c == "│"]
        if len(cuts) >= 2:
            borders.add(sum(get_character_cell_size(c) for c in row[:cuts[1]]))
    assert len(borders) == 1, (borders, screen)
