"""Hugging Face Hub dataset layout: Parquet shards per split and a dataset card the Hub reads.

::

    data/train-00000-of-00001.parquet   # one shard per split (dev, test, ... likewise)
    README.md                           # the card: the Hub's YAML header, then the sections
    labels.json

so that ``datasets.load_dataset(folder)`` (or the folder pushed to the Hub as it is) loads every
split with its types and no extra argument. One row per document::

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

Writing Parquet needs pyarrow (``pip install 'tui-reader[formats]'``). ``WriterOptions.extra``:
``license`` (a Hub license id, e.g. ``cc-by-4.0``; ``unknown`` when not given).

:func:`labels_json` is the ``labels.json`` written beside the rows; :func:`hf_features` the
``datasets.Features`` of a row; :func:`features_yaml` the same as card YAML; :func:`hub_card` the
whole ``README.md`` (YAML header with license, language, task categories, size category, configs
and splits; sections Dataset Structure, Annotations, Limitations).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from ..agreement import agreement_markdown
from ..errors import InputError
from ..schema import Schema
from .base import ExportReport, Writer, overlapping_same_label
from .dataset import ExportDoc
from .registry import Format
from .tokens import tokenize, words

if TYPE_CHECKING:
    from ..store import Project

ROWS_PER_GROUP = 1000  # rows held in memory before they are written as one Parquet row group
_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")


SHARD_PATH = "data/{split}-00000-of-00001.parquet"  # where a split's rows go: the Hub's naming


def shard_path(split: str) -> str:
    return SHARD_PATH.format(split=split)


def require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("the hf format writes Parquet and needs pyarrow: "
                         "pip install 'tui-reader[formats]'") from None
    return pyarrow


def check_license(value: Any) -> str:
    """A Hub license id (``cc-by-4.0``, ``mit``, ``other``, ...); ``unknown`` when None."""
    if value is None:
        return "unknown"
    if not isinstance(value, str) or not _LICENSE.match(value):
        raise InputError(f"--license {value!r}: give a Hugging Face license id such as cc-by-4.0, "
                         "mit, apache-2.0 or other")
    return value


def bio_column(label: str) -> str:
    return f"bio_{label}"


_COLUMNS = ("id", "text", "spans", "tokens", "token_offsets", "relations")


def group_column(group: str) -> str:
    """The column of one group of article labels: its name, unless a column has that name."""
    return f"article_{group}" if group in _COLUMNS or group.startswith("bio_") else group


def labels_json(labels: list[tuple[str, str]] | tuple[tuple[str, str], ...],
                schema: Schema | None = None) -> str:
    """``labels.json``: label names (config order), descriptions, their BIO column names, and
    the project's relations, span attributes and article-label groups with their columns."""
    schema = schema or Schema()
    data: dict[str, Any] = {
        "labels": [name for name, _ in labels],
        "descriptions": {name: description for name, description in labels},
        "bio_columns": {name: bio_column(name) for name, _ in labels},
        "bio_tags": ["O", "B", "I"],
        "offsets": "code points into text, end exclusive",
    }
    if schema.relations:
        data["relations"] = {r.name: {"heads": list(r.heads), "children": list(r.children),
                                      "directed": r.directed, "description": r.description}
                             for r in schema.relations}
        data["relations_column"] = "relations: head and child index into spans"
    if schema.attributes:
        data["span_attributes"] = {a.name: {"labels": list(a.labels), "type": a.kind,
                                            "values": list(a.values), "description": a.description}
                                   for a in schema.attributes}
    if schema.article_labels:
        data["article_labels"] = {g.group: {"column": group_column(g.group), "values": list(g.values),
                                            "multiple": g.multiple, "description": g.description}
                                  for g in schema.article_labels}
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def hf_features(labels: list[str] | tuple[str, ...], schema: Schema | None = None) -> Any:
    """The ``datasets.Features`` of a row (needs the ``datasets`` package)."""
    from datasets import Features, Sequence, Value

    schema = schema or Schema()
    span: dict[str, Any] = {"start": Value("int32"), "end": Value("int32"), "label": Value("string")}
    if schema.attributes:
        span["attributes"] = {a.name: Value("string") for a in schema.attributes}
    features: dict[str, Any] = {
        "id": Value("string"),
        "text": Value("string"),
        "spans": [span],
        "tokens": Sequence(Value("string")),
        "token_offsets": Sequence(Sequence(Value("int32"))),
    }
    for label in labels:
        features[bio_column(label)] = Sequence(Value("string"))
    if schema.relations:
        features["relations"] = [{"head": Value("int32"), "child": Value("int32"),
                                  "label": Value("string")}]
    for group in schema.article_labels:
        features[group_column(group.group)] = (Sequence(Value("string")) if group.multiple
                                               else Value("string"))
    return Features(features)


