"""``tui-reader stats`` and ``tui-reader agree``: figures about a project, as tables or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..core.agreement import format_score
from ..core.errors import InputError
from ..core.model import STATUSES
from ..core.text import display_safe
from .options import DB_OPTION, JSON_OPTION, open_project, user_errors

if TYPE_CHECKING:
    from ..core.agreement import AgreementReport


@click.command("stats")
@DB_OPTION
@JSON_OPTION
def stats_command(db: Path | None, as_json: bool) -> None:
    """Documents by status, spans by label and annotator, time spent, and each annotator's span
    F1 against the control documents."""
    from ..core.stats import project_stats

    with user_errors():
        project = open_project(db)
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
    if stats["controls"]:
        controls = Table(title=f"Control documents ({stats['control_documents']}): span F1 against "
                               "the known answers, over the controls each annotator marked done",
                         title_justify="left")
        for column in ("annotator", "label", "controls", "known", "given", "F1 exact", "F1 overlap"):
            controls.add_column(column, justify="left" if column in ("annotator", "label") else "right")
        for who, score in stats["controls"].items():
            controls.add_row(Text(display_safe(who)), Text("all labels", style="bold"),
                             str(score["documents"]),
                             str(sum(s["known"] for s in score["labels"].values())),
                             str(sum(s["given"] for s in score["labels"].values())),
                             format_score(score["exact_f1"]), format_score(score["overlap_f1"]))
            for label, row in score["labels"].items():
                if row["known"] or row["given"]:
                    controls.add_row("", Text(display_safe(label)), "", str(row["known"]),
                                     str(row["given"]), format_score(row["exact_f1"]),
                                     format_score(row["overlap_f1"]))
        console.print(controls)
    elif stats["control_documents"]:
        console.print(Text(f"{stats['control_documents']} control documents; nobody has marked "
                           "one done yet."))
    if stats["relations"]:
        relations = Table(title="Relations", title_justify="left")
        relations.add_column("annotator")
        names = list(stats["relations"])
        for name in names:
            relations.add_column(Text(display_safe(name)), justify="right")
        for who, row in stats["relations_by_annotator"].items():
            relations.add_row(Text(display_safe(who)), *(str(row.get(n, 0)) for n in names))
        relations.add_row(Text("all", style="bold"), *(str(stats["relations"][n]) for n in names))
        console.print(relations)
    for group, counts in stats["article_labels"].items():
        article = Table(title=f"Article labels: {display_safe(group)} (documents)", title_justify="left")
        article.add_column("value")
        article.add_column("documents", justify="right")
        for value, n in counts.items():
            article.add_row(Text(display_safe(value)), str(n))
        console.print(article)


@click.command("agree")
@DB_OPTION
@click.option("--label", help="Only this label.")
@JSON_OPTION
@click.option("--worst", default=10, show_default=True, help="How many documents to list, worst first.")
def agree_command(db: Path | None, label: str | None, as_json: bool, worst: int) -> None:
    """Agreement between annotators: span F1, Cohen's kappa, Krippendorff's alpha."""
    from ..core.agreement import compute_agreement, documents_for_agreement

    with user_errors():
        project = open_project(db)
        labels = project.config.label_names
        if label is not None and label not in labels:
            raise InputError(f"unknown label {label!r} (this project's labels: {', '.join(labels)})")
        chosen = (label,) if label else labels
        report = compute_agreement(documents_for_agreement(project, label), chosen,
                                   schema=project.config.schema)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
        return
    _print_agreement(report, worst)


def _print_agreement(report: AgreementReport, worst: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

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
                      str(p.documents), format_score(p.exact_f1), format_score(p.overlap_f1),
                      format_score(p.kappa))
    console.print(pairs)
    alpha = Table(title="Krippendorff's alpha (nominal, tokens)", title_justify="left")
    alpha.add_column("label")
    alpha.add_column("alpha", justify="right")
    for key, value in report.alpha.items():
        alpha.add_row(Text(key or "all labels"), format_score(value))
    console.print(alpha)
    docs = Table(title=f"Documents, worst first ({min(worst, len(report.documents))} of "
                       f"{len(report.documents)})", title_justify="left")
    for column in ("document", "annotators", "F1 exact", "F1 overlap", "alpha"):
        docs.add_column(column, justify="left" if column in ("document", "annotators") else "right")
    for d in report.documents[:worst]:
        docs.add_row(Text(display_safe(d.id)), Text(display_safe(", ".join(d.annotators))),
                     format_score(d.exact_f1), format_score(d.overlap_f1), format_score(d.alpha))
    console.print(docs)
    if report.relations:
        relations = Table(title="Relations (span ends matched exactly, or overlapping)",
                          title_justify="left")
        for column in ("annotators", "relation", "documents", "F1 exact", "F1 overlap"):
            relations.add_column(column, justify="left" if column in ("annotators", "relation")
                                 else "right")
        for r in report.relations:
            relations.add_row(Text(display_safe(f"{r.a} / {r.b}")), Text(r.label or "all relations"),
                              str(r.documents), format_score(r.exact_f1), format_score(r.overlap_f1))
        console.print(relations)
    for title, scores, unit in (("Span attributes (Cohen's kappa)", report.attributes, "spans"),
                                ("Article labels (Cohen's kappa)", report.article_labels,
                                 "documents")):
        if not scores:
            continue
        table = Table(title=title, title_justify="left")
        for column in ("annotators", "name", unit, "kappa"):
            table.add_column(column, justify="left" if column in ("annotators", "name") else "right")
        for k in scores:
            table.add_row(Text(display_safe(f"{k.a} / {k.b}")), Text(display_safe(k.name)),
                          str(k.items), format_score(k.kappa))
        console.print(table)
    if report.article_alpha:
        alpha = Table(title="Article labels (Krippendorff's alpha)", title_justify="left")
        alpha.add_column("group")
        alpha.add_column("alpha", justify="right")
        for group, value in report.article_alpha.items():
            alpha.add_row(Text(display_safe(group)), format_score(value))
        console.print(alpha)
