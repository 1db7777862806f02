"""Word-wrap a canonical text into screen rows, keeping offsets exact (no Textual import).

A row is a ``(start, end)`` range of code-point offsets; ``end`` excludes the newline. Cell widths
come from Rich, so CJK and emoji take two cells; a tab takes ``TAB_CELLS`` cells wherever it is.
The display text (``display_safe``) has the same length as the canonical text, so a screen
position maps to an offset through these rows alone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

import regex
from rich.cells import get_character_cell_size

TAB_CELLS = 4
_TOKEN = re.compile(r"[^\S\n]+|[^\s]+")
_GRAPHEME = regex.compile(r"\X")


def char_cells(char: str) -> int:
    if char == "\t":
        return TAB_CELLS
    return get_character_cell_size(char)


def cells(text: str) -> int:
    if text.isascii() and "\t" not in text:
        return len(text)
    return sum(char_cells(c) for c in text)


def wrap(text: str, width: int) -> list[tuple[int, int]]:
    """Rows of ``text`` no wider than ``width`` cells, breaking after spaces where possible.

    Spaces at a break hang past the edge (they are cut when drawn), so every character,
    whitespace included, belongs to exactly one row and the caret can reach it.
    """
    width = max(width, 4)
    rows: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        if not line:
            rows.append((line_start, line_start))
        else:
            rows.extend(_wrap_line(line, line_start, width))
        line_start = line_end + 1
    return rows


def _wrap_line(line: str, base: int, width: int) -> Iterable[tuple[int, int]]:
    row_start = base
    used = 0
    for match in _TOKEN.finditer(line):
        token = match.group()
        start = base + match.start()
        size = cells(token)
        if token[0].isspace():
            used += size  # spaces never cause a break; they hang at the end of a row
            continue
        if used + size <= width:
            used += size
            continue
        if used > 0 and start > row_start:
            yield row_start, start
            row_start, used = start, 0
        if size <= width:
            used = size
            continue
        # A word wider than the row (a URL, a run of CJK): break between graphemes, never
        # inside one (an emoji ZWJ sequence, a letter and its combining marks).
        i = 0
        for grapheme in _GRAPHEME.findall(token):
            w = cells(grapheme)
            if used + w > width and used > 0:
                yield row_start, start + i
                row_start, used = start + i, 0
            used += w
            i += len(grapheme)
    yield row_start, base + len(line)


class RowIndex:
    """Offsets <-> rows for one wrapping of a text."""

    def __init__(self, rows: list[tuple[int, int]]) -> None:
        self.rows = rows
        self._starts = [start for start, _ in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def row_of(self, offset: int) -> int:
        """The row showing ``offset`` (an offset at a row's end, i.e. a newline, is on that row)."""
        row = bisect.bisect_right(self._starts, offset) - 1
        return max(0, min(row, len(self.rows) - 1))

    def rows_between(self, start: int, end: int) -> range:
        """Rows that show any of ``start..end`` (end exclusive)."""
        if end <= start:
            row = self.row_of(start)
            return range(row, row + 1)
        return range(self.row_of(start), self.row_of(end - 1) + 1)


def offset_at_cell(display: str, row: tuple[int, int], x: int) -> int:
    """The offset under screen column ``x`` of a row (the row's end when past its text)."""
    start, end = row
    used = 0
    for offset in range(start, end):
        w = char_cells(display[offset])
        if x < used + w:
            return offset
        used += w
    return end


def cell_of_offset(display: str, row: tuple[int, int], offset: int) -> int:
    """Screen column of ``offset`` within its row."""
    start, _end = row
    return cells(display[start:offset])
