"""A label key can never shadow a key of the app, and the stats screen draws."""

import io

from rich.console import Console
from textual.widgets import Static

from tests.helpers import make_project
from tui_reader.core.config import RESERVED_KEYS
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.keymap import APP_KEYS, PANE_KEYS

NAMES = {"right_parenthesis": ")", "left_parenthesis": "(", "right_curly_bracket": "}",
         "left_curly_bracket": "{", "dollar_sign": "$", "slash": "/", "question_mark": "?",
         "left_square_bracket": "[", "right_square_bracket": "]", "greater_than_sign": ">",
         "less_than_sign": "<", "asterisk": "*"}


def test_every_plain_app_key_is_reserved_from_labels():
    for key in APP_KEYS + PANE_KEYS:
        for name in key.keys.split(","):
            if "+" in name or name in ("left", "right", "up", "down", "home", "end", "pageup",
                                        "pagedown"):
                continue
            assert NAMES.get(name, name) in RESERVED_KEYS, name


async def test_stats_screen_shows_bars_and_agreement(tmp_path):
    project = make_project(tmp_path, {"a": "One claim here. Another.", "b": "Text two."})
    project.add_span("a", 0, 15, "claim", "ana")
    project.add_span("a", 0, 15, "claim", "bo")
    project.set_status("a", "ana", "done")
    app = AnnotatorApp(Project.open(project.root), "ana", suggest=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        await pilot.pause(0.5)
        console = Console(width=110, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#stats", Static).content)
        text = console.export_text()
        assert "Spans by label" in text and "█" in text and "ana / bo" in text
        await pilot.press("escape")
        assert app.screen.id != "stats"
