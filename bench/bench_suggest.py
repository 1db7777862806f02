"""Suggestion figures against the hand-labelled gold set of sample_corpus (tests/gold).

Prints, as tables: precision / recall / F1 per label of the rule suggestions and of the learned
model (leave-one-article-out: trained on four articles, scored on the fifth), with exact and
overlap (>= 50% of the gold span) matching; the model's sentence accuracy and its precision at
several confidence thresholds; and the keystrokes per labelled span of an annotator labelling
exactly the gold spans without suggestions and with them. Matching and the keystroke model are
described in tui_reader/core/suggest/evaluate.py.
Run: python bench/bench_suggest.py [--gold tests/gold/sample_gold.jsonl] [--min-confidence 0.6]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from tui_reader.core.config import DEFAULT_LABELS
from tui_reader.core.segment import Segments
from tui_reader.core.suggest.evaluate import (
    AttributionGold,
    KeyCount,
    Motions,
    as_predictions,
    count_keys,
    gold_predictions,
    load_attribution_gold,
    load_gold,
    merge_by_key,
    model_predictions,
    rule_predictions,
    score,
    score_attribution,
)
from tui_reader.core.suggest.learned import merge, sentence_labels
from tui_reader.core.suggest.rules import DEFAULT_RULES

LABELS = [label.name for label in DEFAULT_LABELS]
ROOT = Path(__file__).resolve().parent.parent


def table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    print()


def score_rows(name: str, gold: list, predicted: list) -> list[list[object]]:
    exact = score(gold, predicted, "exact", LABELS)
    overlap = score(gold, predicted, "overlap", LABELS)
    rows = []
    for label in [*LABELS, "all"]:
        e, o = exact[label], overlap[label]
        rows.append([name, label, e.gold, e.predicted,
                     f"{e.precision:.2f}", f"{e.recall:.2f}", f"{e.f1:.2f}",
                     f"{o.precision:.2f}", f"{o.recall:.2f}", f"{o.f1:.2f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "gold" / "sample_gold.jsonl")
    parser.add_argument("--min-confidence", type=float, default=0.6)
    args = parser.parse_args()
    began = time.perf_counter()

    docs = load_gold(args.gold)
    gold = gold_predictions(docs)
    counts = Counter(label for _, _, _, label in gold)
    print(f"gold: {len(docs)} articles, {len(gold)} spans "
          f"({', '.join(f'{counts[name]} {name}' for name in LABELS)}), "
          f"{sum(len(Segments(d.text).sentences()) for d in docs)} sentences\n")

    t = time.perf_counter()
    rules = rule_predictions(docs, DEFAULT_RULES, LABELS)
    rules_s = time.perf_counter() - t
    t = time.perf_counter()
    # Every sentence's prediction (min confidence 0), filtered below for each threshold.
    model_all = model_predictions(docs, LABELS, 0.0)
    model_s = time.perf_counter() - t

    def model_at(threshold: float) -> dict[str, list]:
        return {doc: [s for s in items if s.confidence >= threshold]
                for doc, items in model_all.items()}

    model = model_at(args.min_confidence)
    both = {d.id: merge_by_key(rules[d.id], model[d.id]) for d in docs}  # as the app does

    print(f"Precision / recall / F1 (model: min confidence {args.min_confidence}, "
          "leave-one-article-out; rules+model: both, one per extent and label, as the app merges)")
    table(["suggestions", "label", "gold", "suggested", "P exact", "R exact", "F1 exact",
           "P overlap", "R overlap", "F1 overlap"],
          score_rows("rules", gold, as_predictions(rules))
          + score_rows("model", gold, as_predictions(model))
          + score_rows("rules+model", gold, as_predictions(both)))

    # The model sentence by sentence (what it is trained to do), and by confidence. A sentence
    # with no suggestion at confidence 0 was predicted "none".
    truth = {(d.id, s, e): label for d in docs
             for s, e, label in sentence_labels(Segments(d.text), d.spans, True)}
    predicted = {(doc, s.start, s.end): s for doc, items in model_all.items() for s in items}
    right = sum((predicted[k].label if k in predicted else "none") == label
                for k, label in truth.items())
    total = len(truth)
    labelled = sum(label != "none" for label in truth.values())
    majority = max(Counter(truth.values()).values())
    print(f"Model, sentence by sentence (leave-one-article-out): {right}/{total} sentences right "
          f"({right / total:.0%}); always the most frequent label: {majority / total:.0%}")
    rows = []
    for th in (0.4, 0.5, 0.6, 0.7, 0.8):
        chosen = [(k, s) for k, s in predicted.items() if s.confidence >= th and k in truth]
        ok = sum(truth[k] == s.label for k, s in chosen)
        rows.append([th, len(chosen), ok, f"{ok / max(len(chosen), 1):.2f}", f"{ok / labelled:.2f}"])
    table(["min confidence", "sentences suggested", "of which right", "precision",
           "recall (of labelled sentences)"], rows)

    t = time.perf_counter()
    motions = {d.id: Motions(d.text) for d in docs}
    rows = []
    baseline = None
    high = model_at(0.8)
    rules_first = {d.id: merge(rules[d.id], model[d.id]) for d in docs}
    rules_first_high = {d.id: merge(rules[d.id], high[d.id]) for d in docs}
    for name, suggestions in (("none", {}), ("rules", rules), ("model", model),
                              ("model >= 0.8", high), ("rules+model", both),
                              ("rules, then model (learned.merge)", rules_first),
                              ("same, model >= 0.8", rules_first_high)):
        for policy in ("overlap", "all") if suggestions else ("overlap",):
            tally = KeyCount()
            for d in docs:
                tally.add(count_keys(d.text, d.spans, suggestions.get(d.id, []), policy,
                                     motions=motions[d.id]))
            if baseline is None:
                baseline = tally.per_span
            kinds = tally.by_kind
            rows.append([name, policy if suggestions else "-", tally.spans, tally.keys,
                         f"{tally.per_span:.2f}", f"{tally.per_span / baseline - 1:+.0%}",
                         kinds["moves"], kinds["label"], kinds["select"], kinds["accept"],
                         kinds["reject"]])
    keys_s = time.perf_counter() - t
    print("Keystrokes to label exactly the gold spans (reject policy: 'overlap' clears wrong "
          "suggestions on text being labelled, 'all' clears every wrong suggestion)")
    table(["suggestions", "reject policy", "spans", "keys", "keys/span", "vs none", "moves",
           "label keys", "v/s", "a (accept)", "r (reject)"], rows)

    attribution_path = args.gold.with_name("sample_gold_attribution.jsonl")
    if attribution_path.exists():
        adocs = load_attribution_gold(attribution_path)

        def rule_heads(doc: AttributionGold) -> list[tuple[int, int, str]]:
            return [s.key for s in rules[doc.id] if s.label == "quote"]

        rows = []
        for heads_name, heads in (("the gold statements", lambda d: d.statements),
                                  ("the rules' quote suggestions", rule_heads)):
            for what, sc in score_attribution(adocs, heads).items():
                rows.append([heads_name, what, sc.gold, sc.predicted, sc.correct,
                             f"{sc.precision:.2f}", f"{sc.recall:.2f}", f"{sc.f1:.2f}"])
        print(f"Attribution rule (sources and attributed_to relations) against {attribution_path.name}")
        table(["statements", "scored", "gold", "suggested", "right", "P", "R", "F1"], rows)

    print(f"time: rules {rules_s:.2f} s, model cross-validation {model_s:.1f} s, "
          f"keystrokes {keys_s:.1f} s, total {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
