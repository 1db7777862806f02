"""How good the suggestions are against a hand-labelled gold set, and what they save in keys.

**Span matching** (:func:`score`), per label, a prediction and a gold span of the same label:

* ``exact``: same start and same end.
* ``overlap``: the prediction covers at least half of the gold span's characters
  (``|p ∩ g| >= 0.5 * |g|``).

Precision is the share of predictions that match some gold span, recall the share of gold spans
that some prediction matches, F1 their harmonic mean. Matching is not one-to-one: two
predictions each covering most of one gold span both count as right. The ``all`` row pools every
label (micro average).

**The model** is measured by leave-one-document-out cross-validation (:func:`model_predictions`):
for each gold document a model is trained on the sentences of the other documents (labelled by
:func:`~tui_reader.core.suggest.learned.sentence_labels`, every gold document being done) and
suggests on the held-out one, so it is never scored on text it was trained on.

**Keystrokes** (:func:`count_keys`): an annotator who labels exactly the gold spans of a document,
in order of their start, with the app's keys. The caret starts at offset 0. Moving costs the
fewest presses of ``h l w b ( ) { } g G`` that put the caret where it must be (a breadth-first
search over the same motions as the reading pane, :class:`Motions`; ``j k 0 $`` and pages depend
on the window and are left out):

* A gold span that is exactly one sentence: move the caret anywhere into that sentence, then one
  label key.
* Any other gold span (a quote inside a sentence, several sentences): move to where the selection
  starts, ``v`` (or ``s``, which selects the sentence at the caret), extend with the visual-mode
  motions until the selection (snapped to words, as the app does by default) is the span, then
  one label key.
* With suggestions, a suggestion with exactly the gold span's extent and label is accepted: move
  the caret into it, then ``a``.
* A wrong suggestion (no gold span has its extent and label) costs a move into it and ``r`` when
  the annotator has to clear it. Policy ``"overlap"`` (the default): only wrong suggestions that
  overlap a gold span the annotator labels are cleared, just before labelling it (they sit on the
  text being labelled); wrong suggestions on text the annotator leaves unlabelled are left alone,
  since a suggestion is not a label and is not exported. Policy ``"all"``: every wrong suggestion
  is cleared, in document order.
* ``jump=True`` adds a hypothetical key that moves the caret to the start of the next pending
  suggestion (one press), to show what such a key would save.

The key counts are per labelled (gold) span.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..segment import Segments
from .learned import SentenceModel, sentence_labels
from .learned import suggest as model_suggest
from .rules import Rule, Suggestion, apply_rules

__all__ = [
    "GoldDocument",
    "KeyCount",
    "LabelScore",
    "Motions",
    "count_keys",
    "load_gold",
    "model_predictions",
    "overlaps_enough",
    "rule_predictions",
    "score",
]

SpanT = tuple[int, int, str]
Prediction = tuple[str, int, int, str]  # doc id, start, end, label


@dataclass(frozen=True)
class GoldDocument:
    id: str
    text: str
    spans: tuple[SpanT, ...]


def load_gold(path: str | Path) -> list[GoldDocument]:
    """Gold documents from a native JSONL file; every span must satisfy
    ``text[start:end] == span["text"]`` (a ``ValueError`` names the line otherwise)."""
    docs: list[GoldDocument] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = []
        for span in record["spans"]:
            start, end = span["start"], span["end"]
            if "text" in span and text[start:end] != span["text"]:
                raise ValueError(f"{path}:{number}: span {start}-{end} does not hold its text")
            spans.append((start, end, span["label"]))
        docs.append(GoldDocument(record["id"], text, tuple(sorted(spans))))
    return docs


# ------------------------------------------------------------------------------------------------
# Precision and recall


def overlaps_enough(pred: tuple[int, int], gold: tuple[int, int], min_fraction: float = 0.5) -> bool:
    """Whether ``pred`` covers at least ``min_fraction`` of ``gold``'s characters."""
    inter = min(pred[1], gold[1]) - max(pred[0], gold[0])
    return inter > 0 and inter >= min_fraction * (gold[1] - gold[0])


