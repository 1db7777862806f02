"""``tui-reader label-all``: every occurrence of a text across the corpus, labelled or suggested."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.text import display_safe
from .options import ANNOTATOR_OPTION, DB_OPTION, open_project, user_errors


@click.command("label-all")
@click.argument("text")
@click.option("--label", required=True, help="The label to give every occurrence.")
@DB_OPTION
@ANNOTATOR_OPTION
@click.option("--as-suggestions", is_flag=True,
              help="Store the occurrences as suggestions the app offers (a accepts, r rejects) "
                   "instead of labelling them.")
def label_all_command(text: str, label: str, db: Path | None, annotator: str,
                      as_suggestions: bool) -> None:
    """Label every occurrence of TEXT in the corpus with --label: exact text (same case), on word
    boundaries, passing over places that already hold that label for the annotator; one write
    per document. Control documents are left alone."""
    from ..core.label_all import label_all

    with user_errors():
        project = open_project(db)
        report = label_all(project, text, label, annotator, as_suggestions=as_suggestions)
    click.echo(display_safe(report.summary()))