def features_yaml(labels: list[str] | tuple[str, ...], schema: Schema | None = None) -> str:
    """``dataset_info.features`` for a dataset card's YAML header (the shape of hf_features)."""
    schema = schema or Schema()
    lines = [
        "  features:",
        "  - name: id", "    dtype: string",
        "  - name: text", "    dtype: string",
        "  - name: spans", "    list:",
        "    - name: start", "      dtype: int32",
        "    - name: end", "      dtype: int32",
        "    - name: label", "      dtype: string",
    ]
    if schema.attributes:
        lines += ["    - name: attributes", "      struct:"]
        for a in schema.attributes:
            lines += [f"      - name: {a.name}", "        dtype: string"]
    lines += [
        "  - name: tokens", "    sequence: string",
        "  - name: token_offsets", "    sequence:", "      sequence: int32",
    ]
    for label in labels:
        lines += [f"  - name: {bio_column(label)}", "    sequence: string"]
    if schema.relations:
        lines += ["  - name: relations", "    list:",
                  "    - name: head", "      dtype: int32",
                  "    - name: child", "      dtype: int32",
                  "    - name: label", "      dtype: string"]
    for group in schema.article_labels:
        lines += [f"  - name: {group_column(group.group)}",
                  "    sequence: string" if group.multiple else "    dtype: string"]
    return "\n".join(lines)


