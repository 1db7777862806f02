"""Prodigy, doccano and Label Studio exports read back (readers + importer) to the same spans."""

from __future__ import annotations

import orjson
import pytest

from tests.unit.test_formats_common import FAMILY, NEWS, build_project, span_set, texts_of
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.label_studio import from_label_studio
from tui_reader.core.formats.prodigy import input_hash, task_hash
from tui_reader.core.formats.readers import read_path
from tui_reader.core.importer import import_records
from tui_reader.core.store import Project


@pytest.fixture
def source(tmp_path) -> Project:
    return build_project(tmp_path)


def reimport(tmp_path, path, name="back", annotator="importer") -> Project:
    project = Project.open(tmp_path / name, create=True)
    problems: list[str] = []
    report = import_records(project, read_path(path, problems=problems), annotator)
    assert problems == [] and report.problems == []
    return project


def notes(project: Project) -> set[tuple]:
    return {(i.id, s.label, s.note) for i in project.documents() for s in project.spans(i.id) if s.note}


@pytest.mark.parametrize(("fmt", "name"), [("prodigy", "out.jsonl"), ("label-studio", "out.json")])
def test_multi_annotator_formats_round_trip_exactly(source, tmp_path, fmt, name):
    report = export_dataset(source, fmt, tmp_path / name)
    assert set(report.total.losses) <= {"spans not aligned to tokens (kept with character offsets only)"}
    back = reimport(tmp_path, tmp_path / name)
    assert texts_of(back) == texts_of(source)  # CRLF came back as LF, ids kept
    assert span_set(back) == span_set(source)  # every annotator, overlaps, emoji, CJK, RTL
    assert notes(back) == notes(source) == {("news", "claim", "checkable in 2026")}
    assert back.status("done-empty", "ana") == "done"  # the real negative survives
    assert "\r" not in "".join(texts_of(back).values())


def test_doccano_round_trips_one_layer_at_a_time(source, tmp_path):
    for who in ("ana", "bo"):
        export_dataset(source, "doccano", tmp_path / f"{who}.jsonl", gold=f"annotator:{who}")
        back = reimport(tmp_path, tmp_path / f"{who}.jsonl", name=f"back-{who}", annotator=who)
        assert span_set(back) == span_set(source, who)
        assert set(texts_of(back).items()) <= set(texts_of(source).items())
    export_dataset(source, "doccano", tmp_path / "union.jsonl", gold="union")
    back = reimport(tmp_path, tmp_path / "union.jsonl", name="back-union", annotator="union")
    expected = {(d, t, s, e, label, "union") for d, t, s, e, label, _ in span_set(source)}
    assert span_set(back) == expected


def test_doccano_record_shape(source, tmp_path):
    export_dataset(source, "doccano", tmp_path / "d.jsonl", gold="annotator:ana")
    first = orjson.loads((tmp_path / "d.jsonl").read_bytes().splitlines()[0])
    assert first["id"] == "news" and first["text"] == NEWS and first["source"] == "wire/news.txt"
    assert first["label"] == [[42, 72, "quote"], [43, 71, "claim"]]


