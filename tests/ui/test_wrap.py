"""Wrapping keeps graphemes whole: a row never ends inside an emoji sequence or before a mark."""

from __future__ import annotations

import pytest

from tui_reader.core.segment import Segments
from tui_reader.ui.wrap import cells, wrap

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
THUMB = "\U0001f44d\U0001f3fd"


@pytest.mark.parametrize(
    "text",
    [
        FAMILY * 12,  # a "word" of emoji wider than the row
        THUMB * 20,
        "e\u0301" * 30,  # letters with combining marks
        "日本語です" * 8,  # CJK without spaces
        "see " + "https://example.com/" + "a\u0301" * 40 + " end",
    ],
    ids=["zwj-family", "skin-tone", "combining", "cjk", "url-with-marks"],
)
def test_rows_break_only_between_graphemes(text: str) -> None:
    segments = Segments(text)
    for width in (5, 7, 10, 13):
        rows = wrap(text, width)
        assert rows[0][0] == 0 and rows[-1][1] == len(text)
        for (_, end), (start, _) in zip(rows, rows[1:]):
            assert end == start or text[end] in " \n"
            assert segments.is_grapheme_boundary(start), (width, start)
        for start, end in rows:
            assert cells(text[start:end].rstrip(" ")) <= max(width, cells(FAMILY))
