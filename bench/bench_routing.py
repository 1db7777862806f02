"""Routing figures at scale: what the app pays on `d` to find the next article, and what
``order = "uncertain"`` costs away from the keys.

Prints, for a project of N articles (default 10,000) with an annotator half-way through, 20
controls and a few live leases: the time of ``first_unfinished`` (routing: summary index + leases
file) and of ``claim_next`` (routing + a lease, under the leases' lock), median and p95; the same
with ``order = "uncertain"`` and a ranking file of every article; and, with scikit-learn, the time
to score every article with a trained model (``ranking.rank_documents``: the background job).
Run: python bench/bench_routing.py [--docs 10000] [--rank-docs 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_reader.core.config import ProjectConfig
from tui_reader.core.controls import add_controls
from tui_reader.core.ranking import rank_documents, write_ranking
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import NewDocument, Project
from tui_reader.core.text import text_sha256

WORDS = ("the minister said that a plan would cut costs by 3.5 percent while critics argued it "
         "was a disaster for families and small firms across the region").split()


def article(rng: random.Random, sentences: int = 25) -> str:
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
                    for _ in range(sentences))


def timed(call, repeat: int = 30) -> tuple[float, float]:  # noqa: ANN001
    call()  # warm: the first call reads the index files
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--rank-docs", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = Project.open(root / "db", create=True)
        project.bulk = True
        project.add_documents(NewDocument(id=f"d{i:05d}", text=(t := article(rng)),
                                          sha256=text_sha256(t), title=f"Article {i}", source="b",
                                          kind="txt", styles=[], meta={})
                              for i in range(args.docs))
        project.bulk = False
        project.sync()
        controls = root / "controls.jsonl"
        controls.write_text("".join(
            f'{{"id": "k{i}", "text": "Control {i} says the plan works.", '
            f'"spans": [{{"start": 0, "end": 9, "label": "claim"}}]}}\n' for i in range(20)))
        add_controls(project, controls)
        ids = [d.id for d in project.documents() if d.id.startswith("d")]
        project.bulk = True
        for doc_id in ids[: args.docs // 2]:
            project.set_status(doc_id, "ana", "done")
        for doc_id in ids[args.docs // 2: args.docs // 2 + 200]:
            project.set_status(doc_id, "bo", "done")
        project.bulk = False
        project.sync()
        for i in range(8):
            AnnotationSession(project, f"busy{i}").claim_next()
        after = ids[args.docs // 2 - 1]
        cold = []
        for _ in range(5):  # start-up: the first call of a process reads the index files
            fresh = Project.open(root / "db")
            start = time.perf_counter()
            AnnotationSession(fresh, "new-annotator").first_unfinished()
            cold.append((time.perf_counter() - start) * 1000)
        project = Project.open(root / "db")
        session = AnnotationSession(project, "ana")
        print(f"{args.docs:,} articles, 20 controls, ana half-way, 8 live leases")
        print(f"first call of a process (start-up): median {statistics.median(cold):6.1f} ms")
        median, p95 = timed(lambda: session.first_unfinished(after=after))
        print(f"first_unfinished (corpus order):   median {median:6.1f} ms, p95 {p95:6.1f} ms")
        # The routing before leases and controls read each article's progress (a stat of its
        # file) until it found one: here, past the 5,000 ana finished.
        passed = ids[: args.docs // 2]
        median, p95 = timed(lambda: [project.progress(d, "ana") for d in passed], repeat=10)
        print(f"before (progress of {len(passed):,} passed over): median {median:6.1f} ms, "
              f"p95 {p95:6.1f} ms")
        median, p95 = timed(lambda: session.claim_next(after=after))
        print(f"claim_next (route + lease):        median {median:6.1f} ms, p95 {p95:6.1f} ms")
        (root / "db" / "controls.json").rename(root / "controls.json")  # as if there were none
        median, p95 = timed(lambda: session.first_unfinished(after=after))
        print(f"first_unfinished, no controls:     median {median:6.1f} ms, p95 {p95:6.1f} ms")
        fresh = Project.open(root / "db")
        start = time.perf_counter()
        AnnotationSession(fresh, "new-annotator").first_unfinished()
        print(f"  its first call in a process (start-up, a new annotator): "
              f"{(time.perf_counter() - start) * 1000:.1f} ms")
        (root / "controls.json").rename(root / "db" / "controls.json")
        write_ranking(project, "ana", {d: rng.random() for d in ids})
        project.config = ProjectConfig(labels=project.config.labels, order="uncertain")
        median, p95 = timed(lambda: session.first_unfinished(after=after))
        print(f"first_unfinished (uncertain):      median {median:6.1f} ms, p95 {p95:6.1f} ms")
        try:
            from tui_reader.core.suggest import learned
        except ImportError:  # pragma: no cover
            return
        if not learned.available():
            print("scikit-learn is not installed: no ranking figure", file=sys.stderr)
            return
        small = Project.open(root / "rank", create=True)
        texts = {f"r{i:05d}": article(rng) for i in range(args.rank_docs)}
        small.bulk = True
        small.add_documents(NewDocument(id=i, text=t, sha256=text_sha256(t), title=i, source="b",
                                        kind="txt", styles=[], meta={}) for i, t in texts.items())
        small.bulk = False
        small.sync()
        labels = ["claim", "quote", "opinion"]
        examples = [(t[: t.index(".") + 1], rng.choice(labels)) for t in list(texts.values())[:300]]
        examples += [(t[t.index(".") + 2:], "none") for t in list(texts.values())[:100]]
        model = learned.SentenceModel().fit(examples)
        start = time.perf_counter()
        margins = rank_documents(small, "ana", model)
        seconds = time.perf_counter() - start
        sentences = sum(len(t.split(". ")) for t in texts.values())
        print(f"rank_documents: {len(margins):,} articles ({sentences:,} sentences) in "
              f"{seconds:.1f} s = {len(margins) / seconds:,.0f} articles/s; 10k articles: "
              f"~{args.docs / (len(margins) / seconds):.0f} s in the background process")


if __name__ == "__main__":
    main()
