"""Property-based round trips of spans, relations, span attributes and article labels through every
format that reads back: export, import into a fresh project, compare what each holds."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import make_project
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project

WORDS = ["Ana", "Ruiz", "said", "prices", "👨\u200d👩\u200d👧", "café", "Cafe\u0301", "日本語",
         "שלום", "rose", "“We", "win,”", "4.5%", "minister", "🇨🇺", "x"]
HEADS = ("quote", "claim", "opinion")


@st.composite
def annotated(draw: st.DrawFn) -> dict:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=6, max_size=30))
    text = " ".join(words)
    bounds = []  # (start, end) of each word
    at = 0
    for word in words:
        bounds.append((at, at + len(word)))
        at += len(word) + 1
    spans = []
    for _ in range(draw(st.integers(1, 6))):
        first = draw(st.integers(0, len(words) - 1))
        last = draw(st.integers(first, min(first + 3, len(words) - 1)))
        label = draw(st.sampled_from((*HEADS, "source", "boilerplate")))
        spans.append((bounds[first][0], bounds[last][1], label))
    spans = sorted(set(spans))
    heads = [s for s in spans if s[2] in HEADS]
    sources = [s for s in spans if s[2] == "source"]
    relations = sorted({(draw(st.sampled_from(heads)), draw(st.sampled_from(sources)))
                        for _ in range(draw(st.integers(0, 3)))}) if heads and sources else []
    kinds = {s: draw(st.sampled_from(("direct", "indirect", None))) for s in spans if s[2] == "quote"}
    genre = draw(st.sampled_from(("news report", "opinion piece", None)))
    return {"text": text, "spans": spans, "relations": relations, "kinds": kinds, "genre": genre}


def build(root: Path, case: dict) -> Project:
    project = make_project(root, {"d": case["text"]})
    ids = {}
    for start, end, label in case["spans"]:
        span = project.add_span("d", start, end, label, "ana")
        ids[(start, end, label)] = span.id
        kind = case["kinds"].get((start, end, label))
        if kind:
            project.set_attribute("d", span.id, "kind", kind)
    for head, child in case["relations"]:
        project.add_relation("d", ids[head], ids[child], "attributed_to", "ana")
    if case["genre"]:
        project.set_article_labels("d", "ana", "genre", [case["genre"]])
    project.set_status("d", "ana", "done")
    return project


def held(project: Project, annotator: str | None = None) -> dict:
    """What a project holds of the document, annotators set aside (one-layer formats rename)."""
    record = project.record("d")
    keys = {s.id: s.key for s in record.spans}
    return {
        "spans": sorted(s.key for s in record.spans),
        "relations": sorted((keys[r.head], keys[r.child], r.label) for r in record.relations),
        "attributes": sorted((s.key, k, v) for s in record.spans for k, v in s.attributes.items()),
        "labels": sorted((a.group, a.values) for a in record.article_labels),
    }


CASES = {  # format -> (file or folder name, what it cannot carry)
    "jsonl": ("out.jsonl", ()),
    "label-studio": ("out.json", ()),
    "prodigy": ("out.jsonl", ()),
    "doccano-rel": ("out.jsonl", ("attributes",)),
    "brat": ("brat", ("labels",)),
}


@pytest.mark.parametrize("fmt", list(CASES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(case=annotated())
def test_every_reading_format_gives_back_what_it_holds(fmt, case):
    name, lost = CASES[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = build(root / "source", case)
        export_dataset(source, fmt, root / name)
        back = Project.open(root / "back", create=True)
        report = import_paths(back, [root / name], "ana")
        assert report.problems == [], report.problems
        want, got = held(source), held(back)
        for kind in ("spans", "relations", "attributes", "labels"):
            if kind not in lost:
                assert got[kind] == want[kind], (fmt, kind)
        assert back.record("d").text == case["text"]
