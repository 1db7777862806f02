"""``--format hf`` writes the Hub's layout: Parquet shards per split and a dataset card whose YAML
header the Hub (huggingface_hub's own card parser) and ``datasets.load_dataset(folder)`` read."""

from __future__ import annotations

import pytest

from tests.unit.test_formats_common import build_project
from tui_reader.core.errors import InputError
from tui_reader.core.formats.export import export_dataset

datasets = pytest.importorskip("datasets", reason="datasets is not installed (pip install -e '.[test]')")
huggingface_hub = pytest.importorskip("huggingface_hub", reason="huggingface_hub comes with datasets")

FAMILY = "👨\u200d👩\u200d👧"


def records(n: int = 12) -> list[dict]:
    out = []
    for i in range(n):
        text = f"Story {i}: the minister said {FAMILY} prices will fall by {i}% next year."
        claim = text.index("prices")
        out.append({"id": f"doc-{i:02d}", "text": text, "spans": [
            {"start": claim, "end": len(text) - 1, "label": "claim", "annotator": "ana"},
            {"start": text.index("the minister"), "end": len(text) - 1, "label": "quote",
             "annotator": "ana"},  # a claim nested in a quote
        ]})
    return out


def test_load_dataset_reads_the_folder_with_its_splits_and_no_arguments(tmp_path):
    project = build_project(tmp_path, records())
    report = export_dataset(project, "hf", tmp_path / "hub", split="train=0.5,dev=0.25,test=0.25",
                            seed=0, extra={"license": "cc-by-4.0"})
    sizes = {name: r.documents for name, r in report.splits.items()}
    assert all(sizes.values()) and sum(sizes.values()) == 12
    shards = sorted(p.relative_to(tmp_path / "hub").as_posix() for p in (tmp_path / "hub").rglob("*.parquet"))
    assert shards == [f"data/{n}-00000-of-00001.parquet" for n in sorted(sizes)]

    loaded = datasets.load_dataset(str(tmp_path / "hub"), cache_dir=str(tmp_path / "cache"))
    assert {name: len(split) for name, split in loaded.items()} == sizes
    for row in (row for split in loaded.values() for row in split):
        assert [row["text"][s["start"]:s["end"]] for s in row["spans"]] == [
            row["text"][row["text"].index("the minister"):-1],
            row["text"][row["text"].index("prices"):-1],
        ]
        assert "B" in row["bio_claim"] and "B" in row["bio_quote"]  # both labels, nested


def test_the_card_has_the_hubs_header_and_its_sections(tmp_path):
    project = build_project(tmp_path, records())
    for doc_id in ("doc-00", "doc-01"):  # a second annotator, for the agreement section
        text = project.document(doc_id).text
        project.add_span(doc_id, text.index("prices"), len(text) - 1, "claim", "bo")
    export_dataset(project, "hf", tmp_path / "hub", split="train=0.8,test=0.2", seed=2,
                   gold="annotator:ana", extra={"license": "cc-by-4.0"})
    text = (tmp_path / "hub" / "README.md").read_text("utf-8")
    card = huggingface_hub.DatasetCard(text)  # the Hub's own parser
    meta = card.data.to_dict()
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["en"]
    assert meta["task_categories"] == ["token-classification"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [{"config_name": "default", "data_files": [
        {"split": "train", "path": "data/train-00000-of-00001.parquet"},
        {"split": "test", "path": "data/test-00000-of-00001.parquet"}]}]
    assert [s["name"] for s in meta["dataset_info"]["splits"]] == ["train", "test"]
    body = card.text
    for section in ("## Dataset Structure", "## Annotations", "## Limitations"):
        assert section in body, section
    annotations = body[body.index("## Annotations"):body.index("## Limitations")]
    for expected in ("**Tool.** Labelled by hand in tui-reader", "**Guidelines.**",
                     "A statement of fact that could be checked", "**Annotators.**", "ana 12",
                     "**Agreement.**\n\n| annotators | documents | span F1 exact |",
                     "| ana / bo | 2 | 0.667 |", "Gold policy: annotator:ana"):
        assert expected in annotations, expected
    assert "Unicode code points" in body and "`bio_claim`" in body


def test_license_defaults_to_unknown_and_a_bad_one_is_refused(tmp_path):
    project = build_project(tmp_path, records(2))
    export_dataset(project, "hf", tmp_path / "a")
    assert (tmp_path / "a" / "README.md").read_text("utf-8").startswith("---\nlicense: unknown\n")
    with pytest.raises(InputError, match="Hugging Face license id"):
        export_dataset(project, "hf", tmp_path / "b", extra={"license": "CC BY 4.0"})
    assert not (tmp_path / "b").exists()


def test_many_rows_are_written_in_row_groups_and_read_back_in_order(tmp_path):
    import pyarrow.parquet as pq

    project = build_project(tmp_path, records(2300))
    export_dataset(project, "hf", tmp_path / "big")
    shard = pq.ParquetFile(tmp_path / "big" / "data" / "train-00000-of-00001.parquet")
    assert shard.metadata.num_rows == 2300 and shard.metadata.num_row_groups == 3
    assert shard.read(columns=["id"]).column("id").to_pylist() == [f"doc-{i:02d}" for i in range(2300)]
