"""The ``tui-reader`` command: annotate, import, export."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from . import __version__
from .core.formats import FORMAT_NAMES
from .core.model import STATUSES
from .core.storage import StoreError
from .core.store import Project, find_project_dir
from .core.text import display_safe

if TYPE_CHECKING:
    from .core.importer import ImportReport


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "annotator"


DB_OPTION = click.option(
    "--db", type=click.Path(path_type=Path),
    help="Project folder (default: .tui-reader/ in the corpus folder, or the nearest one above).",
)
ANNOTATOR_OPTION = click.option(
    "--annotator", envvar="TUI_READER_ANNOTATOR", default=default_annotator,
    show_default="login user", help="Who is labelling (also $TUI_READER_ANNOTATOR).",
)


def fail(message: str) -> None:
    click.echo(f"tui-reader: {display_safe(message)}", err=True)
    sys.exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the problems a user can fix into one line on stderr and exit status 2."""
    try:
        yield
    except (StoreError, ValueError, KeyError) as err:
        fail(str(err.args[0]) if err.args else str(err))
    except OSError as err:
        fail(f"{err.filename or ''}: {err.strerror}" if err.filename else str(err))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tui-reader")
def main() -> None:
    """Label spans of articles in the terminal and export them as training data."""


def run_import(project: Project, paths: list[str], annotator: str) -> ImportReport:
    """Import with a progress bar on a terminal; print one line per problem and a summary."""
    from .core.importer import import_paths

    total = sum(_size(p) for p in paths)
    if sys.stderr.isatty() and total > 1_000_000:
        with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
            report = import_paths(project, paths, annotator, on_progress=bar.update)
    else:
        report = import_paths(project, paths, annotator)
    for problem in report.problems:
        click.echo(display_safe(problem), err=True)
    return report


def _size(path: str) -> int:
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if p.is_dir():
        return sum(
            f.stat().st_size for f in p.rglob("*") if f.is_file() and ".tui-reader" not in f.parts
        )
    return 0


@main.command("annotate")
@click.argument("path", required=False)
@DB_OPTION
@ANNOTATOR_OPTION
@click.option("--no-suggest", is_flag=True, help="Show no suggestions (also `suggest = false` in config).")
@click.option("--patterns", type=click.Path(path_type=Path),
              help="JSONL rules to suggest with, besides the built-in ones.")
def annotate_command(path: str | None, db: Path | None, annotator: str, no_suggest: bool,
                     patterns: Path | None) -> None:
    """Open the annotator's app (PATH, a corpus folder or file, is imported first)."""
    rules = []
    with user_errors():
        if patterns is not None:
            from .core.suggest.rules import load_patterns

            rules = load_patterns(patterns)
        project = Project.open(find_project_dir(db, path), create=path is not None)
        if path is not None:
            if not Path(path).exists():
                raise StoreError(f"{path}: no such file or folder")
            report = run_import(project, [path], annotator)
            if report.problems:
                click.echo(f"{report.summary()}; opening the app anyway", err=True)
    from .ui.app import AnnotatorApp  # Textual loads only for the app

    suggest = not no_suggest and project.config.suggest
    AnnotatorApp(project, annotator, suggest=suggest, rules=rules).run()


@main.command("review")
@DB_OPTION
@click.option("--reviewer", envvar="TUI_READER_ANNOTATOR", default=default_annotator,
              show_default="login user", help="Who is reviewing (recorded on every gold span).")
def review_command(db: Path | None, reviewer: str) -> None:
    """Settle disagreements into the gold layer: every annotator's spans, disagreements first."""
    with user_errors():
        project = Project.open(find_project_dir(db, None))
    from .ui.app import AnnotatorApp

    AnnotatorApp(project, reviewer, reviewer=reviewer).run()


@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@ANNOTATOR_OPTION
def import_command(paths: tuple[str, ...], db: Path | None, annotator: str) -> None:
    """Import .txt, .md, .markdown and .jsonl files and folders (recursively) into a project."""
    with user_errors():
        project = Project.open(find_project_dir(db, paths[0]), create=True)
        report = run_import(project, list(paths), annotator)
    click.echo(f"{report.summary()} -> {project.root}", err=True)
    sys.exit(1 if report.problems else 0)


