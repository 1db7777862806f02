"""App figures, measured on the real program in a real pseudo-terminal at 120x40.

- start-up to the first unfinished article on screen with 10k documents / 100k spans and half
  the documents done, as a ratio to a bare Textual app started the same way in the same run
  (target <= 1.5x);
- key-to-frame latency (key written -> first byte of the new frame) p50/p99 on a 50k-character
  article with 500 spans (target p99 <= 30 ms);
- bytes written per caret move and per label, next to a stock read-only TextArea showing the same
  article (baseline; ~15 KB per caret move was measured before; target < 2 KB).

- the label key at 50, 500 and 5,000 spans in the article: latency and bytes written (to the
  terminal and to files) per label, which must not grow with the spans.

Run: python bench/bench_app.py [--docs 10000] [--keys 150] [--only labels]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import make_jsonl  # noqa: E402

from tests.ptyrun import PtyApp, tui_reader_args  # noqa: E402
from tui_reader.core.importer import import_paths  # noqa: E402
from tui_reader.core.store import NewDocument, Project  # noqa: E402
from tui_reader.core.text import text_sha256  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("BARE-APP-READY")
Bare().run()
"""

TEXTAREA_APP = """
import sys
from textual.app import App
from textual.widgets import TextArea
class Stock(App):
    def compose(self):
        yield TextArea(open(sys.argv[1], encoding="utf-8").read(), read_only=True, soft_wrap=True)
Stock().run()
"""

CJK = "日本語のテキストです。"
PARAGRAPH = ("The minister said on Tuesday that the plan would cut costs by 3.5 percent. "
             "\u201cIt is a disaster for families,\u201d said Ana Díaz-Canel, a critic. "
             "Officials in Havana declined to comment 👍🏽. ")


def long_article(chars: int) -> str:
    out, n = [], 0
    while n < chars:
        para = PARAGRAPH * 3 + CJK + "\n\n"
        out.append(para)
        n += len(para)
    return "".join(out)[:chars].rstrip() + "."


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def time_to_marker(args: list[str], marker: bytes) -> float:
    app = PtyApp(args)
    try:
        seconds = app.first_output_after(marker)
        app.read_until_quiet(quiet=0.3)
    finally:
        app.send(b"q")
        time.sleep(0.2)
        app.proc.kill()
        app.close()
    return seconds


def startup_pair(ours: list[str], marker: bytes, runs: int) -> tuple[float, float]:
    """Medians for a bare Textual app and for ours, started alternately so that load on this
    shared machine falls on both alike."""
    bare_times, our_times = [], []
    for _ in range(runs):
        bare_times.append(time_to_marker([sys.executable, "-c", BARE_APP], b"BARE-APP-READY"))
        our_times.append(time_to_marker(ours, marker))
    return statistics.median(bare_times), statistics.median(our_times)


