"""A real annotator process for the crash and concurrency tests (run as a script, not imported).

crash DB DOC...        add/relabel/remove/status forever, printing "intent ..." before and "ack ..."
                       after each action returns (the moment the app would report it saved)
hammer DB NAME N GO DOC...
                       wait for the file GO, then add N spans spread over DOC..., then print how
                       many spans of everyone it can see
"""

from __future__ import annotations

import os
import random
import sys
import time

from tui_reader.core.store import Project


def say(*words: object) -> None:
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()


def crash(db: str, docs: list[str]) -> None:
    project = Project.open(db)
    rng = random.Random(os.getpid())
    texts = {d: project.document(d).text for d in docs}
    mine: dict[str, str] = {}  # span id -> doc
    labels = project.config.label_names
    while True:
        doc = rng.choice(docs)
        roll = rng.random()
        if roll < 0.55 or not mine:
            start = rng.randrange(0, len(texts[doc]) - 1)
            end = rng.randrange(start + 1, min(len(texts[doc]), start + 80) + 1)
            say("intent add")
            span = project.add_span(doc, start, end, rng.choice(labels), "crash",
                                    note="x" * rng.randrange(0, 400), text=texts[doc])
            mine[span.id] = doc
            say("ack add", doc, span.id)
        elif roll < 0.75:
            span_id = rng.choice(list(mine))
            say("intent remove", mine[span_id], span_id)
            project.remove_span(mine.pop(span_id), span_id)
            say("ack remove", span_id)
        elif roll < 0.9:
            span_id = rng.choice(list(mine))
            label = rng.choice(labels)
            say("intent relabel", mine[span_id], span_id, label)
            project.update_span(mine[span_id], span_id, label=label)
            say("ack relabel", span_id, label)
        else:
            status = rng.choice(["in progress", "done", "skipped"])
            say("intent status", doc, status)
            project.set_status(doc, "crash", status)
            say("ack status", doc, status)


def hammer(db: str, name: str, count: int, go: str, docs: list[str]) -> None:
    project = Project.open(db)
    texts = {d: project.document(d).text for d in docs}
    while not os.path.exists(go):
        time.sleep(0.001)
    latencies = []
    for i in range(count):
        doc = docs[i % len(docs)]
        t0 = time.perf_counter()
        project.add_span(doc, i % 50, i % 50 + 5, "claim", name, note=f"{name}-{i}", text=texts[doc])
        latencies.append(time.perf_counter() - t0)
        if i % 10 == 0:
            project.set_status(doc, name, "in progress")
    seen = sum(len(project.spans(d)) for d in docs)
    latencies.sort()
    say("seen", seen, "p50_ms", round(latencies[len(latencies) // 2] * 1000, 2))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "crash":
        crash(args[0], args[1:])
    else:
        hammer(args[0], args[1], int(args[2]), args[3], args[4:])
