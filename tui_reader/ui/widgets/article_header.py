"""Above the text: the article's title, and where it stands (its place in the list, your status,
its length, its file)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ...core.model import Document
from ...core.text import display_safe

NO_ARTICLES = "No articles in this project: import some with `tui-reader import PATH`."


@dataclass(frozen=True)
class Heading:
    title: str
    position: int  # 1-based, in the list shown (0: not in it)
    total: int
    status: str
    characters: int
    file_name: str

    @classmethod
    def of(cls, doc: Document, position: int, total: int, status: str) -> Heading:
        # The file name, not its full path: the path is long and says where the corpus was
        # imported from, which the annotator does not need.
        file_name = doc.info.source.replace("\\", "/").rsplit("/", 1)[-1] or doc.id
        return cls(doc.info.title, position, total, status, len(doc.text), file_name)


class ArticleHeader(Static):
    heading: reactive[Heading | str] = reactive("")  # a str: a message instead (no articles)

    def watch_heading(self, heading: Heading | str) -> None:
        if isinstance(heading, str):
            self.update(Text(heading, style="bold"), layout=False)
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(display_safe(heading.title), style="bold")
        text.append(f"\n{heading.position}/{heading.total} · {heading.status} · "
                    f"{heading.characters:,} characters · {display_safe(heading.file_name)}",
                    style="dim")
        # Two rows always (app.tcss): a new heading repaints them, without a re-layout.
        self.update(text, layout=False)
