"""The status line widget on its own: what it shows for each state, data shown as data on one
row, and state changes that repaint the line without laying out the screen again."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from tui_reader.ui.saving import not_saved
from tui_reader.ui.widgets.status_line import Notice, StatusLine, Tone


class LineApp(App[None]):
    CSS = "StatusLine { height: 1; } #above { height: 1fr; }"

    def __init__(self, annotator: str) -> None:
        super().__init__()
        self.annotator = annotator

    def compose(self) -> ComposeResult:
        yield Static("text", id="above")
        yield StatusLine(self.annotator, id="status")


def bottom_row(app: App[None]) -> str:
    """The last row as the terminal shows it."""
    return app.screen._compositor.render_strips()[-1].text


async def test_each_state_shows() -> None:
    app = LineApp("alice")
    async with app.run_test(size=(100, 5)) as pilot:
        line = app.query_one(StatusLine)
        assert bottom_row(app).rstrip() == "alice words"
        line.visual = True
        line.snap_words = False
        line.show(Notice("✓ saved: add claim: First.", Tone.SAVED))
        await pilot.pause()
        assert bottom_row(app).rstrip() == " VISUAL  alice characters ✓ saved: add claim: First."
        line.visual = False
        line.show(not_saved("No space left on device", "retrying every 2 s"))
        line.add(Notice("  and more", Tone.FINISHED))
        await pilot.pause()
        assert bottom_row(app).rstrip() == (
            "alice characters  NOT SAVED: No space left on device — retrying every 2 s   and more")
        styles = {segment.text: segment.style for segment in line.render().render(app.console)}
        red = styles[" NOT SAVED: No space left on device — retrying every 2 s "]
        assert red is not None and red.bold and red.bgcolor is not None and red.bgcolor.name == "red"


async def test_names_and_quoted_text_are_data_on_one_row() -> None:
    name = "\x1b[2J[bold]eve[/bold]\x07"
    app = LineApp(name)
    async with app.run_test(size=(100, 5)) as pilot:
        line = app.query_one(StatusLine)
        line.show(Notice("✓ saved: add quote: \x1b]0;pwned\x07Line one\nline two\tend", Tone.SAVED))
        await pilot.pause()
        row = bottom_row(app)
        assert row.startswith("␛[2J[bold]eve[/bold]␇ words "
                              "✓ saved: add quote: ␛]0;pwned␇Line one line two end")
        assert "\x1b" not in row and "\x07" not in row
        plain = str(line.render())
        assert "\n" not in plain and "\t" not in plain


async def test_a_new_state_repaints_the_line_without_a_layout() -> None:
    app = LineApp("alice")
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        line = app.query_one(StatusLine)
        line.visual = True
        line.snap_words = False
        line.show(not_saved("No space left on device"))
        # A repaint of this one widget is pending; nothing asks for the screen to be laid out.
        assert line._repaint_required
        assert not line._layout_required and not app.screen._layout_required
