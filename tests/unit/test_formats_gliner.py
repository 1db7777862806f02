"""``--format gliner``: GLiNER's training data; token indices slice back to each span's text."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from tests.unit.test_formats_common import build_project
from tui_reader.core.formats.base import ExportLossError
from tui_reader.core.formats.export import export_dataset

FAMILY = "👨\u200d👩\u200d👧"
TEXT = (f"The minister said: \"prices will fall by 5% for every {FAMILY} family\". "
        "Critics called it e\u0301lectoral noise.\nEnd of the report.")


def span(phrase: str, label: str, who: str = "ana") -> dict:
    start = TEXT.index(phrase)
    return {"start": start, "end": start + len(phrase), "label": label, "annotator": who}


RECORDS = [
    {"id": "news", "text": TEXT, "spans": [
        span('"prices will fall by 5% for every ' + FAMILY + ' family"', "quote"),
        span("prices will fall by 5%", "claim"),                  # nested in the quote
        span("fall by 5% for every " + FAMILY, "opinion"),        # overlaps the claim, ends on emoji
        span("e\u0301lectoral noise", "opinion"),                  # a combining accent
        span("The minister", "boilerplate"),
    ]},
    {"id": "negative", "text": "Nothing to label in this one.", "spans": [], "done_by": ["ana"]},
]


def offsets_by_search(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Each token's characters, found in order in the text: no tokenizer of ours involved."""
    out, at = [], 0
    for token in tokens:
        start = text.index(token, at)
        assert text[at:start].strip() == "", (token, text[at:start])  # only whitespace between
        out.append((start, start + len(token)))
        at = start + len(token)
    return out


def test_token_indices_slice_back_to_every_span_overlaps_and_nesting_kept(tmp_path):
    project = build_project(tmp_path, RECORDS)
    report = export_dataset(project, "gliner", tmp_path / "train.json", strict=True)
    assert report.total.losses == {} and report.total.spans == 5
    rows = orjson.loads((tmp_path / "train.json").read_bytes())
    assert [sorted(row) for row in rows] == [["ner", "tokenized_text"]] * 2
    news, negative = rows
    where = offsets_by_search(TEXT, news["tokenized_text"])
    got = sorted((TEXT[where[first][0]:where[last][1]], label) for first, last, label in news["ner"])
    want = sorted((TEXT[s["start"]:s["end"]], s["label"]) for s in RECORDS[0]["spans"])
    assert got == want
    assert all(first <= last for first, last, _ in news["ner"])  # end index inclusive
    assert negative == {"tokenized_text": ["Nothing", "to", "label", "in", "this", "one", "."], "ner": []}


def test_a_span_off_token_boundaries_is_counted_or_refused(tmp_path):
    project = build_project(tmp_path, [{"id": "x", "text": TEXT, "spans": [
        {"start": 5, "end": 12, "label": "claim", "annotator": "ana"},  # "inister"
        span("The minister", "boilerplate")]}])
    report = export_dataset(project, "gliner", tmp_path / "g.json")
    assert report.total.losses == {"spans not aligned to tokens left out": 1}
    assert orjson.loads((tmp_path / "g.json").read_bytes())[0]["ner"] == [[0, 1, "boilerplate"]]
    with pytest.raises(ExportLossError):
        export_dataset(project, "gliner", tmp_path / "strict.json", strict=True)
    assert not (tmp_path / "strict.json").exists()


def test_the_command_line_exports_gliner(tmp_path):
    project = build_project(tmp_path, RECORDS)
    out = tmp_path / "gliner.json"
    result = subprocess.run([sys.executable, "-m", "tui_reader", "export", "--db", str(project.root),
                             "--format", "gliner", "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "gliner export" in result.stderr and "5 spans" in result.stderr
    assert len(orjson.loads(out.read_bytes())) == 2
