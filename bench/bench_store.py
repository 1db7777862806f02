"""Store figures at scale: 10k documents, 100k spans.

Prints import rate, project open time (to a usable article list), save latency (median, p99)
against stock TinyDB JSONStorage on the same 100k spans, export rate and peak memory.
Run: python bench/bench_store.py [--docs 10000] [--spans-per-doc 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinydb import TinyDB

from tui_reader.core.formats.jsonl import ExportFilter, export_records, write_jsonl
from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project

WORDS = ("the minister said that a plan would cut costs by 3.5 percent while critics "
         "argued it was a disaster for families and small firms across the region").split()


def article(rng: random.Random, n_words: int) -> str:
    sentences = []
    while sum(len(s) for s in sentences) < n_words * 6:
        k = rng.randint(8, 20)
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + ".")
    return " ".join(sentences)


def make_jsonl(path: Path, docs: int, spans_per_doc: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    labels = ["claim", "quote", "opinion", "boilerplate"]
    total = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(docs):
            text = article(rng, rng.randint(300, 700))
            spans = []
            for _ in range(spans_per_doc):
                start = rng.randrange(0, len(text) - 60)
                spans.append({"start": start, "end": start + rng.randint(5, 60),
                              "label": rng.choice(labels), "annotator": f"ann{rng.randrange(5)}"})
            total += len(spans)
            out.write(json.dumps({"id": f"doc{i:05d}", "text": text, "spans": spans,
                                  "meta": {"source": "bench"}}) + "\n")
    return total


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def open_in_fresh_process(db: Path) -> tuple[float, float]:
    """Open time to a usable article list and peak RSS (VmHWM: this process's own, not the
    parent's, which ru_maxrss would carry over an exec), measured in a new interpreter."""
    code = (
        "import time; t=time.perf_counter();"
        "from tui_reader.core.store import Project;"
        f"p=Project.open({str(db)!r}); docs=p.documents();"
        "prog=p.progress_changes('ann1', {});"  # the article list's first scan
        "assert len(prog)==len(docs);"
        "print(time.perf_counter()-t, [int(l.split()[1])/1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, rss = out.stdout.split()
    return float(secs), float(rss)


def export_in_fresh_process(db: Path, target: Path) -> tuple[float, float]:
    code = (
        "import time; t=time.perf_counter();"
        "from tui_reader.core.store import Project;"
        "from tui_reader.core.formats.jsonl import ExportFilter, export_records, write_jsonl;"
        f"p=Project.open({str(db)!r});"
        f"f=open({str(target)!r},'wb'); n=write_jsonl(export_records(p, ExportFilter()), f); f.close();"
        "print(time.perf_counter()-t, [int(l.split()[1])/1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, rss = out.stdout.split()
    return float(secs), float(rss)


def stats_command(db: Path) -> tuple[float, float]:
    """`tui-reader stats` as a user runs it: the whole process, start to exit, and its peak RSS
    (VmHWM as it exits: a child's ru_maxrss would count this bench's pages from before exec)."""
    code = (
        "import atexit, sys;"
        "atexit.register(lambda: print([int(l.split()[1]) / 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0], file=sys.stderr));"
        f"sys.argv = ['tui-reader', 'stats', '--db', {str(db)!r}];"
        "from tui_reader.__main__ import run; run()"
    )
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True)
    return time.perf_counter() - began, float(out.stderr.split()[-1])


def stats_in_fresh_process(db: Path) -> tuple[float, float]:
    """`tui-reader stats` figures (every document's statuses, labels, time) in a new interpreter."""
    code = (
        "import time; t=time.perf_counter();"
        "from tui_reader.core.store import Project; from tui_reader.core.stats import project_stats;"
        f"s=project_stats(Project.open({str(db)!r}));"
        "print(time.perf_counter()-t, [int(l.split()[1])/1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, rss = out.stdout.split()
    return float(secs), float(rss)


STATS_SCREEN = """
import asyncio, io, sys, time
from rich.console import Console
from textual import events
from textual.widgets import Static
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.screens.stats import AGREEMENT_PENDING, StatsScreen

last = [None, ""]

def shown(app):
    if not isinstance(app.screen, StatsScreen):
        return ""
    content = app.screen.query_one("#stats", Static).content
    if content is not last[0]:  # drawn as text only when it changed: polling costs little
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(content)
        last[:] = [content, console.export_text()]
    return last[1]

async def main():
    app = AnnotatorApp(Project.open(sys.argv[1]), "bench")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(float(sys.argv[2]))
        began = time.perf_counter()
        app.post_message(events.Key("i", "i"))  # (pilot.press would wait for the app to idle)
        times = []
        for done in ("documents", "Agreement"):  # the figures, then agreement
            while time.perf_counter() - began < 120:
                text = shown(app)
                if done in text and AGREEMENT_PENDING not in text or (
                        done == "documents" and done in text):
                    break
                await asyncio.sleep(0.005)
            times.append(time.perf_counter() - began)  # never shown: counts as 120 s
        print(*times)
        await pilot.press("escape")

asyncio.run(main())
"""


def stats_screen_in_fresh_process(db: Path, after: float) -> tuple[float, float]:
    """The app's ``i`` screen: from the key to the figures on screen, and to agreement, the key
    pressed ``after`` seconds after the app's first frame (0: while its first pass over the
    articles runs)."""
    out = subprocess.run([sys.executable, "-c", STATS_SCREEN, str(db), str(after)],
                         capture_output=True, text=True, check=True)
    figures, agreement = out.stdout.split()[-2:]
    return float(figures), float(agreement)


def stock_tinydb_baseline(folder: Path, records: list[dict], writes: int) -> list[float]:
    """Stock TinyDB JSONStorage, all spans in one table: what the research measured at ~600 ms."""
    path = folder / "stock.json"
    with open(path, "w") as f:
        json.dump({"spans": {str(i + 1): r for i, r in enumerate(records)}}, f)
    db = TinyDB(path)
    table = db.table("spans")
    table.insert({"warm": True})
    times = []
    for i in range(writes):
        t0 = time.perf_counter()
        table.insert({**records[i], "id": f"new{i}"})
        times.append(time.perf_counter() - t0)
    db.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--spans-per-doc", type=int, default=10)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--stock-writes", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tui-reader-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        source = folder / "corpus.jsonl"
        n_spans = make_jsonl(source, args.docs, args.spans_per_doc)
        mb = source.stat().st_size / 1e6

        project = Project.open(folder / "db", create=True)
        t0 = time.perf_counter()
        report = import_paths(project, [source], "bench")
        import_s = time.perf_counter() - t0
        assert report.imported == args.docs and report.spans_added == n_spans, report.summary()
        print(f"corpus: {args.docs} documents, {n_spans} spans, {mb:.1f} MB of JSONL")
        print(f"import: {import_s:.2f} s = {args.docs / import_s:,.0f} documents/s, "
              f"{n_spans / import_s:,.0f} spans/s")

        open_times, open_rss = zip(*(open_in_fresh_process(folder / "db") for _ in range(3)))
        print(f"open to article list ({args.docs:,} docs + statuses, fresh process): median "
              f"{statistics.median(open_times):.2f} s (target < 1 s), peak RSS {max(open_rss):.0f} MB")

        stats_times, stats_rss = zip(*(stats_in_fresh_process(folder / "db") for _ in range(3)))
        print(f"stats of every document ({args.docs:,} docs, fresh process): median "
              f"{statistics.median(stats_times):.2f} s (target < 2 s at 100k documents), "
              f"peak RSS {max(stats_rss):.0f} MB")
        command_times, command_rss = zip(*(stats_command(folder / "db") for _ in range(3)))
        print(f"`tui-reader stats` ({args.docs:,} docs, the whole command): median "
              f"{statistics.median(command_times):.2f} s (target < 2 s at 100k documents), "
              f"peak RSS {max(command_rss):.0f} MB")
        for after in (5.0, 0.0):
            figures, agreement = zip(*(stats_screen_in_fresh_process(folder / "db", after)
                                       for _ in range(3)))
            print(f"the app's i screen ({args.docs:,} docs, pressed {after:g} s after the first "
                  f"frame): figures after median {statistics.median(figures):.2f} s (target < 2 s "
                  f"at 100k documents), checked against every article and with agreement after "
                  f"{statistics.median(agreement):.2f} s")

        rng = random.Random(2)
        docs = [d.id for d in project.documents()]
        texts: dict[str, str] = {}
        saves = []
        for _ in range(args.saves):
            doc = rng.choice(docs)
            text = texts.get(doc) or texts.setdefault(doc, project.document(doc).text)
            start = rng.randrange(0, len(text) - 30)
            t0 = time.perf_counter()
            project.add_span(doc, start, start + 20, "claim", "bench", text=text)
            saves.append(time.perf_counter() - t0)
        ours_median = statistics.median(saves) * 1000
        print(f"save one label (fsynced, {n_spans:,} spans in project, n={args.saves}): median "
              f"{ours_median:.2f} ms, p99 {pct(saves, 99) * 1000:.2f} ms (targets 2 / 10 ms)")

        records = [s.to_record() for d in docs for s in project.record(d).spans]
        stock = stock_tinydb_baseline(folder, records[:n_spans], args.stock_writes)
        stock_median = statistics.median(stock) * 1000
        print(f"stock TinyDB JSONStorage, same {n_spans:,} spans in one file (n={args.stock_writes}): "
              f"median {stock_median:.0f} ms -> tui-reader is {stock_median / ours_median:,.0f}x "
              f"faster (target >= 100x)")
        del records

        exp_times, exp_rss = zip(*(export_in_fresh_process(folder / "db", folder / "out.jsonl")
                                   for _ in range(3)))
        exp = statistics.median(exp_times)
        total_spans = n_spans + args.saves
        print(f"export {total_spans:,} spans to JSONL (fresh process): median {exp:.2f} s = "
              f"{total_spans / exp:,.0f} spans/s (target < 1 s), peak RSS {max(exp_rss):.0f} MB")
        with open(folder / "check.jsonl", "wb") as f:
            assert write_jsonl(export_records(project, ExportFilter()), f) == args.docs
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this bench process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
