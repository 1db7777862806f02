"""``tui-reader label-all TEXT --label L``: every occurrence of a text across the corpus, labelled.

Occurrences are exact (same characters, same case) with both ends on word boundaries
(``Segments.occurrences``: ``Reuters`` in "(Reuters)" and "Reuters'", not in "Reutersberg"; each
CJK ideograph is a word, so ``北京`` is found in "我爱北京"). Places already holding the label for
that annotator (inside one of their spans of that label) are passed over, so running it twice
changes nothing. Each document is one write (``Project.add_occurrences``). Control documents are
left alone: their spans are scored against known answers, and labels put there by a command would
say nothing about the annotator's care.

With ``as_suggestions`` the occurrences are stored with each document as suggestions for the
annotator (source ``label-all:<text>``) that the app offers like the rules' (``a`` accepts one,
``A`` every one of a label, ``r`` rejects one for good); a place the annotator rejected before is
not offered again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import InputError
from .model import check_annotator_name
from .segment import Segments
from .store import Project

SOURCE_TEXT_CHARS = 40  # of the text in a suggestion's source ("label-all:<text>")


@dataclass
class LabelAllReport:
    text: str
    label: str
    as_suggestions: bool
    occurrences: int = 0  # places labelled (or suggested)
    documents: int = 0  # documents where something was labelled
    already: int = 0  # places that held the label already (or were offered or turned down)

    def summary(self) -> str:
        what = "suggested" if self.as_suggestions else "labelled"
        line = (f"{self.occurrences} occurrence{'s' if self.occurrences != 1 else ''} of "
                f"{self.text!r} {what} as {self.label} in {self.documents} "
                f"document{'s' if self.documents != 1 else ''}")
        if self.already:
            line += (f" ({self.already} already held it, were offered or turned down)"
                     if self.as_suggestions else f" ({self.already} already held it)")
        return line


def check_text(text: str) -> str:
    """The text to look for, surrounding whitespace left out; InputError when nothing is left."""
    needle = text.strip()
    if not needle:
        raise InputError("nothing to look for: the text is empty or only whitespace")
    return needle


def suggestion_source(text: str) -> str:
    short = text if len(text) <= SOURCE_TEXT_CHARS else text[:SOURCE_TEXT_CHARS - 1] + "…"
    return f"label-all:{short}"


def label_all(project: Project, text: str, label: str, annotator: str, *,
              as_suggestions: bool = False,
              on_progress: Callable[[int], None] | None = None) -> LabelAllReport:
    """Label (or suggest) every occurrence of ``text`` in every document but the controls, for
    ``annotator``; InputError (nothing written) for an empty text, an unknown label or a name
    tui-reader keeps for itself."""
    needle = check_text(text)
    if label not in project.config.label_names:
        raise InputError(f"unknown label {label!r} (this project's labels: "
                         f"{', '.join(project.config.label_names)})")
    annotator = check_annotator_name(annotator)
    report = LabelAllReport(needle, label, as_suggestions)
    source = suggestion_source(needle)  # a span's too: where it came from, in exports
    project.bulk = True  # as an import: no fsync per document, one sync before reporting
    try:
        for record in project.records():
            if on_progress is not None:
                on_progress(1)
            if needle not in record.text or record.is_control:
                continue
            places = Segments(record.text).occurrences(needle)
            if not places:
                continue
            added, already = project.add_occurrences(record.id, places, label, annotator,
                                                     as_suggestions=as_suggestions, source=source)
            report.occurrences += added
            report.already += already
            report.documents += bool(added)
    finally:
        project.bulk = False
        project.sync()  # nothing is reported labelled before it is on disk
    return report
