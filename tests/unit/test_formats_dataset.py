"""What writers receive: documents, gold policies, splits, and the same choice of documents as
the native export."""

from __future__ import annotations

import io
from collections import Counter

import orjson
import pytest

from tests.unit.test_formats_common import build_project
from tui_reader.core.formats.dataset import (
    ExportDoc,
    apply_gold,
    assign_split,
    export_docs,
    parse_gold,
    parse_split,
)
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.jsonl import ExportFilter, export_records, write_jsonl

TEXT = "Alpha beta gamma delta epsilon zeta eta theta."
A = (0, 5, "claim")  # Alpha
B = (6, 10, "quote")  # beta
C = (11, 16, "opinion")  # gamma
D = (17, 22, "claim")  # delta


def rec(doc_id: str, spans: dict[str, list[tuple]], done_by: list[str] | None = None) -> dict:
    return {
        "id": doc_id, "text": TEXT, "done_by": done_by or [],
        "spans": [{"start": s, "end": e, "label": label, "annotator": name}
                  for name, items in spans.items() for s, e, label in items],
    }


@pytest.fixture
def voted(tmp_path):
    return build_project(tmp_path, [
        rec("three", {"ana": [A, B], "bo": [A, C], "cy": [A, B]}),
        rec("judged", {"ana": [A], "bo": [B], "gold": [D]}),
        rec("gold-empty", {"ana": [A]}, done_by=["gold"]),
        rec("solo", {"bo": [C]}),
    ])


def keys(doc: ExportDoc) -> set[tuple]:
    return {(s["start"], s["end"], s["label"]) for s in doc.spans}


def by_policy(project, spec, min_agree=None, **flt):
    docs = export_docs(project, ExportFilter(**flt), parse_gold(spec, min_agree))
    return {d.id: d for d in docs}


def test_no_policy_keeps_every_layer(voted):
    docs = by_policy(voted, None)
    assert docs["three"].annotators == ("ana", "bo", "cy")
    assert set(docs["three"].layers()) == {"ana", "bo", "cy"}
    layers = docs["gold-empty"].layers()
    assert all(len(s["id"]) == 32 for s in layers["ana"])  # the store's span ids
    assert {name: [{k: v for k, v in s.items() if k != "id"} for s in spans]
            for name, spans in layers.items()} == {
        "ana": [{"start": 0, "end": 5, "label": "claim", "text": "Alpha", "annotator": "ana"}],
        "gold": []}


def test_union_merges_exact_duplicates_and_ignores_gold(voted):
    docs = by_policy(voted, "union")
    assert keys(docs["three"]) == {A, B, C}
    assert [s["annotators"] for s in docs["three"].spans] == [["ana", "bo", "cy"], ["ana", "cy"], ["bo"]]
    assert keys(docs["judged"]) == {A, B}  # not the gold D
    assert docs["three"].annotators == ("union",)


def test_majority_default_is_more_than_half(voted):
    docs = by_policy(voted, "majority")
    assert keys(docs["three"]) == {A, B}  # 3 annotators: 2 needed
    assert keys(docs["judged"]) == set()  # ana and bo disagree: 2 of 2 needed
    assert keys(docs["solo"]) == {C}  # one annotator: 1 of 1


def test_min_agree_changes_the_result(voted):
    assert keys(by_policy(voted, "majority", 3)["three"]) == {A}
    assert keys(by_policy(voted, "majority", 1)["three"]) == {A, B, C}
    skipped: Counter[str] = Counter()
    docs = list(export_docs(voted, ExportFilter(), parse_gold("majority", 3), skipped=skipped))
    assert [d.id for d in docs] == ["three"]  # the others have fewer than 3 annotators
    assert sum(skipped.values()) == 3


def test_annotator_policy_keeps_one_layer_and_drops_documents_without_it(voted):
    docs = by_policy(voted, "annotator:bo")
    assert sorted(docs) == ["judged", "solo", "three"]
    assert keys(docs["three"]) == {A, C}
    assert {s["annotator"] for s in docs["three"].spans} == {"bo"}


def test_adjudicated_uses_gold_only(voted):
    docs = by_policy(voted, "adjudicated")
    assert sorted(docs) == ["gold-empty", "judged"]  # done by gold with no span: a negative
    assert keys(docs["judged"]) == {D}
    assert keys(docs["gold-empty"]) == set()
    every = by_policy(voted, "adjudicated", all_documents=True)
    assert sorted(every) == ["gold-empty", "judged", "solo", "three"]
    assert keys(every["three"]) == set()


def test_the_policies_all_differ_on_the_small_case(voted):
    results = []
    for spec, k in [("union", None), ("majority", None), ("majority", 3), ("annotator:bo", None),
                    ("adjudicated", None)]:
        docs = by_policy(voted, spec, k)
        results.append(frozenset(keys(docs["three"])) if "three" in docs else None)
    assert results == [frozenset({A, B, C}), frozenset({A, B}), frozenset({A}), frozenset({A, C}), None]


@pytest.mark.parametrize("spec", ["", "annotator:", "vote", "Union"])
def test_unknown_policies_are_refused(spec):
    with pytest.raises(ValueError, match="--gold majority"):
        parse_gold(spec)


def test_min_agree_needs_majority():
    with pytest.raises(ValueError, match="min-agree"):
        parse_gold("union", 2)
    with pytest.raises(ValueError, match="min-agree"):
        parse_gold("majority", 0)


