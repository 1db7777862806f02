"""Shared data for the dataset-format tests (and the tests of format detection).

``build_project`` makes a project from native records whose texts hold what breaks offsets
(ZWJ emoji sequences, flags, skin tones, CJK, RTL, CRLF), with overlapping and nested spans by
several annotators, a note, and a document read and marked done without spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui_reader.core.formats.readers import detect_format
from tui_reader.core.importer import import_records
from tui_reader.core.store import Project

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
NEWS = ('Finance Minister Ana Ruiz said the reform "will halve inflation by 2026". '
        "Critics called the plan reckless.")
TEXTS = {
    "news": NEWS,
    "emoji": f"The {FAMILY} family visited 🇲🇽 and waved 👍🏽 at everyone.",
    "cjk": "日本語の記事です。中文新闻报道。한국어 기사입니다.",
    "rtl": "قال الرئيس إن الخطة ستنجح، according to AP, في المؤتمر الصحفي.",
    "crlf": "Headline here\r\n\r\nFirst paragraph, with a claim.\r\nSecond line.\r\n",
    "done-empty": "An article that was read and has nothing to label.",
}


def sp(doc: str, piece: str, label: str, annotator: str, occurrence: int = 0, **extra: Any) -> dict:
    """A span over the ``occurrence``-th ``piece`` of TEXTS[doc] (code points of the raw text)."""
    text = TEXTS[doc]
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    return {"start": start, "end": start + len(piece), "label": label, "annotator": annotator, **extra}


RECORDS = [
    {"id": "news", "text": NEWS, "meta": {"source": "wire/news.txt"}, "spans": [
        sp("news", '"will halve inflation by 2026"', "quote", "ana"),
        sp("news", "will halve inflation by 2026", "claim", "ana", note="checkable in 2026"),
        sp("news", '"will halve inflation by 2026"', "quote", "bo"),
        sp("news", "Critics called the plan reckless", "opinion", "bo"),
    ]},
    {"id": "emoji", "text": TEXTS["emoji"], "meta": {"url": "https://example.org/e"}, "spans": [
        sp("emoji", FAMILY, "claim", "ana"),
        sp("emoji", f"{FAMILY} family", "quote", "bo"),
        sp("emoji", "🇲🇽", "claim", "ana"),
        sp("emoji", "👍🏽", "opinion", "bo"),
    ]},
    {"id": "cjk", "text": TEXTS["cjk"], "spans": [
        sp("cjk", "日本語", "claim", "ana"), sp("cjk", "中文新闻", "claim", "ana"),
        sp("cjk", "한국어 기사", "quote", "bo"),
    ]},
    {"id": "rtl", "text": TEXTS["rtl"], "spans": [
        sp("rtl", "قال الرئيس", "quote", "ana"), sp("rtl", "الرئيس إن الخطة", "claim", "bo"),
        sp("rtl", "according to AP", "boilerplate", "ana"),
    ]},
    {"id": "crlf", "text": TEXTS["crlf"], "spans": [
        sp("crlf", "here\r\n\r\nFirst", "claim", "ana"),
        sp("crlf", "claim.\r\nSecond", "quote", "bo"),
        sp("crlf", "Second line.", "opinion", "ana"),
    ]},
    {"id": "done-empty", "text": TEXTS["done-empty"], "spans": [], "done_by": ["ana"]},
]


def build_project(root: Path, records: list[dict] | None = None, name: str = "db") -> Project:
    project = Project.open(root / name, create=True)
    report = import_records(
        project, [(f"src:{n}", r) for n, r in enumerate(records or RECORDS, 1)], "dflt"
    )
    assert report.problems == []
    return project


def span_set(project: Project, annotator: str | None = None) -> set[tuple]:
    """(doc id, span text, start, end, label, annotator) of every stored span."""
    out = set()
    for info in project.documents():
        text = project.document(info.id).text
        for s in project.spans(info.id, annotator):
            out.add((info.id, text[s.start:s.end], s.start, s.end, s.label, s.annotator))
    return out


def texts_of(project: Project) -> dict[str, str]:
    return {info.id: project.document(info.id).text for info in project.documents()}


# ------------------------------------------------------------------------------ detect_format
@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (b'{"id": "a", "text": "x", "spans": [], "done_by": []}\n', "jsonl"),
        ({"text": "x", "spans": [{"start": 0, "end": 1, "label": "claim", "annotator": "a"}]},
         "jsonl"),
        (b'{"text": "x", "_input_hash": 1, "_task_hash": 2, "answer": "accept"}\n', "prodigy"),
        ({"text": "x", "spans": [{"start": 0, "end": 1, "token_start": 0, "token_end": 0}]},
         "prodigy"),
        ('{"text": "x", "label": [[0, 1, "claim"]]}\n{"text": "y"}', "doccano"),
        ({"text": "x", "entities": [{"start_offset": 0, "end_offset": 1, "label": "claim"}]},
         "doccano"),
        (b'\xef\xbb\xbf  [{"data": {"text": "x"}, "annotations": []}]', "label-studio"),
        ([{"data": {"text": "x"}, "annotations": []}], "label-studio"),
        ({"data": {"text": "x"}, "predictions": []}, "label-studio"),
    ],
)
def test_detect_format_from_first_bytes_or_first_record(sample, expected):
    assert detect_format(sample) == expected


@pytest.mark.parametrize("sample", [b"not json", {"title": "no text"}, [1, 2], 42])
def test_detect_format_refuses_what_it_does_not_know(sample):
    with pytest.raises(ValueError):
        detect_format(sample)


def test_the_shared_project_holds_every_source_span(tmp_path):
    project = build_project(tmp_path)
    spans = span_set(project)
    assert len(spans) == sum(len(r["spans"]) for r in RECORDS)
    assert ("crlf", "claim.\nSecond", 39, 52, "quote", "bo") in spans  # CRLF became LF
    assert project.status("done-empty", "ana") == "done"