@dataclass
class LabelScore:
    label: str
    gold: int = 0
    predicted: int = 0
    right_predictions: int = 0  # predictions that match a gold span
    found_gold: int = 0  # gold spans that a prediction matches

    @property
    def precision(self) -> float:
        return self.right_predictions / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found_gold / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(gold: Iterable[Prediction], predicted: Iterable[Prediction], mode: str = "exact",
          labels: Sequence[str] | None = None) -> dict[str, LabelScore]:
    """Per-label scores (and ``"all"``, pooled) of ``predicted`` against ``gold``, both as
    ``(doc id, start, end, label)``; ``mode`` is ``"exact"`` or ``"overlap"``."""
    if mode not in ("exact", "overlap"):
        raise ValueError(f"mode must be 'exact' or 'overlap', not {mode!r}")
    gold, predicted = list(gold), list(predicted)
    names = list(labels) if labels is not None else sorted({g[3] for g in gold} | {p[3] for p in predicted})
    by_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for doc, start, end, label in gold:
        by_key.setdefault((doc, label), []).append((start, end))
    pred_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for doc, start, end, label in predicted:
        pred_key.setdefault((doc, label), []).append((start, end))

    def match(p: tuple[int, int], g: tuple[int, int]) -> bool:
        return p == g if mode == "exact" else overlaps_enough(p, g)

    scores = {name: LabelScore(name) for name in names}
    total = LabelScore("all")
    for (doc, label), golds in by_key.items():
        if label not in scores:
            continue
        preds = pred_key.get((doc, label), [])
        found = sum(any(match(p, g) for p in preds) for g in golds)
        scores[label].gold += len(golds)
        scores[label].found_gold += found
    for (doc, label), preds in pred_key.items():
        if label not in scores:
            continue
        golds = by_key.get((doc, label), [])
        right = sum(any(match(p, g) for g in golds) for p in preds)
        scores[label].predicted += len(preds)
        scores[label].right_predictions += right
    for s in scores.values():
        total.gold += s.gold
        total.predicted += s.predicted
        total.right_predictions += s.right_predictions
        total.found_gold += s.found_gold
    scores["all"] = total
    return scores


def gold_predictions(docs: Iterable[GoldDocument]) -> list[Prediction]:
    return [(d.id, s, e, label) for d in docs for s, e, label in d.spans]


def rule_predictions(docs: Iterable[GoldDocument], rules: Sequence[Rule],
                     labels: Iterable[str] | None = None) -> dict[str, list[Suggestion]]:
    """Rule suggestions for each gold document, by document id."""
    labels = list(labels) if labels is not None else None
    return {d.id: apply_rules(d.text, Segments(d.text), rules, labels) for d in docs}


def sentence_examples(doc: GoldDocument) -> list[tuple[str, str]]:
    """A gold document's sentences labelled as the app labels an annotator's done document."""
    segments = Segments(doc.text)
    return [(doc.text[s:e], label) for s, e, label in sentence_labels(segments, doc.spans, True)]


def model_predictions(docs: Sequence[GoldDocument], labels: Iterable[str] | None = None,
                      min_confidence: float = 0.6,
                      make_model: Callable[[], SentenceModel] = SentenceModel,
                      ) -> dict[str, list[Suggestion]]:
    """Model suggestions for each gold document from a model trained on the other documents
    (leave-one-document-out), by document id."""
    labels = list(labels) if labels is not None else None
    examples = {d.id: sentence_examples(d) for d in docs}
    out: dict[str, list[Suggestion]] = {}
    for held in docs:
        train = [ex for d in docs if d.id != held.id for ex in examples[d.id]]
        model = make_model().fit(train)
        out[held.id] = model_suggest(model, held.text, Segments(held.text), labels, min_confidence)
    return out


def merge_suggestions(*groups: Iterable[Suggestion]) -> list[Suggestion]:
    """One suggestion per extent: the most confident of those with the same start and end."""
    best: dict[tuple[int, int], Suggestion] = {}
    for group in groups:
        for s in group:
            old = best.get((s.start, s.end))
            if old is None or s.confidence > old.confidence:
                best[(s.start, s.end)] = s
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.label))


