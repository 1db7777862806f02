"""Real consumers read the exports: spaCy reads the DocBin, Hugging Face ``datasets`` the hf rows,
and brat's offsets slice its .txt files; --strict refuses any loss and writes nothing."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.unit.test_formats_common import FAMILY, NEWS, build_project, sp
from tui_reader import __version__
from tui_reader.core.formats.base import ExportLossError, WriterOptions
from tui_reader.core.formats.brat import fragments
from tui_reader.core.formats.dataset import assign_split, export_docs
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.hf import hf_features
from tui_reader.core.formats.registry import get_format

spacy = pytest.importorskip("spacy")
datasets = pytest.importorskip("datasets")
from spacy.tokens import DocBin  # noqa: E402

NLP = spacy.blank("en")

# One annotator, token-aligned spans (nested, overlapping, same-label adjacent), plus one span
# that is not on token boundaries ("inance") and two overlapping spans of the same label.
ALIGNED = [
    {"id": "news", "text": NEWS, "spans": [
        sp("news", '"will halve inflation by 2026"', "quote", "ana"),
        sp("news", "will halve inflation by 2026", "claim", "ana"),
        sp("news", "Critics called the plan reckless", "opinion", "ana"),
        sp("news", "Critics called", "quote", "ana"),
    ]},
    {"id": "emoji", "text": f"The {FAMILY} family visited 🇲🇽 and waved 👍🏽 at everyone.", "spans": [
        {"start": 4, "end": 4 + len(FAMILY), "label": "claim", "annotator": "ana"},
        {"start": 4, "end": 4 + len(FAMILY) + 7, "label": "quote", "annotator": "ana"},
    ]},
    {"id": "lines", "text": "Headline here\n\nFirst paragraph, with a claim.\nSecond line.\n", "spans": [
        {"start": 0, "end": 8, "label": "boilerplate", "annotator": "ana"},
        {"start": 15, "end": 20, "label": "claim", "annotator": "ana"},
        {"start": 21, "end": 30, "label": "claim", "annotator": "ana"},
    ]},
]
UNALIGNED = {"start": 1, "end": 7, "label": "claim", "annotator": "ana"}  # "inance"
SAME_LABEL = [  # overlapping claims: the second cannot be in a BIO column
    {"start": 74, "end": 88, "label": "claim", "annotator": "ana"},  # Critics called
    {"start": 82, "end": 97, "label": "claim", "annotator": "ana"},  # called the plan
]


def lossy_records() -> list[dict]:
    first = dict(ALIGNED[0], spans=ALIGNED[0]["spans"] + [UNALIGNED] + SAME_LABEL)
    return [first, *ALIGNED[1:]]


def spans_of(project) -> set[tuple]:
    out = set()
    for doc in export_docs(project):
        out |= {(doc.id, s["start"], s["end"], s["label"], s["text"]) for s in doc.spans}
    return out


# ------------------------------------------------------------------------------------- spaCy
def test_spacy_reads_the_docbin_with_every_span_and_overlaps(tmp_path):
    project = build_project(tmp_path, lossy_records())
    report = export_dataset(project, "spacy", tmp_path / "train.spacy")
    assert report.total.losses == {"spans not aligned to tokens dropped": 1}
    docs = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(NLP.vocab))
    got = {(d.user_data["id"], s.start_char, s.end_char, s.label_, s.text)
           for d in docs for s in d.spans["sc"]}
    expected = spans_of(project) - {("news", 1, 7, "claim", "inance")}
    assert got == expected
    news = next(d for d in docs if d.user_data["id"] == "news")
    assert news.text == NEWS
    quote = next(s for s in news.spans["sc"] if s.label_ == "quote" and s.text.startswith('"'))
    claim = next(s for s in news.spans["sc"] if s.text == "will halve inflation by 2026")
    assert quote.start < claim.start and claim.end < quote.end  # nested: overlaps kept


# --------------------------------------------------------------------------------------- hf
def bio_spans(row: dict, label: str) -> set[tuple]:
    """Spans rebuilt from a BIO column and the token offsets."""
    out, start, end = set(), None, None
    for tag, (s, e) in zip([*row[f"bio_{label}"], "O"], [*row["token_offsets"], (0, 0)]):
        if tag in ("B", "O") and start is not None:
            out.add((start, end, label))
            start = None
        if tag == "B":
            start, end = s, e
        elif tag == "I":
            assert start is not None
            end = e
    return out


def test_datasets_loads_the_hf_rows_and_bio_matches_the_spans(tmp_path):
    project = build_project(tmp_path, lossy_records())
    report = export_dataset(project, "hf", tmp_path / "hf", split="train=0.5,test=0.5", seed=4)
    assert report.total.losses == {
        "spans not aligned to tokens left out of the BIO columns": 1,
        "overlapping spans of the same label left out of the BIO columns": 1,
    }
    splits = {assign_split(r["id"], "train=0.5,test=0.5", 4) for r in lossy_records()}
    assert splits == {"train"}  # seed 4 leaves "test" empty: no file, and no split in the card
    assert sorted(p.name for p in (tmp_path / "hf").iterdir()) == ["README.md", "data", "labels.json"]
    assert [p.name for p in (tmp_path / "hf" / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    files = {name: str(tmp_path / "hf" / "data" / f"{name}-00000-of-00001.parquet") for name in splits}
    cache = str(tmp_path / "hf-cache")
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=cache)
    rows = [row for split in loaded.values() for row in split]
    assert sorted(r["id"] for r in rows) == ["emoji", "lines", "news"]
    labels = list(project.config.label_names)
    for row in rows:
        assert all(row["text"][s:e] == tok for tok, (s, e) in zip(row["tokens"], row["token_offsets"]))
        listed = {(s["start"], s["end"], s["label"]) for s in row["spans"]}
        rebuilt = set().union(*(bio_spans(row, label) for label in labels))
        if row["id"] == "news":
            assert listed - rebuilt == {(1, 7, "claim"), (82, 97, "claim")}
            assert rebuilt <= listed
        else:
            assert rebuilt == listed
    # the folder loads as it is too: splits from the card's YAML, with the declared types
    folder = datasets.load_dataset(str(tmp_path / "hf"), cache_dir=cache)
    assert set(folder) == {"train"}
    assert folder["train"].features == hf_features(labels, project.config.schema)
    card = (tmp_path / "hf" / "README.md").read_text("utf-8")
    assert card.startswith("---\nlicense: unknown\n") and "split: test" not in card
    export_dataset(project, "hf", tmp_path / "hf2", split="train=0.5,test=0.5", seed=5)
    both = datasets.load_dataset(str(tmp_path / "hf2"), cache_dir=cache)
    assert {n: sorted(both[n]["id"]) for n in both} == {"train": ["news"], "test": ["emoji", "lines"]}
    assert orjson.loads((tmp_path / "hf" / "labels.json").read_bytes())["labels"] == labels


# -------------------------------------------------------------------------------------- brat
def test_brat_offsets_slice_the_txt_files_exactly(tmp_path):
    raw = "Headline here\r\n\r\nFirst paragraph, with a claim.\r\nSecond line.\r\n"
    quote = raw.index("claim.")
    records = lossy_records() + [
        {"id": "crlf/a b.txt", "text": raw,
         "spans": [{"start": 9, "end": 22, "label": "claim", "annotator": "ana", "note": "two\nlines"},
                   {"start": quote, "end": quote + 14, "label": "quote", "annotator": "ana"}]},
    ]
    project = build_project(tmp_path, records)
    report = export_dataset(project, "brat", tmp_path / "brat")
    assert report.total.notices["spans across line breaks written as discontinuous fragments"] == 2
    folder = tmp_path / "brat"
    texts = {doc.id: doc.text for doc in export_docs(project)}
    names = dict(line.split("\t") for line in (folder / "ids.tsv").read_text("utf-8").splitlines()[1:])
    assert names["crlf_a_b"] == "crlf/a b.txt"
    expected = spans_of(project)
    seen = set()
    for name, doc_id in names.items():
        raw = (folder / f"{name}.txt").read_bytes()
        text = raw.decode("utf-8")
        assert text == texts[doc_id] and b"\r" not in raw
        for line in (folder / f"{name}.ann").read_text("utf-8").split("\n"):
            if not line.startswith("T"):
                continue
            _tid, middle, shown = line.split("\t")
            label, where = middle.split(" ", 1)
            pieces = [tuple(int(x) for x in part.split()) for part in where.split(";")]
            assert " ".join(text[s:e] for s, e in pieces) == shown
            seen.add((doc_id, pieces[0][0], pieces[-1][1], label, text[pieces[0][0]:pieces[-1][1]]))
    assert seen == expected
    ann = (folder / "crlf_a_b.ann").read_text("utf-8")
    assert "T1\tclaim 9 13;15 20\there First\n#1\tAnnotatorNotes T1\ttwo lines\n" in ann
    assert "[entities]\nclaim\nquote\nopinion\nboilerplate\n" in (folder / "annotation.conf").read_text()


def test_brat_trims_a_span_ending_in_a_line_break_and_counts_it(tmp_path):
    project = build_project(tmp_path, [{"id": "x", "text": "One line.\nTwo.", "spans": [
        {"start": 0, "end": 10, "label": "claim", "annotator": "ana"}]}])
    with get_format("brat").open(tmp_path / "b", WriterOptions(labels=("claim",))) as writer:
        for doc in export_docs(project):
            writer.write(doc)
    assert writer.report.losses == {"spans with a line break at an edge trimmed": 1}
    assert (tmp_path / "b" / "x.ann").read_text() == "T1\tclaim 0 9\tOne line.\n"
    assert fragments("a\n\nb\n", 0, 5) == [(0, 1), (3, 4)]


# -------------------------------------------------------------------------------------- conll
def test_conll_columns_and_document_comments(tmp_path):
    project = build_project(tmp_path, ALIGNED[:1])
    export_dataset(project, "conll", tmp_path / "news.conll")
    lines = (tmp_path / "news.conll").read_text("utf-8").split("\n")
    assert lines[0] == "# columns = token claim quote opinion boilerplate source"
    assert lines[1] == "# id = news"
    rows = [line.split("\t") for line in lines[2:] if line]
    assert rows[7] == ['"', "O", "B-quote", "O", "O", "O"]
    assert rows[8] == ["will", "B-claim", "I-quote", "O", "O", "O"]
    assert rows[15] == ["Critics", "O", "B-quote", "B-opinion", "O", "O"]
    assert lines[-2:] == ["", ""]  # a blank line ends the document


# -------------------------------------------------------------------------------------- strict
@pytest.mark.parametrize(("fmt", "target"), [
    ("hf", "hf-out"), ("spacy", "out.spacy"), ("conll", "out.conll"), ("prodigy", "out.jsonl"),
])
def test_strict_refuses_a_loss_and_writes_nothing(tmp_path, fmt, target):
    project = build_project(tmp_path, lossy_records())
    with pytest.raises(ExportLossError, match="strict") as err:
        export_dataset(project, fmt, tmp_path / target, strict=True)
    assert "'news'" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]  # no output, no temp file
    report = export_dataset(project, fmt, tmp_path / target)
    assert sum(report.total.losses.values()) >= 1
    assert "not aligned to tokens" in report.summary()


def test_strict_passes_when_nothing_is_lost(tmp_path):
    project = build_project(tmp_path, ALIGNED)
    for fmt in ("hf", "spacy", "conll", "prodigy", "doccano", "label-studio", "brat"):
        report = export_dataset(project, fmt, tmp_path / f"out-{fmt}", strict=True,
                                split="train=0.5,dev=0.5")
        assert report.total.losses == {} and report.total.documents == 3, fmt


def test_writer_used_alone_writes_atomically(tmp_path):

    project = build_project(tmp_path, lossy_records())
    target = tmp_path / "alone.jsonl"
    with pytest.raises(ExportLossError):
        with get_format("prodigy").open(target, WriterOptions(strict=True)) as writer:
            for doc in export_docs(project):
                writer.write(doc)
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["db"]


def test_existing_folder_is_not_overwritten_without_asking(tmp_path):
    project = build_project(tmp_path, ALIGNED)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an empty folder"):
        export_dataset(project, "hf", tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    export_dataset(project, "hf", tmp_path / "out", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["README.md", "data", "labels.json"]


# ---------------------------------------------------------------------------------------- card
def test_dataset_card_says_what_the_dataset_is(tmp_path):
    project = build_project(tmp_path, lossy_records())
    report = export_dataset(project, "jsonl", tmp_path / "out", split="train=0.5,test=0.5", seed=1)
    card = (tmp_path / "out" / "README.md").read_text("utf-8")
    for expected in ("## Source corpus", "A statement of fact that could be checked", "| documents |",
                     "| claim spans |", "- ana:",
                     "Inter-annotator agreement: fewer than two annotators on the same documents.",
                     "Unicode code points", "end exclusive", "train=0.5,test=0.5", "| seed | 1 |",
                     f"tui-reader {__version__}"):
        assert expected in card, expected
    total = sum(1 for r in lossy_records() for s in r["spans"] if s["label"] == "claim")
    train, test = report.splits["train"].labels["claim"], report.splits["test"].labels["claim"]
    assert train + test == total == 7 and min(train, test) > 0
    assert f"| claim spans | {train} | {test} | {total} |" in card


def test_file_layout_without_split_is_one_file(tmp_path):
    project = build_project(tmp_path, ALIGNED)
    report = export_dataset(project, "doccano", tmp_path / "one.jsonl")
    assert report.files == [tmp_path / "one.jsonl"] and (tmp_path / "one.jsonl").is_file()
    assert [Path(p).name for p in report.total.files] == ["one.jsonl"]
