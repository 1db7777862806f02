"""The dataset card (``README.md``) written into every folder export.

It says where the data came from (project, source folders), what the labels mean (from the
project's ``config.toml``), how many documents and spans each split and label has, who annotated,
inter-annotator agreement where known (``agreement``: text from an agreement module; "not
computed" otherwise), the offset convention, the export options and the tool version. For ``hf``
exports it starts with the YAML header Hugging Face reads (splits and column types), so
``datasets.load_dataset(folder)`` loads the splits with their types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import __version__
from ..store import Project
from .hf import features_yaml, hub_card

if TYPE_CHECKING:
    from .export import ExportReport

_CONVENTION = (
    "Offsets are Python `str` indices, i.e. Unicode code points, into each document's text, "
    "end exclusive: `text[start:end]` is the span's text. Texts are as tui-reader stored them: "
    "newlines are LF (CRLF and CR were made LF at import), nothing else was normalised. A "
    "JavaScript or UTF-16 consumer must convert offsets after characters outside the Basic "
    "Multilingual Plane (emoji)."
)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _yaml_header(report: ExportReport, labels: tuple[str, ...]) -> str:
    suffix = ".jsonl"
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name, split_report in report.splits.items():
        if split_report.files:
            lines += [f"  - split: {name}", f"    path: {name}{suffix}"]
    lines += ["dataset_info:", features_yaml(labels), "---", ""]
    return "\n".join(lines)


def dataset_card(project: Project, report: ExportReport, agreement: str | None = None) -> str:
    """The README.md text of a folder export described by ``report``."""
    if report.fmt == "hf":
        return hub_card(project, report, agreement)  # the Hub's layout (formats/hf.py)
    labels = project.config.label_names
    splits = report.splits
    split_names = [n or "all" for n in splits]
    out: list[str] = []
    if report.fmt == "hf":
        out.append(_yaml_header(report, labels))
    out.append(f"# {report.target.name}: labelled spans in news articles ({report.fmt})\n")
    out.append(
        f"Exported by tui-reader {__version__} from the project at `{project.root}`: "
        f"{report.total.documents} documents and {report.total.spans} spans "
        f"(of {len(project.documents())} documents in the project).\n"
    )

    out.append("## Source corpus\n")
    if report.sources:
        out.append("Exported documents per source folder:\n")
        out += [f"- `{_cell(src)}`: {n}" for src, n in report.sources.most_common(10)]
        if len(report.sources) > 10:
            out.append(f"- ... and {len(report.sources) - 10} more folders")
        out.append("")
    else:
        out.append("No documents were exported.\n")

    out.append("## Labels\n")
    out.append("| label | description |")
    out.append("| --- | --- |")
    out += [f"| {_cell(label.name)} | {_cell(label.description)} |" for label in project.config.labels]
    out.append("")

    out.append("## Counts\n")
    out.append("| | " + " | ".join(split_names) + " | total |")
    out.append("| --- |" + " --- |" * (len(split_names) + 1))
    out.append("| documents | " + " | ".join(str(r.documents) for r in splits.values())
               + f" | {report.total.documents} |")
    for label in labels:
        out.append(f"| {_cell(label)} spans | " + " | ".join(str(r.labels[label]) for r in splits.values())
                   + f" | {report.total.labels[label]} |")
    out.append("")

    out.append("## Annotators\n")
    if report.total.annotators:
        out.append("Documents per annotator (or per gold layer) in this export:\n")
        out += [f"- {_cell(name)}: {n}" for name, n in sorted(report.total.annotators.items())]
    else:
        out.append("No annotator layer in this export.")
    gold = report.options.get("gold")
    out.append(f"\nGold policy: {gold or 'none (every annotator kept)'}.\n")

    out.append("## Agreement\n")
    out.append((agreement or "Inter-annotator agreement: not computed.") + "\n")

    out.append("## Offsets\n")
    out.append(_CONVENTION + "\n")

    out.append("## What the format could not hold\n")
    lost = report.total.lines() + [f"{what}: {n}" for what, n in sorted(report.skipped.items())]
    out += [f"- {line}" for line in lost] if lost else ["Nothing: every span is in the files."]
    out.append("")

    out.append("## Export options\n")
    out.append("| option | value |")
    out.append("| --- | --- |")
    out += [
        f"| {key} | {_cell(value)} |" for key, value in report.options.items()
        if value not in (None, [], False) or key in ("strict", "all_documents")
    ]
    out.append("")
    out.append("## Files\n")
    for name, split_report in splits.items():
        for path in split_report.files:
            out.append(f"- `{path.name}`" + (f": split {name}" if name else ""))
    if report.fmt == "hf":
        out.append("- `labels.json`: label names, descriptions and BIO column names")
    out.append("")
    out.append(f"Made with tui-reader {__version__}.\n")
    return "\n".join(out)