def as_predictions(by_doc: dict[str, list[Suggestion]]) -> list[Prediction]:
    return [(doc, s.start, s.end, s.label) for doc, items in by_doc.items() for s in items]


# ------------------------------------------------------------------------------------------------
# Keystrokes


class Motions:
    """The reading pane's caret motions over one text as lookup tables (see ``ReadingPane``):
    normal-mode targets and, for a selection extending forward, the visual-mode targets."""

    NORMAL = ("l", "h", "w", "b", ")", "(", "}", "{", "g", "G")

    def __init__(self, text: str, segments: Segments | None = None) -> None:
        self.text = text
        self.segments = seg = segments or Segments(text)
        n = len(text)
        self.last = last = max(n - 1, 0)

        def clamp(x: int) -> int:
            return max(0, min(x, last))

        offsets = range(last + 1)
        self.normal: dict[str, list[int]] = {
            "l": [clamp(seg.next_grapheme(i)) for i in offsets],
            "h": [clamp(seg.prev_grapheme(i)) for i in offsets],
            "w": [clamp(seg.next_word_start(i)) for i in offsets],
            "b": [clamp(seg.prev_word_start(i)) for i in offsets],
            ")": [clamp(seg.next_sentence_start(i)) for i in offsets],
            "(": [clamp(seg.prev_sentence_start(i)) for i in offsets],
            "}": [clamp(seg.next_paragraph_start(i)) for i in offsets],
            "{": [clamp(seg.prev_paragraph_start(i)) for i in offsets],
            "g": [0] * len(offsets),
            "G": [last] * len(offsets),
        }

        def extend(unit: str, i: int) -> int:
            end = seg.next_end(unit, i)
            return i if end is None else clamp(seg.prev_grapheme(end))

        # Extending forward stops on the last character of the next word/sentence/paragraph.
        self.forward = {key: [extend(unit, i) for i in offsets]
                        for key, unit in (("w", "word"), (")", "sentence"), ("}", "paragraph"))}
        self.sentence_of = [seg.sentence_at(i) for i in offsets]

    def neighbours(self, caret: int, anchor: int | None = None) -> Iterable[int]:
        """Where one motion key takes the caret (in a selection from ``anchor`` if given)."""
        for key in self.NORMAL:
            if anchor is not None and caret >= anchor and key in self.forward:
                yield self.forward[key][caret]
            else:
                yield self.normal[key][caret]

    def distances(self, start: int, goal: Callable[[int], bool], anchor: int | None = None,
                  extra: Callable[[int], int | None] | None = None) -> tuple[int, int] | None:
        """Fewest presses from ``start`` to an offset where ``goal`` holds: (presses, offset).
        ``extra`` is one more key (the hypothetical next-suggestion jump)."""
        if goal(start):
            return 0, start
        seen = {start}
        queue = deque([(start, 0)])
        while queue:
            pos, dist = queue.popleft()
            nexts = list(self.neighbours(pos, anchor))
            if extra is not None:
                jump = extra(pos)
                if jump is not None:
                    nexts.append(jump)
            for nxt in nexts:
                if nxt in seen:
                    continue
                if goal(nxt):
                    return dist + 1, nxt
                seen.add(nxt)
                queue.append((nxt, dist + 1))
        return None

    def selection(self, anchor: int, caret: int) -> tuple[int, int] | None:
        """What a label key labels with this selection (snapped to words, as by default)."""
        low, high = sorted((anchor, caret))
        return self.segments.snap_selection(low, self.segments.next_grapheme(high), to_words=True)


@dataclass
class KeyCount:
    spans: int = 0
    keys: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # moves, label, v, s, accept, reject

    def add(self, other: KeyCount) -> None:
        self.spans += other.spans
        self.keys += other.keys
        self.by_kind.update(other.by_kind)

    @property
    def per_span(self) -> float:
        return self.keys / self.spans if self.spans else 0.0


