"""``tui-reader annotate`` and ``tui-reader review``: the app."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import ANNOTATOR_OPTION, DB_OPTION, REVIEWER_OPTION, open_project, user_errors


@click.command("annotate")
@click.argument("path", required=False)
@DB_OPTION
@ANNOTATOR_OPTION
@click.option("--no-suggest", is_flag=True, help="Show no suggestions (also `suggest = false` in config).")
@click.option("--patterns", type=click.Path(path_type=Path),
              help="JSONL rules to suggest with, besides the built-in ones.")
@click.option("--ml-backend", metavar="URL",
              help="A model server speaking Label Studio's ML backend protocol to suggest with "
                   "(also ml_backend in config.toml).")
def annotate_command(path: str | None, db: Path | None, annotator: str, no_suggest: bool,
                     patterns: Path | None, ml_backend: str | None) -> None:
    """Open the annotator's app (PATH, a corpus folder or file, is imported first)."""
    rules = []
    with user_errors():
        if patterns is not None:
            from ..core.suggest.rules import load_patterns

            rules = load_patterns(patterns)
        from ..core.suggest.ml_backend import backend_url, check_url

        if ml_backend:
            check_url(ml_backend)  # before anything is imported
        project = open_project(db, path, import_corpus=True, annotator=annotator,
                               then="opening the app anyway")
        url = backend_url(ml_backend, project.config.ml_backend)
    from ..ui.app import AnnotatorApp  # Textual loads only for the app

    suggest = not no_suggest and project.config.suggest
    app = AnnotatorApp(project, annotator, suggest=suggest, rules=rules, ml_backend=url)
    app.run()
    sys.exit(app.return_code or 0)  # a crash shows its traceback and ends non-zero


@click.command("review")
@DB_OPTION
@REVIEWER_OPTION
def review_command(db: Path | None, reviewer: str) -> None:
    """Settle disagreements into the gold layer: every annotator's spans, disagreements first."""
    with user_errors():
        project = open_project(db)
    from ..ui.app import AnnotatorApp

    app = AnnotatorApp(project, reviewer, reviewer=reviewer)
    app.run()
    sys.exit(app.return_code or 0)
