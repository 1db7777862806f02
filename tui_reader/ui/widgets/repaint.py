"""Repainting rows of a Line-API view without its scrollbar.

``ScrollView.refresh_lines`` marks whole rows of the widget dirty, the scrollbar's cells with
them: about 25 bytes a row to the terminal for a scrollbar that did not move (a label repaints
twenty rows of the span list). Only the content's width is marked here.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.scroll_view import ScrollView


def refresh_rows(view: ScrollView, first: int, count: int) -> None:
    """Repaint ``count`` rows of ``view``'s content from virtual row ``first``."""
    if count > 0:
        width = view.scrollable_content_region.width
        view.refresh(Region(0, first - round(view.scroll_offset.y), width, count))
