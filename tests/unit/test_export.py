"""Exporting a project as JSONL: which documents and spans, their shape, and exact round trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from tui_reader.core.formats.jsonl import ExportFilter, export_records, write_jsonl
from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project
from tui_reader.core.text import text_sha256

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
TEXTS = {
    "emoji": f"The {FAMILY} family visited 🇲🇽 and waved 👍🏽 at everyone.",
    "combining": "Zoe\u0308 said the cafe\u0301 was nai\u0308ve; Ame\u0301lie agreed.",
    "cjk": "日本語の記事です。中文新闻报道。한국어 기사입니다.",
    "rtl": "قال الرئيس إن الخطة ستنجح، according to AP, في المؤتمر الصحفي.",
    "crlf": "Headline here\r\n\r\nFirst paragraph, with a claim.\r\nSecond line.\r\n",
    "done-empty": "An article that was read and has nothing to label.",
    "untouched": "An article nobody opened.",
}


def sp(doc: str, piece: str, label: str, annotator: str | None = None,
       occurrence: int = 0) -> dict:
    """A span over the ``occurrence``-th ``piece`` of TEXTS[doc] (offsets in code points)."""
    text = TEXTS[doc]
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    span = {"start": start, "end": start + len(piece), "label": label}
    if annotator:
        span["annotator"] = annotator
    return span


SOURCE_RECORDS = [
    {"id": "emoji", "text": TEXTS["emoji"], "meta": {"url": "https://example.org/e"}, "spans": [
        sp("emoji", FAMILY, "claim", "ana"),
        sp("emoji", f"{FAMILY} family", "quote", "bo"),  # overlaps ana's span
        sp("emoji", "🇲🇽", "claim", "ana"),
        sp("emoji", "👍🏽", "opinion", "bo"),
    ]},
    {"id": "combining", "text": TEXTS["combining"], "annotator": "cy", "spans": [
        sp("combining", "Zoe\u0308", "quote"),
        sp("combining", "cafe\u0301 was nai\u0308ve", "opinion"),
        sp("combining", "e\u0301", "claim", "ana", occurrence=1),  # the one in Amélie
    ]},
    {"id": "cjk", "text": TEXTS["cjk"], "meta": {"lang": "mixed"}, "spans": [
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
    {"id": "untouched", "text": TEXTS["untouched"]},
]


def new_project(tmp_path: Path, name: str = "db") -> Project:
    return Project.open(tmp_path / name, create=True)


def write_source(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def export(project: Project, **kwargs) -> list[dict]:
    return list(export_records(project, ExportFilter(**kwargs)))


def export_bytes(project: Project, **kwargs) -> bytes:
    out = io.BytesIO()
    write_jsonl(export_records(project, ExportFilter(**kwargs)), out)
    return out.getvalue()


@pytest.fixture
def labelled(tmp_path) -> Project:
    project = new_project(tmp_path)
    report = import_paths(project, [write_source(tmp_path / "src.jsonl", SOURCE_RECORDS)], "dflt")
    assert report.problems == []
    return project


# ------------------------------------------------------------------------------------- shape


def test_every_record_has_the_documented_shape_and_span_text_matches(labelled):
    records = export(labelled, all_documents=True)
    assert [r["id"] for r in records] == [r["id"] for r in SOURCE_RECORDS]
    for record in records:
        assert {"id", "text", "text_sha256", "spans", "meta"} <= record.keys()
        assert record["text_sha256"] == text_sha256(record["text"])
        for span in record["spans"]:
            assert {"start", "end", "label", "text", "annotator"} <= span.keys()
            assert record["text"][span["start"]:span["end"]] == span["text"]


def test_exported_spans_are_the_imported_ones(labelled):
    by_id = {r["id"]: r for r in export(labelled, all_documents=True)}
    for source in SOURCE_RECORDS:
        raw = source["text"]
        expected = sorted(
            (raw[s["start"]:s["end"]].replace("\r\n", "\n"), s["label"],
             s.get("annotator") or source.get("annotator") or "dflt")
            for s in source.get("spans", [])
        )
        got = sorted((s["text"], s["label"], s["annotator"]) for s in by_id[source["id"]]["spans"])
        assert got == expected, source["id"]
    assert by_id["crlf"]["text"] == TEXTS["crlf"].replace("\r\n", "\n")
    assert by_id["emoji"]["meta"]["url"] == "https://example.org/e"
    assert by_id["cjk"]["meta"]["lang"] == "mixed"


def test_round_trip_import_export_import_export_is_exact(labelled, tmp_path):
    first = export_bytes(labelled, all_documents=True)
    exported = tmp_path / "export1.jsonl"
    exported.write_bytes(first)

    again = new_project(tmp_path, "db2")
    report = import_paths(again, [exported], "someone-else")
    assert report.problems == []
    second = export_bytes(again, all_documents=True)

    assert second == first
    records = [orjson.loads(line) for line in second.splitlines()]
    done = next(r for r in records if r["id"] == "done-empty")
    assert done["spans"] == [] and done["done_by"] == ["ana"]
    assert again.status("done-empty", "ana") == "done"
    emoji = next(r for r in records if r["id"] == "emoji")
    assert [s["text"] for s in emoji["spans"]] == [FAMILY, f"{FAMILY} family", "🇲🇽", "👍🏽"]
    assert {s["annotator"] for r in records for s in r["spans"]} == {"ana", "bo", "cy"}


def test_export_is_in_corpus_order_not_id_order(tmp_path):
    project = new_project(tmp_path)
    write_source(tmp_path / "o.jsonl", [{"id": i, "text": f"Text {i}."} for i in "zxay"])
    import_paths(project, [tmp_path / "o.jsonl"], "ana")
    assert [r["id"] for r in export(project, all_documents=True)] == list("zxay")


# ----------------------------------------------------------------------------------- filters


def test_default_export_has_labelled_or_done_documents_only(labelled):
    ids = [r["id"] for r in export(labelled)]
    assert ids == ["emoji", "combining", "cjk", "rtl", "crlf", "done-empty"]
    assert "untouched" in [r["id"] for r in export(labelled, all_documents=True)]


def test_a_document_marked_skipped_is_not_exported_by_default(labelled):
    labelled.set_status("untouched", "bo", "skipped")
    assert "untouched" not in [r["id"] for r in export(labelled)]


def test_annotator_filter_keeps_only_their_spans_and_documents(labelled):
    records = export(labelled, annotator="bo")
    assert [r["id"] for r in records] == ["emoji", "cjk", "rtl", "crlf"]
    assert {s["annotator"] for r in records for s in r["spans"]} == {"bo"}
    assert [s["text"] for s in records[0]["spans"]] == [f"{FAMILY} family", "👍🏽"]
    assert all(r["done_by"] == [] for r in records)
    assert [r["id"] for r in export(labelled, annotator="cy")] == ["combining"]


def test_annotator_filter_keeps_their_done_documents(labelled):
    assert "done-empty" in [r["id"] for r in export(labelled, annotator="ana")]
    assert "done-empty" not in [r["id"] for r in export(labelled, annotator="bo")]


def test_label_filter_keeps_only_that_label(labelled):
    records = export(labelled, labels=("quote",))
    spans = [(r["id"], s["text"]) for r in records for s in r["spans"]]
    assert spans == [("emoji", f"{FAMILY} family"), ("combining", "Zoe\u0308"),
                     ("cjk", "한국어 기사"), ("rtl", "قال الرئيس"), ("crlf", "claim.\nSecond")]
    assert "done-empty" in [r["id"] for r in records]  # done without spans: still a negative
    both = export(labelled, labels=("quote", "boilerplate"))
    assert {s["label"] for r in both for s in r["spans"]} == {"quote", "boilerplate"}


def test_status_done_filter(labelled):
    labelled.set_status("cjk", "bo", "done")
    labelled.set_status("rtl", "bo", "in progress")
    assert [r["id"] for r in export(labelled, status="done")] == ["cjk", "done-empty"]
    assert [r["id"] for r in export(labelled, status="done", annotator="bo")] == ["cjk"]
    cjk = export(labelled, status="done")[0]
    assert cjk["done_by"] == ["bo"] and len(cjk["spans"]) == 3


def test_status_follows_what_the_app_shows(labelled):
    # Spans without a status set mean "in progress"; a document nobody touched is "new".
    assert [r["id"] for r in export(labelled, status="new", all_documents=True)] == ["untouched"]
    in_progress = [r["id"] for r in export(labelled, status="in progress", annotator="cy")]
    assert in_progress == ["combining"]
    assert [r["id"] for r in export(labelled, status="new", annotator="cy",
                                    all_documents=True)] == [
        "emoji", "cjk", "rtl", "crlf", "done-empty", "untouched"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"labels": ("rumour",)}, "unknown label 'rumour'"),
     ({"status": "finished"}, "unknown status 'finished'")],
)
def test_unknown_filter_values_are_refused(labelled, kwargs, message):
    with pytest.raises(ValueError, match=message):
        export(labelled, **kwargs)


def test_span_notes_and_sources_are_exported_when_set(tmp_path):
    project = new_project(tmp_path)
    write_source(tmp_path / "n.jsonl", [{"id": "n", "text": "A noted span here.", "spans": [
        {"start": 2, "end": 7, "label": "claim", "note": "check this", "source": "import:x"},
        {"start": 8, "end": 12, "label": "quote"}]}])
    import_paths(project, [tmp_path / "n.jsonl"], "ana")
    (record,) = export(project)
    assert record["spans"][0]["note"] == "check this"
    assert record["spans"][0]["source"] == "import:x"
    assert "note" not in record["spans"][1]
