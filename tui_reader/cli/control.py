"""``tui-reader control add|list|remove``: control documents with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..core.text import display_safe
from .options import DB_OPTION, JSON_OPTION, open_project, user_errors


@click.group("control")
def control_group() -> None:
    """Control documents: articles with known answers, slipped into every annotator's queue
    (one in every `control_every` articles); `stats` scores each annotator against them."""


@control_group.command("add")
@click.argument("file", type=click.Path(path_type=Path))
@DB_OPTION
def add_command(file: Path, db: Path | None) -> None:
    """Add the records of FILE (native JSONL, as `import` reads it, each with its "spans": the
    known answers) as control documents. The whole file is checked first: any problem ends in
    one line naming it, and nothing is changed."""
    from ..core.controls import add_controls

    with user_errors():
        project = open_project(db)
        report = add_controls(project, file)
    click.echo(f"{report.summary()} -> {display_safe(str(project.root))}")


@control_group.command("list")
@DB_OPTION
@JSON_OPTION
def list_command(db: Path | None, as_json: bool) -> None:
    """The control documents: id, known spans, who marked each done, title."""
    from ..core.controls import control_documents

    with user_errors():
        project = open_project(db)
        controls = control_documents(project)
    if as_json:
        click.echo(json.dumps([{"id": c.id, "title": c.title, "spans": c.spans,
                                "done_by": list(c.done_by)} for c in controls],
                              ensure_ascii=False, indent=1))
        return
    if not controls:
        click.echo("No control documents (add some with `tui-reader control add FILE.jsonl`).")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(controls)} control documents", title_justify="left")
    for column in ("id", "known spans", "done by", "title"):
        table.add_column(column, justify="right" if column == "known spans" else "left")
    for c in controls:
        table.add_row(Text(display_safe(c.id)), str(c.spans),
                      Text(display_safe(", ".join(c.done_by) or "nobody yet")),
                      Text(display_safe(c.title)))
    Console().print(table)


@control_group.command("remove")
@click.argument("doc_id", metavar="ID")
@DB_OPTION
def remove_command(doc_id: str, db: Path | None) -> None:
    """Take ID out of the controls: its known answers are deleted; the article and the work
    annotators saved on it stay (it becomes an ordinary article: it is routed and exported as
    one)."""
    with user_errors():
        project = open_project(db)
        project.info(doc_id)  # an unknown id: one line, exit 2
        removed = project.remove_control(doc_id)
    click.echo(display_safe(f"{doc_id} is no longer a control: {removed} known span"
                            f"{'s' if removed != 1 else ''} deleted; the work saved on it stays"))
