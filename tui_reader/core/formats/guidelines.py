"""The annotation guidelines in a folder export: copied beside the data, named in the card.

Every folder export of a project with guidelines (``Project.guidelines``) holds them as
``guidelines.md``. The dataset card (``card.py``, and ``hf``'s ``hub_card``) names them and
includes them in full when they are at most INLINE_LIMIT characters, their headings moved two
levels down so that they sit under the card's own sections; longer ones are linked, not copied
into the card (a card the Hub shows should stay readable).
"""

from __future__ import annotations

import re

from ..store import Project

FILE_NAME = "guidelines.md"
INLINE_LIMIT = 20_000  # characters of guidelines included in the card; longer ones are linked
_HEADING = re.compile(r"^(#{1,6})(?=\s|$)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def demoted(markdown: str, levels: int = 2) -> str:
    """``markdown`` with its ATX headings ``levels`` deeper (at most ``######``), code blocks
    left as they are."""
    out = []
    fenced = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + levels), line)
        out.append(line)
    return "\n".join(out)


def guidelines_section(project: Project, guidelines: str | None, heading: str = "## Guidelines",
                       ) -> list[str]:
    """The card's lines about the guidelines (a heading, then the text or a link)."""
    setting = project.config.guidelines
    if guidelines is None:
        return [heading + "\n", f"The project had no guidelines file (`{setting}`): the label "
                "descriptions above are what the annotators were told.\n"]
    lines = [heading + "\n"]
    intro = (f"The annotators worked from the project's guidelines (`{setting}`), copied into "
             f"this folder as [`{FILE_NAME}`]({FILE_NAME}).")
    if len(guidelines) <= INLINE_LIMIT:
        lines.append(intro + " They follow in full.\n")
        lines.append(demoted(guidelines.strip()) + "\n")
    else:
        lines.append(intro + f" They are {len(guidelines):,} characters long, so they are linked "
                     "rather than repeated here.\n")
    return lines
