"""The status line: VISUAL while selecting, the annotator, how selections snap, and the latest
notice (what was saved, NOT SAVED, a hint).

What it shows is reactive state: the app sets ``visual``, ``snap_words`` or ``notices`` and the
line repaints, one row, never a re-layout (its height is fixed in app.tcss), so a label key costs
one line of output. Every piece shown goes through ``display_safe`` here, the one place the line
is drawn: annotator names and notices quoting span text are data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ...core.text import display_safe


class Tone(Enum):
    """What kind of notice it is, which decides how it looks."""

    SAVED = auto()
    UNCHANGED = auto()
    HINT = auto()
    FINISHED = auto()
    WARNING = auto()  # something could not be done (nothing was lost)
    NOT_SAVED = auto()


# Rich styles: the same colours whatever the theme.
TONE_STYLES = {
    Tone.SAVED: "green",
    Tone.UNCHANGED: "dim",
    Tone.HINT: "yellow",
    Tone.FINISHED: "bold yellow",
    Tone.WARNING: "bold yellow",
    Tone.NOT_SAVED: "bold white on red",
}


@dataclass(frozen=True)
class Notice:
    text: str
    tone: Tone


def one_line(text: str) -> str:
    """``text`` made safe for a terminal, on one row (a span's text may hold line breaks)."""
    return display_safe(text).replace("\n", " ").replace("\t", " ")


class StatusLine(Widget):
    visual: reactive[bool] = reactive(False)
    annotator: reactive[str] = reactive("")
    snap_words: reactive[bool] = reactive(True)
    notices: reactive[tuple[Notice, ...]] = reactive(())

    def __init__(self, annotator: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusLine.annotator, annotator)

    def show(self, notice: Notice) -> None:
        """Replace what the line says."""
        self.notices = (notice,)

    def add(self, notice: Notice) -> None:
        """Say ``notice`` after what the line already says."""
        self.notices = (*self.notices, notice)

    def render(self) -> Text:
        line = Text()
        if self.visual:
            line.append(" VISUAL ", style="bold reverse")
            line.append(" ")
        line.append(f"{one_line(self.annotator)} ", style="bold")
        line.append("words " if self.snap_words else "characters ", style="dim")
        for notice in self.notices:
            line.append(one_line(notice.text), style=TONE_STYLES[notice.tone])
        return line
