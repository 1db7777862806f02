"""The README's "Remote annotators" section states the same bounds as the code."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("asyncssh")
pytest.importorskip("textual_serve")

from tui_reader.serve import common  # noqa: E402
from tui_reader.serve.web import WS_MESSAGE_LIMIT  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"


def remote_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Remote annotators")
    return text[start:text.index("\n## ", start + 1)]


def test_every_bound_in_the_code_is_the_one_the_readme_states():
    section = remote_section()
    stated = [
        f"{common.MAX_COLUMNS}x{common.MAX_ROWS} at most (columns x rows)",
        f"at most {common.MAX_CHANNELS_PER_CONNECTION} open at once",
        f"closed after {common.NO_SESSION_TIMEOUT:g} s, or after `--idle-timeout`",
        f"| {common.INPUT_WINDOW // 1024} KiB (the SSH channel's window)",
        f"| {common.PASTE_LIMIT // 1024} KiB ({common.PASTE_LIMIT} bytes)",
        f"ended after {common.PASTE_TIMEOUT:g} s without input",
        f"| annotator names | {common.MAX_NAME_LENGTH} characters |",
        f"| {common.APP_LOG_LIMIT // 1024} KiB per session |",
        f"looked at every {common.KEYS_RELOAD_INTERVAL:g} seconds",
        f"a websocket message may be at most\n{WS_MESSAGE_LIMIT // 1024} KiB",
        f"paste at most {common.PASTE_LIMIT // 1024} KiB",
        f"clamped to\n{common.MAX_COLUMNS}x{common.MAX_ROWS}",
    ]
    from tui_reader.serve.input import CSI_LIMIT

    stated.append(f"(at most {CSI_LIMIT} characters, numbers up to U+10FFFF)")
    missing = [phrase for phrase in stated if phrase not in section]
    assert not missing, missing
    assert sorted(common.RESERVED_NAMES) == ["control", "gold", "majority", "union"]
    assert "so are `control`, `gold`, `majority` and `union`\n  (in any case)" in section