def arrow_schema(labels: list[str] | tuple[str, ...], schema: Schema | None = None) -> Any:
    """The Parquet schema of a row (the shape of :func:`hf_features`)."""
    pa = require_pyarrow()
    schema = schema or Schema()
    span = [("start", pa.int32()), ("end", pa.int32()), ("label", pa.string())]
    if schema.attributes:
        span.append(("attributes", pa.struct([(a.name, pa.string()) for a in schema.attributes])))
    fields = [
        ("id", pa.string()), ("text", pa.string()),
        ("spans", pa.list_(pa.struct(span))),
        ("tokens", pa.list_(pa.string())),
        ("token_offsets", pa.list_(pa.list_(pa.int32()))),
    ]
    fields += [(bio_column(label), pa.list_(pa.string())) for label in labels]
    if schema.relations:
        fields.append(("relations", pa.list_(pa.struct([("head", pa.int32()), ("child", pa.int32()),
                                                         ("label", pa.string())]))))
    fields += [(group_column(g.group), pa.list_(pa.string()) if g.multiple else pa.string())
               for g in schema.article_labels]
    return pa.schema(fields)


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
        check_license(self.options.extra.get("license"))
        import pyarrow.parquet as pq

        self._schema = arrow_schema(self.options.labels, self.options.schema)
        self._rows: list[dict[str, Any]] = []
        self._parquet = pq.ParquetWriter(self.out, self._schema)

    def _write(self, doc: ExportDoc) -> None:
        spans = self.layer_spans(doc)
        toks, columns, _kept, unaligned, overlapping = bio_layers(
            doc, spans, self.options.labels, self.options.lang
        )
        self.lose("spans not aligned to tokens left out of the BIO columns", doc, unaligned)
        self.lose("overlapping spans of the same label left out of the BIO columns", doc, overlapping)
        schema = self.options.schema
        out_spans = []
        for s in spans:
            span: dict[str, Any] = {"start": s["start"], "end": s["end"], "label": s["label"]}
            if schema.attributes:
                given = s.get("attributes", {})
                span["attributes"] = {
                    a.name: (("yes" if given[a.name] else "no") if isinstance(given.get(a.name), bool)
                             else given.get(a.name))
                    for a in schema.attributes}
            out_spans.append(span)
        row: dict[str, Any] = {
            "id": doc.id,
            "text": doc.text,
            "spans": out_spans,
            "tokens": [t.text for t in toks],
            "token_offsets": [[t.start, t.end] for t in toks],
        }
        for label in self.options.labels:
            row[bio_column(label)] = columns[label]
        index = {s["id"]: n for n, s in enumerate(spans)}
        if schema.relations:
            row["relations"] = [{"head": index[r["head"]], "child": index[r["child"]],
                                 "label": r["label"]} for r in doc.relations]
        else:
            self.lose("relations dropped", doc, len(doc.relations))
        chosen = doc.single_labels()
        for group in schema.article_labels:
            values = chosen.get(group.group, [])
            row[group_column(group.group)] = values if group.multiple else (values[0] if values else None)
        self.lose("article labels of groups not in config.toml dropped", doc,
                  sum(1 for g in chosen if schema.article_group(g) is None))
        self._rows.append(row)
        if len(self._rows) >= ROWS_PER_GROUP:
            self._flush_rows()
        self.count_spans(spans)
        self.count_layer(doc.annotators[0] if doc.annotators else None)

    def _flush_rows(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def _finish(self) -> None:
        self._flush_rows()
        self._parquet.close()  # writes the footer; the file itself is closed (fsynced) by close()

    def abort(self) -> None:
        parquet = getattr(self, "_parquet", None)
        if parquet is not None and not self._closed:
            try:
                parquet.close()
            except Exception:  # noqa: BLE001 - dropping the file anyway
                pass
        super().abort()


# ------------------------------------------------------------------------------ the card
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"))


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows."""
    return next((name for limit, name in _SIZES if n < limit), "10M<n<100M")


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _yaml_string(value: str) -> str:
    return orjson.dumps(value).decode()  # JSON strings are YAML strings


def card_header(report: ExportReport, labels: tuple[str, ...] | list[str], license: str,
                language: str, title: str, schema: Schema | None = None) -> str:
    """The YAML header the Hub reads: license, language, task categories, size category,
    configs (one data_files entry per split) and dataset_info (features, splits)."""
    splits = [(name, r) for name, r in report.splits.items() if r.files]
    lines = [
        "---",
        f"license: {license}",
        "language:", f"- {language}",
        "task_categories:", "- token-classification",
        "task_ids:", "- named-entity-recognition",
        "size_categories:", f"- {size_category(report.total.documents)}",
        f"pretty_name: {_yaml_string(title)}",
        "tags:", "- tui-reader", "- span-classification", "- news",
        "configs:", "- config_name: default", "  data_files:",
    ]
    for name, _ in splits:
        lines += [f"  - split: {name}", f"    path: {shard_path(name)}"]
    lines += ["dataset_info:", features_yaml(labels, schema), "  splits:"]
    for name, split_report in splits:
        lines += [f"  - name: {name}", f"    num_examples: {split_report.documents}"]
    lines += ["---", ""]
    return "\n".join(lines)


def hub_card(project: Project, report: ExportReport) -> str:
    """The ``README.md`` of an hf export: the Hub's YAML header, then Dataset Structure,
    Annotations (tool, guidelines, annotators, agreement) and Limitations."""
    from ... import __version__

    labels = project.config.label_names
    license = check_license(report.options.get("license"))
    language = report.options.get("lang") or "en"
    title = f"{report.target.name}: labelled spans in news articles"
    splits = [(name, r) for name, r in report.splits.items() if r.files]
    schema = project.config.schema
    out = [card_header(report, labels, license, language, title, schema)]
    out.append(f"# {title}\n")
    out.append(
        f"{report.total.documents} news articles with {report.total.spans} labelled spans "
        f"({', '.join(labels)}), exported by tui-reader {__version__} from the project at "
        f"`{project.root}` (of {len(project.documents())} documents in the project). "
        "`datasets.load_dataset(\"<this folder>\")` loads it with its splits.\n"
    )

    out.append("## Dataset Structure\n")
    out.append("One row per document:\n")
    out.append("| column | type | what it holds |")
    out.append("| --- | --- | --- |")
    out.append("| `id` | string | the document's id in the project (its file path, or its JSONL id) |")
    out.append("| `text` | string | the document's text, as annotators read it |")
    out.append("| `spans` | list of {start, end, label} | every labelled span, overlaps and nesting "
               "included; `text[start:end]` is its text |")
    out.append("| `tokens` | list of string | words (spaCy's blank tokenizer for "
               f"`{language}`, whitespace left out) |")
    out.append("| `token_offsets` | list of [start, end] | each token's characters in `text` |")
    for label in labels:
        out.append(f"| `{bio_column(label)}` | list of string | `B`/`I`/`O` per token for "
                   f"{_cell(label)} spans |")
    if schema.attributes:
        out.append("| `spans[].attributes` | {" + ", ".join(a.name for a in schema.attributes)
                   + "} | each span's attributes (yes/no as `yes`/`no`; null where unset) |")
    if schema.relations:
        out.append("| `relations` | list of {head, child, label} | relations between spans: `head` "
                   "and `child` are indices into `spans` ("
                   + ", ".join(_cell(r.name) for r in schema.relations) + ") |")
    for group in schema.article_labels:
        out.append(f"| `{group_column(group.group)}` | "
                   + ("list of string" if group.multiple else "string")
                   + f" | the article's {_cell(group.group)}: {_cell(', '.join(group.values))} |")
    out.append("")
    out.append("| split | file | documents | spans |")
    out.append("| --- | --- | --- | --- |")
    for name, split_report in splits:
        out.append(f"| {name} | `{shard_path(name)}` | {split_report.documents} | "
                   f"{split_report.spans} |")
    out.append("")
    out.append(
        "Offsets are Python `str` indices, i.e. Unicode code points, end exclusive. Texts are as "
        "tui-reader stored them: newlines are LF (CRLF and CR were made LF at import), nothing "
        "else was normalised. A JavaScript or UTF-16 consumer must convert offsets after "
        "characters outside the Basic Multilingual Plane (emoji). `labels.json` lists the labels, "
        "their descriptions and BIO columns.\n"
    )

    out.append("## Annotations\n")
    out.append(f"**Tool.** Labelled by hand in tui-reader {__version__}, a terminal app for "
               "reading articles and marking spans; an annotator may accept a rule's or a model's "
               "suggestion, which then counts as their own span.\n")
    out.append("**Guidelines.** The labels, as the annotators saw them described:\n")
    out.append("| label | description | spans |")
    out.append("| --- | --- | --- |")
    out += [f"| {_cell(label.name)} | {_cell(label.description)} | "
            f"{report.total.labels[label.name]} |" for label in project.config.labels]
    out.append("")
    from .guidelines import guidelines_section

    out += guidelines_section(project, project.guidelines(), heading="### Guidelines")
    out.append("**Annotators.** " + (
        "Documents per annotator (or per gold layer) in this export: "
        + ", ".join(f"{_cell(n)} {c}" for n, c in sorted(report.total.annotators.items())) + "."
        if report.total.annotators else "No annotator layer in this export."))
    gold = report.options.get("gold")
    out[-1] += f" Gold policy: {gold or 'none (one annotator per document)'}.\n"
    out.append("**Agreement.**\n")
    agreement = agreement_markdown(project)
    out.append((agreement or "Inter-annotator agreement: fewer than two annotators on the same "
                "documents.") + "\n")

    out.append("## Limitations\n")
    lost = report.total.lines() + [f"{what}: {n}" for what, n in sorted(report.skipped.items())]
    if lost:
        out.append("What this export could not hold or left out:\n")
        out += [f"- {line}" for line in lost]
    else:
        out.append("- Every span of the exported documents is in the files, in `spans` and in the "
                   "BIO columns.")
    out.append("- The BIO columns cannot hold a span that does not start and end on token "
               "boundaries, nor two overlapping spans of one label: `spans` always has them.")
    out.append("- Only documents someone labelled or marked done are here, unless the export "
               "asked for every document; a document marked done without spans is a real negative.")
    sources = ", ".join(f"`{_cell(src)}` ({n})" for src, n in report.sources.most_common(5))
    out.append(f"- Source: {sources or 'none'}; the articles' own biases and errors are kept as "
               "they were.\n")

    out.append("## Export options\n")
    out.append("| option | value |")
    out.append("| --- | --- |")
    out += [f"| {key} | {_cell(value)} |" for key, value in report.options.items()
            if value not in (None, [], False) or key in ("strict", "all_documents")]
    out.append("")
    out.append(f"Made with tui-reader {__version__}.\n")
    return "\n".join(out)


FORMAT = Format(
    name="hf", summary="the Hugging Face Hub's layout: Parquet shards per split, a dataset card",
    writer=HFWriter, suffix=".parquet", binary=True, always_folder=True, tokenized=True,
    drop_empty_splits=True, split_path=SHARD_PATH, card=hub_card,
    cannot_carry=("span notes", "more than one annotator's layer",
                  "in the BIO columns: spans off token boundaries and overlaps of one label"),
)