def key_figures(app: PtyApp, key: bytes, count: int, settle: float = 0.12
                ) -> tuple[list[float], list[int]]:
    """Latency to the first byte and total bytes of the response, per key press."""
    latencies, sizes = [], []
    for _ in range(count):
        app.read_until_quiet(quiet=0.05, limit=1.0)  # drain
        t0 = time.perf_counter()
        app.send(key)
        first = app.read_for(0)  # nothing yet
        got = bytearray(first)
        t_first = None
        end = t0 + 2.0
        while time.perf_counter() < end:
            chunk = app.read_for(0.002)
            if chunk:
                if t_first is None:
                    t_first = time.perf_counter()
                got += chunk
            elif t_first is not None and time.perf_counter() - t_first > settle:
                break
        if t_first is not None:
            latencies.append(t_first - t0)
            sizes.append(len(got))
        else:  # no answer within 2 s: counted as 2 s, never left out
            latencies.append(2.0)
            sizes.append(len(got))
    return latencies, sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=150)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--only", choices=("startup", "keys", "labels"),
                        help="one part of the bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tui-reader-bench-app-") as tmp:
        folder = Path(tmp)
        # 1. Start-up with a large project (--docs 0 skips it).
        source = folder / "corpus.jsonl"
        if args.docs and args.only in (None, "startup"):
            startup_figures(folder, source, args.docs, args.runs)
        # 2 and 3. A 50k-character article with 500 spans.
        if args.only in (None, "keys"):
            long_article_figures(folder, args.keys)
        # 4. The label key at 50, 500 and 5,000 spans.
        if args.only in (None, "labels"):
            label_cost_by_spans(folder, args.keys // 5)


def startup_figures(folder: Path, source: Path, docs: int, runs: int) -> None:
    """Start-up on a project in the state a team meets mid-way: half the articles done by the
    annotator who opens it (their first unfinished one is in the middle of the corpus)."""
    n_spans = make_jsonl(source, docs, 10)
    big = Project.open(folder / "big", create=True)
    import_paths(big, [source], "bench")
    ids = [d.id for d in big.documents()]
    big.bulk = True  # as an import: one sync at the end
    try:
        for doc_id in ids[: docs // 2]:
            big.set_status(doc_id, "ann1", "done")
    finally:
        big.bulk = False
        big.sync()
    first = big.info(ids[docs // 2]).title[:30].encode()
    bare, ours = startup_pair(tui_reader_args("annotate", "--db", str(folder / "big"),
                                              "--annotator", "ann1"), first, runs)
    print(f"start-up to the first unfinished article on screen, {docs:,} documents / "
          f"{n_spans:,} spans, {docs // 2:,} done by the annotator (median of {runs}): tui-reader "
          f"{ours * 1000:.0f} ms, bare Textual app {bare * 1000:.0f} ms -> ratio "
          f"{ours / bare:.2f}x (target <= 1.5x)")


def article_project(folder: Path, name: str, spans: int) -> Path:
    """A project of one 50k-character article holding ``spans`` spans (and a quote at the top,
    where the caret starts: t sets its kind, c starts a link from it)."""
    text = long_article(50_000)
    project = Project.open(folder / name, create=True)
    project.add_documents([NewDocument(id="long", text=text, sha256=text_sha256(text),
                                       title="A long article", source="long.txt", kind="txt",
                                       styles=[], meta={})])
    rng = random.Random(3)
    labels = project.config.label_names
    items = []
    for n in range(spans):
        start = rng.randrange(200, len(text) - 200)  # the first 200 characters: the quote
        items.append({"start": start, "end": start + rng.randint(10, 200),
                      "label": rng.choice(labels), "annotator": "bench", "n": n})
    added, refused = project.import_spans("long", items)
    assert added == spans and not refused
    project.add_span("long", 0, 20, "quote", "bench")
    (folder / "long.txt").write_text(text, encoding="utf-8")
    return folder / name


def written_bytes(pid: int) -> int:
    """Bytes the process has written with write(2) so far: files and terminal alike."""
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))


def label_figures(app: PtyApp, count: int) -> tuple[list[float], list[int], list[int]]:
    """Label the sentence at the caret, then undo, ``count`` times (the project stays the
    same): latency, bytes to the terminal, bytes to files (everything written but the frame)."""
    latencies, screen, files = [], [], []
    for _ in range(count):
        app.read_until_quiet(quiet=0.05, limit=1.0)
        before = written_bytes(app.proc.pid)
        lat, size = key_figures(app, b"1", 1, settle=0.2)
        after = written_bytes(app.proc.pid)
        latencies += lat
        screen += size
        files.append(after - before - size[0])
        key_figures(app, b"u", 1, settle=0.2)
    return latencies, screen, files


def label_cost_by_spans(folder: Path, keys: int) -> None:
    """The label key on the same article holding 50, 500 and 5,000 spans: the cost of a label
    must not grow with the spans already there. The caret is on the first sentence, so every
    row of the span list moves down one: the most a label draws."""
    for spans in (50, 500, 5_000):
        db = article_project(folder, f"spans-{spans}", spans)
        # Suggestions off: no model process, whose pipe traffic (the article's text) and
        # training would be counted with the label's own bytes and time.
        config = db / "config.toml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "suggest = true", "suggest = false"), encoding="utf-8")
        app = PtyApp(tui_reader_args("annotate", "--db", str(db), "--annotator", "bench"),
                     cols=120, rows=40)
        try:
            app.read_until_quiet(quiet=1.0)
            lat, screen, files = label_figures(app, keys)
            app.send(b"q")
        finally:
            app.close()
        print(f"label key, 50,000 characters / {spans:,} spans (n={len(lat)}): p50 "
              f"{pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms; written per label "
              f"(median): {statistics.median(screen):,.0f} bytes to the terminal, "
              f"{statistics.median(files):,.0f} bytes to files")


def long_article_figures(folder: Path, keys: int) -> None:
    """Latency and bytes on a 50k-character article with 500 spans."""
    db = article_project(folder, "long", 500)
    app = PtyApp(tui_reader_args("annotate", "--db", str(db), "--annotator", "bench"),
                 cols=120, rows=40)
    try:
        app.read_until_quiet(quiet=1.0)
        lat_l, bytes_l = key_figures(app, b"l", keys)
        lat_j, bytes_j = key_figures(app, b"j", keys // 3)
        lat_w, _ = key_figures(app, b"w", keys // 3)
        lat_1, bytes_1, files_1 = label_figures(app, keys // 5)
        # Relations, attributes, article labels: t 1 (the quote's kind), T 1 (the genre), c then
        # esc (a link started and dropped); each save undone so the project stays the same.
        lat_schema: list[float] = []
        for _ in range(keys // 10):
            for keys_pressed, undo in ((b"t1", True), (b"T1", True), (b"c\x1b", False)):
                for key in keys_pressed:
                    lat, _ = key_figures(app, bytes([key]), 1, settle=0.2)
                    lat_schema += lat
                if undo:
                    key_figures(app, b"u", 1, settle=0.2)
        app.send(b"q")
    finally:
        app.close()
    every = lat_l + lat_j + lat_w
    print(f"key-to-frame latency, 50,000 characters / 500 spans (n={len(every)} motions): "
          f"p50 {pct(every, 50) * 1000:.1f} ms, p99 {pct(every, 99) * 1000:.1f} ms "
          f"(target p99 <= 30 ms); label key p50 {pct(lat_1, 50) * 1000:.1f} ms, "
          f"p99 {pct(lat_1, 99) * 1000:.1f} ms (target p99 <= 20 ms)")
    print(f"relation, attribute and article-label keys (t 1, T 1, c esc; n={len(lat_schema)}): "
          f"p50 {pct(lat_schema, 50) * 1000:.1f} ms, p99 {pct(lat_schema, 99) * 1000:.1f} ms "
          "(target p99 <= 30 ms)")

    # The same motions with a model server that accepts the request and never answers.
    from tests.peers import hung_http_server

    with hung_http_server() as server:
        hung = PtyApp(tui_reader_args("annotate", "--db", str(folder / "long"), "--annotator",
                                      "bench", "--ml-backend", server.url), cols=120, rows=40)
        try:
            hung.read_until_quiet(quiet=1.0)
            lat_hung, _ = key_figures(hung, b"l", keys // 2)
            lat_hung += key_figures(hung, b"j", keys // 4)[0]
            hung.send(b"q")
        finally:
            hung.close()
    print(f"the same motions with a hung model server (--ml-backend, n={len(lat_hung)}): "
          f"p50 {pct(lat_hung, 50) * 1000:.1f} ms, p99 {pct(lat_hung, 99) * 1000:.1f} ms")

    stock = PtyApp([sys.executable, "-c", TEXTAREA_APP, str(folder / "long.txt")],
                   cols=120, rows=40)
    try:
        stock.read_until_quiet(quiet=1.0)
        _, stock_bytes = key_figures(stock, b"\x1b[C", keys // 3)
        stock.send(b"\x11")  # ctrl+q
    finally:
        stock.proc.kill()
        stock.close()
    print(f"bytes per caret move at 120x40 (median): tui-reader l {statistics.median(bytes_l):,.0f}, "
          f"j {statistics.median(bytes_j):,.0f}; stock read-only TextArea → "
          f"{statistics.median(stock_bytes):,.0f} (target < 2,000)")
    print(f"bytes per label at 120x40 (median): {statistics.median(bytes_1):,.0f} to the "
          f"terminal (target <= 3,000), {statistics.median(files_1):,.0f} to files")


if __name__ == "__main__":
    main()