def test_prodigy_task_shape_tokens_and_stable_hashes(source, tmp_path):
    export_dataset(source, "prodigy", tmp_path / "a.jsonl")
    export_dataset(source, "prodigy", tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    tasks = [orjson.loads(x) for x in (tmp_path / "a.jsonl").read_bytes().splitlines()]
    news = [t for t in tasks if t["meta"]["id"] == "news"]
    assert [t["_annotator_id"] for t in news] == ["ana", "bo"]  # one task per annotator
    assert news[0]["_input_hash"] == news[1]["_input_hash"] == input_hash(NEWS)
    assert news[0]["_task_hash"] != news[1]["_task_hash"]
    assert news[0]["_task_hash"] == task_hash(input_hash(NEWS), news[0]["spans"])
    assert all(-2**31 <= t["_input_hash"] < 2**31 for t in tasks)
    assert news[0]["answer"] == "accept" and news[0]["_view_id"] == "spans_manual"
    assert news[0]["_session_id"].endswith("-ana") and isinstance(news[0]["_timestamp"], int)
    tokens = news[0]["tokens"]
    assert [t["text"] for t in tokens[7:14]] == ['"', "will", "halve", "inflation", "by", "2026", '"']
    assert all(NEWS[t["start"]:t["end"]] == t["text"] and t["id"] == i for i, t in enumerate(tokens))
    quote, claim = news[0]["spans"]
    assert (quote["token_start"], quote["token_end"]) == (7, 13)  # inclusive, as Prodigy
    assert (claim["token_start"], claim["token_end"]) == (8, 12)
    assert claim["note"] == "checkable in 2026"
    emoji = next(t for t in tasks if t["meta"]["id"] == "emoji" and t["_annotator_id"] == "ana")
    assert [emoji["text"][s["start"]:s["end"]] for s in emoji["spans"]] == [FAMILY, "🇲🇽"]


def test_prodigy_unaligned_span_keeps_char_offsets_and_is_counted(tmp_path):
    project = build_project(tmp_path, [{"id": "x", "text": "Unbelievable news today.", "spans": [
        {"start": 2, "end": 12, "label": "claim", "annotator": "ana"},
        {"start": 13, "end": 17, "label": "quote", "annotator": "ana"}]}])
    report = export_dataset(project, "prodigy", tmp_path / "p.jsonl")
    assert report.total.losses == {"spans not aligned to tokens (kept with character offsets only)": 1}
    task = orjson.loads((tmp_path / "p.jsonl").read_bytes())
    assert task["spans"][0] == {"start": 2, "end": 12, "label": "claim"}
    assert task["spans"][1]["token_start"] == task["spans"][1]["token_end"] == 1


def test_prodigy_rejected_and_ignored_tasks_bring_text_only(tmp_path):
    path = tmp_path / "db-out.jsonl"
    base = {"text": "Some claim here.", "_input_hash": 1, "_task_hash": 2,
            "spans": [{"start": 5, "end": 10, "label": "claim"}]}
    lines = [
        {**base, "meta": {"id": "r"}, "answer": "reject", "_annotator_id": "ana"},
        {**base, "meta": {"id": "i"}, "answer": "ignore", "_annotator_id": "ana"},
        {**base, "meta": {"id": "a"}, "answer": "accept", "_annotator_id": "news-bo"},
    ]
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    back = reimport(tmp_path, path)
    assert span_set(back) == {("a", "claim", 5, 10, "claim", "news-bo")}
    assert sorted(texts_of(back)) == ["a", "i", "r"]


def test_label_studio_shape_one_annotation_per_annotator(source, tmp_path):
    report = export_dataset(source, "label-studio", tmp_path / "ls.json",
                            extra={"completed_by": {"ana": "ana@example.org"}})
    tasks = orjson.loads((tmp_path / "ls.json").read_bytes())
    news = tasks[0]
    # doc_id: Label Studio's JSON-MIN export overwrites a data.id with its task id
    assert news["data"]["text"] == NEWS and news["data"]["doc_id"] == "news"
    assert "id" not in news["data"]
    assert [a["created_username"] for a in news["annotations"]] == ["ana", "bo"]
    # Label Studio takes an email only as {"email": ...}: a bare string is refused (HTTP 400)
    assert news["annotations"][0]["completed_by"] == {"email": "ana@example.org"}
    assert "completed_by" not in news["annotations"][1]
    # one line says who Label Studio will attribute bo's annotations to
    unmapped = [a for t in tasks for a in t["annotations"] if "completed_by" not in a]
    assert {a["created_username"] for a in unmapped} == {"bo"}
    assert [line for line in report.total.lines() if "attribute" in line] == [
        "annotations Label Studio will attribute to the user who imports the file "
        f"(annotator not in --ls-users): {len(unmapped)}"]
    region = news["annotations"][0]["result"][0]
    assert region["from_name"] == "label" and region["to_name"] == "text" and region["type"] == "labels"
    assert region["value"] == {"start": 42, "end": 72, "text": '"will halve inflation by 2026"',
                               "labels": ["quote"]}
    empty = next(t for t in tasks if t["data"]["doc_id"] == "done-empty")
    assert empty["annotations"] == [{"result": [], "was_cancelled": False, "ground_truth": False,
                                     "created_username": "ana",
                                     "completed_by": {"email": "ana@example.org"}}]


def test_label_studio_export_reports_no_utf16_offsets(source, tmp_path):
    # Label Studio 1.23 counts code points, as tui-reader does: nothing to warn about
    report = export_dataset(source, "label-studio", tmp_path / "ls.json")
    assert not any("BMP" in line or "UTF-16" in line for line in report.total.lines())
    assert report.total.notices[
        "annotations Label Studio will attribute to the user who imports the file "
        "(no --ls-users file)"] == report.total.annotators.total()


def test_label_studio_reader_converts_utf16_offsets_statuses_and_skips_predictions():
    text = f"{FAMILY} said: inflation falls."
    u16 = len(FAMILY.encode("utf-16-le")) // 2  # 11 code units for 7 code points
    start16 = u16 + len(" said: ")
    task = {
        "data": {"text": text, "id": "t1", "title": "T"},
        "annotations": [
            {"completed_by": 3, "result": [
                {"type": "labels", "value": {"start": start16, "end": start16 + 9, "text": "inflation",
                                             "labels": ["claim", "quote"]}},
                {"type": "choices", "value": {"choices": ["x"]}},
            ]},
            {"completed_by": {"email": "bo@example.org"}, "was_cancelled": True, "result": [
                {"type": "labels", "value": {"start": 0, "end": 4, "labels": ["claim"]}}]},
            {"completed_by": {"id": 5, "email": "cy@example.org"}, "result": []},
        ],
        "predictions": [{"result": [{"type": "labels", "value": {"start": 0, "end": 1,
                                                                  "labels": ["opinion"]}}]}],
    }
    record = from_label_studio(task)
    start = text.index("inflation")
    assert record["spans"] == [
        {"start": start, "end": start + 9, "label": "claim", "annotator": "ls-user-3"},
        {"start": start, "end": start + 9, "label": "quote", "annotator": "ls-user-3"},
        {"start": 0, "end": 4, "label": "claim", "annotator": "bo@example.org"},  # kept, skipped
    ]
    assert record["id"] == "t1" and record["meta"] == {"title": "T"}
    # submitted -> done (with or without spans); was_cancelled -> skipped
    assert record["done_by"] == ["ls-user-3", "ls-user-5"]
    assert record["skipped_by"] == ["bo@example.org"]


def test_label_studio_reader_maps_users_back_and_never_merges_two_annotations():
    from tui_reader.core.formats.label_studio import LSNames, LSUser

    region = {"type": "labels", "value": {"start": 0, "end": 3, "text": "abc", "labels": ["claim"]}}
    task = {"id": 9, "data": {"text": "abc def", "doc_id": "d"}, "annotations": [
        {"id": 11, "completed_by": 2, "result": [region]},
        {"id": 12, "completed_by": 1, "result": [region]},
        {"id": 13, "completed_by": 1, "result": [region]},  # one LS user, two annotations
    ], "drafts": [
        {"user": "cy@example.org", "created_username": "cy@example.org, 4", "annotation": None,
         "result": [region]},
        {"user": "admin@example.org", "created_username": "admin@example.org, 1",
         "annotation": 12, "result": []},  # an edit of annotation 12: that one counts
    ]}
    names = LSNames({"ana": LSUser(id=2), "cy": LSUser(email="cy@example.org")})
    record = from_label_studio(task, names)
    assert record["id"] == "d"
    assert [s["annotator"] for s in record["spans"]] == ["ana", "ls-user-1", "ls-user-1#13", "cy"]
    assert record["done_by"] == ["ana", "ls-user-1", "ls-user-1#13"]  # cy: a draft, in progress


def test_doccano_reader_accepts_labels_and_entities():
    from tui_reader.core.formats.doccano import from_doccano

    a = from_doccano({"id": 7, "text": "abc def", "labels": [[0, 3, "claim"]], "user": "ana", "x": 1})
    assert a == {"id": 7, "text": "abc def", "meta": {"x": 1},
                 "spans": [{"start": 0, "end": 3, "label": "claim", "annotator": "ana"}]}
    b = from_doccano({"text": "abc def", "entities": [
        {"id": 1, "start_offset": 4, "end_offset": 7, "label": "quote"}], "relations": []})
    assert b["spans"] == [{"start": 4, "end": 7, "label": "quote", "id": "1"}]


def test_crlf_source_in_foreign_formats_is_mapped_to_lf(tmp_path):
    raw = "Line one\r\nclaim here\r\nend"
    start = raw.index("claim here")
    path = tmp_path / "d.jsonl"
    path.write_bytes(orjson.dumps({"id": "c", "text": raw, "label": [[start, start + 10, "claim"]]}))
    back = reimport(tmp_path, path, annotator="ana")
    assert span_set(back) == {("c", "claim here", start - 1, start + 9, "claim", "ana")}
