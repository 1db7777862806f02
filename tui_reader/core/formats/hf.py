"""Hugging Face ``datasets`` layout: JSONL rows that ``load_dataset("json", ...)`` reads as they are.

One row per document::

    {"id", "text",
     "spans": [{"start", "end", "label"}],          # every span, overlaps included
     "tokens": ["Finance", ...],                     # words: spaCy blank tokens, whitespace left out
     "token_offsets": [[0, 7], ...],                 # [start, end) of each token in text
     "bio_claim": ["O", "B", "I", ...], ...}         # one B/I/O column per project label

One BIO column per label keeps overlapping spans of *different* labels (a claim inside a quote).
What the BIO columns cannot hold is counted (the ``spans`` column still has it): a span whose ends
are not token boundaries ("spans not aligned to tokens left out of the BIO columns") and a span
overlapping an earlier span of the same label ("overlapping spans of the same label left out of
the BIO columns"; the earliest, then longest, wins). One set of spans per document.

:func:`labels_json` is the ``labels.json`` written beside the rows; :func:`hf_features` the
``datasets.Features`` of a row (for ``load_dataset(..., features=...)``); :func:`features_yaml`
the same as dataset-card YAML, so ``load_dataset(folder)`` knows the types even of empty columns.
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import ExportReport, Writer, overlapping_same_label
from .dataset import ExportDoc
from .registry import Format
from .tokens import tokenize, words


def bio_column(label: str) -> str:
    return f"bio_{label}"


def labels_json(labels: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """``labels.json``: label names (config order), descriptions, and their BIO column names."""
    data = {
        "labels": [name for name, _ in labels],
        "descriptions": {name: description for name, description in labels},
        "bio_columns": {name: bio_column(name) for name, _ in labels},
        "bio_tags": ["O", "B", "I"],
        "offsets": "code points into text, end exclusive",
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def hf_features(labels: list[str] | tuple[str, ...]) -> Any:
    """The ``datasets.Features`` of a row (needs the ``datasets`` package)."""
    from datasets import Features, Sequence, Value

    features: dict[str, Any] = {
        "id": Value("string"),
        "text": Value("string"),
        "spans": [{"start": Value("int32"), "end": Value("int32"), "label": Value("string")}],
        "tokens": Sequence(Value("string")),
        "token_offsets": Sequence(Sequence(Value("int32"))),
    }
    for label in labels:
        features[bio_column(label)] = Sequence(Value("string"))
    return Features(features)


def features_yaml(labels: list[str] | tuple[str, ...]) -> str:
    """``dataset_info.features`` for a dataset card's YAML header (the shape of hf_features)."""
    lines = [
        "  features:",
        "  - name: id", "    dtype: string",
        "  - name: text", "    dtype: string",
        "  - name: spans", "    list:",
        "    - name: start", "      dtype: int32",
        "    - name: end", "      dtype: int32",
        "    - name: label", "      dtype: string",
        "  - name: tokens", "    sequence: string",
        "  - name: token_offsets", "    sequence:", "      sequence: int32",
    ]
    for label in labels:
        lines += [f"  - name: {bio_column(label)}", "    sequence: string"]
    return "\n".join(lines)


def bio_tags(n_tokens: int, spans: list[tuple[int, int]]) -> list[str]:
    """B/I/O tags for token index ranges [first, last] (non-overlapping)."""
    tags = ["O"] * n_tokens
    for first, last in spans:
        tags[first] = "B"
        for i in range(first + 1, last + 1):
            tags[i] = "I"
    return tags


def bio_layers(doc: ExportDoc, spans: list[dict[str, Any]], labels: tuple[str, ...], lang: str,
               ) -> tuple[list[Any], dict[str, list[str]], list[dict[str, Any]], int, int]:
    """(word tokens, {label: tags}, spans in the tags, spans not aligned, same-label overlaps
    dropped)."""
    toks = words(tokenize(doc.text, lang))
    starts = {t.start: i for i, t in enumerate(toks)}
    ends = {t.end: i for i, t in enumerate(toks)}
    aligned = []
    unaligned = 0
    for span in spans:
        first, last = starts.get(span["start"]), ends.get(span["end"])
        if first is None or last is None or last < first:
            unaligned += 1
        else:
            aligned.append({**span, "_first": first, "_last": last})
    kept, overlapping = overlapping_same_label(aligned)
    columns = {
        label: bio_tags(len(toks), [(s["_first"], s["_last"]) for s in kept if s["label"] == label])
        for label in labels
    }
    written = [{k: v for k, v in s.items() if not k.startswith("_")} for s in kept]
    return toks, columns, written, unaligned, overlapping


class HFWriter(Writer):
    def _begin(self) -> None:
        if not self.options.labels:
            raise ValueError("the hf format needs the project's label names (WriterOptions.labels)")

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        spans = self.layer_spans(doc)
        toks, columns, _kept, unaligned, overlapping = bio_layers(
            doc, spans, self.options.labels, self.options.lang
        )
        self.lose("spans not aligned to tokens left out of the BIO columns", doc, unaligned)
        self.lose("overlapping spans of the same label left out of the BIO columns", doc, overlapping)
        row: dict[str, Any] = {
            "id": doc.id,
            "text": doc.text,
            "spans": [{"start": s["start"], "end": s["end"], "label": s["label"]} for s in spans],
            "tokens": [t.text for t in toks],
            "token_offsets": [[t.start, t.end] for t in toks],
        }
        for label in self.options.labels:
            row[bio_column(label)] = columns[label]
        self.out.write(orjson.dumps(row))
        self.out.write(b"\n")
        self.count_spans(spans)
        self.count_layer(doc.annotators[0] if doc.annotators else None)


def card_header(report: ExportReport, labels: tuple[str, ...]) -> str:
    """The YAML header Hugging Face reads from a dataset card: splits, files and column types."""
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name, split_report in report.splits.items():
        if split_report.files:
            lines += [f"  - split: {name}", f"    path: {name}.jsonl"]
    lines += ["dataset_info:", features_yaml(labels), "---", ""]
    return "\n".join(lines)


FORMAT = Format(
    name="hf", summary="a Hugging Face datasets folder: spans, tokens and a BIO column per label",
    writer=HFWriter, suffix=".jsonl", always_folder=True, tokenized=True, drop_empty_splits=True,
    cannot_carry=("span notes", "more than one annotator's layer",
                  "in the BIO columns: spans off token boundaries and overlaps of one label"),
    card_header=card_header,
)
