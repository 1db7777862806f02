"""The dataset card (``README.md``) written into every folder export.

It says where the data came from (project, source folders), what the labels mean (from the
project's ``config.toml``), the guidelines (``guidelines.py``), how many documents and spans each
split and label has, who annotated,
inter-annotator agreement where known (``agreement``: text from an agreement module; "not
computed" otherwise), the offset convention, the export options and the tool version. For ``hf``
exports it starts with the YAML header Hugging Face reads (splits and column types), so
``datasets.load_dataset(folder)`` loads the splits with their types.
"""

from __future__ import annotations

from ... import __version__
from ..agreement import agreement_markdown
from ..store import Project
from .base import ExportReport
from .guidelines import FILE_NAME as GUIDELINES_FILE
from .guidelines import guidelines_section
from .registry import get_format

_CONVENTION = (
    "Offsets are Python `str` indices, i.e. Unicode code points, into each document's text, "
    "end exclusive: `text[start:end]` is the span's text. Texts are as tui-reader stored them: "
    "newlines are LF (CRLF and CR were made LF at import), nothing else was normalised. A "
    "JavaScript or UTF-16 consumer must convert offsets after characters outside the Basic "
    "Multilingual Plane (emoji)."
)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def dataset_card(project: Project, report: ExportReport) -> str:
    """The README.md text of a folder export described by ``report``."""
    labels = project.config.label_names
    splits = report.splits
    split_names = [n or "all" for n in splits]
    fmt = get_format(report.fmt)
    if fmt.card is not None:
        return fmt.card(project, report)
    out: list[str] = []
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

    guidelines = project.guidelines()
    out += guidelines_section(project, guidelines)

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
    agreement = agreement_markdown(project)
    out.append((agreement or "Inter-annotator agreement: fewer than two annotators on the same "
                "documents.") + "\n")

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
    out.append("- `labels.json`: label names, descriptions and BIO column names")
    if guidelines is not None:
        out.append(f"- `{GUIDELINES_FILE}`: the annotation guidelines")
    out.append("")
    out.append(f"Made with tui-reader {__version__}.\n")
    return "\n".join(out)