def count_keys(text: str, gold: Sequence[SpanT], suggestions: Sequence[Suggestion] = (),
               policy: str = "overlap", jump: bool = False, motions: Motions | None = None
               ) -> KeyCount:
    """Keys an annotator presses to label exactly ``gold`` in ``text`` (see the module docstring)."""
    if policy not in ("overlap", "all"):
        raise ValueError(f"policy must be 'overlap' or 'all', not {policy!r}")
    m = motions or Motions(text)
    tally = KeyCount(spans=len(gold))
    gold_keys = {(s, e, label) for s, e, label in gold}
    pending = sorted({(s.start, s.end, s.label) for s in suggestions})
    caret = 0

    def press(kind: str, n: int = 1) -> None:
        tally.keys += n
        tally.by_kind[kind] += n

    def jump_target(pos: int) -> int | None:
        later = [s for s, _, _ in pending if s > pos]
        return min(later) if later else None

    extra = jump_target if jump else None

    def inside(item: SpanT) -> Callable[[int], bool]:
        start, end, _ = item
        # The caret must be in the item and in no shorter pending suggestion (the app acts on the
        # innermost suggestion at the caret).
        shorter = [(s, e) for s, e, _ in pending if e - s < end - start and s < end and e > start]
        return lambda p: start <= p < end and not any(s <= p < e for s, e in shorter)

    def visit(item: SpanT, key: str) -> None:
        nonlocal caret
        found = m.distances(caret, inside(item), extra=extra)
        assert found is not None, item
        press("moves", found[0])
        caret = found[1]
        press(key)
        pending.remove(item)

    def label_by_hand(start: int, end: int) -> None:
        nonlocal caret
        if m.segments.sentence_at(start) == (start, end):  # the sentence at the caret
            found = m.distances(caret, lambda p: m.sentence_of[p] == (start, end))
            assert found is not None
            press("moves", found[0])
            caret = found[1]
            press("label")
            return
        best: tuple[int, int] | None = None  # (keys, final caret)
        # v: anchor anywhere the selection would start at `start`.
        lo = start
        while lo > 0 and text[lo - 1].isspace():
            lo -= 1
        word = m.segments.word_at(start)
        hi = word[1] if word is not None and word[0] == start else start + 1
        anchors = [a for a in range(max(lo, 0), min(hi, m.last + 1))
                   if (sel := m.selection(a, a)) is not None and sel[0] == start]
        reach = {a: m.distances(caret, lambda p, a=a: p == a) for a in anchors}
        for anchor, got in reach.items():
            if got is None:
                continue
            ext = m.distances(anchor, lambda p, a=anchor: p >= a and m.selection(a, p) == (start, end),
                              anchor=anchor)
            if ext is not None and (best is None or got[0] + 1 + ext[0] < best[0]):
                best = (got[0] + 1 + ext[0], ext[1])
        # s: select the sentence that starts at `start`, then extend.
        sentence = m.segments.sentence_at(start)
        if sentence is not None and sentence[0] == start:
            got = m.distances(caret, lambda p: m.sentence_of[p] == sentence)
            tail = m.segments.prev_grapheme(sentence[1])
            ext = m.distances(tail, lambda p: m.selection(start, p) == (start, end), anchor=start)
            if got is not None and ext is not None and (best is None or got[0] + 1 + ext[0] < best[0]):
                best = (got[0] + 1 + ext[0], ext[1])
        assert best is not None, (start, end)
        press("moves", best[0] - 1)
        press("select")
        caret = best[1]
        press("label")

    events: list[tuple[int, int, int, SpanT]] = [(s, e, 1, (s, e, label)) for s, e, label in gold]
    if policy == "all":
        events += [(item[0], item[1], 0, item) for item in pending if item not in gold_keys]
    for start, end, is_gold, item in sorted(events):
        if not is_gold:
            if item in pending:
                visit(item, "reject")
            continue
        for wrong in [p for p in pending if p not in gold_keys and p[0] < end and p[1] > start]:
            visit(wrong, "reject")
        if item in pending:
            visit(item, "accept")
        else:
            label_by_hand(start, end)
    return tally