@main.command("export")
@DB_OPTION
@click.option("-o", "--output", required=True,
              help="File to write (a folder for brat, hf and any --split), or - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="jsonl", show_default=True)
@click.option("--annotator", help="Only this annotator's spans and statuses.")
@click.option("--label", "labels", multiple=True, help="Only spans with this label (repeatable).")
@click.option("--status", help="Only documents with this status (new, in progress, done, skipped).")
@click.option("--all", "all_documents", is_flag=True, help="Every document, labelled or not.")
@click.option("--gold", help="With several annotators: annotator:NAME, union, majority, adjudicated.")
@click.option("--min-agree", type=int, help="With --gold majority: annotators who must agree.")
@click.option("--split", help="Split by document, e.g. train=0.8,dev=0.1,test=0.1.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --split.")
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if the format cannot hold a span.")
@click.option("--lang", default="en", show_default=True, help="Tokenizer language (spaCy's blank).")
@click.option("--force", is_flag=True, help="Replace an existing export folder.")
def export_command(
    db: Path | None, output: str, fmt: str, annotator: str | None, labels: tuple[str, ...],
    status: str | None, all_documents: bool, gold: str | None, min_agree: int | None,
    split: str | None, seed: int, strict: bool, lang: str, force: bool,
) -> None:
    """Write the project's documents and spans as a dataset."""
    from .core.formats.jsonl import ExportFilter, export_records, write_jsonl

    with user_errors():
        project = Project.open(find_project_dir(db, None))
        flt = ExportFilter(annotator=annotator, labels=labels, status=status,
                           all_documents=all_documents)
        flt.check(project)
        if fmt == "jsonl" and not (gold or split or min_agree):
            with _output(output) as out:
                count = write_jsonl(export_records(project, flt), out)
            noun = "document" if count == 1 else "documents"
            click.echo(f"{count} {noun} written to {'stdout' if output == '-' else output}", err=True)
            return
        if output == "-":
            raise ValueError(f"-o - writes native JSONL only; give a file or folder for {fmt}"
                             + (" with --split" if split else ""))
        from .core.formats.export import export_dataset  # spaCy and friends load only here

        options = dict(flt=flt, gold=gold, min_agree=min_agree, split=split, seed=seed,
                       strict=strict, lang=lang, overwrite=force, agreement=agreement_summary(project))
        if sys.stderr.isatty():
            with click.progressbar(length=len(project.documents()), label=f"exporting {fmt}",
                                   file=sys.stderr) as bar:
                report = export_dataset(project, fmt, output, on_progress=bar.update, **options)
        else:
            report = export_dataset(project, fmt, output, **options)
    click.echo(display_safe(report.summary()), err=True)


def agreement_summary(project: Project) -> str | None:
    """A few lines for the dataset card, when two or more annotators labelled the same texts."""
    from .core.agreement import compute_agreement, documents_for_agreement

    report = compute_agreement(documents_for_agreement(project), project.config.label_names)
    overall = [p for p in report.pairs if p.label is None]
    if not overall:
        return None
    lines = ["| annotators | documents | span F1 exact | span F1 overlap | token kappa |",
             "| --- | --- | --- | --- | --- |"]

    def num(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    for p in overall:
        lines.append(f"| {p.a} / {p.b} | {p.documents} | {num(p.exact_f1)} | {num(p.overlap_f1)} "
                     f"| {num(p.kappa)} |")
    lines.append("")
    lines.append(f"Krippendorff's alpha (nominal, tokens, all labels): {num(report.alpha.get(None))}")
    return "\n".join(lines)


@main.command("stats")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts instead of tables.")
def stats_command(db: Path | None, as_json: bool) -> None:
    """Documents by status, spans by label and annotator, and time spent."""
    from .core.stats import project_stats

    with user_errors():
        project = Project.open(find_project_dir(db, None))
        stats = project_stats(project)
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(Text(f"{stats['documents']} documents, {stats['spans']} spans, "
                       f"{len(stats['annotators'])} annotators", style="bold"))
    by_status = Table(title="Documents by status", title_justify="left")
    by_status.add_column("annotator")
    for status in STATUSES:
        by_status.add_column(status, justify="right")
    for name, row in stats["status"].items():
        by_status.add_row(Text(display_safe(name)), *(str(row[s]) for s in STATUSES))
    console.print(by_status)
    by_label = Table(title="Spans by label", title_justify="left")
    by_label.add_column("annotator")
    labels = list(stats["labels"])
    for label in labels:
        by_label.add_column(Text(display_safe(label)), justify="right")
    by_label.add_column("total", justify="right")
    for name, row in stats["spans_by_annotator"].items():
        by_label.add_row(Text(display_safe(name)), *(str(row.get(lab, 0)) for lab in labels),
                         str(sum(row.values())))
    by_label.add_row(Text("all", style="bold"), *(str(stats["labels"][lab]) for lab in labels),
                     str(stats["spans"]))
    console.print(by_label)
    time_table = Table(title="Time spent (active; idle gaps over 5 minutes left out)",
                       title_justify="left")
    for column in ("annotator", "hours", "documents", "per done document"):
        time_table.add_column(column, justify="left" if column == "annotator" else "right")
    for name, row in stats["time"].items():
        done = stats["status"].get(name, {}).get("done", 0)
        per_doc = f"{row['seconds'] / done / 60:.1f} min" if done else "n/a"
        time_table.add_row(Text(display_safe(name)), f"{row['seconds'] / 3600:.2f}",
                           str(row["documents"]), per_doc)
    console.print(time_table)


@main.command("agree")
@DB_OPTION
@click.option("--label", help="Only this label.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts instead of tables.")
@click.option("--worst", default=10, show_default=True, help="How many documents to list, worst first.")
def agree_command(db: Path | None, label: str | None, as_json: bool, worst: int) -> None:
    """Agreement between annotators: span F1, Cohen's kappa, Krippendorff's alpha."""
    from .core.agreement import compute_agreement, documents_for_agreement

    with user_errors():
        project = Project.open(find_project_dir(db, None))
        labels = project.config.label_names
        if label is not None and label not in labels:
            raise ValueError(f"unknown label {label!r} (this project's labels: {', '.join(labels)})")
        chosen = (label,) if label else labels
        report = compute_agreement(documents_for_agreement(project, label), chosen)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
        return
    _print_agreement(report, worst)


def _print_agreement(report, worst: int) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def num(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    console = Console()
    if len(report.annotators) < 2:
        console.print(Text("Agreement needs two annotators on the same documents; "
                           f"found {len(report.annotators)}."))
        return
    pairs = Table(title="Pairwise agreement", title_justify="left")
    for column in ("annotators", "label", "documents", "span F1 exact", "span F1 overlap",
                   "token kappa"):
        pairs.add_column(column, justify="left" if column in ("annotators", "label") else "right")
    for p in report.pairs:
        pairs.add_row(Text(display_safe(f"{p.a} / {p.b}")), Text(p.label or "all labels"),
                      str(p.documents), num(p.exact_f1), num(p.overlap_f1), num(p.kappa))
    console.print(pairs)
    alpha = Table(title="Krippendorff's alpha (nominal, tokens)", title_justify="left")
    alpha.add_column("label")
    alpha.add_column("alpha", justify="right")
    for key, value in report.alpha.items():
        alpha.add_row(Text(key or "all labels"), num(value))
    console.print(alpha)
    docs = Table(title=f"Documents, worst first ({min(worst, len(report.documents))} of "
                       f"{len(report.documents)})", title_justify="left")
    for column in ("document", "annotators", "F1 exact", "F1 overlap", "alpha"):
        docs.add_column(column, justify="left" if column in ("document", "annotators") else "right")
    for d in report.documents[:worst]:
        docs.add_row(Text(display_safe(d.id)), Text(display_safe(", ".join(d.annotators))),
                     num(d.exact_f1), num(d.overlap_f1), num(d.alpha))
    console.print(docs)


@contextmanager
def _output(name: str) -> Iterator[IO[bytes]]:
    """stdout, or a file that appears complete or not at all."""
    if name == "-":
        try:
            yield sys.stdout.buffer
            sys.stdout.flush()
        except BrokenPipeError:  # `export -o - | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        return
    path = Path(name)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give a file name to -o")
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    finally:
        if part.exists():
            part.unlink()


if __name__ == "__main__":  # pragma: no cover
    main()

from .serve.commands import serve_ssh_command, serve_web_command  # noqa: E402

main.add_command(serve_ssh_command)
main.add_command(serve_web_command)
