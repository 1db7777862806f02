"""``i``: the project at a glance: labels, each annotator's progress as bars, and agreement."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.agreement import AgreementReport, compute_agreement, documents_for_agreement
from ...core.errors import TuiReaderError
from ...core.stats import project_stats
from ...core.store import Project
from ...core.text import display_safe

BAR = 30
AGREEMENT_PENDING = "Agreement: counting…"
AFTER_WAIT_SECONDS = 30.0  # a bound, not a figure: the app's first pass takes ~2 s at 100k


def bar(value: int, total: int, color: str) -> Text:
    filled = round(BAR * value / total) if total else 0
    text = Text("█" * filled, style=color)
    text.append("░" * (BAR - filled), style="dim")
    return text


def num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


class StatsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def __init__(self, project: Project, after: threading.Event | None = None) -> None:
        """``after``: set when the app's first pass over the articles is done (this screen's own
        check of every summary waits for it)."""
        super().__init__()
        self.project = project
        self.after = after
        self._closed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stats-body"):
            yield Static(Text("Counting…", style="dim"), id="stats")

    def on_mount(self) -> None:
        self.compute()

    def on_unmount(self) -> None:
        self._closed = True  # read by the counting thread

    @work(thread=True)
    def compute(self) -> None:
        try:
            # At once: the summaries as the index holds them (a stat per index file), as the
            # article list trusts them between its scans.
            quick = project_stats(self.project, self.project.indexed_summary_rows())
            self._show(quick, None)
            # Then each summary checked against its document (a stat each; a crash between an
            # article's write and its summary's is seen and mended), after the app's own
            # first pass if it is still running: both at once take 4x as long.
            if self.after is not None and not self._waited(self.after):
                return
            rows = list(self.project.current_summary_rows())
            stats = project_stats(self.project, rows)
            if stats != quick:
                self._show(stats, None)
            # Agreement reads the documents two annotators share: at 10k of them, seconds.
            self._show(stats, compute_agreement(documents_for_agreement(self.project, rows=rows),
                                                self.project.config.label_names))
        except (OSError, TuiReaderError) as err:
            self._call(self.show_problem, str(err))

    def _waited(self, event: threading.Event) -> bool:
        """Wait for ``event`` (at most AFTER_WAIT_SECONDS); False when the screen closed first."""
        deadline = time.monotonic() + AFTER_WAIT_SECONDS
        while not event.wait(0.2):
            if self._closed:
                return False
            if time.monotonic() > deadline:
                break
        return not self._closed

    def _show(self, stats: dict[str, Any], report: AgreementReport | None) -> None:
        self._call(self.show, stats, report)

    def _call(self, callback: Callable[..., None], *args: object) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app has ended

    def show_problem(self, problem: str) -> None:
        if self not in self.app.screen_stack:
            return
        self.query_one("#stats", Static).update(
            Text(f"The figures could not be counted: {display_safe(problem)}", style="red"))

    @staticmethod
    def _controls(stats: dict[str, Any]) -> list[RenderableType]:
        """Each annotator against the known answers of the control documents they finished."""
        heading = Text(f"\nControl documents ({stats['control_documents']}): F1 against the "
                       "known answers", style="underline")
        if not stats["controls"]:
            return [heading, Text("No control document finished yet.", style="dim")]
        table = Table.grid(padding=(0, 2))
        for name, score in stats["controls"].items():
            weakest = sorted(((s["exact_f1"], label) for label, s in score["labels"].items()
                              if s["exact_f1"] is not None))[:1]
            table.add_row(Text(display_safe(name), style="bold"),
                          Text(f"{score['documents']} done"),
                          Text(f"F1 exact {num(score['exact_f1'])}"),
                          Text(f"overlap {num(score['overlap_f1'])}"),
                          Text(f"weakest: {display_safe(weakest[0][1])} {num(weakest[0][0])}"
                               if weakest else "", style="dim"))
        return [heading, table]

    def show(self, stats: dict[str, Any], report: AgreementReport | None) -> None:
        """The figures, and agreement once it is counted (``report`` None: not yet)."""
        if self not in self.app.screen_stack:
            return  # closed while counting
        colors = {label.name: label.color for label in self.project.config.labels}
        parts: list[RenderableType] = [Text(f"{stats['documents']} documents · {stats['spans']} spans · "
                            f"{len(stats['annotators'])} annotators  (esc closes)", style="bold")]
        labels = Table.grid(padding=(0, 1))
        top = max(stats["labels"].values(), default=0)
        for name, count in stats["labels"].items():
            labels.add_row(Text(display_safe(name), style="bold"), bar(count, top, colors.get(name, "")),
                           Text(str(count)))
        parts += [Text("\nSpans by label", style="underline"), labels]
        people = Table.grid(padding=(0, 1))
        for name, row in stats["status"].items():
            people.add_row(Text(display_safe(name), style="bold"),
                           bar(row["done"], stats["documents"], "green"),
                           Text(f"{row['done']} done, {row['in progress']} in progress, "
                                f"{row['skipped']} skipped; "
                                f"{stats['time'][name]['seconds'] / 3600:.1f} h"))
        parts += [Text("\nAnnotators: documents done", style="underline"), people]
        if stats.get("control_documents"):
            parts += self._controls(stats)
        pairs = [p for p in report.pairs if p.label is None] if report is not None else []
        if report is None:
            parts.append(Text(f"\n{AGREEMENT_PENDING}", style="dim"))
        elif pairs:
            table = Table(title="Agreement (all labels)", title_justify="left")
            for column in ("annotators", "docs", "F1 exact", "F1 overlap", "kappa"):
                table.add_column(column, justify="left" if column == "annotators" else "right")
            for p in pairs:
                table.add_row(Text(display_safe(f"{p.a} / {p.b}")), str(p.documents),
                              num(p.exact_f1), num(p.overlap_f1), num(p.kappa))
            alpha = " · ".join(f"{k or 'all'} {num(v)}" for k, v in report.alpha.items())
            parts += [Text(""), table, Text(f"Krippendorff's alpha: {alpha}")]
            worst = report.documents[:5]
            if worst:
                parts.append(Text("Least agreement: " + ", ".join(
                    f"{display_safe(d.id)} ({num(d.exact_f1)})" for d in worst)))
        else:
            parts.append(Text("\nAgreement: needs two annotators on the same documents.", style="dim"))
        self.query_one("#stats", Static).update(Group(*parts))
