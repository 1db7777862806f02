"""``tui-reader import`` and ``tui-reader export``: data in and out."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..core.errors import InputError
from ..core.formats.registry import format_names, formats
from ..core.text import display_safe
from .options import (
    ANNOTATOR_OPTION,
    DB_OPTION,
    LS_USERS_OPTION,
    open_project,
    run_import,
    user_errors,
)


@click.command("import")
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@ANNOTATOR_OPTION
@LS_USERS_OPTION
def import_command(paths: tuple[str, ...], db: Path | None, annotator: str,
                   ls_users: Path | None) -> None:
    """Import .txt, .md, .markdown, .jsonl and .json files and folders (recursively) into a project."""
    from ..core.store import Project, find_project_dir

    with user_errors():
        users = None
        if ls_users is not None:
            from ..core.formats.label_studio import load_ls_users

            users = load_ls_users(ls_users)
        project = Project.open(find_project_dir(db, paths[0]), create=True)
        report = run_import(project, list(paths), annotator, ls_users=users)
    click.echo(f"{report.summary()} -> {project.root}", err=True)
    sys.exit(1 if report.problems else 0)


def _formats_help() -> str:
    return "Dataset format: " + "; ".join(f"{f.name}: {f.summary}" for f in formats().values()) + "."


@click.command("export")
@DB_OPTION
@click.option("-o", "--output", required=True,
              help="File to write (a folder for brat, hf and any --split), or - for stdout.")
@click.option("--format", "fmt", type=click.Choice(format_names()), default="jsonl",
              show_default=True, help=_formats_help())
@click.option("--annotator", help="Only this annotator's spans and statuses.")
@click.option("--label", "labels", multiple=True, help="Only spans with this label (repeatable).")
@click.option("--status", help="Only documents with this status (new, in progress, done, skipped).")
@click.option("--all", "all_documents", is_flag=True, help="Every document, labelled or not.")
@click.option("--include-controls", is_flag=True,
              help="Control documents too (left out otherwise), with the annotators' work on them; "
                   "their known answers only with --annotator control or --gold annotator:control.")
@click.option("--gold", help="With several annotators: annotator:NAME, union, majority, adjudicated.")
@click.option("--min-agree", type=int, help="With --gold majority: annotators who must agree.")
@click.option("--split", help="Split by document, e.g. train=0.8,dev=0.1,test=0.1.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --split.")
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if the format cannot hold a span.")
@click.option("--lang", default="en", show_default=True, help="Tokenizer language (spaCy's blank).")
@click.option("--force", is_flag=True, help="Replace an existing export folder.")
@LS_USERS_OPTION
@click.option("--license", "license_id", metavar="ID",
              help="With --format hf: the dataset's license on the Hub (e.g. cc-by-4.0; default "
                   "unknown).")
def export_command(
    db: Path | None, output: str, fmt: str, annotator: str | None, labels: tuple[str, ...],
    status: str | None, all_documents: bool, include_controls: bool, gold: str | None,
    min_agree: int | None, split: str | None, seed: int, strict: bool, lang: str, force: bool,
    ls_users: Path | None, license_id: str | None,
) -> None:
    """Write the project's documents and spans as a dataset."""
    from ..core.formats.dataset import ExportFilter
    from ..core.formats.export import export_dataset

    with user_errors():
        project = open_project(db)
        flt = ExportFilter(annotator=annotator, labels=labels, status=status,
                           all_documents=all_documents, include_controls=include_controls)
        extra: dict[str, object] = {}
        if ls_users is not None:
            if fmt != "label-studio":
                raise InputError("--ls-users goes with --format label-studio")
            from ..core.formats.label_studio import load_ls_users

            extra["completed_by"] = load_ls_users(ls_users)
        if license_id is not None:
            if fmt != "hf":
                raise InputError("--license goes with --format hf")
            extra["license"] = license_id
        options = dict(flt=flt, gold=gold, min_agree=min_agree, split=split, seed=seed,
                       strict=strict, lang=lang, overwrite=force, extra=extra)
        try:
            if sys.stderr.isatty() and output != "-":
                with click.progressbar(length=len(project.documents()), label=f"exporting {fmt}",
                                       file=sys.stderr) as bar:
                    report = export_dataset(project, fmt, output, on_progress=bar.update, **options)
            else:
                report = export_dataset(project, fmt, output, **options)
        except BrokenPipeError:  # `export -o - | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
    click.echo(display_safe(report.summary()), err=True)