@pytest.mark.parametrize("fmt", ["doccano", "hf", "brat", "conll", "spacy"])
def test_single_layer_format_with_several_annotators_needs_a_policy(voted, tmp_path, fmt):
    pytest.importorskip("spacy")
    target = tmp_path / f"out-{fmt}"
    with pytest.raises(ValueError) as err:
        export_dataset(voted, fmt, target)
    message = str(err.value)
    assert "\n" not in message and "'three'" in message and "ana, bo, cy" in message
    for choice in ("annotator:NAME", "union", "majority", "adjudicated"):
        assert choice in message
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
    export_dataset(voted, fmt, target, gold="union")  # with a policy it goes through
    assert target.exists()


@pytest.mark.parametrize("fmt", ["jsonl", "prodigy", "label-studio"])
def test_multi_layer_formats_keep_every_annotator_by_default(voted, tmp_path, fmt):
    report = export_dataset(voted, fmt, tmp_path / "out")
    assert report.total.annotators["ana"] >= 3 and report.total.annotators["cy"] == 1


def test_annotator_filter_and_a_different_policy_conflict(voted):
    with pytest.raises(ValueError, match="cannot go with"):
        list(export_docs(voted, ExportFilter(annotator="ana"), parse_gold("union")))
    docs = list(export_docs(voted, ExportFilter(annotator="ana"), parse_gold("annotator:ana")))
    assert {d.id for d in docs} == {"three", "judged", "gold-empty"}


def test_apply_gold_without_policy_is_identity(voted):
    doc = next(iter(export_docs(voted)))
    assert apply_gold(doc, None) is doc


# ------------------------------------------------------------------------ same documents as jsonl
@pytest.mark.parametrize("flt", [
    {}, {"all_documents": True}, {"annotator": "bo"}, {"labels": ("quote",)}, {"status": "done"},
    {"status": "in progress"}, {"annotator": "gold", "status": "done"},
])
def test_native_writer_matches_the_native_export_byte_for_byte(voted, tmp_path, flt):
    voted.set_status("three", "bo", "done")
    expected = io.BytesIO()
    write_jsonl(export_records(voted, ExportFilter(**flt)), expected)
    export_dataset(voted, "jsonl", tmp_path / "native.jsonl", flt=ExportFilter(**flt))
    assert (tmp_path / "native.jsonl").read_bytes() == expected.getvalue()


# ------------------------------------------------------------------------------------- splits
@pytest.mark.parametrize(("spec", "message"), [
    ("train:0.8,test:0.2", "NAME=FRACTION"),
    ("train=0.8,test", "NAME=FRACTION"),
    ("train=0.8,dev=0.1", "add up to 0.9, not 1"),
    ("train=1.2,dev=-0.2", "negative"),
    ("train=abc,dev=1", "not a number"),
    ("train=0.5,train=0.5", "named twice"),
    ("tr/ain=1", "NAME=FRACTION"),
])
def test_bad_split_specs_name_their_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_split(spec)


def test_split_spec_within_tolerance():
    assert parse_split("train=0.8,dev=0.1,test=0.1") == (("train", 0.8), ("dev", 0.1), ("test", 0.1))
    parse_split("a=0.3333333,b=0.3333333,c=0.3333334")


def test_assignment_is_deterministic_seeded_and_proportional():
    spec = parse_split("train=0.8,dev=0.1,test=0.1")
    ids = [f"doc-{i:04d}" for i in range(1000)]
    first = {i: assign_split(i, spec, seed=7) for i in ids}
    assert first == {i: assign_split(i, "train=0.8,dev=0.1,test=0.1", seed=7) for i in ids}
    other = {i: assign_split(i, spec, seed=8) for i in ids}
    assert sum(first[i] != other[i] for i in ids) > 100  # the seed reshuffles
    counts = Counter(first.values())
    assert abs(counts["train"] - 800) < 60 and abs(counts["dev"] - 100) < 40
    assert abs(counts["test"] - 100) < 40


def test_a_zero_fraction_gets_nothing():
    spec = parse_split("train=1,test=0")
    assert {assign_split(f"d{i}", spec) for i in range(300)} == {"train"}


def test_split_export_puts_each_document_in_its_split_only(tmp_path):
    records = [rec(f"d{i:03d}", {"ana": [A]}) for i in range(60)]
    project = build_project(tmp_path, records)
    spec = "train=0.5,dev=0.25,test=0.25"
    report = export_dataset(project, "jsonl", tmp_path / "out", split=spec, seed=3)
    seen: dict[str, str] = {}
    for name in ("train", "dev", "test"):
        lines = (tmp_path / "out" / f"{name}.jsonl").read_bytes().splitlines()
        assert lines, name  # fails if the split were ignored (everything in one file)
        for line in lines:
            doc_id = orjson.loads(line)["id"]
            assert doc_id not in seen
            seen[doc_id] = name
            assert assign_split(doc_id, spec, 3) == name
    assert len(seen) == 60
    assert {n: r.documents for n, r in report.splits.items()} == dict(Counter(seen.values()))

    more = [rec(f"e{i:03d}", {"ana": [A]}) for i in range(40)]
    bigger = build_project(tmp_path, records + more, name="db2")
    export_dataset(bigger, "jsonl", tmp_path / "out2", split=spec, seed=3)
    for name in ("train", "dev", "test"):
        ids = {orjson.loads(x)["id"] for x in (tmp_path / "out2" / f"{name}.jsonl").read_bytes().splitlines()}
        assert {i for i, n in seen.items() if n == name} <= ids
