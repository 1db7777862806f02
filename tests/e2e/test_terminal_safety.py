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
